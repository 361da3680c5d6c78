package cases

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/issuer"
)

// expectedPrefill computes what each rule should read from c.
func expectedPrefill(t *testing.T, c Candidate, src string) any {
	t.Helper()
	switch src {
	case SourceHolderName:
		return c.Document.Holders[0].Name
	case SourceHolderIDNumber:
		return c.Document.Holders[0].IDNumber
	case SourceNumber:
		return c.Document.Number
	case SourceIdentifier:
		return c.Document.Identifier
	case SourceValidUntil:
		if c.Document.LongTerm {
			return "长期"
		}
		return *c.Document.ValidUntil
	}
	v, ok := c.Document.Fields[src]
	if !ok {
		t.Fatalf("candidate of %s has no field %s", c.TypeCode, src)
	}
	return v
}

func TestEvaluateFull(t *testing.T) {
	for _, it := range SeedItems() {
		t.Run(it.Name, func(t *testing.T) {
			cs := full(it)
			r := Evaluate(it, cs, now)
			if r.Total != len(it.Materials) || len(r.Materials) != len(it.Materials) {
				t.Fatalf("total %d, %d results, want %d", r.Total, len(r.Materials), len(it.Materials))
			}
			exempt := 0
			for i, m := range it.Materials {
				mr := r.Materials[i]
				if mr.Code != m.Code || mr.Name != m.Name || mr.Reason == "" {
					t.Errorf("%s: %+v", m.Code, mr)
				}
				switch {
				case len(m.CertificateTypes) == 0:
					if mr.Status != StatusToSubmit || mr.CertificateID != "" || !strings.Contains(mr.Reason, "no certificate covers") {
						t.Errorf("%s (paper): %+v", m.Code, mr)
					}
				case m.VerifyOnly:
					exempt++
					if mr.Status != StatusVerified || mr.CertificateID == "" {
						t.Errorf("%s (verify-only): %+v", m.Code, mr)
					}
				default:
					exempt++
					want := find(cs, m.CertificateTypes[0]).ID
					if mr.Status != StatusExempted || mr.CertificateID != want {
						t.Errorf("%s: %+v, want exempted with %s", m.Code, mr, want)
					}
				}
				if mr.CertificateID != "" && !contains(r.Pulled, mr.CertificateID) {
					t.Errorf("%s: attached %s not in pulled %v", m.Code, mr.CertificateID, r.Pulled)
				}
			}
			if r.Exempted != exempt || exempt == 0 {
				t.Errorf("exempted %d, want %d", r.Exempted, exempt)
			}
			if r.PrefillTotal != len(it.FormFields) || r.PrefillFilled != len(it.Prefill) || len(r.Prefill) != len(it.Prefill) {
				t.Errorf("prefill %d/%d (%d values), want all %d", r.PrefillFilled, r.PrefillTotal, len(r.Prefill), len(it.Prefill))
			}
			if 10*r.PrefillFilled < 7*r.PrefillTotal {
				t.Errorf("prefill %d/%d below 70 %%", r.PrefillFilled, r.PrefillTotal)
			}
			for _, rule := range it.Prefill {
				want := expectedPrefill(t, find(cs, rule.CertificateType), rule.Source)
				if got := r.Prefill[rule.FormField]; got != want {
					t.Errorf("prefill %s = %v, want %v", rule.FormField, got, want)
				}
			}
			if r.PrecheckTotal != len(it.Prechecks) || r.PrecheckPassed != len(it.Prechecks) {
				t.Errorf("prechecks %d/%d passed: %+v", r.PrecheckPassed, r.PrecheckTotal, r.Prechecks)
			}
			for _, p := range r.Prechecks {
				if !p.Passed || p.Reason == "" {
					t.Errorf("precheck %+v", p)
				}
			}
			for _, id := range r.Pulled {
				found := false
				for _, c := range cs {
					found = found || c.ID == id
				}
				if !found {
					t.Errorf("pulled unknown %s", id)
				}
			}
		})
	}
}

func TestEvaluateNone(t *testing.T) {
	for _, it := range SeedItems() {
		t.Run(it.Name, func(t *testing.T) {
			r := Evaluate(it, nil, now)
			if r.Exempted != 0 || r.Total != len(it.Materials) || r.PrefillFilled != 0 || r.PrefillTotal != len(it.FormFields) ||
				r.PrecheckPassed != 0 || r.PrecheckTotal != len(it.Prechecks) || len(r.Pulled) != 0 || len(r.Prefill) != 0 {
				t.Errorf("counts: %+v", r)
			}
			for i, mr := range r.Materials {
				if mr.Status != StatusToSubmit || mr.CertificateID != "" {
					t.Errorf("%+v", mr)
				}
				if len(it.Materials[i].CertificateTypes) > 0 && !strings.Contains(mr.Reason, "no valid") {
					t.Errorf("%s: reason %q", mr.Code, mr.Reason)
				}
			}
			for _, p := range r.Prechecks {
				if p.Passed || p.Reason == "" {
					t.Errorf("precheck %+v", p)
				}
			}
		})
	}
}

