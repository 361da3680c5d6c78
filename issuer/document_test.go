package issuer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/signing"
)

var testIssuedAt = time.Date(2026, 3, 15, 2, 30, 15, 123456789, time.UTC)

func sampleDocument(t *testing.T, ct CertificateType, n int64) Document {
	t.Helper()
	r := sampleRequest(t, ct)
	if errs := ValidateRequest(ct, r, testNow); errs != nil {
		t.Fatal(errs)
	}
	return BuildDocument(ct, testIssuerName, testIssuerUSCC, sampleID(t, ct, n, 1), r, testIssuedAt, "", "sl-2026-0001", 4711)
}

func TestSerial(t *testing.T) {
	for _, tc := range []struct {
		year int
		n    int64
		want string
	}{
		{2023, 403, "20230000403"}, {2025, 1, "20250000001"}, {2025, 9999999, "20259999999"},
		{2025, 10000000, "202510000000"}, {9999, 1<<63 - 1, "99999223372036854775807"},
	} {
		if got := Serial(tc.year, tc.n); got != tc.want {
			t.Errorf("Serial(%d, %d) = %s, want %s", tc.year, tc.n, got, tc.want)
		}
	}
	for _, bad := range []struct {
		year int
		n    int64
	}{{999, 1}, {10000, 1}, {2025, 0}, {2025, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Serial(%d, %d) did not panic", bad.year, bad.n)
				}
			}()
			Serial(bad.year, bad.n)
		}()
	}
	// The longest serial still makes a valid identifier.
	ct := seedType(t, TypeResidentIDCard)
	if _, err := ident.NewCertificateID(ct.Code, testIssuerUSCC, Serial(9999, 1<<63-1), 999); err != nil {
		t.Fatal(err)
	}
}

