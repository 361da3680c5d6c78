// Package benefits is 免申即享 — benefits that find their holders: policies
// (政策) whose criteria read certificate face fields and validity, their
// validation against the catalogue (证照目录), and the decision whether a
// holder's valid certificates qualify. It is pure: it loads nothing and
// stores nothing (the matching workflow reads certificates and writes
// entitlements).
//
// A policy's criteria name a certificate type, one of its face fields, an
// operator and a value. Criteria on the same type must all hold on one
// certificate of that type (a 残疾人证 of category X *and* level Y); every
// type named must be covered by one of the holder's valid certificates,
// issued in one of the policy's areas. Ages and anniversaries are counted in
// China Standard Time, on calendar dates: a person born on 1946-12-01 is 80
// on 2026-12-01 (and one born on 29 February turns a year older on 1 March in
// common years).
package benefits

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/issuer"
)

// Operators.
const (
	OpEq            = "eq"              // the field equals value
	OpIn            = "in"              // the field is one of value (a list)
	OpGte           = "gte"             // number or date ≥ value
	OpLte           = "lte"             // number or date ≤ value
	OpBetween       = "between"         // value [low, high], both inclusive
	OpExists        = "exists"          // the field has a value (no value given)
	OpAgeGte        = "age_gte"         // a date field (a birth date) is at least value whole years ago
	OpYearsSinceGte = "years_since_gte" // a date field is at least value whole years ago (an enterprise's age)
)

// Ops lists the operators in a stable order (for documentation and enums).
var Ops = []string{OpEq, OpIn, OpGte, OpLte, OpBetween, OpExists, OpAgeGte, OpYearsSinceGte}

// Limits.
const (
	MaxCriteria   = 10
	MaxAreaCodes  = 50
	MaxInValues   = 100
	MaxYears      = 150
	maxTextLength = 2000
)

// CST is the time zone in which dates and ages are counted.
var CST = time.FixedZone("CST", 8*3600)

// Criterion is one condition on one face field of one certificate type.
type Criterion struct {
	CertificateType string          `json:"certificate_type" doc:"The certificate type whose face field is tested." example:"11100000000021002F001"`
	Field           string          `json:"field" doc:"The face field tested." example:"birth_date"`
	Op              string          `json:"op" doc:"eq, in (one of a list), gte, lte, between [low, high], exists, age_gte (a birth date at least value years ago), years_since_gte (a date at least value years ago)." enum:"eq,in,gte,lte,between,exists,age_gte,years_since_gte" example:"age_gte"`
	Value           json.RawMessage `json:"value,omitempty" doc:"The value compared with (a list for in and between; absent for exists)." example:"70"`
}

// Benefit is what a qualifying holder gets.
type Benefit struct {
	Description string `json:"description" doc:"What the holder receives, in words." example:"高龄老人营养补贴"`
	Amount      string `json:"amount,omitempty" doc:"How much, in words." example:"每月150元"` // e.g. "每月150元"
}

