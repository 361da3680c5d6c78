package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// testSignedStatusLists: a list's signed form is stored with a
// compare-and-set on its version, keeps the form before it, and shows in
// StatusLists without the JWS.
func testSignedStatusLists(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetSignedStatusList(ctx, statusList); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no list yet: %v", err)
	}
	if err := s.PutSignedStatusList(ctx, store.SignedStatusList{ID: statusList, Version: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("put for no list: %v", err)
	}
	a := cert(typeFood, issuerA, "SL1", 1, 1)
	ok(t, s.CreateCertificate(ctx, a), "create")
	got, err := s.GetSignedStatusList(ctx, statusList)
	ok(t, err, "get unsigned")
	if got.Version != 0 || got.JWS != "" || got.SM3 != "" || !got.SignedAt.IsZero() || !got.UpdatedAt.Equal(utc(a.IssuedAt)) {
		t.Fatalf("unsigned list %+v", got)
	}

	at := base.Add(time.Hour)
	v1 := store.SignedStatusList{ID: statusList, Version: 1, JWS: "jws-1", SM3: "sm3-1", KeyID: "anchor-1",
		SignedAt: at, SignedFor: utc(a.IssuedAt)}
	ok(t, s.PutSignedStatusList(ctx, v1), "put v1")
	// The same version again (another node that lost the race): conflict.
	if err := s.PutSignedStatusList(ctx, store.SignedStatusList{ID: statusList, Version: 1, JWS: "other"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second v1: %v", err)
	}
	if err := s.PutSignedStatusList(ctx, store.SignedStatusList{ID: statusList, Version: 3, JWS: "skip"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("v3 over v1: %v", err)
	}
	got, err = s.GetSignedStatusList(ctx, statusList)
	ok(t, err, "get v1")
	if got.Version != 1 || got.JWS != "jws-1" || got.SM3 != "sm3-1" || got.KeyID != "anchor-1" || !got.SignedAt.Equal(utc(at)) ||
		!got.SignedFor.Equal(utc(a.IssuedAt)) || got.PrevJWS != "" {
		t.Fatalf("v1 %+v", got)
	}
	v2 := v1
	v2.Version, v2.JWS, v2.SM3, v2.SignedAt = 2, "jws-2", "sm3-2", at.Add(time.Minute)
	ok(t, s.PutSignedStatusList(ctx, v2), "put v2")
	got, err = s.GetSignedStatusList(ctx, statusList)
	ok(t, err, "get v2")
	if got.Version != 2 || got.JWS != "jws-2" || got.PrevJWS != "jws-1" || got.PrevSM3 != "sm3-1" {
		t.Fatalf("v2 %+v", got)
	}
	infos, err := s.StatusLists(ctx)
	ok(t, err, "lists")
	if len(infos) != 1 || infos[0].Version != 2 || infos[0].SM3 != "sm3-2" || infos[0].KeyID != "anchor-1" ||
		!infos[0].SignedAt.Equal(utc(v2.SignedAt)) || !infos[0].SignedFor.Equal(v2.SignedFor) {
		t.Fatalf("infos %+v", infos)
	}
	// A status change moves UpdatedAt past SignedFor: the list is stale.
	t1 := base.Add(48 * time.Hour)
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: a.ID, From: "valid", To: "revoked", At: t1}), "revoke")
	got, err = s.GetSignedStatusList(ctx, statusList)
	ok(t, err, "get after a change")
	if !got.UpdatedAt.After(got.SignedFor) || got.Version != 2 {
		t.Fatalf("after a change %+v", got)
	}
}

// testNextStatusSlots: a counter per partition from 0, consecutive
// reservations, partitions independent, bad arguments refused.
func testNextStatusSlots(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, c := range []struct {
		partition string
		n         int
		want      int64
	}{{"cA", 1024, 0}, {"cA", 10, 1024}, {"cB", 1, 0}, {"cA", 1, 1034}, {"cB", 5, 1}} {
		got, err := s.NextStatusSlots(ctx, c.partition, c.n)
		ok(t, err, "reserve")
		if got != c.want {
			t.Fatalf("%s +%d: first %d, want %d", c.partition, c.n, got, c.want)
		}
	}
	if _, err := s.NextStatusSlots(ctx, "cA", 0); err == nil {
		t.Fatal("n = 0 accepted")
	}
	if _, err := s.NextStatusSlots(ctx, "", 1); err == nil {
		t.Fatal("empty partition accepted")
	}
	// Inside a transaction that rolls back, nothing is taken on SQLite and
	// at most a gap is left on PostgreSQL: never a slot handed out twice.
	_ = s.InTx(ctx, func(q store.Queries) error {
		_, err := q.NextStatusSlots(ctx, "cA", 1)
		ok(t, err, "in tx")
		return errors.New("roll back")
	})
	got, err := s.NextStatusSlots(ctx, "cA", 1)
	ok(t, err, "after rollback")
	if got < 1035 {
		t.Fatalf("after a rollback: %d", got)
	}
}
