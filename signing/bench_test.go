package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	jose "github.com/go-jose/go-jose/v4"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

// benchPayload is a typical signed document: a certificate's metadata
// (469 bytes of JSON).
var benchPayload = []byte(`{"id":"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",` +
	`"type_code":"11100000000013338W032","number":"沪2026001234","version":"001",` +
	`"issuer":{"name":"上海市某某局","uscc":"11310000002420016X"},"issued_at":"2026-01-05T08:00:00Z",` +
	`"valid_from":"2026-01-05","valid_until":"2031-01-04","area_code":"310101",` +
	`"holder":{"kind":"person","name":"张三","id_type":"111","id_number":"11010519491231002X"},` +
	`"fields":{"level":"A","scope":"餐饮服务"}}`)

// The benchmarks compare, in one run on one machine: this package's layers
// (raw Sign/Verify, the Signer, the JWS), the bare gmsm calls they wrap,
// tjfoc/gmsm, and Go's ECDSA P-256 as a familiar baseline. Every SM2 variant
// hashes Z_A ‖ message; ECDSA hashes the message with SHA-256.
// "emmansun/input" signs the JWS signing input of benchPayload — the bytes
// SignJWS actually signs — so that JWS/emmansun-input isolates the cost of
// the JWS layer itself.

func benchFixture(b *testing.B) (*PrivateKey, Signer, string, []byte) {
	k, err := GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s := NewSoftwareSigner("dept-2026-01", k)
	compact, err := SignJWS(s, benchPayload, map[string]any{"typ": "suishen-cert+jws"})
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(compact[:strings.LastIndexByte(compact, '.')])
	return k, s, compact, input
}

func BenchmarkSign(b *testing.B) {
	k, s, _, input := benchFixture(b)
	extra := map[string]any{"typ": "suishen-cert+jws"}
	b.Run("emmansun", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sm2.SignASN1(rand.Reader, k.k, benchPayload, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("emmansun/input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sm2.SignASN1(rand.Reader, k.k, input, sm2.DefaultSM2SignerOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Sign(rand.Reader, k, benchPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Signer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sign(benchPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JWS", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SignJWS(s, benchPayload, extra); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JWS-gojose", func(b *testing.B) {
		opts := (&jose.SignerOptions{}).WithType("suishen-cert+jws")
		b.ReportAllocs()
		for b.Loop() {
			js, err := jose.NewSigner(jose.SigningKey{Algorithm: AlgSM2, Key: NewOpaqueSigner(s)}, opts)
			if err != nil {
				b.Fatal(err)
			}
			obj, err := js.Sign(benchPayload)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := obj.CompactSerialize(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tjfoc", func(b *testing.B) {
		tk := toTjfoc(b, k)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tk.Sign(rand.Reader, benchPayload, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ecdsa-P256", func(b *testing.B) {
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		b.ReportAllocs()
		for b.Loop() {
			h := sha256.Sum256(benchPayload)
			if _, err := ecdsa.SignASN1(rand.Reader, ek, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	k, _, compact, input := benchFixture(b)
	pub := k.Public()
	raw, _ := Sign(rand.Reader, k, benchPayload)
	der, _ := RawToDER(raw)
	inputDER, _ := RawToDER(mustDecode(b, compact[len(input)+1:]))
	ring := keyRing{"dept-2026-01": pub}
	b.Run("emmansun", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !sm2.VerifyASN1WithSM2(pub.k, nil, benchPayload, der) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("emmansun/input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !sm2.VerifyASN1WithSM2(pub.k, nil, input, inputDER) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !Verify(pub, benchPayload, raw) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("JWS", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := VerifyJWS(compact, ring.lookup); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JWS-gojose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			obj, err := jose.ParseSignedCompact(compact, JOSEAlgorithms())
			if err != nil {
				b.Fatal(err)
			}
			pub, err := ring.lookup(obj.Signatures[0].Protected.KeyID)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := obj.Verify(NewOpaqueVerifier(pub)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tjfoc", func(b *testing.B) {
		tk := toTjfoc(b, k)
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		b.ReportAllocs()
		for b.Loop() {
			if !tjsm2.Sm2Verify(&tk.PublicKey, benchPayload, nil, r, s) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("ecdsa-P256", func(b *testing.B) {
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		h := sha256.Sum256(benchPayload)
		sig, _ := ecdsa.SignASN1(rand.Reader, ek, h[:])
		b.ReportAllocs()
		for b.Loop() {
			h := sha256.Sum256(benchPayload)
			if !ecdsa.VerifyASN1(&ek.PublicKey, h[:], sig) {
				b.Fatal("invalid")
			}
		}
	})
}

func BenchmarkParseJWS(b *testing.B) {
	_, _, compact, _ := benchFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseJWS(compact); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelfTest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := SelfTest(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealOpen(b *testing.B) {
	mk := make([]byte, MasterKeySize)
	k, _, _, _ := benchFixture(b)
	d := k.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := Seal(mk, "dept-2026-01", d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Open(mk, "dept-2026-01", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
