package issuer

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/suishen/suishen/ident"
)

// Face field types (FieldSpec.Type), the contract's set.
const (
	FieldString  = "string"  // text; MaxLength in runes, optional Pattern
	FieldDate    = "date"    // "YYYY-MM-DD", a real calendar date
	FieldInteger = "integer" // a whole JSON number within ±2^53
	FieldNumber  = "number"  // any finite JSON number
	FieldBoolean = "boolean" // true or false
	FieldEnum    = "enum"    // one of Values
)

// Holder kinds (CertificateType.HolderKind, Holder.Kind).
const (
	HolderPerson     = "person"     // 自然人
	HolderEnterprise = "enterprise" // 法人及其他组织
)

// Holder ID types (Holder.IDType), the code-type of GB/T 36903.
const (
	IDTypeCitizenID = "111" // 公民身份号码
	IDTypeUSCC      = "001" // 统一社会信用代码
)

// Authority levels (CertificateType.DefiningAuthorityLevel and IssuingLevel):
// GB/T 36902's 国家/省部/地市/区县/其他, written as the contract writes
// department levels (which adds 乡镇级).
var AuthorityLevels = []string{"国家级", "省级", "地市级", "区县级", "乡镇级", "其他"}

// Limits on a certificate type (ValidateType) and on a request's face fields
// (ValidateRequest).
const (
	TypeCodeLen          = 21   // defining authority USCC (18) + 3-digit serial
	MaxTypeFields        = 100  // face fields per type
	MaxFieldNameLen      = 64   // bytes of a snake_case field name
	MaxLabelLen          = 64   // runes of a field label
	MaxFieldMaxLength    = 8000 // the largest MaxLength a string field may declare
	DefaultMaxLength     = 2000 // runes of a string field without MaxLength
	MaxPatternLen        = 256  // bytes of a field pattern
	MaxEnumValues        = 200  // values of an enum field
	MaxEnumValueLen      = 64   // runes of one enum value
	MaxValidityYears     = 100  // CertificateType.ValidityYears
	MaxRelatedItems      = 100  // CertificateType.RelatedItems
	MaxTypeNameLen       = 100  // runes of a type or authority name
	MaxRelatedItemLen    = 200  // runes of a related item's name; its code is at most 64 bytes
	MaxRequestFields     = 200  // members of a request's fields object
	MaxRequestFieldBytes = 64 << 10
)

// FieldSpec is one face field (照面信息项) of a certificate type, in the
// contract's shape: {name, label, type, required, max_length?, pattern?,
// values?}. Name is the English snake_case key of the request's and the
// document's fields object; Label is the Chinese label printed on the
// certificate.
//
// Sensitive marks data that reaches an app only when the app's field-level
// 用证清单 names the field: identity numbers and their equivalents (a
// 社会保障号码), other people's identifiers (a spouse's, a parent's), phone
// numbers of persons, health and disability data. A use list that names only
// the type gives its non-sensitive fields (package disclosure).
//
// MaxLength (runes) and Pattern apply to string fields only; Pattern is an
// RE2 expression (Go regexp syntax) matched against the whole value, as if
// written ^(?:pattern)$. Values lists an enum field's allowed values.
type FieldSpec struct {
	Name      string   `json:"name" doc:"The field name in fields{} (snake_case)." example:"legal_representative"`
	Label     string   `json:"label" doc:"The label printed on the certificate face." example:"法定代表人"`
	Type      string   `json:"type" doc:"The value type; dates are YYYY-MM-DD; enum takes one of values." enum:"string,date,integer,number,boolean,enum" example:"string"`
	Required  bool     `json:"required" doc:"Whether every certificate of the type must have it." example:"true"`
	MaxLength int      `json:"max_length,omitempty" doc:"The longest value in characters (strings)." example:"50"`
	Pattern   string   `json:"pattern,omitempty" doc:"A regular expression the whole value must match (strings)." example:"^[0-9]{15}$"`
	Values    []string `json:"values,omitempty" doc:"The allowed values of an enum field." example:"[\"有限责任公司\",\"股份有限公司\"]"`
	Sensitive bool     `json:"sensitive,omitempty" doc:"Sensitive personal data (identity numbers, phone numbers, health data, …): an app receives it only when its use list names the field." example:"false"`
}

// RelatedItem is a 政务服务事项 (government service item) related to a type:
// the items that issue, change or cancel it.
type RelatedItem struct {
	Code string `json:"code" doc:"The related service item code (关联事项编码)." example:"310100-000-01"`
	Name string `json:"name" doc:"Its name." example:"营业执照变更登记"`
}

