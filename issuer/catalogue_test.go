package issuer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/suishen/suishen/ident"
)

func TestSeedCatalogueValid(t *testing.T) {
	cat := SeedCatalogue()
	if len(cat) < 10 {
		t.Fatalf("%d types, want at least 10", len(cat))
	}
	codes := map[string]string{}
	names := map[string]bool{}
	kinds := map[string]int{}
	for _, ct := range cat {
		if errs := ValidateType(ct); errs != nil {
			t.Errorf("%s: %v", ct.Name, errs)
		}
		if prev, dup := codes[ct.Code]; dup {
			t.Errorf("type code %s used by %s and %s", ct.Code, prev, ct.Name)
		}
		codes[ct.Code] = ct.Name
		if names[ct.Name] {
			t.Errorf("type name %s twice", ct.Name)
		}
		names[ct.Name] = true
		kinds[ct.HolderKind]++
		// The defining authority's code passes GB 32100, checked here with
		// an independent computation as well as with ident.
		u := ct.DefiningAuthorityUSCC
		if err := ident.ValidateUSCC(u); err != nil || refUSCCCheck(u[:17]) != u[17] {
			t.Errorf("%s: defining authority USCC %s fails GB 32100: %v", ct.Name, u, err)
		}
		if !strings.HasPrefix(ct.Code, u) {
			t.Errorf("%s: code %s does not start with %s", ct.Name, ct.Code, u)
		}
		fields := map[string]bool{}
		for _, f := range ct.Fields {
			if fields[f.Name] {
				t.Errorf("%s: field %s twice", ct.Name, f.Name)
			}
			fields[f.Name] = true
		}
		// Every seeded type can actually be issued.
		if errs := ValidateRequest(ct, sampleRequest(t, ct), testNow); errs != nil {
			t.Errorf("%s: sample request: %v", ct.Name, errs)
		}
	}
	if kinds[HolderPerson] < 3 || kinds[HolderEnterprise] < 3 {
		t.Errorf("holder kinds %v: want both kinds well represented", kinds)
	}
	for _, want := range []string{"营业执照", "食品经营许可证", "居民身份证", "机动车驾驶证", "结婚证", "出生医学证明",
		"残疾人证", "不动产权证书", "社会保障卡", "建筑施工企业安全生产许可证"} {
		if !names[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
}

// The labels the brief and the documents name are in the seed.
func TestSeedCatalogueLabels(t *testing.T) {
	want := map[string][]string{
		TypeBusinessLicence:     {"名称", "类型", "法定代表人", "注册资本", "成立日期", "住所", "经营范围", "登记机关"},
		TypeDrivingLicence:      {"姓名", "性别", "国籍", "住址", "出生日期", "初次领证日期", "准驾车型"},
		TypeFoodBusinessLicence: {"经营者名称", "社会信用代码", "法定代表人（负责人）", "住所", "经营场所", "主体业态", "经营项目", "许可证编号"},
	}
	for code, labels := range want {
		ct := seedType(t, code)
		have := map[string]FieldSpec{}
		for _, f := range ct.Fields {
			have[f.Label] = f
		}
		for _, l := range labels {
			if _, ok := have[l]; !ok {
				t.Errorf("%s lacks label %s", ct.Name, l)
			}
		}
	}
	vc := seedType(t, TypeDrivingLicence)
	for _, f := range vc.Fields {
		if f.Name == "vehicle_class" && (f.Type != FieldEnum || !contains(f.Values, "A1") || !contains(f.Values, "C2")) {
			t.Errorf("准驾车型 is %+v", f)
		}
	}
	food := seedType(t, TypeFoodBusinessLicence)
	for _, f := range food.Fields {
		if f.Name == "licence_number" {
			re, err := compilePattern(f.Pattern)
			if err != nil || !re.MatchString("JY13101040012345") || re.MatchString("JY1310104001234") || re.MatchString("XJY13101040012345") {
				t.Errorf("许可证编号 pattern %q misbehaves", f.Pattern)
			}
		}
	}
	if len(ethnicGroups) != 56 {
		t.Errorf("%d ethnic groups, want 56", len(ethnicGroups))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The JSON shape of a type is the contract's.
func TestCertificateTypeJSON(t *testing.T) {
	b, err := json.Marshal(seedType(t, TypeFoodBusinessLicence))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"code":"`, `"holder_kind":"enterprise"`, `"defining_authority_uscc":"`,
		`"fields":[{"name":"operator_name","label":"经营者名称","type":"string","required":true,"max_length":100}`,
		`"pattern":"JY[0-9]{14}"`, `"values":["食品销售经营者"`, `"related_items":[{"code":"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, `"MaxLength"`) || strings.Contains(s, `"values":null`) || strings.Contains(s, `"pattern":""`) {
		t.Errorf("JSON has Go names or empty optionals:\n%s", s)
	}
	var back CertificateType
	if err := json.Unmarshal(b, &back); err != nil || ValidateType(back) != nil {
		t.Fatalf("round trip: %v %v", err, ValidateType(back))
	}
}

func TestValidateTypeErrors(t *testing.T) {
	base := seedType(t, TypeFoodBusinessLicence)
	clone := func() CertificateType {
		c := base
		c.Fields = append([]FieldSpec(nil), base.Fields...)
		c.RelatedItems = append([]RelatedItem(nil), base.RelatedItems...)
		return c
	}
	cases := []struct {
		name, field, code string
		mutate            func(*CertificateType)
	}{
		{"code missing", "code", CodeRequired, func(c *CertificateType) { c.Code = "" }},
		{"code short", "code", CodeLength, func(c *CertificateType) { c.Code = c.Code[:20] }},
		{"code check", "code", CodeCheckCharacter, func(c *CertificateType) { c.Code = "11100000000021001D002" }},
		{"code charset", "code", "charset", func(c *CertificateType) { c.Code = "1110000000002100IC002" }},
		{"code serial", "code", CodeFormat, func(c *CertificateType) { c.Code = c.Code[:18] + "0A2" }},
		{"code vs authority", "code", CodeMismatch, func(c *CertificateType) { c.Code = "11100000000021002F002" }},
		{"name", "name", CodeRequired, func(c *CertificateType) { c.Name = "" }},
		{"name long", "name", CodeLength, func(c *CertificateType) { c.Name = strings.Repeat("证", 101) }},
		{"name control", "name", CodeCharset, func(c *CertificateType) { c.Name = "营业\n执照" }},
		{"authority", "defining_authority", CodeRequired, func(c *CertificateType) { c.DefiningAuthority = "" }},
		{"authority uscc missing", "defining_authority_uscc", CodeRequired, func(c *CertificateType) { c.DefiningAuthorityUSCC = "" }},
		{"authority uscc bad", "defining_authority_uscc", CodeCheckCharacter, func(c *CertificateType) { c.DefiningAuthorityUSCC = "11100000000021001D" }},
		{"level", "defining_authority_level", CodeEnum, func(c *CertificateType) { c.DefiningAuthorityLevel = "部级" }},
		{"level missing", "defining_authority_level", CodeRequired, func(c *CertificateType) { c.DefiningAuthorityLevel = "" }},
		{"issuing level", "issuing_level", CodeEnum, func(c *CertificateType) { c.IssuingLevel = "x" }},
		{"holder kind", "holder_kind", CodeEnum, func(c *CertificateType) { c.HolderKind = "robot" }},
		{"holder kind missing", "holder_kind", CodeRequired, func(c *CertificateType) { c.HolderKind = "" }},
		{"validity negative", "validity_years", CodeRange, func(c *CertificateType) { c.ValidityYears = -1 }},
		{"validity huge", "validity_years", CodeRange, func(c *CertificateType) { c.ValidityYears = 101 }},
		{"validity none", "validity_years", CodeRange, func(c *CertificateType) { c.ValidityYears, c.LongTerm = 0, false }},
		{"item code", "related_items[0].code", CodeRequired, func(c *CertificateType) { c.RelatedItems[0].Code = "" }},
		{"item code dup", "related_items[1].code", CodeDuplicate, func(c *CertificateType) { c.RelatedItems[1].Code = c.RelatedItems[0].Code }},
		{"item code bad", "related_items[0].code", CodeFormat, func(c *CertificateType) { c.RelatedItems[0].Code = "a\x00" }},
		{"item name", "related_items[2].name", CodeRequired, func(c *CertificateType) { c.RelatedItems[2].Name = "" }},
		{"items too many", "related_items", CodeTooLarge, func(c *CertificateType) { c.RelatedItems = make([]RelatedItem, MaxRelatedItems+1) }},
		{"no fields", "fields", CodeRequired, func(c *CertificateType) { c.Fields = nil }},
		{"field name missing", "fields[0].name", CodeRequired, func(c *CertificateType) { c.Fields[0].Name = "" }},
		{"field name camel", "fields[0].name", CodeFormat, func(c *CertificateType) { c.Fields[0].Name = "operatorName" }},
		{"field name double underscore", "fields[0].name", CodeFormat, func(c *CertificateType) { c.Fields[0].Name = "operator__name" }},
		{"field name leading digit", "fields[0].name", CodeFormat, func(c *CertificateType) { c.Fields[0].Name = "1name" }},
		{"field name long", "fields[0].name", CodeFormat, func(c *CertificateType) { c.Fields[0].Name = strings.Repeat("a", 65) }},
		{"field name dup", "fields[1].name", CodeDuplicate, func(c *CertificateType) { c.Fields[1].Name = c.Fields[0].Name }},
		{"label", "fields[0].label", CodeRequired, func(c *CertificateType) { c.Fields[0].Label = "" }},
		{"type", "fields[0].type", CodeEnum, func(c *CertificateType) { c.Fields[0].Type = "text" }},
		{"type missing", "fields[0].type", CodeRequired, func(c *CertificateType) { c.Fields[0].Type = "" }},
		{"max_length range", "fields[0].max_length", CodeRange, func(c *CertificateType) { c.Fields[0].MaxLength = -3 }},
		{"max_length on date", "fields[0].max_length", CodeNotAllowed, func(c *CertificateType) {
			c.Fields[0] = FieldSpec{Name: "d", Label: "日", Type: FieldDate, MaxLength: 3}
		}},
		{"pattern bad", "fields[1].pattern", CodeInvalidPattern, func(c *CertificateType) { c.Fields[1].Pattern = "([0-9]" }},
		{"pattern escapes anchors", "fields[1].pattern", CodeInvalidPattern, func(c *CertificateType) { c.Fields[1].Pattern = "a)|(b" }},
		{"pattern long", "fields[1].pattern", CodeInvalidPattern, func(c *CertificateType) { c.Fields[1].Pattern = strings.Repeat("a", MaxPatternLen+1) }},
		{"pattern on enum", "fields[5].pattern", CodeNotAllowed, func(c *CertificateType) { c.Fields[5].Pattern = "x" }},
		{"enum without values", "fields[5].values", CodeRequired, func(c *CertificateType) { c.Fields[5].Values = nil }},
		{"enum value dup", "fields[5].values[1]", CodeDuplicate, func(c *CertificateType) { c.Fields[5].Values = []string{"a", "a"} }},
		{"enum value empty", "fields[5].values[0]", CodeRequired, func(c *CertificateType) { c.Fields[5].Values = []string{""} }},
		{"values on string", "fields[0].values", CodeNotAllowed, func(c *CertificateType) { c.Fields[0].Values = []string{"a"} }},
		{"too many fields", "fields", CodeTooLarge, func(c *CertificateType) { c.Fields = make([]FieldSpec, MaxTypeFields+1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := clone()
			tc.mutate(&c)
			wantOnly(t, ValidateType(c), tc.field, tc.code)
		})
	}
	if errs := ValidateType(base); errs != nil {
		t.Fatalf("the base type was modified: %v", errs)
	}
}

// Patterns are anchored: a value that merely contains a match fails.
func TestPatternAnchored(t *testing.T) {
	re, err := compilePattern("[0-9]{3}")
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"123": true, "1234": false, "a123": false, "12": false} {
		if re.MatchString(s) != want {
			t.Errorf("%q: got %v", s, !want)
		}
	}
	re2, _ := compilePattern("[0-9]{3}")
	if re != re2 {
		t.Error("pattern compiled twice, want the cached one")
	}
}
