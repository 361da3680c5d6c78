package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/suishen/suishen/store/teststore"
)

// FuzzRequestBodies sends arbitrary bytes as the JSON body of every creating
// endpoint, as each kind of principal would: whatever arrives, the answer is
// never a 5xx, and every error is a problem document.
//
//	go test ./api -run '^$' -fuzz FuzzRequestBodies -fuzztime 30s
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `null`, `"x"`, `{"name":1}`, `{"items":[{}]}`, `{"code":"SS1:AAAA"}`, `{"jws":"a.b.c"}`,
		`{"type_code":"11100000000021001C001","holder":{"kind":"person"},"fields":{"x":[1,{"y":null}]}}`,
		`{"service_item_code":"x","applicant":{"kind":"enterprise","id_number":"91350100M000100Y43"},"related":[{}]}`,
		`{"kind":"person","name":"张三","id_number":"11010519491231002X"}`, "\xff\xfe", `{"a":1e999}`,
	} {
		f.Add([]byte(seed), uint8(0))
	}
	f.Add([]byte(`{"items":[{},{"bogus":1,"holder":{"kind":7}},{"long_term":"yes"}]}`), uint8(7))
	f.Add([]byte(`{"scans":[{"id":1},{"code":[],"extra":{}}]}`), uint8(15))
	h := newHarness(f, teststore.SQLite(f))
	_, dep := h.department(uscc2)
	_, app := h.app("verify", "use", "cases", "identity-gateway")
	_, ven := h.venue()
	hol := h.holder(app)
	targets := []struct{ path, token string }{
		{"/v1/admin/departments", testAdminToken}, {"/v1/admin/apps", testAdminToken}, {"/v1/admin/venues", testAdminToken},
		{"/v1/admin/certificate-types", testAdminToken}, {"/v1/admin/service-items", testAdminToken}, {"/v1/admin/keys/rotate", testAdminToken},
		{"/v1/certificates", dep}, {"/v1/certificates/batch", dep}, {"/v1/sessions", app}, {"/v1/verify", app},
		{"/v1/use-codes/redeem", app}, {"/v1/cases", app}, {"/v1/me/checkins", hol}, {"/v1/me/authorizations", hol},
		{"/v1/venue/scans", ven}, {"/v1/venue/scans/batch", ven},
	}
	handler := h.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte, pick uint8) {
		tg := targets[int(pick)%len(targets)]
		req := httptest.NewRequest(http.MethodPost, tg.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tg.token)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("POST %s with %q did not answer within 5 s", tg.path, body))
			}
		}()
		handler.ServeHTTP(w, req)
		close(done)
		if w.Code >= 500 {
			t.Fatalf("POST %s with %q: %d %s", tg.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("POST %s: %d without a problem document", tg.path, w.Code)
		}
	})
}
