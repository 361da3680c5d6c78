package codes

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/suishen/suishen/signing"
)

// Format constants of version 1 (docs/code-format.md).
const (
	// Version is the format version this package writes.
	Version = 1
	// Prefix starts every version-1 code text. All its characters are in
	// the QR alphanumeric set.
	Prefix = "SS1:"
	// Domain is the domain-separation tag signed in front of the claims:
	// the signed message is Domain ‖ claims.
	Domain = "SSC1"
	// KeyHintSize is the length of the key hint: the first bytes of the
	// signing key's SM3 JWK thumbprint.
	KeyHintSize = 8
	// SignatureSize is the length of the raw SM2 signature r‖s.
	SignatureSize = signing.SignatureSize
	// CertificateIDRoot is the GB/T 36904 root arc. A presentation code
	// stores a certificate identifier that starts with it without the root
	// (flag bit 7 of the length byte).
	CertificateIDRoot = "1.2.156.3005.2."

	// MaxTextLen is the length of the longest valid version-1 code text.
	// Parse rejects anything longer as "oversized" before decoding it.
	MaxTextLen = len(Prefix) + maxCodeBytes/2*3 + maxCodeBytes%2*2

	// QRAlphanumericCapacity7M is the alphanumeric capacity of a QR symbol
	// of version 7 at error-correction level M (ISO/IEC 18004 table 7: 124
	// data codewords = 992 bits = 4 mode + 9 count + 11 per 2 characters).
	// Every personal code text fits it.
	QRAlphanumericCapacity7M = 178
)

// Field bounds of version 1.
const (
	maxStatusList = 64
	maxVenueID    = 64
	maxCertStored = 127 // the length byte keeps bit 7 for the root flag
	minUseCode    = 6
	maxUseCode    = 32
	maxUvarint    = 5

	// Copy (kind 6) bounds: see kindRules for why they keep the largest
	// copy code within MaxTextLen.
	maxCopyCert  = 113 // ident.MaxCertificateIDLen (128) less the root arc
	maxCopyList  = 32
	usccLen      = 18
	maxRecipient = 72 // bytes of UTF-8: 24 Chinese characters
	maxPurpose   = 48 // bytes of UTF-8: 16 Chinese characters

	// Largest claims: the presentation kind with every field at its bound
	// (its lifetime ≤ 86,400 s takes 3 uvarint bytes). TestMaxTextLen
	// issues exactly this code.
	maxClaimsBytes = 1 + KeyHintSize + 4 + 3 + (1 + 32) + (1 + 64) + // common header
		(1 + maxCertStored) + (1 + maxUseCode) + (1 + maxStatusList) + maxUvarint // presentation
	maxCodeBytes = maxClaimsBytes + SignatureSize
	minCodeBytes = 1 + KeyHintSize + 4 + 1 + 1 + 1 + SignatureSize
)

// Epoch is the origin of the code format's time: 2020-01-01T00:00:00Z.
// Times are unsigned 32-bit counts of seconds since Epoch, which last until
// 2156-02-07T06:28:15Z — clear of both the signed 32-bit Unix limit (2038)
// and the unsigned one (2106).
var Epoch = time.Unix(epochUnix, 0).UTC()

const epochUnix = 1577836800

// Claims are the statements a code carries.
type Claims struct {
	Kind Kind
	// IssuedAt and ExpiresAt bound validity, in whole seconds since Epoch
	// (sub-second parts are dropped by Issue). The code is valid from
	// IssuedAt (inclusive) until ExpiresAt (exclusive).
	IssuedAt, ExpiresAt time.Time
	// Subject is the pseudonymous subject: opaque bytes, never an ID
	// number. See NewSubject for the derivation the server uses. Required
	// for personal (1–16 bytes) and offline (1–32) codes, optional (0–32)
	// for the other kinds.
	Subject []byte
	// DisplayName is an optional masked name for display (e.g. "张*"),
	// UTF-8 without control or format characters: at most 18 bytes on a
	// personal code, 64 on the others.
	DisplayName string
	// Generation is the offline code's generation, ≥ 1; 0 on other kinds.
	Generation uint32
	// StatusList and StatusIndex locate the code's entry in a status list
	// (the list's id as published in the trust bundle, and the bit
	// index). Required on offline, enterprise and venue codes; optional on
	// presentation codes (the certificate's entry); absent on personal.
	StatusList  string
	StatusIndex uint32
	// VenueID identifies the venue of a venue code (required there only).
	VenueID string
	// CertificateID is the GB/T 36904 identifier of the certificate a
	// presentation code shows, and UseCode its one-time use code (用证码,
	// 6–32 characters of the Crockford Base32 alphabet 0-9 A-Z without I,
	// L, O, U; see NewUseCode). Both required on presentation codes only.
	CertificateID string
	UseCode       string
	// RecipientOrg, RecipientUSCC and Purpose say whom a copy code (kind
	// Copy) was made for and why: the recipient organisation's name (1–72
	// bytes of UTF-8 display text), its 18-character unified social credit
	// code, and the purpose (1–48 bytes, a verb phrase such as "办理贷款").
	// A copy also carries CertificateID and a StatusList and StatusIndex
	// (its own entry, which follows the certificate's status; the
	// certificate's entry on copies made before copies had their own).
	// Present on copy codes only.
	RecipientOrg  string
	RecipientUSCC string
	Purpose       string
}

