// Package matching runs 免申即享 on storage: it stores policies, decides
// whether a department may run one without the administrator's approval,
// finds the holders who qualify (a full match, a durable background job, when
// a policy is approved and on demand; and incrementally, from the outbox of
// certificate changes that issuance, renewal and status changes fill in their
// own transactions), keeps their entitlements, and records every evaluation
// that read a holder's certificates as a usage record the holder sees
// (用证记录), with the policy as purpose.
//
// It reads only the certificate types a policy names, only valid ones, and
// hands the policy only the fields its criteria name.
package matching

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
	ErrInvalid     = errors.New("matching: the policy is invalid")
	ErrExists      = errors.New("matching: a policy with this code exists")
	ErrNotOwner    = errors.New("matching: the policy belongs to another department")
	ErrUnknown     = errors.New("matching: no such policy")
	ErrNotYours    = errors.New("matching: no such entitlement of this holder")
	ErrNotApproved = errors.New("matching: the policy awaits the administrator's approval")
	ErrBusy        = errors.New("matching: another node is running this policy's match")
	ErrRejected    = errors.New("matching: the administrator rejected the policy")
	ErrNotPending  = errors.New("matching: the policy is not pending approval")
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
	// Now is the domain clock (ages, validity, evaluation times, the
	// outbox's due times); leases use the wall clock.
	Now func() time.Time
	// Batch is how many holders a full match evaluates per transaction
	// (default 1,000).
	Batch int
	// Lease is how long a node holds a running full match without
	// committing a page (default 30 s): after it, any node resumes it.
	Lease time.Duration
	// Poll is how often the background worker looks for queued matches
	// and due outbox events besides being kicked (default 2 s).
	Poll time.Duration
	// MaxAttempts is how many times a full match runs before a failure is
	// final (default 8): after each failed run the background worker
	// retries it after RetryBase, doubled with every failure and capped at
	// RetryCap (defaults 1 min and 1 h: 1, 2, 4, … 32, 60 min), on the
	// domain clock.
	MaxAttempts int
	RetryBase   time.Duration
	RetryCap    time.Duration
	// Rematch is how old a policy's last full match may grow before the
	// worker queues another (default 30 days). Between full matches, each
	// evaluation schedules the holder's next one for the day its decision
	// may change by time alone (a birthday, an expiry) if that day falls
	// within Rematch and a day: holders are offered and withdrawn on the day,
	// and a full match never schedules more than that window's changes.
	Rematch time.Duration
	Log     *slog.Logger

	nodeOnce sync.Once
	node     string

	snap     atomic.Pointer[snapshot]
	reloadMu sync.Mutex // serialises reloads; readers never wait for it
	typesMu  sync.Mutex
	types    map[string]issuer.CertificateType

	kickOnce    sync.Once
	kickMatches chan struct{}
	kickEvents  chan struct{}
}

// snapshot is the approved policies, indexed by the certificate types
// they read.
type snapshot struct {
	byType map[string][]*policy
	byCode map[string]*policy
	loaded time.Time
}

type policy struct {
	rec  store.PolicyRecord
	c    *benefits.Compiled
	org  string // the owning department's registered name
	spec string // the stored definition, to reuse the compilation
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) nodeID() string {
	s.nodeOnce.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		s.node = hex.EncodeToString(b)
	})
	return s.node
}

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return 30 * time.Second
}

func (s *Service) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return 8
}

