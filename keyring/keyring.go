// Package keyring keeps Suishen's signing keys in custody (密钥托管): the
// trust anchor that signs the trust bundle, the code-signing keys of 随申码,
// and one key per issuing department.
//
// Private keys are generated here, sealed with SM4-GCM under the master key
// (the key ID bound as associated data) and stored only sealed. They never
// leave the process: callers get a signing.Signer, so an HSM or KMS can take
// over behind the same interface.
//
// Rotation keeps an overlap: the new key signs from now on, the old one is
// retired but keeps verifying until what it signed has expired (NotAfter).
// A compromised key stops verifying at once and, if it was active, is
// replaced. Every change is written with its audit entry in one transaction.
//
// Each node holds the keys in memory and reloads them periodically (and at
// once when asked for a key it does not know), so a rotation on one node
// reaches the others within the reload interval.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Retention after retirement: how long a retired key keeps verifying.
var Retention = map[store.KeyRole]time.Duration{
	// Verifiers re-fetch the bundle well within this and re-pin through the
	// endorsement the old anchor signs.
	store.RoleAnchor: 30 * 24 * time.Hour,
	// The longest-lived code is the 180-day offline code.
	store.RoleCode: 181 * 24 * time.Hour,
	// Department keys: certificates may be long-term (长期), so a retired
	// department key keeps verifying (NotAfter stays nil) unless compromised.
	store.RoleDepartment: 0,
}

// Errors.
var (
	ErrNoKey       = errors.New("keyring: no active key")
	ErrUnknownKey  = errors.New("keyring: unknown key")
	ErrBadRole     = errors.New("keyring: bad role")
	ErrCompromised = errors.New("keyring: key already compromised")
)

// Ring is the node's view of the signing keys.
type Ring struct {
	st     store.Store
	master []byte
	now    func() time.Time
	log    *slog.Logger

	mu      sync.RWMutex
	keys    map[string]entry  // by kid
	active  map[string]string // role|uscc → kid
	version uint64            // bumps on every reload that changed something
	loaded  bool
	// recorded is the version at which every anchor rotation seen had been
	// recorded (RecordSuccessions); 0 before the first time.
	recorded uint64
}

type entry struct {
	meta   store.Key
	pub    *signing.PublicKey
	signer signing.Signer // nil for compromised keys
}

// Open loads the keys and makes sure an anchor and a code key exist.
func Open(ctx context.Context, st store.Store, masterKey []byte, now func() time.Time, log *slog.Logger) (*Ring, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if len(masterKey) != 16 {
		return nil, errors.New("keyring: the master key must be 16 bytes")
	}
	r := &Ring{st: st, master: masterKey, now: now, log: log}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	system := audit.Actor{Kind: store.KindSystem, ID: "keyring"}
	for _, role := range []store.KeyRole{store.RoleAnchor, store.RoleCode} {
		if _, err := r.Signer(ctx, role, ""); errors.Is(err, ErrNoKey) {
			err := st.InTx(ctx, func(q store.Queries) error {
				_, err := r.create(ctx, q, role, "", system, "")
				return err
			})
			// Another node starting at the same moment may have won.
			if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return nil, fmt.Errorf("keyring: create %s key: %w", role, err)
			}
			if err := r.Reload(ctx); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	if err := r.RecordSuccessions(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func slot(role store.KeyRole, uscc string) string { return string(role) + "|" + uscc }

// Reload reads every key from the database and opens the private keys that
// can still sign or endorse.
func (r *Ring) Reload(ctx context.Context) error {
	all, err := r.st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keyring: load keys: %w", err)
	}
	r.mu.RLock()
	old := r.keys
	r.mu.RUnlock()
	keys := make(map[string]entry, len(all))
	active := map[string]string{}
	changed := len(all) != len(old)
	for _, k := range all {
		prev, ok := old[k.KID]
		if ok && sameMeta(prev.meta, k) {
			keys[k.KID] = prev
		} else {
			changed = true
			e, err := r.open(k)
			if err != nil {
				return err
			}
			keys[k.KID] = e
		}
		if k.Status == store.KeyActive {
			active[slot(k.Role, k.DepartmentUSCC)] = k.KID
		}
	}
	r.mu.Lock()
	r.keys, r.active, r.loaded = keys, active, true
	if changed {
		r.version++
	}
	r.mu.Unlock()
	return nil
}

func sameMeta(a, b store.Key) bool {
	return a.Status == b.Status && timeEq(a.NotAfter, b.NotAfter) && timeEq(a.CompromisedAt, b.CompromisedAt)
}

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func (r *Ring) open(k store.Key) (entry, error) {
	pub, err := signing.PublicKeyFromBytes(k.PublicKey)
	if err != nil {
		return entry{}, fmt.Errorf("keyring: key %s: stored public key: %w", k.KID, err)
	}
	e := entry{meta: k, pub: pub}
	if k.Status == store.KeyCompromised {
		return e, nil
	}
	d, err := signing.Open(r.master, k.KID, k.Sealed)
	if err != nil {
		return entry{}, fmt.Errorf("keyring: key %s cannot be unsealed (is SUISHEN_MASTER_KEY the one it was sealed with?): %w", k.KID, err)
	}
	priv, err := signing.PrivateKeyFromBytes(d)
	clear(d)
	if err != nil {
		return entry{}, fmt.Errorf("keyring: key %s: %w", k.KID, err)
	}
	if !priv.Public().Equal(pub) {
		return entry{}, fmt.Errorf("keyring: key %s: private and public halves do not match", k.KID)
	}
	e.signer = signing.NewSoftwareSigner(k.KID, priv)
	return e, nil
}

// Run reloads every interval until ctx ends.
func (r *Ring) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("reloading signing keys failed", "err", err)
			} else if err := r.RecordSuccessions(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("recording an anchor succession failed", "err", err)
			}
		}
	}
}

