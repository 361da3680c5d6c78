package cases

import (
	"fmt"
	"slices"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
)

// Limits of the least-privilege parts of an item (checked by ValidateItem).
const (
	MaxFormFields           = 200 // form fields per item
	MaxAcceptingDepartments = 50  // departments an item lists besides its own
	MaxRelations            = 5   // related parties an item declares
)

// FormField is one field of the item's application form (申请表). The form
// is the denominator of the pre-fill rate: pre-filled form fields ÷ form
// fields; a case's pre-fill never holds anything else.
type FormField struct {
	Name  string `json:"name" doc:"The form field's name (snake_case); prefill rules name it." example:"applicant_name"`
	Label string `json:"label" doc:"The form field's label." example:"姓名"`
}

// Relation is a related party an item declares (the newborn of a birth
// registration, the seller's spouse): only a declared relation may be named
// in a case, and only certificates of its CertificateTypes are read from the
// related party.
//
// A relation without LinkType is an adult (or an enterprise) who presents
// their own 随申码. A relation with LinkType is a minor named by ID number
// only: the case may use the minor's certificates only when a certificate
// of LinkType held by the minor names the applicant in one of LinkFields
// (a 出生医学证明 naming the applicant as mother or father).
type Relation struct {
	Code             string   `json:"code" doc:"The relation's code, named in a case's related[].relation." example:"newborn"`
	Name             string   `json:"name" doc:"The relation's name." example:"新生儿"`
	CertificateTypes []string `json:"certificate_types" doc:"The certificate types a case may read from the related party."`
	LinkType         string   `json:"link_certificate_type,omitempty" doc:"For a minor named by ID number: the certificate type, held by the minor, that must name the applicant." example:"11100000000021004M001"`
	LinkFields       []string `json:"link_fields,omitempty" doc:"The fields of the linking certificate that may carry the applicant's identity number." example:"mother_id_number"`
}

// Minor reports whether the relation is reached by ID number through a
// linking certificate rather than by the party's own code.
func (r Relation) Minor() bool { return r.LinkType != "" }

// Relation returns the item's declared relation with this code.
func (it ServiceItem) Relation(code string) (Relation, bool) {
	for _, r := range it.Relations {
		if r.Code == code {
			return r, true
		}
	}
	return Relation{}, false
}

// AcceptsDepartment reports whether a department with this unified social
// credit code may open cases for the item: it is the responsible department,
// or the item lists it.
func (it ServiceItem) AcceptsDepartment(uscc string) bool {
	return uscc != "" && (uscc == it.DepartmentUSCC || slices.Contains(it.AcceptingDepartments, uscc))
}

// Form returns the item's form fields. An item stored before form fields
// existed has its prefill rules' fields as its form.
func (it ServiceItem) Form() []FormField {
	if len(it.FormFields) > 0 {
		return it.FormFields
	}
	out := make([]FormField, 0, len(it.Prefill))
	for _, r := range it.Prefill {
		out = append(out, FormField{Name: r.FormField, Label: r.Label})
	}
	return out
}

func (it ServiceItem) hasFormField(name string) bool {
	for _, f := range it.Form() {
		if f.Name == name {
			return true
		}
	}
	return false
}

// PrecheckVerdict is what the pre-checks predict: every pre-check passed
// (an item without pre-checks predicts approval).
func (r Result) PrecheckVerdict() bool { return r.PrecheckPassed == r.PrecheckTotal }

// PrecheckMatches reports whether an officer's decision (approved or not)
// agrees with the pre-check verdict.
func (r Result) PrecheckMatches(approved bool) bool { return r.PrecheckVerdict() == approved }

// validateAccess checks form fields, accepting departments and relations.
func validateAccess(v *errs, it ServiceItem, typeOf func(string) (issuer.CertificateType, bool)) {
	switch {
	case len(it.FormFields) > MaxFormFields:
		v.add("form_fields", CodeTooLarge, fmt.Sprintf("at most %d form fields", MaxFormFields))
	case len(it.FormFields) == 0 && len(it.Prefill) > 0:
		v.add("form_fields", CodeRequired, "an item that pre-fills lists its form fields")
	default:
		seen := map[string]bool{}
		for i, f := range it.FormFields {
			p := idx("form_fields", i)
			v.formField(p+".name", f.Name, seen, "form field names must be unique within an item")
			v.text(p+".label", f.Label, true, MaxNameLen)
		}
		if len(it.FormFields) > 0 {
			for i, r := range it.Prefill {
				if r.FormField != "" && !seen[r.FormField] {
					v.add(idx("prefill", i)+".form_field", CodeNotListed, "not a form field of the item")
				}
			}
		}
	}

	if len(it.AcceptingDepartments) > MaxAcceptingDepartments {
		v.add("accepting_departments", CodeTooLarge, fmt.Sprintf("at most %d departments", MaxAcceptingDepartments))
	} else {
		seen := map[string]bool{}
		for i, u := range it.AcceptingDepartments {
			p := idx("accepting_departments", i)
			switch {
			case ident.ValidateUSCC(u) != nil:
				v.add(p, CodeFormat, "not a valid unified social credit code")
			case seen[u] || u == it.DepartmentUSCC:
				v.add(p, CodeDuplicate, "a department is listed once (the responsible department needs no listing)")
			}
			seen[u] = true
		}
	}

	if len(it.Relations) > MaxRelations {
		v.add("relations", CodeTooLarge, fmt.Sprintf("at most %d relations", MaxRelations))
		return
	}
	seen := map[string]bool{}
	for i, r := range it.Relations {
		p := idx("relations", i)
		if v.code(p+".code", r.Code) {
			if seen[r.Code] {
				v.add(p+".code", CodeDuplicate, "relation codes must be unique within an item")
			}
			seen[r.Code] = true
		}
		v.text(p+".name", r.Name, true, MaxNameLen)
		if len(r.CertificateTypes) == 0 {
			v.add(p+".certificate_types", CodeRequired, "a relation names the certificate types the case may read from the related party")
		} else if len(r.CertificateTypes) > MaxTypesPerMat {
			v.add(p+".certificate_types", CodeTooLarge, fmt.Sprintf("at most %d certificate types", MaxTypesPerMat))
		}
		for j, tc := range r.CertificateTypes {
			if !it.ListsType(tc) {
				v.add(idx(p+".certificate_types", j), CodeNotListed, "no material of the item lists this certificate type")
			}
		}
		if r.LinkType == "" {
			if len(r.LinkFields) > 0 {
				v.add(p+".link_fields", CodeNotAllowed, "link fields need a linking certificate type")
			}
			continue
		}
		if !slices.Contains(r.CertificateTypes, r.LinkType) {
			v.add(p+".link_certificate_type", CodeNotListed, "the linking certificate type must be one the relation may read")
			continue
		}
		t, ok := typeOf(r.LinkType)
		if !ok {
			continue // reported for the material
		}
		if len(r.LinkFields) == 0 {
			v.add(p+".link_fields", CodeRequired, "name the fields that carry the applicant's identity number")
		}
		for j, f := range r.LinkFields {
			if !hasField(t, f) {
				v.add(idx(p+".link_fields", j), CodeUnknownFld, "the linking certificate type has no face field of this name")
			}
		}
	}
}
