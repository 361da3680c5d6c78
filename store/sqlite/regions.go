package sqlite

import (
	"context"

	"github.com/suishen/suishen/store"
)

// CreateRegion implements store.RegionQueries.
func (s *Store) CreateRegion(ctx context.Context, r store.Region) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateRegion(ctx, r) })
}

// DeleteRegion implements store.RegionQueries.
func (s *Store) DeleteRegion(ctx context.Context, code string) error {
	return s.write(ctx, func(q store.Queries) error { return q.DeleteRegion(ctx, code) })
}

// RecordRegionFetch implements store.RegionQueries.
func (s *Store) RecordRegionFetch(ctx context.Context, code string, f store.RegionFetch) (replaced bool, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		replaced, err = q.RecordRegionFetch(ctx, code, f)
		return err
	})
	return replaced, err
}

// PutRegionList implements store.RegionQueries.
func (s *Store) PutRegionList(ctx context.Context, code string, l store.RegionList) error {
	return s.write(ctx, func(q store.Queries) error { return q.PutRegionList(ctx, code, l) })
}

// PruneRegionLists implements store.RegionQueries.
func (s *Store) PruneRegionLists(ctx context.Context, code string, keep []string) error {
	return s.write(ctx, func(q store.Queries) error { return q.PruneRegionLists(ctx, code, keep) })
}

// AddUsageReceipt implements store.RegionQueries.
func (s *Store) AddUsageReceipt(ctx context.Context, r store.UsageReceipt) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddUsageReceipt(ctx, r) })
}

// SetReceiptsSince implements store.RegionQueries.
func (s *Store) SetReceiptsSince(ctx context.Context, code, since string) error {
	return s.write(ctx, func(q store.Queries) error { return q.SetReceiptsSince(ctx, code, since) })
}