// Annotation is a copy's annotation (加注): "仅供" ‖ recipient ‖ purpose ‖
// "使用", e.g. "仅供某银行上海分行办理贷款使用". It is "" for other kinds. It is
// not stored in the code: the signed recipient and purpose determine it.
func (c *Claims) Annotation() string {
	if c.Kind != Copy {
		return ""
	}
	return "仅供" + c.RecipientOrg + c.Purpose + "使用"
}

// Code is a parsed code. Parse fills every field; the slices alias one
// buffer owned by the Code.
type Code struct {
	Claims
	// Version is the format version (1).
	Version uint8
	// KeyHint is the first KeyHintSize bytes of the signer's thumbprint.
	KeyHint []byte
	// Signed is the exact message the signature covers: Domain ‖ claims.
	Signed []byte
	// Signature is the raw SM2 signature r‖s (64 bytes).
	Signature []byte
	// Text is the code text Parse was given.
	Text string
}

// keyInfo caches a public key's thumbprint and hint. Public keys are
// immutable, so a pointer identifies its value for as long as it lives.
type keyInfo struct {
	kid  string
	hint [KeyHintSize]byte
}

var (
	keyCache  sync.Map // *signing.PublicKey → *keyInfo
	keyCacheN atomic.Int32
)

const keyCacheMax = 1024

// keyInfoOf returns pub's thumbprint and hint, or nil for a nil or invalid
// key.
func keyInfoOf(pub *signing.PublicKey) *keyInfo {
	if pub == nil {
		return nil
	}
	if v, ok := keyCache.Load(pub); ok {
		return v.(*keyInfo)
	}
	ki := &keyInfo{kid: signing.Thumbprint(pub)}
	raw, err := base64.RawURLEncoding.DecodeString(ki.kid)
	if err != nil || len(raw) < KeyHintSize {
		return nil
	}
	copy(ki.hint[:], raw)
	// A Signer that returns a fresh *PublicKey per call must not grow the
	// cache without bound.
	if keyCacheN.Add(1) > keyCacheMax {
		keyCache.Clear()
		keyCacheN.Store(0)
	}
	keyCache.Store(pub, ki)
	return ki
}

// KeyHint returns the key hint of pub: the first 8 bytes of the base64url
// decoding of signing.Thumbprint(pub). Verifiers index their trusted code
// keys by it. It returns nil for a nil key.
func KeyHint(pub *signing.PublicKey) []byte {
	ki := keyInfoOf(pub)
	if ki == nil {
		return nil
	}
	return append([]byte(nil), ki.hint[:]...)
}

// KeysByHint returns a lookup for Code.Verify over keys: for a hint it
// answers every key whose KeyHint equals it. Nil keys are skipped.
func KeysByHint(keys ...*signing.PublicKey) func(keyHint []byte) []*signing.PublicKey {
	m := make(map[[KeyHintSize]byte][]*signing.PublicKey, len(keys))
	for _, k := range keys {
		ki := keyInfoOf(k)
		if ki == nil {
			continue
		}
		m[ki.hint] = append(m[ki.hint], k)
	}
	return func(h []byte) []*signing.PublicKey {
		if len(h) != KeyHintSize {
			return nil
		}
		return m[[KeyHintSize]byte(h)]
	}
}

