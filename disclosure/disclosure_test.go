package disclosure

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/suishen/suishen/issuer"
)

func seed(code string) issuer.CertificateType {
	for _, t := range issuer.SeedCatalogue() {
		if t.Code == code {
			return t
		}
	}
	panic(code)
}

func typeOf(code string) (issuer.CertificateType, bool) {
	for _, t := range issuer.SeedCatalogue() {
		if t.Code == code {
			return t, true
		}
	}
	return issuer.CertificateType{}, false
}

func TestCertificate(t *testing.T) {
	ssc := seed(issuer.TypeSocialSecurityCard)
	doc := issuer.Document{Identifier: "1.2.156.3005.2.x", TypeCode: ssc.Code, ValidFrom: "2024-01-01",
		Holders: []issuer.DocumentHolder{{Name: "张三", IDType: issuer.IDTypeCitizenID, IDNumber: "11010519491231002X"}},
		Fields: map[string]any{"name": "张三", "social_security_number": "11010519491231002X", "card_number": "A12345678",
			"card_issue_date": "2024-01-01", "issuing_region": "上海 11010519491231002X", "not_in_catalogue": "x"}}

	// A bare type code: the non-sensitive fields, names and numbers masked.
	v, ok := Certificate(ssc, doc, "valid", ForApp(NewUseList([]string{ssc.Code}, nil)))
	if !ok {
		t.Fatal("refused")
	}
	if _, has := v.Fields["social_security_number"]; has {
		t.Error("a sensitive field left with a bare type code")
	}
	if _, has := v.Fields["not_in_catalogue"]; has {
		t.Error("a field the catalogue does not know left")
	}
	if v.Fields["name"] != "张*" || v.Holder.Name != "张*" || v.Holder.IDNumber != "110105********002X" ||
		v.Fields["issuing_region"] != "上海 110105********002X" {
		t.Errorf("view %+v", v)
	}
	// A field-level entry: exactly those fields, the identity number masked.
	v, _ = Certificate(ssc, doc, "valid", ForApp(NewUseList([]string{ssc.Code}, map[string][]string{ssc.Code: {"social_security_number"}})))
	if len(v.Fields) != 1 || v.Fields["social_security_number"] != "110105********002X" {
		t.Errorf("field-level view %+v", v.Fields)
	}
	// Not listed: nothing.
	if _, ok := Certificate(ssc, doc, "valid", ForApp(NewUseList([]string{issuer.TypeResidentIDCard}, nil))); ok {
		t.Error("an unlisted type was disclosed")
	}
	if _, ok := Certificate(ssc, doc, "valid", Audience{}); ok {
		t.Error("the zero audience received data")
	}
	// An enterprise's name and code are public.
	bl := seed(issuer.TypeBusinessLicence)
	v, _ = Certificate(bl, issuer.Document{TypeCode: bl.Code, Holders: []issuer.DocumentHolder{{Name: "上海某某科技有限公司", IDType: issuer.IDTypeUSCC, IDNumber: "91350100M000100Y43"}},
		Fields: map[string]any{"name": "上海某某科技有限公司", "legal_representative": "张三"}}, "valid", ForApp(NewUseList([]string{bl.Code}, nil)))
	if v.Holder.Name != "上海某某科技有限公司" || v.Holder.IDNumber != "91350100M000100Y43" || v.Fields["name"] != "上海某某科技有限公司" {
		t.Errorf("enterprise view %+v", v)
	}
}