// CertificateType is a catalogue entry (证照目录, GB/T 36902).
//
// Validity rule. ValidityYears is the longest fixed validity period, in
// years, a certificate of this type may have (valid_until at most
// ValidityYears calendar years after valid_from); LongTerm says whether a
// certificate may instead be long-term (长期, no valid_until). Exactly:
//
//   - ValidityYears > 0, LongTerm false: valid_until is required (e.g.
//     食品经营许可证, 5 years);
//   - ValidityYears > 0, LongTerm true: valid_until within the range, or
//     long_term (e.g. 居民身份证: 5, 10, 20 years or 长期);
//   - ValidityYears = 0, LongTerm true: long-term only (e.g. 结婚证);
//   - ValidityYears = 0, LongTerm false: invalid (ValidateType rejects it).
type CertificateType struct {
	Code                   string        `json:"code" doc:"证照类型代码: the defining authority USCC and a 3-digit serial (GB/T 36902)." example:"11100000000021001C001"`  // 证照类型代码: DefiningAuthorityUSCC + 3-digit serial
	Name                   string        `json:"name" doc:"证照类型名称." example:"营业执照"`                                                                                  // 证照类型名称
	DefiningAuthority      string        `json:"defining_authority" doc:"证照定义机构: who defines the type." example:"国家市场监督管理总局"`                                        // 证照定义机构
	DefiningAuthorityUSCC  string        `json:"defining_authority_uscc" doc:"证照定义机构代码." example:"11100000000021001C"`                                               // 证照定义机构代码
	DefiningAuthorityLevel string        `json:"defining_authority_level" doc:"证照定义机构级别." enum:"国家级,省级,地市级,区县级,乡镇级,其他" example:"国家级"`                                // 证照定义机构级别, one of AuthorityLevels
	HolderKind             string        `json:"holder_kind" doc:"持证主体类别: who holds such certificates." enum:"person,enterprise" example:"enterprise"`               // 持证主体类别: person | enterprise
	ValidityYears          int           `json:"validity_years" doc:"有效期限范围: the longest fixed validity in years; 0 for long-term only." example:"0"`                // 有效期限范围: longest fixed period, 0 = long-term only
	LongTerm               bool          `json:"long_term" doc:"Whether long-term validity (长期) is allowed." example:"true"`                                         // 长期 allowed
	IssuingLevel           string        `json:"issuing_level" doc:"颁发机构级别: the level of the departments that issue it." enum:"国家级,省级,地市级,区县级,乡镇级,其他" example:"区县级"` // 颁发机构级别, one of AuthorityLevels
	RelatedItems           []RelatedItem `json:"related_items" doc:"关联事项: service items that use the type."`                                                         // 关联事项
	Fields                 []FieldSpec   `json:"fields" doc:"照面信息: the face fields of the type."`                                                                    // 照面信息 schema
}

