package codes

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// checkParsed holds for every text Parse accepts: the text is canonical
// (re-encoding gives it back), the claims pass the field rules, encoding
// them again gives exactly the signed bytes, and only a golden code
// verifies under the golden key.
func checkParsed(t *testing.T, text string, c *Code) {
	t.Helper()
	if len(text) > MaxTextLen {
		t.Fatalf("accepted %d characters", len(text))
	}
	raw := append(bytes.Clone(c.Signed[len(Domain):]), c.Signature...)
	if again := Prefix + string(appendBase45(nil, raw)); again != text {
		t.Fatalf("not canonical: %q re-encodes to %q", text, again)
	}
	iat := uint64(c.IssuedAt.Unix() - epochUnix)
	life := uint64(c.ExpiresAt.Unix() - c.IssuedAt.Unix())
	if why := check(&c.Claims, iat, life); why != "" {
		t.Fatalf("Parse accepted claims that Issue would refuse: %s", why)
	}
	hint := [KeyHintSize]byte(c.KeyHint)
	enc := appendClaims([]byte(Domain), &c.Claims, &hint, uint32(iat), uint32(life))
	if !bytes.Equal(enc, c.Signed) {
		t.Fatalf("claims re-encode to %x, signed %x", enc, c.Signed)
	}
	_ = c.CheckTime(time.Now(), 30*time.Second)
	_ = c.Expect(Personal)
	if _, err := c.Verify(goldenLookup(t)); err == nil && !isGolden(t, text) {
		t.Fatalf("a text that is not a golden code verifies: %q", text)
	}
}

// FuzzParse feeds arbitrary and mutated texts to Parse: it never panics,
// every error carries a stable reason, oversized input is refused as such,
// and no mutated text verifies.
func FuzzParse(f *testing.F) {
	for _, g := range goldens(f) {
		f.Add(g.text)
		f.Add(g.text[:len(g.text)/2])
		f.Add(g.text[:len(g.text)-3])
		f.Add(strings.Replace(g.text, "SS1:", "SS2:", 1))
		f.Add(g.text[:10] + "0" + g.text[11:])
	}
	for _, s := range []string{"", "SS1:", "SS:", "SS1", "SS01:AB", "SS999:", "HC1:NCFOXN%TS3DH", "SS1:000", "SS1:GGW",
		"SS1:" + strings.Repeat("0", MaxTextLen), strings.Repeat("S", MaxTextLen+1), "SS1:\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(text)
		if err != nil {
			r := Reason(err)
			switch {
			case r == "":
				t.Fatalf("untyped error %v", err)
			case len(text) > MaxTextLen && r != ReasonOversized:
				t.Fatalf("oversized text rejected as %s", r)
			case len(text) <= MaxTextLen && r == ReasonOversized:
				t.Fatalf("text of %d characters called oversized", len(text))
			}
			if c != nil {
				t.Fatal("code and error")
			}
			return
		}
		checkParsed(t, text, c)
	})
}

// FuzzParseVerify starts from the real (golden) codes and edits their
// decoded bytes — so that Base45 stays valid and the field parser and the
// signature check are reached — then checks that nothing but the untouched
// code verifies. edits is read as (position, xor mask, insert/delete)
// triples over the decoded bytes.
func FuzzParseVerify(f *testing.F) {
	gs := goldens(f)
	for i := range gs {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{0, 1, 0})
		f.Add(uint8(i), []byte{1, 0x80, 0})
		f.Add(uint8(i), []byte{13, 0x01, 0})
		f.Add(uint8(i), []byte{14, 0, 1})
		f.Add(uint8(i), []byte{15, 0, 2})
		f.Add(uint8(i), []byte{40, 0xff, 0, 90, 0x10, 0})
	}
	f.Fuzz(func(t *testing.T, which uint8, edits []byte) {
		g := gs[int(which)%len(gs)]
		raw, ok := appendDecodeBase45(nil, strings.TrimPrefix(g.text, Prefix))
		if !ok {
			t.Fatal("golden code does not decode")
		}
		orig := bytes.Clone(raw)
		for len(edits) >= 3 && len(raw) > 0 {
			pos := int(edits[0]) % len(raw)
			switch edits[2] % 4 {
			case 1: // insert
				raw = append(raw[:pos], append([]byte{edits[1]}, raw[pos:]...)...)
			case 2: // delete
				raw = append(raw[:pos], raw[pos+1:]...)
			case 3: // edit a length/varint-sized region: set a big-endian uint16
				if pos+2 <= len(raw) {
					binary.BigEndian.PutUint16(raw[pos:], uint16(edits[1])<<8|uint16(edits[0]))
				}
			default:
				raw[pos] ^= edits[1]
			}
			edits = edits[3:]
		}
		text := Prefix + string(appendBase45(nil, raw))
		c, err := Parse(text)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			if bytes.Equal(raw, orig) {
				t.Fatalf("golden code rejected: %v", err)
			}
			return
		}
		checkParsed(t, text, c)
		if _, err := c.Verify(goldenLookup(t)); (err == nil) != bytes.Equal(raw, orig) {
			t.Fatalf("edited=%v but Verify err=%v", !bytes.Equal(raw, orig), err)
		}
	})
}