// Ready reports whether keys are loaded and an anchor can sign.
func (r *Ring) Ready(context.Context) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.loaded {
		return errors.New("keys not loaded")
	}
	if _, ok := r.active[slot(store.RoleAnchor, "")]; !ok {
		return errors.New("no active trust anchor")
	}
	return nil
}

// Version changes whenever the set of keys or their status changes.
func (r *Ring) Version() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version
}

// Signer returns the active signer for role (and department USCC). A miss
// reloads once, so a key created by another node moments ago is found.
func (r *Ring) Signer(ctx context.Context, role store.KeyRole, uscc string) (signing.Signer, error) {
	for attempt := 0; attempt < 2; attempt++ {
		r.mu.RLock()
		kid, ok := r.active[slot(role, uscc)]
		e := r.keys[kid]
		r.mu.RUnlock()
		if ok && e.signer != nil {
			return e.signer, nil
		}
		if attempt == 0 {
			if err := r.Reload(ctx); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("%w for %s %s", ErrNoKey, role, uscc)
}

// Public returns a key's public half and metadata, compromised keys included.
func (r *Ring) Public(kid string) (*signing.PublicKey, store.Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.keys[kid]
	return e.pub, e.meta, ok
}

// signerOf returns the signer of any non-compromised key (for endorsements).
func (r *Ring) signerOf(kid string) signing.Signer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[kid].signer
}

// Keys lists every key's metadata, oldest first.
func (r *Ring) Keys() []store.Key {
	r.mu.RLock()
	out := make([]store.Key, 0, len(r.keys))
	for _, e := range r.keys {
		m := e.meta
		m.Sealed = nil
		out = append(out, m)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].KID < out[j].KID
	})
	return out
}

// CreateDepartmentKey creates a department's first key inside the caller's
// transaction (department registration). The ring learns of it on its next
// reload, or at once when asked for it.
func (r *Ring) CreateDepartmentKey(ctx context.Context, q store.Queries, uscc string, actor audit.Actor, requestID string) (store.Key, error) {
	return r.create(ctx, q, store.RoleDepartment, uscc, actor, requestID)
}