// Partial: the first certificate type of the first certificate material is
// missing; everything else is there.
func TestEvaluatePartial(t *testing.T) {
	for _, it := range SeedItems() {
		t.Run(it.Name, func(t *testing.T) {
			var gone string
			for _, m := range it.Materials {
				if len(m.CertificateTypes) > 0 {
					gone = m.CertificateTypes[0]
					break
				}
			}
			cs := without(full(it), gone)
			r := Evaluate(it, cs, now)
			wantExempt := 0
			for i, m := range it.Materials {
				mr := r.Materials[i]
				has := false
				for _, tc := range m.CertificateTypes {
					has = has || tc != gone
				}
				if has {
					wantExempt++
					if mr.Status == StatusToSubmit {
						t.Errorf("%s: %+v", m.Code, mr)
					}
				} else if mr.Status != StatusToSubmit {
					t.Errorf("%s: %+v, want to_submit", m.Code, mr)
				} else if len(m.CertificateTypes) > 0 && !strings.Contains(mr.Reason, "no valid "+typeNames[gone]) {
					t.Errorf("%s: reason %q", m.Code, mr.Reason)
				}
			}
			if r.Exempted != wantExempt {
				t.Errorf("exempted %d, want %d", r.Exempted, wantExempt)
			}
			wantFilled := 0
			for _, rule := range it.Prefill {
				_, got := r.Prefill[rule.FormField]
				if rule.CertificateType == gone {
					if got {
						t.Errorf("%s filled without a certificate", rule.FormField)
					}
				} else {
					wantFilled++
					if !got {
						t.Errorf("%s not filled", rule.FormField)
					}
				}
			}
			if r.PrefillFilled != wantFilled || r.PrefillFilled == r.PrefillTotal {
				t.Errorf("prefill %d/%d, want %d", r.PrefillFilled, r.PrefillTotal, wantFilled)
			}
			for _, p := range it.Prechecks {
				pr := precheckResult(r, p.Code)
				if p.CertificateType == gone && pr.Passed {
					t.Errorf("precheck %s passed without its certificate", p.Code)
				}
			}
		})
	}
}

func TestNotInForceNeverExempts(t *testing.T) {
	bad := map[string]func(*Candidate){
		"revoked":    func(c *Candidate) { c.Status = issuer.StatusRevoked },
		"suspended":  func(c *Candidate) { c.Status = issuer.StatusSuspended },
		"cancelled":  func(c *Candidate) { c.Status = issuer.StatusCancelled },
		"superseded": func(c *Candidate) { c.Status = issuer.StatusSuperseded },
		"expired":    func(c *Candidate) { c.Status = issuer.StatusExpired },
		"unverified": func(c *Candidate) { c.Verified = false; c.Reason = "signature does not verify" },
		// Status says valid but the date is past: still not usable.
		"past valid_until": func(c *Candidate) { setUntil(&c.Document, "2025-05-31") },
	}
	wantReason := map[string]string{
		"revoked": "revoked", "suspended": "suspended", "cancelled": "cancelled", "superseded": "superseded",
		"expired": "expired", "unverified": "signature does not verify", "past valid_until": "expired",
	}
	for _, it := range SeedItems() {
		for _, tc := range it.CertificateTypes() {
			for name, f := range bad {
				t.Run(it.Name+"/"+typeNames[tc]+"/"+name, func(t *testing.T) {
					cs := modify(full(it), tc, f)
					badID := find(cs, tc).ID
					r := Evaluate(it, cs, now)
					if contains(r.Pulled, badID) {
						t.Errorf("pulled %s", badID)
					}
					for i, m := range it.Materials {
						mr := r.Materials[i]
						if mr.CertificateID == badID {
							t.Errorf("%s attached the %s certificate", m.Code, name)
						}
						if len(m.CertificateTypes) == 1 && m.CertificateTypes[0] == tc {
							if mr.Status != StatusToSubmit || !strings.Contains(mr.Reason, wantReason[name]) {
								t.Errorf("%s: %+v", m.Code, mr)
							}
						}
					}
					for _, rule := range it.Prefill {
						if _, ok := r.Prefill[rule.FormField]; ok && rule.CertificateType == tc {
							t.Errorf("prefill %s from a %s certificate", rule.FormField, name)
						}
					}
					for _, p := range it.Prechecks {
						if p.CertificateType == tc && p.Kind != KindHolderIsApplicant && precheckResult(r, p.Code).Passed {
							t.Errorf("precheck %s passed on a %s certificate", p.Code, name)
						}
					}
				})
			}
		}
	}
}

