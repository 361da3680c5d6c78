package keyring

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// Bundle timing: a node re-signs its bundle at least every Refresh; verifiers
// should fetch again after NextUpdate and must not rely on a bundle after
// MaxAge (they answer "unknown" instead).
const (
	Refresh    = 10 * time.Minute
	NextUpdate = 15 * time.Minute
	MaxAge     = 48 * time.Hour
)

// Publisher builds the public documents: the JWKS and the signed trust bundle.
type Publisher struct {
	Ring   *Ring
	Store  store.Store
	Issuer string // SUISHEN_PUBLIC_URL
	Now    func() time.Time
	// StatusLists returns the status lists to carry (nil: none yet).
	StatusLists func(ctx context.Context) ([]trust.StatusListRef, error)
	// StatusVersion changes whenever a status list changes (nil: never);
	// Current checks it at most once a second, CurrentChecked every time.
	StatusVersion func(ctx context.Context) (string, error)
	// Region is the region this node serves (区域互认); nil: none stated.
	Region *trust.Region
	// Peers returns the peer regions the bundle endorses (nil: none).
	Peers func(ctx context.Context) ([]trust.Peer, error)

	statusChecked time.Time
	statusVersion string

	mu     sync.Mutex
	cached *Published
	// stale is set by Invalidate without taking mu: Invalidate is called
	// inside storing transactions, and on SQLite (one writer) waiting for
	// mu there while Current holds it and waits for the writer to store a
	// signed list would stall both until the request deadline.
	stale atomic.Bool
}

