package matching

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// TestFullMatchPagesByWholeHolders: with pages far smaller than some
// holders' certificate counts, a full match reads every holder exactly once
// and agrees with evaluating each holder alone.
func TestFullMatchPagesByWholeHolders(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			population(t, st, 60)
			// Give some holders more certificates of the same type: 5 more
			// for sub-000000007, 3 more for sub-000000014.
			ctx := context.Background()
			extra := 0
			for _, sub := range []struct {
				subject string
				n       int
			}{{"sub-000000007", 5}, {"sub-000000014", 3}} {
				certs, err := st.ValidCertificatesOf(ctx, []string{sub.subject}, []string{"11100000000021002F001"})
				if err != nil || len(certs) != 1 {
					t.Fatalf("%s: %v %d", sub.subject, err, len(certs))
				}
				orig, err := st.GetCertificate(ctx, certs[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < sub.n; i++ {
					c := orig
					c.ID = orig.ID + string(rune('a'+i))
					c.Serial = orig.Serial + string(rune('A'+i))
					c.Number = orig.Number + string(rune('A'+i))
					c.StatusIndex = int64(1000 + extra)
					extra++
					if err := st.CreateCertificate(ctx, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			s := benchService(t, st)
			s.Batch = 2 // pages of 4 certificates
			sum, err := s.Match(ctx, "EX-GAOLING-310117")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Read != 60 {
				t.Fatalf("read %d holders, want 60: %+v", sum.Read, sum)
			}
			// Each holder has exactly one usage record from this match.
			for _, sub := range []string{"sub-000000007", "sub-000000014", "sub-000000000", "sub-000000059"} {
				recs, err := st.ListUsageRecords(ctx, sub, "", 10)
				if err != nil || len(recs) != 1 {
					t.Fatalf("%s: %d records (%v)", sub, len(recs), err)
				}
			}
			// The same verdicts one holder at a time.
			eligible := 0
			for i := 0; i < 60; i++ {
				sub := subjectOf(i)
				if err := s.OnCertificate(ctx, sub, "11100000000021002F001"); err != nil {
					t.Fatal(err)
				}
				if e, err := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", sub); err == nil && e.Status == store.EntitlementOffered {
					eligible++
				}
			}
			if eligible != sum.Eligible || eligible == 0 {
				t.Fatalf("one at a time %d eligible, full match %d", eligible, sum.Eligible)
			}
		})
	}
}

func subjectOf(i int) string {
	const digits = "0123456789"
	b := []byte("sub-000000000")
	for p := len(b) - 1; i > 0; p-- {
		b[p] = digits[i%10]
		i /= 10
	}
	return string(b)
}

// TestMatchResumesAfterACrash: a node claims a full match, commits two
// pages and dies holding its lease. Another node's worker takes the match
// over when the lease ends and resumes after the last committed page: every
// holder is read exactly once (one usage record each), the counts add up and
// the result equals a fresh full match.
func TestMatchResumesAfterACrash(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			ctx := context.Background()
			population(t, st, 40)
			const code = "EX-GAOLING-310117"
			a := benchService(t, st)
			a.Batch, a.Lease = 4, 300*time.Millisecond // pages of 8 certificates, 7 whole holders
			if _, err := st.RequestMatch(ctx, code, a.now()); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			rec, err := st.ClaimMatch(ctx, "dead-node", code, now, now.Add(300*time.Millisecond), a.now())
			if err != nil {
				t.Fatal(err)
			}
			crashCtx, crash := context.WithCancel(ctx)
			a.Store = &afterPages{Store: st, n: 2, then: crash} // the node "crashes": it neither finishes nor releases its lease
			if err := a.matchPages(crashCtx, rec, "dead-node"); err == nil {
				t.Fatal("the crashed match finished")
			}
			rec, err = st.GetPolicy(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Match.Status != store.MatchRunning || rec.Match.Read != 14 || rec.Match.Cursor == "" || rec.Match.Owner != "dead-node" {
				t.Fatalf("after the crash: %+v", rec.Match)
			}

			// Another node starts: its worker resumes the match.
			b := benchService(t, st)
			b.Batch, b.Poll, b.Lease = 4, 20*time.Millisecond, time.Minute
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); b.Run(runCtx) }()
			waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := b.WaitIdle(waitCtx); err != nil {
				t.Fatal(err)
			}
			stop()
			<-done
			rec, err = st.GetPolicy(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Match.Status != store.MatchDone || rec.Match.Read != 40 || rec.MatchedAt == nil || rec.Match.Owner != "" {
				t.Fatalf("resumed match: %+v", rec.Match)
			}
			for i := 0; i < 40; i++ {
				recs, err := st.ListUsageRecords(ctx, subjectOf(i), "", 10)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, r := range recs {
					if r.ItemCode == code {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("%s was read %d times by the resumed match", subjectOf(i), n)
				}
			}
			// The same result as a fresh full match.
			sum, err := b.Match(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if int64(sum.Eligible) != rec.Match.Eligible || sum.Withdrawn != 0 || sum.Read != 40 {
				t.Fatalf("fresh match %+v, resumed %+v", sum, rec.Match)
			}
		})
	}
}

