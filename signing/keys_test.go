package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

func newKey(t testing.TB) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func scalar(v *big.Int) []byte { return v.FillBytes(make([]byte, 32)) }

func asn1Marshal(v any) ([]byte, error) { return asn1.Marshal(v) }

func bitString(b []byte) asn1.BitString { return asn1.BitString{Bytes: b, BitLength: 8 * len(b)} }

func TestPrivateKeyFromBytesRange(t *testing.T) {
	n := sm2.P256().Params().N
	add := func(d int64) []byte { return scalar(new(big.Int).Add(n, big.NewInt(d))) }
	for _, tc := range []struct {
		name string
		d    []byte
		ok   bool
	}{
		{"zero", make([]byte, 32), false},
		{"one", scalar(big.NewInt(1)), true},
		{"n-2", add(-2), true},
		{"n-1", add(-1), false},
		{"n", scalar(n), false},
		{"n+1", add(1), false},
		{"all ones", bytes.Repeat([]byte{0xff}, 32), false},
		{"31 bytes", make([]byte, 31), false},
		{"33 bytes", append([]byte{0}, scalar(big.NewInt(1))...), false},
		{"nil", nil, false},
	} {
		k, err := PrivateKeyFromBytes(tc.d)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: error %v does not wrap ErrMalformed", tc.name, err)
			}
			continue
		}
		if !bytes.Equal(k.Bytes(), tc.d) {
			t.Errorf("%s: Bytes() = %x, want %x", tc.name, k.Bytes(), tc.d)
		}
		// The key must sign.
		sig, err := Sign(rand.Reader, k, []byte("x"))
		if err != nil || !Verify(k.Public(), []byte("x"), sig) {
			t.Errorf("%s: key does not sign: %v", tc.name, err)
		}
	}
}

