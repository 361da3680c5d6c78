package api

import (
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
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
