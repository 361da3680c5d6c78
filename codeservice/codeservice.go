// Package codeservice runs the 随申码 workflows on top of storage: issuing
// personal (dynamic), offline (printable, one valid generation), enterprise
// and venue (static, revocable) codes and presentation codes (亮证) with
// their one-time use codes; check-ins when a holder scans a venue code, and
// scans by venues of holders' codes, online or uploaded later.
//
// The code format itself (bytes, signature, text, QR) is package codes;
// verification is package verifier, fed with this node's current trust
// bundle, so a code verified online gets exactly the answer an offline
// scanner holding the same bundle would give.
package codeservice

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Lifetimes of the long-lived kinds.
const (
	OfflineLifetime = 180 * 24 * time.Hour
	// StaticLifetime bounds enterprise and venue codes by the time a
	// retired code key keeps verifying (keyring.Retention, 181 days): a
	// code never outlives its key. Handing a code out re-signs it within
	// StaticRenewBefore of its end.
	StaticLifetime       = 180 * 24 * time.Hour
	StaticRenewBefore    = 60 * 24 * time.Hour
	PresentationLifetime = 5 * time.Minute
)

// Keys gives the active signer of a role, confirmed against the database,
// and confirms inside a transaction that a key is still active
// (keyring.Ring): nothing signed by a key is stored or handed out once its
// compromise has committed, on any node.
type Keys interface {
	ConfirmedSigner(ctx context.Context, role store.KeyRole, uscc string) (signing.Signer, error)
	Confirm(ctx context.Context, q store.Queries, kid string) error
}

// Errors.
var (
	ErrNotHolder      = errors.New("codeservice: the certificate is not the holder's")
	ErrNotPresentable = errors.New("codeservice: the certificate is not valid and cannot be shown")
	ErrNotEnterprise  = errors.New("codeservice: only an enterprise holder has an enterprise code")
)

// Service issues and records codes.
type Service struct {
	Store store.Store
	Keys  Keys
	// SubjectKey makes codes' pseudonymous subjects (≥ 16 bytes).
	SubjectKey []byte
	// ShuffleKey permutes status-list slots (≥ 16 bytes).
	ShuffleKey []byte
	// CodeTTL is the personal code lifetime (SUISHEN_CODE_TTL).
	CodeTTL time.Duration
	Now     func() time.Time
	// OnStatusChange is called after a code was revoked (re-sign the bundle).
	OnStatusChange func()

	refs  sync.Map // subject → holder ref (never changes)
	lists sync.Map // status lists this node has put codes in
}

