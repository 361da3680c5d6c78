package signing

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	jose "github.com/go-jose/go-jose/v4"
)

var enc = base64.RawURLEncoding

// keyRing is a lookup over a fixed set of keys.
type keyRing map[string]*PublicKey

func (r keyRing) lookup(kid string) (*PublicKey, error) {
	if k, ok := r[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// craftJWS builds a compact JWS with an arbitrary protected header, signed
// correctly by k over its signing input, so that a rejection can only be
// due to the header.
func craftJWS(t testing.TB, k *PrivateKey, header string, payload []byte) string {
	t.Helper()
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload)
	sig, err := Sign(rand.Reader, k, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

func TestJWSRoundTrip(t *testing.T) {
	k := newKey(t)
	s := NewSoftwareSigner("dept-2026-01", k)
	ring := keyRing{"dept-2026-01": k.Public()}
	payload := []byte(`{"id":"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F","name":"张三"}`)

	compact, err := SignJWS(s, payload, map[string]any{"typ": "suishen-cert+jws", "cty": "json"})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		t.Fatalf("compact JWS has %d parts", len(parts))
	}
	hdr, _ := enc.DecodeString(parts[0])
	if want := `{"alg":"SM2","cty":"json","kid":"dept-2026-01","typ":"suishen-cert+jws"}`; string(hdr) != want {
		t.Fatalf("header = %s, want %s", hdr, want)
	}
	// The signature is a plain SM2 signature over the signing input.
	sig, _ := enc.DecodeString(parts[2])
	if len(sig) != 64 || !Verify(k.Public(), []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("JWS signature is not raw r||s over the signing input")
	}

	got, h, err := VerifyJWS(compact, ring.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("payload = %s", got)
	}
	if h.Alg != "SM2" || h.Kid != "dept-2026-01" || h.Typ != "suishen-cert+jws" || len(h.Extra) != 1 || h.Extra["cty"] != "json" {
		t.Fatalf("header = %+v", h)
	}
	ph, pp, err := ParseJWS(compact)
	if err != nil || !bytes.Equal(pp, payload) || ph.Kid != h.Kid || ph.Typ != h.Typ {
		t.Fatalf("ParseJWS = %+v, %s, %v", ph, pp, err)
	}

	// Detached.
	det, err := SignJWSDetached(s, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(det, "."); len(parts) != 3 || parts[1] != "" {
		t.Fatalf("detached JWS %q", det)
	}
	h, err = VerifyJWSDetached(det, payload, ring.lookup)
	if err != nil || h.Kid != "dept-2026-01" || h.Typ != "" || h.Extra != nil {
		t.Fatalf("VerifyJWSDetached = %+v, %v", h, err)
	}
	if _, err := VerifyJWSDetached(det, append(payload, ' '), ring.lookup); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("detached JWS verified another payload: %v", err)
	}
	if _, err := VerifyJWSDetached(compact, payload, ring.lookup); !errors.Is(err, ErrMalformed) {
		t.Fatalf("VerifyJWSDetached accepted an attached payload: %v", err)
	}
	if _, _, err := VerifyJWS(det, ring.lookup); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("VerifyJWS of a detached JWS without its payload: %v", err)
	}

	// Empty payload.
	empty, err := SignJWS(s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := VerifyJWS(empty, ring.lookup); err != nil || len(got) != 0 {
		t.Fatalf("empty payload: %q, %v", got, err)
	}
	if _, err := VerifyJWSDetached(empty, nil, ring.lookup); err != nil {
		t.Fatalf("empty detached payload: %v", err)
	}
}

func TestJWSKeyLookup(t *testing.T) {
	k := newKey(t)
	compact, err := SignJWS(NewSoftwareSigner("k1", k), []byte("p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyJWS(compact, keyRing{"k2": k.Public()}.lookup); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown kid: err = %v, want ErrUnknownKey", err)
	}
	if _, _, err := VerifyJWS(compact, func(string) (*PublicKey, error) { return nil, nil }); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("lookup (nil, nil): err = %v, want ErrUnknownKey", err)
	}
	if _, _, err := VerifyJWS(compact, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil lookup: err = %v, want ErrUnknownKey", err)
	}
	outage := errors.New("database unreachable")
	_, _, err = VerifyJWS(compact, func(string) (*PublicKey, error) { return nil, outage })
	if !errors.Is(err, outage) || errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrInvalidSignature) {
		t.Errorf("lookup outage: err = %v, want it passed through", err)
	}
	// Right kid, wrong key.
	if _, _, err := VerifyJWS(compact, keyRing{"k1": newKey(t).Public()}.lookup); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("wrong key: err = %v, want ErrInvalidSignature", err)
	}
	// No kid at all.
	noKid := craftJWS(t, k, `{"alg":"SM2"}`, []byte("p"))
	if _, _, err := VerifyJWS(noKid, keyRing{"": k.Public()}.lookup); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("no kid: err = %v, want ErrUnknownKey", err)
	}
	if _, err := SignJWS(NewSoftwareSigner("", k), []byte("p"), nil); err == nil {
		t.Error("SignJWS accepted a signer without a key id")
	}
}

