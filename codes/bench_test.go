package codes

import (
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

// Benchmarks. Compare the pairs within one run:
//
//	BenchmarkIssuePersonal / BenchmarkRawSM2Sign   — target ≥ 85 % of raw throughput
//	BenchmarkParseVerify   / BenchmarkRawSM2Verify
//	BenchmarkPaired…       — both sides alternated in one loop (robust to load)
//
// go test ./codes -run '^$' -bench . -benchmem -count 5

// BenchmarkIssuePersonal is the full Issue path for a personal code:
// claims check, encoding, SM2 signature, Base45 text.
func BenchmarkIssuePersonal(b *testing.B) {
	s := testSigner(b, "bench")
	c := sampleClaims(b, Personal)
	if _, err := Issue(s, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(s, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssuePersonalWithSubject adds the per-code pseudonym the server
// derives (NewSubject: 8 random bytes and one HMAC-SM3).
func BenchmarkIssuePersonalWithSubject(b *testing.B) {
	s := testSigner(b, "bench")
	c := sampleClaims(b, Personal)
	b.ReportAllocs()
	for b.Loop() {
		subj, err := NewSubject(subjectKey, 42, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.Subject = subj
		if _, err := Issue(s, c); err != nil {
			b.Fatal(err)
		}
	}
}

// personalSigned returns the signed bytes of a sample personal code: the
// message the raw baselines sign and verify.
func personalSigned(b *testing.B, s signing.Signer) *Code {
	c, err := Parse(mustIssue(b, s, sampleClaims(b, Personal)))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkRawSM2Sign is the baseline: the same signer signing a message of
// the same length as a personal code's signed bytes.
func BenchmarkRawSM2Sign(b *testing.B) {
	s := testSigner(b, "bench")
	msg := personalSigned(b, s).Signed
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseVerify is what an offline verifier does per scan: Parse
// and Verify with a hint lookup (time and status checks are negligible).
func BenchmarkParseVerify(b *testing.B) {
	s := testSigner(b, "bench")
	text := mustIssue(b, s, sampleClaims(b, Personal))
	lookup := KeysByHint(s.Public(), testKey(b, "other").Public())
	b.ReportAllocs()
	for b.Loop() {
		c, err := Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Verify(lookup); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawSM2Verify is the baseline: signing.Verify of the same message
// and signature.
func BenchmarkRawSM2Verify(b *testing.B) {
	s := testSigner(b, "bench")
	c := personalSigned(b, s)
	pub := s.Public()
	b.ReportAllocs()
	for b.Loop() {
		if !signing.Verify(pub, c.Signed, c.Signature) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkParse is Parse alone (no cryptography).
func BenchmarkParse(b *testing.B) {
	text := goldenText(b, Personal)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPNG renders a personal code as a 300×300 PNG.
func BenchmarkPNG(b *testing.B) {
	text := goldenText(b, Personal)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PNG(text, 300); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSVG renders a personal code as SVG.
func BenchmarkSVG(b *testing.B) {
	text := goldenText(b, Personal)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SVG(text); err != nil {
			b.Fatal(err)
		}
	}
}

// The paired benchmarks alternate the two operations inside one loop and
// time each with the monotonic clock, so that load from other processes on
// a shared machine hits both sides alike. They report each side's ns/op
// and the throughput ratio (raw time ÷ our time; ≥ 0.85 is the target for
// issuing).

// BenchmarkPairedIssueVsRawSign alternates Issue (personal) and the raw
// signature of a message of the same length.
func BenchmarkPairedIssueVsRawSign(b *testing.B) {
	s := testSigner(b, "bench")
	c := sampleClaims(b, Personal)
	msg := personalSigned(b, s).Signed
	var ours, raw time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := Issue(s, c); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := s.Sign(msg); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		ours += t1.Sub(t0)
		raw += t2.Sub(t1)
	}
	reportPair(b, ours, raw)
}

// BenchmarkPairedParseVerifyVsRawVerify alternates Parse+Verify and
// signing.Verify of the same message and signature.
func BenchmarkPairedParseVerifyVsRawVerify(b *testing.B) {
	s := testSigner(b, "bench")
	text := mustIssue(b, s, sampleClaims(b, Personal))
	lookup := KeysByHint(s.Public(), testKey(b, "other").Public())
	ref := mustParse(b, text)
	pub := s.Public()
	var ours, raw time.Duration
	for b.Loop() {
		t0 := time.Now()
		c, err := Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Verify(lookup); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if !signing.Verify(pub, ref.Signed, ref.Signature) {
			b.Fatal("verify")
		}
		t2 := time.Now()
		ours += t1.Sub(t0)
		raw += t2.Sub(t1)
	}
	reportPair(b, ours, raw)
}

func reportPair(b *testing.B, ours, raw time.Duration) {
	n := float64(b.N)
	b.ReportMetric(float64(ours.Nanoseconds())/n, "ours-ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(raw)/float64(ours), "throughput-ratio")
}
