package ident

import (
	"strings"
	"unicode/utf8"
)

// MaskCitizenID masks a citizen ID number for display, the way Chinese
// government and bank apps commonly do: the first 3 and last 4 characters
// stay, every character between becomes '*', so 11010519491231002X becomes
// 110***********002X. The first 3 digits (province and city) and the last 4
// (sequence and check) are what a person needs to recognise their own
// number; the birth date is hidden. Input of 7 characters or fewer is masked
// entirely, so the result never reveals the whole input. It counts runes,
// not bytes, and does not validate s.
func MaskCitizenID(s string) string {
	const head, tail = 3, 4
	n := utf8.RuneCountInString(s)
	if n <= head+tail {
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

// MaskName masks a person's name for display (e.g. to venue staff): the
// first rune stays; for names of three or more runes the last rune stays
// too; every other rune becomes '*'. So 张三 → 张*, 李小明 → 李*明,
// 欧阳娜娜 → 欧**娜. A one-rune name is returned unchanged, and the empty
// string stays empty. It counts runes, not bytes; invalid UTF-8 bytes count
// as one rune each and come out as U+FFFD if kept.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n <= 1 {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	i := 0
	for _, r := range name {
		if i == 0 || (n >= 3 && i == n-1) {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}
