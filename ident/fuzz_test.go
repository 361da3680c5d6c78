package ident

import (
	"errors"
	"testing"
)

var knownCodes = map[string]bool{
	CodeLength: true, CodeCharset: true, CodeCheckCharacter: true, CodeDateInvalid: true,
	CodeDateFuture: true, CodeAreaCode: true, CodeFormat: true, CodeVersion: true, CodeRoot: true,
}

// checkError fails t unless err is an *Error with a documented code and a
// non-empty detail.
func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !knownCodes[e.Code] || e.Detail == "" {
		t.Fatalf("error %v (%T) is not an *ident.Error with a known code and a detail", err, err)
	}
}

func FuzzParseCertificateID(f *testing.F) {
	for _, v := range publishedIDs {
		f.Add(v.id)
	}
	f.Add("1.2.156.3005.2.11100000000013338W011.310000.20230000403.001.2")
	f.Add("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V")
	f.Add("1.2.156.3005.2.11100000000013338w011.11430000006122244L.20230000403.001.U")
	f.Add("1.2.156.3005.2.....")
	f.Add("1.2.156.3005.2")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCertificateID(s)
		if err != nil {
			checkError(t, err)
			if c != (CertificateID{}) {
				t.Fatalf("ParseCertificateID(%q) returned %+v with an error", s, c)
			}
			return
		}
		if got := c.String(); got != s {
			t.Fatalf("ParseCertificateID(%q).String() = %q", s, got)
		}
		if len(s) > MaxCertificateIDLen {
			t.Fatalf("accepted %d bytes", len(s))
		}
		if again, err := ParseCertificateID(c.String()); err != nil || again != c {
			t.Fatalf("reparse of %q = %+v, %v", s, again, err)
		}
		if check, err := MOD3736Check(c.TypeCode + c.IssuerCode + c.Serial + c.Version); err != nil || check != c.Check {
			t.Fatalf("MOD3736Check disagrees for %q: %q, %v", s, check, err)
		}
		if same, err := c.WithVersion(c.VersionNumber()); err != nil || same != c {
			t.Fatalf("WithVersion(own version) of %q = %+v, %v", s, same, err)
		}
		if len(c.IssuerCode) == USCCLen {
			if n, err := NewCertificateID(c.TypeCode, c.IssuerCode, c.Serial, c.VersionNumber()); err != nil || n != c {
				t.Fatalf("NewCertificateID from the parts of %q = %+v, %v", s, n, err)
			}
		}
	})
}

func FuzzValidateUSCC(f *testing.F) {
	for _, code := range validUSCCs {
		f.Add(code)
	}
	f.Add("91350100m000100Y43")
	f.Add("91350100M000100Y44")
	f.Add("91350100I000100Y43")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateUSCC(s)
		if len(s) == USCCLen-1 {
			check, cerr := USCCCheckChar(s)
			if (cerr == nil) != (ValidateUSCC(s+string(check)) == nil) {
				t.Fatalf("USCCCheckChar(%q) = %q, %v disagrees with ValidateUSCC", s, check, cerr)
			}
		}
		if err != nil {
			checkError(t, err)
			return
		}
		check, err := USCCCheckChar(s[:USCCLen-1])
		if err != nil {
			t.Fatalf("USCCCheckChar(%q): %v", s[:USCCLen-1], err)
		}
		if re := s[:USCCLen-1] + string(check); re != s {
			t.Fatalf("accepted %q but it re-serialises as %q", s, re)
		}
		if refUSCCCheck(s[:USCCLen-1]) != s[USCCLen-1] {
			t.Fatalf("accepted %q, reference check disagrees", s)
		}
	})
}

func FuzzValidateCitizenID(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("11010519491231002x")
	f.Add("110105194902290021")
	f.Add("110105200002290020")
	f.Add("310101202606160013")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateCitizenID(s, fixedNow)
		born, berr := BirthDate(s)
		if berr != nil {
			checkError(t, berr)
			if err == nil {
				t.Fatalf("BirthDate(%q) failed (%v) but ValidateCitizenID accepted it", s, berr)
			}
		}
		checkMasked(t, s, MaskCitizenID(s))
		if err != nil {
			checkError(t, err)
			return
		}
		check, cerr := CitizenIDCheckChar(s[:CitizenIDLen-1])
		if cerr != nil {
			t.Fatalf("CitizenIDCheckChar(%q): %v", s[:CitizenIDLen-1], cerr)
		}
		if re := s[:CitizenIDLen-1] + string(check); re != s {
			t.Fatalf("accepted %q but it re-serialises as %q", s, re)
		}
		if berr != nil || born.Format("20060102") != s[6:14] {
			t.Fatalf("accepted %q but BirthDate = %v, %v", s, born, berr)
		}
		if born.After(fixedNow) {
			t.Fatalf("accepted %q born after now", s)
		}
	})
}

// checkMasked fails t unless masked is s with its middle hidden: the same
// number of runes, every rune but the first 6 and last 4 (18 runes), the first
// 6 and last 3 (15 runes) or the first 3 and last 4 (any other length) a '*',
// and all of them '*' when s has 7 runes or fewer.
func checkMasked(t *testing.T, s, masked string) {
	t.Helper()
	in, out := []rune(s), []rune(masked)
	if len(in) != len(out) {
		t.Fatalf("MaskCitizenID(%q) = %q: rune count changed", s, masked)
	}
	for i := range out {
		head, tail := 3, 4
		switch len(in) {
		case 18:
			head = 6
		case 15:
			head, tail = 6, 3
		}
		hidden := len(in) <= 7 || (i >= head && i < len(in)-tail)
		if hidden && out[i] != '*' || !hidden && out[i] != in[i] {
			t.Fatalf("MaskCitizenID(%q) = %q: rune %d wrong", s, masked, i)
		}
	}
}
