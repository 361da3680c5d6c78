package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/suishen/suishen/store"
)

// ---- codes, check-ins, use codes, grants, usage records ----

// HolderRef implements store.CodeQueries. A holder seen before is read from
// the reader pool; only a new one takes the writer.
func (s *Store) HolderRef(ctx context.Context, subject, kind string, now time.Time) (int64, error) {
	ref, err := s.Queries.LookupHolderRef(ctx, subject)
	if !errors.Is(err, store.ErrNotFound) {
		return ref, err
	}
	err = s.write(ctx, func(q store.Queries) error {
		var err error
		ref, err = q.HolderRef(ctx, subject, kind, now)
		return err
	})
	return ref, err
}

// CreateCode implements store.CodeQueries.
func (s *Store) CreateCode(ctx context.Context, c store.Code) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCode(ctx, c) })
}

// ChangeCodeStatus implements store.CodeQueries.
func (s *Store) ChangeCodeStatus(ctx context.Context, id, from, to string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.ChangeCodeStatus(ctx, id, from, to, at) })
}

// AddCheckin implements store.CodeQueries.
func (s *Store) AddCheckin(ctx context.Context, c store.Checkin) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddCheckin(ctx, c) })
}

// CreateUseCode implements store.CodeQueries.
func (s *Store) CreateUseCode(ctx context.Context, u store.UseCode) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateUseCode(ctx, u) })
}

// RedeemUseCode implements store.CodeQueries.
func (s *Store) RedeemUseCode(ctx context.Context, hash []byte, app string, now time.Time) (store.UseCode, error) {
	var u store.UseCode
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		u, err = q.RedeemUseCode(ctx, hash, app, now)
		return err
	})
	return u, err
}

// CreateGrant implements store.CodeQueries.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateGrant(ctx, g) })
}

// RevokeGrant implements store.CodeQueries.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.RevokeGrant(ctx, id, at) })
}

// AddUsageRecord implements store.CodeQueries.
func (s *Store) AddUsageRecord(ctx context.Context, r store.UsageRecord) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddUsageRecord(ctx, r) })
}

// ResignCode implements store.CodeQueries.
func (s *Store) ResignCode(ctx context.Context, id, oldText, text string, issuedAt, expiresAt, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.ResignCode(ctx, id, oldText, text, issuedAt, expiresAt, at) })
}
