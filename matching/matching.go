// Package matching runs 免申即享 on storage: it stores policies, finds the
// holders who qualify (a full match when a policy is created or on demand,
// and incrementally whenever one of a holder's certificates is issued,
// renewed or changes status), keeps their entitlements, and records every
// evaluation that read a holder's certificates as a usage record the holder
// sees (用证记录), with the policy as purpose.
//
// It reads only the certificate types a policy names, only valid ones, and
// hands the policy only the fields its criteria name.
package matching

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Errors.
var (
	ErrInvalid  = errors.New("matching: the policy is invalid")
	ErrExists   = errors.New("matching: a policy with this code exists")
	ErrNotOwner = errors.New("matching: the policy belongs to another department")
	ErrUnknown  = errors.New("matching: no such policy")
	ErrNotYours = errors.New("matching: no such entitlement of this holder")
)

// ChannelBenefit is the usage-record channel of matching.
const ChannelBenefit = "benefit"

// InvalidError carries the field errors of a refused policy.
type InvalidError struct{ Fields []issuer.FieldError }

func (e *InvalidError) Error() string { return ErrInvalid.Error() }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Service is matching on one store.
type Service struct {
	Store store.Store
	// Type finds a catalogue entry (issuance.Service.Type).
	Type func(ctx context.Context, code string) (issuer.CertificateType, error)
	Now  func() time.Time
	// Batch is how many holders a full match evaluates per transaction.
	Batch int

	mu      sync.Mutex
	index   map[string][]*policy // certificate type → policies reading it
	loaded  time.Time
	typesMu sync.Mutex
	types   map[string]issuer.CertificateType
}

type policy struct {
	rec store.PolicyRecord
	c   *benefits.Compiled
	org string // the owning department's registered name
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// typeOf adapts the catalogue for benefits.Compile (types are cached: a
// catalogue entry never changes its schema under a code).
func (s *Service) typeOf(ctx context.Context) benefits.TypeOf {
	return func(code string) (issuer.CertificateType, bool) {
		s.typesMu.Lock()
		t, ok := s.types[code]
		s.typesMu.Unlock()
		if ok {
			return t, true
		}
		t, err := s.Type(ctx, code)
		if err != nil {
			return issuer.CertificateType{}, false
		}
		s.typesMu.Lock()
		if s.types == nil {
			s.types = map[string]issuer.CertificateType{}
		}
		s.types[code] = t
		s.typesMu.Unlock()
		return t, true
	}
}

// Compile validates a policy against the catalogue.
func (s *Service) Compile(ctx context.Context, p benefits.Policy) (*benefits.Compiled, error) {
	c, errs := benefits.Compile(p, s.typeOf(ctx))
	if errs != nil {
		return nil, &InvalidError{Fields: errs}
	}
	return c, nil
}

// Describe states a policy's criteria in words.
func (s *Service) Describe(ctx context.Context, c *benefits.Compiled) []string {
	return c.Describe(s.typeOf(ctx))
}

// Seed stores the example policies that are not there yet.
func (s *Service) Seed(ctx context.Context) error {
	for _, sp := range benefits.Seed() {
		if _, err := s.Store.GetPolicy(ctx, sp.Policy.Code); err == nil {
			continue
		}
		if _, err := s.create(ctx, s.Store, sp.DepartmentUSCC, sp.Policy, audit.Actor{Kind: store.KindSystem, ID: "seed"}, ""); err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("seed policy %s: %w", sp.Policy.Code, err)
		}
	}
	return nil
}

// Create stores a department's policy (audited); run Match afterwards to
// find the holders who qualify today.
func (s *Service) Create(ctx context.Context, deptUSCC string, p benefits.Policy, actor audit.Actor, requestID string) (store.PolicyRecord, error) {
	var rec store.PolicyRecord
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		rec, err = s.create(ctx, q, deptUSCC, p, actor, requestID)
		return err
	})
	return rec, err
}

