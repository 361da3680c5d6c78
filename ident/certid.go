package ident

import "strings"

// CertificateIDRoot is the object identifier arc every 证照标识 (certificate
// identifier, GB/T 36904) starts with.
const CertificateIDRoot = "1.2.156.3005.2"

// MaxCertificateIDLen bounds the length of a certificate identifier, in
// bytes. ParseCertificateID rejects longer input before looking at it, and
// NewCertificateID refuses a serial that would make the identifier longer.
const MaxCertificateIDLen = 128

const (
	rootPrefix     = CertificateIDRoot + "."
	typeCodeLen    = USCCLen + 3 // agency USCC + 3-digit serial
	areaCodeLen    = 6
	versionLen     = 3
	maxVersion     = 999
	alnumChars     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	mod3736Modulus = 36
)

// alnumValue maps 0-9A-Z to 0..35 and every other byte to -1.
var alnumValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(alnumChars); i++ {
		t[alnumChars[i]] = int8(i)
	}
	return t
}()

// CertificateID is a parsed 证照标识 (certificate identifier, GB/T 36904):
//
//	1.2.156.3005.2.<TypeCode>.<IssuerCode>.<Serial>.<Version>.<Check>
//
// Values returned by NewCertificateID, ParseCertificateID and WithVersion are
// valid; a CertificateID built by hand is not checked until it goes through
// one of them (String formats whatever the fields hold).
type CertificateID struct {
	// TypeCode is the 21-character certificate type code (证照类型代码,
	// GB/T 36902): the defining agency's unified social credit code followed
	// by a 3-digit sequence number, e.g. 11100000000013338W032.
	TypeCode string
	// IssuerCode is the issuing authority's 18-character unified social
	// credit code. Identifiers read by ParseCertificateID may instead hold a
	// 6-digit administrative area code (GB/T 2260), which is seen in the wild.
	IssuerCode string
	// Serial is the issuer's serial number, one or more of [0-9A-Z].
	Serial string
	// Version is three digits, "001" to "999", incremented on re-issue or
	// change.
	Version string
	// Check is the ISO/IEC 7064 MOD 37,36 check character over
	// TypeCode+IssuerCode+Serial+Version (see MOD3736Check).
	Check byte
}

// NewCertificateID builds a certificate identifier and computes its check
// character. typeCode must be 21 characters whose first 18 are a valid
// unified social credit code (check character included) and whose last 3
// are digits; issuerCode must be a valid unified social credit code (the
// 6-digit area code form is accepted on read only); serial is one or more of
// [0-9A-Z], short enough for the identifier to fit in MaxCertificateIDLen;
// version is 1 to 999.
func NewCertificateID(typeCode, issuerCode, serial string, version int) (CertificateID, error) {
	return newCertificateID(typeCode, issuerCode, serial, version, false)
}

// WithVersion returns the identifier with the same type, issuer and serial,
// the given version (1 to 999) and a recomputed check character, as for a
// re-issued or changed certificate. An identifier read with a 6-digit issuer
// area code keeps it.
func (c CertificateID) WithVersion(v int) (CertificateID, error) {
	return newCertificateID(c.TypeCode, c.IssuerCode, c.Serial, v, true)
}

// VersionNumber returns Version as an integer, or 0 if Version is not three
// digits.
func (c CertificateID) VersionNumber() int {
	if len(c.Version) != versionLen || !allDigits(c.Version) {
		return 0
	}
	return atoi(c.Version)
}

func newCertificateID(typeCode, issuerCode, serial string, version int, areaIssuerOK bool) (CertificateID, error) {
	if err := validateTypeCode(typeCode); err != nil {
		return CertificateID{}, err
	}
	if err := validateIssuerCode(issuerCode, areaIssuerOK); err != nil {
		return CertificateID{}, err
	}
	if err := validateSerial(serial); err != nil {
		return CertificateID{}, err
	}
	if maxSerial := MaxCertificateIDLen - encodedLen(typeCode, issuerCode, "", "001"); len(serial) > maxSerial {
		return CertificateID{}, errorf(CodeLength, "The serial of the certificate identifier must be at most %d characters long, not %d.", maxSerial, len(serial))
	}
	if version < 1 || version > maxVersion {
		return CertificateID{}, errorf(CodeVersion, "The certificate identifier version must be between 1 and %d, not %d.", maxVersion, version)
	}
	c := CertificateID{TypeCode: typeCode, IssuerCode: issuerCode, Serial: serial, Version: versionString(version)}
	c.Check = c.computeCheck()
	return c, nil
}

