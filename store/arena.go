package store

import "unsafe"

// Arena holds the bytes of many scanned strings in a few large buffers, so
// that reading a page of ≈ 2 KB signed documents (a full match reads
// thousands a second) costs no allocation per row. A string it returned
// stays valid, and unchanged, until Reset; Reset lets the arena write over
// its last buffer, so a caller resets only when no string of the previous
// use is reachable any more.
type Arena struct {
	buf []byte
}

// arenaChunk is the smallest buffer an arena allocates.
const arenaChunk = 1 << 20

// String copies b into the arena and returns it as a string.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		// A new buffer: the strings in the old one keep it alive, and it is
		// never written again.
		a.buf = make([]byte, 0, max(arenaChunk, 2*cap(a.buf), len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// Reset makes the arena's space reusable: every string it returned before
// may change afterwards.
func (a *Arena) Reset() { a.buf = a.buf[:0] }