func TestJWSRejectsOtherAlgorithms(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k1": k.Public()}
	for _, hdr := range []string{
		`{"alg":"none","kid":"k1"}`,
		`{"alg":"ES256","kid":"k1"}`,
		`{"alg":"HS256","kid":"k1"}`,
		`{"alg":"sm2","kid":"k1"}`,
		`{"alg":"SM2 ","kid":"k1"}`,
		`{"alg":"SM2withSM3","kid":"k1"}`,
		`{"kid":"k1"}`,
		`{"alg":null,"kid":"k1"}`,
		`{"alg":["SM2"],"kid":"k1"}`,
	} {
		compact := craftJWS(t, k, hdr, []byte("payload"))
		if _, _, err := ParseJWS(compact); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("ParseJWS(%s): err = %v, want ErrUnsupportedAlgorithm", hdr, err)
		}
		if _, _, err := VerifyJWS(compact, ring.lookup); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("VerifyJWS(%s): err = %v, want ErrUnsupportedAlgorithm", hdr, err)
		}
	}
	// alg none with an empty signature, the classic.
	none := enc.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + enc.EncodeToString([]byte("p")) + "."
	if _, _, err := VerifyJWS(none, ring.lookup); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("alg none, empty signature: err = %v", err)
	}
	// The control: the same construction with alg SM2 verifies.
	if _, _, err := VerifyJWS(craftJWS(t, k, `{"alg":"SM2","kid":"k1"}`, []byte("payload")), ring.lookup); err != nil {
		t.Fatalf("crafted SM2 JWS: %v", err)
	}
}

func TestJWSRejectsHeaders(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k1": k.Public()}
	for _, hdr := range []string{
		`{"alg":"SM2","alg":"SM2","kid":"k1"}`,
		`{"alg":"SM2","kid":"k1","kid":"k2"}`,
		`{"alg":"SM2","kid":"k1","crit":["exp"],"exp":1}`,
		`{"alg":"SM2","kid":"k1","b64":false,"crit":["b64"]}`,
		`{"alg":"SM2","kid":"k1","jwk":{"kty":"EC"}}`,
		`{"alg":"SM2","kid":"k1","x5c":["MIIB"]}`,
		`{"alg":"SM2","kid":1}`,
		`{"alg":"SM2","kid":"k1","typ":7}`,
		`{"alg":"SM2","kid":"k1"} x`,
		`{"alg":"SM2","kid":"k1"}{}`,
		`["SM2"]`,
		`{"alg":"SM2","kid":"k1",}`,
		"{\"alg\":\"SM2\",\"kid\":\"k1\",\"x\":\"\xff\"}",
		``,
	} {
		compact := craftJWS(t, k, hdr, []byte("payload"))
		if _, _, err := VerifyJWS(compact, ring.lookup); !errors.Is(err, ErrMalformed) {
			t.Errorf("VerifyJWS(%q): err = %v, want ErrMalformed", hdr, err)
		}
	}
	s := NewSoftwareSigner("k1", k)
	for _, member := range []string{"alg", "kid", "b64", "crit", "jwk", "x5c"} {
		if _, err := SignJWS(s, []byte("p"), map[string]any{member: "x"}); !errors.Is(err, ErrMalformed) {
			t.Errorf("SignJWS let extra set %q: %v", member, err)
		}
	}
	if _, err := SignJWS(s, []byte("p"), map[string]any{"bad": func() {}}); err == nil {
		t.Error("SignJWS accepted an extra value that cannot be marshalled")
	}
}

