package ident

import (
	"strings"
	"testing"
	"time"
)

// fixedNow is 2026-06-15 12:00 China Standard Time.
var fixedNow = time.Date(2026, 6, 15, 4, 0, 0, 0, time.UTC)

// citizenID builds a valid-check ID from an area code, a YYYYMMDD date and a
// 3-digit sequence, with the reference check implementation.
func citizenID(area, date, seq string) string {
	first := area + date + seq
	return first + string(refCitizenCheck(first))
}

func TestValidateCitizenID(t *testing.T) {
	tests := []struct {
		name, in string
		now      time.Time
		code     string
	}{
		{"GB 11643 sample", "11010519491231002X", fixedNow, ""},
		{"digit check", citizenID("310101", "19800101", "123"), fixedNow, ""},
		{"lower-case x", "11010519491231002x", fixedNow, CodeCharset},
		{"empty", "", fixedNow, CodeLength},
		{"17 chars", "11010519491231002", fixedNow, CodeLength},
		{"19 chars", "11010519491231002X1", fixedNow, CodeLength},
		{"15-digit first generation", "110105491231002", fixedNow, CodeLength},
		{"letter in body", "1101051949123100AX", fixedNow, CodeCharset},
		{"X in body", "110105194912310X2X", fixedNow, CodeCharset},
		{"check not digit or X", "11010519491231002Y", fixedNow, CodeCharset},
		{"full-width digit", "１1010519491231002", fixedNow, CodeLength},
		{"wrong check", "110105194912310021", fixedNow, CodeCheckCharacter},
		{"area starts with 0", citizenID("010105", "19491231", "002"), fixedNow, CodeAreaCode},
		{"area 000000", citizenID("000000", "19491231", "002"), fixedNow, CodeAreaCode},
		{"area starts with 9", citizenID("910105", "19491231", "002"), fixedNow, CodeAreaCode},
		{"Hong Kong residence permit area", citizenID("810000", "19900101", "001"), fixedNow, ""},
		{"Taiwan residence permit area", citizenID("830000", "19900101", "001"), fixedNow, ""},
		{"1949-02-29 not a leap year", citizenID("110105", "19490229", "002"), fixedNow, CodeDateInvalid},
		{"1900-02-29 century not leap", citizenID("110105", "19000229", "002"), fixedNow, CodeDateInvalid},
		{"2000-02-29 leap", citizenID("110105", "20000229", "002"), fixedNow, ""},
		{"1996-02-29 leap", citizenID("110105", "19960229", "002"), fixedNow, ""},
		{"2000-02-30", citizenID("110105", "20000230", "002"), fixedNow, CodeDateInvalid},
		{"April 31", citizenID("110105", "19800431", "002"), fixedNow, CodeDateInvalid},
		{"June 31", citizenID("110105", "19800631", "002"), fixedNow, CodeDateInvalid},
		{"September 31", citizenID("110105", "19800931", "002"), fixedNow, CodeDateInvalid},
		{"November 31", citizenID("110105", "19801131", "002"), fixedNow, CodeDateInvalid},
		{"November 30", citizenID("110105", "19801130", "002"), fixedNow, ""},
		{"December 31", citizenID("110105", "19801231", "002"), fixedNow, ""},
		{"month 00", citizenID("110105", "19800001", "002"), fixedNow, CodeDateInvalid},
		{"month 13", citizenID("110105", "19801301", "002"), fixedNow, CodeDateInvalid},
		{"day 00", citizenID("110105", "19800100", "002"), fixedNow, CodeDateInvalid},
		{"day 32", citizenID("110105", "19800132", "002"), fixedNow, CodeDateInvalid},
		{"1899-12-31 too early", citizenID("110105", "18991231", "002"), fixedNow, CodeDateInvalid},
		{"1900-01-01 earliest", citizenID("110105", "19000101", "002"), fixedNow, ""},
		{"born today", citizenID("310101", "20260615", "001"), fixedNow, ""},
		{"born tomorrow", citizenID("310101", "20260616", "001"), fixedNow, CodeDateFuture},
		{"born next year", citizenID("310101", "20270101", "001"), fixedNow, CodeDateFuture},
		// 2026-06-15 17:00 UTC is already 2026-06-16 01:00 in Shanghai.
		{"tomorrow in UTC is today in Shanghai", citizenID("310101", "20260616", "001"), time.Date(2026, 6, 15, 17, 0, 0, 0, time.UTC), ""},
		// 2026-06-15 15:59 UTC is still 2026-06-15 23:59 in Shanghai.
		{"before Shanghai midnight", citizenID("310101", "20260616", "001"), time.Date(2026, 6, 15, 15, 59, 0, 0, time.UTC), CodeDateFuture},
		// now's own location does not matter, only the instant.
		{"now in New York", citizenID("310101", "20260616", "001"), time.Date(2026, 6, 15, 13, 0, 0, 0, time.FixedZone("EDT", -4*3600)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, ValidateCitizenID(tt.in, tt.now), tt.code)
		})
	}
}

