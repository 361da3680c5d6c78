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

// PutEntitlement implements store.Queries.
func (s *Store) PutEntitlement(ctx context.Context, e store.Entitlement) error {
	return s.write(ctx, func(q store.Queries) error { return q.PutEntitlement(ctx, e) })
}

// WithdrawStale implements store.Queries.
func (s *Store) WithdrawStale(ctx context.Context, policy string, before, at time.Time) (n int64, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		n, err = q.WithdrawStale(ctx, policy, before, at)
		return err
	})
	return n, err
}