func TestBestCandidate(t *testing.T) {
	it := seedItem(ItemFoodBusinessLicence)
	bl := issuer.TypeBusinessLicence
	revoked := cand(bl)
	revoked.Status = issuer.StatusRevoked
	revoked.Document.IssuedAt = now // newest, but revoked
	old := cand(bl)
	old.Document.IssuedAt = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := cand(bl)
	newer.Document.IssuedAt = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	newer.Document.Fields["name"] = "新名称"
	other := cand(bl)
	other.HolderIsApplicant = false
	other.Document.IssuedAt = now
	cs := []Candidate{revoked, old, other, newer, cand(issuer.TypeResidentIDCard)}
	r := Evaluate(it, cs, now)
	if m := material(r, "M01"); m.Status != StatusExempted || m.CertificateID != newer.ID {
		t.Errorf("M01 %+v, want %s", m, newer.ID)
	}
	if r.Prefill["operator_name"] != "新名称" {
		t.Errorf("prefill from the wrong certificate: %v", r.Prefill["operator_name"])
	}
	if contains(r.Pulled, revoked.ID) || contains(r.Pulled, old.ID) || contains(r.Pulled, other.ID) {
		t.Errorf("pulled %v", r.Pulled)
	}
	// Only the revoked one: to_submit, revoked.
	r = Evaluate(it, []Candidate{revoked}, now)
	if m := material(r, "M01"); m.Status != StatusToSubmit || !strings.Contains(m.Reason, "revoked") {
		t.Errorf("%+v", m)
	}
	if p := precheckResult(r, "P01"); p.Passed || !strings.Contains(p.Reason, "revoked") {
		t.Errorf("not_revoked precheck %+v", p)
	}
}

func TestVerifyOnlyNeverPrefills(t *testing.T) {
	// Birth registration: the parents' marriage certificate is verify-only.
	it := seedItem(ItemBirthRegistration)
	cs := full(it)
	mc := find(cs, issuer.TypeMarriageCertificate)
	r := Evaluate(it, cs, now)
	if m := material(r, "M03"); m.Status != StatusVerified || m.CertificateID != mc.ID {
		t.Fatalf("M03 %+v", m)
	}
	if !contains(r.Pulled, mc.ID) {
		t.Error("a verify-only match is a use: it must be in pulled")
	}
	b, _ := json.Marshal(r.Prefill)
	for k, v := range mc.Document.Fields {
		if s, ok := v.(string); ok && strings.Contains(string(b), s) {
			t.Errorf("marriage certificate field %s leaked into prefill", k)
		}
	}
	// A rule that bypassed validation still reads nothing from a verify-only type.
	it.Prefill = append(it.Prefill, PrefillRule{FormField: "parents_married_on", Label: "x", CertificateType: issuer.TypeMarriageCertificate, Source: "registration_date"})
	r = Evaluate(it, cs, now)
	if _, ok := r.Prefill["parents_married_on"]; ok {
		t.Error("verify-only data moved into prefill")
	}
	if r.PrefillFilled != r.PrefillTotal-1 {
		t.Errorf("prefill %d/%d", r.PrefillFilled, r.PrefillTotal)
	}
	// Disability subsidy: the ID card is verify-only; its data never appears.
	it = seedItem(ItemDisabilitySubsidy)
	cs = full(it)
	id := find(cs, issuer.TypeResidentIDCard)
	id.Document.Fields["address"] = "唯一的身份证住址"
	cs = modify(cs, issuer.TypeResidentIDCard, func(c *Candidate) { *c = id })
	r = Evaluate(it, cs, now)
	b, _ = json.Marshal(r.Prefill)
	if strings.Contains(string(b), "唯一的身份证住址") {
		t.Error("verify-only ID card data in prefill")
	}
	if m := material(r, "M02"); m.Status != StatusVerified {
		t.Errorf("M02 %+v", m)
	}
}

