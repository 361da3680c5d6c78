package issuer

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/signing"
)

// Test fixtures. Identifiers come from the standards' published samples
// (11010519491231002X of GB 11643, 91350100M000100Y43 of GB 32100) or are
// built with an independent reference check computation.

const (
	testCitizenID  = "11010519491231002X"
	testUSCC       = "91350100M000100Y43"
	testIssuerUSCC = "11310000000031001M" // stand-in: a Shanghai municipal bureau
	testIssuerName = "上海市市场监督管理局"
	testAreaCode   = "310000"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 15, 10, 30, 0, 0, cst)

func day(s string) time.Time {
	t, err := ParseDate(s)
	if err != nil {
		panic(s + ": " + err.Error())
	}
	return t
}

func dayPtr(s string) *time.Time { t := day(s); return &t }

// refCitizenCheck computes the GB 11643 check character from the
// standard's formula (weights 2^(17-i) mod 11), independently of ident.
func refCitizenCheck(first17 string) byte {
	sum := 0
	for i := range 17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

func citizenID(first17 string) string { return first17 + string(refCitizenCheck(first17)) }

// refUSCCCheck computes the GB 32100 check character independently of ident.
func refUSCCCheck(first17 string) byte {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := range 17 {
		sum += strings.IndexByte(alphabet, first17[i]) * w
		w = w * 3 % 31
	}
	return alphabet[(31-sum%31)%31]
}

// patternSamples are real-shaped values for every pattern field of the
// seeded catalogue, keyed "type code/field name".
var patternSamples = map[string]string{
	TypeFoodBusinessLicence + "/unified_social_credit_code": testUSCC,
	TypeFoodBusinessLicence + "/licence_number":             "JY13101040012345",
	TypeFoodBusinessLicence + "/complaint_hotline":          "12315",
	TypeDrivingLicence + "/file_number":                     "310000123456",
	TypeBirthCertificate + "/birth_time":                    "10:20",
	TypeDisabilityCard + "/guardian_phone":                  "021-64370000",
	TypeRealEstateCertificate + "/unit_number":              "310104001002GB00001F00010001",
	TypeSocialSecurityCard + "/social_security_number":      testCitizenID,
	TypeSocialSecurityCard + "/card_number":                 "A12345678",
	TypeConstructionSafety + "/licence_number":              "(沪)JZ安许证字〔2021〕010101",
}

// sampleValue returns a valid value for f in type t.
func sampleValue(tb testing.TB, t CertificateType, f FieldSpec) any {
	switch f.Type {
	case FieldString:
		if f.Pattern != "" {
			v, ok := patternSamples[t.Code+"/"+f.Name]
			if !ok {
				tb.Fatalf("no sample for pattern field %s/%s", t.Name, f.Name)
			}
			return v
		}
		return "上海市徐汇区漕溪北路" + f.Label
	case FieldDate:
		return "2019-06-01"
	case FieldInteger:
		return float64(39)
	case FieldNumber:
		return 50.5
	case FieldBoolean:
		return true
	case FieldEnum:
		return f.Values[len(f.Values)-1]
	}
	tb.Fatalf("unknown type %q", f.Type)
	return nil
}

// sampleRequest returns a request that passes ValidateRequest for t at testNow.
func sampleRequest(tb testing.TB, t CertificateType) IssueRequest {
	r := IssueRequest{
		TypeCode:  t.Code,
		Number:    "沪2026第000123号",
		ValidFrom: day("2026-01-05"),
		AreaCode:  "310104",
		Fields:    map[string]any{},
	}
	if t.HolderKind == HolderPerson {
		r.Holder = Holder{Kind: HolderPerson, Name: "张三", IDType: IDTypeCitizenID, IDNumber: testCitizenID}
	} else {
		r.Holder = Holder{Kind: HolderEnterprise, Name: "上海某某餐饮管理有限公司", IDType: IDTypeUSCC, IDNumber: testUSCC}
	}
	if t.ValidityYears > 0 {
		u := r.ValidFrom.AddDate(min(t.ValidityYears, 5), 0, -1)
		r.ValidUntil = &u
	} else {
		r.LongTerm = true
	}
	for _, f := range t.Fields {
		r.Fields[f.Name] = sampleValue(tb, t, f)
	}
	return r
}

func seedType(tb testing.TB, code string) CertificateType {
	for _, t := range SeedCatalogue() {
		if t.Code == code {
			return t
		}
	}
	tb.Fatalf("no seeded type %s", code)
	return CertificateType{}
}

func newSigner(tb testing.TB, kid string) signing.Signer {
	k, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return signing.NewSoftwareSigner(kid, k)
}

// lookupFor returns a key lookup that knows only s.
func lookupFor(s signing.Signer) func(string) (*signing.PublicKey, error) {
	return func(kid string) (*signing.PublicKey, error) {
		if kid == s.KeyID() {
			return s.Public(), nil
		}
		return nil, nil
	}
}

func sampleID(tb testing.TB, t CertificateType, n int64, version int) ident.CertificateID {
	id, err := ident.NewCertificateID(t.Code, testIssuerUSCC, Serial(2026, n), version)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// wantErrors fails unless errs contains exactly one error for field, with
// code, plus none on other fields.
func wantOnly(tb testing.TB, errs []FieldError, field, code string) {
	tb.Helper()
	if len(errs) != 1 || errs[0].Field != field || errs[0].Code != code {
		tb.Fatalf("got %v, want exactly {%s %s}", errs, field, code)
	}
	if errs[0].Detail == "" {
		tb.Fatalf("error %v has no detail", errs[0])
	}
}