// failingUsage fails the next n transactions at their usage records.
type failingUsage struct {
	store.Store
	n int
}

type failingQueries struct{ store.Queries }

var errInjected = errors.New("injected failure")

func (failingQueries) AddUsageRecords(context.Context, []store.UsageRecord) error { return errInjected }

func (f *failingUsage) InTxReadCommitted(ctx context.Context, fn func(q store.Queries) error) error {
	if f.n > 0 {
		f.n--
		return f.Store.InTxReadCommitted(ctx, func(q store.Queries) error { return fn(failingQueries{q}) })
	}
	return f.Store.InTxReadCommitted(ctx, fn)
}

// TestOutboxSurvivesAFailedEvaluation: a certificate stored with its
// outbox event (as issuance does, in one transaction) whose evaluation
// fails stays in the outbox, due again after a backoff; the next drain
// evaluates its holder and empties the outbox. A node started later drains
// what an earlier one left.
func TestOutboxSurvivesAFailedEvaluation(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			ctx := context.Background()
			population(t, st, 30)
			s := benchService(t, st)
			clock := s.now()
			s.Now = func() time.Time { return clock }
			if _, err := s.Match(ctx, "EX-GAOLING-310117"); err != nil {
				t.Fatal(err)
			}
			// An 85-year-old in 310117 is issued a card: certificate and
			// event commit together.
			sub := "sub-new-holder"
			birth := "1941-06-01"
			cert := oneCard(t, sub, birth, "310117", 9001)
			if err := st.InTx(ctx, func(q store.Queries) error {
				if err := q.CreateCertificate(ctx, cert); err != nil {
					return err
				}
				return q.AddBenefitEvents(ctx, []store.BenefitEvent{{HolderSubject: sub, TypeCode: cert.TypeCode, CreatedAt: clock}})
			}); err != nil {
				t.Fatal(err)
			}
			s.Store = &failingUsage{Store: st, n: 1}
			if _, err := s.Drain(ctx); !errors.Is(err, errInjected) {
				t.Fatalf("drain with a failing evaluation: %v", err)
			}
			if _, err := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", sub); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the failed evaluation left an entitlement: %v", err)
			}
			evs, err := st.ClaimBenefitEvents(ctx, clock.Add(time.Hour), 10)
			if err != nil || len(evs) != 1 || evs[0].HolderSubject != sub || evs[0].Attempts != 1 {
				t.Fatalf("outbox after the failure: %+v %v", evs, err)
			}
			// Not due before its backoff.
			if n, err := s.Drain(ctx); n != 0 || err != nil {
				t.Fatalf("drained a deferred event early: %d %v", n, err)
			}
			// A node started later (after the backoff) drains it.
			clock = clock.Add(time.Minute)
			b := benchService(t, st)
			b.Now, b.Poll = s.Now, 20*time.Millisecond
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); b.Run(runCtx) }()
			waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := b.WaitIdle(waitCtx); err != nil {
				t.Fatal(err)
			}
			stop()
			<-done
			e, err := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", sub)
			if err != nil || e.Status != store.EntitlementOffered {
				t.Fatalf("the holder was not evaluated after the failure: %+v %v", e, err)
			}
		})
	}
}