// placed notes that a code went into list; the first code of a list this
// node has not seen re-signs the trust bundle so the list is published at
// once (other nodes notice the new list within a second).
func (s *Service) placed(list string) {
	if _, seen := s.lists.LoadOrStore(list, true); !seen && s.OnStatusChange != nil {
		s.OnStatusChange()
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Actor is who asks, with the request ID for the audit log.
type Actor struct {
	audit.Actor
	RequestID string
}

// Issued is a code handed out.
type Issued struct {
	Text       string
	Kind       codes.Kind
	ExpiresAt  time.Time
	Generation int
}

func (s *Service) holderRef(ctx context.Context, subject, kind string) (uint64, error) {
	if v, ok := s.refs.Load(subject); ok {
		return v.(uint64), nil
	}
	ref, err := s.Store.HolderRef(ctx, subject, kind, s.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, err
	}
	s.refs.Store(subject, uint64(ref))
	return uint64(ref), nil
}

func (s *Service) signer(ctx context.Context) (signing.Signer, error) {
	return s.Keys.ConfirmedSigner(ctx, store.RoleCode, "")
}

// again runs f once more when the code key changed (on any node) between
// signing and storing — the ring has reloaded, so the second run signs with
// the replacement — or a stored static code ended meanwhile.
func again[T any](f func() (T, error)) (T, error) {
	v, err := f()
	if errors.Is(err, keyring.ErrKeyNotActive) || errors.Is(err, errSlotNeeded) {
		v, err = f()
	}
	return v, err
}

// Personal issues a fresh dynamic personal code: never stored, unlinkable to
// the holder's other codes, valid for CodeTTL.
func (s *Service) Personal(ctx context.Context, h principal.Principal) (Issued, error) {
	ref, err := s.holderRef(ctx, h.ID, h.HolderKind)
	if err != nil {
		return Issued{}, err
	}
	subj, err := codes.NewSubject(s.SubjectKey, ref, nil)
	if err != nil {
		return Issued{}, err
	}
	sg, err := s.signer(ctx)
	if err != nil {
		return Issued{}, err
	}
	now := s.now()
	ttl := s.CodeTTL
	if ttl <= 0 {
		ttl = codes.DefaultLifetime(codes.Personal)
	}
	c := codes.Claims{Kind: codes.Personal, IssuedAt: now, ExpiresAt: now.Add(ttl), Subject: subj, DisplayName: ident.MaskName(h.Name)}
	text, err := codes.Issue(sg, c)
	return Issued{Text: text, Kind: codes.Personal, ExpiresAt: c.ExpiresAt}, err
}

// slot takes a status-list slot for a long-lived code.
func (s *Service) slot(ctx context.Context, prefix string) (string, int, error) {
	n, err := s.Store.NextCertificateNumbers(ctx, 1)
	if err != nil {
		return "", 0, err
	}
	return issuer.ListSlot(s.ShuffleKey, prefix, n)
}

// Offline issues a new printable offline code; the previous generation is
// revoked in the same transaction (only the latest is valid).
func (s *Service) Offline(ctx context.Context, h principal.Principal, actor Actor) (Issued, error) {
	return again(func() (Issued, error) { return s.offline(ctx, h, actor) })
}

func (s *Service) offline(ctx context.Context, h principal.Principal, actor Actor) (Issued, error) {
	ref, err := s.holderRef(ctx, h.ID, h.HolderKind)
	if err != nil {
		return Issued{}, err
	}
	list, index, err := s.slot(ctx, "o")
	if err != nil {
		return Issued{}, err
	}
	sg, err := s.signer(ctx)
	if err != nil {
		return Issued{}, err
	}
	var out Issued
	var revoked bool
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		revoked = false
		if err := s.Keys.Confirm(ctx, q, sg.KeyID()); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Second)
		gen := 1
		prev, err := q.LatestCode(ctx, "offline", h.ID)
		switch {
		case err == nil:
			gen = prev.Generation + 1
			if prev.Status == "valid" {
				if err := q.ChangeCodeStatus(ctx, prev.ID, "valid", "revoked", now); err != nil {
					return err
				}
				revoked = true
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		subj, err := codes.NewSubject(s.SubjectKey, ref, nil)
		if err != nil {
			return err
		}
		c := codes.Claims{Kind: codes.Offline, IssuedAt: now, ExpiresAt: now.Add(OfflineLifetime), Subject: subj,
			DisplayName: ident.MaskName(h.Name), Generation: uint32(gen), StatusList: list, StatusIndex: uint32(index)}
		text, err := codes.Issue(sg, c)
		if err != nil {
			return err
		}
		rec := store.Code{ID: "offline:" + h.ID + ":" + strconv.Itoa(gen), Kind: "offline", Owner: h.ID, Generation: gen, Text: text,
			Status: "valid", StatusList: list, StatusIndex: int64(index), IssuedAt: now, ExpiresAt: c.ExpiresAt, UpdatedAt: now}
		if err := q.CreateCode(ctx, rec); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor.Actor, "code.offline.issue", "holder", h.ID, actor.RequestID,
			map[string]any{"generation": gen, "previous_revoked": revoked})); err != nil {
			return err
		}
		out = Issued{Text: text, Kind: codes.Offline, ExpiresAt: c.ExpiresAt, Generation: gen}
		return nil
	})
	if err == nil {
		s.placed(list)
		if revoked && s.OnStatusChange != nil {
			s.OnStatusChange()
		}
	}
	return out, err
}

// static returns the owner's valid static code of kind, issuing it on first
// use; claims builds its claims.
//
// A static code never outlives its key: it lives StaticLifetime (no longer
// than a retired code key keeps verifying), and the stored code is signed
// again — same generation, same status slot — when it is handed out and its
// key is no longer the active code key (rotated or compromised), or it is
// within StaticRenewBefore of its expiry.
func (s *Service) static(ctx context.Context, kind codes.Kind, owner string, actor Actor, auditObject string,
	claims func(list string, index int) codes.Claims) (Issued, error) {
	return again(func() (Issued, error) { return s.staticOnce(ctx, kind, owner, actor, auditObject, claims) })
}

// current reports whether a stored static code may be handed out as it is.
func (s *Service) current(c store.Code, sg signing.Signer, now time.Time) bool {
	if c.Status != "valid" || !now.Before(c.ExpiresAt) || c.ExpiresAt.Sub(now) < StaticRenewBefore ||
		c.ExpiresAt.Sub(c.IssuedAt) > StaticLifetime {
		return false
	}
	parsed, err := codes.Parse(c.Text)
	return err == nil && bytes.Equal(parsed.KeyHint, codes.KeyHint(sg.Public()))
}

