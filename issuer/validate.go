package issuer

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/suishen/suishen/ident"
)

// Holder is the holder (持证主体) of a certificate: a person identified by a
// citizen ID number (IDType "111") or an enterprise identified by its unified
// social credit code (IDType "001").
//
// A Holder prints (fmt, log/slog) with its name and ID number masked.
type Holder struct {
	Kind     string `json:"kind"`      // person | enterprise
	Name     string `json:"name"`      // 持证主体名称
	IDType   string `json:"id_type"`   // 持证主体代码类型: 111 | 001
	IDNumber string `json:"id_number"` // 持证主体代码
}

// String returns the holder with its name and ID number masked.
func (h Holder) String() string {
	return fmt.Sprintf("{%s %s %s %s}", h.Kind, maskName(h.Kind, h.Name), h.IDType, ident.MaskCitizenID(h.IDNumber))
}

// GoString is String, so %#v masks too.
func (h Holder) GoString() string { return h.String() }

// LogValue implements slog.LogValuer with masked personal data.
func (h Holder) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", h.Kind),
		slog.String("name", maskName(h.Kind, h.Name)),
		slog.String("id_type", h.IDType),
		slog.String("id_number", ident.MaskCitizenID(h.IDNumber)),
	)
}

// maskName masks a person's name; an enterprise name is public.
func maskName(kind, name string) string {
	if kind == HolderEnterprise {
		return name
	}
	return ident.MaskName(name)
}

// IssueRequest is a request to issue one certificate: the body of
// POST /v1/certificates, a CSV row or a JSONL line.
//
// ValidFrom and ValidUntil are calendar dates (see ParseDate); a long-term
// certificate has LongTerm set and no ValidUntil. Fields is the face data
// (照面信息) keyed by FieldSpec.Name, as decoded from JSON: numbers may be
// float64 or json.Number (decoders with UseNumber), and Go ints are accepted
// too.
//
// An IssueRequest prints (fmt, log/slog) without personal data: the holder
// masked, the number and the face values left out.
type IssueRequest struct {
	TypeCode   string
	Number     string // 证照编号, printed on the face; distinct from the identifier
	Holder     Holder
	ValidFrom  time.Time
	ValidUntil *time.Time
	LongTerm   bool
	AreaCode   string // 颁证单位行政区划代码 (GB/T 2260)
	Fields     map[string]any
}

// String describes the request without personal data.
func (r IssueRequest) String() string {
	return fmt.Sprintf("IssueRequest{type %s, holder %s, %d fields}", r.TypeCode, r.Holder, len(r.Fields))
}

// GoString is String, so %#v leaks nothing either.
func (r IssueRequest) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without personal data.
func (r IssueRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type_code", r.TypeCode),
		slog.Any("holder", r.Holder),
		slog.Int("fields", len(r.Fields)),
	)
}

// Request limits.
const (
	MaxNumberLen           = 64  // runes of a 证照编号
	MaxPersonNameLen       = 64  // runes of a person holder's name
	MaxEnterpriseNameLen   = 200 // runes of an enterprise holder's name
	MaxValidFromAheadYears = 1   // how far in the future valid_from may lie
)

// provinceCodes are the first two digits of GB/T 2260 codes: the provinces,
// autonomous regions and municipalities, Taiwan (71), Hong Kong (81), Macao (82).
var provinceCodes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// ValidateAreaCode reports the FieldError code for an administrative area
// code (GB/T 2260): "" when it is six digits under a real province code,
// CodeRequired, CodeFormat or CodeAreaCode otherwise.
func ValidateAreaCode(s string) string {
	switch {
	case s == "":
		return CodeRequired
	case len(s) != 6 || !allDigits(s):
		return CodeFormat
	case !provinceCodes[s[:2]]:
		return CodeAreaCode
	}
	return ""
}

