package trust_test

import (
	"errors"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

func newAnchor(t *testing.T) (signing.Signer, *signing.PublicKey) {
	t.Helper()
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k), k.Public()
}

func succeed(t *testing.T, old, next signing.Signer) trust.Succession {
	t.Helper()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e, err := trust.Endorse(old, next.Public(), at)
	if err != nil {
		t.Fatal(err)
	}
	a, err := trust.Acknowledge(next, old.Public(), at)
	if err != nil {
		t.Fatal(err)
	}
	return trust.Succession{Endorsement: e, Acknowledgement: a}
}

// TestAnchorsFollowSuccessionsBothWays: three anchors in a row; whichever is
// pinned, all three are vouched for, and a key that only planted its own
// endorsement or acknowledgement is not.
func TestAnchorsFollowSuccessionsBothWays(t *testing.T) {
	a, ap := newAnchor(t)
	b, bp := newAnchor(t)
	c, cp := newAnchor(t)
	x, _ := newAnchor(t)                                            // the forger's key
	chain := []trust.Succession{succeed(t, b, c), succeed(t, a, b)} // any order
	// What a forger holding only x can write into the database: x endorsing
	// the real anchors (claiming to be their predecessor) and x acknowledging
	// them (claiming to be their successor). None of it is signed by a key
	// the pin vouches for.
	var planted []trust.Succession
	for _, real := range []signing.Signer{a, b, c} {
		e, _ := trust.Endorse(x, real.Public(), time.Now())
		ack, _ := trust.Acknowledge(x, real.Public(), time.Now())
		planted = append(planted, trust.Succession{Endorsement: e, Acknowledgement: ack})
	}
	for name, pin := range map[string]*signing.PublicKey{"old": ap, "middle": bp, "new": cp} {
		got := trust.Anchors(pin, append(append([]trust.Succession{}, chain...), planted...), nil)
		if len(got) != 3 || got[a.KeyID()] == nil || got[b.KeyID()] == nil || got[c.KeyID()] == nil {
			t.Errorf("pinned %s: %d anchors", name, len(got))
		}
		if got[x.KeyID()] != nil {
			t.Errorf("pinned %s: the planted key is vouched for", name)
		}
	}
	// Only endorsements (a bundle's): forward only.
	got := trust.Anchors(ap, nil, []string{chain[1].Endorsement, chain[0].Endorsement})
	if len(got) != 3 {
		t.Errorf("endorsements from a bundle: %d anchors", len(got))
	}
	if got := trust.Anchors(cp, nil, []string{chain[1].Endorsement, chain[0].Endorsement}); len(got) != 1 {
		t.Errorf("endorsements lead backward: %d anchors", len(got))
	}
}

// TestVerifyWithAnchors: a bundle signed by an older anchor verifies for an
// auditor who re-pinned to the newer one, through the acknowledgement.
func TestVerifyWithAnchors(t *testing.T) {
	a, _ := newAnchor(t)
	b, bp := newAnchor(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	jws, err := trust.Sign(a, trust.Bundle{IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		AuditHead: &trust.AuditHead{Seq: 7, SM3: "00", At: now}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.VerifyWithAnchors(jws, trust.Anchors(bp, nil, nil), now); !errors.Is(err, trust.ErrNotSignedByAnchor) {
		t.Fatalf("without the succession: %v", err)
	}
	got, err := trust.VerifyWithAnchors(jws, trust.Anchors(bp, []trust.Succession{succeed(t, a, b)}, nil), now.Add(2*time.Hour))
	if !errors.Is(err, trust.ErrExpired) || got.AuditHead == nil || got.AuditHead.Seq != 7 {
		t.Fatalf("with it, a year later: %+v %v", got.AuditHead, err)
	}
	if _, err := (trust.AuditHead{SM3: "00"}).Hash(); err == nil {
		t.Fatal("a short head hash was accepted")
	}
}
