// Package cases is the pure domain of 两个免于提交: service items
// (政务服务事项) with the materials they require, how each material may be
// satisfied by an electronic certificate, how the application form is
// pre-filled from certificates, and which conditions are pre-checked; and
// Evaluate, which decides for one application, from the certificates the
// caller found and verified, which materials are exempted (免于提交), which
// are verified by a yes/no match, and which must still be submitted.
//
// The package does no I/O: finding the applicant's certificates, verifying
// their signatures and statuses, deciding whether a pull is allowed (a grant
// for grant-mode materials) and recording usage are the caller's.
package cases

import (
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
)

// Pull modes (Material.Pull): how Suishen may obtain the certificate.
const (
	PullExOfficio = "ex_officio" // the accepting department pulls it by law (legal basis recorded)
	PullGrant     = "grant"      // only with the holder's grant (授权用证)
	PullUseCode   = "use_code"   // only with a one-time 用证码 the holder presents
)

// Pre-check kinds (Precheck.Kind).
const (
	// KindValidForDays: a usable certificate of CertificateType is still
	// valid on the calendar day (China Standard Time) Days days from now;
	// a long-term certificate passes.
	KindValidForDays = "valid_for_days"
	// KindHolderIsApplicant: every certificate attached to the case (of
	// CertificateType, if set) is held by the applicant; fails when none is
	// attached.
	KindHolderIsApplicant = "holder_is_applicant"
	// KindNotRevoked: a verified certificate of CertificateType exists and
	// is in force (not revoked, suspended, cancelled, superseded or expired).
	KindNotRevoked = "not_revoked"
)

// Special prefill sources (PrefillRule.Source); any other source is a face
// field name of the rule's certificate type.
const (
	SourceHolderName     = "holder.name"      // the (first) holder's name
	SourceHolderIDNumber = "holder.id_number" // the (first) holder's 公民身份号码 / 统一社会信用代码
	SourceNumber         = "number"           // 证照编号
	SourceValidFrom      = "valid_from"       // YYYY-MM-DD
	SourceValidUntil     = "valid_until"      // YYYY-MM-DD, or "长期" for a long-term certificate
	SourceIdentifier     = "identifier"       // 证照标识 (GB/T 36904)
)

var specialSources = map[string]bool{
	SourceHolderName: true, SourceHolderIDNumber: true, SourceNumber: true,
	SourceValidFrom: true, SourceValidUntil: true, SourceIdentifier: true,
}

// Limits checked by ValidateItem.
const (
	MaxCodeLen        = 64   // bytes of an item, material, precheck code
	MaxNameLen        = 100  // runes of a name, department or label
	MaxLegalBasisLen  = 200  // runes of a legal basis
	MaxMaterials      = 50   // materials per item
	MaxTypesPerMat    = 20   // certificate types per material
	MaxFieldsPerMat   = 100  // fields per material
	MaxPrefillRules   = 200  // prefill rules per item
	MaxPrechecks      = 20   // prechecks per item
	MaxPrecheckDays   = 3650 // days of a valid_for_days precheck
	MaxFormFieldBytes = 64   // bytes of a form field name
)

// FieldError codes. Those shared with package issuer have the same meaning.
const (
	CodeRequired    = issuer.CodeRequired
	CodeFormat      = issuer.CodeFormat
	CodeLength      = issuer.CodeLength
	CodeCharset     = issuer.CodeCharset
	CodeEnum        = issuer.CodeEnum
	CodeRange       = issuer.CodeRange
	CodeDuplicate   = issuer.CodeDuplicate
	CodeTooLarge    = issuer.CodeTooLarge
	CodeNotAllowed  = issuer.CodeNotAllowed
	CodeUnknownType = "unknown_type"  // a certificate type the catalogue does not have
	CodeUnknownFld  = "unknown_field" // a face field the certificate type does not have
	CodeNotListed   = "not_listed"    // a certificate type no material of the item lists
	CodeVerifyOnly  = "verify_only"   // prefill from a type only verify-only materials list: data must not move
)

