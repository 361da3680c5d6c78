package issuance

import (
	"context"
	"errors"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Owned returns a certificate issued by dept; another department's (or a
// missing) certificate is store.ErrNotFound, so existence does not leak.
func (s *Service) Owned(ctx context.Context, q store.Queries, dept store.Department, id string) (store.Certificate, error) {
	c, err := q.GetCertificate(ctx, id)
	if err != nil {
		return c, err
	}
	if c.IssuerUSCC != dept.USCC {
		return store.Certificate{}, store.ErrNotFound
	}
	return c, nil
}

// Effective is the status a client sees: the stored one, or expired.
func (s *Service) Effective(c store.Certificate) issuer.Status {
	return issuer.EffectiveStatus(issuer.Status(c.Status), c.ValidUntil, s.now())
}

// Change applies suspend, resume, revoke or cancel to a certificate dept
// issued, with its audit entry, in one transaction.
func (s *Service) Change(ctx context.Context, dept store.Department, id string, a issuer.Action, reason string, actor Actor) (store.Certificate, error) {
	var out store.Certificate
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		c, err := s.Owned(ctx, q, dept, id)
		if err != nil {
			return err
		}
		to, err := issuer.Transition(s.Effective(c), a)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := q.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: id, From: c.Status, To: string(to), Reason: reason, At: now}); err != nil {
			return err
		}
		if err := q.AddBenefitEvents(ctx, []store.BenefitEvent{s.event(c)}); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor.Actor, "certificate."+string(a), "certificate", id, actor.RequestID,
			map[string]any{"from": c.Status, "to": to, "reason": reason})); err != nil {
			return err
		}
		c.Status, c.StatusReason, c.UpdatedAt = string(to), reason, now
		out = c
		return nil
	})
	if err == nil {
		s.changed()
		s.observe(string(a), out.TypeCode)
	}
	return out, err
}

// Renewal changes what a new version carries; nil members keep the
// predecessor's values.
type Renewal struct {
	ValidFrom  *time.Time
	ValidUntil *time.Time
	LongTerm   *bool
	Fields     map[string]any // replaces face fields named here
	Reason     string
}

// Renew issues the next version of a certificate dept issued (换发/变更): the
// same type, issuer, serial and holder, version+1, a new signature, linked
// to its predecessor, which becomes superseded.
func (s *Service) Renew(ctx context.Context, dept store.Department, id string, r Renewal, actor Actor) (Prepared, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.renewOnce(ctx, dept, id, r, actor)
		if errors.Is(err, keyring.ErrKeyNotActive) && attempt == 0 {
			continue // the key changed between signing and storing: sign again
		}
		return p, err
	}
}

func (s *Service) renewOnce(ctx context.Context, dept store.Department, id string, r Renewal, actor Actor) (Prepared, error) {
	old, err := s.Owned(ctx, s.Store, dept, id)
	if err != nil {
		return Prepared{}, err
	}
	if _, err := issuer.Transition(s.Effective(old), issuer.ActionRenew); err != nil {
		return Prepared{}, err
	}
	var prev issuer.Document
	if err := jsonUnmarshal(DocumentOf(old), &prev); err != nil {
		return Prepared{}, err
	}
	req, err := requestFrom(prev, old)
	if err != nil {
		return Prepared{}, err
	}
	if r.ValidFrom != nil {
		req.ValidFrom = *r.ValidFrom
	}
	if r.LongTerm != nil {
		req.LongTerm = *r.LongTerm
		if req.LongTerm {
			req.ValidUntil = nil
		}
	}
	if r.ValidUntil != nil {
		req.ValidUntil = r.ValidUntil
	}
	for k, v := range r.Fields {
		req.Fields[k] = v
	}
	t, err := s.authorise(ctx, dept, old.TypeCode)
	if err != nil {
		return Prepared{}, err
	}
	now := s.now()
	if errs := issuer.ValidateRequest(t, req, now); len(errs) > 0 {
		return Prepared{}, &InvalidError{Fields: errs}
	}
	if _, err := s.Keys.ConfirmedSigner(ctx, store.RoleDepartment, dept.USCC); err != nil {
		return Prepared{}, err
	}
	n, err := s.Store.NextCertificateNumbers(ctx, 1)
	if err != nil {
		return Prepared{}, err
	}
	k, err := s.takeSlots(ctx, t.Code, 1)
	if err != nil {
		return Prepared{}, err
	}
	p, err := s.build(ctx, t, dept, req, n, k, now, 0, &old)
	if err != nil {
		return Prepared{}, err
	}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := s.Keys.Confirm(ctx, q, p.Record.KeyID); err != nil { // fail closed: see Save
			return err
		}
		at := now.UTC().Truncate(time.Microsecond)
		if err := q.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: old.ID, From: old.Status,
			To: string(issuer.StatusSuperseded), Reason: r.Reason, SuccessorID: p.Record.ID, At: at}); err != nil {
			return err
		}
		if err := q.IssueCertificate(ctx, p.Record, s.event(p.Record)); err != nil {
			return err
		}
		_, err := q.AppendAudit(ctx, audit.New(at, actor.Actor, "certificate.renew", "certificate", p.Record.ID, actor.RequestID,
			map[string]any{"predecessor": old.ID, "version": p.Record.Version, "reason": r.Reason, "key_id": p.Record.KeyID}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return Prepared{}, err
	}
	if err == nil {
		s.changed()
	}
	return p, err
}

// requestFrom rebuilds the issuance request a document was made from.
func requestFrom(d issuer.Document, c store.Certificate) (issuer.IssueRequest, error) {
	if len(d.Holders) == 0 {
		return issuer.IssueRequest{}, errors.New("issuance: stored document has no holder")
	}
	from, err := issuer.ParseDate(d.ValidFrom)
	if err != nil {
		return issuer.IssueRequest{}, err
	}
	req := issuer.IssueRequest{
		TypeCode: d.TypeCode, Number: d.Number, ValidFrom: from, LongTerm: d.LongTerm, AreaCode: d.AreaCode,
		Holder: issuer.Holder{Kind: c.HolderKind, Name: d.Holders[0].Name, IDType: d.Holders[0].IDType, IDNumber: d.Holders[0].IDNumber},
		Fields: map[string]any{},
	}
	if d.ValidUntil != nil {
		u, err := issuer.ParseDate(*d.ValidUntil)
		if err != nil {
			return req, err
		}
		req.ValidUntil = &u
	}
	for k, v := range d.Fields {
		req.Fields[k] = v
	}
	return req, nil
}

// changed tells the publisher (the changed list is re-signed when the
// bundle is). Other nodes notice through the lists' updated_at.
func (s *Service) changed() {
	if s.OnStatusChange != nil {
		s.OnStatusChange()
	}
}

// DocumentOf returns a stored certificate's GB/T 36903 document: the payload
// of its JWS, exactly as signed.
func DocumentOf(c store.Certificate) []byte {
	_, payload, err := signing.ParseJWS(c.JWS)
	if err != nil {
		return nil
	}
	return payload
}
