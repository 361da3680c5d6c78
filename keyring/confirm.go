package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// ErrKeyNotActive is returned by Confirm when a key this node still held as
// active was retired or compromised meanwhile (by another node or the CLI).
// The ring has reloaded by then: asking Signer again gives the new key.
var ErrKeyNotActive = errors.New("keyring: the signing key is no longer active")

// Confirm fails closed: it reads key kid's status in q (the caller's
// transaction, or the store) and returns ErrKeyNotActive unless it is
// active, reloading the ring first so that the next Signer call answers the
// replacement. Called in the transaction that stores what kid signed, it
// orders that transaction before any compromise or rotation of kid that
// commits later, and after any that committed earlier: nothing signed by a
// key is stored or handed out once a compromise of it has committed, on any
// node, whatever the reload interval. Its cost is one primary-key read.
func (r *Ring) Confirm(ctx context.Context, q store.Queries, kid string) error {
	k, err := q.GetKey(ctx, kid)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s is not stored", ErrKeyNotActive, kid)
	}
	if err != nil {
		return err
	}
	if k.Status == store.KeyActive {
		return nil
	}
	if err := r.Reload(ctx); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s is %s", ErrKeyNotActive, kid, k.Status)
}

// ConfirmedSigner is Signer for a caller that signs outside a transaction
// (or before one): the active signer, confirmed in the database. When this
// node's view was stale it reloads and answers the key that replaced it.
func (r *Ring) ConfirmedSigner(ctx context.Context, role store.KeyRole, uscc string) (signing.Signer, error) {
	for attempt := 0; ; attempt++ {
		s, err := r.Signer(ctx, role, uscc)
		if err != nil {
			return nil, err
		}
		err = r.Confirm(ctx, r.st, s.KeyID())
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, ErrKeyNotActive) || attempt == 2 {
			return nil, err
		}
	}
}
