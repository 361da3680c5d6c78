package issuer

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

// The benchmarks of docs/performance.md ("Certificates (issuer package)").

func BenchmarkValidateRequest(b *testing.B) {
	for _, code := range []string{TypeFoodBusinessLicence, TypeResidentIDCard, TypeBirthCertificate} {
		ct := seedType(b, code)
		r := sampleRequest(b, ct)
		if errs := ValidateRequest(ct, r, testNow); errs != nil {
			b.Fatal(errs)
		}
		b.Run(ct.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ValidateRequest(ct, r, testNow) != nil {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkBuildAndSign splits issuing one certificate (食品经营许可证, a
// 13-field enterprise licence, ~1.8 KB of JSON) into its halves:
//
//	build  — BuildDocument + json.Marshal (the payload)
//	sign   — signing.SignJWS of that payload (header, base64url, SM2)
//	sm2    — signing.Sign of the JWS signing input alone (the SM2 core)
//	total  — BuildDocument + SignDocument, what the issuer does per certificate
func BenchmarkBuildAndSign(b *testing.B) {
	ct := seedType(b, TypeFoodBusinessLicence)
	r := sampleRequest(b, ct)
	id := sampleID(b, ct, 123456, 1)
	k, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s := signing.NewSoftwareSigner("dept-bench", k)
	issued := time.Date(2026, 3, 15, 2, 30, 0, 0, time.UTC)
	build := func() []byte {
		d := BuildDocument(ct, testIssuerName, testIssuerUSCC, id, r, issued, "", "sl-2026-0001", 4711)
		p, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	payload := build()
	jws, err := signing.SignJWS(s, payload, map[string]any{"typ": DocumentTyp})
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(jws[:strings.LastIndexByte(jws, '.')])
	b.Logf("payload %d bytes, JWS %d bytes", len(payload), len(jws))

	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			build()
		}
	})
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := signing.SignJWS(s, payload, map[string]any{"typ": DocumentTyp}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sm2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := signing.Sign(rand.Reader, k, input); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("total", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := BuildDocument(ct, testIssuerName, testIssuerUSCC, id, r, issued, "", "sl-2026-0001", 4711)
			if _, err := SignDocument(s, d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("total-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d := BuildDocument(ct, testIssuerName, testIssuerUSCC, id, r, issued, "", "sl-2026-0001", 4711)
				if _, err := SignDocument(s, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkVerifyDocument(b *testing.B) {
	ct := seedType(b, TypeFoodBusinessLicence)
	s := newSigner(b, "dept-bench")
	d := BuildDocument(ct, testIssuerName, testIssuerUSCC, sampleID(b, ct, 1, 1), sampleRequest(b, ct), testNow, "", "sl", 1)
	jws, err := SignDocument(s, d)
	if err != nil {
		b.Fatal(err)
	}
	lookup := lookupFor(s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyDocument(jws, lookup); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusListEncode encodes a 131,072-entry list: empty, with 1 %
// of entries set (a realistic revocation rate), and with every entry random
// (the worst case for size).
func BenchmarkStatusListEncode(b *testing.B) {
	for _, name := range []string{"empty", "1pct", "random"} {
		l := benchList(name)
		enc, _ := l.Encode()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(MinStatusListSize / 4))
			for b.Loop() {
				if _, err := l.Encode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "encoded-chars")
		})
		b.Run(name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(MinStatusListSize / 4))
			for b.Loop() {
				if _, err := DecodeStatusList(name, enc, MinStatusListSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchList returns the same list on every run: empty, 1 % of entries set,
// or every entry set, at random from a fixed seed.
func benchList(name string) *StatusList {
	frac := map[string]float64{"empty": 0, "1pct": 0.01, "random": 1}[name]
	rng := mrand.New(mrand.NewPCG(7, 7))
	l := NewStatusList(name, MinStatusListSize)
	for i := range MinStatusListSize {
		if rng.Float64() < frac {
			l.Set(i, uint8(1+rng.IntN(3)))
		}
	}
	return l
}

// BenchmarkStatusListGzipLevel compresses the 1 % list at other gzip levels,
// the measurement behind Encode's choice of BestSpeed.
func BenchmarkStatusListGzipLevel(b *testing.B) {
	bits := benchList("1pct").bits
	for _, lv := range []struct {
		name  string
		level int
	}{{"best-speed", gzip.BestSpeed}, {"default", gzip.DefaultCompression}, {"best-compression", gzip.BestCompression}} {
		level := lv.level
		b.Run(lv.name, func(b *testing.B) {
			var buf bytes.Buffer
			w, _ := gzip.NewWriterLevel(&buf, level)
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(bits)
				w.Close()
			}
			b.ReportMetric(float64(buf.Len()), "gzip-bytes")
		})
	}
}

func BenchmarkShuffledIndex(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ShuffledIndex(key, n%MinStatusListSize, MinStatusListSize); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

func BenchmarkParseJSONL(b *testing.B) {
	line := []byte(jsonlLineB(b, sampleRequest(b, seedType(b, TypeFoodBusinessLicence))))
	const rows = 1000
	data := []byte(strings.Repeat(string(line), rows))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := ParseJSONL(strings.NewReader(string(data)), func(_ int, _ IssueRequest, err error) error {
			if err != nil {
				return err
			}
			n++
			return nil
		}); err != nil || n != rows {
			b.Fatal(err, n)
		}
	}
}

func jsonlLineB(b *testing.B, r IssueRequest) string {
	m := map[string]any{
		"type_code": r.TypeCode, "number": r.Number, "holder": r.Holder, "valid_from": FormatDate(r.ValidFrom),
		"valid_until": FormatDate(*r.ValidUntil), "long_term": r.LongTerm, "area_code": r.AreaCode, "fields": r.Fields,
	}
	out, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return string(out) + "\n"
}
