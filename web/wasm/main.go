//go:build js && wasm

// Command wasm is package verifier compiled to WebAssembly for the /scan
// page: the page verifies codes and certificates with exactly the rules of
// POST /v1/verify and `suishen verify`, with no server round trip.
//
// It sets one global object, suishenVerifier, with two functions that take
// and return strings (JSON for structured answers), so the page needs no
// knowledge of Go values:
//
//	suishenVerifier.load(bundleJWS, anchorPEM) → JSON {ok, error?, issued_at,
//	    next_update, expires_at, status_lists: [id…]}
//	suishenVerifier.verify(text, kinds) → JSON verifier.Result
//
// load verifies the bundle against the pinned anchor (package verifier's
// New) and, when it does, replaces the current one; a bundle that fails
// leaves the previous one in place. verify takes a 随申码 text or the compact
// JWS of a certificate; kinds is a comma-separated list of accepted code
// kinds ("" accepts every kind). Without a loaded bundle verify answers
// unknown with reason bundle_unavailable.
//
// The program imports only verifier, signing and codes (TestWASMImports).
package main

import (
	"encoding/json"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/verifier"
)

var (
	mu  sync.Mutex
	cur *verifier.Verifier
)

type loadResult struct {
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	IssuedAt    time.Time `json:"issued_at,omitzero"`
	NextUpdate  time.Time `json:"next_update,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	StatusLists []string  `json:"status_lists"`
}

func jsonString(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return `{"ok":false,"error":"internal"}`
	}
	return string(b)
}

func arg(args []js.Value, i int) string {
	if i >= len(args) || args[i].Type() != js.TypeString {
		return ""
	}
	return args[i].String()
}

func load(_ js.Value, args []js.Value) any {
	out := loadResult{StatusLists: []string{}}
	anchor, err := signing.ParsePublicKeyPEM([]byte(arg(args, 1)))
	if err != nil {
		out.Error = "anchor"
		return jsonString(out)
	}
	v, err := verifier.New(arg(args, 0), anchor, verifier.Options{})
	if err != nil {
		out.Error = "bundle"
		return jsonString(out)
	}
	b := v.Bundle()
	out.OK, out.IssuedAt, out.NextUpdate, out.ExpiresAt = true, b.IssuedAt, b.NextUpdate, b.ExpiresAt
	for _, l := range b.StatusLists {
		out.StatusLists = append(out.StatusLists, l.ID)
	}
	mu.Lock()
	cur = v
	mu.Unlock()
	return jsonString(out)
}

func verify(_ js.Value, args []js.Value) any {
	mu.Lock()
	v := cur
	mu.Unlock()
	text := arg(args, 0)
	if v == nil {
		return jsonString(verifier.Result{Result: verifier.Unknown, Reasons: []verifier.Reason{{
			Code: verifier.ReasonBundleUnavailable, Detail: "no trust bundle is loaded"}}})
	}
	if strings.HasPrefix(text, "ey") && strings.Count(text, ".") == 2 {
		return jsonString(v.VerifyCertificate(text))
	}
	var kinds []codes.Kind
	for _, name := range strings.Split(arg(args, 1), ",") {
		if k, err := codes.ParseKind(name); err == nil {
			kinds = append(kinds, k)
		}
	}
	return jsonString(v.VerifyCodeOf(text, kinds...))
}

func main() {
	js.Global().Set("suishenVerifier", js.ValueOf(map[string]any{
		"load":   js.FuncOf(load),
		"verify": js.FuncOf(verify),
	}))
	select {} // keep the functions alive
}
