package issuer

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Every rejection path of ValidateRequest, each naming its field.
func TestValidateRequestErrors(t *testing.T) {
	food := seedType(t, TypeFoodBusinessLicence)     // enterprise, 5 years, no long term
	idCard := seedType(t, TypeResidentIDCard)        // person, 20 years or long term
	marriage := seedType(t, TypeMarriageCertificate) // person, long term only
	birth := seedType(t, TypeBirthCertificate)       // integer and number fields
	bizLicence := seedType(t, TypeBusinessLicence)   // enterprise, optional field

	// A type with a boolean field, which the seed lacks.
	withBool := food
	withBool.Fields = append(append([]FieldSpec(nil), food.Fields...), FieldSpec{Name: "online", Label: "网络经营", Type: FieldBoolean})

	futureBirth := citizenID("31010420300101123") // born 2030
	badDate := citizenID("31010419990230123")     // 30 February
	badArea := citizenID("91010419900101123")     // area 91

	cases := []struct {
		name        string
		typ         CertificateType
		mutate      func(*IssueRequest)
		field, code string
	}{
		{"type code missing", food, func(r *IssueRequest) { r.TypeCode = "" }, "type_code", CodeRequired},
		{"type code other", food, func(r *IssueRequest) { r.TypeCode = TypeBusinessLicence }, "type_code", CodeTypeMismatch},
		{"number missing", food, func(r *IssueRequest) { r.Number = "" }, "number", CodeRequired},
		{"number long", food, func(r *IssueRequest) { r.Number = strings.Repeat("号", 65) }, "number", CodeLength},
		{"number newline", food, func(r *IssueRequest) { r.Number = "A\nB" }, "number", CodeCharset},
		{"number bad utf8", food, func(r *IssueRequest) { r.Number = "A\xffB" }, "number", CodeCharset},
		{"number padded", food, func(r *IssueRequest) { r.Number = " A1" }, "number", CodeFormat},
		{"holder kind missing", food, func(r *IssueRequest) { r.Holder.Kind = "" }, "holder.kind", CodeRequired},
		{"holder kind unknown", food, func(r *IssueRequest) { r.Holder.Kind = "company" }, "holder.kind", CodeEnum},
		{"holder name missing", food, func(r *IssueRequest) { r.Holder.Name = "" }, "holder.name", CodeRequired},
		{"holder name long", idCard, func(r *IssueRequest) { r.Holder.Name = strings.Repeat("张", 65) }, "holder.name", CodeLength},
		{"holder name control", idCard, func(r *IssueRequest) { r.Holder.Name = "张\x00三" }, "holder.name", CodeCharset},
		{"holder name padded", idCard, func(r *IssueRequest) { r.Holder.Name = "张三 " }, "holder.name", CodeFormat},
		{"id type missing", food, func(r *IssueRequest) { r.Holder.IDType = "" }, "holder.id_type", CodeRequired},
		{"id type unknown", food, func(r *IssueRequest) { r.Holder.IDType = "414" }, "holder.id_type", CodeEnum},
		{"id type for person", idCard, func(r *IssueRequest) { r.Holder.IDType = IDTypeUSCC }, "holder.id_type", CodeKindMismatch},
		{"id number missing", food, func(r *IssueRequest) { r.Holder.IDNumber = "" }, "holder.id_number", CodeRequired},
		{"uscc check", food, func(r *IssueRequest) { r.Holder.IDNumber = "91350100M000100Y44" }, "holder.id_number", CodeCheckCharacter},
		{"uscc length", food, func(r *IssueRequest) { r.Holder.IDNumber = "91350100M000100Y4" }, "holder.id_number", "length"},
		{"uscc lower case", food, func(r *IssueRequest) { r.Holder.IDNumber = "91350100m000100Y43" }, "holder.id_number", CodeCharset},
		{"citizen check", idCard, func(r *IssueRequest) { r.Holder.IDNumber = "110105194912310021" }, "holder.id_number", CodeCheckCharacter},
		{"citizen future birth", idCard, func(r *IssueRequest) { r.Holder.IDNumber = futureBirth }, "holder.id_number", CodeDateFuture},
		{"citizen impossible birth", idCard, func(r *IssueRequest) { r.Holder.IDNumber = badDate }, "holder.id_number", CodeDateInvalid},
		{"citizen area", idCard, func(r *IssueRequest) { r.Holder.IDNumber = badArea }, "holder.id_number", CodeAreaCode},
		{"valid from missing", food, func(r *IssueRequest) { r.ValidFrom = time.Time{} }, "valid_from", CodeRequired},
		{"valid from ancient", idCard, func(r *IssueRequest) { r.ValidFrom = time.Date(1899, 12, 31, 0, 0, 0, 0, cst) }, "valid_from", CodeDateInvalid},
		{"valid from far ahead", idCard, func(r *IssueRequest) { r.ValidFrom = day("2027-03-16"); r.ValidUntil = dayPtr("2030-01-01") }, "valid_from", CodeDateFuture},
		{"valid until missing", food, func(r *IssueRequest) { r.ValidUntil = nil }, "valid_until", CodeRequired},
		{"valid until before", food, func(r *IssueRequest) { r.ValidUntil = dayPtr("2026-01-04") }, "valid_until", CodeRange},
		{"valid until same day", food, func(r *IssueRequest) { r.ValidUntil = dayPtr("2026-01-05") }, "valid_until", CodeRange},
		{"valid until over range", food, func(r *IssueRequest) { r.ValidUntil = dayPtr("2031-01-06") }, "valid_until", CodeRange},
		{"valid until zero", food, func(r *IssueRequest) { z := time.Time{}; r.ValidUntil = &z }, "valid_until", CodeDateInvalid},
		{"long term not allowed", food, func(r *IssueRequest) { r.ValidUntil = nil; r.LongTerm = true }, "long_term", CodeNotAllowed},
		{"long term with until", idCard, func(r *IssueRequest) { r.LongTerm = true }, "valid_until", CodeConflict},
		{"long term only: missing", marriage, func(r *IssueRequest) { r.LongTerm = false }, "long_term", CodeRequired},
		{"long term only: until", marriage, func(r *IssueRequest) { r.LongTerm = false; r.ValidUntil = dayPtr("2030-01-01") }, "valid_until", CodeNotAllowed},
		{"area code missing", food, func(r *IssueRequest) { r.AreaCode = "" }, "area_code", CodeRequired},
		{"area code short", food, func(r *IssueRequest) { r.AreaCode = "31010" }, "area_code", CodeFormat},
		{"area code letters", food, func(r *IssueRequest) { r.AreaCode = "31010A" }, "area_code", CodeFormat},
		{"area code province", food, func(r *IssueRequest) { r.AreaCode = "990000" }, "area_code", CodeAreaCode},
		{"field required", food, func(r *IssueRequest) { delete(r.Fields, "legal_representative") }, "fields.legal_representative", CodeRequired},
		{"field required nil", food, func(r *IssueRequest) { r.Fields["legal_representative"] = nil }, "fields.legal_representative", CodeRequired},
		{"field required empty", food, func(r *IssueRequest) { r.Fields["legal_representative"] = "" }, "fields.legal_representative", CodeRequired},
		{"string type", food, func(r *IssueRequest) { r.Fields["operator_name"] = 12.0 }, "fields.operator_name", CodeType},
		{"string object", food, func(r *IssueRequest) { r.Fields["operator_name"] = map[string]any{"a": 1} }, "fields.operator_name", CodeType},
		{"string length", food, func(r *IssueRequest) { r.Fields["operator_name"] = strings.Repeat("餐", 101) }, "fields.operator_name", CodeLength},
		{"string default length", withBool, func(r *IssueRequest) { r.Fields["signer"] = "x" }, "", ""},
		{"string control", food, func(r *IssueRequest) { r.Fields["operator_name"] = "a\x07b" }, "fields.operator_name", CodeCharset},
		{"pattern", food, func(r *IssueRequest) { r.Fields["licence_number"] = "JY1310104001234" }, "fields.licence_number", CodePattern},
		{"pattern anchored", food, func(r *IssueRequest) { r.Fields["licence_number"] = "JY131010400123456" }, "fields.licence_number", CodeLength},
		{"pattern prefix", food, func(r *IssueRequest) { r.Fields["licence_number"] = "XJY1310104001234" }, "fields.licence_number", CodePattern},
		{"enum", food, func(r *IssueRequest) { r.Fields["main_business_format"] = "小作坊" }, "fields.main_business_format", CodeEnum},
		{"enum type", food, func(r *IssueRequest) { r.Fields["main_business_format"] = true }, "fields.main_business_format", CodeType},
		{"unknown field", food, func(r *IssueRequest) { r.Fields["colour"] = "red" }, "fields.colour", CodeUnknownField},
		{"unknown field odd name", food, func(r *IssueRequest) { r.Fields["a.b\"c"] = "red" }, "fields", CodeUnknownField},
		{"too many fields", food, func(r *IssueRequest) {
			for i := range MaxRequestFields {
				r.Fields[fmt.Sprint("x", i)] = 1.0
			}
		}, "fields", CodeTooLarge},
		{"too much text", food, func(r *IssueRequest) {
			for i := range 20 {
				r.Fields[fmt.Sprint("x", i)] = strings.Repeat("a", MaxRequestFieldBytes/19)
			}
		}, "fields", CodeTooLarge},
		{"date type", idCard, func(r *IssueRequest) { r.Fields["birth_date"] = 19490101.0 }, "fields.birth_date", CodeType},
		{"date format", idCard, func(r *IssueRequest) { r.Fields["birth_date"] = "1949/12/31" }, "fields.birth_date", CodeFormat},
		{"date invalid", idCard, func(r *IssueRequest) { r.Fields["birth_date"] = "2023-02-29" }, "fields.birth_date", CodeDateInvalid},
		{"date ancient", idCard, func(r *IssueRequest) { r.Fields["birth_date"] = "1850-01-01" }, "fields.birth_date", CodeDateInvalid},
		{"integer fraction", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = 3250.5 }, "fields.birth_weight", CodeType},
		{"integer string", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = "3250" }, "fields.birth_weight", CodeType},
		{"integer json fraction", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = json.Number("3250.5") }, "fields.birth_weight", CodeType},
		{"integer huge", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = json.Number("9007199254740993") }, "fields.birth_weight", CodeRange},
		{"integer huge float", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = 1e300 }, "fields.birth_weight", CodeRange},
		{"integer bad json number", birth, func(r *IssueRequest) { r.Fields["birth_weight"] = json.Number("NaN") }, "fields.birth_weight", CodeType},
		{"number overflow", birth, func(r *IssueRequest) { r.Fields["birth_length"] = json.Number("1e999") }, "fields.birth_length", CodeRange},
		{"number hex", birth, func(r *IssueRequest) { r.Fields["birth_length"] = json.Number("0x10") }, "fields.birth_length", CodeType},
		{"number bool", birth, func(r *IssueRequest) { r.Fields["birth_length"] = false }, "fields.birth_length", CodeType},
		{"boolean", withBool, func(r *IssueRequest) { r.Fields["online"] = "true" }, "fields.online", CodeType},
		{"optional empty ok", bizLicence, func(r *IssueRequest) { r.Fields["registered_capital"] = "" }, "", ""},
		{"optional absent ok", bizLicence, func(r *IssueRequest) { delete(r.Fields, "registered_capital") }, "", ""},
		{"long term ok", idCard, func(r *IssueRequest) { r.ValidUntil = nil; r.LongTerm = true }, "", ""},
		{"exact range ok", food, func(r *IssueRequest) { r.ValidUntil = dayPtr("2031-01-05") }, "", ""},
		{"past certificate ok", food, func(r *IssueRequest) { r.ValidFrom = day("1999-01-01"); r.ValidUntil = dayPtr("2003-12-31") }, "", ""},
		{"integer forms ok", birth, func(r *IssueRequest) {
			r.Fields["birth_weight"] = json.Number("3250")
			r.Fields["gestational_weeks"] = 39
			r.Fields["mother_age"] = json.Number("3.1e1")
			r.Fields["birth_length"] = json.Number("50")
		}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRequest(t, tc.typ)
			tc.mutate(&r)
			errs := ValidateRequest(tc.typ, r, testNow)
			if tc.code == "" {
				if errs != nil {
					t.Fatalf("unexpected errors %v", errs)
				}
				return
			}
			wantOnly(t, errs, tc.field, tc.code)
		})
	}
}

