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
	want.CreatedAt, want.ExpiresAt = utc(c.CreatedAt), utc(c.ExpiresAt)
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
