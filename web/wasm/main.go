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
//	wanted()                   → [{id, sm3, region?}]: lists a verification
//	                             needed and did not have since the last call
//	loadPeer(code, bundleJWS)  → {ok, error?, status_lists}: a peer region's
//	                             bundle (区域互认), for a peer the loaded home
//	                             bundle endorses (load lists them in peers)
//	addPeerList(code, id, jws) → hold a status list of a peer's bundle
//
// Peer bundles are checked by verifier.Federate against the anchor the
// home bundle endorses for each peer; a peer's keys count only within its
// area and a peer's own peers are ignored. A result verified under a peer's
// key names its region.
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
	// Peer regions: bundles and lists by region code; fed is the
	// federation of cur with them (rebuilt with cur).
	peerBundles = map[string]string{}
	peerHeld    = map[string]map[string]string{}
	peerWanted  = map[string]map[string]bool{}
	fed         *verifier.Federation
)

// peerSource gives a peer verifier the lists the page handed over.
func peerSource(code string) verifier.ListSource {
	return verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if jws, ok := peerHeld[code][ref.ID]; ok && trust.ListDigest(jws) == ref.SM3 {
			return jws, nil
		}
		if peerWanted[code] == nil {
			peerWanted[code] = map[string]bool{}
		}
		peerWanted[code][ref.ID] = true
		return "", verifier.ErrListNotHeld
	})
}

// federate builds the federation of v with the held peer bundles (mu held).
func federate(v *verifier.Verifier) *verifier.Federation {
	var pbs []verifier.PeerBundle
	for code, jws := range peerBundles {
		pbs = append(pbs, verifier.PeerBundle{Code: code, JWS: jws, Lists: peerSource(code)})
	}
	f, _ := v.Federate(pbs)
	return f
}

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
	// Region is the peer region of a wanted list ("" for the home bundle's).
	Region string `json:"region,omitempty"`
}

type loadResult struct {
	OK          bool      `json:"ok"`
	Error       string    `json:"error,omitempty"`
	IssuedAt    time.Time `json:"issued_at,omitzero"`
	NextUpdate  time.Time `json:"next_update,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	StatusLists []listRef `json:"status_lists"`
	// Region and Peers: the home bundle's region and the peer regions it
	// endorses (fetch each one's bundle and hand it to loadPeer).
	Region *trust.Region  `json:"region,omitempty"`
	Peers  []trust.Region `json:"peers,omitempty"`
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
	out.Region = b.Region
	endorsed := map[string]bool{}
	for _, p := range b.Peers {
		out.Peers = append(out.Peers, trust.Region{Code: p.Code, Name: p.Name})
		endorsed[p.Code] = true
	}
	mu.Lock()
	defer mu.Unlock()
	for code := range peerBundles { // peers the new bundle no longer endorses
		if !endorsed[code] {
			delete(peerBundles, code)
			delete(peerHeld, code)
		}
	}
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
	fed = federate(v)
	return jsonString(out)
}

func loadPeer(_ js.Value, args []js.Value) any {
	code, text := arg(args, 0), arg(args, 1)
	out := loadResult{StatusLists: []listRef{}}
	mu.Lock()
	defer mu.Unlock()
	if cur == nil {
		out.Error = "no home bundle"
		return jsonString(out)
	}
	prev, had := peerBundles[code]
	peerBundles[code] = text
	f, errs := cur.Federate([]verifier.PeerBundle{{Code: code, JWS: text}})
	if errs[code] != nil || len(f.Peers()) != 1 {
		if had {
			peerBundles[code] = prev
		} else {
			delete(peerBundles, code)
		}
		out.Error = "bundle"
		return jsonString(out)
	}
	// The list references, from the peer bundle just checked.
	var refs []trust.StatusListRef
	if hdr, payload, err := signing.ParseJWS(text); err == nil && hdr.Typ == trust.Typ {
		var b trust.Bundle
		if json.Unmarshal(payload, &b) == nil {
			refs = b.StatusLists
			out.IssuedAt, out.NextUpdate, out.ExpiresAt = b.IssuedAt, b.NextUpdate, b.ExpiresAt
		}
	}
	keep := map[string]bool{}
	for _, l := range refs {
		jws, ok := peerHeld[code][l.ID]
		out.StatusLists = append(out.StatusLists, listRef{ID: l.ID, Kind: l.Kind, SM3: l.SM3, Held: ok && trust.ListDigest(jws) == l.SM3})
		keep[l.ID] = true
	}
	for id := range peerHeld[code] {
		if !keep[id] {
			delete(peerHeld[code], id)
		}
	}
	out.OK = true
	fed = federate(cur)
	return jsonString(out)
}

func addPeerList(_ js.Value, args []js.Value) any {
	code, id, jws := arg(args, 0), arg(args, 1), arg(args, 2)
	if code == "" || id == "" || jws == "" {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	if peerHeld[code] == nil {
		peerHeld[code] = map[string]string{}
	}
	peerHeld[code][id] = jws
	delete(peerWanted[code], id)
	dirty = true
	return true
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

// current returns the verifier (with the peer regions), rebuilt over the
// same bundles when lists arrived since it was built.
func current() *verifier.Federation {
	mu.Lock()
	defer mu.Unlock()
	if dirty && cur != nil {
		if v, err := verifier.New(bundle, anchor, verifier.Options{Lists: source}); err == nil {
			cur = v
		}
		fed = federate(cur)
		dirty = false
	}
	return fed
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
	f := current()
	mu.Lock()
	defer mu.Unlock()
	out := []listRef{}
	for id := range wanted {
		if f != nil {
			if ref, ok := f.Home().Bundle().StatusList(id); ok {
				out = append(out, listRef{ID: id, Kind: ref.Kind, SM3: ref.SM3})
			}
		}
		delete(wanted, id)
	}
	for code, ids := range peerWanted {
		var b trust.Bundle
		if _, payload, err := signing.ParseJWS(peerBundles[code]); err == nil {
			_ = json.Unmarshal(payload, &b)
		}
		for id := range ids {
			if ref, ok := b.StatusList(id); ok {
				out = append(out, listRef{ID: id, Kind: ref.Kind, SM3: ref.SM3, Region: code})
			}
		}
		delete(peerWanted, code)
	}
	return jsonString(out)
}

func main() {
	js.Global().Set("suishenVerifier", js.ValueOf(map[string]any{
		"load":        js.FuncOf(load),
		"addList":     js.FuncOf(addList),
		"verify":      js.FuncOf(verify),
		"wanted":      js.FuncOf(wantedLists),
		"loadPeer":    js.FuncOf(loadPeer),
		"addPeerList": js.FuncOf(addPeerList),
	}))
	select {} // keep the functions alive
}
