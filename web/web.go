// Package web is Suishen's pages for people: plain HTML, CSS and JavaScript
// embedded in the binary (go:embed), served by the same server as the API.
// Pages hold no personal data themselves: their scripts read it from the
// /v1 API with the cookie session, so the API stays the one source of truth.
//
// Every response carries a strict Content-Security-Policy (scripts, styles,
// images and connections only from this origin; no inline script or style;
// no frames), nosniff, no referrer, and cache headers: pages are revalidated
// on every load (ETag), assets whose URL carries their content hash
// (/assets/NAME?v=HASH, which the pages reference) are immutable for a year,
// and other asset URLs are revalidated.
//
// Adding a page: put NAME.html (and its scripts and styles) in static/, add
// one Page line to Pages, and reference assets as "/assets/FILE" in the HTML —
// the reference gains its ?v=HASH when the site is built.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed static
var staticFS embed.FS

// Page is one HTML page of the site.
type Page struct {
	Path    string // URL path, e.g. /me
	File    string // file in static/, e.g. me.html
	Summary string // one line for /openapi.json
	// CSP replaces DefaultCSP for this page (e.g. a page that runs WASM
	// adds 'wasm-unsafe-eval'); empty keeps the default.
	CSP string
	// Permissions is the Permissions-Policy of the page; empty denies camera,
	// microphone and geolocation.
	Permissions string
	// StyleNonce gives each response of the page a fresh nonce that the
	// CSP allows for <style> elements, written into the page wherever it
	// says __STYLE_NONCE__ (for a vendored renderer that injects its styles
	// at run time, such as Redoc on /docs). Such a page is never cached.
	StyleNonce bool
}

// Pages are the pages the server mounts.
var Pages = []Page{
	{Path: "/me", File: "me.html", Summary: "The holder page: personal code, certificates, 亮证, 免申即享 entitlements, 加注件, usage records, check-ins, grants (?elder=1: 长者专版)"},
	{Path: "/print/offline", File: "print.html", Summary: "A printable A6 card with a new offline code (the previous one stops being valid)"},
	{Path: "/docs", File: "docs.html", Summary: "The API reference: /openapi.json rendered by Redoc (vendored, nothing from another host)", CSP: DocsCSP, StyleNonce: true},
}

// DefaultCSP allows nothing from another host and no inline code.
const DefaultCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// DocsCSP is DefaultCSP for the /docs page, whose renderer (Redoc) runs its
// search index in a worker it starts from a blob: URL and injects <style>
// elements: those made after it starts carry the page's per-response nonce
// (Page.StyleNonce); the one its bundle injects while loading (the
// perfect-scrollbar CSS, fixed text) and the empty one styled-components
// creates first (rules then arrive through the CSSOM) are allowed by their
// SHA-256; TestDocsPage checks that nothing is blocked.
const DocsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc=' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// DefaultPermissions denies powerful features to pages that do not need them.
const DefaultPermissions = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

// AssetPrefix starts every asset URL; assets are flat file names in static/.
const AssetPrefix = "/assets/"

// file is one servable file, prepared once.
type file struct {
	body  []byte
	gz    []byte // gzip-compressed body, when that is smaller
	ctype string
	etag  string
	hash  string // first 12 hex of the SHA-256 of the original asset
}

// Site serves the pages and assets. It is an http.Handler for GET and HEAD.
type Site struct {
	pages  map[string]*file // by URL path
	csp    map[string]string
	perms  map[string]string
	assets map[string]*file // by name under /assets/
	nonced map[string]bool  // pages with a fresh style nonce per response
}

// New prepares the embedded site: hashes, compressed copies, and pages whose
// asset references carry the hashes. It panics on a broken embed (a build
// error, caught by every test).
func New() *Site {
	s := &Site{pages: map[string]*file{}, csp: map[string]string{}, perms: map[string]string{}, assets: map[string]*file{}, nonced: map[string]bool{}}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	pageFiles := map[string]bool{}
	for _, p := range Pages {
		pageFiles[p.File] = true
	}
	var names []string
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || pageFiles[p] {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Longest names first, so "me.js" never rewrites inside "elder-me.js".
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	var pairs []string
	for _, n := range names {
		b, err := fs.ReadFile(sub, n)
		if err != nil {
			panic(err)
		}
		f := prepare(b, contentType(n))
		s.assets[n] = f
		pairs = append(pairs, `"`+AssetPrefix+n+`"`, `"`+AssetPrefix+n+"?v="+f.hash+`"`)
	}
	rewrite := strings.NewReplacer(pairs...)
	for _, p := range Pages {
		b, err := fs.ReadFile(sub, p.File)
		if err != nil {
			panic(fmt.Sprintf("web: page %s: %v", p.Path, err))
		}
		s.pages[p.Path] = prepare([]byte(rewrite.Replace(string(b))), "text/html; charset=utf-8")
		s.csp[p.Path] = p.CSP
		if s.csp[p.Path] == "" {
			s.csp[p.Path] = DefaultCSP
		}
		s.nonced[p.Path] = p.StyleNonce
		s.perms[p.Path] = p.Permissions
		if s.perms[p.Path] == "" {
			s.perms[p.Path] = DefaultPermissions
		}
	}
	return s
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".wasm":
		return "application/wasm"
	case ".json", ".webmanifest":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func prepare(b []byte, ctype string) *file {
	sum := sha256.Sum256(b)
	f := &file{body: b, ctype: ctype, hash: hex.EncodeToString(sum[:6])}
	f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if compressible(ctype) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "svg") || ctype == "application/wasm"
}

// PagePaths lists the URL paths of the pages, for mounting.
func (s *Site) PagePaths() []string {
	out := make([]string, 0, len(Pages))
	for _, p := range Pages {
		out = append(out, p.Path)
	}
	return out
}

// AssetURL is the hashed URL of an asset ("" when there is none).
func (s *Site) AssetURL(name string) string {
	f, ok := s.assets[name]
	if !ok {
		return ""
	}
	return AssetPrefix + name + "?v=" + f.hash
}

// SecurityHeaders sets the headers every page response carries.
func SecurityHeaders(h http.Header, csp, permissions string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", permissions)
}

// ServeHTTP serves a page or an asset; anything else is 404.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, AssetPrefix); ok {
		f := s.assets[name]
		if f == nil {
			http.NotFound(w, r)
			return
		}
		SecurityHeaders(w.Header(), DefaultCSP, DefaultPermissions)
		if v := r.URL.Query().Get("v"); v != "" && v == f.hash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		serve(w, r, f)
		return
	}
	f := s.pages[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if s.nonced[r.URL.Path] {
		servePageWithNonce(w, r, f, s.csp[r.URL.Path], s.perms[r.URL.Path])
		return
	}
	SecurityHeaders(w.Header(), s.csp[r.URL.Path], s.perms[r.URL.Path])
	w.Header().Set("Cache-Control", "no-cache")
	serve(w, r, f)
}

// servePageWithNonce serves a StyleNonce page: a fresh nonce in its body and
// in its CSP's style-src.
func servePageWithNonce(w http.ResponseWriter, r *http.Request, f *file, csp, perms string) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	nonce := base64.StdEncoding.EncodeToString(b)
	SecurityHeaders(w.Header(), strings.Replace(csp, "style-src 'self'", "style-src 'self' 'nonce-"+nonce+"'", 1), perms)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", f.ctype)
	body := bytes.ReplaceAll(f.body, []byte("__STYLE_NONCE__"), []byte(nonce))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.ctype)
	h.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") ||
				strings.Contains(params, "q=0.")
		}
	}
	return false
}