func TestGenerateKeyRoundTrip(t *testing.T) {
	k := newKey(t)
	k2, err := PrivateKeyFromBytes(k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !k.Equal(k2) || !k.Public().Equal(k2.Public()) {
		t.Fatal("PrivateKeyFromBytes(k.Bytes()) is a different key")
	}
	if k.Equal(newKey(t)) {
		t.Fatal("two generated keys are equal")
	}
	if k.Public().Equal(nil) || (*PublicKey)(nil).Equal(k.Public()) || new(PublicKey).Equal(new(PublicKey)) {
		t.Fatal("Equal accepted a nil or zero key")
	}
}

func TestPublicKeyFromBytes(t *testing.T) {
	good := newKey(t).Public().Bytes()
	if len(good) != 65 || good[0] != 4 {
		t.Fatalf("Bytes() = %x", good)
	}
	back, err := PublicKeyFromBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), good) {
		t.Fatal("round trip changed the key")
	}

	p := sm2.P256().Params().P
	offCurve := append([]byte(nil), good...)
	offCurve[64] ^= 1
	xTooBig := append([]byte{4}, scalar(p)...)
	xTooBig = append(xTooBig, good[33:]...)
	compressed := append([]byte{2 + good[64]&1}, good[1:33]...)
	for name, b := range map[string][]byte{
		"off curve":     offCurve,
		"x = p":         xTooBig,
		"infinity":      make([]byte, 65),
		"compressed":    compressed,
		"prefix 06":     append([]byte{6}, good[1:]...),
		"short":         good[:64],
		"long":          append(append([]byte(nil), good...), 0),
		"empty":         nil,
		"single 0 byte": {0},
	} {
		if _, err := PublicKeyFromBytes(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	pub := newKey(t).Public()
	der, err := MarshalPublicKeyDER(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(der) != 91 {
		t.Fatalf("SPKI is %d bytes, want 91", len(der))
	}
	if !bytes.Equal(der[:len(der)-65], spkiPrefixEC) || !bytes.Equal(der[len(der)-65:], pub.Bytes()) {
		t.Fatalf("SPKI = %x", der)
	}
	pemBytes, err := MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(pub) {
		t.Fatal("PEM round trip changed the key")
	}
	back, err = ParsePublicKeyDER(der)
	if err != nil || !back.Equal(pub) {
		t.Fatalf("DER round trip: %v", err)
	}

	// The OpenSSL 3 form: algorithm 1.2.156.10197.1.301.
	sm2Alg := append(append([]byte(nil), spkiPrefixSM2...), pub.Bytes()...)
	back, err = ParsePublicKeyDER(sm2Alg)
	if err != nil || !back.Equal(pub) {
		t.Fatalf("SPKI with SM2 algorithm OID: %v", err)
	}
}

func TestParsePublicKeyRejects(t *testing.T) {
	pub := newKey(t).Public()
	der, _ := MarshalPublicKeyDER(pub)

	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	// An SM2 point labelled as P-256 and a P-256 point labelled as SM2.
	p256Label := append(append([]byte(nil), p256DER[:len(p256DER)-65]...), pub.Bytes()...)
	sm2Label := append(append([]byte(nil), der[:len(der)-65]...), elliptic.Marshal(elliptic.P256(), p256.X, p256.Y)...) //nolint:staticcheck // test data

	offCurve := append([]byte(nil), der...)
	offCurve[len(offCurve)-1] ^= 1

	for name, tc := range map[string]struct {
		der  []byte
		want error
	}{
		"P-256 key":             {p256DER, ErrUnsupportedAlgorithm},
		"SM2 point as P-256":    {p256Label, ErrUnsupportedAlgorithm},
		"P-256 point as SM2":    {sm2Label, ErrMalformed},
		"point off the curve":   {offCurve, ErrMalformed},
		"trailing byte":         {append(append([]byte(nil), der...), 0), ErrMalformed},
		"truncated":             {der[:90], ErrMalformed},
		"empty":                 {nil, ErrMalformed},
		"long-form length":      {append([]byte{0x30, 0x81, 0x59}, der[2:]...), ErrMalformed},
		"point not 04-prefixed": {append(append([]byte(nil), der[:26]...), append([]byte{5}, der[27:]...)...), ErrMalformed},
	} {
		_, err := ParsePublicKeyDER(tc.der)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}

	good, _ := MarshalPublicKeyPEM(pub)
	for name, in := range map[string][]byte{
		"private key type": bytes.Replace(good, []byte("PUBLIC KEY"), []byte("PRIVATE KEY"), 2),
		"trailing garbage": append(append([]byte(nil), good...), "garbage"...),
		"two blocks":       append(append([]byte(nil), good...), good...),
		"not PEM":          der,
		"headers":          pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: der}),
	} {
		if _, err := ParsePublicKeyPEM(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// Explanatory text before the block and white space after it are fine.
	withText := append([]byte("Suishen anchor key\n"), good...)
	withText = append(withText, "\n\n"...)
	if _, err := ParsePublicKeyPEM(withText); err != nil {
		t.Errorf("PEM with explanatory text: %v", err)
	}
}

func TestPrivateKeyPEM(t *testing.T) {
	k := newKey(t)
	pemBytes, err := MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Fatalf("not a PKCS#8 PEM: %s", pemBytes)
	}
	back, err := ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) {
		t.Fatal("PKCS#8 round trip changed the key")
	}

	// SEC 1 "EC PRIVATE KEY", as gmsm writes it.
	sec1, err := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: k.Bytes(), NamedCurveOID: oidSM2,
		PublicKey: bitString(k.Public().Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"EC PRIVATE KEY", "SM2 PRIVATE KEY"} {
		back, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: sec1}))
		if err != nil || !back.Equal(k) {
			t.Errorf("%s: %v", typ, err)
		}
	}

	// Leading zeros dropped by an old writer.
	small, _ := PrivateKeyFromBytes(scalar(big.NewInt(0x1234)))
	shortSEC1, _ := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: []byte{0x12, 0x34}, NamedCurveOID: oidSM2})
	back, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: shortSEC1}))
	if err != nil || !back.Equal(small) {
		t.Errorf("short scalar: %v", err)
	}

	other := newKey(t)
	mismatched, _ := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: k.Bytes(), NamedCurveOID: oidSM2,
		PublicKey: bitString(other.Public().Bytes())})
	noCurve, _ := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: k.Bytes()})
	nMinus1, _ := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: scalar(new(big.Int).Sub(sm2.P256().Params().N, big.NewInt(1))), NamedCurveOID: oidSM2})
	zero, _ := asn1Marshal(ecPrivateKey{Version: 1, PrivateKey: make([]byte, 32), NamedCurveOID: oidSM2})
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256PKCS8, _ := x509.MarshalPKCS8PrivateKey(p256)
	p256SEC1, _ := x509.MarshalECPrivateKey(p256)
	for name, tc := range map[string]struct {
		typ  string
		der  []byte
		want error
	}{
		"public key mismatch": {"EC PRIVATE KEY", mismatched, ErrMalformed},
		"no curve":            {"EC PRIVATE KEY", noCurve, ErrMalformed},
		"d = n-1":             {"EC PRIVATE KEY", nMinus1, ErrMalformed},
		"d = 0":               {"EC PRIVATE KEY", zero, ErrMalformed},
		"P-256 PKCS#8":        {"PRIVATE KEY", p256PKCS8, ErrUnsupportedAlgorithm},
		"P-256 SEC 1":         {"EC PRIVATE KEY", p256SEC1, ErrUnsupportedAlgorithm},
		"encrypted":           {"ENCRYPTED PRIVATE KEY", []byte{0x30, 0}, ErrMalformed},
		"public key block":    {"PUBLIC KEY", sec1, ErrMalformed},
		"SEC 1 as PKCS#8":     {"PRIVATE KEY", sec1, ErrMalformed},
	} {
		_, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: tc.typ, Bytes: tc.der}))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// No way of printing, logging or marshalling a private key or a software
// signer may reveal the scalar.
func TestPrivateKeyRedaction(t *testing.T) {
	k := newKey(t)
	d := k.Bytes()
	dHex := hex.EncodeToString(d)
	secrets := []string{dHex, strings.ToUpper(dHex), k.k.D.String(), string(d), fmt.Sprint(d)}
	signer := NewSoftwareSigner("k1", k)

	var outputs []string
	for _, v := range []any{k, *k, signer} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%T %[1]v"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(j))
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "k", v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "k", v)
		outputs = append(outputs, buf.String())
	}
	wrapped := struct {
		Key    *PrivateKey
		Signer Signer
	}{k, signer}
	outputs = append(outputs, fmt.Sprintf("%+v", wrapped), fmt.Sprintf("%#v", wrapped))
	j, _ := json.Marshal(wrapped)
	outputs = append(outputs, string(j))

	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("output reveals the private key: %s", out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(k), "REDACTED") || !strings.Contains(fmt.Sprint(signer), "REDACTED") {
		t.Errorf("redacted forms do not say so: %v / %v", k, signer)
	}
	if !strings.Contains(fmt.Sprint(signer), Thumbprint(k.Public())) {
		t.Errorf("signer does not name its thumbprint: %v", signer)
	}
}