func (r *Ring) create(ctx context.Context, q store.Queries, role store.KeyRole, uscc string, actor audit.Actor, requestID string) (store.Key, error) {
	priv, err := signing.GenerateKey(nil)
	if err != nil {
		return store.Key{}, err
	}
	pub := priv.Public()
	kid := signing.Thumbprint(pub)
	d := priv.Bytes()
	sealed, err := signing.Seal(r.master, kid, d)
	clear(d)
	if err != nil {
		return store.Key{}, err
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	k := store.Key{KID: kid, Role: role, DepartmentUSCC: uscc, PublicKey: pub.Bytes(), Sealed: sealed,
		Status: store.KeyActive, NotBefore: now, CreatedAt: now}
	if err := q.CreateKey(ctx, k); err != nil {
		return store.Key{}, err
	}
	if _, err := q.AppendAudit(ctx, audit.New(now, actor, "key.create", "key", kid, requestID,
		map[string]any{"role": role, "department_uscc": uscc})); err != nil {
		return store.Key{}, err
	}
	k.Sealed = nil
	return k, nil
}

// Rotate makes a new active key for role (and department USCC) and retires
// the current one with its overlap, in its own transaction, then reloads.
// It returns the new key and the retired one (zero when there was none).
func (r *Ring) Rotate(ctx context.Context, role store.KeyRole, uscc string, actor audit.Actor, requestID string) (created, retired store.Key, err error) {
	err = r.st.InTx(ctx, func(q store.Queries) error {
		created, retired, err = r.RotateIn(ctx, q, role, uscc, actor, requestID)
		return err
	})
	if err != nil {
		return store.Key{}, store.Key{}, err
	}
	if err := r.Reload(ctx); err != nil {
		return created, retired, err
	}
	return created, retired, r.RecordSuccessions(ctx)
}

// RotateIn is Rotate inside the caller's transaction; call Reload after
// the transaction commits.
func (r *Ring) RotateIn(ctx context.Context, q store.Queries, role store.KeyRole, uscc string, actor audit.Actor, requestID string) (created, retired store.Key, err error) {
	if err := checkRole(role, uscc); err != nil {
		return created, retired, err
	}
	all, err := q.ListKeys(ctx)
	if err != nil {
		return created, retired, err
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	for _, k := range all {
		if k.Role == role && k.DepartmentUSCC == uscc && k.Status == store.KeyActive {
			k.Status, k.RetiredAt = store.KeyRetired, &now
			if ret := Retention[role]; ret > 0 {
				na := now.Add(ret)
				k.NotAfter = &na
			}
			if err := q.UpdateKey(ctx, k); err != nil {
				return created, retired, err
			}
			if _, err := q.AppendAudit(ctx, audit.New(now, actor, "key.retire", "key", k.KID, requestID,
				map[string]any{"role": role, "department_uscc": uscc, "not_after": k.NotAfter})); err != nil {
				return created, retired, err
			}
			k.Sealed = nil
			retired = k
		}
	}
	created, err = r.create(ctx, q, role, uscc, actor, requestID)
	return created, retired, err
}

// Compromise marks a key compromised: nothing it signed verifies any more.
// An active key is replaced by a fresh one in the same transaction.
func (r *Ring) Compromise(ctx context.Context, kid string, actor audit.Actor, requestID string) (marked store.Key, replacement *store.Key, err error) {
	err = r.st.InTx(ctx, func(q store.Queries) error {
		replacement = nil
		k, err := q.GetKey(ctx, kid)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknownKey
		}
		if err != nil {
			return err
		}
		if k.Status == store.KeyCompromised {
			return ErrCompromised
		}
		wasActive := k.Status == store.KeyActive
		now := r.now().UTC().Truncate(time.Microsecond)
		k.Status, k.CompromisedAt, k.NotAfter = store.KeyCompromised, &now, &now
		if k.RetiredAt == nil {
			k.RetiredAt = &now
		}
		if err := q.UpdateKey(ctx, k); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor, "key.compromise", "key", k.KID, requestID,
			map[string]any{"role": k.Role, "department_uscc": k.DepartmentUSCC, "was_active": wasActive})); err != nil {
			return err
		}
		if wasActive {
			nk, err := r.create(ctx, q, k.Role, k.DepartmentUSCC, actor, requestID)
			if err != nil {
				return err
			}
			replacement = &nk
		}
		k.Sealed = nil
		marked = k
		return nil
	})
	if err != nil {
		return store.Key{}, nil, err
	}
	return marked, replacement, r.Reload(ctx)
}

func checkRole(role store.KeyRole, uscc string) error {
	switch role {
	case store.RoleAnchor, store.RoleCode:
		if uscc != "" {
			return fmt.Errorf("%w: %s keys belong to no department", ErrBadRole, role)
		}
	case store.RoleDepartment:
		if uscc == "" {
			return fmt.Errorf("%w: department keys need the department's USCC", ErrBadRole)
		}
	default:
		return fmt.Errorf("%w: %q is not anchor, code or department", ErrBadRole, role)
	}
	return nil
}