func TestPrefill(t *testing.T) {
	id := seed(issuer.TypeResidentIDCard)
	dc := seed(issuer.TypeDisabilityCard)
	values := map[string]any{"n": "张三", "idn": "11010519491231002X", "addr": "上海", "cat": "视力残疾", "no": "A1"}
	sources := []PrefillSource{{"n", id.Code, "holder.name"}, {"idn", id.Code, "holder.id_number"}, {"addr", id.Code, "address"},
		{"cat", dc.Code, "disability_category"}, {"no", dc.Code, "number"}}
	got := Prefill(values, sources, typeOf, ForApp(NewUseList([]string{id.Code, dc.Code}, nil)))
	want := map[string]any{"n": "张*", "idn": "110105********002X", "addr": "上海", "no": "A1"}
	if len(got) != len(want) {
		t.Fatalf("prefill %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("prefill %s = %v, want %v", k, got[k], v)
		}
	}
	if got := Prefill(values, sources, typeOf, ForCaseOfficer()); got["cat"] != "视力残疾" || got["idn"] != "110105********002X" {
		t.Errorf("case officer prefill %v", got)
	}
}

func TestParseUseList(t *testing.T) {
	raw := func(s string) []json.RawMessage {
		var r []json.RawMessage
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	u, errs := ParseUseList(raw(`["`+issuer.TypeResidentIDCard+`", {"type_code":"`+issuer.TypeSocialSecurityCard+`","fields":["social_security_number"]}]`), "certificate_types", typeOf)
	if errs != nil {
		t.Fatal(errs)
	}
	if es := u.Entries(); len(es) != 2 || es[0].Fields != nil || es[1].Fields[0] != "social_security_number" {
		t.Fatalf("entries %+v", es)
	}
	for in, field := range map[string]string{
		`[1]`: "certificate_types[0]", `[null]`: "certificate_types[0]", `["x"]`: "certificate_types[0]",
		`[{"fields":["a"]}]`: "certificate_types[0].type_code",
		`[{"type_code":"` + issuer.TypeResidentIDCard + `","fields":["nope"]}]`:     "certificate_types[0].fields[0]",
		`[{"type_code":"` + issuer.TypeResidentIDCard + `","fields":[]}]`:           "certificate_types[0].fields",
		`[{"type_code":"` + issuer.TypeResidentIDCard + `","x":1}]`:                 "certificate_types[0]",
		`["` + issuer.TypeResidentIDCard + `","` + issuer.TypeResidentIDCard + `"]`: "certificate_types[1]",
	} {
		_, errs := ParseUseList(raw(in), "certificate_types", typeOf)
		if len(errs) == 0 || errs[0].Field != field {
			t.Errorf("%s: errors %v, want one naming %s", in, errs, field)
		}
	}
}

// FuzzParseUseList: any use list an administrator sends is accepted or
// refused with errors naming entries of the list — never a panic — and what
// is accepted names only catalogue types and fields.
func FuzzParseUseList(f *testing.F) {
	f.Add(`["` + issuer.TypeResidentIDCard + `"]`)
	f.Add(`[{"type_code":"` + issuer.TypeSocialSecurityCard + `","fields":["name","social_security_number"]}]`)
	f.Add(`[{"type_code":null,"fields":[1]}, "", {}, [], 3.5]`)
	f.Add(`[{"type_code":"` + issuer.TypeResidentIDCard + `","fields":["name","name"]}]`)
	f.Fuzz(func(t *testing.T, s string) {
		var raw []json.RawMessage
		if json.Unmarshal([]byte(s), &raw) != nil {
			return
		}
		u, errs := ParseUseList(raw, "certificate_types", typeOf)
		for _, e := range errs {
			if !strings.HasPrefix(e.Field, "certificate_types") || e.Code == "" {
				t.Fatalf("error %+v", e)
			}
		}
		if errs != nil {
			return
		}
		for _, e := range u.Entries() {
			ct, ok := typeOf(e.TypeCode)
			if !ok {
				t.Fatalf("accepted unknown type %q", e.TypeCode)
			}
			for _, name := range e.Fields {
				found := false
				for _, f := range ct.Fields {
					found = found || f.Name == name
				}
				if !found {
					t.Fatalf("accepted unknown field %q of %s", name, ct.Code)
				}
			}
		}
	})
}
