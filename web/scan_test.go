package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite scan/verifier.wasm.gz and scan/wasm_exec.js from a fresh build")

// buildWASM builds web/wasm for GOOS=js GOARCH=wasm exactly as the committed
// file was built: -trimpath, no symbol table, no build ID — so the same
// toolchain and sources give the same bytes.
func buildWASM(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "verifier.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the WebAssembly verifier: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	b, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestVerifierWASMCurrent rebuilds the WebAssembly verifier and fails unless
// the committed scan/verifier.wasm.gz is exactly that build (and
// scan/wasm_exec.js the toolchain's own loader): a change to package
// verifier, or to what it imports, must ship in the page too. Regenerate
// with `go generate ./web`.
func TestVerifierWASMCurrent(t *testing.T) {
	fresh := buildWASM(t)
	loader, err := os.ReadFile(filepath.Join(goEnv(t, "GOROOT"), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("scan/verifier.wasm.gz", prepare(fresh, "application/wasm").gz, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("scan/wasm_exec.js", loader, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("scan/verifier.wasm.version", []byte(runtime.Version()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := scanFiles.ReadFile("scan/verifier.wasm.gz")
	if err != nil {
		t.Fatal(err)
	}
	built, _ := scanFiles.ReadFile("scan/verifier.wasm.version")
	if *update {
		committed, _ = os.ReadFile("scan/verifier.wasm.gz")
		built, _ = os.ReadFile("scan/verifier.wasm.version")
	}
	if !bytes.Equal(gunzip(t, committed), fresh) {
		t.Fatalf("web/scan/verifier.wasm.gz is not the current build of web/wasm (committed: built with %s; this test: %s): run `go generate ./web` and commit the result",
			strings.TrimSpace(string(built)), runtime.Version())
	}
	js, _ := scanFiles.ReadFile("scan/wasm_exec.js")
	if *update {
		js, _ = os.ReadFile("scan/wasm_exec.js")
	}
	if !bytes.Equal(js, loader) {
		t.Fatalf("web/scan/wasm_exec.js is not %s's own loader: run `go generate ./web`", runtime.Version())
	}
	t.Logf("verifier.wasm: %d bytes, %d gzip-compressed", len(fresh), len(committed))
}

// TestWASMImports: the page's verifier is package verifier and what it
// imports — nothing of the server, the database or the network.
func TestWASMImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"verifier": true, "signing": true, "trust": true, "codes": true, "issuer": true, "ident": true, "web/wasm": true}
	for _, p := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(p, "github.com/suishen/suishen/"); ok && !allowed[rest] {
			t.Errorf("the WebAssembly verifier imports %s", p)
		}
		if p == "net/http" || p == "database/sql" {
			t.Errorf("the WebAssembly verifier imports %s", p)
		}
	}
}

// TestScanReasonsInChinese: every reason package verifier can give has
// words in the page (scan.js), so a person never sees a bare machine code.
func TestScanReasonsInChinese(t *testing.T) {
	js, err := scanFiles.ReadFile("scan/scan.js")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../verifier/verifier.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Reason") || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		code, _ := strconv.Unquote(lit.Value)
		n++
		if !bytes.Contains(js, []byte("\n    "+code+": \"")) {
			t.Errorf("scan.js has no words for reason %q (%s)", code, vs.Names[0].Name)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found only %d reason constants in package verifier", n)
	}
}

// TestScanAssets: the page, its assets and the service worker are served
// with the CSP, cache headers and compression the page relies on.
func TestScanAssets(t *testing.T) {
	anchor := []byte("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
	sc, err := NewScanner(func(context.Context) ([]byte, error) { return anchor, nil })
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, hdr ...string) *http.Response {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		sc.ServeHTTP(w, r)
		return w.Result()
	}
	page := get("/scan")
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != 200 || page.Header.Get("Cache-Control") != "no-cache" || page.Header.Get("Content-Security-Policy") != ScanCSP {
		t.Fatalf("/scan: %d %v", page.StatusCode, page.Header)
	}
	if !strings.Contains(ScanCSP, "'wasm-unsafe-eval'") || strings.Contains(ScanCSP, "'unsafe-eval'") || strings.Contains(ScanCSP, "'unsafe-inline'") || strings.Contains(ScanCSP, "http") {
		t.Fatalf("CSP: %s", ScanCSP)
	}
	if !bytes.Contains(body, []byte("MFkw")) || bytes.Contains(body, []byte("<script>")) || bytes.Contains(body, []byte("style=")) {
		t.Fatalf("page: %s", body)
	}
	// Every asset the page names is served, immutable under its hash.
	for _, u := range []string{sc.urls.CSS, sc.urls.App, sc.urls.JSQR, sc.urls.WasmExec, sc.urls.WASM} {
		if !bytes.Contains(body, []byte(`"`+u+`"`)) {
			t.Errorf("page does not reference %s", u)
		}
		r := get(u, "Accept-Encoding", "gzip, deflate, br")
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: %d %v", u, r.StatusCode, r.Header)
		}
		etag := r.Header.Get("ETag")
		if r := get(u, "If-None-Match", etag); r.StatusCode != 304 {
			t.Errorf("%s with If-None-Match: %d", u, r.StatusCode)
		}
		stale := get(strings.Split(u, "?")[0] + "?v=old")
		if stale.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s under another hash: %v", u, stale.Header)
		}
	}
	wasm := get(sc.urls.WASM) // a client without gzip gets the plain module
	b, _ := io.ReadAll(wasm.Body)
	if wasm.Header.Get("Content-Type") != "application/wasm" || wasm.Header.Get("Content-Encoding") != "" || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("plain wasm: %v %q", wasm.Header, b[:8])
	}
	sw := get("/scan-sw.js")
	swBody, _ := io.ReadAll(sw.Body)
	if sw.Header.Get("Cache-Control") != "no-cache" || !bytes.Contains(swBody, []byte(sc.urls.WASM)) || bytes.Contains(swBody, []byte("{{")) {
		t.Fatalf("service worker: %v %s", sw.Header, swBody)
	}
	total := len(body)
	for u, f := range sc.files {
		total += len(f.gz)
		t.Logf("%-22s %9d bytes, %9d gzip-compressed", u, len(f.body), len(f.gz))
	}
	total += len(sc.wasm.gz)
	t.Logf("%-22s %9d bytes, %9d gzip-compressed", WASMPath, len(sc.wasm.plain().body), len(sc.wasm.gz))
	t.Logf("a first visit transfers %d bytes (page, gzip-compressed assets), %d of them the verifier", total, len(sc.wasm.gz))
	if r := get("/scan/nothing.js"); r.StatusCode != 404 {
		t.Fatalf("unknown asset: %d", r.StatusCode)
	}
	if r := get("/scan/../scan"); r.StatusCode != 404 && r.StatusCode != 200 {
		t.Fatalf("path: %d", r.StatusCode)
	}
}