// Details never repeat a rejected value.
func TestValidateRequestNoEcho(t *testing.T) {
	ct := seedType(t, TypeResidentIDCard)
	r := sampleRequest(t, ct)
	r.Holder.IDNumber = "110105194912310021"
	r.Fields["address"] = strings.Repeat("秘", 101)
	r.Fields["secret_key_19491231"] = "x"
	errs := ValidateRequest(ct, r, testNow)
	if len(errs) != 3 {
		t.Fatalf("got %v", errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Detail, "19491231") || strings.Contains(e.Detail, "秘秘") {
			t.Errorf("detail echoes the value: %v", e)
		}
	}
}

// A request with many problems reports each, in a stable order.
func TestValidateRequestAllErrors(t *testing.T) {
	ct := seedType(t, TypeFoodBusinessLicence)
	errs := ValidateRequest(ct, IssueRequest{Fields: map[string]any{"zz": 1.0, "aa": 2.0}}, testNow)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+"/"+e.Code)
	}
	want := "type_code/required number/required holder.kind/required holder.id_type/required holder.id_number/required " +
		"holder.name/required valid_from/required valid_until/required area_code/required " +
		"fields.operator_name/required fields.unified_social_credit_code/required fields.legal_representative/required " +
		"fields.domicile/required fields.business_premises/required fields.main_business_format/required " +
		"fields.business_items/required fields.licence_number/required fields.issuing_authority/required " +
		"fields.aa/unknown_field fields.zz/unknown_field"
	if strings.Join(got, " ") != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

