package signing

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// zeroReader makes gmsm's hedged SM2 nonces depend only on the key and the
// message, so that fuzz workers (separate processes) sign identically.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// detSigner is a Signer with deterministic signatures, for fuzzing.
type detSigner struct {
	kid string
	k   *PrivateKey
}

func (s detSigner) KeyID() string      { return s.kid }
func (s detSigner) Public() *PublicKey { return s.k.Public() }
func (s detSigner) Sign(msg []byte) ([]byte, error) {
	return Sign(zeroReader{}, s.k, msg)
}

type fuzzJWS struct {
	compact string
	payload []byte // for detached ones
}

var fuzzFixture = sync.OnceValues(func() (keyRing, []fuzzJWS) {
	d, _ := hex.DecodeString(katSM2D)
	k, err := PrivateKeyFromBytes(d)
	if err != nil {
		panic(err)
	}
	s := detSigner{kid: "fuzz-1", k: k}
	var genuine []fuzzJWS
	for _, p := range []struct {
		payload string
		extra   map[string]any
	}{
		{`{"a":1}`, nil},
		{``, nil},
		{`x`, map[string]any{"typ": "t"}},
		{strings.Repeat("证", 40), map[string]any{"typ": "suishen-code", "cty": "json"}},
	} {
		c, err := SignJWS(s, []byte(p.payload), p.extra)
		if err != nil {
			panic(err)
		}
		genuine = append(genuine, fuzzJWS{compact: c})
		dc, err := SignJWSDetached(s, []byte(p.payload), p.extra)
		if err != nil {
			panic(err)
		}
		genuine = append(genuine, fuzzJWS{compact: dc, payload: []byte(p.payload)})
	}
	return keyRing{"fuzz-1": k.Public()}, genuine
})

func addJWSSeeds(f *testing.F) {
	_, genuine := fuzzFixture()
	for _, g := range genuine {
		f.Add(g.compact, g.payload)
	}
	f.Add(enc.EncodeToString([]byte(`{"alg":"none"}`))+"."+enc.EncodeToString([]byte("x"))+".", []byte(nil))
	f.Add(enc.EncodeToString([]byte(`{"alg":"SM2","alg":"SM2","kid":"fuzz-1"}`))+".eA."+strings.Repeat("A", 86), []byte(nil))
	f.Add(enc.EncodeToString([]byte(`{"alg":"SM2","kid":"fuzz-1","crit":["b64"],"b64":false}`))+".x."+strings.Repeat("A", 86), []byte("x"))
	f.Add("..", []byte{})
	f.Add("", []byte(nil))
}

// FuzzParseJWS: ParseJWS never panics, and what it accepts obeys its
// contract.
//
// The second input is taken as a raw protected header, to reach the header
// parser with arbitrary JSON rather than only through mutated base64.
func FuzzParseJWS(f *testing.F) {
	addJWSSeeds(f)
	for _, h := range []string{
		`{"alg":"SM2","kid":"k","typ":"t","x":[1,{"y":"}\""}],"n":-1.5e3,"t":true,"f":null}`,
		` { "alg" : "SM\u0032" , "kid":"a\/b" } `,
		`{"alg":"SM2","alg":"SM2"}`,
		`{"alg":"SM2","nonce":1}`,
	} {
		f.Add("", []byte(h))
	}
	f.Fuzz(func(t *testing.T, compact string, rawHeader []byte) {
		checkParseJWS(t, compact)
		checkParseJWS(t, enc.EncodeToString(rawHeader)+".eA."+strings.Repeat("A", 86))
	})
}

func checkParseJWS(t *testing.T, compact string) {
	{
		h, payload, err := ParseJWS(compact)
		if err != nil {
			return
		}
		if h.Alg != AlgSM2 {
			t.Fatalf("accepted alg %q", h.Alg)
		}
		parts := strings.Split(compact, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %d segments", len(parts))
		}
		if enc.EncodeToString(payload) != parts[1] {
			t.Fatal("payload segment is not the canonical encoding of the payload")
		}
		for _, k := range []string{"alg", "kid", "typ", "crit", "b64", "jwk", "x5c"} {
			if _, ok := h.Extra[k]; ok {
				t.Fatalf("Extra holds %q", k)
			}
		}
		// go-jose, the reference, must read the same JWS the same way.
		obj, err := jose.ParseSignedCompact(compact, JOSEAlgorithms())
		if err != nil {
			t.Fatalf("ParseJWS accepted what go-jose rejects: %v", err)
		}
		sig := obj.Signatures[0]
		if !bytes.Equal(obj.UnsafePayloadWithoutVerification(), payload) || sig.Protected.KeyID != h.Kid ||
			sig.Protected.Algorithm != h.Alg || sig.Protected.ExtraHeaders["typ"] != anyTyp(h.Typ) {
			t.Fatalf("go-jose reads another JWS: %+v vs %+v", sig.Protected, h)
		}
	}
}

