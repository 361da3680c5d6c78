package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/storetest"
)

// attacker has DBA rights: it takes every append-only guard off the audit
// tables and then writes to them as it likes.
type attacker struct {
	t   *testing.T
	st  store.Store
	raw storetest.RawExecer
}

func newAttacker(t *testing.T, b backendCase, st store.Store) *attacker {
	t.Helper()
	a := &attacker{t: t, st: st, raw: st.(storetest.RawExecer)}
	guards := storetest.AuditGuardsOff(b.name)
	for _, stmt := range guards {
		a.exec("%s", stmt)
	}
	return a
}

func (a *attacker) exec(format string, args ...any) {
	a.t.Helper()
	if err := a.raw.RawExec(context.Background(), fmt.Sprintf(format, args...)); err != nil {
		a.t.Fatal(err)
	}
}

func sealed(t *testing.T, st store.Store) []store.SealedAuditEntry {
	t.Helper()
	all, err := st.ListSealedAudit(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// cutAfter deletes every entry sealed after seq, with its seal.
func (a *attacker) cutAfter(seq int64) {
	a.t.Helper()
	for _, se := range sealed(a.t, a.st) {
		if se.Seal.Seq > seq {
			a.exec("DELETE FROM audit_seals WHERE seq = %d", se.Seal.Seq)
			a.exec("DELETE FROM audit_entries WHERE id = %d", se.Entry.ID)
		}
	}
}

func head(t *testing.T, st store.Store, from string) audit.Claim {
	t.Helper()
	h, ok, err := audit.CurrentHead(context.Background(), st)
	if err != nil || !ok {
		t.Fatalf("head: %v %v", ok, err)
	}
	return audit.Claim{Head: h, From: from}
}

// TestCutAfterLastCheckpointIsCaughtByAuditHead: the newest entries, sealed
// after the last checkpoint, are deleted with their seals. The chain that is
// left is consistent and fully checkpointed, so the database alone cannot
// tell; the audit head a bundle carried names the missing range.
func TestCutAfterLastCheckpointIsCaughtByAuditHead(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			anchor, pinned := newAnchor(t)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			appendN(t, st, 20, now)
			if _, err := s.SealOnce(ctx); err != nil { // checkpoint at 20
				t.Fatal(err)
			}
			appendN(t, st, 5, now)
			if _, err := s.SealOnce(ctx); err != nil { // sealed, no checkpoint yet (within the minute)
				t.Fatal(err)
			}
			bundle := head(t, st, "trust.jws")
			if bundle.Seq != 25 {
				t.Fatalf("head at %d", bundle.Seq)
			}
			opts := pinned(now.Add(30 * time.Second))
			opts.Claims = []audit.Claim{bundle}
			if rep, err := audit.Verify(ctx, st, opts); err != nil || !rep.OK() || rep.Claims != 1 || rep.Covered != 20 {
				t.Fatalf("before the cut: %+v %v", rep, err)
			}

			newAttacker(t, b, st).cutAfter(20)

			later := pinned(now.Add(time.Hour))
			if rep, _ := audit.Verify(ctx, st, later); !rep.OK() {
				// If this fails, the cut was not clean and the test proves nothing.
				t.Fatalf("without an audit head the clean cut should be invisible: %+v", rep)
			}
			later.Claims = []audit.Claim{bundle}
			rep, _ := audit.Verify(ctx, st, later)
			if rep.OK() || rep.BadSeq != 21 || !strings.Contains(rep.Problem, "seals 21–25 are removed") || !strings.Contains(rep.Problem, "trust.jws") {
				t.Fatalf("cut tail: %+v", rep)
			}
			t.Log(rep.Problem)
		})
	}
}

