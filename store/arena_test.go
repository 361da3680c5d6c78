package store

import (
	"strings"
	"testing"
)

// TestArena: strings stay intact while the arena grows into new buffers,
// and a Reset reuses the last buffer without an allocation.
func TestArena(t *testing.T) {
	var a Arena
	var got []string
	var want []string
	for i := 0; i < 3000; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), 700+i%9)
		want = append(want, s)
		got = append(got, a.String([]byte(s)))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d changed", i)
		}
	}
	big := strings.Repeat("x", 3<<20)
	if a.String([]byte(big)) != big || a.String(nil) != "" {
		t.Fatal("a string larger than a chunk")
	}
	a.Reset()
	allocs := testing.AllocsPerRun(100, func() {
		a.Reset()
		for i := 0; i < 100; i++ {
			_ = a.String([]byte("0123456789abcdef"))
		}
	})
	if allocs != 0 {
		t.Fatalf("a reused arena allocated %.0f times", allocs)
	}
}
