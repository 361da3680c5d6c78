package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
)

// BenchmarkMiddlewareStack measures requests through the whole middleware
// stack (request ID, access log, metrics, recovery, deadline, body limit,
// authentication, authorisation) on the embedded store, in process:
//
//	healthz   — public, no authentication: the baseline
//	admin     — the admin token (no database read)
//	app-key   — an app API key (cached principal after the first request)
//	holder    — a holder session (one database read per request)
func BenchmarkMiddlewareStack(b *testing.B) {
	h := newHarness(b, teststore.SQLite(b))
	_, gw := h.app("identity-gateway")
	hol := h.holder(gw)
	handler := h.srv.Handler()
	cases := []struct{ name, path, token string }{
		{"healthz", "/healthz", ""},
		{"admin", "/v1/admin/keys", testAdminToken},
		{"app-key", "/v1/admin/keys", gw}, // 403 after authentication: measures the key lookup
		{"holder", "/v1/me", hol},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code >= 500 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkCaseOpen measures, in process on the embedded store, opening a
// case for 食品经营许可证核发 with the enterprise's static code as
// applicant_code (verify the code, look the holder up, find and verify the
// 营业执照, evaluate, store the case with its usage record and audit entry),
// against POST /v1/verify of the same code as the baseline of the code
// check alone, and a refused case (an app not entitled to the item: the
// code is verified, the refusal recorded).
//
//	go test ./api -run '^$' -bench BenchmarkCaseOpen -benchtime 200x
func BenchmarkCaseOpen(b *testing.B) {
	h := newHarness(b, teststore.SQLite(b))
	_, dep := h.department(uscc2)
	_, gw := h.app("identity-gateway")
	_, verifyApp := h.app("verify")
	_, app := h.caseApp("000113101000")
	_, other := h.caseApp("000114001000")
	h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("B-L-1")))
	ent := h.holderAs(gw, "enterprise", "上海某某科技有限公司", uscc1)
	code := h.must(200, h.do("POST", "/v1/me/codes/enterprise", ent, nil))["code"].(string)
	handler := h.srv.Handler()
	body := string(mustJSON(map[string]any{"service_item_code": "000113101000", "applicant_code": code,
		"org": "窗口", "operator": "窗口01", "business_code": "B-1", "purpose": "食品经营许可"}))
	for _, c := range []struct {
		name, path, token, body string
		want                    int
	}{
		{"verify-code", "/v1/verify", verifyApp, string(mustJSON(map[string]any{"code": code})), 200},
		{"case-open", "/v1/cases", app, body, 201},
		{"case-refused", "/v1/cases", other, body, 403},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.token)
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != c.want {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
