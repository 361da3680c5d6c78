package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
		`{"service_item_code":"000114001000","applicant_code":"SS1:AAAA","related":[{"relation":"newborn","id_number":"11010519491231002X"}],"use_codes":["1234-5678"]}`,
		`{"outcome":"approved","notes":"\u202e"}`, `{"service_items":["000114001000",""]}`,
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
	appID := h.must(200, h.do("GET", "/v1/admin/apps", testAdminToken, nil))["items"].([]any)[0].(map[string]any)["id"].(string)
	code := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)
	caseID := h.must(201, h.do("POST", "/v1/cases", app, map[string]any{"service_item_code": "000114001000", "applicant_code": code,
		"org": "窗口", "operator": "窗口01", "business_code": "F-1", "purpose": "fuzz"}))["id"].(string)
	targets := []struct{ path, token string }{
		{"/v1/admin/departments", testAdminToken}, {"/v1/admin/apps", testAdminToken}, {"/v1/admin/venues", testAdminToken},
		{"/v1/admin/certificate-types", testAdminToken}, {"/v1/admin/service-items", testAdminToken}, {"/v1/admin/keys/rotate", testAdminToken},
		{"/v1/certificates", dep}, {"/v1/certificates/batch", dep}, {"/v1/sessions", app}, {"/v1/verify", app},
		{"/v1/use-codes/redeem", app}, {"/v1/cases", app}, {"/v1/me/checkins", hol}, {"/v1/me/authorizations", hol},
		{"/v1/venue/scans", ven}, {"/v1/venue/scans/batch", ven}, {"/v1/cases/" + caseID + "/decision", app},
		{"PUT /v1/admin/apps/" + appID + "/service-items", testAdminToken},
	}
	handler := h.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte, pick uint8) {
		tg := targets[int(pick)%len(targets)]
		method, path := http.MethodPost, tg.path
		if m, p, ok := strings.Cut(tg.path, " "); ok {
			method, path = m, p
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
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
