package sqlite

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreateServiceItem implements store.CaseQueries.
func (s *Store) CreateServiceItem(ctx context.Context, it store.ServiceItem) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateServiceItem(ctx, it) })
}

// CreateCase implements store.CaseQueries.
func (s *Store) CreateCase(ctx context.Context, c store.Case) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCase(ctx, c) })
}

// SetDepartmentTypes implements store.Queries.
func (s *Store) SetDepartmentTypes(ctx context.Context, id string, types []string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.SetDepartmentTypes(ctx, id, types, at) })
}

// SetAppServiceItems implements store.Queries.
func (s *Store) SetAppServiceItems(ctx context.Context, id string, items []string) error {
	return s.write(ctx, func(q store.Queries) error { return q.SetAppServiceItems(ctx, id, items) })
}

// DecideCase implements store.CaseQueries.
func (s *Store) DecideCase(ctx context.Context, id string, d store.CaseDecision) error {
	return s.write(ctx, func(q store.Queries) error { return q.DecideCase(ctx, id, d) })
}

// ReplaceSeededServiceItem implements store.CaseQueries.
func (s *Store) ReplaceSeededServiceItem(ctx context.Context, it store.ServiceItem) (bool, error) {
	var ok bool
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		ok, err = q.ReplaceSeededServiceItem(ctx, it)
		return err
	})
	return ok, err
}