// anyTyp is how go-jose reports a "typ" header: absent, or a string.
func anyTyp(typ string) any {
	if typ == "" {
		return nil
	}
	return typ
}

// FuzzVerifyJWS: no input verifies unless it is byte-identical to a JWS the
// key really signed (with, for a detached one, its real payload).
func FuzzVerifyJWS(f *testing.F) {
	addJWSSeeds(f)
	ring, genuine := fuzzFixture()
	f.Fuzz(func(t *testing.T, compact string, payload []byte) {
		if p, _, err := VerifyJWS(compact, ring.lookup); err == nil {
			ok := false
			for _, g := range genuine {
				if g.payload == nil && g.compact == compact {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("forged JWS verified: %q (payload %q)", compact, p)
			}
			obj, err := jose.ParseSignedCompact(compact, JOSEAlgorithms())
			if err != nil {
				t.Fatalf("go-jose cannot parse a JWS we verified: %v", err)
			}
			if q, err := obj.Verify(NewOpaqueVerifier(ring["fuzz-1"])); err != nil || !bytes.Equal(p, q) {
				t.Fatalf("go-jose disagrees on a JWS we verified: %v", err)
			}
		}
		if _, err := VerifyJWSDetached(compact, payload, ring.lookup); err == nil {
			ok := false
			for _, g := range genuine {
				if g.payload != nil && g.compact == compact && bytes.Equal(g.payload, payload) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("forged detached JWS verified: %q over %q", compact, payload)
			}
		}
	})
}

// FuzzParsePublicKeyPEM: the PEM parsers never panic; every key they accept
// re-encodes to a PEM that parses back to the same key.
func FuzzParsePublicKeyPEM(f *testing.F) {
	k, _ := GenerateKey(rand.Reader)
	pub, _ := MarshalPublicKeyPEM(k.Public())
	priv, _ := MarshalPrivateKeyPEM(k)
	der, _ := MarshalPublicKeyDER(k.Public())
	f.Add(pub)
	f.Add(priv)
	f.Add(der)
	f.Add(append(append([]byte(nil), spkiPrefixSM2...), k.Public().Bytes()...))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEaXT0DjGtCiGn7IrdNIpLTl/shub6\nLlPOeiDla9gut9gaiGlxl/HxA8+UrKIHd9LrnZxq7oydreyaYoZ10g+QZg==\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN SM2 PRIVATE KEY-----\nMHcCAQEEIMK07Y+VGHBVZi4gsosrXznQkbRz81k6ItiZRVGnyCiNoAoGCCqBHM9V\nAYItoUQDQgAEaXT0DjGtCiGn7IrdNIpLTl/shub6LlPOeiDla9gut9gaiGlxl/Hx\nA8+UrKIHd9LrnZxq7oydreyaYoZ10g+QZg==\n-----END SM2 PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePublicKeyPEM(data); err == nil {
			out, err := MarshalPublicKeyPEM(k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePublicKeyPEM(out)
			if err != nil || !back.Equal(k) {
				t.Fatalf("re-encoded public key does not parse back: %v", err)
			}
		}
		if k, err := ParsePublicKeyDER(data); err == nil {
			out, _ := MarshalPublicKeyDER(k)
			if (len(data) != 91 && len(data) != 92) || !bytes.Equal(out[26:], data[len(data)-65:]) {
				t.Fatalf("accepted DER %x as key %x", data, k.Bytes())
			}
		}
		if k, err := ParsePrivateKeyPEM(data); err == nil {
			out, err := MarshalPrivateKeyPEM(k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateKeyPEM(out)
			if err != nil || !back.Equal(k) {
				t.Fatalf("re-encoded private key does not parse back: %v", err)
			}
		}
	})
}

// FuzzDERToRaw: DERToRaw never panics and accepts only canonical DER:
// whatever it accepts, RawToDER turns back into the identical bytes.
func FuzzDERToRaw(f *testing.F) {
	k, _ := GenerateKey(rand.Reader)
	for range 4 {
		sig, _ := Sign(rand.Reader, k, []byte("seed"))
		der, _ := RawToDER(sig)
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80})
	f.Add([]byte{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{})
	pub := k.Public()
	f.Fuzz(func(t *testing.T, der []byte) {
		raw, err := DERToRaw(der)
		if err != nil {
			return
		}
		if len(raw) != SignatureSize || !rawInRange(raw) {
			t.Fatalf("accepted out-of-range signature %x", raw)
		}
		back, err := RawToDER(raw)
		if err != nil || !bytes.Equal(back, der) {
			t.Fatalf("non-canonical DER accepted: %x re-encodes to %x (%v)", der, back, err)
		}
		_ = Verify(pub, []byte("seed"), raw) // must not panic
	})
}
