// Package issuance runs the electronic certificate (电子证照) workflows on
// top of storage: the catalogue, issuing one certificate or a batch, the
// lifecycle (suspend, resume, revoke, cancel, renew), holder and issuer
// views, and the signed status lists. The rules themselves — schemas,
// identifiers, documents, transitions, the status-list format — live in
// package issuer; this package adds numbering, signing with the department's
// key, storage, and the audit entry that goes with every change.
//
// The HTTP API and `suishen import` both call it, so a certificate issued
// either way is the same.
package issuance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Keys gives the signer of a role (department keys by USCC) and confirms,
// failing closed, that a key is still active (keyring.Ring).
type Keys interface {
	Signer(ctx context.Context, role store.KeyRole, uscc string) (signing.Signer, error)
	// ConfirmedSigner is Signer confirmed against the database.
	ConfirmedSigner(ctx context.Context, role store.KeyRole, uscc string) (signing.Signer, error)
	// Confirm fails (keyring.ErrKeyNotActive) unless kid is active in q.
	Confirm(ctx context.Context, q store.Queries, kid string) error
}

// Errors callers map to API problems.
var (
	ErrUnknownType  = errors.New("issuance: unknown certificate type")
	ErrNotAuthorsed = errors.New("issuance: the department is not authorised for this certificate type")
	ErrNotIssuer    = errors.New("issuance: not issued by this department")
)

// InvalidError lists the rejected fields of a request.
type InvalidError struct{ Fields []issuer.FieldError }

func (e *InvalidError) Error() string {
	if len(e.Fields) == 0 {
		return "issuance: invalid request"
	}
	return "issuance: invalid request: " + e.Fields[0].String()
}

// Service is the issuance workflow of one node.
type Service struct {
	Store    store.Store
	Keys     Keys
	Subjects principal.Subjects
	Now      func() time.Time
	// ShuffleKey permutes status-list slots so that list positions do not
	// reveal issuance order (at least 16 bytes; derived from the master key).
	ShuffleKey []byte
	// OnStatusChange is called after a committed status change (e.g. to
	// re-sign the trust bundle at once).
	OnStatusChange func()
	// Observe, when set, is told of every certificate issued ("issue") and
	// every lifecycle action ("suspend", "revoke", …) with its type code
	// (metrics; it must not block).
	Observe func(action, typeCode string)

	types sync.Map // code → issuer.CertificateType
	lists sync.Map // status lists this node has issued into
	// slotBlocks: type code → *slotBlock, this node's slot reservations.
	slotBlocks sync.Map
}

// placed notes that a certificate went into list; the first one of a list
// this node has not seen re-signs the trust bundle so the list is published
// at once (other nodes notice the new list within a second).
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

// --- catalogue ---

// Seed stores the seed catalogue. A seeded type already present takes this
// release's spec when it differs (e.g. fields newly marked sensitive); an
// administrator's type is left alone.
func (s *Service) Seed(ctx context.Context) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	for _, t := range issuer.SeedCatalogue() {
		spec, err := json.Marshal(t)
		if err != nil {
			return err
		}
		err = s.Store.InTx(ctx, func(q store.Queries) error {
			return q.CreateCertificateType(ctx, store.CertificateType{Code: t.Code, Name: t.Name, HolderKind: t.HolderKind,
				Spec: spec, Seeded: true, CreatedAt: now})
		})
		if errors.Is(err, store.ErrAlreadyExists) {
			err = s.refreshSeeded(ctx, t.Code, spec)
		}
		if err != nil {
			return fmt.Errorf("issuance: seed %s: %w", t.Code, err)
		}
	}
	return nil
}

// AddType validates and stores an administrator's catalogue entry.
func (s *Service) AddType(ctx context.Context, q store.Queries, t issuer.CertificateType, actor Actor) error {
	if errs := issuer.ValidateType(t); len(errs) > 0 {
		return &InvalidError{Fields: errs}
	}
	spec, err := json.Marshal(t)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := q.CreateCertificateType(ctx, store.CertificateType{Code: t.Code, Name: t.Name, HolderKind: t.HolderKind, Spec: spec, CreatedAt: now}); err != nil {
		return err
	}
	_, err = q.AppendAudit(ctx, audit.New(now, actor.Actor, "certificate_type.create", "certificate_type", t.Code, actor.RequestID,
		map[string]any{"name": t.Name, "holder_kind": t.HolderKind}))
	return err
}

