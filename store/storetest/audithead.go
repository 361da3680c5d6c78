package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func testAnchorSuccessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.ListAnchorSuccessions(ctx)
	ok(t, err, "list empty")
	if len(got) != 0 {
		t.Fatalf("%d successions in an empty store", len(got))
	}
	second := store.AnchorSuccession{OldKID: "kid-b", NewKID: "kid-c", Endorsement: "e2", Acknowledgement: "a2", CreatedAt: base.Add(time.Hour)}
	first := store.AnchorSuccession{OldKID: "kid-a", NewKID: "kid-b", Endorsement: "e1", Acknowledgement: "a1", CreatedAt: base}
	ok(t, s.AddAnchorSuccession(ctx, second), "add second")
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.AddAnchorSuccession(ctx, first) }), "add first in a transaction")
	wantErr(t, s.AddAnchorSuccession(ctx, store.AnchorSuccession{OldKID: "kid-a", NewKID: "kid-x", CreatedAt: base}), store.ErrAlreadyExists, "second successor of one anchor")
	wantErr(t, s.AddAnchorSuccession(ctx, store.AnchorSuccession{OldKID: "kid-y", NewKID: "kid-c", CreatedAt: base}), store.ErrAlreadyExists, "second predecessor of one anchor")
	got, err = s.ListAnchorSuccessions(ctx)
	ok(t, err, "list")
	if len(got) != 2 {
		t.Fatalf("%d successions, want 2", len(got))
	}
	for i, want := range []store.AnchorSuccession{first, second} {
		checkUTC(t, "succession", got[i].CreatedAt)
		want.CreatedAt = utc(want.CreatedAt)
		same(t, "succession", got[i], want)
	}
	raw, isRaw := s.(RawExecer)
	if !isRaw {
		t.Fatalf("%T does not implement storetest.RawExecer", s)
	}
	for _, stmt := range []string{`UPDATE anchor_successions SET endorsement = 'forged'`, `DELETE FROM anchor_successions`} {
		if err := raw.RawExec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", stmt, err)
		}
	}
}

func testLastAuditCheckpoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.LastAuditCheckpoint(ctx)
	wantErr(t, err, store.ErrNotFound, "last of none")
	later := store.AuditCheckpoint{Seq: 20, Hash: hash(2), At: base.Add(time.Hour), KeyID: "kid-anchor", Signature: hash(3)}
	ok(t, s.AddAuditCheckpoint(ctx, later), "add later")
	ok(t, s.AddAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: 10, Hash: hash(1), At: base.Add(2 * time.Hour), KeyID: "k", Signature: hash(4)}), "add earlier seq, later time")
	got, err := s.LastAuditCheckpoint(ctx)
	ok(t, err, "last")
	checkUTC(t, "checkpoint", got.At)
	later.At = utc(later.At)
	same(t, "last checkpoint", got, later)
}
