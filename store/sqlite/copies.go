package sqlite

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreateCopy implements store.Queries.
func (s *Store) CreateCopy(ctx context.Context, c store.Copy) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCopy(ctx, c) })
}

// WithdrawCopy implements store.Queries.
func (s *Store) WithdrawCopy(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.WithdrawCopy(ctx, id, at) })
}
