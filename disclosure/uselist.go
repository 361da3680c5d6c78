package disclosure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/suishen/suishen/issuer"
)

// Limits of a use list as an administrator sends it.
const (
	MaxEntries        = 500 // entries of one use list
	MaxFieldsPerEntry = issuer.MaxTypeFields
)

// ParseUseList decodes and checks a use list as the administrator sends it
// (`certificate_types` of POST /v1/admin/apps): each element either a type
// code (the type's non-sensitive fields) or {"type_code", "fields": [...]}
// (exactly those fields). Every type must be in the catalogue (typeOf) and
// listed once; every field must be a face field of its type, named once; an
// entry's fields may not be empty (a bare code says "the non-sensitive
// fields"). Errors name the bad entry: certificate_types[2],
// certificate_types[2].fields[0]. field is the request member's name.
func ParseUseList(raw []json.RawMessage, field string, typeOf func(string) (issuer.CertificateType, bool)) (UseList, []issuer.FieldError) {
	var errs []issuer.FieldError
	add := func(f, code, detail string) {
		errs = append(errs, issuer.FieldError{Field: f, Code: code, Detail: detail})
	}
	if len(raw) > MaxEntries {
		add(field, issuer.CodeTooLarge, fmt.Sprintf("a use list has at most %d entries", MaxEntries))
		return UseList{}, errs
	}
	u := UseList{types: []string{}, fields: map[string][]string{}}
	seen := map[string]bool{}
	for i, r := range raw {
		p := field + "[" + strconv.Itoa(i) + "]"
		var e Entry
		named := false
		switch t := bytes.TrimSpace(r); {
		case len(t) > 0 && t[0] == '"':
			if err := json.Unmarshal(t, &e.TypeCode); err != nil {
				add(p, issuer.CodeType, "must be a certificate type code or {type_code, fields[]}")
				continue
			}
		case len(t) > 0 && t[0] == '{':
			var obj struct {
				TypeCode *string  `json:"type_code"`
				Fields   []string `json:"fields"`
			}
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obj); err != nil {
				add(p, issuer.CodeType, "an entry object has exactly type_code (a string) and fields (an array of field names)")
				continue
			}
			if obj.TypeCode == nil {
				add(p+".type_code", issuer.CodeRequired, "an entry object names its type_code")
				continue
			}
			e.TypeCode, e.Fields, named = *obj.TypeCode, obj.Fields, true
		default:
			add(p, issuer.CodeType, "must be a certificate type code or {type_code, fields[]}")
			continue
		}
		tp := p
		if named {
			tp = p + ".type_code"
		}
		t, ok := typeOf(e.TypeCode)
		switch {
		case e.TypeCode == "":
			add(tp, issuer.CodeRequired, "a certificate type code is required")
			continue
		case !ok:
			add(tp, "unknown", "is not a certificate type in the catalogue")
			continue
		case seen[e.TypeCode]:
			add(tp, issuer.CodeDuplicate, "the type is listed twice")
			continue
		}
		seen[e.TypeCode] = true
		u.types = append(u.types, e.TypeCode)
		if !named {
			continue
		}
		switch {
		case len(e.Fields) == 0:
			add(p+".fields", issuer.CodeRequired, "name at least one field, or list the bare type code for its non-sensitive fields")
			continue
		case len(e.Fields) > MaxFieldsPerEntry:
			add(p+".fields", issuer.CodeTooLarge, fmt.Sprintf("at most %d fields", MaxFieldsPerEntry))
			continue
		}
		known := map[string]bool{}
		for _, f := range t.Fields {
			known[f.Name] = true
		}
		fseen := map[string]bool{}
		for j, f := range e.Fields {
			fp := p + ".fields[" + strconv.Itoa(j) + "]"
			switch {
			case !known[f]:
				add(fp, "unknown", "is not a face field of "+t.Name+" ("+t.Code+")")
			case fseen[f]:
				add(fp, issuer.CodeDuplicate, "the field is named twice")
			}
			fseen[f] = true
		}
		u.fields[e.TypeCode] = e.Fields
	}
	if len(errs) > 0 {
		return UseList{}, errs
	}
	return u, nil
}

// Types returns the listed type codes, in order.
func (u UseList) Types() []string { return append([]string{}, u.types...) }

// Fields returns the field-level entries: type code → exact fields.
func (u UseList) Fields() map[string][]string {
	out := make(map[string][]string, len(u.fields))
	for k, v := range u.fields {
		out[k] = append([]string{}, v...)
	}
	return out
}