// ValidateRequest checks r against certificate type t at time now (the
// caller's clock) and returns every problem, or nil. It checks:
//
//   - type_code: equal to t.Code;
//   - number (证照编号): present, at most MaxNumberLen printable characters on
//     one line, no leading or trailing white space;
//   - holder: kind person|enterprise and equal to t.HolderKind; id_type 111
//     for a person, 001 for an enterprise; id_number a valid citizen ID
//     number with a real birth date not after now (GB 11643) or a valid
//     unified social credit code (GB 32100), with ident's error codes; name
//     present and bounded;
//   - validity against t's rule (see CertificateType): valid_from present,
//     1900 or later and at most a year after now; valid_until after
//     valid_from and at most t.ValidityYears years after it, or long_term
//     when t allows it — never both;
//   - area_code: six digits under a real GB/T 2260 province code;
//   - fields: every required field present and non-empty; each value of its
//     field's type (strings; dates "YYYY-MM-DD"; integers whole and within
//     ±2^53, given as float64, json.Number or a Go int; numbers finite;
//     booleans); strings at most MaxLength runes (DefaultMaxLength when
//     unset), printable (line breaks and tabs allowed) and matching Pattern
//     (anchored); enum values among Values; no member outside the schema; at
//     most MaxRequestFields members and MaxRequestFieldBytes of text.
//
// Errors come in that order, face fields in schema order and unknown members
// sorted by name. ValidateRequest does not check t itself (see ValidateType).
// It is safe for concurrent use.
func ValidateRequest(t CertificateType, r IssueRequest, now time.Time) []FieldError {
	var v errs
	switch {
	case r.TypeCode == "":
		v.add("type_code", CodeRequired, "the certificate type code is required")
	case r.TypeCode != t.Code:
		v.add("type_code", CodeTypeMismatch, "the request is for another certificate type")
	}
	switch {
	case r.Number == "":
		v.add("number", CodeRequired, "the certificate number (证照编号) is required")
	case !utf8.ValidString(r.Number) || !printable(r.Number, false):
		v.add("number", CodeCharset, "the certificate number must be printable characters on one line")
	case utf8.RuneCountInString(r.Number) > MaxNumberLen:
		v.add("number", CodeLength, fmt.Sprintf("the certificate number is at most %d characters", MaxNumberLen))
	case strings.TrimSpace(r.Number) != r.Number:
		v.add("number", CodeFormat, "the certificate number must not start or end with white space")
	}
	validateHolder(&v, t, r.Holder, now)
	validateValidity(&v, t, r, now)
	if code := ValidateAreaCode(r.AreaCode); code != "" {
		v.add("area_code", code, "the area code is the six-digit administrative area code (GB/T 2260) of the issuing authority")
	}
	validateFields(&v, t, r.Fields)
	return v.list
}

func validateHolder(v *errs, t CertificateType, h Holder, now time.Time) {
	switch h.Kind {
	case "":
		v.add("holder.kind", CodeRequired, "the holder kind is required")
	case HolderPerson, HolderEnterprise:
		if h.Kind != t.HolderKind {
			v.add("holder.kind", CodeKindMismatch, "this certificate type is held by a "+t.HolderKind+", not a "+h.Kind)
		}
	default:
		v.add("holder.kind", CodeEnum, "the holder kind must be person or enterprise")
	}
	// The ID type the holder must have: from the holder's own kind when it
	// is one, else from the type.
	kind := h.Kind
	if kind != HolderPerson && kind != HolderEnterprise {
		kind = t.HolderKind
	}
	wantIDType := IDTypeCitizenID
	if kind == HolderEnterprise {
		wantIDType = IDTypeUSCC
	}
	switch h.IDType {
	case "":
		v.add("holder.id_type", CodeRequired, "the holder ID type is required: 111 (citizen ID number) or 001 (unified social credit code)")
	case IDTypeCitizenID, IDTypeUSCC:
		if h.IDType != wantIDType {
			v.add("holder.id_type", CodeKindMismatch, "a person is identified by id_type 111 (citizen ID number), an enterprise by 001 (unified social credit code)")
		}
	default:
		v.add("holder.id_type", CodeEnum, "the holder ID type must be 111 (citizen ID number) or 001 (unified social credit code)")
	}
	// The number is checked as what the holder's kind requires, whatever
	// id_type says (a wrong id_type is reported above).
	idType := wantIDType
	if h.IDNumber == "" {
		v.add("holder.id_number", CodeRequired, "the holder's ID number is required")
	} else {
		var err error
		if idType == IDTypeCitizenID {
			err = ident.ValidateCitizenID(h.IDNumber, now)
		} else {
			err = ident.ValidateUSCC(h.IDNumber)
		}
		if err != nil {
			// ident's details never repeat a citizen ID number's digits.
			v.add("holder.id_number", errorCode(err, CodeFormat), err.Error())
		}
	}
	max := MaxPersonNameLen
	if kind == HolderEnterprise {
		max = MaxEnterpriseNameLen
	}
	v.text("holder.name", h.Name, true, max)
	if h.Name != "" && strings.TrimSpace(h.Name) != h.Name {
		v.add("holder.name", CodeFormat, "the holder's name must not start or end with white space")
	}
}