// TestOlderEvaluationNeverOverwritesNewer: a full match that read a holder
// before a revocation cannot re-offer what the revocation's (newer)
// incremental evaluation withdrew.
func TestOlderEvaluationNeverOverwritesNewer(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			ctx := context.Background()
			s := benchService(t, st)
			t0 := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
			offer := func(at time.Time) store.Entitlement {
				return store.Entitlement{ID: "e-" + at.Format("150405"), PolicyCode: "EX-GAOLING-310117", HolderSubject: "sub-x",
					MaskedName: "王*", Evidence: []byte("[]"), UpdatedAt: at, EvaluatedAt: at}
			}
			if err := st.OfferEntitlements(ctx, []store.Entitlement{offer(t0)}); err != nil {
				t.Fatal(err)
			}
			if n, err := st.WithdrawEntitlements(ctx, "EX-GAOLING-310117", []string{"sub-x"}, t0.Add(2*time.Second)); err != nil || n != 1 {
				t.Fatalf("withdraw: %d %v", n, err)
			}
			if err := st.OfferEntitlements(ctx, []store.Entitlement{offer(t0.Add(time.Second))}); err != nil {
				t.Fatal(err)
			}
			e, err := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", "sub-x")
			if err != nil || e.Status != store.EntitlementWithdrawn {
				t.Fatalf("an older evaluation re-offered: %+v %v", e, err)
			}
			if err := st.OfferEntitlements(ctx, []store.Entitlement{offer(t0.Add(3 * time.Second))}); err != nil {
				t.Fatal(err)
			}
			if e, _ := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", "sub-x"); e.Status != store.EntitlementOffered {
				t.Fatalf("a newer evaluation did not offer: %+v", e)
			}
			_ = s
		})
	}
}

// TestEarlierPoliciesAreClassified: policies stored before the approval
// rule (status unchecked) are classified by the rule when a node starts:
// one over its department's own non-sensitive field is approved, one over
// another department's sensitive field waits, and neither is matched while
// unchecked.
func TestEarlierPoliciesAreClassified(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			ctx := context.Background()
			s := benchService(t, st)
			if err := st.CreateDepartment(ctx, store.Department{ID: "d1", Name: "某区公安分局", USCC: "11310000000000000X", Level: "区县级",
				CertificateTypes: []string{issuer.TypeResidentIDCard}, CreatedAt: s.now()}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct{ code, typ, field, op, value string }{
				{"OLD-PLAIN", issuer.TypeResidentIDCard, "birth_date", "lte", `"1970-01-01"`},
				{"OLD-SPY", issuer.TypeDisabilityCard, "disability_level", "eq", `"一级"`},
			} {
				spec, _ := json.Marshal(benefits.Policy{Code: p.code, Name: "旧政策", LegalBasis: "某办法", HolderKind: "person", ValidFrom: "2026-01-01",
					Criteria: []benefits.Criterion{{CertificateType: p.typ, Field: p.field, Op: p.op, Value: json.RawMessage(p.value)}},
					Benefit:  benefits.Benefit{Description: "某补贴"}})
				if err := st.CreatePolicy(ctx, store.PolicyRecord{Code: p.code, DepartmentUSCC: "11310000000000000X", Spec: spec,
					Types: []string{p.typ}, CreatedAt: s.now(), Status: store.PolicyUnchecked}); err != nil {
					t.Fatal(err)
				}
			}
			if sn, err := s.reload(ctx); err != nil || sn.byCode["OLD-PLAIN"] != nil || sn.byCode["OLD-SPY"] != nil {
				t.Fatalf("an unchecked policy is in the matching snapshot (%v)", err)
			}
			if err := s.Seed(ctx); err != nil { // what a node does when it starts
				t.Fatal(err)
			}
			for code, want := range map[string]string{"OLD-PLAIN": store.PolicyApproved, "OLD-SPY": store.PolicyPendingApproval,
				"EX-ZHONGCAN-31": store.PolicyApproved} {
				if rec, err := st.GetPolicy(ctx, code); err != nil || rec.Status != want {
					t.Fatalf("%s: %q (%v), want %q", code, rec.Status, err, want)
				}
			}
			if _, err := s.RequestMatch(ctx, "OLD-SPY"); !errors.Is(err, ErrNotApproved) {
				t.Fatalf("a match of the pending policy: %v", err)
			}
		})
	}
}

