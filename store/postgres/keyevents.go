package postgres

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreateDepartment implements store.Queries; outside a transaction it runs
// in one, so that the department and its type periods go in together.
func (s *Store) CreateDepartment(ctx context.Context, d store.Department) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.CreateDepartment(ctx, d) })
}

// SetDepartmentTypes implements store.Queries; outside a transaction it runs
// in one, so that the types and their periods change together.
func (s *Store) SetDepartmentTypes(ctx context.Context, id string, types []string, at time.Time) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.SetDepartmentTypes(ctx, id, types, at) })
}
