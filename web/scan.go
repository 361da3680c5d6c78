// Package web serves Suishen's pages for people. Every asset is embedded in
// the binary; nothing is loaded from another host.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	texttemplate "text/template"
)

// The /scan page: a scanner for venues and verifiers that verifies codes in
// the browser with package verifier compiled to WebAssembly (web/wasm),
// against the trust bundle that its service worker keeps for offline use.
//
// Its files are in web/scan. verifier.wasm.gz is the gzip-compressed build
// of web/wasm, committed so a fresh clone serves it with no build step;
// TestVerifierWASMCurrent rebuilds it and fails if the committed file is not
// exactly that build (regenerate with go generate ./web).
//
//go:generate go test -run TestVerifierWASMCurrent -update .
//go:embed scan
var scanFiles embed.FS

// ScanCSP is the Content-Security-Policy of /scan: the site's DefaultCSP
// plus 'wasm-unsafe-eval', so the browser may compile the verifier — nothing
// more.
var ScanCSP = strings.Replace(DefaultCSP, "script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';", 1)

// ScanPermissions lets /scan use the camera, and nothing else.
const ScanPermissions = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"

// scanAsset is one embedded file as served.
type scanAsset struct {
	name  string // file name in web/scan
	ctype string
	raw   []byte // nil for verifier.wasm until a client without gzip asks
	gz    []byte
	hash  string // first 16 hex digits of SHA-256 of gz
	once  sync.Once
}

// Scanner serves /scan, its assets under /scan/ and its service worker at
// /scan-sw.js.
type Scanner struct {
	anchorPEM func(context.Context) ([]byte, error)
	assets    map[string]*scanAsset // by URL path
	page      *htmltemplate.Template
	sw        []byte // rendered service worker
	swETag    string
	urls      scanURLs
}

type scanURLs struct {
	CSS, App, JSQR, WasmExec, WASM string
}

// scanFilesServed maps URL paths to files of web/scan.
var scanFilesServed = []struct{ url, file, ctype string }{
	{"/scan/scan.css", "scan.css", "text/css; charset=utf-8"},
	{"/scan/scan.js", "scan.js", "text/javascript; charset=utf-8"},
	{"/scan/jsQR.js", "jsQR.js", "text/javascript; charset=utf-8"},
	{"/scan/wasm_exec.js", "wasm_exec.js", "text/javascript; charset=utf-8"},
	{"/scan/verifier.wasm", "verifier.wasm.gz", "application/wasm"},
}

// NewScanner prepares the page. anchorPEM returns the trust anchor's public
// key (PEM) that the page pins: it is written into the page, so the page
// trusts exactly the anchor of the server it came from.
func NewScanner(anchorPEM func(context.Context) ([]byte, error)) (*Scanner, error) {
	s := &Scanner{anchorPEM: anchorPEM, assets: map[string]*scanAsset{}}
	version := sha256.New()
	for _, f := range scanFilesServed {
		b, err := scanFiles.ReadFile("scan/" + f.file)
		if err != nil {
			return nil, err
		}
		a := &scanAsset{name: f.file, ctype: f.ctype}
		if strings.HasSuffix(f.file, ".gz") {
			a.gz = b
		} else {
			a.raw, a.gz = b, gzipBytes(b)
		}
		sum := sha256.Sum256(a.gz)
		a.hash = hex.EncodeToString(sum[:8])
		version.Write(sum[:])
		s.assets[f.url] = a
	}
	v := func(u string) string { return u + "?v=" + s.assets[u].hash }
	s.urls = scanURLs{CSS: v("/scan/scan.css"), App: v("/scan/scan.js"), JSQR: v("/scan/jsQR.js"),
		WasmExec: v("/scan/wasm_exec.js"), WASM: v("/scan/verifier.wasm")}

	html, err := scanFiles.ReadFile("scan/scan.html")
	if err != nil {
		return nil, err
	}
	version.Write(html)
	if s.page, err = htmltemplate.New("scan").Parse(string(html)); err != nil {
		return nil, err
	}
	swSrc, err := scanFiles.ReadFile("scan/sw.js")
	if err != nil {
		return nil, err
	}
	version.Write(swSrc)
	sw, err := texttemplate.New("sw").Parse(string(swSrc))
	if err != nil {
		return nil, err
	}
	precache, _ := json.Marshal([]string{s.urls.CSS, s.urls.App, s.urls.JSQR, s.urls.WasmExec, s.urls.WASM})
	ver, _ := json.Marshal(hex.EncodeToString(version.Sum(nil)[:8]))
	var out bytes.Buffer
	if err := sw.Execute(&out, map[string]string{"Version": string(ver), "Assets": string(precache)}); err != nil {
		return nil, err
	}
	s.sw = out.Bytes()
	sum := sha256.Sum256(s.sw)
	s.swETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return s, nil
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// Paths lists the URL paths Scanner serves, for the router.
func (s *Scanner) Paths() []string {
	p := []string{"/scan", "/scan-sw.js"}
	for _, f := range scanFilesServed {
		p = append(p, f.url)
	}
	return p
}

// ServeHTTP answers GET and HEAD of Paths.
func (s *Scanner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	SecurityHeaders(h, ScanCSP, ScanPermissions)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; p {
	case "/scan":
		s.servePage(w, r)
	case "/scan-sw.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Service-Worker-Allowed", "/scan")
		serveBytes(w, r, s.swETag, s.sw, nil)
	default:
		a := s.assets[path.Clean(p)]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", a.ctype)
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Add("Vary", "Accept-Encoding")
		etag := `"` + a.hash + `"`
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			serveBytes(w, r, etag, a.gz, nil)
			return
		}
		serveBytes(w, r, etag, nil, a.plain)
	}
}

// plain returns the asset uncompressed (decompressed once, on demand).
func (a *scanAsset) plain() []byte {
	a.once.Do(func() {
		if a.raw != nil {
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(a.gz))
		if err == nil {
			a.raw, err = io.ReadAll(zr)
		}
		if err != nil {
			a.raw = []byte{}
		}
	})
	return a.raw
}

// serveBytes writes body (or lazy()) with etag, answering If-None-Match.
func serveBytes(w http.ResponseWriter, r *http.Request, etag string, body []byte, lazy func() []byte) {
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if body == nil {
		body = lazy()
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (s *Scanner) servePage(w http.ResponseWriter, r *http.Request) {
	pem, err := s.anchorPEM(r.Context())
	if err != nil {
		http.Error(w, "the trust anchor is not available; try again shortly", http.StatusServiceUnavailable)
		return
	}
	var buf bytes.Buffer
	data := struct {
		scanURLs
		AnchorPEM string
	}{s.urls, string(pem)}
	if err := s.page.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	sum := sha256.Sum256(buf.Bytes())
	serveBytes(w, r, `"`+hex.EncodeToString(sum[:8])+`"`, buf.Bytes(), nil)
}
