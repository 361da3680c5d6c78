// Package disclosure decides what of a certificate leaves Suishen for an app
// (用证单位) or a case system — the one filter every path that hands
// certificate data to a third party goes through: a use code redeemed, a
// certificate read within a holder's grant, a case's pre-fill, a
// verification result. It is pure: callers load the catalogue entry and the
// document and pass them in.
//
// The rules (docs/access.md):
//
//   - A type reaches an app only when the app's 用证清单 (use list) lists it.
//   - A use-list entry that names only the type gives that type's
//     non-sensitive face fields; an entry {type_code, fields[]} gives exactly
//     the fields it names (sensitive ones included — naming them is the
//     administrator's deliberate decision). A field the catalogue does not
//     know never leaves.
//   - Whatever the entitlement, an identity number is masked wherever it
//     appears (ident.MaskIdentityNumbers: 110105********002X) — in any field,
//     whatever its name, and in the holder's identifier — and a person's name
//     is masked by the one rule (ident.MaskName) in the holder and in every
//     field that names a person. An enterprise's name and unified social
//     credit code are public registration data and stay whole.
package disclosure

import (
	"slices"
	"strings"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
)

// Entry is one entry of a use list: a type and, optionally, the exact face
// fields of it that may be disclosed.
type Entry struct {
	TypeCode string `json:"type_code"`
	// Fields nil (a bare type code in the use list) means the type's
	// non-sensitive fields.
	Fields []string `json:"fields,omitempty"`
}

// UseList is an app's 用证清单.
type UseList struct {
	types  []string
	fields map[string][]string
}

// NewUseList builds a use list from what is stored for an app: the listed
// types and, per type, the exact fields of a field-level entry.
func NewUseList(types []string, fields map[string][]string) UseList {
	return UseList{types: types, fields: fields}
}

// Allows reports whether the use list lists the type at all.
func (u UseList) Allows(typeCode string) bool { return slices.Contains(u.types, typeCode) }

// Entries returns the use list as entries, in order.
func (u UseList) Entries() []Entry {
	out := make([]Entry, 0, len(u.types))
	for _, t := range u.types {
		e := Entry{TypeCode: t}
		if f, ok := u.fields[t]; ok {
			e.Fields = append([]string{}, f...)
		}
		out = append(out, e)
	}
	return out
}

// Audience is who receives certificate data, and by what entitlement. The
// zero Audience receives nothing.
type Audience struct {
	// field reports whether a face field of a type may be disclosed; nil
	// means nothing may.
	field func(t issuer.CertificateType, f issuer.FieldSpec) bool
	// types reports whether anything of a type may be disclosed.
	types func(typeCode string) bool
}

// ForApp is an app's audience: its use list decides types and fields.
func ForApp(u UseList) Audience {
	return Audience{
		types: u.Allows,
		field: func(t issuer.CertificateType, f issuer.FieldSpec) bool {
			if !u.Allows(t.Code) {
				return false
			}
			if named, ok := u.fields[t.Code]; ok {
				return slices.Contains(named, f.Name)
			}
			return !f.Sensitive
		},
	}
}

// ForCaseOfficer is the audience of a department running a case for a
// service item it is responsible for: every face field of the types the item
// lists (the caller passes only those), masked as for anyone else.
func ForCaseOfficer() Audience {
	return Audience{
		types: func(string) bool { return true },
		field: func(issuer.CertificateType, issuer.FieldSpec) bool { return true },
	}
}

// MayUse reports whether anything of the type may reach the audience.
func (a Audience) MayUse(typeCode string) bool { return a.types != nil && a.types(typeCode) }

// MayField reports whether a face field of t may reach the audience.
func (a Audience) MayField(t issuer.CertificateType, field string) bool {
	if a.field == nil || !a.MayUse(t.Code) {
		return false
	}
	for _, f := range t.Fields {
		if f.Name == field {
			return a.field(t, f)
		}
	}
	return false
}

// DisclosedHolder is what an audience sees of a certificate's holder.
type DisclosedHolder struct {
	Kind string `json:"kind" doc:"person or enterprise." enum:"person,enterprise" example:"enterprise"` // person | enterprise
	// Name is masked for a person (ident.MaskName); an enterprise's is
	// public.
	Name string `json:"name" doc:"The holder name: masked for a person, in full for an enterprise." example:"上海某某科技有限公司"`
	// IDNumber is masked for a person (110105********002X); an enterprise's
	// unified social credit code is public.
	IDNumber string `json:"id_number" doc:"The holder identity number: masked for a person (110105********002X), in full for an enterprise USCC." example:"91350100M000100Y43"`
}

