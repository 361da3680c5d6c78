package signing

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	tjsm3 "github.com/tjfoc/gmsm/sm3"
)

func TestJWK(t *testing.T) {
	_, pub := annexAKey(t)
	j := NewJWK(pub)
	out, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	x := base64.RawURLEncoding.EncodeToString(pub.Bytes()[1:33])
	y := base64.RawURLEncoding.EncodeToString(pub.Bytes()[33:])
	want := `{"kty":"EC","crv":"SM2","x":"` + x + `","y":"` + y + `","kid":"` + Thumbprint(pub) + `","use":"sig","alg":"SM2"}`
	if string(out) != want {
		t.Fatalf("JWK JSON =\n%s\nwant\n%s", out, want)
	}
	var parsed JWK
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatal(err)
	}
	back, err := parsed.PublicKey()
	if err != nil || !back.Equal(pub) {
		t.Fatalf("JWK round trip: %v", err)
	}
	// Only the required members are needed.
	if k, err := (JWK{Kty: "EC", Crv: "SM2", X: x, Y: y}).PublicKey(); err != nil || !k.Equal(pub) {
		t.Fatalf("minimal JWK: %v", err)
	}
}

// The thumbprint, recomputed from its definition with an independent SM3
// (tjfoc/gmsm) and encoding/json's canonical map order.
func TestThumbprint(t *testing.T) {
	for range 5 {
		pub := newKey(t).Public()
		canon, err := json.Marshal(map[string]string{
			"kty": "EC", "crv": "SM2",
			"x": base64.RawURLEncoding.EncodeToString(pub.Bytes()[1:33]),
			"y": base64.RawURLEncoding.EncodeToString(pub.Bytes()[33:]),
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(canon), `{"crv":"SM2","kty":"EC","x":"`) {
			t.Fatalf("canonical JSON order: %s", canon)
		}
		want := base64.RawURLEncoding.EncodeToString(tjsm3.Sm3Sum(canon))
		if got := Thumbprint(pub); got != want || len(got) != 43 {
			t.Fatalf("Thumbprint = %s, want %s", got, want)
		}
	}
	if Thumbprint(nil) != "" || Thumbprint(new(PublicKey)) != "" {
		t.Fatal("thumbprint of a nil key")
	}
}

func TestJWKPublicKeyRejects(t *testing.T) {
	_, pub := annexAKey(t)
	good := NewJWK(pub)
	raw := pub.Bytes()
	// Canonical encoding of X ends in a character whose low bits are zero;
	// flip one of them for a non-canonical text of the same bytes.
	nonCanonical := []byte(good.X)
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", nonCanonical[42])
	nonCanonical[42] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]
	offCurve := append([]byte(nil), raw[33:]...)
	offCurve[31] ^= 1

	mutate := func(f func(*JWK)) JWK { j := good; f(&j); return j }
	for name, tc := range map[string]struct {
		j    JWK
		want error
	}{
		"kty OKP":        {mutate(func(j *JWK) { j.Kty = "OKP" }), ErrUnsupportedAlgorithm},
		"crv P-256":      {mutate(func(j *JWK) { j.Crv = "P-256" }), ErrUnsupportedAlgorithm},
		"crv sm2":        {mutate(func(j *JWK) { j.Crv = "sm2" }), ErrUnsupportedAlgorithm},
		"alg ES256":      {mutate(func(j *JWK) { j.Alg = "ES256" }), ErrUnsupportedAlgorithm},
		"use enc":        {mutate(func(j *JWK) { j.Use = "enc" }), ErrMalformed},
		"x padded":       {mutate(func(j *JWK) { j.X += "=" }), ErrMalformed},
		"x std base64":   {mutate(func(j *JWK) { j.X = base64.StdEncoding.EncodeToString(raw[1:33]) }), ErrMalformed},
		"x 31 bytes":     {mutate(func(j *JWK) { j.X = base64.RawURLEncoding.EncodeToString(raw[2:33]) }), ErrMalformed},
		"x 33 bytes":     {mutate(func(j *JWK) { j.X = base64.RawURLEncoding.EncodeToString(raw[0:33]) }), ErrMalformed},
		"x non-canon":    {mutate(func(j *JWK) { j.X = string(nonCanonical) }), ErrMalformed},
		"x with newline": {mutate(func(j *JWK) { j.X = j.X[:20] + "\n" + j.X[21:] }), ErrMalformed},
		"y off curve":    {mutate(func(j *JWK) { j.Y = base64.RawURLEncoding.EncodeToString(offCurve) }), ErrMalformed},
		"empty":          {JWK{}, ErrUnsupportedAlgorithm},
	} {
		if _, err := tc.j.PublicKey(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}
