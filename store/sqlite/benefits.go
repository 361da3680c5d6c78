package sqlite

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreatePolicy implements store.Queries.
func (s *Store) CreatePolicy(ctx context.Context, p store.PolicyRecord) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreatePolicy(ctx, p) })
}

// SetPolicyMatched implements store.Queries.
func (s *Store) SetPolicyMatched(ctx context.Context, code string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.SetPolicyMatched(ctx, code, at) })
}

// OfferEntitlement implements store.Queries.
func (s *Store) OfferEntitlement(ctx context.Context, e store.Entitlement) error {
	return s.write(ctx, func(q store.Queries) error { return q.OfferEntitlement(ctx, e) })
}

// WithdrawEntitlement implements store.Queries.
func (s *Store) WithdrawEntitlement(ctx context.Context, policy, subject string, at time.Time) (ok bool, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		ok, err = q.WithdrawEntitlement(ctx, policy, subject, at)
		return err
	})
	return ok, err
}

// DeclineEntitlement implements store.Queries.
func (s *Store) DeclineEntitlement(ctx context.Context, id, subject string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.DeclineEntitlement(ctx, id, subject, at) })
}

// WithdrawStale implements store.Queries.
func (s *Store) WithdrawStale(ctx context.Context, policy string, before, at time.Time) (n int64, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		n, err = q.WithdrawStale(ctx, policy, before, at)
		return err
	})
	return n, err
}

// AddUsageRecords implements store.Queries.
func (s *Store) AddUsageRecords(ctx context.Context, rs []store.UsageRecord) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddUsageRecords(ctx, rs) })
}

// SetPolicyStatus implements store.Queries.
func (s *Store) SetPolicyStatus(ctx context.Context, code, status string, approvedAt *time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.SetPolicyStatus(ctx, code, status, approvedAt) })
}

// RequestMatch implements store.Queries.
func (s *Store) RequestMatch(ctx context.Context, code string, at time.Time) (ok bool, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		ok, err = q.RequestMatch(ctx, code, at)
		return err
	})
	return ok, err
}

// ClaimMatch implements store.Queries.
func (s *Store) ClaimMatch(ctx context.Context, owner, code string, now, leaseUntil, runAt time.Time) (p store.PolicyRecord, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		p, err = q.ClaimMatch(ctx, owner, code, now, leaseUntil, runAt)
		return err
	})
	return p, err
}

// MatchPageDone implements store.Queries.
func (s *Store) MatchPageDone(ctx context.Context, code, owner string, p store.MatchPage) error {
	return s.write(ctx, func(q store.Queries) error { return q.MatchPageDone(ctx, code, owner, p) })
}

// FinishMatch implements store.Queries.
func (s *Store) FinishMatch(ctx context.Context, code, owner string, at time.Time, withdrawn int64, errText string) error {
	return s.write(ctx, func(q store.Queries) error { return q.FinishMatch(ctx, code, owner, at, withdrawn, errText) })
}

// ReleaseMatch implements store.Queries.
func (s *Store) ReleaseMatch(ctx context.Context, code, owner string) error {
	return s.write(ctx, func(q store.Queries) error { return q.ReleaseMatch(ctx, code, owner) })
}

// OfferEntitlements implements store.Queries.
func (s *Store) OfferEntitlements(ctx context.Context, es []store.Entitlement) error {
	return s.write(ctx, func(q store.Queries) error { return q.OfferEntitlements(ctx, es) })
}

// WithdrawEntitlements implements store.Queries.
func (s *Store) WithdrawEntitlements(ctx context.Context, policy string, subjects []string, at time.Time) (n int64, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		n, err = q.WithdrawEntitlements(ctx, policy, subjects, at)
		return err
	})
	return n, err
}

// AddBenefitEvents implements store.Queries.
func (s *Store) AddBenefitEvents(ctx context.Context, es []store.BenefitEvent) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddBenefitEvents(ctx, es) })
}

// DeleteBenefitEvents implements store.Queries.
func (s *Store) DeleteBenefitEvents(ctx context.Context, ids []int64) error {
	return s.write(ctx, func(q store.Queries) error { return q.DeleteBenefitEvents(ctx, ids) })
}

// DeferBenefitEvents implements store.Queries.
func (s *Store) DeferBenefitEvents(ctx context.Context, ids []int64, notBefore time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.DeferBenefitEvents(ctx, ids, notBefore) })
}

// ChangePolicyStatus implements store.Queries.
func (s *Store) ChangePolicyStatus(ctx context.Context, code string, from []string, status, reason string, at time.Time) (ok bool, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		ok, err = q.ChangePolicyStatus(ctx, code, from, status, reason, at)
		return err
	})
	return ok, err
}

// FailMatch implements store.Queries.
func (s *Store) FailMatch(ctx context.Context, code, owner string, at time.Time, errText string, nextRetry *time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.FailMatch(ctx, code, owner, at, errText, nextRetry) })
}