// afterPages runs then once n pages of a full match have committed.
type afterPages struct {
	store.Store
	n    int
	then func()
}

func (a *afterPages) InTxReadCommitted(ctx context.Context, fn func(q store.Queries) error) error {
	err := a.Store.InTxReadCommitted(ctx, fn)
	if err == nil {
		if a.n--; a.n == 0 {
			a.then()
		}
	}
	return err
}

// TestSentBackPolicyStopsItsRunningMatch: the administrator removes the
// type a policy reads from its department while the policy's full match
// runs. The policy goes back to pending_approval, the match stops at its
// next page (nobody after it is read), no worker resumes it, and the
// administrator's approval runs a fresh full match.
func TestSentBackPolicyStopsItsRunningMatch(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			ctx := context.Background()
			population(t, st, 40)
			const code = "EX-GAOLING-310117"
			a := benchService(t, st)
			a.Batch = 4 // pages of 8 certificates, 7 whole holders
			if _, err := st.RequestMatch(ctx, code, a.now()); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			rec, err := st.ClaimMatch(ctx, "node-a", code, now, now.Add(time.Minute), a.now())
			if err != nil {
				t.Fatal(err)
			}
			var sentBack []string
			a.Store = &afterPages{Store: st, n: 1, then: func() {
				err := st.InTx(ctx, func(q store.Queries) error {
					var err error
					sentBack, err = a.RecheckDepartment(ctx, q, store.Department{USCC: benefits.SeedDepartmentCivilAffairs},
						[]string{issuer.TypeResidentIDCard}, audit.Actor{Kind: store.KindSystem, ID: "test"}, "")
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}}
			if err := a.matchPages(ctx, rec, "node-a"); !errors.Is(err, errLost) {
				t.Fatalf("the match of a policy sent back went on: %v", err)
			}
			if len(sentBack) != 1 || sentBack[0] != code {
				t.Fatalf("sent back %v", sentBack)
			}
			rec, err = st.GetPolicy(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Status != store.PolicyPendingApproval || rec.Match.Status != store.MatchFailed || rec.Match.Owner != "" ||
				rec.Match.Read != 7 || rec.Match.NextRetryAt != nil || rec.StatusReason == "" {
				t.Fatalf("after it was sent back: %s %q %+v", rec.Status, rec.StatusReason, rec.Match)
			}
			read := func() int {
				t.Helper()
				n := 0
				for i := 0; i < 40; i++ {
					recs, err := st.ListUsageRecords(ctx, subjectOf(i), "", 10)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range recs {
						if r.ItemCode == code {
							n++
						}
					}
				}
				return n
			}
			if n := read(); n != 7 {
				t.Fatalf("%d holders read, want the first page's 7", n)
			}
			// A worker does not resume it …
			b := benchService(t, st)
			b.Batch, b.Poll = 4, 20*time.Millisecond
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); b.Run(runCtx) }()
			defer func() { stop(); <-done }()
			waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := b.WaitIdle(waitCtx); err != nil {
				t.Fatal(err)
			}
			if _, err := b.RequestMatch(ctx, code); !errors.Is(err, ErrNotApproved) {
				t.Fatalf("a match of a pending policy: %v", err)
			}
			// … until the administrator approves it again.
			if _, err := b.Approve(ctx, code, audit.Actor{Kind: store.KindAdmin, ID: "admin"}, ""); err != nil {
				t.Fatal(err)
			}
			if err := b.WaitIdle(waitCtx); err != nil {
				t.Fatal(err)
			}
			rec, err = st.GetPolicy(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Status != store.PolicyApproved || rec.Match.Status != store.MatchDone || rec.Match.Read != 40 || rec.StatusReason != "" {
				t.Fatalf("after re-approval: %s %+v", rec.Status, rec.Match)
			}
		})
	}
}
