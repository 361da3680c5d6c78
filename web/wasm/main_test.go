//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

// Run with: GOOS=js GOARCH=wasm PATH="$(go env GOROOT)/lib/wasm:$PATH" go test ./web/wasm

func signer(t *testing.T) signing.Signer {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

func key(s signing.Signer, role string, now time.Time) trust.Key {
	k := trust.Key{JWK: signing.NewJWK(s.Public()), Role: role, NotBefore: now.Add(-time.Hour), Status: trust.StatusActive}
	k.Kid = s.KeyID()
	return k
}

func call(f func(js.Value, []js.Value) any, args ...string) map[string]any {
	vs := make([]js.Value, len(args))
	for i, a := range args {
		vs[i] = js.ValueOf(a)
	}
	var m map[string]any
	out := f(js.Undefined(), vs)
	if s, ok := out.(string); ok {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

func wantedList() []map[string]any {
	var l []map[string]any
	_ = json.Unmarshal([]byte(wantedLists(js.Undefined(), nil).(string)), &l)
	return l
}

// TestPeerRegions: the scanner's verifier takes the peer bundles its home
// bundle endorses (区域互认), fetches their lists on demand, and refuses a
// peer bundle it does not endorse or that another anchor signed.
func TestPeerRegions(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	home, homeCode, peer, peerCode := signer(t), signer(t), signer(t), signer(t)
	jwk := signing.NewJWK(peer.Public())
	jwk.Kid = peer.KeyID()
	hb := trust.Bundle{Issuer: "https://sj.example", IssuedAt: now, NextUpdate: now.Add(15 * time.Minute), ExpiresAt: now.Add(48 * time.Hour),
		Keys: []trust.Key{key(home, trust.RoleAnchor, now), key(homeCode, trust.RoleCode, now)}, StatusLists: []trust.StatusListRef{},
		Region: &trust.Region{Code: "310117", Name: "松江区"},
		Peers:  []trust.Peer{{Code: "320500", Name: "苏州市", Anchor: jwk, TrustURL: "https://sz.example/v1/trust"}}}
	homeJWS, err := trust.Sign(home, hb)
	if err != nil {
		t.Fatal(err)
	}
	list := issuer.NewStatusList("o1", issuer.MinStatusListSize)
	if err := list.Set(7, issuer.EntryRevoked); err != nil {
		t.Fatal(err)
	}
	lp, err := issuer.NewStatusListPayload(list, now, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	listJWS, err := issuer.SignStatusList(peer, lp)
	if err != nil {
		t.Fatal(err)
	}
	pb := trust.Bundle{Issuer: "https://sz.example", IssuedAt: now, NextUpdate: now.Add(15 * time.Minute), ExpiresAt: now.Add(48 * time.Hour),
		Keys: []trust.Key{key(peer, trust.RoleAnchor, now), key(peerCode, trust.RoleCode, now)}, Region: &trust.Region{Code: "320500", Name: "苏州市"},
		StatusLists: []trust.StatusListRef{{ID: "o1", Kind: trust.ListOfflineCodes, Version: 1, SM3: trust.ListDigest(listJWS), URL: "https://sz.example/v1/status-lists/o1"}}}
	peerJWS, err := trust.Sign(peer, pb)
	if err != nil {
		t.Fatal(err)
	}
	subj, err := codes.NewSubject([]byte("0123456789abcdef0123456789abcdef"), 42, nil)
	if err != nil {
		t.Fatal(err)
	}
	personal, err := codes.Issue(peerCode, codes.Claims{Kind: codes.Personal, IssuedAt: now.Add(-time.Second), ExpiresAt: now.Add(time.Minute), Subject: subj, DisplayName: "张*"})
	if err != nil {
		t.Fatal(err)
	}
	offline, err := codes.Issue(peerCode, codes.Claims{Kind: codes.Offline, IssuedAt: now.Add(-time.Second), ExpiresAt: now.Add(24 * time.Hour), Subject: subj,
		DisplayName: "张*", Generation: 1, StatusList: "o1", StatusIndex: 7})
	if err != nil {
		t.Fatal(err)
	}
	homePEM, _ := signing.MarshalPublicKeyPEM(home.Public())

	info := call(load, homeJWS, string(homePEM))
	if info["ok"] != true || len(info["peers"].([]any)) != 1 {
		t.Fatalf("load: %v", info)
	}
	if r := call(verify, personal, ""); r["result"] != "unknown" {
		t.Fatalf("a peer code before its bundle: %v", r)
	}
	// A bundle not endorsed, or signed by another anchor, is refused.
	if r := call(loadPeer, "330400", peerJWS); r["ok"] == true {
		t.Fatalf("a bundle of a region not endorsed: %v", r)
	}
	other, _ := trust.Sign(signer(t), pb)
	if r := call(loadPeer, "320500", other); r["ok"] == true {
		t.Fatalf("a bundle signed by another anchor: %v", r)
	}
	info = call(loadPeer, "320500", peerJWS)
	if info["ok"] != true || len(info["status_lists"].([]any)) != 1 {
		t.Fatalf("loadPeer: %v", info)
	}
	r := call(verify, personal, "")
	if r["result"] != "valid" || r["region"].(map[string]any)["code"] != "320500" {
		t.Fatalf("a peer code: %v", r)
	}
	// The peer's list, on demand.
	if r := call(verify, offline, ""); r["result"] != "unknown" {
		t.Fatalf("offline code without its list: %v", r)
	}
	w := wantedList()
	if len(w) != 1 || w[0]["id"] != "o1" || w[0]["region"] != "320500" {
		t.Fatalf("wanted: %v", w)
	}
	addPeerList(js.Undefined(), []js.Value{js.ValueOf("320500"), js.ValueOf("o1"), js.ValueOf(listJWS)})
	if r := call(verify, offline, ""); r["result"] != "invalid" {
		t.Fatalf("a revoked peer offline code: %v", r)
	}
}