func TestParseDate(t *testing.T) {
	for s, code := range map[string]string{
		"2024-02-29": "", "2023-02-29": CodeDateInvalid, "1899-12-31": CodeDateInvalid, "2024-13-01": CodeDateInvalid,
		"2024-1-01": CodeFormat, "２０２４-01-01": CodeFormat, "2024-01-01T00:00:00Z": CodeFormat, "": CodeFormat, "+024-01-01": CodeFormat,
	} {
		d, err := ParseDate(s)
		if got := errorCode(err, ""); got != code {
			t.Errorf("%q: code %q, want %q", s, got, code)
		}
		if code == "" && (FormatDate(d) != s || d.Hour() != 0) {
			t.Errorf("%q: got %v", s, d)
		}
	}
	// FormatDate takes the CST calendar date of any instant.
	if got := FormatDate(time.Date(2025, 12, 31, 16, 30, 0, 0, time.UTC)); got != "2026-01-01" {
		t.Errorf("FormatDate = %s", got)
	}
}

// Holders and requests print and log without personal data.
func TestNoPersonalDataInPrint(t *testing.T) {
	ct := seedType(t, TypeMarriageCertificate)
	r := sampleRequest(t, ct)
	r.Holder.Name = "李小明"
	r.Fields["husband_id_number"] = "31010419800101123X"
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	log.Info("issue", "req", r, "holder", r.Holder)
	fmt.Fprintf(&b, " %v %+v %#v %s", r, r, r, r.Holder)
	out := b.String()
	for _, leak := range []string{testCitizenID, "19491231", "李小明", "31010419800101123X", r.Number} {
		if strings.Contains(out, leak) {
			t.Errorf("output leaks %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "李**") || !strings.Contains(out, "110105********002X") {
		t.Errorf("masked values missing:\n%s", out)
	}
}

// Validation, including the first compilation of an admin-added type's
// patterns, is safe for concurrent use (run with -race).
func TestValidateConcurrent(t *testing.T) {
	ct := seedType(t, TypeFoodBusinessLicence)
	r := sampleRequest(t, ct)
	ct.Code = ct.Code[:18] + "099"
	r.TypeCode = ct.Code
	ct.Fields[7].Pattern = `JY[0-9]{14}|JY[0-9]{14}` // not yet in the cache
	done := make(chan []FieldError)
	for range 8 {
		go func() {
			var last []FieldError
			for range 50 {
				last = ValidateRequest(ct, r, testNow)
			}
			done <- last
		}()
	}
	for range 8 {
		if errs := <-done; errs != nil {
			t.Error(errs)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	body := `{"type_code":"` + TypeResidentIDCard + `","number":"A1","holder":{"kind":"person","name":"张三","id_type":"111","id_number":"` + testCitizenID + `"},` +
		`"valid_from":"2026-01-05","long_term":true,"area_code":"310104","fields":{"name":"张三","sex":"男","ethnicity":"汉","birth_date":"1949-12-31","address":"上海市","issuing_authority":"上海市公安局徐汇分局"}}`
	r, errs := DecodeRequest([]byte(body))
	if errs != nil {
		t.Fatal(errs)
	}
	if errs := ValidateRequest(seedType(t, TypeResidentIDCard), r, testNow); errs != nil {
		t.Fatal(errs)
	}
	_, errs = DecodeRequest([]byte(`{"holder":{"kind":7}}`))
	if len(errs) != 1 || errs[0].Field != "holder.kind" || errs[0].Code != CodeSyntax {
		t.Fatalf("got %v", errs)
	}
}
