package api

import (
	"testing"
)

// Probes are never rate-limited: a client that used up its public rate on
// another endpoint still gets its /healthz and /readyz answers.
func TestProbesNotRateLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		limited := false
		for i := 0; i < 4*h.cfg.PublicRate+10 && !limited; i++ {
			limited = h.do("GET", "/v1/certificate-types?limit=1", "", nil).Status == 429
		}
		if !limited {
			t.Fatal("the public endpoint was never rate-limited; the test cannot show anything")
		}
		for i := 0; i < 4*h.cfg.PublicRate+10; i++ {
			for _, p := range []string{"/healthz", "/readyz"} {
				if r := h.do("GET", p, "", nil); r.Status != 200 {
					t.Fatalf("%s answered %d after the client was rate-limited: %s", p, r.Status, r.Body)
				}
			}
		}
	})
}
