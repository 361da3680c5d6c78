package verifier

import (
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
)

// checkInvariants fails on a result that breaks the three-results rules
// whatever the input: one of the three outcomes; reasons exactly when not
// valid; valid only for an input that is byte for byte a genuine one.
func checkInvariants(t *testing.T, r Result, input string, genuine map[string]bool) {
	t.Helper()
	switch r.Result {
	case Valid:
		if len(r.Reasons) != 0 {
			t.Fatalf("valid with reasons %v", r.Reasons)
		}
		if !genuine[input] {
			t.Fatalf("input %q is valid but not a genuine code or certificate", input)
		}
	case Invalid, Unknown:
		if len(r.Reasons) == 0 {
			t.Fatalf("%s without reasons", r.Result)
		}
	default:
		t.Fatalf("outcome %q", r.Result)
	}
}

// FuzzVerifyCode: random and mutated code texts never panic and are never
// valid unless identical to a genuine code. The seed corpus is a genuine
// code of every kind (and revoked, expired and foreign ones).
func FuzzVerifyCode(f *testing.F) {
	fx := newFixedFixture(f)
	v := fx.verifier()
	genuine := map[string]bool{}
	for _, k := range codes.Kinds() {
		text := fx.issue(k)
		genuine[text] = true
		f.Add(text)
	}
	worst := fx.issue(codes.Presentation, func(c *codes.Claims) {
		c.Subject = []byte(strings.Repeat("s", 32))
		c.DisplayName = strings.Repeat("名", 21)
		c.CertificateID = strings.Repeat("9", 127)
		c.UseCode = strings.Repeat("Z", 32)
		c.StatusList = strings.Repeat("l", 64)
		c.StatusIndex = 1<<32 - 1
	})
	f.Add(worst)
	f.Add(fx.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxRevoked }))
	f.Add(fx.issue(codes.Personal, func(c *codes.Claims) {
		c.IssuedAt = testNow.Add(-time.Hour)
		c.ExpiresAt = testNow.Add(-59 * time.Minute)
	}))
	f.Add(issue(f, fx.dept, claims(f, codes.Personal)))
	f.Add(issue(f, fixedSigner(f, "stranger"), claims(f, codes.Venue)))
	f.Add("")
	f.Add("SS1:")
	f.Add("SS2:ABC")
	f.Add("SS1:" + strings.Repeat(":", 300))
	f.Fuzz(func(t *testing.T, text string) {
		r := v.VerifyCode(text)
		checkInvariants(t, r, text, genuine)
		if r.Result == Valid && r.KeyID != fx.code.KeyID() {
			t.Fatalf("valid under key %s", r.KeyID)
		}
	})
}

// FuzzVerifyCertificate: random and mutated JWS never panic and are never
// valid unless identical to a genuine certificate.
func FuzzVerifyCertificate(f *testing.F) {
	fx := newFixedFixture(f)
	v := fx.verifier()
	genuine := map[string]bool{}
	good := []string{
		fx.certificate(idxGood),
		fx.certificate(-1),
		signDoc(f, fx.dept, fx.document(fx.licenceType, idxGood, func(r *issuer.IssueRequest) { r.ValidUntil, r.LongTerm = nil, true })),
	}
	for _, jws := range good {
		genuine[jws] = true
		f.Add(jws)
	}
	f.Add(fx.certificate(idxRevoked))
	f.Add(signDoc(f, fx.code, fx.document(fx.certType, idxGood)))
	f.Add(signDoc(f, fx.dept, fx.document(fx.unlistedType, idxGood)))
	f.Add(fx.signListJWS(fx.anchor, fx.certSL, fx.statusListValidUntil))
	f.Add(fx.jws())
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJTTTIifQ.e30.AAAA")
	f.Fuzz(func(t *testing.T, jws string) {
		checkInvariants(t, v.VerifyCertificate(jws), jws, genuine)
	})
}