// retryAfter is the backoff after the attempts-th failed run (1-based).
func (s *Service) retryAfter(attempts int) time.Duration {
	base, ceiling := s.RetryBase, s.RetryCap
	if base <= 0 {
		base = time.Minute
	}
	if ceiling <= 0 {
		ceiling = time.Hour
	}
	d := base
	for i := 1; i < attempts && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

func (s *Service) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 1000
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

// OutOfScope says why a department may not run a policy without the
// administrator's approval (nil: it may). A department may match on its
// own: only certificate types it issues (it holds those certificates
// whole already), and only their non-sensitive face fields. A criterion
// over another department's type, or over a sensitive field (a disability
// level, health data, identity numbers), would let it learn who has that
// data — the masked names of the matching holders and their number — so
// the policy waits as pending_approval until the administrator approves it.
func (s *Service) OutOfScope(ctx context.Context, dept store.Department, c *benefits.Compiled) []string {
	var why []string
	own := map[string]bool{}
	for _, t := range dept.CertificateTypes {
		own[t] = true
	}
	if c.Policy.PayeeIdentity {
		why = append(why, "payee_identity: the department would read the identity of the holders it pays")
	}
	typeOf := s.typeOf(ctx)
	for _, code := range c.Types() {
		t, ok := typeOf(code)
		if !ok {
			why = append(why, code+": not in the catalogue")
			continue
		}
		if !own[code] {
			why = append(why, t.Name+"（"+code+"）: a type this department does not issue")
		}
		for _, f := range c.Fields(code) {
			for _, fs := range t.Fields {
				if fs.Name == f && fs.Sensitive {
					why = append(why, t.Name+" "+f+": a sensitive field")
				}
			}
		}
	}
	return why
}

// isSeed reports whether rec is one of the seeded examples, as seeded.
func isSeed(rec store.PolicyRecord) bool {
	for _, sp := range benefits.Seed() {
		if sp.Policy.Code == rec.Code && sp.DepartmentUSCC == rec.DepartmentUSCC {
			return true
		}
	}
	return false
}

// Seed stores the example policies that are not there yet (approved: they
// are the operator's own, reviewed with the release), and classifies the
// policies an earlier release stored without an approval status by the rule
// of OutOfScope.
func (s *Service) Seed(ctx context.Context) error {
	for _, sp := range benefits.Seed() {
		if _, err := s.Store.GetPolicy(ctx, sp.Policy.Code); err == nil {
			continue
		}
		err := s.Store.InTx(ctx, func(q store.Queries) error {
			_, _, err := s.create(ctx, q, store.Department{USCC: sp.DepartmentUSCC}, sp.Policy, true,
				audit.Actor{Kind: store.KindSystem, ID: "seed"}, "")
			return err
		})
		if err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("seed policy %s: %w", sp.Policy.Code, err)
		}
	}
	after := ""
	for {
		page, err := s.Store.ListPolicies(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, rec := range page {
			if rec.Status != store.PolicyUnchecked {
				continue
			}
			status := store.PolicyPendingApproval
			if isSeed(rec) {
				status = store.PolicyApproved
			} else if _, c, err := s.Policy(ctx, rec.Code); err == nil {
				if d, err := s.Store.GetDepartmentByUSCC(ctx, rec.DepartmentUSCC); err == nil && len(s.OutOfScope(ctx, d, c)) == 0 {
					status = store.PolicyApproved
				}
			}
			var at *time.Time
			if status == store.PolicyApproved {
				now := s.now()
				at = &now
			}
			if err := s.Store.SetPolicyStatus(ctx, rec.Code, status, at); err != nil {
				return err
			}
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].Code
	}
	s.invalidate(ctx)
	return nil
}

// Created is a stored policy and, when it waits for approval, why.
type Created struct {
	Record  store.PolicyRecord
	Pending []string // why the administrator must approve it (empty: approved)
}

// Create stores a department's policy (audited) in its own transaction;
// see CreateIn.
func (s *Service) Create(ctx context.Context, dept store.Department, p benefits.Policy, actor audit.Actor, requestID string) (Created, error) {
	var out Created
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		out, err = s.CreateIn(ctx, q, dept, p, actor, requestID)
		return err
	})
	if err == nil {
		s.Kick()
	}
	return out, err
}

// CreateIn stores a department's policy in q's transaction (audited). A
// policy within the department's scope (OutOfScope) is approved and its
// first full match queued; the background worker runs it once the
// transaction commits (call Kick then). Any other waits for Approve.
func (s *Service) CreateIn(ctx context.Context, q store.Queries, dept store.Department, p benefits.Policy, actor audit.Actor, requestID string) (Created, error) {
	rec, why, err := s.create(ctx, q, dept, p, false, actor, requestID)
	return Created{Record: rec, Pending: why}, err
}

func (s *Service) create(ctx context.Context, q store.Queries, dept store.Department, p benefits.Policy, seeded bool, actor audit.Actor, requestID string) (store.PolicyRecord, []string, error) {
	c, err := s.Compile(ctx, p)
	if err != nil {
		return store.PolicyRecord{}, nil, err
	}
	spec, err := json.Marshal(p)
	if err != nil {
		return store.PolicyRecord{}, nil, err
	}
	var why []string
	if !seeded {
		why = s.OutOfScope(ctx, dept, c)
	}
	now := s.now()
	rec := store.PolicyRecord{Code: p.Code, DepartmentUSCC: dept.USCC, Spec: spec, Types: c.Types(), CreatedAt: now,
		Status: store.PolicyPendingApproval, StatusReason: strings.Join(why, "; "), StatusChangedAt: &now,
		Match: store.MatchJob{Status: store.MatchNone}}
	if len(why) == 0 {
		rec.Status, rec.ApprovedAt = store.PolicyApproved, &now
		rec.Match = store.MatchJob{Status: store.MatchQueued, RequestedAt: &now}
	}
	if err := q.CreatePolicy(ctx, rec); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.PolicyRecord{}, nil, ErrExists
		}
		return store.PolicyRecord{}, nil, err
	}
	detail := map[string]any{"department_uscc": dept.USCC, "types": rec.Types, "criteria": len(p.Criteria), "status": rec.Status}
	if len(why) > 0 {
		detail["approval_required_because"] = why
	}
	if _, err := q.AppendAudit(ctx, audit.New(now, actor, "policy.create", "policy", p.Code, requestID, detail)); err != nil {
		return store.PolicyRecord{}, nil, err
	}
	return rec, why, nil
}