// String returns the identifier in its dotted form, root first.
func (c CertificateID) String() string {
	var b strings.Builder
	b.Grow(encodedLen(c.TypeCode, c.IssuerCode, c.Serial, c.Version))
	b.WriteString(rootPrefix)
	b.WriteString(c.TypeCode)
	b.WriteByte('.')
	b.WriteString(c.IssuerCode)
	b.WriteByte('.')
	b.WriteString(c.Serial)
	b.WriteByte('.')
	b.WriteString(c.Version)
	b.WriteByte('.')
	b.WriteByte(c.Check)
	return b.String()
}

// encodedLen is the length of String's result.
func encodedLen(typeCode, issuerCode, serial, version string) int {
	return len(rootPrefix) + len(typeCode) + len(issuerCode) + len(serial) + len(version) + 4 + 1
}

// ParseCertificateID parses a certificate identifier in its dotted form. It
// is strict: the root must be exactly CertificateIDRoot, there must be
// exactly five parts after it, all upper case, the type code and an 18-char
// issuer code must pass their own unified social credit code check, and the
// MOD 37,36 check character must match. It is lenient in one way only: the
// issuer part may be a 6-digit administrative area code instead of a unified
// social credit code. Input longer than MaxCertificateIDLen is rejected
// before it is read.
//
// The returned fields are substrings of s.
func ParseCertificateID(s string) (CertificateID, error) {
	if len(s) == 0 {
		return CertificateID{}, errorf(CodeLength, "The certificate identifier is empty.")
	}
	if len(s) > MaxCertificateIDLen {
		return CertificateID{}, errorf(CodeLength, "A certificate identifier is at most %d characters long, not %d.", MaxCertificateIDLen, len(s))
	}
	if !strings.HasPrefix(s, rootPrefix) {
		return CertificateID{}, errorf(CodeRoot, "A certificate identifier must start with %s.", rootPrefix)
	}
	rest := s[len(rootPrefix):]
	var parts [5]string
	for i := range len(parts) - 1 {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 {
			return CertificateID{}, errorf(CodeFormat, "A certificate identifier has five dot-separated parts after the root (type, issuer, serial, version, check), not %d.", i+1)
		}
		parts[i], rest = rest[:dot], rest[dot+1:]
	}
	if n := strings.Count(rest, "."); n > 0 {
		return CertificateID{}, errorf(CodeFormat, "A certificate identifier has five dot-separated parts after the root (type, issuer, serial, version, check), not %d.", 5+n)
	}
	parts[4] = rest
	c := CertificateID{TypeCode: parts[0], IssuerCode: parts[1], Serial: parts[2], Version: parts[3]}

	if err := validateTypeCode(c.TypeCode); err != nil {
		return CertificateID{}, err
	}
	if err := validateIssuerCode(c.IssuerCode, true); err != nil {
		return CertificateID{}, err
	}
	if err := validateSerial(c.Serial); err != nil {
		return CertificateID{}, err
	}
	if err := validateVersion(c.Version); err != nil {
		return CertificateID{}, err
	}
	if len(parts[4]) != 1 {
		return CertificateID{}, errorf(CodeFormat, "The check part of a certificate identifier must be one character, not %d.", len(parts[4]))
	}
	c.Check = parts[4][0]
	if alnumValue[c.Check] < 0 {
		return CertificateID{}, errorf(CodeCharset, "The check character of the certificate identifier (%s) must be a digit or an upper-case letter.%s",
			quoteByte(c.Check), upperHint(c.Check))
	}
	if want := c.computeCheck(); c.Check != want {
		return CertificateID{}, errorf(CodeCheckCharacter, "The certificate identifier has check character \"%c\", but its parts give \"%c\"; it has probably been mistyped.", c.Check, want)
	}
	return c, nil
}

// MOD3736Check returns the ISO/IEC 7064 (GB/T 17710) MOD 37,36 hybrid check
// character of body, a string over 0-9A-Z (value = index). For a certificate
// identifier, body is TypeCode+IssuerCode+Serial+Version joined without the
// root or dots.
//
// The system detects every single-character substitution. Like the other
// ISO/IEC 7064 hybrid systems it misses a few transpositions of adjacent
// characters: ...13544541J... and ...13544451J... share a check character.
func MOD3736Check(body string) (byte, error) {
	if len(body) == 0 {
		return 0, errorf(CodeLength, "The body to compute a MOD 37,36 check character over is empty.")
	}
	p, bad := mod3736Step(mod3736Modulus, body)
	if bad >= 0 {
		return 0, errorf(CodeCharset, "Character %d (%s) is not a digit or an upper-case letter.%s", bad+1, quoteByte(body[bad]), upperHint(body[bad]))
	}
	return mod3736Final(p), nil
}

