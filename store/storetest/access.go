package storetest

import (
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// testAccessQueries: field-level use lists round-trip; a use code can be
// read without being spent; only seeded catalogue entries are updated.
func testAccessQueries(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.App{ID: "app-fields", Name: "某银行", USCC: "12310000MB0000001X", Scopes: []string{"use"},
		CertificateTypes: []string{"t1", "t2"}, UseFields: map[string][]string{"t2": {"name", "social_security_number"}}, CreatedAt: base}
	ok(t, s.CreateApp(ctx, a), "create app")
	got, err := s.GetApp(ctx, a.ID)
	ok(t, err, "get app")
	same(t, "app with use fields", normApp(got), normApp(a))
	list, err := s.ListApps(ctx, "", 0)
	ok(t, err, "list apps")
	if len(list) != 1 || len(list[0].UseFields["t2"]) != 2 {
		t.Fatalf("listed apps %+v", list)
	}

	ok(t, s.CreateUseCode(ctx, useCode(7, base.Add(time.Hour))), "create use code")
	u, err := s.GetUseCode(ctx, hash(7))
	ok(t, err, "get use code")
	if u.UsedAt != nil || u.CertificateID != "cert-7" {
		t.Fatalf("peeked use code %+v", u)
	}
	// Peeking does not spend it.
	_, err = s.RedeemUseCode(ctx, hash(7), "app-fields", base.Add(time.Minute))
	ok(t, err, "redeem after peek")
	_, err = s.GetUseCode(ctx, hash(8))
	wantErr(t, err, store.ErrNotFound, "unknown use code")

	seeded := store.CertificateType{Code: "11100000000021001C001", Name: "营业执照", HolderKind: "enterprise", Spec: []byte(`{"a":1}`), Seeded: true, CreatedAt: base}
	admins := store.CertificateType{Code: "11100000000021001C099", Name: "某证", HolderKind: "person", Spec: []byte(`{"a":1}`), CreatedAt: base}
	ok(t, s.CreateCertificateType(ctx, seeded), "create seeded type")
	ok(t, s.CreateCertificateType(ctx, admins), "create admin's type")
	ok(t, s.UpdateSeededCertificateType(ctx, seeded.Code, []byte(`{"a":2}`)), "update seeded")
	wantErr(t, s.UpdateSeededCertificateType(ctx, admins.Code, []byte(`{"a":2}`)), store.ErrNotFound, "update admin's type")
	ct, err := s.GetCertificateType(ctx, seeded.Code)
	ok(t, err, "get seeded")
	if string(ct.Spec) != `{"a":2}` {
		t.Fatalf("seeded spec %s", ct.Spec)
	}
	ct, err = s.GetCertificateType(ctx, admins.Code)
	ok(t, err, "get admin's")
	if string(ct.Spec) != `{"a":1}` {
		t.Fatalf("admin's spec changed: %s", ct.Spec)
	}
}