// Published is one signed bundle with its ETag.
type Published struct {
	JWS     string
	ETag    string // quoted, for the ETag header
	Bundle  trust.Bundle
	version uint64
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Keys lists the published keys: every active and compromised key, and every
// retired key that still verifies.
func (p *Publisher) Keys(ctx context.Context) ([]trust.Key, error) {
	now := p.now()
	types := map[string][]string{}
	periods := map[string][]trust.TypePeriod{}
	var out []trust.Key
	for _, k := range p.Ring.Keys() {
		if k.Status == store.KeyRetired && k.NotAfter != nil && now.After(*k.NotAfter) {
			continue
		}
		pub, _, ok := p.Ring.Public(k.KID)
		if !ok {
			continue
		}
		tk := trust.Key{JWK: signing.NewJWK(pub), Role: string(k.Role), DepartmentUSCC: k.DepartmentUSCC,
			NotBefore: k.NotBefore, NotAfter: k.NotAfter, Status: string(k.Status)}
		tk.Kid, tk.Use, tk.Alg = k.KID, "sig", signing.AlgSM2
		if k.Role == store.RoleDepartment {
			t, ok := types[k.DepartmentUSCC]
			if !ok {
				d, err := p.Store.GetDepartmentByUSCC(ctx, k.DepartmentUSCC)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				t = d.CertificateTypes
				if t == nil {
					t = []string{}
				}
				types[k.DepartmentUSCC] = t
				ps, err := p.Store.DepartmentTypePeriods(ctx, k.DepartmentUSCC)
				if err != nil {
					return nil, err
				}
				tp := make([]trust.TypePeriod, len(ps))
				for i, x := range ps {
					tp[i] = trust.TypePeriod{TypeCode: x.TypeCode, From: x.From.UTC()}
					if x.Until != nil {
						u := x.Until.UTC()
						tp[i].Until = &u
					}
				}
				periods[k.DepartmentUSCC] = tp
			}
			tk.CertificateTypes, tk.TypePeriods = t, periods[k.DepartmentUSCC]
		}
		out = append(out, tk)
	}
	return out, nil
}

// JWKS is the /.well-known/jwks.json document.
func (p *Publisher) JWKS(ctx context.Context) (trust.JWKS, error) {
	keys, err := p.Keys(ctx)
	return trust.JWKS{Keys: keys}, err
}

// Current returns the signed bundle, re-signing it when keys changed or it
// is older than Refresh. Status lists changed or created on another node
// show within a second.
func (p *Publisher) Current(ctx context.Context) (*Published, error) {
	return p.current(ctx, false)
}

// CurrentChecked is Current for the bundle handed to verifiers
// (GET /v1/trust): it always asks StatusVersion (one read of the list
// index), so a bundle fetched after a certificate or code was handed out
// references its status list even when another node made that list less
// than a second ago (before: status_list_missing at the verifier until its
// next refresh).
func (p *Publisher) CurrentChecked(ctx context.Context) (*Published, error) {
	return p.current(ctx, true)
}

func (p *Publisher) current(ctx context.Context, check bool) (*Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stale.Swap(false) {
		p.cached = nil
	}
	now := p.now().UTC().Truncate(time.Second)
	v := p.Ring.Version()
	if p.StatusVersion != nil && (check || p.cached == nil || now.Sub(p.statusChecked) >= time.Second) {
		sv, err := p.StatusVersion(ctx)
		if err != nil {
			return nil, err
		}
		if sv != p.statusVersion {
			p.cached = nil
		}
		p.statusVersion, p.statusChecked = sv, now
	}
	if c := p.cached; c != nil && c.version == v && now.Sub(c.Bundle.IssuedAt) < Refresh {
		return c, nil
	}
	// Fail closed: a bundle signed now states every key's status as the
	// database has it now (a compromise made on another node moments ago
	// included), and is never signed by an anchor compromised meanwhile.
	if err := p.Ring.Reload(ctx); err != nil {
		return nil, err
	}
	var (
		anchor signing.Signer
		keys   []trust.Key
		lists  []trust.StatusListRef
		err    error
	)
	// The keys and the lists are read under one view of the ring: when it
	// changed meanwhile (the anchor rotated on another node, and reading
	// the lists found them already re-signed by the new anchor), the bundle
	// would pin lists that its own signer did not sign — verifiers holding
	// it could not use them (status_list_missing). Build again under the
	// new view instead.
	for attempt := 0; ; attempt++ {
		if anchor, err = p.Ring.ConfirmedSigner(ctx, store.RoleAnchor, ""); err != nil {
			return nil, err
		}
		v = p.Ring.Version() // the confirmation may have reloaded the ring
		if keys, err = p.Keys(ctx); err != nil {
			return nil, err
		}
		lists = []trust.StatusListRef{}
		if p.StatusLists != nil {
			if lists, err = p.StatusLists(ctx); err != nil {
				return nil, err
			}
		}
		if p.Ring.Version() == v {
			break
		}
		if attempt == 2 {
			return nil, errors.New("keyring: the keys kept changing while the trust bundle was built; try again")
		}
	}
	b := trust.Bundle{Issuer: p.Issuer, IssuedAt: now, NextUpdate: now.Add(NextUpdate), ExpiresAt: now.Add(MaxAge),
		Keys: keys, StatusLists: lists, Region: p.Region}
	if p.Peers != nil {
		if b.Peers, err = p.Peers(ctx); err != nil {
			return nil, err
		}
	}
	if b.AuditHead, err = p.auditHead(ctx); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Role != trust.RoleAnchor || k.Status != trust.StatusRetired || k.Kid == anchor.KeyID() {
			continue
		}
		old := p.Ring.signerOf(k.Kid)
		if old == nil {
			continue
		}
		e, err := trust.Endorse(old, anchor.Public(), now)
		if err != nil {
			return nil, err
		}
		b.Endorsements = append(b.Endorsements, e)
	}
	jws, err := trust.Sign(anchor, b)
	if err != nil {
		return nil, err
	}
	sum := sm3.Sum([]byte(jws))
	p.cached = &Published{JWS: jws, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Bundle: b, version: v}
	return p.cached, nil
}

// auditHead is the audit chain's head for the bundle (nil while nothing is
// sealed): every bundle a verifier keeps then commits the anchor to how far
// the log reached, and `suishen audit verify --trust` proves it still does.
func (p *Publisher) auditHead(ctx context.Context) (*trust.AuditHead, error) {
	h, ok, err := audit.CurrentHead(ctx, p.Store)
	if err != nil || !ok {
		return nil, err
	}
	return &trust.AuditHead{Seq: h.Seq, SM3: hex.EncodeToString(h.Hash), At: h.At.UTC()}, nil
}

// Invalidate forces the next Current to re-sign (status lists changed).
func (p *Publisher) Invalidate() { p.stale.Store(true) }