func TestPullNotAllowed(t *testing.T) {
	// Grant: resale housing, marriage certificate without the holder's grant.
	it := seedItem(ItemResaleHousing)
	cs := modify(full(it), issuer.TypeMarriageCertificate, func(c *Candidate) { c.PullAllowed = false })
	mc := find(cs, issuer.TypeMarriageCertificate)
	r := Evaluate(it, cs, now)
	if m := material(r, "M03"); m.Status != StatusToSubmit || !strings.Contains(m.Reason, "grant") || !strings.Contains(m.Reason, "授权") {
		t.Errorf("M03 %+v", m)
	}
	if _, ok := r.Prefill["marriage_registration_date"]; ok || contains(r.Pulled, mc.ID) {
		t.Error("data moved without a grant")
	}
	if r.PrefillFilled != len(it.Prefill)-1 || 10*r.PrefillFilled < 7*r.PrefillTotal {
		t.Errorf("prefill %d/%d", r.PrefillFilled, r.PrefillTotal)
	}
	if r.Exempted != 2 || r.Total != 5 {
		t.Errorf("exempted %d/%d", r.Exempted, r.Total)
	}
	// Use code: the social security card without a redeemed 用证码.
	it = seedItem(ItemDisabilitySubsidy)
	cs = modify(full(it), issuer.TypeSocialSecurityCard, func(c *Candidate) { c.PullAllowed = false })
	r = Evaluate(it, cs, now)
	if m := material(r, "M03"); m.Status != StatusToSubmit || !strings.Contains(m.Reason, "用证码") {
		t.Errorf("M03 %+v", m)
	}
	if _, ok := r.Prefill["social_security_card_number"]; ok {
		t.Error("data moved without a use code")
	}
	// A pull-allowed candidate beats a newer one that is not.
	it = seedItem(ItemEnterpriseSetup)
	cs = full(it)
	blocked := cand(issuer.TypeRealEstateCertificate)
	blocked.PullAllowed = false
	blocked.Document.IssuedAt = now
	cs = append(cs, blocked)
	r = Evaluate(it, cs, now)
	if m := material(r, "M04"); m.Status != StatusExempted || m.CertificateID == blocked.ID {
		t.Errorf("M04 %+v", m)
	}
}

func TestValidForDaysBoundary(t *testing.T) {
	it := seedItem(ItemEnterpriseSetup) // P01: 居民身份证 valid at least 30 more days
	id := issuer.TypeResidentIDCard
	cases := []struct {
		until    string // "" = long-term
		passed   bool
		exempted bool
	}{
		{"2025-07-01", true, true},   // today + 30: the last day still covered
		{"2025-06-30", false, true},  // one day short
		{"2025-06-01", false, true},  // valid today only
		{"2025-05-31", false, false}, // expired yesterday
		{"", true, true},             // long-term
		{"2045-01-01", true, true},
	}
	for _, tc := range cases {
		cs := modify(full(it), id, func(c *Candidate) {
			if tc.until == "" {
				c.Document.LongTerm, c.Document.ValidUntil = true, nil
			} else {
				setUntil(&c.Document, tc.until)
			}
		})
		r := Evaluate(it, cs, now)
		p := precheckResult(r, "P01")
		if p.Passed != tc.passed || p.Reason == "" {
			t.Errorf("until %q: %+v, want passed %v", tc.until, p, tc.passed)
		}
		if got := material(r, "M03").Status == StatusExempted; got != tc.exempted {
			t.Errorf("until %q: M03 %+v", tc.until, material(r, "M03"))
		}
	}
	// Late in the CST day: the boundary is the calendar day, not 30×24 h.
	late := time.Date(2025, 6, 1, 23, 59, 0, 0, cstTest)
	cs := modify(full(it), id, func(c *Candidate) { setUntil(&c.Document, "2025-07-01") })
	if p := precheckResult(Evaluate(it, cs, late), "P01"); !p.Passed {
		t.Errorf("late: %+v", p)
	}
	// The same instant in UTC is still 2025-06-01 in CST.
	if p := precheckResult(Evaluate(it, cs, late.UTC()), "P01"); !p.Passed {
		t.Errorf("late UTC: %+v", p)
	}
	cs = modify(full(it), id, func(c *Candidate) { setUntil(&c.Document, "2025-06-30") })
	if p := precheckResult(Evaluate(it, cs, late), "P01"); p.Passed {
		t.Errorf("late, one day short: %+v", p)
	}
}