// Material is one material (申请材料) an item requires.
type Material struct {
	Code             string   `json:"code" doc:"The material code within the item." example:"M01"`
	Name             string   `json:"name" doc:"The material name (申请材料)." example:"营业执照"`
	CertificateTypes []string `json:"certificate_types" doc:"Certificate types any of which covers the material; empty: no certificate covers it." example:"[\"11100000000021001C001\"]"`                                                                                                    // any of; empty: no certificate covers it
	Fields           []string `json:"fields" doc:"The face fields the material needs." example:"[\"name\",\"domicile\"]"`                                                                                                                                                                    // face fields it needs
	Pull             string   `json:"pull" doc:"How the certificate may be obtained: ex_officio (by law, legal basis recorded), grant (with the holder grant), use_code (with a one-time 用证码); empty only without certificate types." enum:"ex_officio,grant,use_code" example:"ex_officio"` // ex_officio | grant | use_code; "" only without certificate types
	LegalBasis       string   `json:"legal_basis,omitempty" doc:"The legal basis of an ex officio pull." example:"《优化营商环境条例》第三十五条"`
	VerifyOnly       bool     `json:"verify_only" doc:"A yes/no match is enough: the data is not moved." example:"false"` // a yes/no match is enough: data not moved
}

// PrefillRule fills one form field from a certificate of CertificateType.
// Source is a face-field name of that type, or one of the Source...
// constants.
type PrefillRule struct {
	FormField       string `json:"form_field" doc:"The form field to fill." example:"company_name"`
	Label           string `json:"label" doc:"The form field label." example:"企业名称"`
	CertificateType string `json:"certificate_type" doc:"The certificate type the value comes from." example:"11100000000021001C001"`
	Source          string `json:"source" doc:"A face field name of that type, or holder.name, holder.id_number, number, valid_from, valid_until, identifier." example:"name"`
}

// Precheck is a condition checked before the application is accepted (see
// the Kind... constants).
type Precheck struct {
	Code            string `json:"code" doc:"The pre-check code within the item." example:"P01"`
	Name            string `json:"name" doc:"What it checks, in words." example:"营业执照在有效期内"`
	Kind            string `json:"kind" doc:"valid_for_days: a certificate of the type is still valid days from now; holder_is_applicant: every attached certificate is held by the applicant; not_revoked: a verified certificate of the type is in force." enum:"valid_for_days,holder_is_applicant,not_revoked" example:"valid_for_days"`
	CertificateType string `json:"certificate_type,omitempty" doc:"The certificate type it looks at." example:"11100000000021001C001"`
	Days            int    `json:"days,omitempty" doc:"For valid_for_days: how many days ahead." example:"30"`
}

// ServiceItem is a 政务服务事项.
type ServiceItem struct {
	Code           string        `json:"code" doc:"The service item code (事项编码)." example:"310100-000-01"`
	Name           string        `json:"name" doc:"The service item name (事项名称)." example:"营业执照变更登记"`
	Department     string        `json:"department" doc:"The responsible department name." example:"上海市市场监督管理局"`
	DepartmentUSCC string        `json:"department_uscc" doc:"Its unified social credit code." example:"11100000000013338W"`
	Materials      []Material    `json:"materials" doc:"The materials an application needs (申请材料)."`
	Prefill        []PrefillRule `json:"prefill" doc:"How form fields are pre-filled from certificates."`
	Prechecks      []Precheck    `json:"prechecks" doc:"Conditions checked before the application is accepted."`
	// FormFields is the application form; prefill rules fill some of it.
	FormFields []FormField `json:"form_fields" doc:"The application form (申请表): the denominator of the pre-fill rate; a case's pre-fill holds nothing else."`
	// AcceptingDepartments lists, by unified social credit code, the
	// departments besides DepartmentUSCC that may open cases for the item
	// (an accepting window, 受理窗口).
	AcceptingDepartments []string `json:"accepting_departments,omitempty" doc:"Departments (by unified social credit code) besides the responsible one that may open cases for the item (受理窗口)."`
	// Relations are the related parties a case may name.
	Relations []Relation `json:"relations,omitempty" doc:"The related parties a case may name, and which of their certificate types it may read."`
}

