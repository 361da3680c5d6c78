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