// Policy is a 免申即享 policy as a department defines it.
type Policy struct {
	Code       string      `json:"code" doc:"The policy code; unique." example:"SH-ELDER-70"`
	Name       string      `json:"name" doc:"The policy name." example:"高龄老人营养补贴"`
	LegalBasis string      `json:"legal_basis" doc:"The legal basis (政策依据)." example:"《上海市老年人权益保障条例》"`
	HolderKind string      `json:"holder_kind" doc:"Who may benefit." enum:"person,enterprise" example:"person"`                                          // person | enterprise
	AreaCodes  []string    `json:"area_codes" doc:"Where: area codes (GB/T 2260) or their 2- or 4-digit prefixes; empty: everywhere." example:"[\"31\"]"` // GB/T 2260 codes or their 2- or 4-digit prefixes; empty: everywhere
	Criteria   []Criterion `json:"criteria" doc:"All must hold for a holder to be eligible."`
	Benefit    Benefit     `json:"benefit" doc:"What an eligible holder receives."`
	ValidFrom  string      `json:"valid_from" doc:"First day, YYYY-MM-DD." example:"2026-01-01" format:"date"`                      // YYYY-MM-DD
	ValidUntil *string     `json:"valid_until,omitempty" doc:"Last day (inclusive), YYYY-MM-DD; absent: open-ended." format:"date"` // YYYY-MM-DD, inclusive; nil: open-ended
	// PayeeIdentity: the legal basis requires the payee's identity to pay
	// the benefit. Such a policy always needs the administrator's approval;
	// once approved, its department may read the name and identity number
	// of a holder whose offer stands, one entitlement at a time, each read
	// audited and recorded for the holder (POST …/entitlements/{id}/payee).
	PayeeIdentity bool `json:"payee_identity,omitempty" doc:"The legal basis requires the payee's identity to pay the benefit: once the administrator approves the policy, its department may read the name and identity number behind an entitlement that is offered, one at a time, each read audited and shown in the holder's usage records. False or absent: identity never leaves." example:"false"`
	// Example marks the seeded sample policies.
	Example bool `json:"example,omitempty" doc:"Marks the seeded sample policies." example:"false"`
}

