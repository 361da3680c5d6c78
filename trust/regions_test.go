package trust

import (
	"fmt"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

func TestRegionCovers(t *testing.T) {
	for _, tc := range []struct {
		region, area string
		want         bool
	}{
		{"320500", "320506", true},  // a district of the city
		{"320500", "320500", true},  // the city itself
		{"320500", "320600", false}, // the next city
		{"320500", "310117", false},
		{"310000", "310117", true}, // a province-level region covers its districts
		{"310117", "310117", true},
		{"310117", "310118", false},
		{"310117", "310100", false}, // a district does not cover its city
		{"990000", "990100", false}, // not a province
		{"3205", "320506", false},
		{"320500", "3205", false},
	} {
		if got := RegionCovers(tc.region, tc.area); got != tc.want {
			t.Errorf("RegionCovers(%s, %s) = %v, want %v", tc.region, tc.area, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"310000", "310117", true},
		{"310117", "310000", true},
		{"320500", "320000", true},
		{"320500", "320600", false},
		{"320500", "310117", false},
		{"310117", "310118", false},
	} {
		if got := RegionsOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("RegionsOverlap(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPeersSize: what endorsing peers costs the bundle (size goal 64 KiB,
// docs/performance.md): each peer must stay under 0.5 KiB of the JWS, so
// MaxPeers of them stay under 16 KiB.
func TestPeersSize(t *testing.T) {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	anchor := signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	size := func(n int) int {
		b := Bundle{Issuer: "https://suishen.songjiang.gov.cn", IssuedAt: now, NextUpdate: now, ExpiresAt: now,
			Keys: []Key{}, StatusLists: []StatusListRef{}, Region: &Region{Code: "310117", Name: "松江区"}}
		for i := 0; i < n; i++ {
			pk, _ := signing.GenerateKey(nil)
			jwk := signing.NewJWK(pk.Public())
			jwk.Kid = signing.Thumbprint(pk.Public())
			b.Peers = append(b.Peers, Peer{Code: fmt.Sprintf("32%02d00", i+1), Name: "苏州市", Anchor: jwk,
				TrustURL: "https://suishen.suzhou.gov.cn/v1/trust"})
		}
		jws, err := Sign(anchor, b)
		if err != nil {
			t.Fatal(err)
		}
		return len(jws)
	}
	base, nine, all := size(0), size(9), size(MaxPeers)
	per := float64(all-base) / MaxPeers
	t.Logf("bundle JWS: no peers %d B, 9 peers (G60) %d B (+%d), %d peers %d B (+%d); %.0f B a peer", base, nine, nine-base, MaxPeers, all, all-base, per)
	if per >= 512 {
		t.Fatalf("a peer costs %.0f B of the bundle", per)
	}
}