// ListsType reports whether a material of the item lists certificate type
// code: only such types may ever be pulled for the item.
func (it ServiceItem) ListsType(code string) bool {
	for _, m := range it.Materials {
		for _, t := range m.CertificateTypes {
			if t == code {
				return true
			}
		}
	}
	return false
}

// CertificateTypes returns the distinct certificate types the item's
// materials list, in order of first appearance: what a caller should look
// up for the applicant.
func (it ServiceItem) CertificateTypes() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range it.Materials {
		for _, t := range m.CertificateTypes {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// FieldError names one rejected value of a ServiceItem: Field is a JSON path
// ("materials[2].certificate_types[0]", "prefill[4].source"), Code one of
// the Code... constants, Detail an English sentence.
type FieldError struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (e FieldError) String() string { return e.Field + ": " + e.Code + ": " + e.Detail }

var (
	codeRE      = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]*$`)
	formFieldRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

type errs struct{ list []FieldError }

func (v *errs) add(field, code, detail string) {
	v.list = append(v.list, FieldError{Field: field, Code: code, Detail: detail})
}

func (v *errs) code(field, s string) bool {
	switch {
	case s == "":
		v.add(field, CodeRequired, "a code is required")
	case len(s) > MaxCodeLen:
		v.add(field, CodeLength, fmt.Sprintf("at most %d characters", MaxCodeLen))
	case !codeRE.MatchString(s):
		v.add(field, CodeFormat, "a code is letters, digits, '.', '_' and '-', starting with a letter or digit")
	default:
		return true
	}
	return false
}

func (v *errs) text(field, s string, required bool, max int) {
	switch {
	case s == "":
		if required {
			v.add(field, CodeRequired, "a value is required")
		}
	case !utf8.ValidString(s) || !printable(s):
		v.add(field, CodeCharset, "only printable characters on a single line are allowed")
	case utf8.RuneCountInString(s) > max:
		v.add(field, CodeLength, fmt.Sprintf("at most %d characters", max))
	}
}

func printable(s string) bool {
	for _, r := range s {
		switch {
		case r >= 0xa0 && r != utf8.RuneError && r != 0x2028 && r != 0x2029:
		case r >= 0x20 && r < 0x7f:
		default:
			return false
		}
	}
	return true
}

// formField checks one form field name — present, snake_case, bounded and
// not already in seen (dup says why a repeat is wrong) — and adds it to seen.
func (v *errs) formField(field, name string, seen map[string]bool, dup string) {
	switch {
	case name == "":
		v.add(field, CodeRequired, "a form field name is required")
	case len(name) > MaxFormFieldBytes || !formFieldRE.MatchString(name):
		v.add(field, CodeFormat, "a form field name is snake_case, at most 64 characters")
	case seen[name]:
		v.add(field, CodeDuplicate, dup)
	}
	seen[name] = true
}

func idx(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// ValidateItem checks a service item as an admin would add it, against the
// certificate catalogue typeOf: codes present, well-formed and unique
// (materials, form fields, prechecks); names present and bounded; the
// department's unified social credit code valid; each material's
// certificate types known and unique, its fields present in every listed
// type, its pull mode one of the three (empty only for a material no
// certificate covers, which cannot be verify-only either), a legal basis for
// ex_officio; each prefill rule's type listed by a material that is not
// verify-only and its source a face field of that type or a special source;
// each precheck's kind known, its type listed, and Days 1..MaxPrecheckDays
// for valid_for_days and absent otherwise. It returns nil for a valid item.
func ValidateItem(it ServiceItem, typeOf func(code string) (issuer.CertificateType, bool)) []FieldError {
	var v errs
	v.code("code", it.Code)
	v.text("name", it.Name, true, MaxNameLen)
	v.text("department", it.Department, true, MaxNameLen)
	if it.DepartmentUSCC == "" {
		v.add("department_uscc", CodeRequired, "the department's unified social credit code is required")
	} else if err := ident.ValidateUSCC(it.DepartmentUSCC); err != nil {
		v.add("department_uscc", CodeFormat, "not a valid unified social credit code")
	}

	types := map[string]issuer.CertificateType{} // known types the materials list
	movable := map[string]bool{}                 // listed by a material that is not verify-only
	switch {
	case len(it.Materials) == 0:
		v.add("materials", CodeRequired, "an item needs at least one material")
	case len(it.Materials) > MaxMaterials:
		v.add("materials", CodeTooLarge, fmt.Sprintf("at most %d materials", MaxMaterials))
	default:
		seen := map[string]bool{}
		for i, m := range it.Materials {
			p := idx("materials", i)
			if v.code(p+".code", m.Code) {
				if seen[m.Code] {
					v.add(p+".code", CodeDuplicate, "material codes must be unique within an item")
				}
				seen[m.Code] = true
			}
			v.text(p+".name", m.Name, true, MaxNameLen)
			validateMaterial(&v, p, m, typeOf, types, movable)
		}
	}

	if len(it.Prefill) > MaxPrefillRules {
		v.add("prefill", CodeTooLarge, fmt.Sprintf("at most %d prefill rules", MaxPrefillRules))
	} else {
		seen := map[string]bool{}
		for i, r := range it.Prefill {
			p := idx("prefill", i)
			v.formField(p+".form_field", r.FormField, seen, "each form field is filled by one rule")
			v.text(p+".label", r.Label, true, MaxNameLen)
			t, ok := listedType(&v, p+".certificate_type", r.CertificateType, it, types, true)
			if ok && !movable[r.CertificateType] {
				v.add(p+".certificate_type", CodeVerifyOnly, "only verify-only materials list this type: its data may not fill the form")
			}
			switch {
			case r.Source == "":
				v.add(p+".source", CodeRequired, "a source is required")
			case specialSources[r.Source]:
			case ok && !hasField(t, r.Source):
				v.add(p+".source", CodeUnknownFld, "the source is neither a face field of the certificate type nor a special source")
			case !ok && !formFieldRE.MatchString(r.Source):
				v.add(p+".source", CodeFormat, "the source is neither a face field name nor a special source")
			}
		}
	}

	if len(it.Prechecks) > MaxPrechecks {
		v.add("prechecks", CodeTooLarge, fmt.Sprintf("at most %d prechecks", MaxPrechecks))
	} else {
		seen := map[string]bool{}
		for i, c := range it.Prechecks {
			p := idx("prechecks", i)
			if v.code(p+".code", c.Code) {
				if seen[c.Code] {
					v.add(p+".code", CodeDuplicate, "precheck codes must be unique within an item")
				}
				seen[c.Code] = true
			}
			v.text(p+".name", c.Name, true, MaxNameLen)
			switch c.Kind {
			case KindValidForDays:
				listedType(&v, p+".certificate_type", c.CertificateType, it, types, true)
				if c.Days < 1 || c.Days > MaxPrecheckDays {
					v.add(p+".days", CodeRange, fmt.Sprintf("days must be 1 to %d", MaxPrecheckDays))
				}
			case KindNotRevoked:
				listedType(&v, p+".certificate_type", c.CertificateType, it, types, true)
				if c.Days != 0 {
					v.add(p+".days", CodeNotAllowed, "days applies to valid_for_days only")
				}
			case KindHolderIsApplicant:
				if c.CertificateType != "" {
					listedType(&v, p+".certificate_type", c.CertificateType, it, types, false)
				}
				if c.Days != 0 {
					v.add(p+".days", CodeNotAllowed, "days applies to valid_for_days only")
				}
			case "":
				v.add(p+".kind", CodeRequired, "a precheck kind is required")
			default:
				v.add(p+".kind", CodeEnum, "the kind must be valid_for_days, holder_is_applicant or not_revoked")
			}
		}
	}
	validateAccess(&v, it, typeOf)
	return v.list
}

func validateMaterial(v *errs, p string, m Material, typeOf func(string) (issuer.CertificateType, bool),
	types map[string]issuer.CertificateType, movable map[string]bool) {
	var mine []issuer.CertificateType
	if len(m.CertificateTypes) > MaxTypesPerMat {
		v.add(p+".certificate_types", CodeTooLarge, fmt.Sprintf("at most %d certificate types", MaxTypesPerMat))
	} else {
		seen := map[string]bool{}
		for j, code := range m.CertificateTypes {
			tp := idx(p+".certificate_types", j)
			switch {
			case code == "":
				v.add(tp, CodeRequired, "a certificate type code is required")
				continue
			case seen[code]:
				v.add(tp, CodeDuplicate, "certificate types must be unique within a material")
				continue
			}
			seen[code] = true
			t, ok := typeOf(code)
			if !ok {
				v.add(tp, CodeUnknownType, "the catalogue has no certificate type with this code")
				continue
			}
			mine = append(mine, t)
			types[code] = t
			if !m.VerifyOnly {
				movable[code] = true
			}
		}
	}
	covered := len(m.CertificateTypes) > 0
	if len(m.Fields) > MaxFieldsPerMat {
		v.add(p+".fields", CodeTooLarge, fmt.Sprintf("at most %d fields", MaxFieldsPerMat))
	} else {
		seen := map[string]bool{}
		for j, f := range m.Fields {
			fp := idx(p+".fields", j)
			switch {
			case !covered:
				v.add(fp, CodeNotAllowed, "a material no certificate covers needs no face fields")
				continue
			case f == "":
				v.add(fp, CodeRequired, "a field name is required")
				continue
			case seen[f]:
				v.add(fp, CodeDuplicate, "fields must be unique within a material")
				continue
			}
			seen[f] = true
			for _, t := range mine {
				if !hasField(t, f) {
					v.add(fp, CodeUnknownFld, "the certificate type "+t.Name+" has no face field of this name")
					break
				}
			}
		}
	}
	switch m.Pull {
	case PullExOfficio:
		if m.LegalBasis == "" {
			v.add(p+".legal_basis", CodeRequired, "an ex officio pull needs its legal basis")
		}
	case PullGrant, PullUseCode:
	case "":
		if covered {
			v.add(p+".pull", CodeRequired, "a material a certificate covers needs a pull mode")
		}
	default:
		v.add(p+".pull", CodeEnum, "the pull mode must be ex_officio, grant or use_code")
	}
	v.text(p+".legal_basis", m.LegalBasis, false, MaxLegalBasisLen)
	if m.VerifyOnly && !covered {
		v.add(p+".verify_only", CodeNotAllowed, "only a material a certificate covers can be verified by a match")
	}
}

// listedType checks that code names a certificate type some material of the
// item lists. It returns the type when its schema is known.
func listedType(v *errs, field, code string, it ServiceItem, types map[string]issuer.CertificateType, required bool) (issuer.CertificateType, bool) {
	if code == "" {
		if required {
			v.add(field, CodeRequired, "a certificate type is required")
		}
		return issuer.CertificateType{}, false
	}
	if !it.ListsType(code) {
		v.add(field, CodeNotListed, "no material of the item lists this certificate type")
		return issuer.CertificateType{}, false
	}
	t, ok := types[code]
	return t, ok
}

func hasField(t issuer.CertificateType, name string) bool {
	for _, f := range t.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}