// pending are the statuses that wait for the administrator's decision
// (an unchecked policy is shown, and decided, as pending).
var pending = []string{store.PolicyPendingApproval, store.PolicyUnchecked}

// Approve is the administrator approving a pending policy (audited in its
// transaction); it queues the policy's first full match (for a policy that
// went back to pending_approval, the match that resumes it). Approving an
// approved policy changes nothing; a rejected one is ErrRejected (a
// rejection is final).
func (s *Service) Approve(ctx context.Context, code string, actor audit.Actor, requestID string) (store.PolicyRecord, error) {
	var rec store.PolicyRecord
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		rec, err = q.GetPolicy(ctx, code)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknown
		}
		if err != nil || rec.Status == store.PolicyApproved {
			return err
		}
		if rec.Status == store.PolicyRejected {
			return ErrRejected
		}
		now := s.now()
		if ok, err := q.ChangePolicyStatus(ctx, code, pending, store.PolicyApproved, "", now); err != nil || !ok {
			if err == nil {
				err = ErrNotPending
			}
			return err
		}
		if _, err := q.RequestMatch(ctx, code, now); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor, "policy.approve", "policy", code, requestID,
			map[string]any{"department_uscc": rec.DepartmentUSCC, "types": rec.Types})); err != nil {
			return err
		}
		rec, err = q.GetPolicy(ctx, code)
		return err
	})
	if err == nil {
		s.invalidate(ctx)
		s.Kick()
	}
	return rec, err
}

// Reject is the administrator refusing a policy that waits for approval,
// with a reason the public read shows (audited in its transaction): it never
// matches, and its department cannot run it. ErrNotPending for a policy that
// is not pending approval.
func (s *Service) Reject(ctx context.Context, code, reason string, actor audit.Actor, requestID string) (store.PolicyRecord, error) {
	var rec store.PolicyRecord
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		var err error
		rec, err = q.GetPolicy(ctx, code)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknown
		}
		if err != nil {
			return err
		}
		now := s.now()
		ok, err := q.ChangePolicyStatus(ctx, code, pending, store.PolicyRejected, reason, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotPending
		}
		if _, err := q.AppendAudit(ctx, audit.New(now, actor, "policy.reject", "policy", code, requestID,
			map[string]any{"department_uscc": rec.DepartmentUSCC, "types": rec.Types, "reason": reason})); err != nil {
			return err
		}
		rec, err = q.GetPolicy(ctx, code)
		return err
	})
	return rec, err
}