func (s *Service) create(ctx context.Context, q store.Queries, deptUSCC string, p benefits.Policy, actor audit.Actor, requestID string) (store.PolicyRecord, error) {
	c, err := s.Compile(ctx, p)
	if err != nil {
		return store.PolicyRecord{}, err
	}
	spec, err := json.Marshal(p)
	if err != nil {
		return store.PolicyRecord{}, err
	}
	rec := store.PolicyRecord{Code: p.Code, DepartmentUSCC: deptUSCC, Spec: spec, Types: c.Types(), CreatedAt: s.now()}
	if err := q.CreatePolicy(ctx, rec); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.PolicyRecord{}, ErrExists
		}
		return store.PolicyRecord{}, err
	}
	if _, err := q.AppendAudit(ctx, audit.New(s.now(), actor, "policy.create", "policy", p.Code, requestID,
		map[string]any{"department_uscc": deptUSCC, "types": rec.Types, "criteria": len(p.Criteria)})); err != nil {
		return store.PolicyRecord{}, err
	}
	s.invalidate()
	return rec, nil
}

// Policy loads and compiles a stored policy.
func (s *Service) Policy(ctx context.Context, code string) (store.PolicyRecord, *benefits.Compiled, error) {
	rec, err := s.Store.GetPolicy(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil, ErrUnknown
	}
	if err != nil {
		return rec, nil, err
	}
	var p benefits.Policy
	if err := json.Unmarshal(rec.Spec, &p); err != nil {
		return rec, nil, fmt.Errorf("matching: stored policy %s: %w", code, err)
	}
	c, err := s.Compile(ctx, p)
	return rec, c, err
}

func (s *Service) invalidate() {
	s.mu.Lock()
	s.index = nil
	s.mu.Unlock()
}

// policies returns the policies reading typeCode, from an index refreshed
// every few seconds (another node may have added a policy).
func (s *Service) policies(ctx context.Context, typeCode string) ([]*policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index == nil || time.Since(s.loaded) > 5*time.Second {
		idx := map[string][]*policy{}
		after := ""
		for {
			page, err := s.Store.ListPolicies(ctx, after, 500)
			if err != nil {
				return nil, err
			}
			for _, rec := range page {
				var p benefits.Policy
				if json.Unmarshal(rec.Spec, &p) != nil {
					continue
				}
				c, errs := benefits.Compile(p, s.typeOf(ctx))
				if errs != nil {
					continue
				}
				pl := &policy{rec: rec, c: c, org: s.orgName(ctx, rec.DepartmentUSCC)}
				for _, t := range rec.Types {
					idx[t] = append(idx[t], pl)
				}
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].Code
		}
		s.index, s.loaded = idx, time.Now()
	}
	return s.index[typeCode], nil
}

func (s *Service) orgName(ctx context.Context, uscc string) string {
	if d, err := s.Store.GetDepartmentByUSCC(ctx, uscc); err == nil {
		return d.Name
	}
	return "政策发布部门"
}

// Summary is what a full match did.
type Summary struct {
	Read      int           `json:"holders_read" doc:"Holders whose certificates were read." example:"1200"`              // holders whose certificates were read
	Eligible  int           `json:"eligible" doc:"Of them, how many qualify." example:"87"`                               // of them, qualifying
	Withdrawn int           `json:"withdrawn" doc:"Offers withdrawn because the holder no longer qualifies." example:"2"` // offers withdrawn because the holder no longer qualifies
	Elapsed   time.Duration `json:"-"`
}