// Issue encodes c, signs it with s and returns the code text.
//
// A zero IssuedAt means time.Now(); a zero ExpiresAt means IssuedAt +
// DefaultLifetime(c.Kind). Both are truncated to whole seconds; callers that
// report the expiry should set the times themselves. Claims that break a
// rule of the format fail with an error wrapping ErrInvalidClaims; nothing
// is signed then. The signature is the signer's SM2 signature (default ID)
// of Domain ‖ claims.
func Issue(s signing.Signer, c Claims) (string, error) {
	if s == nil {
		return "", fmt.Errorf("codes: nil signer")
	}
	ki := keyInfoOf(s.Public())
	if ki == nil {
		return "", fmt.Errorf("codes: signer has no valid public key")
	}
	if !c.Kind.valid() {
		return "", fmt.Errorf("%w: kind %d", ErrInvalidClaims, uint8(c.Kind))
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(DefaultLifetime(c.Kind))
	}
	iat := c.IssuedAt.Unix() - epochUnix
	if iat < 0 || iat > math.MaxUint32 {
		return "", fmt.Errorf("%w: issued-at outside %s … 2156-02-07", ErrInvalidClaims, Epoch.Format(time.RFC3339))
	}
	life := c.ExpiresAt.Unix() - c.IssuedAt.Unix()
	if life < 1 {
		return "", fmt.Errorf("%w: expiry must be at least 1 s after issued-at", ErrInvalidClaims)
	}
	if why := check(&c, uint64(iat), uint64(life)); why != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalidClaims, why)
	}

	msg := make([]byte, 0, len(Domain)+maxCodeBytes)
	msg = append(msg, Domain...)
	msg = appendClaims(msg, &c, &ki.hint, uint32(iat), uint32(life))
	sig, err := s.Sign(msg)
	if err != nil {
		return "", fmt.Errorf("codes: sign: %w", err)
	}
	if len(sig) != SignatureSize {
		return "", fmt.Errorf("codes: signer returned %d signature bytes, want %d", len(sig), SignatureSize)
	}
	code := append(msg, sig...)[len(Domain):]
	out := make([]byte, 0, len(Prefix)+base45EncodedLen(len(code)))
	out = append(out, Prefix...)
	out = appendBase45(out, code)
	return string(out), nil
}

// appendClaims appends the version-1 claims encoding (docs/code-format.md
// §3). c must have passed check.
func appendClaims(b []byte, c *Claims, hint *[KeyHintSize]byte, iat, life uint32) []byte {
	b = append(b, byte(c.Kind))
	b = append(b, hint[:]...)
	b = binary.BigEndian.AppendUint32(b, iat)
	b = binary.AppendUvarint(b, uint64(life))
	b = appendField(b, c.Subject)
	b = appendStr(b, c.DisplayName)
	switch c.Kind {
	case Offline:
		b = binary.AppendUvarint(b, uint64(c.Generation))
		b = appendStatus(b, c)
	case Enterprise:
		b = appendStatus(b, c)
	case Venue:
		b = appendStr(b, c.VenueID)
		b = appendStatus(b, c)
	case Presentation:
		b = appendCert(b, c.CertificateID)
		b = appendStr(b, c.UseCode)
		if c.StatusList == "" {
			b = append(b, 0)
		} else {
			b = appendStatus(b, c)
		}
	case Copy:
		b = appendCert(b, c.CertificateID)
		b = appendStatus(b, c)
		b = append(b, c.RecipientUSCC...)
		b = appendStr(b, c.RecipientOrg)
		b = appendStr(b, c.Purpose)
	}
	return b
}

// appendCert appends a certificate string (§3): the root arc elided and
// flagged in bit 7 of the length byte.
func appendCert(b []byte, id string) []byte {
	if rest, ok := strings.CutPrefix(id, CertificateIDRoot); ok {
		b = append(b, 0x80|byte(len(rest)))
		return append(b, rest...)
	}
	return appendStr(b, id)
}

func appendField(b, v []byte) []byte { return append(append(b, byte(len(v))), v...) }
func appendStr(b []byte, v string) []byte {
	return append(append(b, byte(len(v))), v...)
}
func appendStatus(b []byte, c *Claims) []byte {
	b = appendStr(b, c.StatusList)
	return binary.AppendUvarint(b, uint64(c.StatusIndex))
}

