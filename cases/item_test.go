package cases

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/suishen/suishen/issuer"
)

func TestSeedItemsValid(t *testing.T) {
	items := SeedItems()
	if len(items) < 5 {
		t.Fatalf("%d seeded items, want at least 5", len(items))
	}
	want := []string{"食品经营许可证核发", "结婚登记", "新生儿出生登记", "二手房交易登记", "企业设立登记"}
	for _, w := range want {
		found := false
		for _, it := range items {
			if strings.Contains(it.Name, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no seeded item named %s", w)
		}
	}
	codes := map[string]bool{}
	var grant, verifyOnly, useCode int
	for _, it := range items {
		if errs := ValidateItem(it, typeOf); errs != nil {
			t.Errorf("%s: %v", it.Name, errs)
		}
		if codes[it.Code] {
			t.Errorf("duplicate item code %s", it.Code)
		}
		codes[it.Code] = true
		paper, certs := 0, 0
		for _, m := range it.Materials {
			if len(m.CertificateTypes) == 0 {
				paper++
			} else {
				certs++
			}
			if m.Pull == PullExOfficio && !strings.Contains(m.LegalBasis, "《") {
				t.Errorf("%s %s: ex officio without a named legal basis", it.Name, m.Code)
			}
			switch {
			case m.VerifyOnly:
				verifyOnly++
			case m.Pull == PullGrant:
				grant++
			case m.Pull == PullUseCode:
				useCode++
			}
		}
		if paper == 0 || certs == 0 {
			t.Errorf("%s: %d materials no certificate covers and %d certificate materials, want both", it.Name, paper, certs)
		}
		if n := len(it.Prechecks); n < 1 || n > 3 {
			t.Errorf("%s: %d prechecks, want 1 to 3", it.Name, n)
		}
		if len(it.Prefill) == 0 {
			t.Errorf("%s: no prefill rules", it.Name)
		}
	}
	if grant == 0 || verifyOnly == 0 || useCode == 0 {
		t.Errorf("grant %d, verify-only %d, use-code %d materials: want each at least once", grant, verifyOnly, useCode)
	}
	// A fresh copy each call.
	a := SeedItems()
	a[0].Materials[0].Name = "changed"
	if SeedItems()[0].Materials[0].Name == "changed" {
		t.Error("SeedItems shares state between calls")
	}
}

func TestSeedItemsJSON(t *testing.T) {
	b, err := json.Marshal(SeedItems()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"code"`, `"department_uscc"`, `"certificate_types"`, `"verify_only"`, `"legal_basis"`,
		`"form_field"`, `"certificate_type"`, `"prechecks"`, `"kind"`, `"days"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	var back ServiceItem
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if errs := ValidateItem(back, typeOf); errs != nil {
		t.Errorf("round trip: %v", errs)
	}
}

func TestValidateItemErrors(t *testing.T) {
	bl, id, mc := issuer.TypeBusinessLicence, issuer.TypeResidentIDCard, issuer.TypeMarriageCertificate
	tests := []struct {
		name  string
		edit  func(*ServiceItem)
		field string
		code  string
	}{
		{"no code", func(it *ServiceItem) { it.Code = "" }, "code", CodeRequired},
		{"bad code", func(it *ServiceItem) { it.Code = "a b" }, "code", CodeFormat},
		{"long code", func(it *ServiceItem) { it.Code = strings.Repeat("1", 65) }, "code", CodeLength},
		{"no name", func(it *ServiceItem) { it.Name = "" }, "name", CodeRequired},
		{"name with newline", func(it *ServiceItem) { it.Name = "a\nb" }, "name", CodeCharset},
		{"no department", func(it *ServiceItem) { it.Department = "" }, "department", CodeRequired},
		{"bad department uscc", func(it *ServiceItem) { it.DepartmentUSCC = "11310115000031001K" }, "department_uscc", CodeFormat},
		{"no materials", func(it *ServiceItem) { it.Materials = nil }, "materials", CodeRequired},
		{"duplicate material", func(it *ServiceItem) { it.Materials[1].Code = it.Materials[0].Code }, "materials[1].code", CodeDuplicate},
		{"material without name", func(it *ServiceItem) { it.Materials[2].Name = "" }, "materials[2].name", CodeRequired},
		{"unknown type", func(it *ServiceItem) { it.Materials[0].CertificateTypes = []string{"11100000000021001C999"} }, "materials[0].certificate_types[0]", CodeUnknownType},
		{"duplicate type", func(it *ServiceItem) { it.Materials[0].CertificateTypes = []string{bl, bl} }, "materials[0].certificate_types[1]", CodeDuplicate},
		{"unknown field", func(it *ServiceItem) { it.Materials[0].Fields = []string{"name", "nope"} }, "materials[0].fields[1]", CodeUnknownFld},
		{"field missing in one of two types", func(it *ServiceItem) {
			it.Materials[0].CertificateTypes = []string{bl, id}
			it.Materials[0].Fields = []string{"domicile"}
		}, "materials[0].fields[0]", CodeUnknownFld},
		{"fields on paper", func(it *ServiceItem) { it.Materials[2].Fields = []string{"name"} }, "materials[2].fields[0]", CodeNotAllowed},
		{"bad pull", func(it *ServiceItem) { it.Materials[0].Pull = "push" }, "materials[0].pull", CodeEnum},
		{"no pull", func(it *ServiceItem) { it.Materials[0].Pull = "" }, "materials[0].pull", CodeRequired},
		{"ex officio without basis", func(it *ServiceItem) { it.Materials[0].LegalBasis = "" }, "materials[0].legal_basis", CodeRequired},
		{"verify-only paper", func(it *ServiceItem) { it.Materials[2].VerifyOnly = true }, "materials[2].verify_only", CodeNotAllowed},
		{"prefill without form field", func(it *ServiceItem) { it.Prefill[0].FormField = "" }, "prefill[0].form_field", CodeRequired},
		{"prefill bad form field", func(it *ServiceItem) { it.Prefill[0].FormField = "Operator Name" }, "prefill[0].form_field", CodeFormat},
		{"prefill duplicate form field", func(it *ServiceItem) { it.Prefill[1].FormField = it.Prefill[0].FormField }, "prefill[1].form_field", CodeDuplicate},
		{"prefill no label", func(it *ServiceItem) { it.Prefill[0].Label = "" }, "prefill[0].label", CodeRequired},
		{"prefill unlisted type", func(it *ServiceItem) { it.Prefill[0].CertificateType = mc }, "prefill[0].certificate_type", CodeNotListed},
		{"prefill from verify-only", func(it *ServiceItem) { it.Prefill[0].CertificateType = id; it.Prefill[0].Source = "name" }, "prefill[0].certificate_type", CodeVerifyOnly},
		{"prefill unknown source", func(it *ServiceItem) { it.Prefill[0].Source = "colour" }, "prefill[0].source", CodeUnknownFld},
		{"prefill no source", func(it *ServiceItem) { it.Prefill[0].Source = "" }, "prefill[0].source", CodeRequired},
		{"precheck unknown kind", func(it *ServiceItem) { it.Prechecks[0].Kind = "vibes" }, "prechecks[0].kind", CodeEnum},
		{"precheck no kind", func(it *ServiceItem) { it.Prechecks[0].Kind = "" }, "prechecks[0].kind", CodeRequired},
		{"precheck zero days", func(it *ServiceItem) { it.Prechecks[1].Days = 0 }, "prechecks[1].days", CodeRange},
		{"precheck too many days", func(it *ServiceItem) { it.Prechecks[1].Days = MaxPrecheckDays + 1 }, "prechecks[1].days", CodeRange},
		{"precheck days on not_revoked", func(it *ServiceItem) { it.Prechecks[0].Days = 5 }, "prechecks[0].days", CodeNotAllowed},
		{"precheck unlisted type", func(it *ServiceItem) { it.Prechecks[0].CertificateType = mc }, "prechecks[0].certificate_type", CodeNotListed},
		{"precheck no type", func(it *ServiceItem) { it.Prechecks[1].CertificateType = "" }, "prechecks[1].certificate_type", CodeRequired},
		{"precheck duplicate code", func(it *ServiceItem) { it.Prechecks[1].Code = it.Prechecks[0].Code }, "prechecks[1].code", CodeDuplicate},
		{"precheck no name", func(it *ServiceItem) { it.Prechecks[0].Name = "" }, "prechecks[0].name", CodeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := seedItem(ItemFoodBusinessLicence)
			tc.edit(&it)
			errs := ValidateItem(it, typeOf)
			for _, e := range errs {
				if e.Field == tc.field && e.Code == tc.code {
					if e.Detail == "" {
						t.Error("empty detail")
					}
					return
				}
			}
			t.Errorf("want %s %s, got %v", tc.field, tc.code, errs)
		})
	}
}

func TestValidateHolderIsApplicantTypeOptional(t *testing.T) {
	it := seedItem(ItemMarriage)
	if it.Prechecks[1].CertificateType != "" {
		t.Fatal("test expects an untyped holder_is_applicant precheck")
	}
	if errs := ValidateItem(it, typeOf); errs != nil {
		t.Fatal(errs)
	}
	it.Prechecks[1].CertificateType = issuer.TypeBusinessLicence
	errs := ValidateItem(it, typeOf)
	if len(errs) != 1 || errs[0].Field != "prechecks[1].certificate_type" || errs[0].Code != CodeNotListed {
		t.Errorf("got %v", errs)
	}
}