// TestDeletedCheckpointsAreReported: checkpoints are required. Deleting the
// newest one leaves the seals after the one before uncovered; deleting all
// leaves the whole chain uncovered. Each is named.
func TestDeletedCheckpointsAreReported(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			anchor, pinned := newAnchor(t)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			first := appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Minute)
			appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if rep, err := audit.Verify(ctx, st, pinned(now.Add(time.Hour))); err != nil || !rep.OK() || rep.Signed != 2 {
				t.Fatalf("clean: %+v %v", rep, err)
			}
			all := sealed(t, st)
			a := newAttacker(t, b, st)

			a.exec("DELETE FROM audit_checkpoints WHERE seq = 20")
			rep, _ := audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
			if rep.OK() || rep.BadSeq != 11 || rep.BadEntryID != all[10].Entry.ID || !strings.Contains(rep.Problem, fmt.Sprintf("seals 11–20 (from entry %d) are not covered", all[10].Entry.ID)) {
				t.Fatalf("newest checkpoint deleted: %+v", rep)
			}
			t.Log(rep.Problem)

			a.exec("DELETE FROM audit_checkpoints")
			rep, _ = audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
			if rep.OK() || rep.BadSeq != 1 || rep.BadEntryID != min(first[0], all[0].Entry.ID) ||
				!strings.Contains(rep.Problem, "seals 1–20 (from entry") || !strings.Contains(rep.Problem, "no checkpoints at all") {
				t.Fatalf("all checkpoints deleted: %+v", rep)
			}
			// However recent the entries claim to be: a log without one
			// checkpoint by the pinned anchor is not intact.
			if rep, _ := audit.Verify(ctx, st, pinned(now)); rep.OK() {
				t.Fatalf("young entries without any checkpoint: %+v", rep)
			}
			t.Log(rep.Problem)
		})
	}
}

// TestRewriteWithPlantedAnchor: the attacker alters an entry, re-computes
// every seal, deletes the checkpoints, plants an anchor key row of its own
// and signs new checkpoints with it. Checked against keys in the database
// (what `audit verify` used to do) the log looks intact; against the pinned
// anchor it does not, and against a saved audit head the rewrite is named.
func TestRewriteWithPlantedAnchor(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			anchor, pinned := newAnchor(t)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Minute)
			appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			bundle := head(t, st, "trust.jws")
			all := sealed(t, st)
			victim := all[4].Entry.ID
			a := newAttacker(t, b, st)

			// 1. Alter entry 5 and re-hash the chain, leaving the checkpoints.
			a.exec("UPDATE audit_entries SET object_id = 'forged' WHERE id = %d", victim)
			all = sealed(t, st)
			prev := make([]byte, 32)
			seals := make([]store.AuditSeal, len(all))
			for i, se := range all {
				prev = audit.Chain(prev, audit.Digest(se.Entry))
				seals[i] = store.AuditSeal{Seq: se.Seal.Seq, EntryID: se.Entry.ID, Hash: prev}
			}
			a.exec("DELETE FROM audit_seals")
			if err := st.AddAuditSeals(ctx, seals); err != nil {
				t.Fatal(err)
			}
			rep, _ := audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
			if rep.OK() || rep.BadSeq != 1 || !strings.Contains(rep.Problem, "checkpoint at seal 10 (signed by key "+anchor.KeyID()+") does not match") ||
				!strings.Contains(rep.Problem, "seals 1–10") {
				t.Fatalf("re-hashed under genuine checkpoints: %+v", rep)
			}
			t.Log(rep.Problem)

			// 2. Replace the checkpoints with ones signed by a planted anchor.
			a.exec("DELETE FROM audit_checkpoints")
			forger, _ := signing.GenerateKey(nil)
			fs := signing.NewSoftwareSigner(signing.Thumbprint(forger.Public()), forger)
			if err := st.CreateKey(ctx, store.Key{KID: fs.KeyID(), Role: store.RoleAnchor, PublicKey: forger.Public().Bytes(),
				Sealed: []byte{0}, Status: store.KeyRetired, NotBefore: now.Add(-time.Hour), CreatedAt: now.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{9, 19} {
				at := now.Add(-time.Minute)
				sig, _ := fs.Sign(audit.CheckpointMessage(seals[i].Seq, seals[i].Hash, at))
				if err := st.AddAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: seals[i].Seq, Hash: seals[i].Hash, At: at, KeyID: fs.KeyID(), Signature: sig}); err != nil {
					t.Fatal(err)
				}
			}
			// The old check: trust every anchor key row in the database.
			keys, _ := st.ListKeys(ctx)
			fromDB := pinned(now.Add(time.Hour))
			fromDB.Anchors = map[string]*signing.PublicKey{}
			for _, k := range keys {
				if k.Role == store.RoleAnchor {
					fromDB.Anchors[k.KID], _ = signing.PublicKeyFromBytes(k.PublicKey)
				}
			}
			if rep, _ := audit.Verify(ctx, st, fromDB); !rep.OK() || rep.Signed != 2 {
				t.Fatalf("the forgery should fool a check that trusts the database (else this test proves nothing): %+v", rep)
			}
			rep, _ = audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
			if rep.OK() || rep.BadSeq != 1 || !strings.Contains(rep.Problem, fmt.Sprintf("seals 1–20 (from entry %d) are not covered", all[0].Entry.ID)) ||
				!strings.Contains(rep.Problem, "signed by key "+fs.KeyID()+", which the pinned anchor does not vouch for") {
				t.Fatalf("planted anchor: %+v", rep)
			}
			t.Log(rep.Problem)
			withHead := pinned(now.Add(time.Hour))
			withHead.Claims = []audit.Claim{bundle}
			rep, _ = audit.Verify(ctx, st, withHead)
			if rep.OK() || rep.BadSeq != 1 || !strings.Contains(rep.Problem, "does not match the audit head in trust.jws") {
				t.Fatalf("planted anchor against the audit head: %+v", rep)
			}
			t.Log(rep.Problem)
		})
	}
}