// Match evaluates every holder who has a valid certificate of the policy's
// first type (every qualifying holder has one), in batches, and withdraws
// the offers it no longer finds.
func (s *Service) Match(ctx context.Context, code string) (Summary, error) {
	start := time.Now()
	rec, c, err := s.Policy(ctx, code)
	if err != nil {
		return Summary{}, err
	}
	pl := &policy{rec: rec, c: c, org: s.orgName(ctx, rec.DepartmentUSCC)}
	runAt := s.now()
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	var sum Summary
	driver := c.Types()[0]
	size := batch * 2
	afterHolder, afterID := "", ""
	for {
		page, err := s.Store.ValidCertificatesByType(ctx, driver, afterHolder, afterID, size)
		if err != nil {
			return sum, err
		}
		if len(page) == 0 {
			break
		}
		full := len(page) == size
		// Whole holders only: a full page may end inside its last holder's
		// certificates, so that holder waits for the next page (unless the
		// page holds nobody else: then it is read whole below).
		if full {
			last := page[len(page)-1].HolderSubject
			cut := len(page)
			for cut > 0 && page[cut-1].HolderSubject == last {
				cut--
			}
			if cut > 0 {
				page = page[:cut]
			}
		}
		var subjects []string
		for _, mc := range page {
			if len(subjects) == 0 || subjects[len(subjects)-1] != mc.HolderSubject {
				subjects = append(subjects, mc.HolderSubject)
			}
		}
		// The next page starts at the next holder.
		afterHolder, afterID = subjects[len(subjects)-1], "\U0010FFFF"
		var known []store.MatchCertificate
		if len(c.Types()) == 1 && (!full || len(subjects) > 1) {
			known = page // a one-type policy needs nothing but this page
		}
		n, e, w, err := s.evaluate(ctx, pl, subjects, known, runAt, true)
		if err != nil {
			return sum, err
		}
		sum.Read += n
		sum.Eligible += e
		sum.Withdrawn += w
		if !full {
			break
		}
	}
	w, err := s.Store.WithdrawStale(ctx, code, runAt, s.now())
	if err != nil {
		return sum, err
	}
	sum.Withdrawn += int(w)
	if err := s.Store.SetPolicyMatched(ctx, code, runAt); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// OnCertificate re-evaluates the holder under every policy that reads
// typeCode: called after a certificate of the holder was issued, renewed or
// changed status (committed).
func (s *Service) OnCertificate(ctx context.Context, holderSubject, typeCode string) error {
	pls, err := s.policies(ctx, typeCode)
	if err != nil {
		return err
	}
	for _, pl := range pls {
		if _, _, _, err := s.evaluate(ctx, pl, []string{holderSubject}, nil, s.now(), false); err != nil {
			return err
		}
	}
	return nil
}

// evaluate reads the holders' valid certificates of the policy's types,
// decides, offers or withdraws, and records one usage record per holder —
// all in one transaction.
// In a full match (full) holders found not eligible are not withdrawn one
// by one: the match withdraws every offer it did not renew at its end.
// known, when not nil, are all the holders' certificates the policy reads
// (so they need not be read again).
func (s *Service) evaluate(ctx context.Context, pl *policy, subjects []string, known []store.MatchCertificate, runAt time.Time, full bool) (read, eligible, withdrawn int, err error) {
	if !pl.c.Active(runAt) {
		return 0, 0, 0, nil
	}
	certs := known
	if certs == nil {
		if certs, err = s.Store.ValidCertificatesOf(ctx, subjects, pl.rec.Types); err != nil {
			return 0, 0, 0, err
		}
	}
	byHolder := map[string][]store.MatchCertificate{}
	for _, mc := range certs {
		byHolder[mc.HolderSubject] = append(byHolder[mc.HolderSubject], mc)
	}
	type verdict struct {
		subject string
		d       benefits.Decision
		name    string
		first   string
	}
	var verdicts []verdict
	for _, sub := range subjects {
		mcs := byHolder[sub]
		in := make([]benefits.Certificate, 0, len(mcs))
		name := ""
		for _, mc := range mcs {
			bc, holderName, err := s.decode(pl.c, mc)
			if err != nil {
				continue // a document we cannot read never qualifies anyone
			}
			if name == "" {
				name = holderName
			}
			in = append(in, bc)
		}
		v := verdict{subject: sub, d: pl.c.Evaluate(in, runAt), name: ident.MaskName(name)}
		if len(mcs) > 0 {
			v.first = mcs[0].ID
		}
		verdicts = append(verdicts, v)
	}
	sort.Slice(verdicts, func(i, j int) bool { return verdicts[i].subject < verdicts[j].subject })
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		read, eligible, withdrawn = 0, 0, 0
		records := make([]store.UsageRecord, 0, len(verdicts))
		withdraw := func(subject string) error {
			if full {
				return nil
			}
			w, err := q.WithdrawEntitlement(ctx, pl.rec.Code, subject, runAt)
			if w {
				withdrawn++
			}
			return err
		}
		for _, v := range verdicts {
			if len(byHolder[v.subject]) == 0 {
				// Nothing of the holder was read: no record; an offer the
				// holder no longer has any certificate for is withdrawn.
				if err := withdraw(v.subject); err != nil {
					return err
				}
				continue
			}
			read++
			result, certID := "not_eligible", v.first
			if v.d.Eligible {
				eligible++
				result, certID = "eligible", v.d.Evidence[0].CertificateID
				ev, _ := json.Marshal(v.d.Evidence)
				if err := q.OfferEntitlement(ctx, store.Entitlement{ID: uuid.Must(uuid.NewV7()).String(), PolicyCode: pl.rec.Code,
					HolderSubject: v.subject, MaskedName: v.name, Evidence: ev, UpdatedAt: runAt, EvaluatedAt: runAt}); err != nil {
					return err
				}
			} else if err := withdraw(v.subject); err != nil {
				return err
			}
			records = append(records, store.UsageRecord{ID: uuid.Must(uuid.NewV7()).String(), HolderSubject: v.subject, At: runAt,
				Org: pl.org, OrgUSCC: pl.rec.DepartmentUSCC, ItemCode: pl.rec.Code, ItemName: pl.c.Policy.Name,
				Purpose: "免申即享：" + pl.c.Policy.Name, CertificateID: certID, Channel: ChannelBenefit, Result: result})
		}
		return q.AddUsageRecords(ctx, records)
	})
	return read, eligible, withdrawn, err
}

