// Package casework runs 两个免于提交 ("two exemptions from submission") on top
// of storage: a case system opens a case for a service item (政务服务事项);
// Suishen finds the applicant's certificates of the types the item lists,
// verifies each (signature, key, status, validity — with the same verifier
// an offline scanner uses), lets package cases decide which materials are
// exempted, pre-fills the form and runs the pre-checks, records one usage
// record per certificate pulled, and keeps the counts the statistics need.
package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// Errors.
var (
	ErrUnknownItem = errors.New("casework: unknown service item")
)

// InvalidError lists the rejected fields of a service item.
type InvalidError struct{ Fields []cases.FieldError }

func (e *InvalidError) Error() string { return "casework: invalid service item" }

// Service runs cases.
type Service struct {
	Store    store.Store
	Issuance *issuance.Service
	// Verifier returns a verifier over the node's current trust bundle.
	Verifier func(ctx context.Context) (*verifier.Verifier, error)
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Seed stores the seed service items. A seeded item already present is
// brought up to this release's definition (its form, relations and pull
// modes may have changed); an administrator's item is never touched.
func (s *Service) Seed(ctx context.Context) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	for _, it := range cases.SeedItems() {
		spec, err := json.Marshal(it)
		if err != nil {
			return err
		}
		rec := store.ServiceItem{Code: it.Code, Name: it.Name, Spec: spec, Seeded: true, CreatedAt: now}
		err = s.Store.CreateServiceItem(ctx, rec)
		if errors.Is(err, store.ErrAlreadyExists) {
			var old store.ServiceItem
			if old, err = s.Store.GetServiceItem(ctx, it.Code); err == nil && old.Seeded && string(old.Spec) != string(spec) {
				_, err = s.Store.ReplaceSeededServiceItem(ctx, rec)
			}
		}
		if err != nil {
			return fmt.Errorf("casework: seed %s: %w", it.Code, err)
		}
	}
	return nil
}

func (s *Service) typeOf(ctx context.Context) func(string) (issuer.CertificateType, bool) {
	return func(code string) (issuer.CertificateType, bool) {
		t, err := s.Issuance.Type(ctx, code)
		return t, err == nil
	}
}

// AddItem validates and stores an administrator's service item.
func (s *Service) AddItem(ctx context.Context, q store.Queries, it cases.ServiceItem, actor audit.Actor, requestID string) error {
	if errs := cases.ValidateItem(it, s.typeOf(ctx)); len(errs) > 0 {
		return &InvalidError{Fields: errs}
	}
	spec, err := json.Marshal(it)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := q.CreateServiceItem(ctx, store.ServiceItem{Code: it.Code, Name: it.Name, Spec: spec, CreatedAt: now}); err != nil {
		return err
	}
	_, err = q.AppendAudit(ctx, audit.New(now, actor, "service_item.create", "service_item", it.Code, requestID, map[string]any{"name": it.Name}))
	return err
}

// Item returns a stored service item.
func (s *Service) Item(ctx context.Context, code string) (cases.ServiceItem, error) {
	rec, err := s.Store.GetServiceItem(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return cases.ServiceItem{}, ErrUnknownItem
	}
	if err != nil {
		return cases.ServiceItem{}, err
	}
	var it cases.ServiceItem
	return it, json.Unmarshal(rec.Spec, &it)
}

// Request opens a case. The caller has established who the applicant and
// the related parties are (from their verified codes, or for a minor from
// LinkMinor) and that it may handle the item (MayHandle).
type Request struct {
	ItemCode         string
	ApplicantSubject string
	ApplicantKind    string
	// Related are other holders whose certificates the case may use (the
	// newborn in a birth registration, the seller's spouse): only of the
	// types their relation declares; their certificates are candidates with
	// HolderIsApplicant false, and each pull is recorded for the
	// certificate's own holder.
	Related []Party
	// UseCodes are hashes of the applicant's one-time use codes (用证码)
	// for use-code materials; each is checked before anything is spent, and
	// spent in the case's transaction.
	UseCodes     [][]byte
	Org, OrgUSCC string
	Operator     string
	BusinessCode string
	Purpose      string
	Caller       string // principal ref
	AppID        string // the calling app, for grants ("" for a department)
	Actor        audit.Actor
	RequestID    string

	// Audience is what the caller may receive of the pulled data (an app's
	// use list; a department's case officers); OrgUnit the caller's own
	// words for its sub-unit. Org and OrgUSCC come from its registration.
	Audience disclosure.Audience
	OrgUnit  string

	// HandedOver are certificates the applicant handed over as their JWS
	// (a peer region's, 区域互认), verified by the caller: candidates the
	// case may use without a pull decision (the applicant gave them).
	HandedOver []cases.Candidate
}