// TestRewriteSignedByCompromisedPredecessor: the anchor was rotated (the new
// pin vouches for the old anchor through its acknowledgement), then the old
// anchor's key was stolen. The thief rewrites the chain, deletes every
// checkpoint and signs one with the old key. Vouched for, the old key would
// make the forgery pass; marked compromised, its checkpoints prove nothing.
func TestRewriteSignedByCompromisedPredecessor(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			old, oldOpts := newAnchor(t)
			next, nextOpts := newAnchor(t)
			current := old
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{current} }}
			appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			current = next
			now = now.Add(2 * time.Minute)
			appendN(t, st, 10, now)
			if _, err := s.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
			opts := nextOpts(now.Add(time.Hour))
			for kid, k := range oldOpts(now).Anchors {
				opts.Anchors[kid] = k // as trust.Anchors gives it through the acknowledgement
			}
			if rep, err := audit.Verify(ctx, st, opts); err != nil || !rep.OK() || rep.Signed != 2 {
				t.Fatalf("clean: %+v %v", rep, err)
			}

			a := newAttacker(t, b, st)
			all := sealed(t, st)
			a.exec("UPDATE audit_entries SET object_id = 'forged' WHERE id = %d", all[14].Entry.ID)
			all = sealed(t, st)
			prev := make([]byte, 32)
			seals := make([]store.AuditSeal, len(all))
			for i, se := range all {
				prev = audit.Chain(prev, audit.Digest(se.Entry))
				seals[i] = store.AuditSeal{Seq: se.Seal.Seq, EntryID: se.Entry.ID, Hash: prev}
			}
			a.exec("DELETE FROM audit_seals")
			a.exec("DELETE FROM audit_checkpoints")
			if err := st.AddAuditSeals(ctx, seals); err != nil {
				t.Fatal(err)
			}
			top := seals[len(seals)-1]
			at := now.Add(-3 * time.Minute) // backdated to before the rotation
			sig, _ := old.Sign(audit.CheckpointMessage(top.Seq, top.Hash, at))
			if err := st.AddAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: top.Seq, Hash: top.Hash, At: at, KeyID: old.KeyID(), Signature: sig}); err != nil {
				t.Fatal(err)
			}
			if rep, _ := audit.Verify(ctx, st, opts); !rep.OK() {
				t.Fatalf("the stolen key should make the forgery pass when not marked (else this test proves nothing): %+v", rep)
			}
			opts.Compromised = map[string]bool{old.KeyID(): true}
			rep, _ := audit.Verify(ctx, st, opts)
			if rep.OK() || rep.BadSeq != 1 || !strings.Contains(rep.Problem, "signed by anchor "+old.KeyID()+", which is marked compromised") {
				t.Fatalf("compromised predecessor: %+v", rep)
			}
			t.Log(rep.Problem)
		})
	}
}
