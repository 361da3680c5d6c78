package ident

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// publishedIDs are the valid GB/T 36904 identifiers from the domain reference.
var publishedIDs = []struct {
	id, typ, issuer, serial, version string
	check                            byte
}{
	{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
		"11100000000013338W011", "11430000006122244L", "20230000403", "001", 'U'},
	{"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
		"11100000000013338W032", "11220000013544541J", "2430599", "001", 'F'},
	{"1.2.156.3005.2.11100000000013338W011.11110000000021135M.20230329701.003.Y",
		"11100000000013338W011", "11110000000021135M", "20230329701", "003", 'Y'},
}

func TestParsePublishedCertificateIDs(t *testing.T) {
	for _, v := range publishedIDs {
		c, err := ParseCertificateID(v.id)
		if err != nil {
			t.Fatalf("ParseCertificateID(%s): %v", v.id, err)
		}
		want := CertificateID{TypeCode: v.typ, IssuerCode: v.issuer, Serial: v.serial, Version: v.version, Check: v.check}
		if c != want {
			t.Errorf("ParseCertificateID(%s) = %+v, want %+v", v.id, c, want)
		}
		if s := c.String(); s != v.id {
			t.Errorf("String() = %s, want %s", s, v.id)
		}
		n, err := NewCertificateID(v.typ, v.issuer, v.serial, c.VersionNumber())
		if err != nil || n != want {
			t.Errorf("NewCertificateID(%s) = %+v, %v; want %+v", v.id, n, err, want)
		}
		if got, err := MOD3736Check(v.typ + v.issuer + v.serial + v.version); err != nil || got != v.check {
			t.Errorf("MOD3736Check(%s) = %q, %v; want %q", v.id, got, err, v.check)
		}
	}
}

// Changing any one character anywhere in a valid identifier, including the
// root, the dots and the check character, must make it invalid.
func TestCertificateIDSingleSubstitution(t *testing.T) {
	const candidates = alnumChars + ".-abcuxyz "
	for _, v := range publishedIDs {
		for i := range len(v.id) {
			for j := range len(candidates) {
				c := candidates[j]
				if c == v.id[i] {
					continue
				}
				if m := replaceAt(v.id, i, c); func() bool { _, err := ParseCertificateID(m); return err == nil }() {
					t.Errorf("ParseCertificateID accepted %s, a substitution of %s at %d", m, v.id, i)
				}
			}
		}
	}
}

// MOD 37,36 on its own, without help from the USCC checks inside the type
// and issuer codes, detects every single substitution of the body.
func TestMOD3736DetectsSubstitutions(t *testing.T) {
	bodies := []string{"0", "Z", "ABC", "000000000000"}
	for _, v := range publishedIDs {
		bodies = append(bodies, v.typ+v.issuer+v.serial+v.version)
	}
	for _, body := range bodies {
		check, err := MOD3736Check(body)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(body) {
			for j := range len(alnumChars) {
				if alnumChars[j] == body[i] {
					continue
				}
				m := replaceAt(body, i, alnumChars[j])
				if got, _ := MOD3736Check(m); got == check {
					t.Errorf("MOD3736Check(%s) = %c, same as for %s", m, got, body)
				}
			}
		}
	}
}