// Every single-byte change of a small JWS must make it fail.
func TestJWSEveryByteFlipFails(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k": k.Public()}
	compact, err := SignJWS(NewSoftwareSigner("k", k), []byte(`{"n":1}`), map[string]any{"typ": "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyJWS(compact, ring.lookup); err != nil {
		t.Fatal(err)
	}
	det, _ := SignJWSDetached(NewSoftwareSigner("k", k), []byte(`{"n":1}`), nil)
	for i := range len(compact) {
		for _, bit := range []byte{0x01, 0x02, 0x04, 0x20, 0x80} {
			b := []byte(compact)
			b[i] ^= bit
			if _, _, err := VerifyJWS(string(b), ring.lookup); err == nil {
				t.Fatalf("byte %d ^ %#x: %q verified", i, bit, b)
			}
		}
	}
	for i := range len(det) {
		b := []byte(det)
		b[i] ^= 0x01
		if _, err := VerifyJWSDetached(string(b), []byte(`{"n":1}`), ring.lookup); err == nil {
			t.Fatalf("detached byte %d flipped: verified", i)
		}
	}
	// Changing the payload given to a detached verifier.
	p := []byte(`{"n":1}`)
	for i := range p {
		q := append([]byte(nil), p...)
		q[i] ^= 1
		if _, err := VerifyJWSDetached(det, q, ring.lookup); err == nil {
			t.Fatalf("detached payload byte %d flipped: verified", i)
		}
	}
}

// Texts that go-jose alone would decode to the same bytes must not verify.
func TestJWSNonCanonicalText(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k": k.Public()}
	compact, _ := SignJWS(NewSoftwareSigner("k", k), []byte("abcde"), nil)
	parts := strings.Split(compact, ".")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// The 64-byte signature is 86 characters: the last carries 4 unused bits.
	sig := []byte(parts[2])
	sig[85] = alphabet[strings.IndexByte(alphabet, sig[85])|1]
	variants := map[string]string{
		"sig stray bits":      parts[0] + "." + parts[1] + "." + string(sig),
		"sig padded":          compact + "==",
		"newline in sig":      parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
		"CR in header":        parts[0][:5] + "\r" + parts[0][5:] + "." + parts[1] + "." + parts[2],
		"space":               " " + compact,
		"trailing newline":    compact + "\n",
		"std alphabet":        strings.NewReplacer("-", "+", "_", "/").Replace(compact),
		"four segments":       compact + ".",
		"two segments":        parts[0] + "." + parts[1],
		"JSON serialization":  `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		"payload stray bits":  parts[0] + "." + parts[1][:len(parts[1])-1] + "f." + parts[2],
		"empty":               "",
		"only dots":           "..",
		"header stray bits":   parts[0][:len(parts[0])-1] + string(alphabet[strings.IndexByte(alphabet, parts[0][len(parts[0])-1])|1]) + "." + parts[1] + "." + parts[2],
		"sig doubled":         compact + parts[2],
		"sig truncated":       compact[:len(compact)-2],
		"sig prefixed zeroes": parts[0] + "." + parts[1] + "." + enc.EncodeToString(append([]byte{0}, mustDecode(t, parts[2])...)),
	}
	for name, v := range variants {
		if v == compact {
			continue // a variant that happens to equal the original (e.g. bits already set)
		}
		if _, _, err := VerifyJWS(v, ring.lookup); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, _, err := VerifyJWS(compact, ring.lookup); err != nil {
		t.Fatal(err)
	}
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := enc.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// r or s equal to 0 or ≥ n never verify, in JWS or raw.
func TestSignatureRange(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k": k.Public()}
	compact, _ := SignJWS(NewSoftwareSigner("k", k), []byte("p"), nil)
	parts := strings.Split(compact, ".")
	good := mustDecode(t, parts[2])
	n := sm2.P256().Params().N
	r, s := good[:32], good[32:]
	nPlus5 := scalar(new(big.Int).Add(n, big.NewInt(5)))
	zero := make([]byte, 32)
	for name, sig := range map[string][]byte{
		"r = 0":       append(append([]byte(nil), zero...), s...),
		"s = 0":       append(append([]byte(nil), r...), zero...),
		"r = n":       append(scalar(n), s...),
		"s = n":       append(append([]byte(nil), r...), scalar(n)...),
		"r = 2^256-1": append(bytes.Repeat([]byte{0xff}, 32), s...),
		"s = n + 5":   append(append([]byte(nil), r...), nPlus5...),
		"63 bytes":    good[:63],
		"65 bytes":    append(append([]byte(nil), good...), 0),
		"empty":       nil,
	} {
		if Verify(k.Public(), []byte(parts[0]+"."+parts[1]), sig) {
			t.Errorf("%s: Verify accepted", name)
		}
		if _, err := RawToDER(sig); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: RawToDER err = %v", name, err)
		}
		forged := parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)
		if _, _, err := VerifyJWS(forged, ring.lookup); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: VerifyJWS err = %v, want ErrInvalidSignature", name, err)
		}
	}
}

func TestDERConversion(t *testing.T) {
	k := newKey(t)
	for range 50 {
		raw, err := Sign(rand.Reader, k, []byte("m"))
		if err != nil {
			t.Fatal(err)
		}
		der, err := RawToDER(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(der) < 8 || len(der) > 72 {
			t.Fatalf("DER length %d", len(der))
		}
		back, err := DERToRaw(der)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("DER round trip: %v", err)
		}
		if !sm2.VerifyASN1WithSM2(k.Public().k, nil, []byte("m"), der) {
			t.Fatal("gmsm does not verify the converted DER")
		}
	}
	// Small values: r = 1, s = 0x80 (needs a leading zero).
	raw := append(scalar(big.NewInt(1)), scalar(big.NewInt(0x80))...)
	der, err := RawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80}; !bytes.Equal(der, want) {
		t.Fatalf("RawToDER(1, 0x80) = %x, want %x", der, want)
	}

	n := scalar(sm2.P256().Params().N)
	for name, in := range map[string][]byte{
		"empty":            nil,
		"not a sequence":   {0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"length too long":  {0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"long-form length": {0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"trailing byte":    {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"extra integer":    {0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},
		"one integer":      {0x30, 0x03, 0x02, 0x01, 0x01},
		"negative":         {0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01},
		"non-minimal":      {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01},
		"zero r":           {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01},
		"empty integer":    {0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01},
		"r = n":            append([]byte{0x30, 0x26, 0x02, 0x21, 0x00}, append(n, 0x02, 0x01, 0x01)...),
		"bit string":       {0x30, 0x06, 0x03, 0x01, 0x01, 0x02, 0x01, 0x01},
		"indefinite":       {0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00},
	} {
		if _, err := DERToRaw(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := DERToRaw([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}); err != nil {
		t.Errorf("(1, 1): %v", err)
	}
}

func TestJWSSizeLimit(t *testing.T) {
	k := newKey(t)
	s := NewSoftwareSigner("k", k)
	ring := keyRing{"k": k.Public()}
	big, err := SignJWS(s, make([]byte, MaxJWSSize), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyJWS(big, ring.lookup); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized JWS: err = %v", err)
	}
	if _, _, err := ParseJWS(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized JWS parse: err = %v", err)
	}
	det, _ := SignJWSDetached(s, make([]byte, MaxJWSSize), nil)
	if _, err := VerifyJWSDetached(det, make([]byte, MaxJWSSize), ring.lookup); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized detached payload: err = %v", err)
	}
	ok, _ := SignJWS(s, make([]byte, MaxJWSSize/2), nil)
	if _, _, err := VerifyJWS(ok, ring.lookup); err != nil {
		t.Errorf("half-limit JWS: %v", err)
	}
}

func TestJWSHeaderExtra(t *testing.T) {
	k := newKey(t)
	compact, err := SignJWS(NewSoftwareSigner("k", k), []byte("p"), map[string]any{
		"typ": "x", "n": 3, "list": []string{"a"}, "obj": map[string]any{"b": true},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := ParseJWS(compact)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(h.Extra)
	if string(got) != `{"list":["a"],"n":3,"obj":{"b":true}}` {
		t.Fatalf("Extra = %s", got)
	}
}

// The hand-written compact form must be exactly what go-jose writes for the
// same header, payload and (deterministic) signer, and go-jose must verify
// it through NewOpaqueVerifier.
func TestJWSMatchesGoJOSE(t *testing.T) {
	k := newKey(t)
	s := detSigner{kid: "dept/2026 \"01\"", k: k}
	for _, tc := range []struct {
		payload string
		extra   map[string]any
	}{
		{`{"a":1}`, nil},
		{``, map[string]any{"typ": "JWT"}},
		{`<html>&`, map[string]any{"typ": "a<b>&c", "cty": "证照", "n": 1.5, "list": []any{"x", 2, true, nil}, "obj": map[string]any{"z": 1, "a": "\u2028"}}},
		{strings.Repeat("x", 1000), map[string]any{"iat": 1767225600}},
	} {
		var opts jose.SignerOptions
		for k, v := range tc.extra {
			opts.WithHeader(jose.HeaderKey(k), v)
		}
		js, err := jose.NewSigner(jose.SigningKey{Algorithm: AlgSM2, Key: NewOpaqueSigner(s)}, &opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := js.Sign([]byte(tc.payload))
		if err != nil {
			t.Fatal(err)
		}
		theirs, _ := obj.CompactSerialize()
		theirsDetached, _ := obj.DetachedCompactSerialize()
		ours, err := SignJWS(s, []byte(tc.payload), tc.extra)
		if err != nil {
			t.Fatal(err)
		}
		oursDetached, _ := SignJWSDetached(s, []byte(tc.payload), tc.extra)
		if ours != theirs || oursDetached != theirsDetached {
			t.Errorf("payload %q: ours\n%s\ngo-jose\n%s", tc.payload, ours, theirs)
		}

		// go-jose verifies ours with SM2 as the only algorithm.
		parsed, err := jose.ParseSignedCompact(ours, JOSEAlgorithms())
		if err != nil {
			t.Fatal(err)
		}
		got, err := parsed.Verify(NewOpaqueVerifier(k.Public()))
		if err != nil || string(got) != tc.payload {
			t.Fatalf("go-jose Verify: %q, %v", got, err)
		}
		if _, err := parsed.Verify(NewOpaqueVerifier(newKey(t).Public())); err == nil {
			t.Fatal("go-jose verified with another key")
		}
		det, err := jose.ParseDetached(oursDetached, []byte(tc.payload), JOSEAlgorithms())
		if err != nil {
			t.Fatal(err)
		}
		if err := det.DetachedVerify([]byte(tc.payload), NewOpaqueVerifier(k.Public())); err != nil {
			t.Fatalf("go-jose DetachedVerify: %v", err)
		}
		// And we verify go-jose's.
		if p, _, err := VerifyJWS(theirs, keyRing{s.kid: k.Public()}.lookup); err != nil || string(p) != tc.payload {
			t.Fatalf("VerifyJWS(go-jose's JWS): %v", err)
		}
	}
	// go-jose with our algorithm list refuses everything else.
	es := craftJWS(t, k, `{"alg":"ES256","kid":"k"}`, []byte("p"))
	if _, err := jose.ParseSignedCompact(es, JOSEAlgorithms()); err == nil {
		t.Fatal("go-jose accepted ES256 with JOSEAlgorithms()")
	}
}

func TestJWSHeaderLimits(t *testing.T) {
	k := newKey(t)
	ring := keyRing{"k1": k.Public()}
	members := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"alg":"SM2","kid":"k1"`)
		for i := range n - 2 {
			b.WriteString(`,"m` + strings.Repeat("x", i) + `":1`)
		}
		b.WriteString("}")
		return b.String()
	}
	if _, _, err := VerifyJWS(craftJWS(t, k, members(64), []byte("p")), ring.lookup); err != nil {
		t.Errorf("64 members: %v", err)
	}
	if _, _, err := VerifyJWS(craftJWS(t, k, members(65), []byte("p")), ring.lookup); !errors.Is(err, ErrMalformed) {
		t.Errorf("65 members: err = %v, want ErrMalformed", err)
	}
	// Escaped names are compared after unescaping.
	if _, _, err := VerifyJWS(craftJWS(t, k, `{"alg":"SM2","kid":"k1","\u006bid":"k1"}`, []byte("p")), ring.lookup); !errors.Is(err, ErrMalformed) {
		t.Errorf("escaped duplicate kid: err = %v, want ErrMalformed", err)
	}
	// White space and escapes that encoding/json accepts are fine.
	_, h, err := VerifyJWS(craftJWS(t, k, " {\n \"alg\" : \"SM\\u0032\" ,\t\"kid\":\"k1\", \"typ\":\"a\\/b\", \"x\":[{\"y\":\"}\\\"]\"}] }\r\n", []byte("p")), ring.lookup)
	if err != nil || h.Typ != "a/b" || h.Alg != "SM2" {
		t.Errorf("spaced header: %+v, %v", h, err)
	}
}

// Keys and signers are shared across goroutines in the server; run under
// -race this exercises gmsm's per-key caches through this package.
func TestConcurrentUse(t *testing.T) {
	k := newKey(t)
	s := NewSoftwareSigner("k", k)
	ring := keyRing{"k": k.Public()}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 20 {
				msg := []byte{byte(g), byte(i)}
				compact, err := SignJWS(s, msg, nil)
				if err != nil {
					errs <- err
					return
				}
				if p, _, err := VerifyJWS(compact, ring.lookup); err != nil || !bytes.Equal(p, msg) {
					errs <- errors.Join(errors.New("round trip failed"), err)
					return
				}
				_ = Thumbprint(k.Public())
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
