package verifier_test

import (
	"fmt"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// The server's side, in miniature: keys, a trust bundle signed by the
// anchor, a status list. A verifier only ever sees the bundle's JWS and the
// anchor's public key.

func newKey(role string) (signing.Signer, trust.Key) {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	s := signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
	tk := trust.Key{JWK: signing.NewJWK(k.Public()), Role: role, Status: trust.StatusActive}
	return s, tk
}

func signedBundle(anchor signing.Signer, now time.Time, keys []trust.Key, lists ...trust.StatusListRef) string {
	b := trust.Bundle{Issuer: "https://suishen.example.gov.cn", IssuedAt: now, NextUpdate: now.Add(15 * time.Minute),
		ExpiresAt: now.Add(48 * time.Hour), Keys: keys, StatusLists: lists}
	jws, err := trust.Sign(anchor, b)
	if err != nil {
		panic(err)
	}
	return jws
}

func ExampleVerifier_VerifyCode() {
	now := time.Date(2026, 3, 15, 2, 30, 0, 0, time.UTC)
	anchor, anchorKey := newKey(trust.RoleAnchor)
	codeSigner, codeKey := newKey(trust.RoleCode)

	// An offline code's status list: entry 7 is revoked.
	list := issuer.NewStatusList("offline-1", issuer.MinStatusListSize)
	_ = list.Set(7, issuer.EntryRevoked)
	p, _ := issuer.NewStatusListPayload(list, now, now.Add(48*time.Hour))
	listJWS, _ := issuer.SignStatusList(anchor, p)
	// The bundle references the list by its SM3 digest; the list itself
	// is fetched apart (GET /v1/status-lists/offline-1), here held at hand.
	bundle := signedBundle(anchor, now, []trust.Key{anchorKey, codeKey},
		trust.StatusListRef{ID: "offline-1", Kind: trust.ListOfflineCodes, Version: 1, SM3: trust.ListDigest(listJWS),
			URL: "https://suishen.example.gov.cn/v1/status-lists/offline-1"})
	lists := verifier.Lists{"offline-1": listJWS}

	// The scanner: the bundle (from GET /v1/trust or a file), the pinned
	// anchor key and a source of status lists, nothing else.
	v, err := verifier.New(bundle, anchor.Public(), verifier.Options{Now: func() time.Time { return now }, Lists: lists})
	if err != nil {
		fmt.Println("bundle refused:", err)
		return
	}

	personal, _ := codes.Issue(codeSigner, codes.Claims{Kind: codes.Personal, IssuedAt: now,
		Subject: []byte("0123456789abcdef"), DisplayName: "张*"})
	r := v.VerifyCode(personal)
	fmt.Println(r.Result, r.Kind, r.Subject.Masked, r.ExpiresAt.Format(time.RFC3339))

	offline, _ := codes.Issue(codeSigner, codes.Claims{Kind: codes.Offline, IssuedAt: now, Subject: []byte("holder"),
		Generation: 1, StatusList: "offline-1", StatusIndex: 7})
	r = v.VerifyCode(offline)
	fmt.Println(r.Result, r.Kind, r.Reasons[0].Code)

	// One character changed.
	c := byte('A')
	if personal[20] == 'A' {
		c = 'B'
	}
	fmt.Println(v.VerifyCode(personal[:20] + string(c) + personal[21:]).Result)

	// A venue scanner accepts personal and offline codes only.
	venue, _ := codes.Issue(codeSigner, codes.Claims{Kind: codes.Venue, IssuedAt: now, VenueID: "v-1",
		StatusList: "offline-1", StatusIndex: 8})
	r = v.VerifyCodeOf(venue, codes.Personal, codes.Offline)
	fmt.Println(r.Result, r.Reasons[0].Code)

	// Two days later the bundle has expired: nothing is valid any more.
	later, _ := verifier.New(bundle, anchor.Public(), verifier.Options{Now: func() time.Time { return now.Add(49 * time.Hour) }})
	r = later.VerifyCode(personal)
	fmt.Println(r.Result, r.Reasons[0].Code)
	// Output:
	// valid personal 张* 2026-03-15T02:31:00Z
	// invalid offline revoked
	// invalid
	// invalid wrong_kind
	// unknown bundle_expired
}

func ExampleVerifier_VerifyCertificate() {
	now := time.Date(2026, 3, 15, 2, 30, 0, 0, time.UTC)
	const bureau = "11310000000031001M" // the issuing department's USCC
	anchor, anchorKey := newKey(trust.RoleAnchor)
	dept, deptKey := newKey(trust.RoleDepartment)
	deptKey.DepartmentUSCC = bureau
	deptKey.CertificateTypes = []string{issuer.TypeResidentIDCard}
	bundle := signedBundle(anchor, now, []trust.Key{anchorKey, deptKey})

	// The department issues a 居民身份证 valid until 2041-05-31.
	var idCard issuer.CertificateType
	for _, t := range issuer.SeedCatalogue() {
		if t.Code == issuer.TypeResidentIDCard {
			idCard = t
		}
	}
	from, _ := issuer.ParseDate("2021-06-01")
	until, _ := issuer.ParseDate("2041-05-31")
	id, _ := ident.NewCertificateID(idCard.Code, bureau, issuer.Serial(2021, 1), 1)
	doc := issuer.BuildDocument(idCard, "上海市公安局", bureau, id, issuer.IssueRequest{
		TypeCode: idCard.Code, Number: "310104202106010001", ValidFrom: from, ValidUntil: &until, AreaCode: "310104",
		Holder: issuer.Holder{Kind: issuer.HolderPerson, Name: "张三丰", IDType: issuer.IDTypeCitizenID, IDNumber: "11010519491231002X"},
	}, from, "", "", 0)
	jws, _ := issuer.SignDocument(dept, doc)

	v, err := verifier.New(bundle, anchor.Public(), verifier.Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println("bundle refused:", err)
		return
	}
	r := v.VerifyCertificate(jws)
	fmt.Println(r.Result, r.Kind, r.Issuer, r.Subject.Masked)
	fmt.Println("expires", r.ExpiresAt.Format(time.RFC3339))

	// Twenty years on, the same certificate has expired (and the bundle
	// would have to be fresh to say so).
	later := now.AddDate(20, 3, 0)
	b2 := signedBundle(anchor, later, []trust.Key{anchorKey, deptKey})
	v2, _ := verifier.New(b2, anchor.Public(), verifier.Options{Now: func() time.Time { return later }})
	r = v2.VerifyCertificate(jws)
	fmt.Println(r.Result, r.Reasons[0].Code)
	// Output:
	// valid certificate 11310000000031001M 张**
	// expires 2041-05-31T16:00:00Z
	// invalid expired
}
