//go:build js && wasm

// Command wasm is package verifier compiled to WebAssembly for the /scan
// page: the page verifies codes and certificates with exactly the rules of
// POST /v1/verify and `suishen verify`, with no server round trip.
//
// It sets one global object, suishenVerifier, whose functions take and
// return strings (JSON for structured answers), so the page needs no
// knowledge of Go values:
//
//	load(bundleJWS, anchorPEM) → {ok, error?, issued_at, next_update,
//	    expires_at, status_lists: [{id, kind, sm3, held}]}
//	addList(id, jws)           → hold a status list the bundle references
//	verify(text, kinds)        → a verifier.Result
//	wanted()                   → [{id, sm3}]: lists a verification needed
//	                             and did not have since the last call
//
// load verifies the bundle against the pinned anchor (verifier.New) and,
// when it does, replaces the current one; a bundle that fails leaves the
// previous one in place. The bundle only references status lists: the page
// fetches them (GET /v1/status-lists/{id}?sm3=…, kept by its service worker)
// and hands them over with addList; the verifier checks each against the
// digest the bundle pins, so a wrong or stale list is unknown, never valid.
// A verification that needed a list not held is unknown
// (status_list_missing) and names the list in wanted, so the page can fetch
// it and verify again.
//
// verify takes a 随申码 text or the compact JWS of a certificate; kinds is a
// comma-separated list of accepted code kinds ("" accepts every kind).
// Without a loaded bundle it answers unknown (bundle_unavailable).
//
// The program imports only verifier and what it imports (TestWASMImports).
package main

import (
	"encoding/json"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

var (
	mu     sync.Mutex
	bundle string
	anchor *signing.PublicKey
	cur    *verifier.Verifier
	// dirty: a list arrived since cur was built. A Verifier remembers a
	// list it could not get for verifier.ListRetry; a new one asks again.
	dirty  bool
	held   = map[string]string{} // status lists by id
	wanted = map[string]bool{}
)

// source gives the verifier the lists the page handed over; it records any
// other it is asked for (or a held one whose digest the bundle no longer
// pins).
var source = verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if jws, ok := held[ref.ID]; ok && trust.ListDigest(jws) == ref.SM3 {
		return jws, nil
	}
	wanted[ref.ID] = true
	return "", verifier.ErrListNotHeld
})

type listRef struct {
	ID   string `json:"id"`
	Kind string `json:"kind,omitempty"`
	SM3  string `json:"sm3"`
	Held bool   `json:"held,omitempty"`
}

type loadResult struct {
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	IssuedAt    time.Time `json:"issued_at,omitzero"`
	NextUpdate  time.Time `json:"next_update,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	StatusLists []listRef `json:"status_lists"`
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
	out := loadResult{StatusLists: []listRef{}}
	pub, err := signing.ParsePublicKeyPEM([]byte(arg(args, 1)))
	if err != nil {
		out.Error = "anchor"
		return jsonString(out)
	}
	text := arg(args, 0)
	v, err := verifier.New(text, pub, verifier.Options{Lists: source})
	if err != nil {
		out.Error = "bundle"
		return jsonString(out)
	}
	b := v.Bundle()
	out.OK, out.IssuedAt, out.NextUpdate, out.ExpiresAt = true, b.IssuedAt, b.NextUpdate, b.ExpiresAt
	mu.Lock()
	defer mu.Unlock()
	keep := map[string]bool{}
	for _, l := range b.StatusLists {
		jws, ok := held[l.ID]
		out.StatusLists = append(out.StatusLists, listRef{ID: l.ID, Kind: l.Kind, SM3: l.SM3, Held: ok && trust.ListDigest(jws) == l.SM3})
		keep[l.ID] = true
	}
	for id := range held { // lists the new bundle no longer references
		if !keep[id] {
			delete(held, id)
		}
	}
	bundle, anchor, cur, dirty = text, pub, v, false
	return jsonString(out)
}

func addList(_ js.Value, args []js.Value) any {
	id, jws := arg(args, 0), arg(args, 1)
	if id == "" || jws == "" {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	held[id] = jws
	delete(wanted, id)
	dirty = true
	return true
}

// current returns the verifier, rebuilt over the same bundle when lists
// arrived since it was built.
func current() *verifier.Verifier {
	mu.Lock()
	defer mu.Unlock()
	if dirty && cur != nil {
		if v, err := verifier.New(bundle, anchor, verifier.Options{Lists: source}); err == nil {
			cur = v
		}
		dirty = false
	}
	return cur
}

func verify(_ js.Value, args []js.Value) any {
	v := current()
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

func wantedLists(_ js.Value, _ []js.Value) any {
	v := current()
	mu.Lock()
	defer mu.Unlock()
	out := []listRef{}
	for id := range wanted {
		if v != nil {
			if ref, ok := v.Bundle().StatusList(id); ok {
				out = append(out, listRef{ID: id, Kind: ref.Kind, SM3: ref.SM3})
			}
		}
		delete(wanted, id)
	}
	return jsonString(out)
}

func main() {
	js.Global().Set("suishenVerifier", js.ValueOf(map[string]any{
		"load":    js.FuncOf(load),
		"addList": js.FuncOf(addList),
		"verify":  js.FuncOf(verify),
		"wanted":  js.FuncOf(wantedLists),
	}))
	select {} // keep the functions alive
}