// Type returns a catalogue entry (cached: entries never change once stored).
func (s *Service) Type(ctx context.Context, code string) (issuer.CertificateType, error) {
	if t, ok := s.types.Load(code); ok {
		return t.(issuer.CertificateType), nil
	}
	rec, err := s.Store.GetCertificateType(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return issuer.CertificateType{}, ErrUnknownType
	}
	if err != nil {
		return issuer.CertificateType{}, err
	}
	var t issuer.CertificateType
	if err := json.Unmarshal(rec.Spec, &t); err != nil {
		return t, fmt.Errorf("issuance: stored type %s: %w", code, err)
	}
	s.types.Store(code, t)
	return t, nil
}

// --- issuing ---

// Prepared is a signed certificate ready to be stored.
type Prepared struct {
	Record store.Certificate
	Doc    issuer.Document
}

// SlotBlock is how many status-list slots of a certificate type a node
// reserves at a time (store.NextStatusSlots): the counter row is touched
// once a block, and a block cut short by a restart only leaves a gap.
const SlotBlock = 1024

// slotBlock is a node's current reservation of one type's slots.
type slotBlock struct {
	mu        sync.Mutex
	next, end int64
}

// takeSlots takes n consecutive status-list slots of certificate type
// typeCode and returns the first. Certificates are partitioned by type:
// each type fills lists of its own (ListID), so a verifier of one type
// fetches only that type's lists.
func (s *Service) takeSlots(ctx context.Context, typeCode string, n int) (int64, error) {
	v, _ := s.slotBlocks.LoadOrStore(typeCode, &slotBlock{})
	b := v.(*slotBlock)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.end-b.next < int64(n) {
		size := max(n, SlotBlock)
		first, err := s.Store.NextStatusSlots(ctx, "c"+typeCode, size)
		if err != nil {
			return 0, err
		}
		b.next, b.end = first, first+int64(size)
	}
	first := b.next
	b.next += int64(n)
	return first, nil
}

// slot places the k-th slot of type typeCode in a status list: list
// "c<type code>-<k / 2^20>".
func (s *Service) slot(typeCode string, k int64) (list string, index int, err error) {
	return issuer.ListSlot(s.ShuffleKey, "c"+typeCode, k)
}

// Prepare validates a request for department dept, takes a number, builds
// and signs the document — everything but storing it. It holds no
// transaction: signing is the expensive part and must not keep one open.
func (s *Service) Prepare(ctx context.Context, dept store.Department, req issuer.IssueRequest) (Prepared, error) {
	t, err := s.authorise(ctx, dept, req.TypeCode)
	if err != nil {
		return Prepared{}, err
	}
	now := s.now()
	if errs := issuer.ValidateRequest(t, req, now); len(errs) > 0 {
		return Prepared{}, &InvalidError{Fields: errs}
	}
	// No confirmation here: Save confirms the key in its transaction, and
	// a caller that gets keyring.ErrKeyNotActive prepares again (one read
	// per certificate, not two; see docs/performance.md).
	n, err := s.Store.NextCertificateNumbers(ctx, 1)
	if err != nil {
		return Prepared{}, err
	}
	k, err := s.takeSlots(ctx, t.Code, 1)
	if err != nil {
		return Prepared{}, err
	}
	return s.build(ctx, t, dept, req, n, k, now, 1, nil)
}

func (s *Service) authorise(ctx context.Context, dept store.Department, typeCode string) (issuer.CertificateType, error) {
	t, err := s.Type(ctx, typeCode)
	if err != nil {
		return t, err
	}
	for _, c := range dept.CertificateTypes {
		if c == typeCode {
			return t, nil
		}
	}
	return t, ErrNotAuthorsed
}

