package issuer

import (
	"slices"
	"testing"
)

// TestSeedSensitiveFields: exactly the fields that carry identity numbers,
// other people's identifiers, persons' phone numbers, health or disability
// data are marked sensitive in the seeded catalogue.
func TestSeedSensitiveFields(t *testing.T) {
	want := map[string][]string{
		TypeMarriageCertificate: {"husband_id_number", "wife_id_number"},
		TypeBirthCertificate:    {"gestational_weeks", "birth_weight", "birth_length", "mother_id_number", "father_id_number"},
		TypeDisabilityCard:      {"disability_category", "disability_level", "guardian_phone"},
		TypeSocialSecurityCard:  {"social_security_number"},
	}
	for _, ct := range SeedCatalogue() {
		var got []string
		for _, f := range ct.Fields {
			if f.Sensitive {
				got = append(got, f.Name)
			}
		}
		if !slices.Equal(got, want[ct.Code]) {
			t.Errorf("%s (%s): sensitive %v, want %v", ct.Name, ct.Code, got, want[ct.Code])
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		s         string
		max       int
		multiline bool
		want      string
	}{
		{"窗口01", 10, false, ""},
		{"", 10, false, ""},
		{"abc", 2, false, CodeLength},
		{"a\nb", 10, false, CodeCharset},
		{"a\nb", 10, true, ""},
		{"张三\u202e", 10, false, CodeCharset}, // right-to-left override
		{"\u202a", 10, true, CodeCharset},
		{"\u2066x\u2069", 10, false, CodeCharset}, // isolates
		{"a\u200bb", 10, false, CodeCharset},      // zero-width space
		{"a\u200fb", 10, false, CodeCharset},      // right-to-left mark
		{"\ufeff", 10, false, CodeCharset},
		{"a\x00", 10, true, CodeCharset},
		{"a\u0085", 10, true, CodeCharset},
		{"\xff", 10, false, CodeCharset},
	} {
		if got := CheckText(tc.s, tc.max, tc.multiline); got != tc.want {
			t.Errorf("CheckText(%q, %d, %v) = %q, want %q", tc.s, tc.max, tc.multiline, got, tc.want)
		}
	}
}

// TestIssuanceRefusesBidi: names, numbers and face fields at issuance
// follow the same rule as callers' free text.
func TestIssuanceRefusesBidi(t *testing.T) {
	ct := seedType(t, TypeResidentIDCard)
	{
		for _, field := range []string{"holder.name", "number", "fields.address"} {
			req := sampleRequest(t, ct)
			switch field {
			case "holder.name":
				req.Holder.Name = "张\u202e三"
			case "number":
				req.Number = "A\u2066B"
			case "fields.address":
				req.Fields["address"] = "上海市\u202e徐汇区"
			}
			errs := ValidateRequest(ct, req, testNow)
			found := false
			for _, e := range errs {
				if e.Field == field && e.Code == CodeCharset {
					found = true
				}
			}
			if !found {
				t.Errorf("%s with a bidi control: errors %v", field, errs)
			}
		}
	}
}