func (s *Service) staticOnce(ctx context.Context, kind codes.Kind, owner string, actor Actor, auditObject string,
	claims func(list string, index int) codes.Claims) (Issued, error) {
	name := kind.String()
	sg, err := s.signer(ctx)
	if err != nil {
		return Issued{}, err
	}
	c, lerr := s.Store.LatestCode(ctx, name, owner)
	switch {
	case lerr == nil && s.current(c, sg, s.now()):
		return Issued{Text: c.Text, Kind: kind, ExpiresAt: c.ExpiresAt, Generation: c.Generation}, nil
	case lerr != nil && !errors.Is(lerr, store.ErrNotFound):
		return Issued{}, lerr
	}
	var list string
	var index int
	if lerr != nil || c.Status != "valid" || !s.now().Before(c.ExpiresAt) {
		if list, index, err = s.slot(ctx, name[:1]); err != nil {
			return Issued{}, err
		}
	}
	var out Issued
	var resigned bool
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		resigned = false
		now := s.now().UTC().Truncate(time.Second)
		gen := 1
		prev, err := q.LatestCode(ctx, name, owner)
		switch {
		case err == nil && s.current(prev, sg, now):
			out = Issued{Text: prev.Text, Kind: kind, ExpiresAt: prev.ExpiresAt, Generation: prev.Generation}
			return nil // another request made it meanwhile
		case err == nil && prev.Status == "valid" && now.Before(prev.ExpiresAt):
			resigned = true // same generation, same slot, signed again
		case err == nil:
			gen = prev.Generation + 1
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := s.Keys.Confirm(ctx, q, sg.KeyID()); err != nil {
			return err
		}
		if resigned {
			c := claims(prev.StatusList, int(prev.StatusIndex))
			c.IssuedAt, c.ExpiresAt = now, now.Add(StaticLifetime)
			text, err := codes.Issue(sg, c)
			if err != nil {
				return err
			}
			if err := q.ResignCode(ctx, prev.ID, prev.Text, text, now, c.ExpiresAt, now); err != nil {
				return err
			}
			if _, err := q.AppendAudit(ctx, audit.New(now, actor.Actor, "code."+name+".resign", auditObject, owner, actor.RequestID,
				map[string]any{"generation": prev.Generation, "key_id": sg.KeyID()})); err != nil {
				return err
			}
			out = Issued{Text: text, Kind: kind, ExpiresAt: c.ExpiresAt, Generation: prev.Generation}
			return nil
		}
		if list == "" { // the stored code ended meanwhile: it needs a slot
			return errSlotNeeded
		}
		c := claims(list, index)
		c.IssuedAt, c.ExpiresAt = now, now.Add(StaticLifetime)
		text, err := codes.Issue(sg, c)
		if err != nil {
			return err
		}
		rec := store.Code{ID: name + ":" + owner + ":" + strconv.Itoa(gen), Kind: name, Owner: owner, Generation: gen, Text: text,
			Status: "valid", StatusList: list, StatusIndex: int64(index), IssuedAt: now, ExpiresAt: c.ExpiresAt, UpdatedAt: now}
		if err := q.CreateCode(ctx, rec); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor.Actor, "code."+name+".issue", auditObject, owner, actor.RequestID,
			map[string]any{"generation": gen})); err != nil {
			return err
		}
		out = Issued{Text: text, Kind: kind, ExpiresAt: c.ExpiresAt, Generation: gen}
		return nil
	})
	if err == nil && list != "" && !resigned {
		s.placed(list)
	}
	return out, err
}

var errSlotNeeded = errors.New("codeservice: a new slot is needed")

// RevokeStatic revokes the owner's current static code of kind (enterprise
// or venue): offline verifiers learn it from the status list in the next
// trust bundle; the next request issues a new generation. It reports
// whether there was a valid code to revoke.
func (s *Service) RevokeStatic(ctx context.Context, kind codes.Kind, owner string, actor Actor, auditObject string) (bool, error) {
	name := kind.String()
	revoked := false
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		revoked = false
		c, err := q.LatestCode(ctx, name, owner)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.Status != "valid" {
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := q.ChangeCodeStatus(ctx, c.ID, "valid", "revoked", now); err != nil {
			return err
		}
		revoked = true
		_, err = q.AppendAudit(ctx, audit.New(now, actor.Actor, "code."+name+".revoke", auditObject, owner, actor.RequestID,
			map[string]any{"generation": c.Generation}))
		return err
	})
	if err == nil && revoked && s.OnStatusChange != nil {
		s.OnStatusChange()
	}
	return revoked, err
}