// document is the part of a GB/T 36903 document matching reads.
type document struct {
	AreaCode string `json:"area_code"`
	Holders  []struct {
		Name string `json:"name"`
	} `json:"holders"`
	Fields map[string]any `json:"fields"`
}

// decode turns a stored certificate into what the policy may see: its
// type, area, validity and only the face fields the policy reads.
func (s *Service) decode(c *benefits.Compiled, mc store.MatchCertificate) (benefits.Certificate, string, error) {
	_, payload, err := signing.ParseJWS(mc.JWS)
	if err != nil {
		return benefits.Certificate{}, "", err
	}
	var d document
	if err := json.Unmarshal(payload, &d); err != nil {
		return benefits.Certificate{}, "", err
	}
	fields := map[string]any{}
	for _, f := range c.Fields(mc.TypeCode) {
		if v, ok := d.Fields[f]; ok {
			fields[f] = v
		}
	}
	name := ""
	if len(d.Holders) > 0 {
		name = d.Holders[0].Name
	}
	return benefits.Certificate{ID: mc.ID, TypeCode: mc.TypeCode, AreaCode: d.AreaCode, ValidFrom: mc.ValidFrom, ValidUntil: mc.ValidUntil, Fields: fields}, name, nil
}

// Decline is the holder declining an entitlement (audited by the caller).
func (s *Service) Decline(ctx context.Context, holderSubject, id string) (store.Entitlement, error) {
	if err := s.Store.DeclineEntitlement(ctx, id, holderSubject, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Entitlement{}, ErrNotYours
		}
		return store.Entitlement{}, err
	}
	return s.Store.GetEntitlement(ctx, id)
}