func TestMOD3736Check(t *testing.T) {
	tests := []struct {
		in   string
		want byte
		code string
	}{
		{"11100000000013338W01111430000006122244L20230000403001", 'U', ""},
		{"11100000000013338W03211220000013544541J2430599001", 'F', ""},
		{"11100000000013338W01111110000000021135M20230329701003", 'Y', ""},
		{"0", refMOD3736("0"), ""},
		{"ZZZZZZZZZZ", refMOD3736("ZZZZZZZZZZ"), ""},
		{"", 0, CodeLength},
		{"11100000000013338w", 0, CodeCharset},
		{"1.2", 0, CodeCharset},
		{"ABC\x00", 0, CodeCharset},
	}
	for _, tt := range tests {
		got, err := MOD3736Check(tt.in)
		wantCode(t, err, tt.code)
		if got != tt.want {
			t.Errorf("MOD3736Check(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A 6-digit area code instead of an issuer USCC is accepted on read.
func areaIssuerID(t *testing.T, area string) string {
	t.Helper()
	const typ, serial, version = "11100000000013338W011", "20230000403", "001"
	return CertificateIDRoot + "." + typ + "." + area + "." + serial + "." + version + "." + string(refMOD3736(typ+area+serial+version))
}

func TestParseCertificateIDErrors(t *testing.T) {
	const good = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
	// withCheck rebuilds an identifier with a correct MOD 37,36 check so the
	// error under test is not masked by a check-character failure.
	withCheck := func(typ, issuer, serial, version string) string {
		return CertificateIDRoot + "." + typ + "." + issuer + "." + serial + "." + version + "." + string(refMOD3736(typ+issuer+serial+version))
	}
	tests := []struct{ name, in, code, detail string }{
		{"valid", good, "", ""},
		{"area code issuer", areaIssuerID(t, "310000"), "", ""},
		{"empty", "", CodeLength, ""},
		{"too long", withCheck("11100000000013338W011", "11430000006122244L", strings.Repeat("1", 67), "001"), CodeLength, ""},
		{"over guard before anything else", strings.Repeat("x", MaxCertificateIDLen+1), CodeLength, ""},
		{"other root", strings.Replace(good, "1.2.156.3005.2.", "1.2.156.3005.1.", 1), CodeRoot, ""},
		{"root with longer arc", strings.Replace(good, "1.2.156.3005.2.", "1.2.156.3005.20.", 1), CodeRoot, ""},
		{"root only", CertificateIDRoot, CodeRoot, ""},
		{"root and dot", CertificateIDRoot + ".", CodeFormat, ""},
		{"no root", good[len(CertificateIDRoot)+1:], CodeRoot, ""},
		{"leading space", " " + good, CodeRoot, ""},
		{"trailing space", good + " ", CodeFormat, ""},
		{"four parts", "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.U", CodeFormat, "not 4"},
		{"six parts", good + ".U", CodeFormat, "not 6"},
		{"empty serial", withCheck("11100000000013338W011", "11430000006122244L", "", "001"), CodeFormat, ""},
		{"lower-case serial", withCheck("11100000000013338W011", "11430000006122244L", "abc", "001"), CodeCharset, ""},
		{"lower-case check", strings.TrimSuffix(good, "U") + "u", CodeCharset, "Use upper-case letters."},
		{"two-character check", good + "U", CodeFormat, ""},
		{"empty check", strings.TrimSuffix(good, "U"), CodeFormat, ""},
		{"wrong check", strings.TrimSuffix(good, "U") + "V", CodeCheckCharacter, ""},
		{"version 000", withCheck("11100000000013338W011", "11430000006122244L", "1", "000"), CodeVersion, ""},
		{"version 2 digits", withCheck("11100000000013338W011", "11430000006122244L", "1", "01"), CodeVersion, ""},
		{"version 4 digits", withCheck("11100000000013338W011", "11430000006122244L", "1", "0001"), CodeVersion, ""},
		{"version letters", withCheck("11100000000013338W011", "11430000006122244L", "1", "00A"), CodeVersion, ""},
		{"type 20 chars", withCheck("11100000000013338W01", "11430000006122244L", "1", "001"), CodeFormat, ""},
		{"type with bad USCC check", withCheck("11100000000013338X011", "11430000006122244L", "1", "001"), CodeCheckCharacter, ""},
		{"type with I", withCheck("1110000000001333IW011", "11430000006122244L", "1", "001"), CodeCharset, ""},
		{"type serial letters", withCheck("11100000000013338WA11", "11430000006122244L", "1", "001"), CodeFormat, ""},
		{"issuer with bad USCC check", withCheck("11100000000013338W011", "11430000006122244M", "1", "001"), CodeCheckCharacter, ""},
		{"issuer 17 chars", withCheck("11100000000013338W011", "11430000006122244", "1", "001"), CodeFormat, ""},
		{"issuer 7 digits", withCheck("11100000000013338W011", "3100000", "1", "001"), CodeFormat, ""},
		{"issuer area with letter", withCheck("11100000000013338W011", "31000A", "1", "001"), CodeCharset, ""},
		{"issuer area 000000", withCheck("11100000000013338W011", "000000", "1", "001"), CodeAreaCode, ""},
		{"issuer area 900000", withCheck("11100000000013338W011", "900000", "1", "001"), CodeAreaCode, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCertificateID(tt.in)
			wantCode(t, err, tt.code)
			if tt.detail != "" && !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("detail %q does not mention %q", err, tt.detail)
			}
			if err != nil && c != (CertificateID{}) {
				t.Errorf("returned %+v with an error", c)
			}
			if err == nil && c.String() != tt.in {
				t.Errorf("String() = %s, want %s", c, tt.in)
			}
		})
	}
}

func TestNewCertificateID(t *testing.T) {
	const typ, issuer = "11100000000013338W032", "11220000013544541J"
	maxSerial := strings.Repeat("9", MaxCertificateIDLen-len("1.2.156.3005.2.11100000000013338W032.11220000013544541J..001.F"))
	tests := []struct {
		name, typ, issuer, serial string
		version                   int
		want, code                string
	}{
		{"published", typ, issuer, "2430599", 1, "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F", ""},
		{"version 999", typ, issuer, "2430599", 999, "", ""},
		{"longest serial", typ, issuer, maxSerial, 1, "", ""},
		{"serial one too long", typ, issuer, maxSerial + "9", 1, "", CodeLength},
		{"version 0", typ, issuer, "1", 0, "", CodeVersion},
		{"version 1000", typ, issuer, "1", 1000, "", CodeVersion},
		{"version negative", typ, issuer, "1", -1, "", CodeVersion},
		{"area issuer rejected on write", typ, "310000", "1", 1, "", CodeFormat},
		{"bad issuer check", typ, "11220000013544541K", "1", 1, "", CodeCheckCharacter},
		{"lower-case issuer", typ, "11220000013544541j", "1", 1, "", CodeCharset},
		{"bad type check", "11100000000013338X032", issuer, "1", 1, "", CodeCheckCharacter},
		{"short type", "11100000000013338W", issuer, "1", 1, "", CodeFormat},
		{"empty serial", typ, issuer, "", 1, "", CodeFormat},
		{"serial with dot", typ, issuer, "1.2", 1, "", CodeCharset},
		{"serial lower case", typ, issuer, "a1", 1, "", CodeCharset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCertificateID(tt.typ, tt.issuer, tt.serial, tt.version)
			wantCode(t, err, tt.code)
			if err != nil {
				if c != (CertificateID{}) {
					t.Errorf("returned %+v with an error", c)
				}
				return
			}
			s := c.String()
			if tt.want != "" && s != tt.want {
				t.Errorf("String() = %s, want %s", s, tt.want)
			}
			if len(s) > MaxCertificateIDLen {
				t.Errorf("len(%s) = %d > %d", s, len(s), MaxCertificateIDLen)
			}
			if c.VersionNumber() != tt.version {
				t.Errorf("VersionNumber() = %d, want %d", c.VersionNumber(), tt.version)
			}
			p, err := ParseCertificateID(s)
			if err != nil || p != c {
				t.Errorf("ParseCertificateID(%s) = %+v, %v; want %+v", s, p, err, c)
			}
		})
	}
}

func TestWithVersion(t *testing.T) {
	c, err := ParseCertificateID(publishedIDs[0].id)
	if err != nil {
		t.Fatal(err)
	}
	// Published identifiers 1 and 3 share type code but not issuer, so build
	// the expected v3 string independently.
	body := c.TypeCode + c.IssuerCode + c.Serial + "003"
	want := CertificateIDRoot + "." + c.TypeCode + "." + c.IssuerCode + "." + c.Serial + ".003." + string(refMOD3736(body))
	c3, err := c.WithVersion(3)
	if err != nil || c3.String() != want {
		t.Fatalf("WithVersion(3) = %s, %v; want %s", c3, err, want)
	}
	if c3.TypeCode != c.TypeCode || c3.IssuerCode != c.IssuerCode || c3.Serial != c.Serial {
		t.Errorf("WithVersion changed other parts: %+v from %+v", c3, c)
	}
	if back, err := c3.WithVersion(1); err != nil || back != c {
		t.Errorf("WithVersion(1) = %+v, %v; want %+v", back, err, c)
	}
	for _, v := range []int{0, 1000} {
		_, err := c.WithVersion(v)
		wantCode(t, err, CodeVersion)
	}
	// An identifier read with an area-code issuer can still be re-versioned.
	a, err := ParseCertificateID(areaIssuerID(t, "310000"))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := a.WithVersion(2)
	if err != nil {
		t.Fatalf("WithVersion on area issuer: %v", err)
	}
	if p, err := ParseCertificateID(a2.String()); err != nil || p != a2 {
		t.Errorf("ParseCertificateID(%s) = %+v, %v", a2, p, err)
	}
	// A hand-built value is validated.
	_, err = CertificateID{TypeCode: "X", IssuerCode: c.IssuerCode, Serial: "1"}.WithVersion(1)
	wantCode(t, err, CodeFormat)
}

func TestVersionNumber(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want int
	}{{"001", 1}, {"010", 10}, {"999", 999}, {"000", 0}, {"", 0}, {"01", 0}, {"1000", 0}, {"0A1", 0}} {
		if got := (CertificateID{Version: tt.v}).VersionNumber(); got != tt.want {
			t.Errorf("VersionNumber(%q) = %d, want %d", tt.v, got, tt.want)
		}
	}
}

