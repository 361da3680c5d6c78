package signing

import (
	"crypto/rand"
	"math/big"
	"strings"
	"testing"

	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjsm3 "github.com/tjfoc/gmsm/sm3"
	tjx509 "github.com/tjfoc/gmsm/x509"
)

// tjfoc/gmsm v1.4.1 is an independent SM2 implementation (math/big); it is
// imported by tests only.

func toTjfoc(t testing.TB, k *PrivateKey) *tjsm2.PrivateKey {
	t.Helper()
	tk := new(tjsm2.PrivateKey)
	tk.Curve = tjsm2.P256Sm2()
	tk.D = new(big.Int).SetBytes(k.Bytes())
	tk.X, tk.Y = tk.Curve.ScalarBaseMult(k.Bytes())
	return tk
}

func TestTjfocVerifiesOurs(t *testing.T) {
	k := newKey(t)
	tk := toTjfoc(t, k)
	if new(big.Int).SetBytes(k.Public().Bytes()[1:33]).Cmp(tk.X) != 0 {
		t.Fatal("tjfoc derives another public key")
	}
	for _, msg := range []string{"message digest", "", strings.Repeat("证照", 500)} {
		sig, err := Sign(rand.Reader, k, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		der, _ := RawToDER(sig)
		// PublicKey.Verify uses the default ID 1234567812345678.
		if !tk.PublicKey.Verify([]byte(msg), der) {
			t.Errorf("len %d: tjfoc rejects our signature", len(msg))
		}
		if tk.PublicKey.Verify([]byte(msg+"x"), der) {
			t.Errorf("len %d: tjfoc accepts our signature for another message", len(msg))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if tjsm2.Sm2Verify(&tk.PublicKey, []byte(msg), []byte("ALICE123@YAHOO.COM"), r, s) {
			t.Errorf("len %d: tjfoc accepts our signature under another ID", len(msg))
		}
	}
	id := []byte("ALICE123@YAHOO.COM")
	sig, _ := SignWithID(rand.Reader, k, id, []byte("m"))
	if !tjsm2.Sm2Verify(&tk.PublicKey, []byte("m"), id, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("tjfoc rejects our signature with an explicit ID")
	}
}

func TestWeVerifyTjfoc(t *testing.T) {
	tk, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := tjx509.WritePublicKeyToPem(&tk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatalf("tjfoc public key PEM: %v", err)
	}
	for _, msg := range []string{"message digest", "", strings.Repeat("证照", 500)} {
		der, err := tk.Sign(rand.Reader, []byte(msg), nil) // default ID
		if err != nil {
			t.Fatal(err)
		}
		raw, err := DERToRaw(der)
		if err != nil {
			t.Fatalf("tjfoc DER signature: %v (%x)", err, der)
		}
		if !Verify(pub, []byte(msg), raw) {
			t.Errorf("len %d: we reject tjfoc's signature", len(msg))
		}
		if Verify(pub, []byte(msg+"x"), raw) {
			t.Errorf("len %d: we accept tjfoc's signature for another message", len(msg))
		}
	}
	// tjfoc's private key PEM (PKCS #8, scalar without leading zeros).
	privPEM, err := tjx509.WritePrivateKeyToPem(tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKeyPEM(privPEM)
	if err != nil {
		t.Fatalf("tjfoc private key PEM: %v", err)
	}
	if !priv.Public().Equal(pub) {
		t.Fatal("tjfoc private key PEM yields another key")
	}
}

func TestPublicKeyPEMWithTjfoc(t *testing.T) {
	k := newKey(t)
	ours, err := MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	tpub, err := tjx509.ReadPublicKeyFromPem(ours)
	if err != nil {
		t.Fatalf("tjfoc cannot read our public key PEM: %v", err)
	}
	tk := toTjfoc(t, k)
	if tpub.X.Cmp(tk.X) != 0 || tpub.Y.Cmp(tk.Y) != 0 {
		t.Fatal("tjfoc reads another public key from our PEM")
	}
	theirs, err := tjx509.WritePublicKeyToPem(tpub)
	if err != nil {
		t.Fatal(err)
	}
	if string(theirs) != string(ours) {
		t.Errorf("PEMs differ:\nours   %s\ntjfoc %s", ours, theirs)
	}
	back, err := ParsePublicKeyPEM(theirs)
	if err != nil || !back.Equal(k.Public()) {
		t.Fatalf("round trip through tjfoc: %v", err)
	}

	privPEM, err := MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	tpriv, err := tjx509.ReadPrivateKeyFromPem(privPEM, nil)
	if err != nil {
		t.Fatalf("tjfoc cannot read our private key PEM: %v", err)
	}
	if tpriv.D.Cmp(tk.D) != 0 {
		t.Fatal("tjfoc reads another private key from our PEM")
	}
}

// A JWS of ours is an SM2 signature that tjfoc can check from the compact
// text alone.
func TestTjfocVerifiesJWS(t *testing.T) {
	k := newKey(t)
	compact, err := SignJWS(NewSoftwareSigner("k", k), []byte(`{"a":1}`), map[string]any{"typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(compact, '.')
	sig := mustDecode(t, compact[i+1:])
	tk := toTjfoc(t, k)
	if !tjsm2.Sm2Verify(&tk.PublicKey, []byte(compact[:i]), nil, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("tjfoc rejects our JWS signature")
	}
}

func TestSM3AgreesWithTjfoc(t *testing.T) {
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 1000} {
		msg := make([]byte, n)
		_, _ = rand.Read(msg)
		ours := SM3(msg)
		if theirs := tjsm3.Sm3Sum(msg); string(theirs) != string(ours[:]) {
			t.Errorf("SM3 of %d bytes differs from tjfoc", n)
		}
	}
}