func validateValidity(v *errs, t CertificateType, r IssueRequest, now time.Time) {
	var from time.Time
	fromOK := false
	switch {
	case r.ValidFrom.IsZero():
		v.add("valid_from", CodeRequired, "the start of validity is required")
	case r.ValidFrom.In(cst).Year() < 1900:
		v.add("valid_from", CodeDateInvalid, "the start of validity must be in 1900 or later")
	case dateOf(r.ValidFrom).After(dateOf(now).AddDate(MaxValidFromAheadYears, 0, 0)):
		v.add("valid_from", CodeDateFuture, fmt.Sprintf("the start of validity may be at most %d year ahead", MaxValidFromAheadYears))
	default:
		from, fromOK = dateOf(r.ValidFrom), true
	}
	if r.LongTerm {
		if !t.LongTerm {
			v.add("long_term", CodeNotAllowed, fmt.Sprintf("this certificate type is valid for at most %d years; it cannot be long-term", t.ValidityYears))
		}
		if r.ValidUntil != nil {
			v.add("valid_until", CodeConflict, "a long-term certificate has no end of validity")
		}
		return
	}
	if r.ValidUntil == nil {
		if t.ValidityYears == 0 {
			v.add("long_term", CodeRequired, "this certificate type is long-term only: set long_term")
		} else {
			v.add("valid_until", CodeRequired, "the end of validity is required (or long_term, where the type allows it)")
		}
		return
	}
	if t.ValidityYears == 0 {
		v.add("valid_until", CodeNotAllowed, "this certificate type is long-term only; it has no end of validity")
		return
	}
	until := dateOf(*r.ValidUntil)
	switch {
	case r.ValidUntil.IsZero() || r.ValidUntil.In(cst).Year() < 1900:
		v.add("valid_until", CodeDateInvalid, "the end of validity must be a date in 1900 or later")
	case !fromOK:
		// Nothing to compare with; valid_from is already reported.
	case !until.After(from):
		v.add("valid_until", CodeRange, "the end of validity must be after its start")
	case until.After(from.AddDate(t.ValidityYears, 0, 0)):
		v.add("valid_until", CodeRange, fmt.Sprintf("this certificate type is valid for at most %d years", t.ValidityYears))
	}
}

func validateFields(v *errs, t CertificateType, fields map[string]any) {
	if len(fields) > MaxRequestFields {
		v.add("fields", CodeTooLarge, fmt.Sprintf("at most %d face fields", MaxRequestFields))
		return
	}
	size := 0
	for k, x := range fields {
		size += len(k)
		if s, ok := x.(string); ok {
			size += len(s)
		}
	}
	if size > MaxRequestFieldBytes {
		v.add("fields", CodeTooLarge, fmt.Sprintf("the face fields are at most %d bytes of text", MaxRequestFieldBytes))
		return
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		x, present := fields[f.Name]
		if present && x != nil {
			if code, detail := checkValue(f, x); code != "" {
				v.add("fields."+f.Name, code, detail)
			}
			continue
		}
		if f.Required {
			v.add("fields."+f.Name, CodeRequired, "the face field "+f.Label+" is required")
		}
	}
	if len(fields) == 0 {
		return
	}
	var unknown []string
	for k := range fields {
		if !t.hasField(k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	opaque := false
	for _, k := range unknown {
		if safeFieldName(k) {
			v.add("fields."+k, CodeUnknownField, "this certificate type has no such face field")
		} else if !opaque {
			opaque = true
			v.add("fields", CodeUnknownField, "a member whose name is not a face field of this certificate type")
		}
	}
}

func (t *CertificateType) hasField(name string) bool {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return true
		}
	}
	return false
}

