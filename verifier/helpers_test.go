package verifier

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

// testNow is the fixed clock of the tests: 2026-03-15 10:30 China Standard
// Time.
var testNow = time.Date(2026, 3, 15, 2, 30, 0, 0, time.UTC)

// Department fixtures. deptUSCC is a stand-in Shanghai bureau's unified
// social credit code (correct GB 32100 check character).
const (
	deptUSCC  = "11310000000031001M"
	deptName  = "上海市公安局"
	areaCode  = "310104"
	citizenID = "11010519491231002X" // GB 11643's published sample
	codeList  = "codes-1"
	certList  = "certificates-1"

	idxGood       = 10
	idxSuspended  = 11
	idxRevoked    = 12
	idxSuperseded = 13
	idxOutside    = issuer.MinStatusListSize + 5
)

func newSigner(tb testing.TB) signing.Signer {
	tb.Helper()
	k, err := signing.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

// bundleKey returns s's bundle entry as keyring.Publisher writes it.
func trustKey(s signing.Signer, role string) trust.Key {
	k := trust.Key{JWK: signing.NewJWK(s.Public()), Role: role, NotBefore: testNow.Add(-30 * 24 * time.Hour),
		Status: trust.StatusActive}
	k.Kid = s.KeyID()
	return k
}

// fixture is a trust bundle under construction: an anchor, a code key and
// a department key, and two status lists with one entry of each value.
type fixture struct {
	tb                   testing.TB
	anchor, code, dept   signing.Signer
	bundle               trust.Bundle
	codeSL, certSL       *issuer.StatusList
	serial               int64
	certType             issuer.CertificateType // 居民身份证
	licenceType          issuer.CertificateType // 机动车驾驶证 (long-term allowed)
	unlistedType         issuer.CertificateType // 营业执照: the department key is not listed for it
	statusListValidUntil time.Time
	// held is the fixture's list source: every list signList signed.
	held Lists
}

// fixedSigner derives a fixed test key from seed (d = SM3(seed)) that signs
// deterministically: its nonce entropy is all zeros, so gmsm's hedged nonce
// depends on the key and the message only. The fuzzers need that: each
// fuzzing worker process rebuilds the genuine inputs and must get the very
// texts the seed corpus holds.
func fixedSigner(tb testing.TB, seed string) signing.Signer {
	tb.Helper()
	d := signing.SM3([]byte(seed))
	k, err := signing.PrivateKeyFromBytes(d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return detSigner{kid: signing.Thumbprint(k.Public()), k: k}
}

type detSigner struct {
	kid string
	k   *signing.PrivateKey
}

func (s detSigner) KeyID() string              { return s.kid }
func (s detSigner) Public() *signing.PublicKey { return s.k.Public() }
func (s detSigner) Sign(msg []byte) ([]byte, error) {
	return signing.Sign(zeroReader{}, s.k, msg)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	return newFixtureKeys(tb, newSigner(tb), newSigner(tb), newSigner(tb))
}

// newFixedFixture uses fixed keys, so that inputs a fuzzer records keep
// their meaning from run to run.
func newFixedFixture(tb testing.TB) *fixture {
	tb.Helper()
	return newFixtureKeys(tb, fixedSigner(tb, "verifier test anchor"), fixedSigner(tb, "verifier test code key"),
		fixedSigner(tb, "verifier test department key"))
}

func newFixtureKeys(tb testing.TB, anchor, code, dept signing.Signer) *fixture {
	tb.Helper()
	f := &fixture{tb: tb, anchor: anchor, code: code, dept: dept,
		statusListValidUntil: testNow.Add(47 * time.Hour), held: Lists{}}
	for _, t := range issuer.SeedCatalogue() {
		switch t.Code {
		case issuer.TypeResidentIDCard:
			f.certType = t
		case issuer.TypeDrivingLicence:
			f.licenceType = t
		case issuer.TypeBusinessLicence:
			f.unlistedType = t
		}
	}
	dk := trustKey(f.dept, trust.RoleDepartment)
	dk.DepartmentUSCC = deptUSCC
	dk.CertificateTypes = []string{issuer.TypeResidentIDCard, issuer.TypeDrivingLicence}
	f.bundle = trust.Bundle{
		Issuer:     "https://suishen.example.gov.cn",
		IssuedAt:   testNow.Add(-time.Hour),
		NextUpdate: testNow.Add(-45 * time.Minute),
		ExpiresAt:  testNow.Add(47 * time.Hour),
		Keys:       []trust.Key{trustKey(f.anchor, trust.RoleAnchor), trustKey(f.code, trust.RoleCode), dk},
	}
	f.codeSL = issuer.NewStatusList(codeList, issuer.MinStatusListSize)
	f.certSL = issuer.NewStatusList(certList, issuer.MinStatusListSize)
	for _, l := range []*issuer.StatusList{f.codeSL, f.certSL} {
		for i, v := range map[int]uint8{idxSuspended: issuer.EntrySuspended, idxRevoked: issuer.EntryRevoked, idxSuperseded: issuer.EntrySuperseded} {
			if err := l.Set(i, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return f
}

// key returns the bundle entry of kid for editing.
func (f *fixture) key(kid string) *trust.Key {
	for i := range f.bundle.Keys {
		if f.bundle.Keys[i].Kid == kid {
			return &f.bundle.Keys[i]
		}
	}
	f.tb.Fatalf("no key %s", kid)
	return nil
}

// signList signs l with s, valid until validUntil, puts it in the
// fixture's list source and returns the bundle's reference to it.
func (f *fixture) signList(s signing.Signer, l *issuer.StatusList, validUntil time.Time) trust.StatusListRef {
	f.tb.Helper()
	jws := f.signListJWS(s, l, validUntil)
	f.held[l.ID] = jws
	return trust.StatusListRef{ID: l.ID, Kind: trust.ListOfflineCodes, Version: 1, SM3: trust.ListDigest(jws),
		URL: "https://suishen.example.gov.cn/v1/status-lists/" + l.ID}
}

// signListJWS signs l with s, valid until validUntil.
func (f *fixture) signListJWS(s signing.Signer, l *issuer.StatusList, validUntil time.Time) string {
	f.tb.Helper()
	p, err := issuer.NewStatusListPayload(l, testNow.Add(-time.Hour), validUntil)
	if err != nil {
		f.tb.Fatal(err)
	}
	jws, err := issuer.SignStatusList(s, p)
	if err != nil {
		f.tb.Fatal(err)
	}
	return jws
}

// jws signs the bundle; status lists are added, signed by the anchor, unless
// the test set its own.
func (f *fixture) jws() string {
	f.tb.Helper()
	b := f.bundle
	if b.StatusLists == nil {
		b.StatusLists = []trust.StatusListRef{
			f.signList(f.anchor, f.codeSL, f.statusListValidUntil),
			f.signList(f.anchor, f.certSL, f.statusListValidUntil),
		}
	}
	s, err := trust.Sign(f.anchor, b)
	if err != nil {
		f.tb.Fatal(err)
	}
	return s
}

// verifier loads the bundle at testNow (or opts.Now), with the fixture's
// lists as its source (or opts.Lists).
func (f *fixture) verifier(opts ...Options) *Verifier {
	f.tb.Helper()
	o := Options{Now: func() time.Time { return testNow }, Lists: f.held}
	if len(opts) > 0 {
		o = opts[0]
		if o.Now == nil {
			o.Now = func() time.Time { return testNow }
		}
		if o.Lists == nil {
			o.Lists = f.held
		}
	}
	v, err := New(f.jws(), f.anchor.Public(), o)
	if err != nil {
		f.tb.Fatal(err)
	}
	return v
}

// claims returns realistic claims of kind k issued 10 s before testNow.
func claims(tb testing.TB, k codes.Kind) codes.Claims {
	tb.Helper()
	subj, err := codes.NewSubject([]byte("0123456789abcdef0123456789abcdef"), 42, zeroReader{})
	if err != nil {
		tb.Fatal(err)
	}
	iat := testNow.Add(-10 * time.Second)
	c := codes.Claims{Kind: k, IssuedAt: iat, ExpiresAt: iat.Add(codes.DefaultLifetime(k)), Subject: subj}
	switch k {
	case codes.Personal:
		c.DisplayName = "张*"
	case codes.Offline:
		c.DisplayName = "李*"
		c.Generation = 3
		c.StatusList, c.StatusIndex = codeList, idxGood
	case codes.Enterprise:
		c.DisplayName = "上海某某科技有限公司"
		c.StatusList, c.StatusIndex = codeList, idxGood
	case codes.Venue:
		c.Subject = nil
		c.DisplayName = "徐汇区行政服务中心"
		c.VenueID = "7f3c9a2e-1b4d-4e8a-9c61-2d5f8b7a0e13"
		c.StatusList, c.StatusIndex = codeList, idxGood
	case codes.Presentation:
		c.DisplayName = "张*"
		c.CertificateID = "1.2.156.3005.2.11100000000021002F001.11310000000031001M.20260000001.001.K"
		c.UseCode = "7KQ2M9XW4HZT"
		c.StatusList, c.StatusIndex = certList, idxGood
	case codes.Copy:
		c.DisplayName = "张*"
		c.CertificateID = "1.2.156.3005.2.11100000000021002F001.11310000000031001M.20260000001.001.K"
		c.StatusList, c.StatusIndex = certList, idxGood
		c.RecipientOrg, c.RecipientUSCC, c.Purpose = "某某银行上海分行", "91310000MA1K4C2X5R", "办理个人贷款"
	}
	return c
}

func issue(tb testing.TB, s signing.Signer, c codes.Claims) string {
	tb.Helper()
	text, err := codes.Issue(s, c)
	if err != nil {
		tb.Fatal(err)
	}
	return text
}

// code issues a code of kind k with the fixture's code key, after mutate.
func (f *fixture) issue(k codes.Kind, mutate ...func(*codes.Claims)) string {
	f.tb.Helper()
	c := claims(f.tb, k)
	for _, m := range mutate {
		m(&c)
	}
	return issue(f.tb, f.code, c)
}

// request returns an issuance request for type t: dated unless the type has
// no validity period.
func (f *fixture) request(t issuer.CertificateType) issuer.IssueRequest {
	from, _ := issuer.ParseDate("2021-06-01")
	r := issuer.IssueRequest{TypeCode: t.Code, Number: "沪2021第000123号", ValidFrom: from, AreaCode: areaCode,
		Holder: issuer.Holder{Kind: issuer.HolderPerson, Name: "张三丰", IDType: issuer.IDTypeCitizenID, IDNumber: citizenID},
		Fields: map[string]any{"name": "张三丰", "sex": "男", "ethnicity": "汉", "birth_date": "1949-12-31",
			"address": "上海市徐汇区漕溪北路1号", "issuing_authority": "上海市公安局徐汇分局"}}
	if t.HolderKind == issuer.HolderEnterprise {
		r.Holder = issuer.Holder{Kind: issuer.HolderEnterprise, Name: "上海某某餐饮管理有限公司", IDType: issuer.IDTypeUSCC, IDNumber: "91350100M000100Y43"}
	}
	until, _ := issuer.ParseDate("2041-05-31")
	r.ValidUntil = &until
	return r
}

// document builds a certificate of type t issued by the fixture's
// department, with status entry idx of the certificate list, after mutate.
func (f *fixture) document(t issuer.CertificateType, idx int, mutate ...func(*issuer.IssueRequest)) issuer.Document {
	f.tb.Helper()
	return f.documentBy(t, deptUSCC, idx, mutate...)
}

func (f *fixture) documentBy(t issuer.CertificateType, issuerUSCC string, idx int, mutate ...func(*issuer.IssueRequest)) issuer.Document {
	f.tb.Helper()
	r := f.request(t)
	for _, m := range mutate {
		m(&r)
	}
	f.serial++
	id, err := ident.NewCertificateID(t.Code, issuerUSCC, issuer.Serial(2026, f.serial), 1)
	if err != nil {
		f.tb.Fatal(err)
	}
	list := certList
	if idx < 0 {
		list, idx = "", 0
	}
	return issuer.BuildDocument(t, deptName, issuerUSCC, id, r, testNow.Add(-24*time.Hour), "", list, idx)
}

func signDoc(tb testing.TB, s signing.Signer, d issuer.Document) string {
	tb.Helper()
	jws, err := issuer.SignDocument(s, d)
	if err != nil {
		tb.Fatal(err)
	}
	return jws
}

// certificate signs a certificate of the seeded 居民身份证 type by the
// department key, with status entry idx.
func (f *fixture) certificate(idx int, mutate ...func(*issuer.IssueRequest)) string {
	f.tb.Helper()
	return signDoc(f.tb, f.dept, f.document(f.certType, idx, mutate...))
}

// otherUSCC returns a valid unified social credit code other than deptUSCC.
func otherUSCC(tb testing.TB) string {
	c, err := ident.USCCCheckChar("11310000000031009")
	if err != nil {
		tb.Fatal(err)
	}
	return "11310000000031009" + string(c)
}

// base45 encodes b as RFC 9285 Base45, independently of package codes.
func base45(b []byte) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	var s strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])*256 + int(b[i+1])
		s.WriteByte(alphabet[n%45])
		s.WriteByte(alphabet[n/45%45])
		s.WriteByte(alphabet[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		s.WriteByte(alphabet[n%45])
		s.WriteByte(alphabet[n/45])
	}
	return s.String()
}

// reassemble builds a code text from signed bytes ("SSC1" ‖ claims) and a
// signature.
func reassemble(signed, sig []byte) string {
	raw := append(append([]byte{}, signed[len(codes.Domain):]...), sig...)
	return codes.Prefix + base45(raw)
}

// jwsWithHeader returns jws with its protected header replaced by header
// (the signature no longer matches, which is the point).
func jwsWithHeader(jws string, header map[string]any) string {
	h, _ := json.Marshal(header)
	i := strings.IndexByte(jws, '.')
	return base64.RawURLEncoding.EncodeToString(h) + jws[i:]
}

// jwsWithPayload returns jws with its payload replaced, the signature kept.
func jwsWithPayload(jws string, payload []byte) string {
	parts := strings.Split(jws, ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
}

// want fails unless r has outcome o and lists reason code (when not "").
func want(tb testing.TB, r Result, o Outcome, code string) {
	tb.Helper()
	if r.Result != o {
		tb.Fatalf("result %s, want %s (reasons %v)", r.Result, o, r.Reasons)
	}
	if o == Valid {
		if len(r.Reasons) != 0 || r.Reasons == nil {
			tb.Fatalf("valid result with reasons %#v", r.Reasons)
		}
		return
	}
	if len(r.Reasons) == 0 {
		tb.Fatalf("%s result without reasons", o)
	}
	for _, x := range r.Reasons {
		if x.Detail == "" {
			tb.Fatalf("reason %s without detail", x.Code)
		}
	}
	if code != "" && !r.HasReason(code) {
		tb.Fatalf("reasons %v, want %s", r.Reasons, code)
	}
}