// build assigns the identifier (a new serial from n, or the predecessor's
// serial with the next version), builds and signs the document.
func (s *Service) build(ctx context.Context, t issuer.CertificateType, dept store.Department, req issuer.IssueRequest,
	n, slot int64, now time.Time, version int, pred *store.Certificate) (Prepared, error) {
	var id ident.CertificateID
	var err error
	predID := ""
	if pred == nil {
		var serial string
		if serial, err = s.opaqueSerial(now.In(cst).Year(), n); err == nil {
			id, err = ident.NewCertificateID(t.Code, dept.USCC, serial, version)
		}
	} else {
		var prev ident.CertificateID
		if prev, err = ident.ParseCertificateID(pred.ID); err == nil {
			id, err = issuer.NextVersion(prev)
		}
		predID = pred.ID
	}
	if err != nil {
		return Prepared{}, fmt.Errorf("issuance: identifier: %w", err)
	}
	list, index, err := s.slot(t.Code, slot)
	if err != nil {
		return Prepared{}, err
	}
	signer, err := s.Keys.Signer(ctx, store.RoleDepartment, dept.USCC)
	if err != nil {
		return Prepared{}, fmt.Errorf("issuance: department key: %w", err)
	}
	doc := issuer.BuildDocument(t, dept.Name, dept.USCC, id, req, now, predID, list, index)
	jws, err := issuer.SignDocument(signer, doc)
	if err != nil {
		return Prepared{}, err
	}
	var until *time.Time
	if !req.LongTerm && req.ValidUntil != nil {
		u := req.ValidUntil.UTC()
		until = &u
	}
	issued := now.UTC().Truncate(time.Microsecond)
	rec := store.Certificate{
		ID: id.String(), TypeCode: t.Code, IssuerUSCC: dept.USCC, Serial: id.Serial, Version: id.VersionNumber(),
		Number: req.Number, HolderSubject: s.Subjects.Of(req.Holder.Kind, req.Holder.IDNumber), HolderKind: req.Holder.Kind,
		Status: string(issuer.StatusValid), ValidFrom: req.ValidFrom.UTC(), ValidUntil: until,
		JWS: jws, KeyID: signer.KeyID(), PredecessorID: predID,
		StatusList: list, StatusIndex: int64(index), IssuedAt: issued, UpdatedAt: issued,
	}
	return Prepared{Record: rec, Doc: doc}, nil
}

var cst = time.FixedZone("CST", 8*3600)

// Save stores a prepared certificate and its audit entry in q's transaction.
// A certificate with the same type, issuer and number already issued gives
// store.ErrAlreadyExists.
//
// It fails closed with keyring.ErrKeyNotActive when the signing key was
// retired or compromised since the document was signed (on any node):
// prepare again, the ring has reloaded.
func (s *Service) Save(ctx context.Context, q store.Queries, p Prepared, actor Actor) error {
	if err := s.Keys.Confirm(ctx, q, p.Record.KeyID); err != nil {
		return err
	}
	if err := q.IssueCertificate(ctx, p.Record, s.event(p.Record)); err != nil {
		return err
	}
	_, err := q.AppendAudit(ctx, audit.New(s.now(), actor.Actor, "certificate.issue", "certificate", p.Record.ID, actor.RequestID,
		map[string]any{"type_code": p.Record.TypeCode, "issuer_uscc": p.Record.IssuerUSCC, "version": p.Record.Version, "key_id": p.Record.KeyID}))
	if err == nil {
		// Called inside the caller's transaction: a rollback only costs an
		// early re-signing of the bundle (and a count too many).
		s.placed(p.Record.StatusList)
		s.observe("issue", p.Record.TypeCode)
	}
	return err
}

// event is the outbox row of a change to c (免申即享 re-evaluates its
// holder after the change commits; see package matching).
func (s *Service) event(c store.Certificate) store.BenefitEvent {
	return store.BenefitEvent{HolderSubject: c.HolderSubject, TypeCode: c.TypeCode, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
}

func (s *Service) observe(action, typeCode string) {
	if s.Observe != nil {
		s.Observe(action, typeCode)
	}
}
