package issuer

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

func wantErrCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
}

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestStatusListRoundTrip(t *testing.T) {
	const size = MinStatusListSize
	l := NewStatusList("sl-1", size)
	ref := make([]uint8, size)
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 20000 {
		i, v := rng.IntN(size), uint8(rng.IntN(4))
		if err := l.Set(i, v); err != nil {
			t.Fatal(err)
		}
		ref[i] = v
	}
	for _, i := range []int{0, 1, 2, 3, size - 1} {
		l.Set(i, 3)
		ref[i] = 3
	}
	for i, v := range ref {
		if l.Get(i) != v {
			t.Fatalf("Get(%d) = %d, want %d", i, l.Get(i), v)
		}
	}
	enc, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(enc, "=+/") {
		t.Fatal("not unpadded base64url")
	}
	again, _ := l.Encode()
	if again != enc {
		t.Fatal("encoding is not deterministic")
	}
	back, err := DecodeStatusList("sl-1", enc, size)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ref {
		if back.Get(i) != v {
			t.Fatalf("decoded Get(%d) = %d, want %d", i, back.Get(i), v)
		}
	}
	// The documented bit layout: entry 0 in the two most significant bits.
	b := l.Bytes()
	if b[0]>>6 != 3 || b[len(b)-1]&3 != 3 {
		t.Fatalf("bit layout: first byte %08b, last %08b", b[0], b[len(b)-1])
	}
	l2 := NewStatusList("x", size)
	l2.Set(1, 2)
	if l2.Bytes()[0] != 0b00100000 {
		t.Fatalf("entry 1 = 2 gives %08b", l2.Bytes()[0])
	}
	// Bytes / StatusListFromBytes.
	fb, err := StatusListFromBytes("sl-1", size, l.Bytes())
	if err != nil || fb.Get(size-1) != 3 {
		t.Fatal(err)
	}
	if _, err := StatusListFromBytes("sl-1", size, b[1:]); err == nil {
		t.Fatal("short bytes accepted")
	}
	// An empty list compresses to almost nothing.
	empty, _ := NewStatusList("e", size).Encode()
	if len(empty) > 200 {
		t.Errorf("empty list encodes to %d characters", len(empty))
	}
}

func TestStatusListBounds(t *testing.T) {
	l := NewStatusList("sl", MinStatusListSize)
	for _, i := range []int{-1, MinStatusListSize} {
		wantErrCode(t, l.Set(i, 1), CodeInvalidArgument)
		if _, ok := l.Lookup(i); ok {
			t.Errorf("Lookup(%d) ok", i)
		}
	}
	wantErrCode(t, l.Set(0, 4), CodeInvalidArgument)
	if v, ok := l.Lookup(5); !ok || v != 0 {
		t.Error("Lookup(5)")
	}
	for _, size := range []int{0, MinStatusListSize - 4, MinStatusListSize + 2, MaxStatusListSize + 4} {
		wantErrCode(t, CheckStatusListSize(size), CodeInvalidArgument)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewStatusList(%d) did not panic", size)
				}
			}()
			NewStatusList("x", size)
		}()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Get out of range did not panic")
			}
		}()
		l.Get(MinStatusListSize)
	}()
}

