// Package ident validates the identifiers Suishen accepts: 统一社会信用代码
// (unified social credit code, GB 32100), 公民身份号码 (citizen ID number,
// GB 11643) and 证照标识 (certificate identifier, GB/T 36904).
//
// Every validator returns nil or an *Error whose Code is one of the Code...
// constants, stable across releases, so an HTTP layer can copy it into a
// problem's errors[].code. Valid input is checked without allocating; only
// the error path allocates.
//
// Error details never repeat a citizen ID number or any of its digits, so an
// error can be logged or returned to a client without leaking personal data.
package ident

import (
	"fmt"
	"time"
)

// Stable error codes carried in Error.Code.
const (
	CodeLength         = "length"          // wrong number of characters (or empty, or over a length guard)
	CodeCharset        = "charset"         // a character outside the allowed set (including lower case)
	CodeCheckCharacter = "check_character" // the check character does not match the rest
	CodeDateInvalid    = "date_invalid"    // the embedded birth date is not a real date, or before 1900
	CodeDateFuture     = "date_future"     // the embedded birth date is after today (Asia/Shanghai)
	CodeAreaCode       = "area_code"       // the 6-digit administrative area code is implausible
	CodeFormat         = "format"          // structure: number of parts, part lengths, empty parts
	CodeVersion        = "version"         // a certificate identifier version outside 001..999
	CodeRoot           = "root"            // a certificate identifier not under CertificateIDRoot
)

// Error is the error returned by every validator in this package.
//
// Code is one of the Code... constants and is meant for machines; Detail is
// an English sentence meant for people, and is what Error returns.
type Error struct {
	Code   string
	Detail string
}

// Error returns the Detail sentence.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	return "The identifier is invalid (" + e.Code + ")."
}

func errorf(code, format string, args ...any) error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// chinaZone is China Standard Time (UTC+8). China has had no daylight saving
// time since 1991, so a fixed zone gives the right calendar date for "today"
// without depending on a tzdata file being present.
var chinaZone = time.FixedZone("CST", 8*60*60)

// upperHint returns advice to add to a charset error when c is a lower-case
// ASCII letter, the commonest way to get these identifiers wrong.
func upperHint(c byte) string {
	if 'a' <= c && c <= 'z' {
		return " Use upper-case letters."
	}
	return ""
}

// quoteByte renders one input byte for an error detail.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", string(rune(c)))
	}
	return fmt.Sprintf("byte 0x%02X", c)
}