// View is what an audience receives of one certificate.
type View struct {
	CertificateID string          `json:"certificate_id" doc:"The certificate identifier (证照标识)." example:"11100000000021001C0011210000000000001X"`
	TypeCode      string          `json:"type_code" doc:"The certificate type code." example:"11100000000021001C001"`
	TypeName      string          `json:"type_name" doc:"The certificate type name." example:"营业执照"`
	Status        string          `json:"status" doc:"The certificate status now." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	ValidFrom     string          `json:"valid_from" doc:"First day of validity, YYYY-MM-DD." example:"2024-03-01" format:"date"`
	ValidUntil    *string         `json:"valid_until" doc:"Last day of validity, YYYY-MM-DD; null when long-term." format:"date"`
	Holder        DisclosedHolder `json:"holder" doc:"The holder, a person masked."`
	Fields        map[string]any  `json:"fields" doc:"The face fields the app use list allows (sensitive fields only where the list names them; identity numbers masked)." example:"{\"name\":\"上海某某科技有限公司\"}"`
}

// Certificate is the filter: what of the certificate (its type's catalogue
// entry t, its signed document doc, its effective status) reaches the
// audience. ok is false when the audience may receive nothing of the type
// (the caller refuses and records the refusal).
func Certificate(t issuer.CertificateType, doc issuer.Document, status string, a Audience) (v View, ok bool) {
	if !a.MayUse(t.Code) || doc.TypeCode != t.Code {
		return View{}, false
	}
	v = View{CertificateID: doc.Identifier, TypeCode: t.Code, TypeName: t.Name, Status: status,
		ValidFrom: doc.ValidFrom, ValidUntil: doc.ValidUntil, Fields: map[string]any{}}
	holderName := ""
	if len(doc.Holders) > 0 {
		h := doc.Holders[0]
		holderName = h.Name
		v.Holder = protectHolder(t.HolderKind, h.Name, h.IDNumber)
	}
	v.Holder.Kind = t.HolderKind
	for _, f := range t.Fields {
		val, present := doc.Fields[f.Name]
		if !present || !a.field(t, f) {
			continue
		}
		v.Fields[f.Name] = protect(t, f, val, holderName)
	}
	return v, true
}

func protectHolder(kind, name, idNumber string) DisclosedHolder {
	if kind == issuer.HolderEnterprise {
		return DisclosedHolder{Kind: kind, Name: Text(name), IDNumber: idNumber}
	}
	return DisclosedHolder{Kind: kind, Name: ident.MaskName(name), IDNumber: ident.MaskCitizenID(idNumber)}
}

// protect masks one disclosed value: a person's name by the name rule,
// every identity number in any text by the identity-number rule.
func protect(t issuer.CertificateType, f issuer.FieldSpec, v any, holderName string) any {
	s, isText := v.(string)
	if !isText {
		return v
	}
	if PersonName(t, f) || (t.HolderKind == issuer.HolderPerson && holderName != "" && s == holderName) {
		return ident.MaskName(s)
	}
	return Text(s)
}

// PersonName reports whether a face field of t holds a person's name, which
// is masked wherever it is disclosed: on a person's certificate, the fields
// "name" and "*_name" (the holder's, a spouse's, a parent's, a guardian's
// name) and the 权利人 "right_holder". Names printed on an enterprise's
// certificate (a legal representative) are public registration data.
func PersonName(t issuer.CertificateType, f issuer.FieldSpec) bool {
	if t.HolderKind != issuer.HolderPerson || f.Type != issuer.FieldString {
		return false
	}
	return f.Name == "name" || strings.HasSuffix(f.Name, "_name") || f.Name == "right_holder"
}

// Text is the rule for any text that reaches an audience and is not a
// person's name: every identity number in it is masked.
func Text(s string) string { return ident.MaskIdentityNumbers(s) }

// PrefillSource says where a case's pre-filled form field came from: a
// face field of a type, or one of the special sources holder.name,
// holder.id_number, number, valid_from, valid_until, identifier.
type PrefillSource struct {
	FormField string
	TypeCode  string
	Source    string
}

// Prefill is the filter applied to a case's pre-fill (form field → value):
// a value stays only when its source reaches the audience — a face field by
// the same rule as Certificate, the certificate's metadata (number,
// validity, identifier) with its type — and leaves masked by the same rules
// (a holder's name and identity number, persons' names, identity numbers
// in any text). A form field without a known source is dropped.
func Prefill(values map[string]any, sources []PrefillSource, typeOf func(string) (issuer.CertificateType, bool), a Audience) map[string]any {
	out := map[string]any{}
	for _, src := range sources {
		v, present := values[src.FormField]
		if !present || !a.MayUse(src.TypeCode) {
			continue
		}
		t, ok := typeOf(src.TypeCode)
		if !ok {
			continue
		}
		switch src.Source {
		case "holder.name":
			if s, isText := v.(string); isText {
				out[src.FormField] = protectHolder(t.HolderKind, s, "").Name
			}
		case "holder.id_number":
			if s, isText := v.(string); isText {
				out[src.FormField] = protectHolder(t.HolderKind, "", s).IDNumber
			}
		case "number", "valid_from", "valid_until", "identifier":
			out[src.FormField] = protectAny(v)
		default:
			for _, f := range t.Fields {
				if f.Name == src.Source && a.field(t, f) {
					out[src.FormField] = protect(t, f, v, "")
				}
			}
		}
	}
	return out
}

func protectAny(v any) any {
	if s, ok := v.(string); ok {
		return Text(s)
	}
	return v
}