// Opened is a case with its evaluation.
type Opened struct {
	Case   store.Case
	Result cases.Result
}

// Open finds, verifies and attaches the applicant's certificates, evaluates
// the item, records the pulls, and stores the case — in one transaction.
func (s *Service) Open(ctx context.Context, r Request) (Opened, error) {
	it, err := s.Item(ctx, r.ItemCode)
	if err != nil {
		return Opened{}, err
	}
	wanted := map[string]bool{}
	for _, m := range it.Materials {
		for _, t := range m.CertificateTypes {
			wanted[t] = true
		}
	}
	for _, p := range it.Prefill {
		wanted[p.CertificateType] = true
	}
	for _, p := range it.Prechecks {
		if p.CertificateType != "" {
			wanted[p.CertificateType] = true
		}
	}
	v, err := s.Verifier(ctx)
	if err != nil {
		return Opened{}, err
	}
	now := s.now()
	useCodes, err := s.checkUseCodes(ctx, it, r, now)
	if err != nil {
		return Opened{}, err
	}
	var cands []cases.Candidate
	holderOf := map[string]string{} // certificate ID → holder subject
	if err := s.candidates(ctx, v, it, r, r.ApplicantSubject, wanted, useCodes, now, &cands, holderOf); err != nil {
		return Opened{}, err
	}
	for _, h := range r.HandedOver {
		if _, dup := holderOf[h.ID]; dup || !wanted[h.TypeCode] {
			continue
		}
		h.PullAllowed = true
		holderOf[h.ID] = r.ApplicantSubject
		cands = append(cands, h)
	}
	for _, p := range r.Related {
		rel, ok := it.Relation(p.Relation)
		if !ok || p.Subject == r.ApplicantSubject {
			return Opened{}, &RefusedError{Reason: ReasonRelated}
		}
		types := map[string]bool{}
		for _, t := range rel.CertificateTypes {
			types[t] = wanted[t]
		}
		if err := s.candidates(ctx, v, it, r, p.Subject, types, nil, now, &cands, holderOf); err != nil {
			return Opened{}, err
		}
	}
	res := cases.Evaluate(it, cands, now)
	s.disclose(ctx, it, &res, r.Audience)
	body, err := json.Marshal(res)
	if err != nil {
		return Opened{}, err
	}
	at := now.UTC().Truncate(time.Microsecond)
	c := store.Case{ID: uuid.Must(uuid.NewV7()).String(), ItemCode: it.Code, ApplicantSubject: r.ApplicantSubject, Caller: r.Caller,
		Org: r.Org, Operator: r.Operator, BusinessCode: r.BusinessCode, Purpose: r.Purpose, Result: body,
		Exempted: res.Exempted, Total: res.Total, PrefillFilled: res.PrefillFilled, PrefillTotal: res.PrefillTotal,
		PrecheckPassed: res.PrecheckPassed, PrecheckTotal: res.PrecheckTotal, CreatedAt: at}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateCase(ctx, c); err != nil {
			return err
		}
		// The use codes were checked above; spend them now, with the case.
		for _, h := range r.UseCodes {
			if _, err := q.RedeemUseCode(ctx, h, r.AppID, at); err != nil {
				return err
			}
		}
		// One usage record per certificate pulled, shown to its holder.
		for _, id := range res.Pulled {
			if err := q.AddUsageRecord(ctx, store.UsageRecord{ID: uuid.Must(uuid.NewV7()).String(), HolderSubject: holderOf[id], At: at,
				Org: r.Org, OrgUSCC: r.OrgUSCC, Operator: r.Operator, ItemCode: it.Code, ItemName: it.Name, BusinessCode: r.BusinessCode,
				Purpose: r.Purpose, CertificateID: id, Channel: "case", Result: "success", AppID: r.AppID, OrgUnit: r.OrgUnit}); err != nil {
				return err
			}
		}
		_, err := q.AppendAudit(ctx, audit.New(at, r.Actor, "case.open", "case", c.ID, r.RequestID,
			map[string]any{"item_code": it.Code, "exempted": res.Exempted, "total": res.Total, "pulled": res.Pulled}))
		return err
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return Opened{}, &RefusedError{Reason: ReasonUseCode, Field: "use_codes"} // spent by a concurrent request
	}
	if err != nil {
		return Opened{}, err
	}
	return Opened{Case: c, Result: res}, nil
}

// Party is a related party of a case.
type Party struct {
	Relation string // a relation code the item declares
	Subject  string
}

// RefusedError is a case refused for a Reason... code; Field names the
// request field at fault.
type RefusedError struct {
	Reason string
	Field  string
	Index  int // of the use code or related party
}