func TestBuildDocumentIdentifiers(t *testing.T) {
	for i, ct := range SeedCatalogue() {
		d := sampleDocument(t, ct, int64(i+1)*1009)
		id, err := ident.ParseCertificateID(d.Identifier)
		if err != nil {
			t.Fatalf("%s: identifier %s: %v", ct.Name, d.Identifier, err)
		}
		if id.TypeCode != ct.Code || id.IssuerCode != testIssuerUSCC || id.Version != "001" || d.Version != 1 {
			t.Errorf("%s: identifier %s, version %d", ct.Name, d.Identifier, d.Version)
		}
		if want := fmt.Sprintf("2026%07d", (i+1)*1009); id.Serial != want {
			t.Errorf("serial %s, want %s", id.Serial, want)
		}
		if err := d.check(); err != nil {
			t.Errorf("%s: %v", ct.Name, err)
		}
	}
	// Renewal: the next version, linked to its predecessor.
	ct := seedType(t, TypeDrivingLicence)
	id1 := sampleID(t, ct, 7, 1)
	id2, err := NextVersion(id1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ident.ParseCertificateID(id2.String()); err != nil || id2.Version != "002" || id2.Serial != id1.Serial {
		t.Fatalf("next version %s: %v", id2, err)
	}
	d := BuildDocument(ct, testIssuerName, testIssuerUSCC, id2, sampleRequest(t, ct), testIssuedAt, id1.String(), "sl", 1)
	if d.Version != 2 || d.Predecessor != id1.String() || d.check() != nil {
		t.Fatalf("renewed document %+v: %v", d, d.check())
	}
	if _, err := NextVersion(sampleID(t, ct, 7, 999)); err == nil {
		t.Fatal("version 1000 accepted")
	}
}

func TestBuildDocumentContents(t *testing.T) {
	ct := seedType(t, TypeBirthCertificate)
	r := sampleRequest(t, ct)
	r.Fields["birth_weight"] = json.Number("3250")
	r.Fields["birth_length"] = json.Number("50.5")
	r.Fields["gestational_weeks"] = 39
	r.Fields["father_name"] = "" // empty optional: left out
	r.Fields["stray"] = "x"      // outside the schema: left out
	d := BuildDocument(ct, testIssuerName, testIssuerUSCC, sampleID(t, ct, 1, 1), r, testIssuedAt, "", "sl-1", 3)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`{"name":"出生医学证明","identifier":"1.2.156.3005.2.` + ct.Code + `.` + testIssuerUSCC + `.20260000001.001.`,
		`"type_code":"` + ct.Code + `","type_name":"出生医学证明","number":"沪2026第000123号","version":1,`,
		`"issuer":{"name":"上海市市场监督管理局","uscc":"11310000000031001M"},`,
		`"defining_authority":{"name":"国家卫生健康委员会","uscc":"11100000000021004M"},`,
		`"issue_date":"2026-03-15","valid_from":"2026-01-05","valid_until":null,"long_term":true,"area_code":"310104",`,
		`"holders":[{"name":"张三","id_type":"111","id_number":"11010519491231002X"}],`,
		`"related_items":[{"code":"000112001000","name":"出生医学证明首次签发"}`,
		`"birth_weight":3250,`, `"birth_length":50.5,`, `"gestational_weeks":39,`,
		`"status_list":{"id":"sl-1","index":3},"issued_at":"2026-03-15T02:30:15Z"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("document lacks %s\n%s", want, s)
		}
	}
	for _, unwanted := range []string{`"father_name"`, `"stray"`, `"predecessor"`} {
		if strings.Contains(s, unwanted) {
			t.Errorf("document has %s", unwanted)
		}
	}
	// A fixed-term certificate has its end date; the issue date is the CST date.
	food := seedType(t, TypeFoodBusinessLicence)
	late := time.Date(2026, 3, 15, 17, 0, 0, 0, time.UTC) // 01:00 on the 16th in Shanghai
	fd := BuildDocument(food, testIssuerName, testIssuerUSCC, sampleID(t, food, 2, 1), sampleRequest(t, food), late, "", "sl", 0)
	if fd.ValidUntil == nil || *fd.ValidUntil != "2031-01-04" || fd.LongTerm || fd.IssueDate != "2026-03-16" {
		t.Errorf("valid_until %v, long_term %v, issue_date %s", fd.ValidUntil, fd.LongTerm, fd.IssueDate)
	}
	// Deterministic payload.
	b2, _ := json.Marshal(BuildDocument(ct, testIssuerName, testIssuerUSCC, sampleID(t, ct, 1, 1), r, testIssuedAt, "", "sl-1", 3))
	if string(b2) != s {
		t.Error("the same document marshals differently")
	}
}

func TestSignVerifyDocument(t *testing.T) {
	s := newSigner(t, "dept-samr-2026")
	for i, ct := range SeedCatalogue() {
		d := sampleDocument(t, ct, int64(i+1))
		jws, err := SignDocument(s, d)
		if err != nil {
			t.Fatal(err)
		}
		hdr, payload, err := signing.ParseJWS(jws)
		if err != nil || hdr.Typ != DocumentTyp || hdr.Alg != "SM2" || hdr.Kid != s.KeyID() {
			t.Fatalf("header %+v: %v", hdr, err)
		}
		want, _ := json.Marshal(d)
		if string(payload) != string(want) {
			t.Fatalf("payload is not json.Marshal(d)")
		}
		got, err := VerifyDocument(jws, lookupFor(s))
		if err != nil {
			t.Fatalf("%s: %v", ct.Name, err)
		}
		// Re-marshalling what was verified gives the signed bytes back.
		again, _ := json.Marshal(got)
		if string(again) != string(payload) {
			t.Fatalf("%s: verified document re-marshals differently:\n%s\n%s", ct.Name, again, payload)
		}
		if got.Identifier != d.Identifier || got.Holders[0].IDNumber != d.Holders[0].IDNumber {
			t.Fatalf("verified document differs")
		}
	}
}

func TestVerifyDocumentTamper(t *testing.T) {
	s := newSigner(t, "dept")
	ct := seedType(t, TypeBusinessLicence)
	jws, err := SignDocument(s, sampleDocument(t, ct, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Flipping any bit of any byte breaks it: malformed, wrong key or bad signature.
	for i := 0; i < len(jws); i++ {
		for _, flip := range []byte{0x01, 0x20} {
			b := []byte(jws)
			b[i] ^= flip
			if _, err := VerifyDocument(string(b), lookupFor(s)); err == nil {
				t.Fatalf("byte %d ^ %#x: tampered JWS verified", i, flip)
			}
		}
	}
	// Another key.
	other := newSigner(t, "dept")
	if _, err := VerifyDocument(jws, lookupFor(other)); !errors.Is(err, signing.ErrInvalidSignature) {
		t.Fatalf("other key: %v", err)
	}
	// Unknown kid.
	if _, err := VerifyDocument(jws, lookupFor(newSigner(t, "x"))); !errors.Is(err, signing.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
}

func TestVerifyDocumentRejects(t *testing.T) {
	s := newSigner(t, "dept")
	ct := seedType(t, TypeBusinessLicence)
	d := sampleDocument(t, ct, 1)
	wantCode := func(t *testing.T, err error, code string) {
		t.Helper()
		var e *Error
		if !errors.As(err, &e) || e.Code != code {
			t.Fatalf("got %v, want code %s", err, code)
		}
	}
	// A well-signed JWS of another type.
	payload, _ := json.Marshal(d)
	other, _ := signing.SignJWS(s, payload, map[string]any{"typ": StatusListTyp})
	_, err := VerifyDocument(other, lookupFor(s))
	wantCode(t, err, CodeWrongType)
	// Unknown members and trailing data.
	extra := strings.Replace(string(payload), `{"name"`, `{"x":1,"name"`, 1)
	j, _ := signing.SignJWS(s, []byte(extra), map[string]any{"typ": DocumentTyp})
	_, err = VerifyDocument(j, lookupFor(s))
	wantCode(t, err, CodeMalformed)
	j, _ = signing.SignJWS(s, append(append([]byte{}, payload...), "{}"...), map[string]any{"typ": DocumentTyp})
	_, err = VerifyDocument(j, lookupFor(s))
	wantCode(t, err, CodeMalformed)

	// Inconsistent documents are refused both when signing and when verifying.
	inconsistent := map[string]func(*Document){
		"type code":        func(d *Document) { d.TypeCode = TypeFoodBusinessLicence },
		"issuer":           func(d *Document) { d.Issuer.USCC = testUSCC },
		"version":          func(d *Document) { d.Version = 2 },
		"identifier check": func(d *Document) { d.Identifier = d.Identifier[:len(d.Identifier)-1] + "0" },
		"long term":        func(d *Document) { d.LongTerm = !d.LongTerm },
		"no holder":        func(d *Document) { d.Holders = nil },
		"bad date":         func(d *Document) { d.ValidFrom = "2026-02-30" },
		"self predecessor": func(d *Document) { d.Predecessor = d.Identifier },
		"later predecessor": func(d *Document) {
			id, _ := ident.ParseCertificateID(d.Identifier)
			p, _ := id.WithVersion(2)
			d.Predecessor = p.String()
		},
	}
	for name, mutate := range inconsistent {
		t.Run(name, func(t *testing.T) {
			bad := d
			bad.Holders = append([]DocumentHolder(nil), d.Holders...)
			mutate(&bad)
			_, err := SignDocument(s, bad)
			wantCode(t, err, CodeInconsistent)
			p, _ := json.Marshal(bad)
			j, _ := signing.SignJWS(s, p, map[string]any{"typ": DocumentTyp})
			_, err = VerifyDocument(j, lookupFor(s))
			wantCode(t, err, CodeInconsistent)
		})
	}
}

func TestDocumentPrintsNoPersonalData(t *testing.T) {
	d := sampleDocument(t, seedType(t, TypeResidentIDCard), 1)
	out := fmt.Sprintf("%v %+v %#v %s %v", d, d, d, d.Holders[0], d.Holders)
	if strings.Contains(out, testCitizenID) || strings.Contains(out, "张三") || strings.Contains(out, "19491231") {
		t.Fatalf("leaks: %s", out)
	}
}

// The OpenSSL 3 command line verifies a signed certificate against the
// department's public key (domain reference §4), with the default ID pinned.
func TestOpenSSLVerifiesDocument(t *testing.T) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not on PATH; this interop test needs OpenSSL 3: %v", err)
	}
	s := newSigner(t, "dept-openssl")
	jws, err := SignDocument(s, sampleDocument(t, seedType(t, TypeDrivingLicence), 42))
	if err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(jws, '.')
	raw, err := base64.RawURLEncoding.DecodeString(jws[dot+1:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := signing.RawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signing.MarshalPublicKeyPEM(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	verify := func(msg []byte, id string) (string, error) {
		out, err := exec.Command(path, "pkeyutl", "-verify", "-pubin", "-inkey", write("pub.pem", pub),
			"-rawin", "-in", write("msg", msg), "-sigfile", write("sig.der", der),
			"-digest", "sm3", "-pkeyopt", "distid:"+id).CombinedOutput()
		return string(out), err
	}
	input := []byte(jws[:dot])
	if out, err := verify(input, signing.DefaultID); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl did not verify the certificate: %v\n%s", err, out)
	}
	// Negative controls: the check can fail.
	tampered := append([]byte{}, input...)
	tampered[len(tampered)-1] ^= 1
	if out, err := verify(tampered, signing.DefaultID); err == nil {
		t.Fatalf("openssl verified a tampered signing input:\n%s", out)
	}
	if out, err := verify(input, "1234567812345679"); err == nil {
		t.Fatalf("openssl verified with another distinguishing ID:\n%s", out)
	}
}

// The example identifier of docs/certificates.md is what the code produces.
func TestDocsExampleIdentifier(t *testing.T) {
	id := sampleID(t, seedType(t, TypeFoodBusinessLicence), 123, 1)
	if got, want := id.String(), "1.2.156.3005.2.11100000000021001C002.11310000000031001M.20260000123.001.K"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
