package verifier

import (
	"errors"
	"fmt"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/trust"
)

// ReasonKeyNotTrustedForRegion is Invalid: a peer region's key signed a
// certificate whose issuing authority's area code (area_code) lies outside
// that peer's region — a peer cannot sign for this region nor for a third.
const ReasonKeyNotTrustedForRegion = "key_not_trusted_for_region"

// PeerBundle is a peer region's trust bundle as a verifier holds it (see
// Federate): the region code its home bundle endorses, the bundle's
// compact JWS, and where its status lists come from.
type PeerBundle struct {
	Code  string
	JWS   string
	Lists ListSource
	// Cache keeps the peer's decoded lists across federations (one cache
	// per peer; nil: none).
	Cache *ListCache
}

// Federation verifies against a home bundle and the peer regions it
// endorses (区域互认). It is safe for concurrent use.
//
// A code or certificate is first verified against the home bundle. Only
// when no home key matches (unknown_key) is it tried against each peer
// whose bundle is held; the first peer with a key that verifies the
// signature (or refutes it: bad_signature) answers, with Result.Region
// naming that peer. A peer's keys count only within its region: a
// certificate whose area_code is outside it is Invalid
// (key_not_trusted_for_region). Peers come from the home bundle alone (the
// peers a peer bundle lists are ignored: no transitive trust), and each
// peer bundle must verify against the anchor the home bundle endorses for
// it. A peer bundle past its expires_at still attributes the code to the
// peer, but every such result is Unknown (bundle_expired), never Valid.
type Federation struct {
	home   *Verifier
	region *trust.Region
	peers  []*peerVerifier
}

type peerVerifier struct {
	peer trust.Peer
	v    *Verifier
}

// Federate returns a Federation of v (the home bundle) and the given peer
// bundles, and, by region code, why an endorsed peer's bundle was left out
// (missing, not signed by the endorsed anchor, of another region). Bundles
// of regions the home bundle does not endorse are ignored.
func (v *Verifier) Federate(bundles []PeerBundle) (*Federation, map[string]error) {
	f := &Federation{home: v, region: v.bundle.Region}
	errs := map[string]error{}
	byCode := map[string]PeerBundle{}
	for _, b := range bundles {
		byCode[b.Code] = b
	}
	skew := v.skew
	if skew == 0 {
		skew = -1 // Options: negative means none
	}
	for i, p := range v.bundle.Peers {
		if i >= trust.MaxPeers {
			break
		}
		if err := trust.CheckPeer(p); err != nil {
			errs[p.Code] = err
			continue
		}
		if f.region != nil && trust.RegionsOverlap(p.Code, f.region.Code) {
			errs[p.Code] = fmt.Errorf("verifier: peer %s overlaps the home region %s", p.Code, f.region.Code)
			continue
		}
		b, ok := byCode[p.Code]
		if !ok || b.JWS == "" {
			errs[p.Code] = errors.New("verifier: no bundle of this peer region is held")
			continue
		}
		anchor, _ := p.AnchorKey() // checked by CheckPeer
		pv, err := New(b.JWS, anchor, Options{Skew: skew, Now: v.now, Lists: b.Lists, Cache: b.Cache})
		if err != nil {
			errs[p.Code] = err
			continue
		}
		if r := pv.bundle.Region; r != nil && r.Code != p.Code {
			errs[p.Code] = fmt.Errorf("verifier: the bundle endorsed as region %s is of region %s", p.Code, r.Code)
			continue
		}
		pv.region = &trust.Region{Code: p.Code, Name: p.Name}
		pv.bundle.Peers = nil // no transitive trust
		f.peers = append(f.peers, &peerVerifier{peer: p, v: pv})
	}
	return f, errs
}

// Home is the home verifier.
func (f *Federation) Home() *Verifier { return f.home }

// Peers lists the peers whose bundles are held, as the home bundle
// endorses them.
func (f *Federation) Peers() []trust.Peer {
	out := make([]trust.Peer, len(f.peers))
	for i, p := range f.peers {
		out[i] = p.peer
	}
	return out
}

// VerifyCode is Verifier.VerifyCode across the federation.
func (f *Federation) VerifyCode(text string) Result {
	return f.pick(func(v *Verifier) Result { return v.VerifyCode(text) })
}

// VerifyCodeOf is Verifier.VerifyCodeOf across the federation.
func (f *Federation) VerifyCodeOf(text string, kinds ...codes.Kind) Result {
	return f.pick(func(v *Verifier) Result { return v.VerifyCodeOf(text, kinds...) })
}

// VerifyCertificate is Verifier.VerifyCertificate across the federation.
func (f *Federation) VerifyCertificate(jws string) Result {
	return f.pick(func(v *Verifier) Result { return v.VerifyCertificate(jws) })
}

func (f *Federation) pick(run func(*Verifier) Result) Result {
	r := run(f.home)
	if r.KeyID != "" {
		if f.region != nil {
			reg := *f.region
			r.Region = &reg
		}
		return r
	}
	if !r.HasReason(ReasonUnknownKey) {
		return r
	}
	for _, p := range f.peers {
		pr := run(p.v)
		if pr.KeyID != "" || pr.HasReason(ReasonBadSignature) {
			reg := *p.v.region
			pr.Region = &reg
			return pr
		}
	}
	return r
}