func (e *RefusedError) Error() string { return "casework: refused: " + e.Reason }

// checkUseCodes checks each use code before any is spent: it must exist,
// be unused and unexpired, belong to the applicant, and be for a
// certificate of a type a use-code material of the item lists. It returns
// the certificate IDs the codes open.
func (s *Service) checkUseCodes(ctx context.Context, it cases.ServiceItem, r Request, now time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	for i, h := range r.UseCodes {
		refused := &RefusedError{Reason: ReasonUseCode, Field: fmt.Sprintf("use_codes[%d]", i), Index: i}
		u, err := codeservice.CheckUseCode(ctx, s.Store, h, now)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return nil, refused
		}
		if err != nil {
			return nil, err
		}
		if u.HolderSubject != r.ApplicantSubject {
			return nil, refused
		}
		cert, err := s.Store.GetCertificate(ctx, u.CertificateID)
		if err != nil {
			return nil, refused
		}
		ok := false
		for _, m := range it.Materials {
			if m.Pull == cases.PullUseCode && slices.Contains(m.CertificateTypes, cert.TypeCode) {
				ok = true
			}
		}
		if !ok {
			return nil, refused
		}
		out[u.CertificateID] = true
	}
	return out, nil
}

// candidates adds the certificates of one holder, of the types the item
// lists, each verified with the offline verifier.
func (s *Service) candidates(ctx context.Context, v *verifier.Verifier, it cases.ServiceItem, r Request, subject string,
	wanted, useCodes map[string]bool, now time.Time, out *[]cases.Candidate, holderOf map[string]string) error {
	after := ""
	for {
		page, err := s.Store.ListCertificates(ctx, store.CertificateFilter{HolderSubject: subject}, after, 200)
		if err != nil {
			return err
		}
		for _, c := range page {
			// Only the types the item lists are ever looked at.
			if !wanted[c.TypeCode] {
				continue
			}
			cand := cases.Candidate{ID: c.ID, TypeCode: c.TypeCode, Status: s.Issuance.Effective(c), HolderIsApplicant: subject == r.ApplicantSubject}
			res := v.VerifyCertificate(c.JWS)
			cand.Verified = res.Result == verifier.Valid
			if !cand.Verified && len(res.Reasons) > 0 {
				cand.Reason = res.Reasons[0].Code
			}
			if err := json.Unmarshal(issuance.DocumentOf(c), &cand.Document); err != nil {
				cand.Verified, cand.Reason = false, "malformed"
			}
			cand.PullAllowed = s.pullAllowed(ctx, it, c.TypeCode, r, subject, now) || useCodes[c.ID]
			holderOf[c.ID] = subject
			*out = append(*out, cand)
		}
		if len(page) < 200 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// pullAllowed decides whether the caller may pull a certificate of typeCode
// for this item: ex officio materials always; grant materials only within
// the applicant's grant to the calling app; use-code materials never by a
// pull (the applicant presents the code instead: see checkUseCodes).
func (s *Service) pullAllowed(ctx context.Context, it cases.ServiceItem, typeCode string, r Request, subject string, now time.Time) bool {
	for _, m := range it.Materials {
		if !slices.Contains(m.CertificateTypes, typeCode) {
			continue
		}
		switch m.Pull {
		case "ex_officio":
			return true
		case "grant":
			if r.AppID == "" {
				return false
			}
			_, err := s.Store.ActiveGrant(ctx, subject, r.AppID, typeCode, now)
			return err == nil
		}
	}
	// A type only used for prefill or pre-checks follows its item's first
	// material rule above; with none, it is not pulled.
	return false
}

// Current is a stored case with the current status of every attached
// certificate (a certificate revoked after the case was opened shows so).
type Current struct {
	Case     store.Case
	Result   cases.Result
	Statuses map[string]string // certificate ID → current status
}

// Get returns a case as it stands now.
func (s *Service) Get(ctx context.Context, id string) (Current, error) {
	c, err := s.Store.GetCase(ctx, id)
	if err != nil {
		return Current{}, err
	}
	out := Current{Case: c, Statuses: map[string]string{}}
	if err := json.Unmarshal(c.Result, &out.Result); err != nil {
		return Current{}, err
	}
	for _, m := range out.Result.Materials {
		if m.CertificateID == "" {
			continue
		}
		cert, err := s.Store.GetCertificate(ctx, m.CertificateID)
		if err != nil {
			out.Statuses[m.CertificateID] = "unknown"
			continue
		}
		out.Statuses[m.CertificateID] = string(s.Issuance.Effective(cert))
	}
	return out, nil
}
