package api

import (
	"strconv"
	"testing"
	"time"
)

// TestKeyedLimiterBounded: a flood of distinct keys never grows the table
// past its bound, and a key's bucket empties after its burst.
func TestKeyedLimiterBounded(t *testing.T) {
	k := keyedLimiter{every: time.Second, burst: 2}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxLimiterKeys + 1000 {
		k.take(strconv.Itoa(i), now)
	}
	if n := len(k.buckets); n > maxLimiterKeys {
		t.Fatalf("%d buckets", n)
	}
	if !k.take("a", now) || !k.take("a", now) || k.take("a", now) || !k.empty("a", now) {
		t.Fatal("burst of 2 not enforced")
	}
	if k.empty("a", now.Add(time.Second)) {
		t.Fatal("no refill after a second")
	}
}
