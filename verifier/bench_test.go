package verifier

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/signing"
)

// The benchmarks measure offline verification against its floor, a bare
// SM2 verification of the same signed bytes, in one run:
//
//	go test ./verifier -run '^$' -bench . -benchmem -count 5
//
// docs/performance.md, "## Offline verification (verifier package)",
// reports the figures.

// BenchmarkVerifyPersonalCode is the scanner's hot path: parse, key-hint
// lookup, SM2 verification, key, time and kind checks, the Result.
func BenchmarkVerifyPersonalCode(b *testing.B) {
	f := newFixedFixture(b)
	v := f.verifier()
	text := f.issue(codes.Personal)
	if r := v.VerifyCode(text); r.Result != Valid {
		b.Fatal(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v.VerifyCode(text).Result != Valid {
			b.Fatal("not valid")
		}
	}
}

// BenchmarkRawSM2Verify is the floor: signing.Verify over the very bytes
// the personal code's signature covers.
func BenchmarkRawSM2Verify(b *testing.B) {
	f := newFixedFixture(b)
	c, err := codes.Parse(f.issue(codes.Personal))
	if err != nil {
		b.Fatal(err)
	}
	pub := f.code.Public()
	b.ReportAllocs()
	for b.Loop() {
		if !signing.Verify(pub, c.Signed, c.Signature) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkVerifyOfflineCode adds the status-list lookup (decoded once,
// before the timer).
func BenchmarkVerifyOfflineCode(b *testing.B) {
	f := newFixedFixture(b)
	v := f.verifier()
	text := f.issue(codes.Offline)
	if r := v.VerifyCode(text); r.Result != Valid {
		b.Fatal(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v.VerifyCode(text).Result != Valid {
			b.Fatal("not valid")
		}
	}
}

// BenchmarkVerifyCertificate verifies a 居民身份证 JWS with its status entry.
func BenchmarkVerifyCertificate(b *testing.B) {
	f := newFixedFixture(b)
	v := f.verifier()
	jws := f.certificate(idxGood)
	if r := v.VerifyCertificate(jws); r.Result != Valid {
		b.Fatal(r)
	}
	b.SetBytes(int64(len(jws)))
	b.ReportAllocs()
	for b.Loop() {
		if v.VerifyCertificate(jws).Result != Valid {
			b.Fatal("not valid")
		}
	}
}

// BenchmarkRawSM2VerifyCertificate is the certificate's floor:
// signing.Verify over the same JWS signing input (header.payload).
func BenchmarkRawSM2VerifyCertificate(b *testing.B) {
	f := newFixedFixture(b)
	jws := f.certificate(idxGood)
	i := strings.LastIndexByte(jws, '.')
	input := []byte(jws[:i])
	sig, err := base64.RawURLEncoding.DecodeString(jws[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := f.dept.Public()
	b.SetBytes(int64(len(jws)))
	b.ReportAllocs()
	for b.Loop() {
		if !signing.Verify(pub, input, sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkNew is loading a bundle (anchor signature, key parsing); status
// lists are decoded lazily and not included.
func BenchmarkNew(b *testing.B) {
	f := newFixedFixture(b)
	jws := f.jws()
	anchor := f.anchor.Public()
	opts := Options{Now: func() time.Time { return testNow }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(jws, anchor, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPairedVerifyCodeVsRawVerify alternates VerifyCode (personal) and
// signing.Verify of the same signed bytes inside one loop, timing each with
// the monotonic clock, so that load from other processes on the shared
// machine hits both sides alike. throughput-ratio is raw time ÷ our time:
// the share of raw SM2 verify throughput offline verification keeps.
func BenchmarkPairedVerifyCodeVsRawVerify(b *testing.B) {
	f := newFixedFixture(b)
	v := f.verifier()
	text := f.issue(codes.Personal)
	c, err := codes.Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	pub := f.code.Public()
	var ours, raw time.Duration
	for b.Loop() {
		t0 := time.Now()
		if v.VerifyCode(text).Result != Valid {
			b.Fatal("not valid")
		}
		t1 := time.Now()
		if !signing.Verify(pub, c.Signed, c.Signature) {
			b.Fatal("does not verify")
		}
		t2 := time.Now()
		ours += t1.Sub(t0)
		raw += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Nanoseconds())/n, "ours-ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(raw)/float64(ours), "throughput-ratio")
}
