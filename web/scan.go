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

// wasmAsset is the verifier: embedded only gzip-compressed and served as
// is; decompressed once, on demand, for a client that does not take gzip.
type wasmAsset struct {
	gz   []byte
	hash string
	once sync.Once
	file *file
}

func (a *wasmAsset) plain() *file {
	a.once.Do(func() {
		var raw []byte
		zr, err := gzip.NewReader(bytes.NewReader(a.gz))
		if err == nil {
			raw, err = io.ReadAll(zr)
		}
		if err != nil {
			raw = []byte{}
		}
		a.file = &file{body: raw, ctype: "application/wasm", etag: `"` + a.hash + `"`, hash: a.hash}
	})
	return a.file
}

// Scanner serves /scan, its assets under /scan/ and its service worker at
// /scan-sw.js.
type Scanner struct {
	anchorPEM func(context.Context) ([]byte, error)
	files     map[string]*file // scripts and styles by URL path
	wasm      *wasmAsset
	page      *htmltemplate.Template
	sw        *file
	urls      scanURLs
}

type scanURLs struct {
	CSS, App, JSQR, WasmExec, WASM string
}

// WASMPath is the URL path of the verifier.
const WASMPath = "/scan/verifier.wasm"

// scanFilesServed maps URL paths to files of web/scan.
var scanFilesServed = []struct{ url, file string }{
	{"/scan/scan.css", "scan.css"},
	{"/scan/scan.js", "scan.js"},
	{"/scan/jsQR.js", "jsQR.js"},
	{"/scan/wasm_exec.js", "wasm_exec.js"},
}

// NewScanner prepares the page. anchorPEM returns the trust anchor's public
// key (PEM) that the page pins: it is written into the page, so the page
// trusts exactly the anchor of the server it came from.
func NewScanner(anchorPEM func(context.Context) ([]byte, error)) (*Scanner, error) {
	s := &Scanner{anchorPEM: anchorPEM, files: map[string]*file{}}
	version := sha256.New()
	for _, f := range scanFilesServed {
		b, err := scanFiles.ReadFile("scan/" + f.file)
		if err != nil {
			return nil, err
		}
		s.files[f.url] = prepare(b, contentType(f.file))
		version.Write([]byte(s.files[f.url].etag))
	}
	gz, err := scanFiles.ReadFile("scan/verifier.wasm.gz")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(gz)
	s.wasm = &wasmAsset{gz: gz, hash: hex.EncodeToString(sum[:6])}
	version.Write(sum[:])
	v := func(u string) string { return u + "?v=" + s.files[u].hash }
	s.urls = scanURLs{CSS: v("/scan/scan.css"), App: v("/scan/scan.js"), JSQR: v("/scan/jsQR.js"),
		WasmExec: v("/scan/wasm_exec.js"), WASM: WASMPath + "?v=" + s.wasm.hash}

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
	s.sw = prepare(out.Bytes(), "text/javascript; charset=utf-8")
	return s, nil
}

// ServeHTTP answers GET and HEAD of /scan, /scan-sw.js and /scan/NAME.
func (s *Scanner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	SecurityHeaders(h, ScanCSP, ScanPermissions)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean(r.URL.Path)
	immutable := func(hash string) {
		if r.URL.Query().Get("v") == hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
	}
	switch {
	case p == "/scan":
		s.servePage(w, r)
	case p == "/scan-sw.js":
		h.Set("Cache-Control", "no-cache")
		h.Set("Service-Worker-Allowed", "/scan")
		serve(w, r, s.sw)
	case p == WASMPath:
		immutable(s.wasm.hash)
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			serve(w, r, s.wasm.plain())
			return
		}
		// As embedded: the compressed bytes, sent as they are.
		h.Set("ETag", `"`+s.wasm.hash+`"`)
		h.Set("Content-Type", "application/wasm")
		h.Add("Vary", "Accept-Encoding")
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, `"`+s.wasm.hash+`"`) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", fmt.Sprint(len(s.wasm.gz)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(s.wasm.gz)
		}
	case s.files[p] != nil:
		immutable(s.files[p].hash)
		serve(w, r, s.files[p])
	default:
		http.NotFound(w, r)
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
	w.Header().Set("Cache-Control", "no-cache")
	serve(w, r, prepare(buf.Bytes(), "text/html; charset=utf-8"))
}
