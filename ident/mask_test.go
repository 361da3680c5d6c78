package ident

import "testing"

func TestMaskCitizenID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110***********002X"},
		{"110105491231002", "110********1002"}, // 15-digit first generation
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
		{"张", "张"},
		{"张三", "张*"},
		{"李小明", "李*明"},
		{"欧阳娜娜", "欧**娜"},
		{"阿卜杜拉·买买提", "阿******提"},
		{"Li", "L*"},
		{"\xff\xfe", "\uFFFD*"},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