// RecheckDepartment runs in the transaction that changed which certificate
// types a department may issue (dept as changed; removed the types it lost):
// each approved policy of the department that reads a removed type goes back
// to pending_approval, with the reason, and is audited. Such a policy stops
// matching (a queued or running full match ends, the outbox skips it, its
// offers are neither renewed nor withdrawn) until the administrator approves
// it again, which queues the full match that resumes it. It returns the
// codes of the policies it sent back; after the transaction commits call
// Refresh.
func (s *Service) RecheckDepartment(ctx context.Context, q store.Queries, dept store.Department, removed []string, actor audit.Actor, requestID string) ([]string, error) {
	if len(removed) == 0 {
		return nil, nil
	}
	lost := map[string]bool{}
	for _, t := range removed {
		lost[t] = true
	}
	var back []string
	now := s.now()
	after := ""
	for {
		page, err := q.ListPolicies(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		for _, rec := range page {
			if rec.DepartmentUSCC != dept.USCC || rec.Status != store.PolicyApproved {
				continue
			}
			var why []string
			for _, t := range rec.Types {
				if lost[t] {
					name := t
					if ct, ok := s.typeOf(ctx)(t); ok {
						name = ct.Name + "（" + t + "）"
					}
					why = append(why, name+": the department may no longer issue this type")
				}
			}
			if len(why) == 0 {
				continue
			}
			reason := strings.Join(why, "; ")
			ok, err := q.ChangePolicyStatus(ctx, rec.Code, []string{store.PolicyApproved}, store.PolicyPendingApproval, reason, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if _, err := q.AppendAudit(ctx, audit.New(now, actor, "policy.approval_withdrawn", "policy", rec.Code, requestID,
				map[string]any{"department_uscc": dept.USCC, "types": rec.Types, "approval_required_because": why})); err != nil {
				return nil, err
			}
			back = append(back, rec.Code)
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].Code
	}
	return back, nil
}

// Refresh makes this node see policy changes committed outside Service's
// own methods at once (other nodes within 5 s, and their outbox drains
// before each batch).
func (s *Service) Refresh(ctx context.Context) {
	s.invalidate(ctx)
	s.Kick()
}

// RequestMatch queues a full match of an approved policy (one that is
// queued or running already is not started twice) and returns the policy
// with its match's state.
func (s *Service) RequestMatch(ctx context.Context, code string) (store.PolicyRecord, error) {
	rec, err := s.Store.GetPolicy(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return rec, ErrUnknown
	}
	if err != nil {
		return rec, err
	}
	if rec.Status == store.PolicyRejected {
		return rec, ErrRejected
	}
	if rec.Status != store.PolicyApproved {
		return rec, ErrNotApproved
	}
	if _, err := s.Store.RequestMatch(ctx, code, s.now()); err != nil {
		return rec, err
	}
	s.Kick()
	return s.Store.GetPolicy(ctx, code)
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
	c, err := s.compileStored(ctx, rec)
	return rec, c, err
}

func (s *Service) compileStored(ctx context.Context, rec store.PolicyRecord) (*benefits.Compiled, error) {
	var p benefits.Policy
	if err := json.Unmarshal(rec.Spec, &p); err != nil {
		return nil, fmt.Errorf("matching: stored policy %s: %w", rec.Code, err)
	}
	return s.Compile(ctx, p)
}

// invalidate reloads the snapshot after a change on this node (other
// nodes' changes arrive with the next reload: the outbox drain reloads
// before every batch).
func (s *Service) invalidate(ctx context.Context) {
	if _, err := s.reload(ctx); err != nil {
		s.snap.Store(nil) // the next reader reloads
	}
}

// policies returns the approved policies reading typeCode from the current
// snapshot, without a lock; a snapshot older than 5 s is reloaded first
// (another node may have approved a policy).
func (s *Service) policies(ctx context.Context, typeCode string) ([]*policy, error) {
	sn := s.snap.Load()
	if sn == nil || time.Since(sn.loaded) > 5*time.Second {
		var err error
		if sn, err = s.reload(ctx); err != nil {
			return nil, err
		}
	}
	return sn.byType[typeCode], nil
}

// reload reads the policies and publishes a new snapshot; compiled
// policies whose definition did not change are reused.
func (s *Service) reload(ctx context.Context) (*snapshot, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.snap.Load()
	sn := &snapshot{byType: map[string][]*policy{}, byCode: map[string]*policy{}, loaded: time.Now()}
	after := ""
	for {
		page, err := s.Store.ListPolicies(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, rec := range page {
			if rec.Status != store.PolicyApproved {
				continue
			}
			var pl *policy
			if old != nil {
				if o := old.byCode[rec.Code]; o != nil && o.spec == string(rec.Spec) && o.rec.DepartmentUSCC == rec.DepartmentUSCC {
					pl = &policy{rec: rec, c: o.c, org: o.org, spec: o.spec}
				}
			}
			if pl == nil {
				c, err := s.compileStored(ctx, rec)
				if err != nil {
					continue // a policy the catalogue no longer supports matches no one
				}
				pl = &policy{rec: rec, c: c, org: s.orgName(ctx, rec.DepartmentUSCC), spec: string(rec.Spec)}
			}
			sn.byCode[rec.Code] = pl
			for _, t := range rec.Types {
				sn.byType[t] = append(sn.byType[t], pl)
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Code
	}
	s.snap.Store(sn)
	return sn, nil
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

// Match runs a full match of an approved policy now, in the caller's
// goroutine, through the same job as the background worker (queue, claim,
// pages, finish): for tools and benchmarks. ErrBusy when another node holds
// the policy's running match.
func (s *Service) Match(ctx context.Context, code string) (Summary, error) {
	start := time.Now()
	if _, err := s.RequestMatch(ctx, code); err != nil {
		return Summary{}, err
	}
	now := time.Now()
	rec, err := s.Store.ClaimMatch(ctx, s.nodeID(), code, now, now.Add(s.lease()), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return Summary{}, ErrBusy
	}
	if err != nil {
		return Summary{}, err
	}
	if err := s.runMatch(ctx, rec); err != nil {
		return Summary{}, err
	}
	rec, err = s.Store.GetPolicy(ctx, code)
	if err != nil {
		return Summary{}, err
	}
	return Summary{Read: int(rec.Match.Read), Eligible: int(rec.Match.Eligible), Withdrawn: int(rec.Match.Withdrawn),
		Elapsed: time.Since(start)}, nil
}

// errLost: another node took the match over (this node's lease ran out).
var errLost = errors.New("matching: the match's lease was lost")

// runMatch runs a claimed full match from its cursor: it evaluates every
// holder who has a valid certificate of the policy's first type (every
// qualifying holder has one), a page of whole holders per transaction that
// also records the page in the job, then withdraws the offers the run did
// not renew and marks the job done. A failure marks it failed, and the
// background worker runs it again after a backoff (retryAfter) until
// MaxAttempts runs failed; a cancelled ctx (shutdown) releases the lease so
// that any node resumes it at once.
func (s *Service) runMatch(ctx context.Context, rec store.PolicyRecord) error {
	owner := s.nodeID()
	err := s.matchPages(ctx, rec, owner)
	switch {
	case errors.Is(err, errLost):
		return nil
	case err != nil && ctx.Err() != nil:
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.Store.ReleaseMatch(rctx, rec.Code, owner)
		return ctx.Err()
	case err != nil:
		attempts, limit := rec.Match.Attempts+1, s.maxAttempts()
		now := s.now()
		var next *time.Time
		why := fmt.Sprintf("the match failed %d of at most %d times (logged on the server); it is no longer retried: request a new match", attempts, limit)
		if attempts < limit {
			at := now.Add(s.retryAfter(attempts))
			next = &at
			why = fmt.Sprintf("the match failed (attempt %d of %d; logged on the server); it is retried automatically at next_retry_at", attempts, limit)
		}
		s.log().Error("benefits: full match failed", "policy", rec.Code, "attempt", attempts, "retry", next != nil, "err", err)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if ferr := s.Store.FailMatch(fctx, rec.Code, owner, now, why, next); ferr != nil && !errors.Is(ferr, store.ErrConflict) {
			return errors.Join(err, ferr)
		}
		return err
	}
	return nil
}

func (s *Service) matchPages(ctx context.Context, rec store.PolicyRecord, owner string) error {
	c, err := s.compileStored(ctx, rec)
	if err != nil {
		return err
	}
	if rec.Match.RunAt == nil {
		return fmt.Errorf("matching: claimed match of %s has no run time", rec.Code)
	}
	pl := &policy{rec: rec, c: c, org: s.orgName(ctx, rec.DepartmentUSCC)}
	runAt := rec.Match.RunAt.UTC()
	// Two stages: one goroutine reads and decides the next page while this
	// one writes the current (reading and decoding overlap the database's
	// work on the writes).
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	pages := make(chan decidedPage, 1)
	if c.Active(runAt) {
		go s.readPages(rctx, pl, runAt, rec.Match.Cursor, pages)
	} else {
		// Not in force (not yet, or no longer): nobody qualifies, nothing
		// is read, and the end of the match withdraws every open offer.
		close(pages)
	}
	for pg := range pages {
		if pg.err != nil {
			return pg.err
		}
		v := pg.v
		err := s.Store.InTxReadCommitted(ctx, func(q store.Queries) error {
			if err := q.MatchPageDone(ctx, rec.Code, owner, store.MatchPage{Cursor: pg.cursor, Read: int64(v.read),
				Eligible: int64(len(v.offers)), LeaseUntil: time.Now().Add(s.lease())}); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return errLost
				}
				return err
			}
			_, err := s.write(ctx, q, pl, v, runAt, true)
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.InTxReadCommitted(ctx, func(q store.Queries) error {
		w, err := q.WithdrawStale(ctx, rec.Code, runAt, s.now())
		if err != nil {
			return err
		}
		if err := q.FinishMatch(ctx, rec.Code, owner, s.now(), w, ""); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errLost
			}
			return err
		}
		return nil
	})
}

// decidedPage is one page of a full match, decided: the verdicts, and the
// last holder (the cursor once the page commits).
type decidedPage struct {
	v      verdicts
	cursor string
	err    error
}

// readPages reads a full match's pages of whole holders after cursor and
// decides them, until the last page or an error (sent as the last page).
func (s *Service) readPages(ctx context.Context, pl *policy, runAt time.Time, cursor string, out chan<- decidedPage) {
	defer close(out)
	send := func(p decidedPage) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	c := pl.c
	size := s.batch() * 2
	driver := c.Types()[0]
	// A resumed match starts after the last holder whose page committed.
	afterHolder, afterID := cursor, ""
	if afterHolder != "" {
		afterID = "\U0010FFFF"
	}
	// The page's documents are read into one arena, reused from page to
	// page: decide copies out what it keeps (fields, names), and nothing
	// of a page is reachable once its verdicts are sent.
	var arena store.Arena
	for {
		arena.Reset()
		page, err := s.Store.ValidCertificatesByType(ctx, driver, afterHolder, afterID, size, &arena)
		if err != nil {
			send(decidedPage{err: err})
			return
		}
		if len(page) == 0 {
			return
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
		certs := page // a one-type policy needs nothing but this page
		if len(c.Types()) > 1 || (full && len(subjects) == 1) {
			if certs, err = s.Store.ValidCertificatesOf(ctx, subjects, pl.rec.Types); err != nil {
				send(decidedPage{err: err})
				return
			}
		}
		if !send(decidedPage{v: s.decide(pl, subjects, certs, runAt), cursor: afterHolder}) || !full {
			return
		}
	}
}

// OnCertificate re-evaluates the holder under every policy that reads
// typeCode now, in the caller's goroutine (the outbox drain does the same
// for many holders at once).
func (s *Service) OnCertificate(ctx context.Context, holderSubject, typeCode string) error {
	pls, err := s.policies(ctx, typeCode)
	if err != nil {
		return err
	}
	return s.Store.InTxReadCommitted(ctx, func(q store.Queries) error {
		for _, pl := range pls {
			if err := s.evaluateIn(ctx, q, pl, []string{holderSubject}, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// evaluateIn evaluates holders under one policy in q's transaction,
// withdrawing the offers of holders who no longer qualify.
func (s *Service) evaluateIn(ctx context.Context, q store.Queries, pl *policy, subjects []string, runAt time.Time) error {
	if !pl.c.Active(runAt) {
		return nil
	}
	certs, err := q.ValidCertificatesOf(ctx, subjects, pl.rec.Types)
	if err != nil {
		return err
	}
	_, err = s.write(ctx, q, pl, s.decide(pl, subjects, certs, runAt), runAt, false)
	return err
}

// verdicts is what evaluating holders under one policy decided.
type verdicts struct {
	offers  []store.Entitlement
	others  []string // holders read and not eligible, or with nothing to read
	records []store.UsageRecord
	events  []store.BenefitEvent // re-evaluations scheduled for when time alone may change a decision
	read    int
}

// decide evaluates holders (sorted) against their certificates of the
// policy's types; it reads nothing and writes nothing.
func (s *Service) decide(pl *policy, subjects []string, certs []store.MatchCertificate, runAt time.Time) verdicts {
	var v verdicts
	if !pl.c.Active(runAt) {
		return v
	}
	sort.Strings(subjects)
	sort.SliceStable(certs, func(i, j int) bool { return certs[i].HolderSubject < certs[j].HolderSubject })
	v.offers = make([]store.Entitlement, 0, len(subjects))
	v.records = make([]store.UsageRecord, 0, len(subjects))
	purpose := "免申即享：" + pl.c.Policy.Name
	horizon := runAt.Add(s.rematch() + 24*time.Hour)
	i := 0
	in := make([]benefits.Certificate, 0, 4)
	var dec decoder
	// IDs for the offers and usage records: UUIDv7 with random bits from
	// crypto/rand, read in one block for the holders at hand (16 bytes an
	// ID, at most two IDs a holder; at most 4 KiB at a time) rather than a
	// system call per ID — and not 4 KiB for an outbox event's one holder.
	rnd := bufio.NewReaderSize(rand.Reader, min(4096, 32*len(subjects)))
	newID := func() string { return uuid.Must(uuid.NewV7FromReader(rnd)).String() }
	for _, sub := range subjects {
		for i < len(certs) && certs[i].HolderSubject < sub {
			i++
		}
		in = in[:0]
		name, first := "", ""
		for ; i < len(certs) && certs[i].HolderSubject == sub; i++ {
			mc := certs[i]
			if first == "" {
				first = mc.ID
			}
			bc, holderName, err := dec.decode(pl.c, mc)
			if err != nil {
				continue // a document we cannot read never qualifies anyone
			}
			if name == "" {
				name = holderName
			}
			in = append(in, bc)
		}
		if first == "" {
			// Nothing of the holder was read: no record; an offer the
			// holder no longer has any certificate for is withdrawn.
			v.others = append(v.others, sub)
			continue
		}
		v.read++
		d := pl.c.Evaluate(in, runAt)
		if next, ok := pl.c.NextChange(in, runAt, horizon); ok {
			v.events = append(v.events, store.BenefitEvent{HolderSubject: sub, TypeCode: pl.rec.Types[0], CreatedAt: runAt, NotBefore: next})
		}
		result, certID := "not_eligible", first
		if d.Eligible {
			result, certID = "eligible", d.Evidence[0].CertificateID
			ev, _ := json.Marshal(d.Evidence)
			v.offers = append(v.offers, store.Entitlement{ID: newID(), PolicyCode: pl.rec.Code,
				HolderSubject: sub, MaskedName: ident.MaskName(name), Evidence: ev, UpdatedAt: runAt, EvaluatedAt: runAt})
		} else {
			v.others = append(v.others, sub)
		}
		v.records = append(v.records, store.UsageRecord{ID: newID(), HolderSubject: sub, At: runAt,
			Org: pl.org, OrgUSCC: pl.rec.DepartmentUSCC, ItemCode: pl.rec.Code, ItemName: pl.c.Policy.Name,
			Purpose: purpose, CertificateID: certID, Channel: ChannelBenefit, Result: result})
	}
	return v
}

// write stores verdicts in q's transaction: offers (one statement; a newer
// evaluation of a holder is never overwritten by an older one), withdrawals
// of the others unless full (a full match withdraws what it did not renew at
// its end), and the usage records.
func (s *Service) write(ctx context.Context, q store.Queries, pl *policy, v verdicts, runAt time.Time, full bool) (int64, error) {
	if err := q.OfferEntitlements(ctx, v.offers); err != nil {
		return 0, err
	}
	var withdrawn int64
	if !full && len(v.others) > 0 {
		var err error
		if withdrawn, err = q.WithdrawEntitlements(ctx, pl.rec.Code, v.others, runAt); err != nil {
			return 0, err
		}
	}
	if err := q.AddBenefitEvents(ctx, v.events); err != nil {
		return 0, err
	}
	return withdrawn, q.AddUsageRecords(ctx, v.records)
}

// payloadOf decodes the payload of a compact JWS the store holds into buf
// (its signature was verified when it was issued; matching only reads it).
func payloadOf(jws string, buf []byte) ([]byte, error) {
	i := strings.IndexByte(jws, '.')
	j := strings.LastIndexByte(jws, '.')
	if i < 0 || j <= i {
		return nil, signing.ErrMalformed
	}
	enc := jws[i+1 : j]
	n := base64.RawURLEncoding.DecodedLen(len(enc))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Decode(buf[:n], unsafe.Slice(unsafe.StringData(enc), len(enc)))
	return buf[:n], err
}

// decoder turns stored certificates into what a policy may see, reusing
// its buffers from one certificate to the next (one per goroutine).
type decoder struct {
	buf []byte
	ex  extracted
}

// decode turns a stored certificate into what the policy may see: its
// type, area, validity and only the face fields the policy reads. The
// document is scanned, not built: the fields the policy does not read are
// never decoded.
func (d *decoder) decode(c *benefits.Compiled, mc store.MatchCertificate) (benefits.Certificate, string, error) {
	payload, err := payloadOf(mc.JWS, d.buf)
	if err != nil {
		return benefits.Certificate{}, "", err
	}
	d.buf = payload[:0]
	names := c.Fields(mc.TypeCode)
	if err := extract(payload, names, &d.ex); err != nil {
		return benefits.Certificate{}, "", err
	}
	fields := make(map[string]any, len(names))
	for _, f := range d.ex.list(len(names)) {
		if f.raw == nil {
			continue
		}
		v, err := value(f.raw)
		if err != nil {
			return benefits.Certificate{}, "", err
		}
		fields[f.name] = v
	}
	return benefits.Certificate{ID: mc.ID, TypeCode: mc.TypeCode, AreaCode: d.ex.area, ValidFrom: mc.ValidFrom, ValidUntil: mc.ValidUntil, Fields: fields}, d.ex.name, nil
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

// Kick wakes the background worker: a certificate changed (the outbox has
// a new event) or a match was queued. It never blocks.
func (s *Service) Kick() {
	s.kicks()
	for _, ch := range []chan struct{}{s.kickEvents, s.kickMatches} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (s *Service) kicks() {
	s.kickOnce.Do(func() {
		s.kickEvents = make(chan struct{}, 1)
		s.kickMatches = make(chan struct{}, 1)
	})
}

func (s *Service) rematch() time.Duration {
	if s.Rematch > 0 {
		return s.Rematch
	}
	return 30 * 24 * time.Hour
}

func (s *Service) poll() time.Duration {
	if s.Poll > 0 {
		return s.Poll
	}
	return 2 * time.Second
}

// Run is the background worker of one node, until ctx ends: it drains the
// outbox of certificate changes (at once when kicked) and runs queued full
// matches, and matches whose node stopped holding them. On start it does
// both before waiting: what a crash or a restart left is picked up at once
// (a match still leased by a crashed node, when its lease ends). Run
// returns when both loops have stopped; a match running at that moment is
// released for any node to resume.
func (s *Service) Run(ctx context.Context) {
	s.kicks()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.eventLoop(ctx) }()
	go func() { defer wg.Done(); s.matchLoop(ctx) }()
	wg.Wait()
}

func (s *Service) wait(ctx context.Context, kick chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-kick:
	case <-t.C:
	}
	return true
}

func (s *Service) eventLoop(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		n, err := s.Drain(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			s.log().Warn("benefits: evaluating certificate changes failed; they stay in the outbox and are retried", "err", err)
			if !s.wait(ctx, make(chan struct{}), min(time.Duration(failures)*time.Second, 30*time.Second)) {
				return
			}
		case n == 0:
			failures = 0
			if !s.wait(ctx, s.kickEvents, s.poll()) {
				return
			}
		default:
			failures = 0
		}
	}
}

func (s *Service) matchLoop(ctx context.Context) {
	var dueChecked time.Time
	for ctx.Err() == nil {
		if time.Since(dueChecked) >= time.Minute {
			dueChecked = time.Now()
			if err := s.QueueDue(ctx); err != nil && ctx.Err() == nil {
				s.log().Warn("benefits: queueing periodic full matches failed", "err", err)
			}
		}
		now := time.Now()
		rec, err := s.Store.ClaimMatch(ctx, s.nodeID(), "", now, now.Add(s.lease()), s.now())
		if err == nil {
			_ = s.runMatch(ctx, rec) // logged there
			continue
		}
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			s.log().Warn("benefits: looking for queued matches failed", "err", err)
		}
		if !s.wait(ctx, s.kickMatches, s.poll()) {
			return
		}
	}
}

// QueueDue queues a full match of every approved policy whose last full
// match evaluated more than Rematch ago (the worker calls it once a minute;
// a policy already queued or running is left as it is). Between full
// matches, the re-evaluations that each evaluation scheduled keep offers
// current on the day; the full match bounds how far ahead they are
// scheduled and re-reads everything once per period.
func (s *Service) QueueDue(ctx context.Context) error {
	now := s.now()
	cutoff := now.Add(-s.rematch())
	queued := 0
	for after := ""; ; {
		page, err := s.Store.ListPolicies(ctx, after, 100)
		if err != nil {
			return err
		}
		for _, rec := range page {
			if rec.Status != store.PolicyApproved || rec.Match.Status != store.MatchDone || rec.MatchedAt == nil {
				continue
			}
			c, err := s.compileStored(ctx, rec)
			if err != nil {
				continue
			}
			_, until := c.Period()
			ended := until != nil && !rec.MatchedAt.Before(*until) // matched after its end: nothing left to do
			if !periodBoundary(c, *rec.MatchedAt, now) && (ended || !rec.MatchedAt.Before(cutoff)) {
				continue
			}
			ok, err := s.Store.RequestMatch(ctx, rec.Code, s.now())
			if err != nil {
				return err
			}
			if ok {
				queued++
				s.log().Info("benefits: periodic full match queued", "policy", rec.Code, "last", rec.MatchedAt)
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].Code
	}
	if queued > 0 {
		s.Kick()
	}
	return nil
}

// periodBoundary reports whether the policy started or ended after its last
// full match evaluated (at matched) and by now: a policy that comes into
// force offers to everyone who qualifies on its first day, and one that
// ends withdraws its open offers on the day after its last (its full match
// then reads nothing and withdraws every offer it did not renew).
func periodBoundary(c *benefits.Compiled, matched, now time.Time) bool {
	from, until := c.Period()
	crossed := func(t time.Time) bool { return matched.Before(t) && !now.Before(t) }
	return crossed(from) || (until != nil && crossed(*until))
}

// eventBatch is how many outbox events one drain transaction handles.
const eventBatch = 500

// Drain evaluates one batch of due outbox events, in one READ COMMITTED
// transaction that also deletes them: the holders under every approved
// policy that reads the changed types, with the policies reloaded after the
// events were read (so a policy approved before a change committed is never
// missed: either its full match read the certificate or this reload sees
// the policy). It returns how many events it handled. A failed batch stays in
// the outbox, due again after a backoff that grows with its attempts.
func (s *Service) Drain(ctx context.Context) (int, error) {
	var evs []store.BenefitEvent
	err := s.Store.InTxReadCommitted(ctx, func(q store.Queries) error {
		var err error
		if evs, err = q.ClaimBenefitEvents(ctx, s.now(), eventBatch); err != nil || len(evs) == 0 {
			return err
		}
		sn, err := s.reload(ctx)
		if err != nil {
			return err
		}
		holders := map[*policy]map[string]bool{}
		for _, e := range evs {
			for _, pl := range sn.byType[e.TypeCode] {
				if holders[pl] == nil {
					holders[pl] = map[string]bool{}
				}
				holders[pl][e.HolderSubject] = true
			}
		}
		pls := make([]*policy, 0, len(holders))
		for pl := range holders {
			pls = append(pls, pl)
		}
		sort.Slice(pls, func(i, j int) bool { return pls[i].rec.Code < pls[j].rec.Code })
		runAt := s.now()
		for _, pl := range pls {
			subjects := make([]string, 0, len(holders[pl]))
			for sub := range holders[pl] {
				subjects = append(subjects, sub)
			}
			if err := s.evaluateIn(ctx, q, pl, subjects, runAt); err != nil {
				return err
			}
		}
		ids := make([]int64, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		return q.DeleteBenefitEvents(ctx, ids)
	})
	if err != nil {
		if len(evs) > 0 && ctx.Err() == nil {
			ids := make([]int64, len(evs))
			attempts := 0
			for i, e := range evs {
				ids[i] = e.ID
				attempts = max(attempts, e.Attempts)
			}
			backoff := min(time.Second<<min(attempts, 10), 10*time.Minute)
			if derr := s.Store.DeferBenefitEvents(context.WithoutCancel(ctx), ids, s.now().Add(backoff)); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		return 0, err
	}
	return len(evs), nil
}

// WaitIdle kicks the worker and waits until the outbox is empty and no
// approved policy's match is queued, running or due for a retry (for tests
// and tools; it polls the database).
func (s *Service) WaitIdle(ctx context.Context) error {
	for {
		s.Kick()
		events, matches, err := s.Store.PendingBenefitWork(ctx, s.now())
		if err != nil {
			return err
		}
		if events == 0 && matches == 0 {
			return nil
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