func TestHolderIsApplicant(t *testing.T) {
	it := seedItem(ItemResaleHousing) // P02: 不动产权证书 held by the applicant
	cs := modify(full(it), issuer.TypeRealEstateCertificate, func(c *Candidate) { c.HolderIsApplicant = false })
	r := Evaluate(it, cs, now)
	if p := precheckResult(r, "P02"); p.Passed || !strings.Contains(p.Reason, "not the applicant") {
		t.Errorf("%+v", p)
	}
	if m := material(r, "M01"); m.Status != StatusExempted {
		t.Errorf("a certificate of another holder is still attached (the precheck flags it): %+v", m)
	}
	// Untyped: every attached certificate, verify-only matches included.
	it = seedItem(ItemMarriage)
	cs = modify(full(it), issuer.TypeResidentIDCard, func(c *Candidate) { c.HolderIsApplicant = false })
	if p := precheckResult(Evaluate(it, cs, now), "P02"); p.Passed {
		t.Errorf("%+v", p)
	}
	// A holder_is_applicant precheck with nothing attached fails.
	if p := precheckResult(Evaluate(it, nil, now), "P02"); p.Passed || !strings.Contains(p.Reason, "no certificate attached") {
		t.Errorf("%+v", p)
	}
}

func TestUnlistedTypesIgnored(t *testing.T) {
	it := seedItem(ItemMarriage)
	dl := cand(issuer.TypeDrivingLicence)
	bl := cand(issuer.TypeBusinessLicence)
	r := Evaluate(it, append(full(it), dl, bl), now)
	if contains(r.Pulled, dl.ID) || contains(r.Pulled, bl.ID) {
		t.Errorf("pulled a type the item does not list: %v", r.Pulled)
	}
	if len(r.Pulled) != 1 {
		t.Errorf("pulled %v, want only the ID card", r.Pulled)
	}
}

func TestMultiTypeMaterial(t *testing.T) {
	// Enterprise setup M05 (verify-only) accepts a 居民身份证 or a 营业执照.
	it := seedItem(ItemEnterpriseSetup)
	cs := without(full(it), issuer.TypeResidentIDCard)
	r := Evaluate(it, cs, now)
	blc := find(cs, issuer.TypeBusinessLicence)
	if m := material(r, "M05"); m.Status != StatusVerified || m.CertificateID != blc.ID {
		t.Errorf("M05 %+v", m)
	}
	if m := material(r, "M03"); m.Status != StatusToSubmit {
		t.Errorf("M03 %+v", m)
	}
	// The 营业执照 is only listed by the verify-only material: no data moved.
	for _, v := range r.Prefill {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "营业执照") {
			t.Errorf("business licence data in prefill: %v", s)
		}
	}
}

func TestCandidateTypeFallbackAndSources(t *testing.T) {
	it := seedItem(ItemBirthRegistration)
	cs := full(it)
	for i := range cs {
		cs[i].TypeCode = "" // taken from the document
	}
	r := Evaluate(it, cs, now)
	if r.Exempted != 3 {
		t.Errorf("exempted %d", r.Exempted)
	}
	// An optional face field the certificate lacks is not filled.
	cs = modify(full(it), issuer.TypeBirthCertificate, func(c *Candidate) {
		f := map[string]any{}
		for k, v := range c.Document.Fields {
			if k != "father_name" && k != "father_id_number" {
				f[k] = v
			}
		}
		c.Document.Fields = f
	})
	r = Evaluate(it, cs, now)
	if _, ok := r.Prefill["father_name"]; ok || r.PrefillFilled != len(it.Prefill)-2 {
		t.Errorf("prefill %d/%d %v", r.PrefillFilled, r.PrefillTotal, r.Prefill["father_name"])
	}
	c := cand(issuer.TypeFoodBusinessLicence)
	if v, _ := source(&c, SourceValidUntil); v != "2026-06-01" {
		t.Errorf("valid_until %v", v)
	}
	c = cand(issuer.TypeMarriageCertificate)
	if v, _ := source(&c, SourceValidUntil); v != "长期" {
		t.Errorf("valid_until %v", v)
	}
	if v, _ := source(&c, SourceIdentifier); v != c.ID {
		t.Errorf("identifier %v", v)
	}
}

func TestResultJSON(t *testing.T) {
	it := seedItem(ItemFoodBusinessLicence)
	r := Evaluate(it, nil, now)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"materials", "prefill", "precheck", "exempted", "total", "prefill_filled", "prefill_total",
		"precheck_passed", "precheck_total", "pulled"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result JSON lacks %s", k)
		}
	}
	if m["prefill"] == nil || m["pulled"] == nil {
		t.Error("empty prefill and pulled must be {} and [], not null")
	}
	mat := m["materials"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(keys(mat), []string{"code", "name", "reason", "status"}) {
		t.Errorf("material keys %v", keys(mat))
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
