package storetest

import (
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func testBenefits(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.PolicyRecord{Code: "P-1", DepartmentUSCC: "11100000000013338W", Spec: []byte(`{"code":"P-1"}`),
		Types: []string{"11100000000021002F001", "11100000000021005Q001"}, CreatedAt: base}
	ok(t, s.CreatePolicy(ctx, p), "create policy")
	wantErr(t, s.CreatePolicy(ctx, p), store.ErrAlreadyExists, "duplicate policy")
	got, err := s.GetPolicy(ctx, "P-1")
	ok(t, err, "get policy")
	if got.Code != "P-1" || string(got.Spec) != `{"code":"P-1"}` || len(got.Types) != 2 || got.Types[1] != p.Types[1] || got.MatchedAt != nil {
		t.Fatalf("policy %+v", got)
	}
	_, err = s.GetPolicy(ctx, "nope")
	wantErr(t, err, store.ErrNotFound, "missing policy")
	ok(t, s.SetPolicyMatched(ctx, "P-1", base.Add(time.Hour)), "matched")
	wantErr(t, s.SetPolicyMatched(ctx, "nope", base), store.ErrNotFound, "matched missing")
	ok(t, s.CreatePolicy(ctx, store.PolicyRecord{Code: "P-2", DepartmentUSCC: "x", Spec: []byte(`{}`), Types: []string{"t"}, CreatedAt: base}), "create P-2")
	ps, err := s.ListPolicies(ctx, "", 1)
	ok(t, err, "list")
	if len(ps) != 1 || ps[0].Code != "P-1" || ps[0].MatchedAt == nil {
		t.Fatalf("page 1 %+v", ps)
	}
	ps, err = s.ListPolicies(ctx, "P-1", 10)
	ok(t, err, "list 2")
	if len(ps) != 1 || ps[0].Code != "P-2" {
		t.Fatalf("page 2 %+v", ps)
	}

	// Entitlements: offered, refreshed in place, declined (and declines
	// stick), withdrawn, offered again; stale offers withdrawn.
	e := store.Entitlement{ID: "e-1", PolicyCode: "P-1", HolderSubject: "sub-a", MaskedName: "张*",
		Evidence: []byte(`[1]`), UpdatedAt: base, EvaluatedAt: base}
	ok(t, s.OfferEntitlement(ctx, e), "offer")
	again := e
	again.ID, again.Evidence, again.UpdatedAt, again.EvaluatedAt = "e-other", []byte(`[2]`), base.Add(time.Minute), base.Add(time.Minute)
	ok(t, s.OfferEntitlement(ctx, again), "offer again")
	got2, err := s.GetEntitlementFor(ctx, "P-1", "sub-a")
	ok(t, err, "get for")
	if got2.ID != "e-1" || got2.Status != store.EntitlementOffered || string(got2.Evidence) != `[2]` || !got2.CreatedAt.Equal(utc(base)) ||
		!got2.EvaluatedAt.Equal(utc(base.Add(time.Minute))) {
		t.Fatalf("refreshed entitlement %+v", got2)
	}
	_, err = s.GetEntitlement(ctx, "e-other")
	wantErr(t, err, store.ErrNotFound, "the second offer kept the first ID")
	wantErr(t, s.DeclineEntitlement(ctx, "e-1", "sub-other", base), store.ErrNotFound, "decline someone else's")
	ok(t, s.DeclineEntitlement(ctx, "e-1", "sub-a", base.Add(2*time.Minute)), "decline")
	ok(t, s.DeclineEntitlement(ctx, "e-1", "sub-a", base.Add(3*time.Minute)), "decline twice")
	ok(t, s.OfferEntitlement(ctx, again), "offer after decline")
	if got, _ := s.GetEntitlement(ctx, "e-1"); got.Status != store.EntitlementDeclined {
		t.Fatalf("a decline did not stick: %+v", got)
	}
	if w, err := s.WithdrawEntitlement(ctx, "P-1", "sub-a", base); err != nil || w {
		t.Fatalf("withdrawing a declined entitlement: %v %v", w, err)
	}
	ok(t, s.OfferEntitlement(ctx, store.Entitlement{ID: "e-w", PolicyCode: "P-2", HolderSubject: "sub-a", MaskedName: "张*", Evidence: []byte(`[]`), UpdatedAt: base, EvaluatedAt: base}), "offer P-2")
	if w, err := s.WithdrawEntitlement(ctx, "P-2", "sub-a", base.Add(time.Hour)); err != nil || !w {
		t.Fatalf("withdraw: %v %v", w, err)
	}
	ok(t, s.OfferEntitlement(ctx, store.Entitlement{ID: "e-w2", PolicyCode: "P-2", HolderSubject: "sub-a", MaskedName: "张*", Evidence: []byte(`[]`), UpdatedAt: base.Add(2 * time.Hour), EvaluatedAt: base.Add(2 * time.Hour)}), "re-offer")
	if got, _ := s.GetEntitlement(ctx, "e-w"); got.Status != store.EntitlementOffered || !got.UpdatedAt.Equal(utc(base.Add(2*time.Hour))) {
		t.Fatalf("a withdrawn entitlement was not offered again: %+v", got)
	}
	for i, sub := range []string{"sub-b", "sub-c"} {
		ok(t, s.OfferEntitlement(ctx, store.Entitlement{ID: "e-" + sub, PolicyCode: "P-1", HolderSubject: sub, MaskedName: "李*",
			Evidence: []byte(`[]`), UpdatedAt: base, EvaluatedAt: base.Add(time.Duration(i) * time.Hour)}), "offer "+sub)
	}
	n, err := s.WithdrawStale(ctx, "P-1", base.Add(30*time.Minute), base.Add(2*time.Hour))
	ok(t, err, "withdraw stale")
	same(t, "withdrawn", n, int64(1)) // sub-b (evaluated at base); sub-c is newer; sub-a is declined, not offered
	eb, err := s.GetEntitlement(ctx, "e-sub-b")
	ok(t, err, "get sub-b")
	same(t, "sub-b status", eb.Status, store.EntitlementWithdrawn)
	byPolicy, err := s.ListEntitlementsByPolicy(ctx, "P-1", "", 2)
	ok(t, err, "by policy")
	if len(byPolicy) != 2 || byPolicy[0].ID != "e-1" || byPolicy[1].ID != "e-sub-b" {
		t.Fatalf("by policy %+v", byPolicy)
	}
	byHolder, err := s.ListEntitlementsByHolder(ctx, "sub-a", "", 10)
	ok(t, err, "by holder")
	if len(byHolder) != 2 || byHolder[0].ID != "e-1" || byHolder[1].ID != "e-w" {
		t.Fatalf("by holder %+v", byHolder)
	}

	// What matching reads: one type's valid certificates in holder order,
	// and given holders' certificates of given types.
	var certs []store.Certificate
	for i, num := range []string{"m3", "m1", "m2", "m4"} {
		c := cert("11100000000021002F001", "11100000000013338W", num, 1, int64(900+i))
		certs = append(certs, c)
	}
	other := cert("11100000000021005Q001", "11100000000013338W", "m1", 1, 950) // holder sub-m1, another type
	certs = append(certs, other)
	for _, c := range certs {
		ok(t, s.CreateCertificate(ctx, c), "create "+c.ID)
	}
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: certs[3].ID, From: "valid", To: "revoked", At: base}), "revoke m4")
	page, err := s.ValidCertificatesByType(ctx, "11100000000021002F001", "", "", 2, nil)
	ok(t, err, "by type")
	if len(page) != 2 || page[0].HolderSubject != "sub-m1" || page[1].HolderSubject != "sub-m2" || page[0].JWS == "" {
		t.Fatalf("by type page 1 %+v", page)
	}
	page, err = s.ValidCertificatesByType(ctx, "11100000000021002F001", page[1].HolderSubject, page[1].ID, 10, &store.Arena{})
	ok(t, err, "by type 2")
	if len(page) != 1 || page[0].HolderSubject != "sub-m3" { // sub-m4 is revoked
		t.Fatalf("by type page 2 %+v", page)
	}
	// Read through an arena, the document is the stored one, byte for byte.
	for _, c := range certs {
		if c.ID == page[0].ID && c.JWS != page[0].JWS {
			t.Fatalf("document read into an arena:\n got  %q\n want %q", page[0].JWS, c.JWS)
		}
	}
	of, err := s.ValidCertificatesOf(ctx, []string{"sub-m1", "sub-m4", "sub-none"}, []string{"11100000000021005Q001", "11100000000021002F001"})
	ok(t, err, "of holders")
	if len(of) != 2 || of[0].HolderSubject != "sub-m1" || of[1].HolderSubject != "sub-m1" {
		t.Fatalf("of holders %+v", of)
	}
}
