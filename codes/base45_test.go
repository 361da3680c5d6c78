package codes

import (
	"bytes"
	"testing"
)

// RFC 9285 §4.3 and §4.4 examples.
var base45Vectors = []struct{ raw, enc string }{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
	{"\x00", "00"},
	{"\xff", "U5"},
	{"\xff\xff", "FGW"},
}

func TestBase45Vectors(t *testing.T) {
	for _, v := range base45Vectors {
		if got := string(appendBase45(nil, []byte(v.raw))); got != v.enc {
			t.Errorf("encode %q = %q, want %q", v.raw, got, v.enc)
		}
		got, ok := appendDecodeBase45(nil, v.enc)
		if !ok || string(got) != v.raw {
			t.Errorf("decode %q = %q %v", v.enc, got, ok)
		}
		if base45EncodedLen(len(v.raw)) != len(v.enc) {
			t.Errorf("EncodedLen(%d)", len(v.raw))
		}
	}
	for _, bad := range []string{
		"GGW",  // 65536
		"V5",   // 256
		":::",  // 44+44·45+44·2025 > 65535
		"0",    // length ≡ 1 mod 3
		"0000", // length ≡ 1 mod 3
		"bb8",  // lower case
		"BB=",  // not in the alphabet
		"BB8\n",
	} {
		if _, ok := appendDecodeBase45(nil, bad); ok {
			t.Errorf("decoded %q", bad)
		}
	}
}

// FuzzBase45: decoding is the exact inverse of encoding, and a text that
// decodes re-encodes to itself (one text per byte string).
func FuzzBase45(f *testing.F) {
	for _, v := range base45Vectors {
		f.Add([]byte(v.raw), v.enc)
	}
	f.Fuzz(func(t *testing.T, raw []byte, text string) {
		enc := appendBase45(nil, raw)
		dec, ok := appendDecodeBase45(nil, string(enc))
		if !ok || !bytes.Equal(dec, raw) {
			t.Fatalf("round trip of %x", raw)
		}
		if b, ok := appendDecodeBase45(nil, text); ok {
			if string(appendBase45(nil, b)) != text {
				t.Fatalf("%q decodes but is not canonical", text)
			}
		}
	})
}
