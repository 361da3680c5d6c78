package ident

import (
	"strings"
	"testing"
)

func TestMaskCitizenID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"110105491231002", "110105******002"}, // 15-digit first generation
		{"", ""},
		{"1234567", "*******"},
		{"12345678", "123*5678"},
		{"中文身份证号码测试", "中文身**号码测试"},
	}
	for _, tt := range tests {
		if got := MaskCitizenID(tt.in); got != tt.want {
			t.Errorf("MaskCitizenID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"张", "*"},
		{"张三", "张*"},
		{"李小明", "李**"},
		{"欧阳娜娜", "欧**"},
		{"阿卜杜拉·买买提", "阿**"},
		{"  李四  ", "李*"},
		{"\u202e张三丰", "张**"},
		{"Zhang San", "Z**"},
		{"\xff\xfe", ""},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskIdentityNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"社保号11010519491231002x。", "社保号110105********002x。"},
		{"110105194912310021 和 110105491231002", "110105********0021 和 110105******002"},
		{"91350100M000100Y43", "91350100M000100Y43"},   // a USCC is public
		{"6222021234567890123", "6222021234567890123"}, // 19 digits: not an identity number
		{"A11010519491231002X", "A11010519491231002X"}, // part of a longer code
		{"无号码", "无号码"},
	}
	for _, tt := range tests {
		if got := MaskIdentityNumbers(tt.in); got != tt.want {
			t.Errorf("MaskIdentityNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzMaskIdentityNumbers(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "a 110105491231002 b", "", "中文11010519491231002X中文", "\xff110105194912310021"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskIdentityNumbers(s)
		if len(out) != len(s) {
			t.Fatalf("MaskIdentityNumbers(%q) = %q: length changed", s, out)
		}
		if MaskIdentityNumbers(out) != out {
			t.Fatalf("MaskIdentityNumbers is not idempotent on %q", s)
		}
		// No run that looks like an identity number survives.
		for _, f := range strings.FieldsFunc(out, func(r rune) bool { return r > 0x7f || !isAlnum(byte(r)) }) {
			if looksLikeCitizenID(f) {
				t.Fatalf("MaskIdentityNumbers(%q) = %q keeps %q", s, out, f)
			}
		}
	})
}
