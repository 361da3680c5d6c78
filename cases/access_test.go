package cases

import (
	"strings"
	"testing"

	"github.com/suishen/suishen/issuer"
)

// The policy target: where the applicant holds every listed certificate
// and every pull its mode allows is allowed, each seeded item pre-fills at
// least 70 % of its form; with ex officio pulls alone (no grant, no use
// code) still at least 70 %.
func TestSeedItemsReachThePrefillTarget(t *testing.T) {
	for _, it := range SeedItems() {
		if len(it.FormFields) == 0 {
			t.Errorf("%s: no form fields", it.Name)
			continue
		}
		r := Evaluate(it, full(it), now)
		if r.PrefillTotal != len(it.FormFields) || 10*r.PrefillFilled < 7*r.PrefillTotal {
			t.Errorf("%s: pre-filled %d of %d form fields", it.Name, r.PrefillFilled, r.PrefillTotal)
		}
		exOfficio := full(it)
		for i := range exOfficio {
			for _, m := range it.Materials {
				for _, tc := range m.CertificateTypes {
					if tc == exOfficio[i].TypeCode && m.Pull != PullExOfficio {
						exOfficio[i].PullAllowed = false
					}
				}
			}
		}
		r = Evaluate(it, exOfficio, now)
		if 10*r.PrefillFilled < 7*r.PrefillTotal {
			t.Errorf("%s ex officio only: pre-filled %d of %d form fields", it.Name, r.PrefillFilled, r.PrefillTotal)
		}
		for k := range r.Prefill {
			if !it.hasFormField(k) {
				t.Errorf("%s: pre-fill %s is not a form field", it.Name, k)
			}
		}
	}
}

// A prefill rule for a field outside the form is refused; an item that
// pre-fills must list its form; accepting departments and relations are
// checked.
func TestValidateAccessParts(t *testing.T) {
	base := seedItem(ItemBirthRegistration)
	for name, tc := range map[string]struct {
		change func(*ServiceItem)
		field  string
		code   string
	}{
		"no form":            {func(it *ServiceItem) { it.FormFields = nil }, "form_fields", CodeRequired},
		"rule outside form":  {func(it *ServiceItem) { it.FormFields = it.FormFields[1:] }, "prefill[0].form_field", CodeNotListed},
		"duplicate field":    {func(it *ServiceItem) { it.FormFields = append(it.FormFields, it.FormFields[0]) }, "form_fields[14].name", CodeDuplicate},
		"bad field name":     {func(it *ServiceItem) { it.FormFields[13].Name = "Bad Name" }, "form_fields[13].name", CodeFormat},
		"bad department":     {func(it *ServiceItem) { it.AcceptingDepartments = []string{"91350100M000100Y44"} }, "accepting_departments[0]", CodeFormat},
		"own department":     {func(it *ServiceItem) { it.AcceptingDepartments = []string{it.DepartmentUSCC} }, "accepting_departments[0]", CodeDuplicate},
		"relation no types":  {func(it *ServiceItem) { it.Relations[0].CertificateTypes = nil }, "relations[0].certificate_types", CodeRequired},
		"relation unlisted":  {func(it *ServiceItem) { it.Relations[0].CertificateTypes = []string{issuer.TypeDrivingLicence} }, "relations[0].certificate_types[0]", CodeNotListed},
		"link not readable":  {func(it *ServiceItem) { it.Relations[0].LinkType = issuer.TypeMarriageCertificate }, "relations[0].link_certificate_type", CodeNotListed},
		"link unknown field": {func(it *ServiceItem) { it.Relations[0].LinkFields = []string{"uncle_id_number"} }, "relations[0].link_fields[0]", CodeUnknownFld},
		"link no fields":     {func(it *ServiceItem) { it.Relations[0].LinkFields = nil }, "relations[0].link_fields", CodeRequired},
		"duplicate relation": {func(it *ServiceItem) { it.Relations = append(it.Relations, it.Relations[0]) }, "relations[1].code", CodeDuplicate},
	} {
		it := seedItem(ItemBirthRegistration)
		it.FormFields = append([]FormField(nil), base.FormFields...)
		it.Relations = append([]Relation(nil), base.Relations...)
		tc.change(&it)
		errs := ValidateItem(it, typeOf)
		found := false
		for _, e := range errs {
			if e.Field == tc.field && e.Code == tc.code {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %s %s, got %v", name, tc.field, tc.code, errs)
		}
	}
}

func TestAcceptsDepartment(t *testing.T) {
	it := seedItem(ItemFoodBusinessLicence)
	if !it.AcceptsDepartment(it.DepartmentUSCC) || it.AcceptsDepartment("") || it.AcceptsDepartment("11100000000013338W") {
		t.Fatal("responsible department")
	}
	it.AcceptingDepartments = []string{"11100000000013338W"}
	if !it.AcceptsDepartment("11100000000013338W") {
		t.Fatal("listed department")
	}
}

// The pre-fill never holds a rule's field outside the form, even for an
// item stored without validation.
func TestPrefillOnlyFormFields(t *testing.T) {
	it := seedItem(ItemMarriage)
	it.FormFields = it.FormFields[:2]
	r := Evaluate(it, full(it), now)
	if len(r.Prefill) != 2 || r.PrefillTotal != 2 || r.PrefillFilled != 2 {
		t.Fatalf("prefill %v %d/%d", r.Prefill, r.PrefillFilled, r.PrefillTotal)
	}
	// An item stored before form fields: its rules are its form.
	it = seedItem(ItemMarriage)
	it.FormFields = nil
	if r := Evaluate(it, full(it), now); r.PrefillTotal != len(it.Prefill) {
		t.Fatalf("legacy form %d", r.PrefillTotal)
	}
}

func TestPrecheckVerdict(t *testing.T) {
	it := seedItem(ItemMarriage)
	ok := Evaluate(it, full(it), now)
	bad := Evaluate(it, nil, now)
	if !ok.PrecheckVerdict() || bad.PrecheckVerdict() || !ok.PrecheckMatches(true) || ok.PrecheckMatches(false) ||
		!bad.PrecheckMatches(false) || bad.PrecheckMatches(true) {
		t.Fatalf("verdicts %d/%d %d/%d", ok.PrecheckPassed, ok.PrecheckTotal, bad.PrecheckPassed, bad.PrecheckTotal)
	}
	if !strings.Contains(seedItem(ItemBirthRegistration).Relations[0].LinkType, issuer.TypeBirthCertificate) {
		t.Fatal("the newborn is linked by the birth certificate")
	}
}
