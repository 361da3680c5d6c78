package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// RecordSuccessions stores, for every pair of consecutive trust anchors
// (in creation order) not yet recorded, the old anchor's endorsement of the
// new one and the new anchor's acknowledgement of the old one, with an audit
// entry. `suishen audit verify --anchor` follows these from the pinned anchor
// (trust.Anchors), so audit checkpoints signed before and after a rotation
// verify with either pin. A pair where either anchor is compromised is never
// recorded: a compromised anchor vouches for nothing, and a verifier pinned
// to it must re-pin. Nodes race harmlessly: the first row wins.
//
// It runs its own transactions, so never call it inside one: Open, Rotate
// and Run call it (a rotation made with RotateIn is recorded by the next Run
// tick). It does nothing when no key changed since its last success.
func (r *Ring) RecordSuccessions(ctx context.Context) error {
	r.mu.RLock()
	v, recorded := r.version, r.recorded
	r.mu.RUnlock()
	if v == recorded {
		return nil
	}
	if err := r.recordSuccessions(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	if r.recorded < v {
		r.recorded = v
	}
	r.mu.Unlock()
	return nil
}

func (r *Ring) recordSuccessions(ctx context.Context) error {
	var anchors []store.Key
	for _, k := range r.Keys() {
		if k.Role == store.RoleAnchor {
			anchors = append(anchors, k)
		}
	}
	if len(anchors) < 2 {
		return nil
	}
	have, err := r.st.ListAnchorSuccessions(ctx)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, s := range have {
		done[s.OldKID] = true
	}
	for i := 0; i+1 < len(anchors); i++ {
		old, next := anchors[i], anchors[i+1]
		if done[old.KID] {
			continue
		}
		os, ns := r.signerOf(old.KID), r.signerOf(next.KID)
		if os == nil || ns == nil {
			continue
		}
		now := r.now().UTC().Truncate(time.Microsecond)
		e, err := trust.Endorse(os, ns.Public(), now)
		if err != nil {
			return err
		}
		a, err := trust.Acknowledge(ns, os.Public(), now)
		if err != nil {
			return err
		}
		err = r.st.InTx(ctx, func(q store.Queries) error {
			if err := q.AddAnchorSuccession(ctx, store.AnchorSuccession{OldKID: old.KID, NewKID: next.KID,
				Endorsement: e, Acknowledgement: a, CreatedAt: now}); err != nil {
				return err
			}
			_, err := q.AppendAudit(ctx, audit.New(now, audit.Actor{Kind: store.KindSystem, ID: "keyring"},
				"key.succession", "key", next.KID, "", map[string]any{"role": store.RoleAnchor, "predecessor": old.KID}))
			return err
		})
		if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("keyring: record anchor succession %s → %s: %w", old.KID, next.KID, err)
		}
	}
	return nil
}

// CheckpointSigner is the audit sealer's Anchor: the active trust anchor,
// or nil while there is none.
func (r *Ring) CheckpointSigner() audit.Signer {
	s, err := r.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		return nil
	}
	return s
}
