package regions

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

func testSigner(tb testing.TB) signing.Signer {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

// FuzzParseRequest: a request token from the network never panics and
// parses only with a region code as issuer.
func FuzzParseRequest(f *testing.F) {
	s := testSigner(f)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	raw, _ := json.Marshal(RequestClaims{Iss: "320500", Aud: "310117", IssuedAt: now, ExpiresAt: now.Add(time.Minute)})
	good, err := signing.SignJWS(s, raw, map[string]any{"typ": RequestTyp})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, token string) {
		cl, err := ParseRequest(token)
		if err == nil && len(cl.Iss) != 6 {
			t.Fatalf("parsed an issuer %q", cl.Iss)
		}
	})
}

// FuzzVerifyReceipts: a receipts response from the network never panics
// and verifies only under the given anchor.
func FuzzVerifyReceipts(f *testing.F) {
	s := testSigner(f)
	keys := map[string]*signing.PublicKey{s.KeyID(): s.Public()}
	good, err := SignReceipts(s, Receipts{Iss: "310117", Aud: "320500", Receipts: []Receipt{{ID: "r1", Channel: "verify", Result: "valid"}}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := VerifyReceipts(good, keys); err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-3] + "AAA")
	f.Fuzz(func(t *testing.T, jws string) {
		rs, err := VerifyReceipts(jws, keys)
		if err == nil && len(rs.Receipts) > ReceiptsPage {
			t.Fatal("an oversized response verified")
		}
		if err == nil && rs.Iss != "310117" {
			t.Fatalf("a response this anchor never signed verified: %q", rs.Iss)
		}
	})
}