// randomUSCC returns a valid unified social credit code.
func randomUSCC(r *rand.Rand) string {
	var b [18]byte
	for i := range 17 {
		b[i] = usccAlphabet[r.IntN(len(usccAlphabet))]
	}
	b[17] = refUSCCCheck(string(b[:17]))
	return string(b[:])
}

func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestCertificateIDRoundTripProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0x5e15))
	for range 20000 {
		typ := randomUSCC(r) + randomString(r, "0123456789", 3)
		issuer := randomUSCC(r)
		serial := randomString(r, alnumChars, 1+r.IntN(66))
		version := 1 + r.IntN(999)
		c, err := NewCertificateID(typ, issuer, serial, version)
		if err != nil {
			t.Fatalf("NewCertificateID(%s, %s, %s, %d): %v", typ, issuer, serial, version, err)
		}
		s := c.String()
		if want := refMOD3736(typ + issuer + serial + c.Version); c.Check != want {
			t.Fatalf("%s: check %c, reference says %c", s, c.Check, want)
		}
		p, err := ParseCertificateID(s)
		if err != nil || p != c {
			t.Fatalf("ParseCertificateID(%s) = %+v, %v; want %+v", s, p, err, c)
		}
		if p.String() != s {
			t.Fatalf("round trip %s -> %s", s, p.String())
		}
	}
}

func TestMOD3736CheckRandomNoPanic(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0x3736))
	for range 20000 {
		b := make([]byte, r.IntN(200))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = alnumChars[r.IntN(len(alnumChars))]
			}
		}
		body := string(b)
		got, err := MOD3736Check(body)
		clean := len(body) > 0 && strings.Trim(body, alnumChars) == ""
		switch {
		case clean && (err != nil || got != refMOD3736(body)):
			t.Fatalf("MOD3736Check(%q) = %q, %v; want %q", body, got, err, refMOD3736(body))
		case !clean && err == nil:
			t.Fatalf("MOD3736Check(%q) accepted invalid input", body)
		}
	}
}