var (
	codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$`)
	areaRE = regexp.MustCompile(`^([0-9]{2}|[0-9]{4}|[0-9]{6})$`)
)

// Compiled is a validated policy, ready to evaluate.
type Compiled struct {
	Policy     Policy
	validFrom  time.Time
	validUntil *time.Time
	byType     map[string][]rule
	types      []string // in the order the criteria name them
}

type rule struct {
	field   string
	op      string
	kind    string // the field's catalogue type
	str     string
	strs    map[string]bool
	num     float64
	lo, hi  float64
	date    time.Time
	dlo     time.Time
	dhi     time.Time
	years   int
	boolean bool
}

// TypeOf finds a catalogue entry.
type TypeOf func(code string) (issuer.CertificateType, bool)

// Compile validates p against the catalogue and returns it ready to
// evaluate, or every problem with a JSON path (criteria[1].value, …).
func Compile(p Policy, typeOf TypeOf) (*Compiled, []issuer.FieldError) {
	var errs []issuer.FieldError
	add := func(field, code, detail string) {
		errs = append(errs, issuer.FieldError{Field: field, Code: code, Detail: detail})
	}
	if !codeRE.MatchString(p.Code) {
		add("code", issuer.CodeFormat, "2 to 64 letters, digits, '.', '_' or '-'")
	}
	text := func(field, v string, max int, required bool) {
		switch {
		case strings.TrimSpace(v) == "" && required:
			add(field, issuer.CodeRequired, "is required")
		case len([]rune(v)) > max:
			add(field, issuer.CodeLength, fmt.Sprintf("at most %d characters", max))
		case hasControl(v):
			add(field, issuer.CodeCharset, "control or bidirectional-override characters are not allowed")
		}
	}
	text("name", p.Name, 200, true)
	text("legal_basis", p.LegalBasis, maxTextLength, true)
	text("benefit.description", p.Benefit.Description, maxTextLength, true)
	text("benefit.amount", p.Benefit.Amount, 100, false)
	if p.HolderKind != issuer.HolderPerson && p.HolderKind != issuer.HolderEnterprise {
		add("holder_kind", issuer.CodeEnum, "must be person or enterprise")
	}
	if len(p.AreaCodes) > MaxAreaCodes {
		add("area_codes", issuer.CodeTooLarge, fmt.Sprintf("at most %d area codes", MaxAreaCodes))
	}
	for i, a := range p.AreaCodes {
		if !areaRE.MatchString(a) {
			add(fmt.Sprintf("area_codes[%d]", i), issuer.CodeAreaCode, "a 6-digit GB/T 2260 code, or its 2- or 4-digit prefix")
		}
	}
	c := &Compiled{Policy: p, byType: map[string][]rule{}}
	from, err := time.ParseInLocation(time.DateOnly, p.ValidFrom, CST)
	if err != nil {
		add("valid_from", issuer.CodeFormat, "a date YYYY-MM-DD")
	}
	c.validFrom = from
	if p.ValidUntil != nil {
		until, err := time.ParseInLocation(time.DateOnly, *p.ValidUntil, CST)
		switch {
		case err != nil:
			add("valid_until", issuer.CodeFormat, "a date YYYY-MM-DD")
		case until.Before(from):
			add("valid_until", issuer.CodeRange, "is before valid_from")
		default:
			end := until.AddDate(0, 0, 1) // inclusive: the whole last day
			c.validUntil = &end
		}
	}
	switch {
	case len(p.Criteria) == 0:
		add("criteria", issuer.CodeRequired, "at least one criterion: a policy reads certificates")
	case len(p.Criteria) > MaxCriteria:
		add("criteria", issuer.CodeTooLarge, fmt.Sprintf("at most %d criteria", MaxCriteria))
	}
	for i, cr := range p.Criteria {
		path := fmt.Sprintf("criteria[%d]", i)
		t, ok := typeOf(cr.CertificateType)
		if !ok {
			add(path+".certificate_type", "unknown", "is not a certificate type in the catalogue")
			continue
		}
		if p.HolderKind != "" && t.HolderKind != p.HolderKind {
			add(path+".certificate_type", issuer.CodeKindMismatch, "is held by "+t.HolderKind+"s, the policy is for "+p.HolderKind+"s")
		}
		var spec *issuer.FieldSpec
		for j := range t.Fields {
			if t.Fields[j].Name == cr.Field {
				spec = &t.Fields[j]
			}
		}
		if spec == nil {
			add(path+".field", issuer.CodeUnknownField, "is not a face field of "+t.Name)
			continue
		}
		r, ferr := compileRule(cr, *spec)
		if ferr != nil {
			ferr.Field = path + "." + ferr.Field
			errs = append(errs, *ferr)
			continue
		}
		if _, seen := c.byType[cr.CertificateType]; !seen {
			c.types = append(c.types, cr.CertificateType)
		}
		c.byType[cr.CertificateType] = append(c.byType[cr.CertificateType], r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func compileRule(cr Criterion, spec issuer.FieldSpec) (rule, *issuer.FieldError) {
	r := rule{field: cr.Field, op: cr.Op, kind: spec.Type}
	bad := func(code, detail string) (rule, *issuer.FieldError) {
		return r, &issuer.FieldError{Field: "value", Code: code, Detail: detail}
	}
	opFor := func(detail string) (rule, *issuer.FieldError) {
		return r, &issuer.FieldError{Field: "op", Code: "op_not_for_type", Detail: detail}
	}
	ordered := spec.Type == issuer.FieldInteger || spec.Type == issuer.FieldNumber || spec.Type == issuer.FieldDate
	switch cr.Op {
	case OpExists:
		if len(cr.Value) > 0 && string(cr.Value) != "null" {
			return bad(issuer.CodeNotAllowed, "exists takes no value")
		}
	case OpEq:
		switch spec.Type {
		case issuer.FieldBoolean:
			if json.Unmarshal(cr.Value, &r.boolean) != nil {
				return bad(issuer.CodeType, "a boolean, as the field")
			}
		case issuer.FieldInteger, issuer.FieldNumber:
			if json.Unmarshal(cr.Value, &r.num) != nil {
				return bad(issuer.CodeType, "a number, as the field")
			}
		default:
			if json.Unmarshal(cr.Value, &r.str) != nil || r.str == "" {
				return bad(issuer.CodeType, "a non-empty string, as the field")
			}
			if spec.Type == issuer.FieldEnum && !contains(spec.Values, r.str) {
				return bad(issuer.CodeEnum, "is not one of the field's values")
			}
			if spec.Type == issuer.FieldDate {
				if _, err := time.Parse(time.DateOnly, r.str); err != nil {
					return bad(issuer.CodeFormat, "a date YYYY-MM-DD")
				}
			}
		}
	case OpIn:
		if spec.Type != issuer.FieldEnum && spec.Type != issuer.FieldString {
			return opFor("in compares text: use it on string or enum fields")
		}
		var vs []string
		if json.Unmarshal(cr.Value, &vs) != nil || len(vs) == 0 || len(vs) > MaxInValues {
			return bad(issuer.CodeType, fmt.Sprintf("a list of 1 to %d strings", MaxInValues))
		}
		r.strs = map[string]bool{}
		for _, v := range vs {
			if spec.Type == issuer.FieldEnum && !contains(spec.Values, v) {
				return bad(issuer.CodeEnum, "names a value the field does not have")
			}
			r.strs[v] = true
		}
	case OpGte, OpLte:
		if !ordered {
			return opFor(cr.Op + " compares numbers or dates")
		}
		if spec.Type == issuer.FieldDate {
			var s string
			d, err := parseDateValue(cr.Value, &s)
			if err != nil {
				return bad(issuer.CodeFormat, "a date YYYY-MM-DD")
			}
			r.date = d
		} else if json.Unmarshal(cr.Value, &r.num) != nil || math.IsNaN(r.num) {
			return bad(issuer.CodeType, "a number")
		}
	case OpBetween:
		if !ordered {
			return opFor("between compares numbers or dates")
		}
		var pair []json.RawMessage
		if json.Unmarshal(cr.Value, &pair) != nil || len(pair) != 2 {
			return bad(issuer.CodeType, "a list [low, high]")
		}
		if spec.Type == issuer.FieldDate {
			var s string
			lo, err1 := parseDateValue(pair[0], &s)
			hi, err2 := parseDateValue(pair[1], &s)
			if err1 != nil || err2 != nil {
				return bad(issuer.CodeFormat, "two dates YYYY-MM-DD")
			}
			if hi.Before(lo) {
				return bad(issuer.CodeRange, "low is after high")
			}
			r.dlo, r.dhi = lo, hi
		} else {
			if json.Unmarshal(pair[0], &r.lo) != nil || json.Unmarshal(pair[1], &r.hi) != nil {
				return bad(issuer.CodeType, "two numbers")
			}
			if r.hi < r.lo {
				return bad(issuer.CodeRange, "low is above high")
			}
		}
	case OpAgeGte, OpYearsSinceGte:
		if spec.Type != issuer.FieldDate {
			return opFor(cr.Op + " counts years since a date: use it on a date field")
		}
		if json.Unmarshal(cr.Value, &r.years) != nil || r.years < 0 || r.years > MaxYears {
			return bad(issuer.CodeRange, fmt.Sprintf("a whole number of years from 0 to %d", MaxYears))
		}
	default:
		return r, &issuer.FieldError{Field: "op", Code: issuer.CodeEnum, Detail: "must be one of " + strings.Join(Ops, ", ")}
	}
	return r, nil
}

func parseDateValue(raw json.RawMessage, s *string) (time.Time, error) {
	if err := json.Unmarshal(raw, s); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.DateOnly, *s)
}

// Types returns the certificate types the policy reads, in criteria order:
// the only types a matcher may load for it.
func (c *Compiled) Types() []string { return append([]string(nil), c.types...) }

// Fields returns the face fields the policy reads of type code.
func (c *Compiled) Fields(code string) []string {
	var out []string
	for _, r := range c.byType[code] {
		if !contains(out, r.field) {
			out = append(out, r.field)
		}
	}
	return out
}

// Period is when the policy is in force: from its first day's start, until
// the end of its last day (nil: open-ended), in China Standard Time.
func (c *Compiled) Period() (from time.Time, until *time.Time) { return c.validFrom, c.validUntil }

// Active reports whether the policy is in force at now.
func (c *Compiled) Active(now time.Time) bool {
	return !now.Before(c.validFrom) && (c.validUntil == nil || now.Before(*c.validUntil))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c {
			return true
		}
	}
	return false
}

// itoa is strconv.Itoa (kept short for the descriptions).
func itoa(n int) string { return strconv.Itoa(n) }
