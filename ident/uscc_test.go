package ident

import (
	"strings"
	"testing"
)

var validUSCCs = []string{
	"91350100M000100Y43", // GB 32100 sample
	"11430000006122244L", // issuers and defining agencies in the published GB/T 36904 identifiers
	"11220000013544541J",
	"11110000000021135M",
	"11100000000013338W",
}

func TestValidateUSCC(t *testing.T) {
	tests := []struct {
		name, in, code, detail string
	}{
		{"sample", "91350100M000100Y43", "", ""},
		{"agency 1143", "11430000006122244L", "", ""},
		{"agency 1122", "11220000013544541J", "", ""},
		{"agency 1111", "11110000000021135M", "", ""},
		{"agency 1110", "11100000000013338W", "", ""},
		{"empty", "", CodeLength, "not 0"},
		{"17 chars", "91350100M000100Y4", CodeLength, "not 17"},
		{"19 chars", "91350100M000100Y433", CodeLength, "not 19"},
		{"surrounding space", " 91350100M000100Y43", CodeLength, ""},
		{"lower case letter", "91350100m000100Y43", CodeCharset, "Use upper-case letters."},
		{"lower case check", "11100000000013338w", CodeCharset, "Use upper-case letters."},
		{"I", "91350100I000100Y43", CodeCharset, `"I"`},
		{"O", "91350100O000100Y43", CodeCharset, `"O"`},
		{"Z", "91350100Z000100Y43", CodeCharset, `"Z"`},
		{"S", "91350100S000100Y43", CodeCharset, `"S"`},
		{"V", "91350100V000100Y43", CodeCharset, `"V"`},
		{"hyphen", "91350100-000100Y43", CodeCharset, "Character 9"},
		{"non-ASCII same length", "91350100\xe4\xb8\x8000100Y4", CodeCharset, "0xE4"},
		{"full-width digit", "９1350100M000100Y4", CodeLength, ""},
		{"wrong check", "91350100M000100Y44", CodeCheckCharacter, `"3"`},
		{"adjacent transposition", "91350100M001000Y43", CodeCheckCharacter, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateUSCC(tt.in)
			wantCode(t, err, tt.code)
			if tt.detail != "" && !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("detail %q does not mention %q", err, tt.detail)
			}
		})
	}
}

// Every single-character substitution of a valid code must be rejected:
// weights 3^i mod 31 are non-zero mod the prime 31, so MOD 31 catches them all.
func TestUSCCSingleSubstitution(t *testing.T) {
	const candidates = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz -"
	for _, code := range validUSCCs {
		for i := range len(code) {
			for j := range len(candidates) {
				c := candidates[j]
				if c == code[i] {
					continue
				}
				if m := replaceAt(code, i, c); ValidateUSCC(m) == nil {
					t.Errorf("ValidateUSCC(%s) accepted a substitution of %s at %d", m, code, i)
				}
			}
		}
	}
}

func TestUSCCCheckChar(t *testing.T) {
	for _, code := range validUSCCs {
		got, err := USCCCheckChar(code[:17])
		if err != nil || got != code[17] {
			t.Errorf("USCCCheckChar(%s) = %q, %v; want %q", code[:17], got, err, code[17])
		}
	}
	tests := []struct{ in, code string }{
		{"", CodeLength},
		{"91350100M000100Y", CodeLength},
		{"91350100M000100Y43", CodeLength},
		{"91350100m000100Y4", CodeCharset},
		{"91350100I000100Y4", CodeCharset},
	}
	for _, tt := range tests {
		_, err := USCCCheckChar(tt.in)
		wantCode(t, err, tt.code)
	}
}

// Every 17-character body has exactly one check character that validates.
func TestUSCCCheckCharIsUnique(t *testing.T) {
	body := "91350100M000100Y4"
	ok := 0
	for i := range len(usccAlphabet) {
		if ValidateUSCC(body+string(usccAlphabet[i])) == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d check characters validate, want 1", ok)
	}
}
