package api

import (
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/verifier"
)

// The server mounts the embedded pages with their headers; / leads to /me.
func TestPagesMounted(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	for _, p := range []string{"/me", "/print/offline"} {
		r := h.do("GET", p, "", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("%s: %d %v", p, r.Status, r.Header)
		}
	}
	if r := h.do("GET", "/assets/app.css", "", nil); r.Status != 200 || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("asset: %d %v", r.Status, r.Header)
	}
	req := h.do("GET", "/", "", nil)
	if req.Status != 200 { // the client follows the redirect to /me
		t.Fatalf("/: %d", req.Status)
	}
	if r := h.do("GET", "/assets/nope.js", "", nil); r.Status != 404 {
		t.Fatalf("missing asset: %d", r.Status)
	}
}

// A page asks for code images; the expiry (and a presentation's use code)
// come in headers, and the image is the code the headers describe.
func TestCodeImagesCarryExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("P-1")))
		hol := h.holder(gw)
		img := h.do("POST", "/v1/me/codes/personal", hol, nil, "Accept", "image/svg+xml")
		exp, err := time.Parse(time.RFC3339, img.Header.Get("Suishen-Code-Expires-At"))
		if img.Status != 200 || err != nil || exp.Sub(h.clock.Now().Add(h.cfg.CodeTTL)).Abs() > time.Second {
			t.Fatalf("personal code image: %d %q (now %v)", img.Status, img.Header.Get("Suishen-Code-Expires-At"), h.clock.Now())
		}
		if r := h.offline(t, img.Header.Get("Suishen-Code")); r.Result != verifier.Valid {
			t.Fatalf("the code in the header: %+v", r)
		}
		p := h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/presentations", hol, map[string]any{"purpose": "办理银行开户"}, "Accept", "image/svg+xml")
		if p.Status != 201 || p.Header.Get("Content-Type") != "image/svg+xml" || len(p.Header.Get("Suishen-Use-Code")) < 6 || p.Header.Get("Suishen-Code-Expires-At") == "" {
			t.Fatalf("presentation image: %d %v", p.Status, p.Header)
		}
		r := h.offline(t, p.Header.Get("Suishen-Code"))
		if r.Result != verifier.Valid || r.Kind != "presentation" || r.UseCode != p.Header.Get("Suishen-Use-Code") {
			t.Fatalf("presentation code from the image response: %+v", r)
		}
	})
}
