package postgres

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreateCode implements store.CodeQueries; outside a transaction it runs in
// one, so that the code and its status list go in together.
func (s *Store) CreateCode(ctx context.Context, c store.Code) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.CreateCode(ctx, c) })
}

// ChangeCodeStatus implements store.CodeQueries; outside a transaction it
// runs in one, so that the code and its status list change together.
func (s *Store) ChangeCodeStatus(ctx context.Context, id, from, to string, at time.Time) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.ChangeCodeStatus(ctx, id, from, to, at) })
}
