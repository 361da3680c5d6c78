package sqlite

import (
	"context"

	"github.com/suishen/suishen/store"
)

// CreateCopy implements store.Queries.
func (s *Store) CreateCopy(ctx context.Context, c store.Copy) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCopy(ctx, c) })
}
