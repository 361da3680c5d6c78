package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, s *Site, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineEvent = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr   = regexp.MustCompile(`(?i)<[^>]+\sstyle\s*=`)
	styleTag    = regexp.MustCompile(`(?i)<style\b`)
	remoteURL   = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//`)
	assetRef    = regexp.MustCompile(`"/assets/([^"?]+)(\?v=([0-9a-f]+))?"`)
)

// Every page: strict CSP, no inline code, nothing from another host, every
// asset referenced by its hashed (immutable) URL, revalidated itself.
func TestPagesAreStrict(t *testing.T) {
	s := New()
	for _, p := range Pages {
		r := get(t, s, p.Path)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d", p.Path, r.StatusCode)
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, bad := range []string{"unsafe-inline", "*", "http:", "https:"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: CSP %q allows %s", p.Path, csp, bad)
			}
		}
		for _, need := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, need) {
				t.Errorf("%s: CSP %q lacks %s", p.Path, csp, need)
			}
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: security headers %v", p.Path, r.Header)
		}
		if p.StyleNonce {
			// A fresh nonce per response: never cached.
			if r.Header.Get("Cache-Control") != "no-store" || !strings.Contains(csp, "'nonce-") {
				t.Errorf("%s: nonce page headers %q %q", p.Path, r.Header.Get("Cache-Control"), csp)
			}
		} else if r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("ETag") == "" {
			t.Errorf("%s: page cache headers %q %q", p.Path, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
		}
		html := body(t, r)
		for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", p.Path, m[0])
			}
		}
		if inlineEvent.MatchString(html) || styleAttr.MatchString(html) || styleTag.MatchString(html) {
			t.Errorf("%s: inline handler or style", p.Path)
		}
		if remoteURL.MatchString(html) {
			t.Errorf("%s: loads something from another host", p.Path)
		}
		refs := assetRef.FindAllStringSubmatch(html, -1)
		if len(refs) == 0 {
			t.Errorf("%s: no assets", p.Path)
		}
		for _, m := range refs {
			if m[3] == "" || s.AssetURL(m[1]) != "/assets/"+m[1]+"?v="+m[3] {
				t.Errorf("%s: asset reference %s is not its hashed URL %s", p.Path, m[0], s.AssetURL(m[1]))
			}
		}
	}
}

func TestAssetCaching(t *testing.T) {
	s := New()
	u := s.AssetURL("app.css")
	if u == "" {
		t.Fatal("no app.css")
	}
	r := get(t, s, u, "Accept-Encoding", "gzip")
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("hashed asset: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if r.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	css := body(t, r)
	if !strings.Contains(css, "body") {
		t.Fatalf("css %q", css)
	}
	// A stale or missing hash is served but revalidated, never immutable.
	r = get(t, s, "/assets/app.css?v=000000000000")
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("stale hash: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	etag := r.Header.Get("ETag")
	r = get(t, s, "/assets/app.css", "If-None-Match", etag)
	if r.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	for _, p := range []string{"/assets/nope.js", "/assets/../web.go", "/nope", "/assets/"} {
		if r := get(t, s, p); r.StatusCode != 404 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/me", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /me: %d", rec.Code)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"gzip": true, "br, gzip": true, "gzip;q=0": false, "gzip; q=0.5": true, "identity": false, "": false} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("%q: %v", h, got)
		}
	}
}