// check enforces every field rule of version 1 on c, with iat and life the
// encoded times. It returns "" or what is wrong. Parse and Issue share it,
// so whatever Issue writes Parse reads, and nothing else.
func check(c *Claims, iat, life uint64) string {
	k := c.Kind
	if !k.valid() {
		return "unknown kind"
	}
	r := kindRules[k]
	if life < 1 || life > uint64(r.maxLifetime/time.Second) {
		return fmt.Sprintf("lifetime of a %s code must be 1 s to %s", k, r.maxLifetime)
	}
	if iat+life > math.MaxUint32 {
		return "expiry beyond the format's time range"
	}
	if len(c.Subject) < r.minSubject || len(c.Subject) > r.maxSubject {
		if r.minSubject > 0 {
			return fmt.Sprintf("subject of a %s code must be %d to %d bytes", k, r.minSubject, r.maxSubject)
		}
		return fmt.Sprintf("subject of a %s code must be at most %d bytes", k, r.maxSubject)
	}
	if len(c.DisplayName) > r.maxName {
		return fmt.Sprintf("display name of a %s code must be at most %d bytes", k, r.maxName)
	}
	if !displayText(c.DisplayName) {
		return "display name must be UTF-8 without control or format characters"
	}
	if (c.Generation != 0) != (k == Offline) {
		if k == Offline {
			return "offline code needs a generation ≥ 1"
		}
		return "only offline codes carry a generation"
	}
	switch k {
	case Offline, Enterprise, Venue, Copy:
		if c.StatusList == "" {
			return fmt.Sprintf("a %s code needs a status list", k)
		}
	case Personal:
		if c.StatusList != "" || c.StatusIndex != 0 {
			return "personal codes carry no status list"
		}
	}
	if c.StatusList == "" && c.StatusIndex != 0 {
		return "status index without a status list"
	}
	if c.StatusList != "" && !identifier(c.StatusList, maxStatusList) {
		return fmt.Sprintf("status list id must be 1 to %d characters of A-Z a-z 0-9 . _ : -", maxStatusList)
	}
	if k == Copy && len(c.StatusList) > maxCopyList {
		return fmt.Sprintf("status list id of a copy code must be at most %d characters", maxCopyList)
	}
	if (c.VenueID != "") != (k == Venue) {
		if k == Venue {
			return "venue code needs a venue id"
		}
		return "only venue codes carry a venue id"
	}
	if k == Venue && !identifier(c.VenueID, maxVenueID) {
		return fmt.Sprintf("venue id must be 1 to %d characters of A-Z a-z 0-9 . _ : -", maxVenueID)
	}
	if k != Copy && (c.RecipientOrg != "" || c.RecipientUSCC != "" || c.Purpose != "") {
		return "only copy codes carry a recipient and a purpose"
	}
	if k != Presentation && c.UseCode != "" {
		return "only presentation codes carry a use code"
	}
	switch k {
	case Presentation:
		if why := certOK(c.CertificateID, maxCertStored); why != "" {
			return why
		}
	case Copy:
		if why := certOK(c.CertificateID, maxCopyCert); why != "" {
			return why
		}
		return copyOK(c)
	default:
		if c.CertificateID != "" {
			return "only presentation and copy codes carry a certificate id"
		}
		return ""
	}
	if !useCodeOK(c.UseCode) {
		return fmt.Sprintf("use code must be %d to %d characters of 0-9 A-Z without I, L, O, U", minUseCode, maxUseCode)
	}
	return ""
}

// certOK checks a certificate id: 1..max characters of A-Z a-z 0-9 . _ : -
// after the root arc, if it has one.
func certOK(id string, max int) string {
	stored := id
	if rest, ok := strings.CutPrefix(stored, CertificateIDRoot); ok {
		if rest == "" {
			return "certificate id is only the root arc"
		}
		stored = rest
	}
	if !identifier(stored, max) {
		return fmt.Sprintf("certificate id must be 1 to %d characters of A-Z a-z 0-9 . _ : - (after the root arc)", max)
	}
	return ""
}

// copyOK checks a copy's recipient and purpose.
func copyOK(c *Claims) string {
	if !usccChars(c.RecipientUSCC) {
		return "recipient USCC must be 18 characters of 0-9 A-Z without I, O, S, V, Z"
	}
	if c.RecipientOrg == "" || len(c.RecipientOrg) > maxRecipient || !displayText(c.RecipientOrg) {
		return fmt.Sprintf("recipient must be 1 to %d bytes of UTF-8 without control or format characters", maxRecipient)
	}
	if c.Purpose == "" || len(c.Purpose) > maxPurpose || !displayText(c.Purpose) {
		return fmt.Sprintf("purpose must be 1 to %d bytes of UTF-8 without control or format characters", maxPurpose)
	}
	return ""
}

