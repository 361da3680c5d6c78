package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/storetest"
	"github.com/suishen/suishen/store/teststore"
)

type backendCase struct {
	name    string
	open    func(testing.TB) store.Store
	disable []string // statements that take the append-only guard away (an attacker with DBA rights)
}

var backends = []backendCase{
	{"sqlite", teststore.SQLite, []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete", "DROP TRIGGER audit_seals_no_delete"}},
	{"postgres", teststore.Postgres, []string{"ALTER TABLE audit_entries DISABLE TRIGGER USER", "ALTER TABLE audit_seals DISABLE TRIGGER USER"}},
}

var actor = audit.Actor{Kind: store.KindAdmin, ID: "t"}

func appendN(t *testing.T, st store.Store, n int, at time.Time) []int64 {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var ids []int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- st.InTx(ctx, func(q store.Queries) error {
				id, err := q.AppendAudit(ctx, audit.New(at, actor, "thing.create", "thing", fmt.Sprint(i), "rid", map[string]any{"n": i}))
				if err == nil {
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}
				return err
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

type signer struct{ s signing.Signer }

// newAnchor makes an anchor key and returns its signer and, for a time,
// Verify options that pin it (grace one minute).
func newAnchor(t *testing.T) (signing.Signer, func(now time.Time) audit.Options) {
	return newAnchorTB(t)
}

func newAnchorTB(t testing.TB) (signing.Signer, func(now time.Time) audit.Options) {
	t.Helper()
	key, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := signing.NewSoftwareSigner(signing.Thumbprint(key.Public()), key)
	return s, func(now time.Time) audit.Options {
		return audit.Options{Anchors: map[string]*signing.PublicKey{s.KeyID(): key.Public()}, Now: now, Grace: time.Minute}
	}
}

func (s signer) KeyID() string                   { return s.s.KeyID() }
func (s signer) Sign(msg []byte) ([]byte, error) { return s.s.Sign(msg) }

// TestChainDetectsTampering: concurrent writers, batch sealing, signed
// checkpoints; then an attacker who can bypass the triggers alters one entry
// and deletes another — Verify names the first bad entry each time.
func TestChainDetectsTampering(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			anchor, pinned := newAnchor(t)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Batch: 7,
				Anchor: func() audit.Signer { return signer{anchor} }}
			ids := appendN(t, st, 30, now)
			if n, err := s.SealOnce(ctx); err != nil || n != 30 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			appendN(t, st, 5, now)
			now = now.Add(2 * time.Minute)
			if n, err := s.SealOnce(ctx); err != nil || n != 5 {
				t.Fatalf("second pass sealed %d: %v", n, err)
			}
			rep, err := audit.Verify(ctx, st, pinned(now))
			if err != nil || !rep.OK() || rep.Entries != 35 || rep.Checkpoints != 2 || rep.Signed != 2 {
				t.Fatalf("clean log: %+v %v", rep, err)
			}
			// Checkpoints signed by a key other than the pinned anchor prove nothing.
			_, other := newAnchor(t)
			if rep, _ := audit.Verify(ctx, st, other(now)); rep.OK() || !strings.Contains(rep.Problem, "does not vouch for") || rep.BadSeq != 1 {
				t.Fatalf("foreign checkpoint signature: %+v", rep)
			}
			// The application cannot change audit rows.
			raw := st.(storetest.RawExecer)
			if err := raw.RawExec(ctx, fmt.Sprintf("UPDATE audit_entries SET action = 'x' WHERE id = %d", ids[3])); err == nil {
				t.Fatal("an audit entry was updated")
			}
			// An attacker with the power to drop the guards alters an entry.
			for _, stmt := range b.disable {
				if err := raw.RawExec(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			victim := ids[11]
			if err := raw.RawExec(ctx, fmt.Sprintf("UPDATE audit_entries SET object_id = 'forged' WHERE id = %d", victim)); err != nil {
				t.Fatal(err)
			}
			rep, _ = audit.Verify(ctx, st, pinned(now))
			if rep.OK() || rep.BadEntryID != victim {
				t.Fatalf("altered entry %d: report %+v", victim, rep)
			}
			if err := raw.RawExec(ctx, fmt.Sprintf("DELETE FROM audit_seals WHERE entry_id = %d", victim)); err != nil {
				t.Fatal(err)
			}
			rep, _ = audit.Verify(ctx, st, pinned(now))
			if rep.OK() || !strings.Contains(rep.Problem, "missing") {
				t.Fatalf("removed seal: %+v", rep)
			}
		})
	}
}

// TestUnsealedEntriesAreReported: an entry the sealer never reached shows up
// in Verify once it is older than the grace period.
func TestUnsealedEntriesAreReported(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			appendN(t, st, 3, now)
			rep, err := audit.Verify(ctx, st, audit.Options{Now: now.Add(30 * time.Second), Grace: time.Minute})
			if err != nil || !rep.OK() {
				t.Fatalf("young entries: %+v %v", rep, err)
			}
			rep, _ = audit.Verify(ctx, st, audit.Options{Now: now.Add(2 * time.Minute), Grace: time.Minute})
			if rep.OK() || rep.Unsealed != 3 {
				t.Fatalf("old unsealed entries: %+v", rep)
			}
		})
	}
}

// TestConcurrentSealers: several nodes sealing at once build one chain.
func TestConcurrentSealers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			anchor, pinned := newAnchor(t)
			var wg sync.WaitGroup
			for round := 0; round < 3; round++ {
				appendN(t, st, 20, now)
				for node := 0; node < 3; node++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Batch: 5,
							Anchor: func() audit.Signer { return signer{anchor} }}
						if _, err := s.SealOnce(ctx); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			if _, err := s.SealAndCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
			if err != nil || !rep.OK() || rep.Entries != 60 {
				t.Fatalf("%+v %v", rep, err)
			}
		})
	}
}

// TestFirstSealIsCheckpointedAtOnce: a fresh node's sealer runs while the
// log is still empty; the first entries it seals a moment later get their
// checkpoint at once (before: a minute later, and verify reported "no
// checkpoints at all" in between).
func TestFirstSealIsCheckpointedAtOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			anchor, opts := newAnchor(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
			appendN(t, st, 3, now)
			if n, err := s.SealOnce(ctx); err != nil || n != 3 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			rep, err := audit.Verify(ctx, st, opts(now.Add(time.Second)))
			if err != nil || !rep.OK() || rep.Signed != 1 {
				t.Fatalf("after the first seal: %+v %v", rep, err)
			}
		})
	}
}