func TestValidateCitizenIDLowerXDetail(t *testing.T) {
	err := ValidateCitizenID("11010519491231002x", fixedNow)
	if err == nil || !strings.Contains(err.Error(), "upper-case X") {
		t.Fatalf("got %v, want a detail asking for upper-case X", err)
	}
}

// Error details must never carry the ID number or its birth date.
func TestCitizenIDErrorsDoNotLeakDigits(t *testing.T) {
	inputs := []string{
		"110105194912310021",
		citizenID("110105", "19490229", "002"),
		citizenID("910105", "19491231", "002"),
		citizenID("310101", "20270101", "001"),
		"1101051949123100AX",
	}
	for _, in := range inputs {
		err := ValidateCitizenID(in, fixedNow)
		if err == nil {
			t.Fatalf("ValidateCitizenID(%s) = nil", in)
		}
		for _, part := range []string{in[:6], in[6:14], in[10:14], in[14:]} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("detail %q contains %q from the ID", err, part)
			}
		}
	}
}

// Every single-character substitution must be rejected: the weights
// 2^k mod 11 are non-zero mod the prime 11.
func TestCitizenIDSingleSubstitution(t *testing.T) {
	valid := []string{
		"11010519491231002X",
		citizenID("310101", "19800101", "123"),
		citizenID("440305", "20000229", "457"),
	}
	const candidates = "0123456789Xx "
	for _, id := range valid {
		if err := ValidateCitizenID(id, fixedNow); err != nil {
			t.Fatalf("base %s invalid: %v", id, err)
		}
		for i := range len(id) {
			for j := range len(candidates) {
				c := candidates[j]
				if c == id[i] {
					continue
				}
				if m := replaceAt(id, i, c); ValidateCitizenID(m, fixedNow) == nil {
					t.Errorf("ValidateCitizenID(%s) accepted a substitution of %s at %d", m, id, i)
				}
			}
		}
	}
}

func TestCitizenIDCheckChar(t *testing.T) {
	got, err := CitizenIDCheckChar("11010519491231002")
	if err != nil || got != 'X' {
		t.Fatalf("CitizenIDCheckChar = %q, %v; want 'X'", got, err)
	}
	for _, first := range []string{"31010119800101123", "44030520000229457", "00000000000000000", "99999999999999999"} {
		got, err := CitizenIDCheckChar(first)
		if want := refCitizenCheck(first); err != nil || got != want {
			t.Errorf("CitizenIDCheckChar(%s) = %q, %v; want %q", first, got, err, want)
		}
	}
	for _, tt := range []struct{ in, code string }{
		{"", CodeLength},
		{"1101051949123100", CodeLength},
		{"11010519491231002X", CodeLength},
		{"1101051949123100X", CodeCharset},
	} {
		_, err := CitizenIDCheckChar(tt.in)
		wantCode(t, err, tt.code)
	}
}

func TestBirthDate(t *testing.T) {
	d, err := BirthDate("11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(1949, 12, 31, 0, 0, 0, 0, time.FixedZone("", 8*3600))
	if !d.Equal(want) {
		t.Errorf("BirthDate = %v, want %v", d, want)
	}
	if y, m, day := d.Date(); y != 1949 || m != 12 || day != 31 {
		t.Errorf("BirthDate calendar date = %d-%d-%d, want 1949-12-31", y, m, day)
	}
	if _, off := d.Zone(); off != 8*3600 {
		t.Errorf("BirthDate offset = %d, want UTC+8", off)
	}
	// No clock: a future date is not BirthDate's business.
	if _, err := BirthDate(citizenID("310101", "20990101", "001")); err != nil {
		t.Errorf("BirthDate(future) = %v, want nil", err)
	}
	for _, tt := range []struct{ in, code string }{
		{"11010519491231002x", CodeCharset},
		{"110105194912310021", CodeCheckCharacter},
		{citizenID("110105", "19490229", "002"), CodeDateInvalid},
		{"", CodeLength},
	} {
		d, err := BirthDate(tt.in)
		wantCode(t, err, tt.code)
		if !d.IsZero() {
			t.Errorf("BirthDate(%q) returned %v with an error", tt.in, d)
		}
	}
}
