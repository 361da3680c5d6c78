package issuance

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/store"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// ItemResult is the outcome of one item of a batch.
type ItemResult struct {
	Index   int
	ID      string // the issued (or, for a repeat, the existing) certificate
	Err     error  // nil, *InvalidError, ErrUnknownType, ErrNotAuthorsed, ErrDuplicate
	Created bool
}

// ErrDuplicate: a certificate with the same type, issuer and number exists.
var ErrDuplicate = errors.New("issuance: a certificate with this number was already issued")

// Batch issues many certificates for dept: every item is validated on its
// own (a bad item does not sink the rest), the good ones are numbered in one
// reservation, signed in parallel on every core, and stored in one
// transaction with one audit entry. An item whose number was already issued
// reports ErrDuplicate with the existing ID, so re-running a file issues
// nothing twice.
//
// When the department's key is retired or compromised (on any node) between
// signing and storing, the batch is signed again once with the new key.
func (s *Service) Batch(ctx context.Context, dept store.Department, reqs []issuer.IssueRequest, actor Actor) ([]ItemResult, error) {
	for attempt := 0; ; attempt++ {
		pb, err := s.PrepareBatch(ctx, dept, reqs)
		if err != nil {
			return nil, err
		}
		err = s.SaveBatch(ctx, pb, actor)
		if errors.Is(err, keyring.ErrKeyNotActive) && attempt == 0 {
			continue
		}
		return pb.Results, err
	}
}

// PreparedBatch is a batch validated, numbered and signed, not yet stored.
type PreparedBatch struct {
	Dept     store.Department
	Results  []ItemResult
	good     []int
	prepared []Prepared
}

// PrepareBatch does all of Batch but storing: callers that stream (the
// import command) prepare the next batch while the previous one is stored.
func (s *Service) PrepareBatch(ctx context.Context, dept store.Department, reqs []issuer.IssueRequest) (*PreparedBatch, error) {
	pb := &PreparedBatch{Dept: dept, Results: make([]ItemResult, len(reqs))}
	now := s.now()
	for i, r := range reqs {
		pb.Results[i].Index = i
		t, err := s.authorise(ctx, dept, r.TypeCode)
		if err != nil {
			pb.Results[i].Err = err
			continue
		}
		if errs := issuer.ValidateRequest(t, r, now); len(errs) > 0 {
			pb.Results[i].Err = &InvalidError{Fields: errs}
			continue
		}
		pb.good = append(pb.good, i)
	}
	// Numbers the department already issued are reported, not signed again:
	// re-running an import costs a lookup per batch, not a signature per row.
	byType := map[string][]string{}
	for _, i := range pb.good {
		byType[reqs[i].TypeCode] = append(byType[reqs[i].TypeCode], reqs[i].Number)
	}
	issued := map[string]map[string]string{}
	for typ, numbers := range byType {
		m, err := s.Store.IssuedNumbers(ctx, typ, dept.USCC, numbers)
		if err != nil {
			return nil, err
		}
		issued[typ] = m
	}
	fresh := pb.good[:0]
	for _, i := range pb.good {
		if id, ok := issued[reqs[i].TypeCode][reqs[i].Number]; ok {
			pb.Results[i].Err, pb.Results[i].ID = ErrDuplicate, id
			continue
		}
		fresh = append(fresh, i)
	}
	pb.good = fresh
	if len(pb.good) == 0 {
		return pb, nil
	}
	if _, err := s.Keys.ConfirmedSigner(ctx, store.RoleDepartment, dept.USCC); err != nil {
		return nil, err
	}
	first, err := s.Store.NextCertificateNumbers(ctx, len(pb.good))
	if err != nil {
		return nil, err
	}
	// Status-list slots, per type: each type fills lists of its own.
	perType := map[string]int{}
	for _, i := range pb.good {
		perType[reqs[i].TypeCode]++
	}
	nextSlot := make(map[string]int64, len(perType))
	for typ, count := range perType {
		if nextSlot[typ], err = s.takeSlots(ctx, typ, count); err != nil {
			return nil, err
		}
	}
	slots := make([]int64, len(pb.good))
	for j, i := range pb.good {
		slots[j] = nextSlot[reqs[i].TypeCode]
		nextSlot[reqs[i].TypeCode]++
	}
	pb.prepared = make([]Prepared, len(pb.good))
	errs := make([]error, len(pb.good))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				r := reqs[pb.good[j]]
				t, err := s.Type(ctx, r.TypeCode)
				if err == nil {
					pb.prepared[j], err = s.build(ctx, t, dept, r, first+int64(j), slots[j], now, 1, nil)
				}
				errs[j] = err
			}
		}()
	}
	for j := range pb.good {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return pb, nil
}

// SaveBatch stores a prepared batch in one transaction with one audit entry
// and fills in the results.
func (s *Service) SaveBatch(ctx context.Context, pb *PreparedBatch, actor Actor) error {
	if len(pb.prepared) == 0 {
		return nil
	}
	recs := make([]store.Certificate, len(pb.prepared))
	for j := range pb.prepared {
		recs[j] = pb.prepared[j].Record
	}
	// Stored in identifier order: four of the certificate table's indexes
	// (the identifier, the serial, the issuer's and the key's) lead with
	// the identifier after a prefix the batch shares, and opaque serials
	// make the identifiers of consecutive numbers land anywhere in them.
	// In order, the batch walks each of those indexes once, left to right,
	// instead of jumping between its pages (docs/performance.md).
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b store.Certificate) int { return strings.Compare(a.ID, b.ID) })
	var inserted []string
	kids := map[string]bool{}
	for _, r := range recs {
		kids[r.KeyID] = true
	}
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		for kid := range kids { // fail closed: see Save
			if err := s.Keys.Confirm(ctx, q, kid); err != nil {
				return err
			}
		}
		var err error
		if inserted, err = q.CreateCertificates(ctx, sorted); err != nil {
			return err
		}
		if len(inserted) == 0 {
			return nil
		}
		made := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			made[id] = true
		}
		events := make([]store.BenefitEvent, 0, len(inserted))
		for _, r := range recs {
			if made[r.ID] {
				events = append(events, s.event(r))
			}
		}
		if err := q.AddBenefitEvents(ctx, events); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, audit.New(s.now(), actor.Actor, "certificate.issue_batch", "department", pb.Dept.ID, actor.RequestID,
			map[string]any{"count": len(inserted), "ids": inserted}))
		return err
	})
	if err != nil {
		return err
	}
	created := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		created[id] = true
	}
	for _, r := range recs {
		s.placed(r.StatusList)
	}
	for j, i := range pb.good {
		rec := recs[j]
		if created[rec.ID] {
			pb.Results[i].ID, pb.Results[i].Created = rec.ID, true
			s.observe("issue", rec.TypeCode)
			continue
		}
		pb.Results[i].Err = ErrDuplicate
		if ex, err := s.Store.GetCertificateByNumber(ctx, rec.TypeCode, rec.IssuerUSCC, rec.Number); err == nil {
			pb.Results[i].ID = ex.ID
		}
	}
	return nil
}
