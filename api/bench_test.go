package api

import (
	"net/http"
	"net/http/httptest"
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
