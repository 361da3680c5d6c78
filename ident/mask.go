package ident

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskCitizenID masks an identity number for display — the one rule for
// every identity number the product shows to anyone but its holder. An
// 18-character 公民身份号码 keeps its 6-digit area code and its last 4
// characters (sequence and check), so the birth date is hidden:
// 11010519491231002X becomes 110105********002X. A 15-digit first-generation
// number keeps its area code and its last 3 digits (110105491231002 →
// 110105******002). Any other input keeps at most its first 3 and last 4
// runes and only when it has more than 7 (so the result never reveals the
// whole input); 7 runes or fewer are masked entirely. It counts runes, not
// bytes, and does not validate s.
func MaskCitizenID(s string) string {
	n := utf8.RuneCountInString(s)
	head, tail := 3, 4
	switch {
	case n == CitizenIDLen:
		head, tail = 6, 4
	case n == 15:
		head, tail = 6, 3
	case n <= 7:
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for _, r := range s {
		if i < head || i >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// MaskName masks a person's name — the one rule for every name the product
// shows to anyone but its holder: in codes, visitor lists, sessions and
// every response an app receives. Surrounding white space and any control,
// format (such as bidirectional overrides), line-separator or invalid
// characters are dropped; the first remaining rune stays and the rest
// becomes at most two '*', so the length of a long name is hidden too:
// 张三 → 张*, 李小明 → 李**, 欧阳娜娜 → 欧**. A one-rune name becomes "*"
// (showing it would show the whole name), and the empty string stays empty.
// An enterprise's name is public and is not masked (see callers).
func MaskName(name string) string {
	var first rune
	n := 0
	for _, r := range strings.TrimSpace(name) {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		if n == 0 {
			first = r
		}
		n++
	}
	switch n {
	case 0:
		return ""
	case 1:
		return "*"
	}
	return string(first) + strings.Repeat("*", min(n-1, 2))
}

// MaskIdentityNumbers masks, with MaskCitizenID, every identity number in a
// text: every maximal run of ASCII letters and digits that has the shape of
// a 公民身份号码 (17 digits and a digit or X, or 15 digits), check character
// right or wrong — a mistyped number is still a person's number. Whatever
// field a number sits in (a 社会保障号码, a spouse's number, a remark), it
// leaves masked. Text without such a run is returned unchanged.
func MaskIdentityNumbers(s string) string {
	var b strings.Builder
	last := 0 // bytes of s already copied to b
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		if looksLikeCitizenID(s[i:j]) {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(MaskCitizenID(s[i:j]))
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func looksLikeCitizenID(run string) bool {
	switch len(run) {
	case CitizenIDLen:
		last := run[CitizenIDLen-1]
		return allDigits(run[:CitizenIDLen-1]) && (last >= '0' && last <= '9' || last == 'X' || last == 'x')
	case 15:
		return allDigits(run)
	}
	return false
}
