package storetest

import (
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func testCopies(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Copy{ID: "cp-1", CertificateID: "1.2.156.3005.2.X.001.A", HolderSubject: "sub-a", RecipientOrg: "某某银行上海分行",
		RecipientUSCC: "91350100M000100Y43", Purpose: "办理个人贷款", Code: "SS1:ABC", CreatedBy: "holder:sub-a",
		CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}
	ok(t, s.CreateCopy(ctx, c), "create copy")
	wantErr(t, s.CreateCopy(ctx, c), store.ErrAlreadyExists, "duplicate copy")
	got, err := s.GetCopy(ctx, "cp-1")
	ok(t, err, "get copy")
	want := c
	want.CreatedAt, want.ExpiresAt, want.Status = utc(c.CreatedAt), utc(c.ExpiresAt), "valid"
	if got != want {
		t.Fatalf("copy %+v, want %+v", got, want)
	}
	_, err = s.GetCopy(ctx, "nope")
	wantErr(t, err, store.ErrNotFound, "missing copy")
	c2 := c
	c2.ID, c2.CaseID, c2.CreatedBy = "cp-2", "case-1", "app:a"
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.CreateCopy(ctx, c2) }), "create in a transaction")
	c3 := c
	c3.ID, c3.HolderSubject = "cp-3", "sub-b"
	ok(t, s.CreateCopy(ctx, c3), "another holder's")
	page, err := s.ListCopiesByHolder(ctx, "sub-a", "", 1)
	ok(t, err, "list")
	if len(page) != 1 || page[0].ID != "cp-1" {
		t.Fatalf("page 1 %+v", page)
	}
	page, err = s.ListCopiesByHolder(ctx, "sub-a", "cp-1", 10)
	ok(t, err, "list 2")
	if len(page) != 1 || page[0].ID != "cp-2" || page[0].CaseID != "case-1" {
		t.Fatalf("page 2 %+v", page)
	}
}

// A copy's own status entry follows its certificate's status until the
// copy expires or is withdrawn; withdrawal sets it for good.
func testCopyStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(typeFood, issuerA, "CPS1", 1, 11)
	ok(t, s.CreateCertificate(ctx, c), "create certificate")
	mk := func(id string, index int64, exp time.Time) store.Copy {
		return store.Copy{ID: id, CertificateID: c.ID, HolderSubject: c.HolderSubject, RecipientOrg: "某某银行", RecipientUSCC: "91350100M000100Y43",
			Purpose: "办理贷款", Code: "SS1:" + id, CreatedBy: "holder:x", CreatedAt: base, ExpiresAt: exp, StatusList: "a-0", StatusIndex: index}
	}
	long, other, brief := mk("cps-long", 5, base.Add(90*24*time.Hour)), mk("cps-other", 6, base.Add(90*24*time.Hour)), mk("cps-brief", 7, base.Add(time.Hour))
	for _, cp := range []store.Copy{long, other, brief} {
		ok(t, s.CreateCopy(ctx, cp), "create "+cp.ID)
	}
	dup := mk("cps-dup", 5, base.Add(time.Hour))
	wantErr(t, s.CreateCopy(ctx, dup), store.ErrAlreadyExists, "a taken status entry")
	legacy := mk("cps-legacy", 0, base.Add(90*24*time.Hour))
	legacy.StatusList = ""
	ok(t, s.CreateCopy(ctx, legacy), "a copy on the certificate's entry")
	lists, err := s.StatusLists(ctx)
	ok(t, err, "status lists")
	found := false
	for _, l := range lists {
		found = found || l.ID == "a-0"
	}
	if !found {
		t.Fatalf("the copies list is not among the status lists: %+v", lists)
	}
	got, err := s.GetCopyByStatus(ctx, "a-0", 6)
	ok(t, err, "by status")
	if got.ID != "cps-other" || got.Status != "valid" || got.WithdrawnAt != nil {
		t.Fatalf("by status: %+v", got)
	}
	_, err = s.GetCopyByStatus(ctx, "", 0)
	wantErr(t, err, store.ErrNotFound, "the legacy copy has no own entry")
	_, err = s.GetCopyByStatus(ctx, "a-0", 99)
	wantErr(t, err, store.ErrNotFound, "no such entry")

	entries := func(want map[int64]string) {
		t.Helper()
		es, err := s.StatusEntries(ctx, "a-0")
		ok(t, err, "entries")
		got := map[int64]string{}
		for _, e := range es {
			got[e.Index] = e.Status
		}
		if len(got) != len(want) {
			t.Fatalf("entries %v, want %v", got, want)
		}
		for i, st := range want {
			if got[i] != st {
				t.Fatalf("entries %v, want %v", got, want)
			}
		}
	}
	before, err := s.GetSignedStatusList(ctx, "a-0")
	ok(t, err, "list before")
	at := base.Add(2 * time.Hour) // the brief copy has expired: it is left alone
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: c.ID, From: "valid", To: "suspended", At: at}), "suspend")
	entries(map[int64]string{5: "suspended", 6: "suspended"})
	after, err := s.GetSignedStatusList(ctx, "a-0")
	ok(t, err, "list after")
	if !after.UpdatedAt.After(before.UpdatedAt) {
		t.Fatalf("the copies list was not bumped: %v → %v", before.UpdatedAt, after.UpdatedAt)
	}
	ok(t, s.WithdrawCopy(ctx, "cps-long", at.Add(time.Minute)), "withdraw")
	wantErr(t, s.WithdrawCopy(ctx, "cps-long", at.Add(2*time.Minute)), store.ErrConflict, "withdraw again")
	wantErr(t, s.WithdrawCopy(ctx, "cps-legacy", at), store.ErrConflict, "withdraw a copy without its own entry")
	wantErr(t, s.WithdrawCopy(ctx, "nope", at), store.ErrNotFound, "withdraw an unknown copy")
	entries(map[int64]string{5: "revoked", 6: "suspended"})
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: c.ID, From: "suspended", To: "valid", At: at.Add(time.Hour)}), "resume")
	entries(map[int64]string{5: "revoked"})
	w, err := s.GetCopy(ctx, "cps-long")
	ok(t, err, "get withdrawn")
	if w.Status != "revoked" || w.WithdrawnAt == nil || !w.WithdrawnAt.Equal(utc(at.Add(time.Minute))) {
		t.Fatalf("withdrawn copy %+v", w)
	}
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: c.ID, From: "valid", To: "superseded", At: at.Add(2 * time.Hour)}), "supersede")
	entries(map[int64]string{5: "revoked", 6: "superseded"})
	// No copy with its own entry of a certificate that is not valid.
	wantErr(t, s.CreateCopy(ctx, mk("cps-late", 8, base.Add(90*24*time.Hour))), store.ErrConflict, "a copy of a superseded certificate")
}