// usccChars reports whether s is 18 characters of the unified social credit
// code alphabet (GB 32100: 0-9 and A-Z without I, O, S, V, Z). The check
// character is the issuer's to verify; the format fixes only the alphabet.
func usccChars(s string) bool {
	if len(s) != usccLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(usccAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// identifier reports whether s is 1..max characters of A-Z a-z 0-9 . _ : -.
func identifier(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// useCodeOK reports whether s is 6–32 characters of the Crockford Base32
// alphabet (0-9 A-Z without I, L, O, U).
func useCodeOK(s string) bool {
	if len(s) < minUseCode || len(s) > maxUseCode {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(useCodeAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

// displayText reports whether s is valid UTF-8 without control (Cc),
// format (Cf, e.g. bidirectional overrides), line or paragraph separators
// and without U+FFFD.
func displayText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

// Parse decodes a code text strictly: length bound first, then the prefix,
// canonical Base45, the kind and every field bound. It does not check the
// signature (Code.Verify) or the time (Code.CheckTime). Errors are *Error
// with reason "oversized", "malformed", "unsupported_version" or
// "unknown_kind".
func Parse(text string) (*Code, error) {
	if len(text) > MaxTextLen {
		return nil, errorf(ReasonOversized, fmt.Sprintf("%d characters, at most %d", len(text), MaxTextLen))
	}
	v, payload, err := splitPrefix(text)
	if err != nil {
		return nil, err
	}
	if v != Version {
		return nil, errorf(ReasonUnsupportedVersion, fmt.Sprintf("version %d", v))
	}
	if len(payload)%3 == 1 {
		return nil, errorf(ReasonMalformed, "Base45 length")
	}
	// Decode behind the domain tag so Signed needs no copy.
	raw, ok := appendDecodeBase45(make([]byte, len(Domain), len(Domain)+len(payload)/3*2+1), payload)
	if !ok {
		return nil, errorf(ReasonMalformed, "not canonical Base45")
	}
	copy(raw, Domain)
	code := raw[len(Domain):]
	if len(code) < 1+SignatureSize {
		return nil, errorf(ReasonMalformed, "too short")
	}
	if k := Kind(code[0]); !k.valid() {
		return nil, errorf(ReasonUnknownKind, fmt.Sprintf("kind byte %d", code[0]))
	}
	if len(code) < minCodeBytes {
		return nil, errorf(ReasonMalformed, "too short")
	}
	n := len(raw) - SignatureSize
	c := &Code{Version: Version, Signed: raw[:n:n], Signature: raw[n:], Text: text}
	if err := c.decodeClaims(code[:len(code)-SignatureSize]); err != nil {
		return nil, err
	}
	return c, nil
}

// splitPrefix parses "SS<version>:" where version is 1–3 decimal digits
// without a leading zero.
func splitPrefix(text string) (int, string, error) {
	if !strings.HasPrefix(text, "SS") {
		return 0, "", errorf(ReasonMalformed, "prefix")
	}
	i, v := 2, 0
	for i < len(text) && i < 5 && '0' <= text[i] && text[i] <= '9' {
		v = v*10 + int(text[i]-'0')
		i++
	}
	if i == 2 || i >= len(text) || text[i] != ':' || text[2] == '0' {
		return 0, "", errorf(ReasonMalformed, "prefix")
	}
	return v, text[i+1:], nil
}

// reader reads the claims fields; any read past the end sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte1() int {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *reader) field() []byte { return r.take(r.byte1()) }
func (r *reader) str() string   { return string(r.field()) }

// uvarint reads a minimal LEB128 unsigned integer of at most 5 bytes whose
// value fits 32 bits.
func (r *reader) uvarint() uint32 {
	if r.bad {
		return 0
	}
	var v uint64
	for i := 0; i < maxUvarint; i++ {
		if i >= len(r.b) {
			r.bad = true
			return 0
		}
		c := r.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if (c == 0 && i > 0) || v > math.MaxUint32 {
				r.bad = true // not minimal, or too large
				return 0
			}
			r.b = r.b[i+1:]
			return uint32(v)
		}
	}
	r.bad = true
	return 0
}

func (c *Code) decodeClaims(b []byte) error {
	r := &reader{b: b}
	c.Kind = Kind(r.byte1())
	c.KeyHint = r.take(KeyHintSize)
	var iat uint32
	if t := r.take(4); t != nil {
		iat = binary.BigEndian.Uint32(t)
	}
	life := r.uvarint()
	c.Subject = r.field()
	c.DisplayName = r.str()
	switch c.Kind {
	case Offline:
		c.Generation = r.uvarint()
		c.StatusList = r.str()
		c.StatusIndex = r.uvarint()
	case Enterprise:
		c.StatusList = r.str()
		c.StatusIndex = r.uvarint()
	case Venue:
		c.VenueID = r.str()
		c.StatusList = r.str()
		c.StatusIndex = r.uvarint()
	case Presentation:
		if err := c.readCert(r); err != nil {
			return err
		}
		c.UseCode = r.str()
		c.StatusList = r.str()
		if c.StatusList != "" {
			c.StatusIndex = r.uvarint()
		}
	case Copy:
		if err := c.readCert(r); err != nil {
			return err
		}
		c.StatusList = r.str()
		c.StatusIndex = r.uvarint()
		c.RecipientUSCC = string(r.take(usccLen))
		c.RecipientOrg = r.str()
		c.Purpose = r.str()
	}
	if r.bad {
		return errorf(ReasonMalformed, "truncated field")
	}
	if len(r.b) != 0 {
		return errorf(ReasonMalformed, "trailing bytes")
	}
	if why := check(&c.Claims, uint64(iat), uint64(life)); why != "" {
		return errorf(ReasonMalformed, why)
	}
	c.IssuedAt = time.Unix(epochUnix+int64(iat), 0).UTC()
	c.ExpiresAt = time.Unix(epochUnix+int64(iat)+int64(life), 0).UTC()
	return nil
}

// readCert reads a certificate string (§3).
func (c *Code) readCert(r *reader) error {
	l := r.byte1()
	rest := string(r.take(l & 0x7f))
	switch {
	case l&0x80 != 0:
		c.CertificateID = CertificateIDRoot + rest
	case strings.HasPrefix(rest, CertificateIDRoot):
		return errorf(ReasonMalformed, "certificate id root not elided")
	default:
		c.CertificateID = rest
	}
	return nil
}

// Verify checks the signature with the keys lookup returns for the code's
// key hint (all keys whose hint matches — there may be more than one; each
// is tried) and returns the thumbprint (kid) of the key that verified.
// It fails with "unknown_key" when lookup has no key for the hint and
// "bad_signature" when none verifies. It checks only the signature: the
// caller still checks time (CheckTime), the kid's trust status
// (retired/compromised, validity) and, for revocable kinds, the status list.
func (c *Code) Verify(lookup func(keyHint []byte) []*signing.PublicKey) (kid string, err error) {
	if lookup == nil {
		return "", errorf(ReasonUnknownKey, "no keys")
	}
	tried := 0
	for _, k := range lookup(c.KeyHint) {
		if k == nil {
			continue
		}
		tried++
		if signing.Verify(k, c.Signed, c.Signature) {
			if ki := keyInfoOf(k); ki != nil {
				return ki.kid, nil
			}
			return signing.Thumbprint(k), nil
		}
	}
	if tried == 0 {
		return "", errorf(ReasonUnknownKey, "no trusted key for the hint")
	}
	return "", errorf(ReasonBadSignature, fmt.Sprintf("%d candidate key(s) tried", tried))
}

// CheckTime reports whether now lies in [IssuedAt − skew, ExpiresAt + skew):
// "not_yet_valid" before, "expired" from then on. A negative skew counts as
// its absolute value.
func (c *Code) CheckTime(now time.Time, skew time.Duration) error {
	if skew < 0 {
		skew = -skew
	}
	if now.Add(skew).Before(c.IssuedAt) {
		return errorf(ReasonNotYetValid, "issued-at is in the future")
	}
	if !now.Add(-skew).Before(c.ExpiresAt) {
		return errorf(ReasonExpired, "")
	}
	return nil
}

// Expect fails with "wrong_kind" unless the code is of one of kinds.
func (c *Code) Expect(kinds ...Kind) error {
	for _, k := range kinds {
		if c.Kind == k {
			return nil
		}
	}
	return errorf(ReasonWrongKind, fmt.Sprintf("a %s code", c.Kind))
}