func TestDecodeStatusListRejects(t *testing.T) {
	const size = MinStatusListSize
	n := size / 4
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	good := gz(t, make([]byte, n))

	// A zip bomb: 64 MiB of zeros compress to ~64 KiB; decoding must stop
	// after size/4+1 bytes of output.
	var bomb bytes.Buffer
	w, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 64 {
		w.Write(zero)
	}
	w.Close()
	// Within the encoded-length cap for a larger list, so decompression is
	// really attempted.
	bigSize := MaxStatusListSize
	start := time.Now()
	_, err := DecodeStatusList("x", enc(bomb.Bytes()), bigSize)
	wantErrCode(t, err, CodeTooLarge)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("bomb took %v", d)
	}
	// A modest bomb for the minimum size: one byte too many.
	_, err = DecodeStatusList("x", enc(gz(t, make([]byte, n+1))), size)
	wantErrCode(t, err, CodeTooLarge)

	// Too long before decoding.
	_, err = DecodeStatusList("x", strings.Repeat("A", maxEncodedLen(size)+1), size)
	wantErrCode(t, err, CodeTooLarge)

	for name, s := range map[string]string{
		"short":         enc(gz(t, make([]byte, n-1))),
		"empty":         "",
		"padding":       base64.URLEncoding.EncodeToString(good),
		"std alphabet":  strings.ReplaceAll(strings.ReplaceAll(enc(gz(t, bytes.Repeat([]byte{0xfb, 0xff}, n/2))), "-", "+"), "_", "/"),
		"not gzip":      enc(make([]byte, 64)),
		"truncated":     enc(good[:len(good)-4]),
		"bad crc":       enc(append(append([]byte{}, good[:len(good)-8]...), 1, 2, 3, 4, 0, 0, 2, 0)),
		"two members":   enc(append(append([]byte{}, good...), gz(t, nil)...)),
		"trailing data": enc(append(append([]byte{}, good...), 0)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeStatusList("x", s, size)
			wantErrCode(t, err, CodeMalformed)
		})
	}
	_, err = DecodeStatusList("x", enc(good), 5)
	wantErrCode(t, err, CodeInvalidArgument)
	if _, err := DecodeStatusList("x", enc(good), size); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func TestSignVerifyStatusList(t *testing.T) {
	s := newSigner(t, "anchor-1")
	l := NewStatusList("sl-2026-0001", MinStatusListSize)
	l.Set(4711, EntryRevoked)
	l.Set(42, EntrySuspended)
	issued := time.Date(2026, 3, 15, 2, 0, 0, 987, time.UTC)
	p, err := NewStatusListPayload(l, issued, issued.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := SignStatusList(s, p)
	if err != nil {
		t.Fatal(err)
	}
	hdr, payload, _ := signing.ParseJWS(jws)
	if hdr.Typ != StatusListTyp {
		t.Fatalf("typ %q", hdr.Typ)
	}
	for _, want := range []string{`"id":"sl-2026-0001"`, `"purpose":"certificate-status"`, `"size":131072`, `"bits_per_entry":2`, `"issued_at":"2026-03-15T02:00:00Z"`, `"valid_until":"2026-03-15T03:00:00Z"`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("payload lacks %s: %s", want, payload)
		}
	}
	gp, gl, err := VerifyStatusList(jws, lookupFor(s))
	if err != nil {
		t.Fatal(err)
	}
	if gp.ID != l.ID || gl.ID != l.ID || gl.Get(4711) != EntryRevoked || gl.Get(42) != EntrySuspended || gl.Get(43) != EntryGood {
		t.Fatalf("verified list differs: %+v", gp)
	}
	// Tampering.
	b := []byte(jws)
	b[len(b)/2] ^= 1
	if _, _, err := VerifyStatusList(string(b), lookupFor(s)); err == nil {
		t.Fatal("tampered list verified")
	}
	// A certificate JWS is not a status list.
	doc, _ := SignDocument(s, sampleDocument(t, seedType(t, TypeBusinessLicence), 1))
	_, _, err = VerifyStatusList(doc, lookupFor(s))
	wantErrCode(t, err, CodeWrongType)
	// Bad payloads are refused on signing and on verifying.
	for name, mutate := range map[string]func(*StatusListPayload){
		"bits":     func(p *StatusListPayload) { p.Bits = 1 },
		"purpose":  func(p *StatusListPayload) { p.Purpose = "revocation" },
		"id":       func(p *StatusListPayload) { p.ID = "" },
		"validity": func(p *StatusListPayload) { p.ValidUntil = p.IssuedAt },
		"size":     func(p *StatusListPayload) { p.Size = MinStatusListSize * 2 },
		"list":     func(p *StatusListPayload) { p.EncodedList = p.EncodedList[:10] },
	} {
		t.Run(name, func(t *testing.T) {
			bad := p
			mutate(&bad)
			if _, err := SignStatusList(s, bad); err == nil {
				t.Fatal("signed")
			}
			raw, _ := json.Marshal(bad)
			j, _ := signing.SignJWS(s, raw, map[string]any{"typ": StatusListTyp})
			if _, _, err := VerifyStatusList(j, lookupFor(s)); err == nil {
				t.Fatal("verified")
			}
		})
	}
}

func TestShuffledIndex(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, size := range []int{1, 2, 3, 1000, MinStatusListSize} {
		seen := make([]bool, size)
		sequential := 0
		for n := range size {
			i, err := ShuffledIndex(key, n, size)
			if err != nil {
				t.Fatal(err)
			}
			if i < 0 || i >= size || seen[i] {
				t.Fatalf("size %d: n=%d gives %d (repeat or out of range)", size, n, i)
			}
			seen[i] = true
			if i == n {
				sequential++
			}
		}
		if size >= 1000 && sequential > size/100 {
			t.Errorf("size %d: %d fixed points, not shuffled", size, sequential)
		}
	}
	// Deterministic per key, different across keys.
	a, _ := ShuffledIndex(key, 5, MinStatusListSize)
	b, _ := ShuffledIndex(key, 5, MinStatusListSize)
	key2 := append([]byte{}, key...)
	key2[0] ^= 1
	diff := 0
	for n := range 64 {
		x, _ := ShuffledIndex(key, n, MinStatusListSize)
		y, _ := ShuffledIndex(key2, n, MinStatusListSize)
		if x != y {
			diff++
		}
	}
	if a != b || diff < 60 {
		t.Errorf("determinism %d/%d, %d of 64 differ across keys", a, b, diff)
	}
	for _, tc := range []struct {
		key     []byte
		n, size int
	}{{key[:15], 0, 10}, {key, -1, 10}, {key, 10, 10}, {key, 0, 0}, {key, 0, MaxStatusListSize + 1}} {
		_, err := ShuffledIndex(tc.key, tc.n, tc.size)
		wantErrCode(t, err, CodeInvalidArgument)
	}
}
