package ident

import (
	"testing"
)

// The validators run on every request: valid input must not allocate.
// Allocation counts are deterministic, unlike timings.
func TestValidInputDoesNotAllocate(t *testing.T) {
	const certID = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
	c, err := ParseCertificateID(certID)
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(){
		"ValidateUSCC":       func() { _ = ValidateUSCC("91350100M000100Y43") },
		"ValidateCitizenID":  func() { _ = ValidateCitizenID("11010519491231002X", fixedNow) },
		"BirthDate":          func() { _, _ = BirthDate("11010519491231002X") },
		"ParseCertificateID": func() { _, _ = ParseCertificateID(certID) },
		"MOD3736Check":       func() { _, _ = MOD3736Check("11100000000013338W01111430000006122244L20230000403001") },
		"WithVersion":        func() { _, _ = c.WithVersion(2) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s allocates %.0f times per call, want 0", name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.String() }); n != 1 {
		t.Errorf("String allocates %.0f times per call, want 1", n)
	}
}

var (
	sinkErr error
	sinkID  CertificateID
	sinkStr string
)

func BenchmarkValidateUSCC(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = ValidateUSCC("91350100M000100Y43")
	}
}

func BenchmarkValidateCitizenID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = ValidateCitizenID("11010519491231002X", fixedNow)
	}
}

func BenchmarkValidateCitizenIDInvalid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = ValidateCitizenID("110105194912310021", fixedNow)
	}
}

func BenchmarkParseCertificateID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkID, sinkErr = ParseCertificateID("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
	}
}

func BenchmarkCertificateIDString(b *testing.B) {
	c, _ := ParseCertificateID("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
	b.ReportAllocs()
	for b.Loop() {
		sinkStr = c.String()
	}
}

func BenchmarkMaskName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkStr = MaskName("欧阳娜娜")
	}
}