// safeFieldName reports whether a client's member name may be echoed in a
// FieldError path: short, and only letters, digits, '_' and '-'.
func safeFieldName(k string) bool {
	if k == "" || len(k) > MaxFieldNameLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkValue validates one present, non-nil face value against its spec and
// returns a FieldError code and detail, or "".
func checkValue(f *FieldSpec, x any) (code, detail string) {
	_, code, detail = canonicalValue(f, x)
	return code, detail
}

// emptyValue is canonicalValue's result for an empty string: the field is
// treated as absent.
type emptyValue struct{}

// canonicalValue returns x in the form the document carries (string, int64,
// float64 or bool), or a FieldError code and detail. An empty string yields
// emptyValue{} for an optional field and CodeRequired for a required one.
func canonicalValue(f *FieldSpec, x any) (out any, code, detail string) {
	if s, ok := x.(string); ok && s == "" {
		if f.Required {
			return nil, CodeRequired, "the face field " + f.Label + " is required"
		}
		return emptyValue{}, "", ""
	}
	switch f.Type {
	case FieldString:
		s, ok := x.(string)
		if !ok {
			return nil, CodeType, "a text value is expected"
		}
		runes, ok := printableRunes(s, true)
		if !ok {
			return nil, CodeCharset, "only printable characters, line breaks and tabs are allowed"
		}
		max := f.MaxLength
		if max <= 0 {
			max = DefaultMaxLength
		}
		if runes > max {
			return nil, CodeLength, fmt.Sprintf("at most %d characters", max)
		}
		if f.Pattern != "" {
			re, err := compilePattern(f.Pattern)
			if err != nil {
				return nil, CodePattern, "the field's pattern is invalid; no value can match it"
			}
			if !re.MatchString(s) {
				return nil, CodePattern, "the value does not have the form this field requires: " + f.Pattern
			}
		}
		return s, "", ""
	case FieldEnum:
		s, ok := x.(string)
		if !ok {
			return nil, CodeType, "a text value is expected"
		}
		for _, allowed := range f.Values {
			if s == allowed {
				return s, "", ""
			}
		}
		return nil, CodeEnum, "the value must be one of the field's values"
	case FieldDate:
		s, ok := x.(string)
		if !ok {
			return nil, CodeType, "a date \"YYYY-MM-DD\" is expected"
		}
		if _, err := ParseDate(s); err != nil {
			return nil, errorCode(err, CodeFormat), "a real calendar date in 1900 or later, written YYYY-MM-DD, is expected"
		}
		return s, "", ""
	case FieldBoolean:
		b, ok := x.(bool)
		if !ok {
			return nil, CodeType, "true or false is expected"
		}
		return b, "", ""
	case FieldInteger:
		n, code := toInteger(x)
		if code != "" {
			if code == CodeRange {
				return nil, code, "an integer between -2^53 and 2^53 is expected"
			}
			return nil, code, "an integer is expected"
		}
		return n, "", ""
	case FieldNumber:
		n, code := toNumber(x)
		if code != "" {
			if code == CodeRange {
				return nil, code, "a finite number is expected"
			}
			return nil, code, "a number is expected"
		}
		return n, "", ""
	}
	return nil, CodeType, "the field's type is unknown"
}

const maxSafeInteger = 1 << 53

func toInteger(x any) (int64, string) {
	switch n := x.(type) {
	case int:
		return intInRange(int64(n))
	case int32:
		return intInRange(int64(n))
	case int64:
		return intInRange(n)
	case float64:
		return floatToInteger(n)
	case json.Number:
		if !isJSONNumber(string(n)) {
			return 0, CodeType
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return intInRange(i)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return 0, CodeRange
			}
			return 0, CodeType
		}
		return floatToInteger(f)
	}
	return 0, CodeType
}

func intInRange(i int64) (int64, string) {
	if i > maxSafeInteger || i < -maxSafeInteger {
		return 0, CodeRange
	}
	return i, ""
}

func floatToInteger(f float64) (int64, string) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, CodeRange
	case f != math.Trunc(f):
		return 0, CodeType
	case f > maxSafeInteger || f < -maxSafeInteger:
		return 0, CodeRange
	}
	return int64(f), ""
}

func toNumber(x any) (float64, string) {
	var f float64
	switch n := x.(type) {
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		if !isJSONNumber(string(n)) {
			return 0, CodeType
		}
		var err error
		f, err = strconv.ParseFloat(string(n), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return 0, CodeRange
			}
			return 0, CodeType
		}
	default:
		return 0, CodeType
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, CodeRange
	}
	return f, ""
}

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259):
// strconv alone would also take "NaN", "Inf", hex and underscores.
func isJSONNumber(s string) bool {
	if len(s) > 64 {
		return false
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}
