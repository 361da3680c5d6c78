package issuer

import (
	"testing"

	"github.com/suishen/suishen/ident"
)

// TestOpaqueSerial: a permutation (no two n share a serial), 16 digits,
// keyed (another key gives other serials), and neighbours of n are not
// neighbours of the serial; every identifier built on it passes its check.
func TestOpaqueSerial(t *testing.T) {
	key := []byte("0123456789abcdef")
	seen := map[string]int64{}
	adjacent := 0
	var prev int64
	for n := int64(1); n <= 20000; n++ {
		s, err := OpaqueSerial(key, 2026, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != OpaqueSerialLen || s[:4] != "2026" || !allDigits(s) {
			t.Fatalf("serial %q", s)
		}
		if m, dup := seen[s]; dup {
			t.Fatalf("serial %s for both %d and %d", s, m, n)
		}
		seen[s] = n
		v, _ := parseInt(s[4:])
		if d := v - prev; d >= -1000 && d <= 1000 {
			adjacent++
		}
		prev = v
	}
	if adjacent > 5 {
		t.Errorf("%d of 20000 consecutive serials lie within 1000 of each other", adjacent)
	}
	other, _ := OpaqueSerial([]byte("fedcba9876543210"), 2026, 1)
	same, _ := OpaqueSerial(key, 2026, 1)
	if other == same {
		t.Error("the key does not change the serial")
	}
	if s, _ := OpaqueSerial(key, 2027, 1); s[4:] == same[4:] {
		t.Error("the year does not change the permutation")
	}
	id, err := ident.NewCertificateID(TypeResidentIDCard, "11100000000013338W", same, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ident.ParseCertificateID(id.String()); err != nil {
		t.Fatalf("identifier %s: %v", id, err)
	}
	for _, bad := range []struct {
		key  []byte
		year int
		n    int64
	}{{key[:15], 2026, 1}, {key, 999, 1}, {key, 2026, 0}, {key, 2026, 1_000_000_000_000}} {
		if _, err := OpaqueSerial(bad.key, bad.year, bad.n); err == nil {
			t.Errorf("OpaqueSerial(%d bytes, %d, %d) accepted", len(bad.key), bad.year, bad.n)
		}
	}
}

func parseInt(s string) (int64, error) {
	var v int64
	for _, c := range s {
		v = v*10 + int64(c-'0')
	}
	return v, nil
}

func BenchmarkOpaqueSerial(b *testing.B) {
	key, err := NewSerialKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := key.Serial(2026, int64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSequentialSerial(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		_ = Serial(2026, int64(i+1))
	}
}