// Enterprise returns an enterprise holder's static enterprise code.
func (s *Service) Enterprise(ctx context.Context, h principal.Principal, actor Actor) (Issued, error) {
	if h.HolderKind != "enterprise" {
		return Issued{}, ErrNotEnterprise
	}
	ref, err := s.holderRef(ctx, h.ID, h.HolderKind)
	if err != nil {
		return Issued{}, err
	}
	return s.static(ctx, codes.Enterprise, h.ID, actor, "holder", func(list string, index int) codes.Claims {
		subj, _ := codes.NewSubject(s.SubjectKey, ref, nil)
		return codes.Claims{Kind: codes.Enterprise, Subject: subj, DisplayName: ident.MaskName(h.Name), StatusList: list, StatusIndex: uint32(index)}
	})
}

// Venue returns a venue's static venue code.
func (s *Service) Venue(ctx context.Context, v store.Venue, actor Actor) (Issued, error) {
	return s.static(ctx, codes.Venue, v.ID, actor, "venue", func(list string, index int) codes.Claims {
		return codes.Claims{Kind: codes.Venue, VenueID: v.ID, DisplayName: shortName(v.Name), StatusList: list, StatusIndex: uint32(index)}
	})
}

// shortName keeps a venue's public name within a code's display-name limit.
func shortName(n string) string {
	r := []rune(n)
	for len(string(r)) > 30 {
		r = r[:len(r)-1]
	}
	return string(r)
}

// Presentation issues a 亮证 code for one of the holder's valid certificates,
// carrying a one-time use code that an app can redeem within its lifetime.
func (s *Service) Presentation(ctx context.Context, h principal.Principal, cert store.Certificate, status issuer.Status, purpose string, actor Actor) (Issued, string, error) {
	type shown struct {
		code    Issued
		useCode string
	}
	r, err := again(func() (shown, error) {
		c, u, err := s.presentation(ctx, h, cert, status, purpose, actor)
		return shown{c, u}, err
	})
	return r.code, r.useCode, err
}

func (s *Service) presentation(ctx context.Context, h principal.Principal, cert store.Certificate, status issuer.Status, purpose string, actor Actor) (Issued, string, error) {
	if cert.HolderSubject != h.ID {
		return Issued{}, "", ErrNotHolder
	}
	if status != issuer.StatusValid {
		return Issued{}, "", ErrNotPresentable
	}
	useCode, err := codes.NewUseCode(nil)
	if err != nil {
		return Issued{}, "", err
	}
	sg, err := s.signer(ctx)
	if err != nil {
		return Issued{}, "", err
	}
	ref, err := s.holderRef(ctx, h.ID, h.HolderKind)
	if err != nil {
		return Issued{}, "", err
	}
	subj, err := codes.NewSubject(s.SubjectKey, ref, nil)
	if err != nil {
		return Issued{}, "", err
	}
	now := s.now().UTC().Truncate(time.Second)
	c := codes.Claims{Kind: codes.Presentation, IssuedAt: now, ExpiresAt: now.Add(PresentationLifetime), Subject: subj,
		DisplayName: ident.MaskName(h.Name), CertificateID: cert.ID, UseCode: useCode,
		StatusList: cert.StatusList, StatusIndex: uint32(cert.StatusIndex)}
	text, err := codes.Issue(sg, c)
	if err != nil {
		return Issued{}, "", err
	}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := s.Keys.Confirm(ctx, q, sg.KeyID()); err != nil {
			return err
		}
		if err := q.CreateUseCode(ctx, store.UseCode{Hash: UseCodeHash(useCode), CertificateID: cert.ID, HolderSubject: h.ID,
			Purpose: purpose, CreatedAt: now, ExpiresAt: c.ExpiresAt}); err != nil {
			return err
		}
		_, err := q.AppendAudit(ctx, audit.New(now, actor.Actor, "certificate.present", "certificate", cert.ID, actor.RequestID,
			map[string]any{"purpose": purpose, "expires_at": c.ExpiresAt}))
		return err
	})
	return Issued{Text: text, Kind: codes.Presentation, ExpiresAt: c.ExpiresAt}, useCode, err
}

// UseCodeHash is what is stored of a use code.
func UseCodeHash(useCode string) []byte {
	h := signing.SM3([]byte("suishen-use-code-v1:" + useCode))
	return h[:]
}

// HolderOf maps a verified code's pseudonymous subject back to the holder.
func (s *Service) HolderOf(ctx context.Context, subject []byte) (store.Holder, error) {
	ref, err := codes.OpenSubject(s.SubjectKey, subject)
	if err != nil {
		return store.Holder{}, err
	}
	if ref > 1<<62 {
		return store.Holder{}, store.ErrNotFound
	}
	return s.Store.GetHolderByRef(ctx, int64(ref))
}