var (
	fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// ValidateType checks a catalogue entry, as an admin would add it: the
// 21-character code (a valid USCC, check character included, then 3
// digits) agreeing with DefiningAuthorityUSCC; names present and bounded;
// levels and holder kind from their sets; a validity rule that can be met;
// related items with unique codes; and a sane face-field schema — 1 to
// MaxTypeFields fields with unique snake_case names, labels, a known type,
// MaxLength and Pattern only on strings, patterns that compile (at most
// MaxPatternLen bytes), Values (non-empty, unique) exactly on enums. It
// returns nil for a valid type.
func ValidateType(t CertificateType) []FieldError {
	var v errs
	codeOK := false
	switch {
	case t.Code == "":
		v.add("code", CodeRequired, "the type code is required")
	case len(t.Code) != TypeCodeLen:
		v.add("code", CodeLength, "a type code has 21 characters: the defining authority's unified social credit code and a 3-digit serial")
	default:
		if err := ident.ValidateUSCC(t.Code[:ident.USCCLen]); err != nil {
			v.add("code", errorCode(err, CodeFormat), "the first 18 characters of the type code must be a valid unified social credit code")
		} else if !allDigits(t.Code[ident.USCCLen:]) {
			v.add("code", CodeFormat, "the last 3 characters of the type code must be digits")
		} else {
			codeOK = true
		}
	}
	v.text("name", t.Name, true, MaxTypeNameLen)
	v.text("defining_authority", t.DefiningAuthority, true, MaxTypeNameLen)
	if t.DefiningAuthorityUSCC == "" {
		v.add("defining_authority_uscc", CodeRequired, "the defining authority's unified social credit code is required")
	} else if err := ident.ValidateUSCC(t.DefiningAuthorityUSCC); err != nil {
		v.add("defining_authority_uscc", errorCode(err, CodeFormat), "not a valid unified social credit code")
	} else if codeOK && t.Code[:ident.USCCLen] != t.DefiningAuthorityUSCC {
		v.add("code", CodeMismatch, "the type code must start with the defining authority's unified social credit code")
	}
	v.level("defining_authority_level", t.DefiningAuthorityLevel)
	v.level("issuing_level", t.IssuingLevel)
	switch t.HolderKind {
	case HolderPerson, HolderEnterprise:
	case "":
		v.add("holder_kind", CodeRequired, "the holder kind is required")
	default:
		v.add("holder_kind", CodeEnum, "the holder kind must be person or enterprise")
	}
	switch {
	case t.ValidityYears < 0 || t.ValidityYears > MaxValidityYears:
		v.add("validity_years", CodeRange, fmt.Sprintf("the validity must be 0 to %d years", MaxValidityYears))
	case t.ValidityYears == 0 && !t.LongTerm:
		v.add("validity_years", CodeRange, "a type without a fixed validity period must allow long-term certificates")
	}
	if len(t.RelatedItems) > MaxRelatedItems {
		v.add("related_items", CodeTooLarge, fmt.Sprintf("at most %d related items", MaxRelatedItems))
	} else {
		seen := make(map[string]bool, len(t.RelatedItems))
		for i, it := range t.RelatedItems {
			p := "related_items[" + strconv.Itoa(i) + "]"
			switch {
			case it.Code == "":
				v.add(p+".code", CodeRequired, "a related item needs its code")
			case len(it.Code) > 64 || !printable(it.Code, false):
				v.add(p+".code", CodeFormat, "a related item code is at most 64 printable characters")
			case seen[it.Code]:
				v.add(p+".code", CodeDuplicate, "related item codes must be unique")
			}
			seen[it.Code] = true
			v.text(p+".name", it.Name, true, MaxRelatedItemLen)
		}
	}
	switch {
	case len(t.Fields) == 0:
		v.add("fields", CodeRequired, "a type needs at least one face field")
	case len(t.Fields) > MaxTypeFields:
		v.add("fields", CodeTooLarge, fmt.Sprintf("at most %d face fields", MaxTypeFields))
	default:
		seen := make(map[string]bool, len(t.Fields))
		for i, f := range t.Fields {
			validateFieldSpec(&v, "fields["+strconv.Itoa(i)+"]", f, seen)
		}
	}
	return v.list
}

func validateFieldSpec(v *errs, p string, f FieldSpec, seen map[string]bool) {
	switch {
	case f.Name == "":
		v.add(p+".name", CodeRequired, "a field needs a name")
	case len(f.Name) > MaxFieldNameLen || !fieldNameRE.MatchString(f.Name):
		v.add(p+".name", CodeFormat, fmt.Sprintf("a field name is snake_case: lower-case letters, digits and single underscores, starting with a letter, at most %d characters", MaxFieldNameLen))
	case seen[f.Name]:
		v.add(p+".name", CodeDuplicate, "field names must be unique within a type")
	}
	seen[f.Name] = true
	v.text(p+".label", f.Label, true, MaxLabelLen)
	known := true
	switch f.Type {
	case FieldString, FieldDate, FieldInteger, FieldNumber, FieldBoolean, FieldEnum:
	case "":
		known = false
		v.add(p+".type", CodeRequired, "a field needs a type")
	default:
		known = false
		v.add(p+".type", CodeEnum, "the type must be string, date, integer, number, boolean or enum")
	}
	// With an unknown type, only the type is reported.
	if f.MaxLength != 0 {
		if f.Type != FieldString && known {
			v.add(p+".max_length", CodeNotAllowed, "max_length applies to string fields only")
		} else if f.MaxLength < 0 || f.MaxLength > MaxFieldMaxLength {
			v.add(p+".max_length", CodeRange, fmt.Sprintf("max_length must be 1 to %d", MaxFieldMaxLength))
		}
	}
	if f.Pattern != "" {
		if f.Type != FieldString && known {
			v.add(p+".pattern", CodeNotAllowed, "pattern applies to string fields only")
		} else if _, err := compilePattern(f.Pattern); err != nil {
			v.add(p+".pattern", CodeInvalidPattern, err.Error())
		}
	}
	if f.Type == FieldEnum {
		switch {
		case len(f.Values) == 0:
			v.add(p+".values", CodeRequired, "an enum field needs its values")
		case len(f.Values) > MaxEnumValues:
			v.add(p+".values", CodeTooLarge, fmt.Sprintf("at most %d values", MaxEnumValues))
		default:
			vals := make(map[string]bool, len(f.Values))
			for j, s := range f.Values {
				vp := p + ".values[" + strconv.Itoa(j) + "]"
				v.text(vp, s, true, MaxEnumValueLen)
				if vals[s] {
					v.add(vp, CodeDuplicate, "enum values must be unique")
				}
				vals[s] = true
			}
		}
	} else if len(f.Values) > 0 && known {
		v.add(p+".values", CodeNotAllowed, "values apply to enum fields only")
	}
}

// errs collects FieldErrors.
type errs struct{ list []FieldError }

func (v *errs) add(field, code, detail string) {
	v.list = append(v.list, FieldError{Field: field, Code: code, Detail: detail})
}

// text checks a required-or-optional single-line text of at most max runes.
func (v *errs) text(field, s string, required bool, max int) {
	switch {
	case s == "":
		if required {
			v.add(field, CodeRequired, "a value is required")
		}
	case !utf8.ValidString(s) || !printable(s, false):
		v.add(field, CodeCharset, "only printable characters on a single line are allowed")
	case utf8.RuneCountInString(s) > max:
		v.add(field, CodeLength, fmt.Sprintf("at most %d characters", max))
	}
}

func (v *errs) level(field, s string) {
	if s == "" {
		v.add(field, CodeRequired, "the level is required")
		return
	}
	for _, l := range AuthorityLevels {
		if s == l {
			return
		}
	}
	v.add(field, CodeEnum, "the level must be one of 国家级, 省级, 地市级, 区县级, 乡镇级, 其他")
}

// CheckText is the one rule for text that callers put into the product —
// names, numbers and face fields at issuance, and every caller's free text
// in records (org sub-unit, operator, purpose, reasons): it returns "" when
// s is valid UTF-8 of at most max runes without control characters (C0,
// DEL, C1), line and paragraph separators, U+FFFD, or invisible format
// characters that can make a record read differently from what it holds —
// the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), the marks U+200E, U+200F and U+061C, zero-width
// characters (U+200B–U+200D, U+2060, U+FEFF) and the rest of Unicode's Cf
// category. With multiline, LF, CR and TAB are allowed too (long text such
// as a business scope). Otherwise it returns CodeCharset or CodeLength. The
// empty string passes: whether a value is required is the caller's rule.
func CheckText(s string, max int, multiline bool) string {
	n, ok := printableRunes(s, multiline)
	switch {
	case !ok:
		return CodeCharset
	case n > max:
		return CodeLength
	}
	return ""
}

// printable reports whether s passes CheckText's character rule.
func printable(s string, multiline bool) bool {
	_, ok := printableRunes(s, multiline)
	return ok
}

// printableRunes is printable that also counts the runes, in one pass.
func printableRunes(s string, multiline bool) (n int, ok bool) {
	for _, r := range s {
		n++
		switch {
		case r >= 0xa0 && r != utf8.RuneError && r != 0x2028 && r != 0x2029 && !unicode.Is(unicode.Cf, r):
		case r >= 0x20 && r < 0x7f:
		case r == '\n' || r == '\r' || r == '\t':
			if !multiline {
				return n, false
			}
		default:
			return n, false
		}
	}
	return n, true
}

// Patterns are compiled once, anchored, and cached by their text, so every
// type (seeded or added by an admin) pays the compilation once per process.
// The cache is bounded: past patternCacheMax patterns, new ones are compiled
// on each use (a catalogue has a few dozen).
const patternCacheMax = 4096

var patternCache = struct {
	sync.RWMutex
	m map[string]*regexp.Regexp
}{m: make(map[string]*regexp.Regexp)}

func compilePattern(p string) (*regexp.Regexp, error) {
	patternCache.RLock()
	re, ok := patternCache.m[p]
	patternCache.RUnlock()
	if ok {
		return re, nil
	}
	if len(p) > MaxPatternLen {
		return nil, fmt.Errorf("a pattern is at most %d bytes", MaxPatternLen)
	}
	// Parse the pattern alone first: wrapping "a)|(b" would otherwise
	// escape the anchors.
	if _, err := syntax.Parse(p, syntax.Perl); err != nil {
		return nil, fmt.Errorf("the pattern does not compile as a Go (RE2) regular expression")
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, fmt.Errorf("the pattern does not compile as a Go (RE2) regular expression")
	}
	patternCache.Lock()
	if len(patternCache.m) < patternCacheMax {
		patternCache.m[p] = re
	}
	patternCache.Unlock()
	return re, nil
}
