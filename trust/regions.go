package trust

import (
	"fmt"
	"strings"

	"github.com/suishen/suishen/signing"
)

// Regional mutual recognition (区域互认). Each region (a city, a province)
// runs its own node with its own trust anchor. A node's administrator
// registers peer regions; the node's own bundle then lists them (Peers),
// signed by its anchor, so that a verifier pinned only to its home anchor
// learns whom else to trust: each peer's area code, name, anchor and where
// its bundle is. The verifier fetches the peer's bundle and checks it
// against the anchor its home bundle names — never against anything the
// peer bundle says about a third region: a peer bundle's own Peers are
// ignored (no transitive trust).
//
// A peer's keys count only for what claims that peer's region: a
// certificate whose issuing authority's area code (证照颁发机构行政区划代码)
// lies within the peer's area code (RegionCovers). A peer key can thus not
// sign for the home region nor for a third region.

// MaxPeers bounds the peers a bundle lists (each costs ≈ 0.4 KiB of the
// bundle's JWS, and the bundle has a size goal of 64 KiB).
const MaxPeers = 32

// Region names a region: its GB/T 2260 administrative area code and name.
type Region struct {
	Code string `json:"code" doc:"The region's 6-digit administrative area code (GB/T 2260): 310000 a province-level region, 320500 a city, 310117 a district." example:"320500"`
	Name string `json:"name" doc:"The region's name." example:"苏州市"`
}

// Peer is a peer region as a bundle endorses it: its area code and name,
// its trust anchor (the key its bundles must be signed by, directly or
// through an anchor endorsement) and the URL of its trust bundle.
type Peer struct {
	Code     string      `json:"code"`
	Name     string      `json:"name"`
	Anchor   signing.JWK `json:"anchor"`
	TrustURL string      `json:"trust_url"`
}

// AnchorKey parses the peer's anchor.
func (p Peer) AnchorKey() (*signing.PublicKey, error) { return p.Anchor.PublicKey() }

// Peer returns the bundle's endorsement of the peer region with this code.
func (b Bundle) Peer(code string) (Peer, bool) {
	for _, p := range b.Peers {
		if p.Code == code {
			return p, true
		}
	}
	return Peer{}, false
}

// ValidRegionCode reports whether code can name a region: six digits, the
// first two a GB/T 2260 province. A region code covers the areas that
// share its significant prefix: 310000 every code of 31, 320500 every code
// of 3205, 310117 itself.
func ValidRegionCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return provinces[code[:2]]
}

var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// regionPrefix is the significant part of a region code: trailing "00"
// pairs stripped (310000 → 31, 320500 → 3205, 310117 → 310117).
func regionPrefix(code string) string {
	p := code
	for len(p) > 2 && strings.HasSuffix(p, "00") {
		p = p[:len(p)-2]
	}
	return p
}

// RegionCovers reports whether the area code area lies within the region
// region (both six digits; anything else is not covered).
func RegionCovers(region, area string) bool {
	if !ValidRegionCode(region) || len(area) != 6 {
		return false
	}
	return strings.HasPrefix(area, regionPrefix(region))
}

// RegionsOverlap reports whether two region codes share any area (one
// covers the other).
func RegionsOverlap(a, b string) bool {
	pa, pb := regionPrefix(a), regionPrefix(b)
	return strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
}

// CheckPeer checks what a bundle says of a peer: a valid region code, a
// name, a parsable anchor and an http(s) trust URL.
func CheckPeer(p Peer) error {
	switch {
	case !ValidRegionCode(p.Code):
		return fmt.Errorf("%w: peer code %q is not a region code", ErrMalformed, p.Code)
	case p.Name == "" || len(p.Name) > 200:
		return fmt.Errorf("%w: peer %s has no usable name", ErrMalformed, p.Code)
	case !strings.HasPrefix(p.TrustURL, "https://") && !strings.HasPrefix(p.TrustURL, "http://"):
		return fmt.Errorf("%w: peer %s has no http(s) trust_url", ErrMalformed, p.Code)
	}
	if _, err := p.AnchorKey(); err != nil {
		return fmt.Errorf("%w: peer %s anchor: %v", ErrMalformed, p.Code, err)
	}
	return nil
}