// computeCheck is MOD3736Check over the four parts without joining them.
// The parts must already be over 0-9A-Z.
func (c CertificateID) computeCheck() byte {
	p := mod3736Modulus
	p, _ = mod3736Step(p, c.TypeCode)
	p, _ = mod3736Step(p, c.IssuerCode)
	p, _ = mod3736Step(p, c.Serial)
	p, _ = mod3736Step(p, c.Version)
	return mod3736Final(p)
}

// mod3736Next[p][v] is the MOD 37,36 state after reading a character of
// value v in state p: S = (p+v) mod 36, with 0 read as 36; next = 2S mod 37.
// The table turns each step's two divisions into one load.
var mod3736Next = func() (t [mod3736Modulus + 1][mod3736Modulus]uint8) {
	for p := range t {
		for v := range t[p] {
			s := (p + v) % mod3736Modulus
			if s == 0 {
				s = mod3736Modulus
			}
			t[p][v] = uint8(2 * s % (mod3736Modulus + 1))
		}
	}
	return t
}()

// mod3736Step runs the MOD 37,36 recurrence over s from state p (1..36). It
// returns the new state and the index of the first character outside 0-9A-Z,
// or -1.
func mod3736Step(p int, s string) (int, int) {
	for i := 0; i < len(s); i++ {
		v := alnumValue[s[i]]
		if v < 0 {
			return p, i
		}
		p = int(mod3736Next[p][v])
	}
	return p, -1
}

func mod3736Final(p int) byte {
	return alnumChars[(mod3736Modulus+1-p)%mod3736Modulus]
}

func validateTypeCode(t string) error {
	if len(t) != typeCodeLen {
		return errorf(CodeFormat, "The type code of a certificate identifier must be 21 characters long, not %d.", len(t))
	}
	if err := alnumCharset(t, "type code"); err != nil {
		return err
	}
	if err := validateUSCC(t[:USCCLen], "defining agency's code in the type code (its first 18 characters)"); err != nil {
		return err
	}
	if !allDigits(t[USCCLen:]) {
		return errorf(CodeFormat, "The last 3 characters of the type code of a certificate identifier must be digits.")
	}
	return nil
}

func validateIssuerCode(s string, areaOK bool) error {
	if areaOK && len(s) == areaCodeLen {
		if !allDigits(s) {
			return errorf(CodeCharset, "A 6-character issuer code in a certificate identifier must be an area code of 6 digits.")
		}
		if s[0] < '1' || s[0] > '8' {
			return errorf(CodeAreaCode, "The issuer area code of the certificate identifier is not plausible: the first digit must be 1-8.")
		}
		return nil
	}
	if len(s) != USCCLen {
		if areaOK {
			return errorf(CodeFormat, "The issuer code of a certificate identifier must be an 18-character unified social credit code (or a 6-digit area code), not %d characters.", len(s))
		}
		return errorf(CodeFormat, "The issuer code of a certificate identifier must be an 18-character unified social credit code, not %d characters.", len(s))
	}
	return validateUSCC(s, "issuer code")
}

func validateSerial(s string) error {
	if len(s) == 0 {
		return errorf(CodeFormat, "The serial of a certificate identifier is empty.")
	}
	return alnumCharset(s, "serial")
}

func validateVersion(s string) error {
	if len(s) != versionLen || !allDigits(s) || s == "000" {
		return errorf(CodeVersion, "The version of a certificate identifier must be three digits from 001 to 999.")
	}
	return nil
}

func alnumCharset(s, what string) error {
	for i := 0; i < len(s); i++ {
		if alnumValue[s[i]] < 0 {
			return errorf(CodeCharset, "Character %d of the %s of the certificate identifier (%s) must be a digit or an upper-case letter.%s",
				i+1, what, quoteByte(s[i]), upperHint(s[i]))
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// versionDigits is "000001002...999", so versionString can slice it instead
// of allocating.
var versionDigits = func() string {
	b := make([]byte, 0, versionLen*(maxVersion+1))
	for v := range maxVersion + 1 {
		b = append(b, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
	}
	return string(b)
}()

// versionString formats 0..999 as three digits.
func versionString(v int) string {
	return versionDigits[versionLen*v : versionLen*(v+1)]
}
