package keyring_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// TestCheckpointsVerifyAcrossAnchorRotations: the anchor is rotated twice,
// with checkpoints signed by each anchor. Pinned to the first, the middle or
// the last anchor, `audit verify` accepts every checkpoint, through the
// recorded successions (endorsement forward, acknowledgement backward). A
// compromise records no succession: the replacement's checkpoints cover the
// whole chain for a verifier pinned to it, while one pinned to the old
// lineage is told to re-pin.
func TestCheckpointsVerifyAcrossAnchorRotations(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		ring, err := keyring.Open(ctx, st, master, c.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		sealer := &audit.Sealer{Store: st, Now: c.now, Anchor: ring.CheckpointSigner}
		seal := func() {
			t.Helper()
			c.t = c.t.Add(2 * time.Minute)
			if _, err := sealer.SealOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var pins []*signing.PublicKey
		anchor := func() {
			s, err := ring.Signer(ctx, store.RoleAnchor, "")
			if err != nil {
				t.Fatal(err)
			}
			pins = append(pins, s.Public())
		}
		anchor()
		seal()
		for i := 0; i < 2; i++ {
			if _, _, err := ring.Rotate(ctx, store.RoleAnchor, "", admin, ""); err != nil {
				t.Fatal(err)
			}
			anchor()
			seal()
		}
		succ, err := st.ListAnchorSuccessions(ctx)
		if err != nil || len(succ) != 2 {
			t.Fatalf("%d successions: %v", len(succ), err)
		}
		links := func() []trust.Succession {
			succ, err := st.ListAnchorSuccessions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]trust.Succession, len(succ))
			for i, s := range succ {
				out[i] = trust.Succession{Endorsement: s.Endorsement, Acknowledgement: s.Acknowledgement}
			}
			return out
		}
		verify := func(pin *signing.PublicKey, l []trust.Succession) audit.Report {
			t.Helper()
			rep, err := audit.Verify(ctx, st, audit.Options{Anchors: trust.Anchors(pin, l, nil), Now: c.t.Add(time.Hour), Grace: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		for i, pin := range pins {
			rep := verify(pin, links())
			if !rep.OK() || rep.Signed != 3 || rep.Unvouched != 0 || rep.Covered != rep.HeadSeq {
				t.Errorf("pinned to anchor %d: %+v", i, rep)
			}
		}
		// Without the recorded successions, the old pin vouches only for its
		// own checkpoints: proof that they are what carries it.
		if rep := verify(pins[0], nil); rep.OK() || !strings.Contains(rep.Problem, "does not vouch for") {
			t.Errorf("old pin without successions: %+v", rep)
		}

		// Compromise of the active anchor: a fresh one replaces it, and no
		// succession is recorded.
		last := pins[2]
		if _, _, err := ring.Compromise(ctx, signing.Thumbprint(last), admin, ""); err != nil {
			t.Fatal(err)
		}
		if err := ring.RecordSuccessions(ctx); err != nil {
			t.Fatal(err)
		}
		anchor()
		seal()
		if len(links()) != 2 {
			t.Fatalf("a compromised anchor was linked to its replacement")
		}
		if rep := verify(pins[3], links()); !rep.OK() || rep.Signed != 1 || rep.Unvouched != 3 || rep.Covered != rep.HeadSeq {
			t.Errorf("pinned to the replacement: %+v", rep)
		}
		if rep := verify(pins[0], links()); rep.OK() || !strings.Contains(rep.Problem, "signed by key "+signing.Thumbprint(pins[3])+", which the pinned anchor does not vouch for") {
			t.Errorf("pinned to the compromised lineage: %+v", rep)
		}
	})
}
