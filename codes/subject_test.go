package codes

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"github.com/suishen/suishen/ident"
)

func TestHMACSM3MatchesStandardHMAC(t *testing.T) {
	for _, key := range [][]byte{{}, []byte("key"), bytes.Repeat([]byte{7}, 64), bytes.Repeat([]byte{9}, 100)} {
		for _, msg := range [][]byte{nil, []byte("SSP1abcdefgh"), bytes.Repeat([]byte("x"), 200)} {
			m := hmac.New(sm3.New, key)
			m.Write(msg)
			want := m.Sum(nil)
			got := hmacSM3(key, msg)
			if !bytes.Equal(got[:], want) {
				t.Fatalf("key %d msg %d: %x, want %x", len(key), len(msg), got, want)
			}
		}
	}
}

func TestSubject(t *testing.T) {
	refs := []uint64{0, 1, 42, 1<<64 - 1}
	seen := map[string]bool{}
	for _, ref := range refs {
		for range 50 {
			s, err := NewSubject(subjectKey, ref, nil)
			if err != nil || len(s) != SubjectSize {
				t.Fatal(err)
			}
			if seen[string(s)] {
				t.Fatal("subject repeated: codes of one holder would be linkable")
			}
			seen[string(s)] = true
			got, err := OpenSubject(subjectKey, s)
			if err != nil || got != ref {
				t.Fatalf("OpenSubject = %d, %v; want %d", got, err, ref)
			}
			// Another key opens it to something else.
			other, _ := OpenSubject([]byte("another subject key, 32 bytes..."), s)
			if other == ref {
				t.Fatal("subject opened under the wrong key")
			}
		}
	}
	// The same nonce under the same key gives the same subject; the
	// reference half differs between holders by exactly ref XOR.
	a, _ := NewSubject(subjectKey, 1, &fixedReader{})
	b, _ := NewSubject(subjectKey, 2, &fixedReader{})
	if !bytes.Equal(a[:8], b[:8]) || a[15]^b[15] != 3 {
		t.Fatalf("construction: %x %x", a, b)
	}
	if _, err := NewSubject([]byte("short"), 1, nil); !errors.Is(err, ErrSubjectKey) {
		t.Fatal(err)
	}
	if _, err := OpenSubject(subjectKey, make([]byte, 15)); err == nil {
		t.Fatal("short subject opened")
	}
	if _, err := OpenSubject(nil, make([]byte, 16)); !errors.Is(err, ErrSubjectKey) {
		t.Fatal(err)
	}
	if _, err := NewSubject(subjectKey, 1, strings.NewReader("abc")); err == nil {
		t.Fatal("short random accepted")
	}
}

// TestMaskName: the one masking rule (ident.MaskName) always fits a
// personal code's display name.
func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"张三":         "张*",
		"欧阳娜娜":       "欧**",
		"王":          "*",
		"":           "",
		"  李四  ":     "李*",
		"\u202e张三丰":  "张**",
		"Zhang San":  "Z**",
		"阿卜杜热合曼·买买提": "阿**",
	} {
		got := ident.MaskName(in)
		if got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
		if len(got) > kindRules[Personal].maxName || !displayText(got) {
			t.Errorf("MaskName(%q) does not fit a personal code", in)
		}
	}
}

func TestUseCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		u, err := NewUseCode(nil)
		if err != nil || len(u) != UseCodeLen || !useCodeOK(u) {
			t.Fatalf("%q %v", u, err)
		}
		if seen[u] {
			t.Fatal("use code repeated")
		}
		seen[u] = true
		n, err := NormalizeUseCode(strings.ToLower(u[:4]) + "-" + u[4:8] + " " + u[8:])
		if err != nil || n != u {
			t.Fatalf("NormalizeUseCode = %q %v, want %q", n, err, u)
		}
	}
	if n, err := NormalizeUseCode("abcd-efgh-ijkl-mnop"); err != nil || n != "ABCDEFGH1JK1MN0P" {
		t.Fatalf("%q %v", n, err)
	}
	for _, bad := range []string{"", "ABCDE", "ABCDEU", "ABC#EF", strings.Repeat("A", 33)} {
		if _, err := NormalizeUseCode(bad); err == nil {
			t.Errorf("NormalizeUseCode(%q) accepted", bad)
		}
	}
	if _, err := NewUseCode(strings.NewReader("x")); err == nil {
		t.Fatal("short random accepted")
	}
}
