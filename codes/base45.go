package codes

// Base45 (RFC 9285). The alphabet is exactly the 45 characters of the QR
// alphanumeric mode, so a Base45 text is encoded at 5.5 bits per character
// in a QR symbol.

const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// base45Value maps a byte to its Base45 value, or 0xff.
var base45Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = byte(i)
	}
	return t
}()

// base45EncodedLen is the Base45 length of n bytes.
func base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

// appendBase45 appends the Base45 encoding of src to dst.
func appendBase45(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := uint(src[0])<<8 | uint(src[1])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := uint(src[0])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return dst
}

// appendDecodeBase45 appends the decoding of s to dst. It decodes strictly: every character in the alphabet, length
// not ≡ 1 (mod 3), each triple ≤ 65535 and a final pair ≤ 255. Under these
// rules every byte string has exactly one encoding, so decoding is
// canonical. It returns false on any violation.
func appendDecodeBase45(out []byte, s string) ([]byte, bool) {
	if len(s)%3 == 1 {
		return nil, false
	}
	for len(s) >= 3 {
		c, d, e := base45Value[s[0]], base45Value[s[1]], base45Value[s[2]]
		if c == 0xff || d == 0xff || e == 0xff {
			return nil, false
		}
		n := uint(c) + uint(d)*45 + uint(e)*2025
		if n > 0xffff {
			return nil, false
		}
		out = append(out, byte(n>>8), byte(n))
		s = s[3:]
	}
	if len(s) == 2 {
		c, d := base45Value[s[0]], base45Value[s[1]]
		if c == 0xff || d == 0xff {
			return nil, false
		}
		n := uint(c) + uint(d)*45
		if n > 0xff {
			return nil, false
		}
		out = append(out, byte(n))
	}
	return out, true
}
