package trust_test

import (
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

// FuzzAnchors feeds untrusted text (rows of anchor_successions, a bundle's
// endorsements, a --trust file) to Anchors and VerifyWithAnchors: they never
// panic, and no key joins the pinned one unless the text is a JWS that
// verifies under the pinned key.
func FuzzAnchors(f *testing.F) {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	pin := signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
	other, _ := signing.GenerateKey(nil)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e, _ := trust.Endorse(pin, other.Public(), at)
	a, _ := trust.Acknowledge(pin, other.Public(), at)
	b, _ := trust.Sign(pin, trust.Bundle{IssuedAt: at, ExpiresAt: at.Add(time.Hour), Endorsements: []string{e},
		AuditHead: &trust.AuditHead{Seq: 3, SM3: "00", At: at}})
	for _, s := range []string{e, a, b, "", "a.b.c", e[:len(e)-3], "eyJhbGciOiJTTTIifQ.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := trust.Anchors(pin.Public(), []trust.Succession{{Endorsement: s, Acknowledgement: s}}, []string{s})
		if got[pin.KeyID()] == nil {
			t.Fatal("the pinned anchor is missing")
		}
		if len(got) > 1 {
			if _, _, err := signing.VerifyJWS(s, func(string) (*signing.PublicKey, error) { return pin.Public(), nil }); err != nil {
				t.Fatalf("a key joined through text the pinned anchor did not sign: %q", s)
			}
		}
		if bundle, err := trust.VerifyWithAnchors(s, got, at); err == nil && bundle.AuditHead != nil {
			_, _ = bundle.AuditHead.Hash()
		}
	})
}
