package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/suishen/suishen/store"
)

// StatusLists lists every status list in use, by ID, with what is known of
// its stored signed form (not the JWS itself: listing stays cheap at any
// number of lists).
func (q *Queries) StatusLists(ctx context.Context) ([]store.StatusListInfo, error) {
	out, err := list(ctx, q.db, func(s scanner) (store.StatusListInfo, error) {
		var l store.StatusListInfo
		var signedAt, signedFor *time.Time
		err := s.Scan(&l.ID, &l.UpdatedAt, &l.Version, &l.SM3, &l.KeyID, &signedAt, &signedFor)
		l.SignedAt, l.SignedFor = deref(signedAt), deref(signedFor)
		return l, err
	}, `SELECT id, updated_at, version, sm3, key_id, signed_at, signed_for FROM status_lists ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: status lists: %w", err)
	}
	return out, nil
}

// GetSignedStatusList returns list id's stored signed form.
func (q *Queries) GetSignedStatusList(ctx context.Context, id string) (store.SignedStatusList, error) {
	var l store.SignedStatusList
	var signedAt, signedFor *time.Time
	err := q.db.QueryRow(ctx, `SELECT id, version, jws, sm3, key_id, signed_at, signed_for, updated_at, prev_jws, prev_sm3
		FROM status_lists WHERE id = $1`, id).
		Scan(&l.ID, &l.Version, &l.JWS, &l.SM3, &l.KeyID, &signedAt, &signedFor, &l.UpdatedAt, &l.PrevJWS, &l.PrevSM3)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return l, err
		}
		return l, fmt.Errorf("store: signed status list: %w", err)
	}
	l.SignedAt, l.SignedFor = deref(signedAt), deref(signedFor)
	return l, nil
}

// PutSignedStatusList stores s if the stored version is s.Version-1.
func (q *Queries) PutSignedStatusList(ctx context.Context, s store.SignedStatusList) error {
	n, err := q.db.Exec(ctx, `UPDATE status_lists SET prev_jws = jws, prev_sm3 = sm3,
		version = $2, jws = $3, sm3 = $4, key_id = $5, signed_at = $6, signed_for = $7
		WHERE id = $1 AND version = $8`,
		s.ID, s.Version, s.JWS, s.SM3, s.KeyID, s.SignedAt.UTC().Truncate(time.Microsecond),
		s.SignedFor.UTC().Truncate(time.Microsecond), s.Version-1)
	if err != nil {
		return fmt.Errorf("store: put signed status list: %w", err)
	}
	if n == 1 {
		return nil
	}
	var v int64
	if err := q.db.QueryRow(ctx, `SELECT version FROM status_lists WHERE id = $1`, s.ID).Scan(&v); err != nil {
		return err // ErrNotFound for no such list
	}
	return store.ErrConflict
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// NextStatusSlots reserves n slots of partition from its row of
// status_slots (created on first use).
func (q *Queries) NextStatusSlots(ctx context.Context, partition string, n int) (int64, error) {
	if n < 1 || partition == "" {
		return 0, errors.New("store: next status slots: a partition and n ≥ 1 are required")
	}
	var first int64
	err := q.db.QueryRow(ctx, `INSERT INTO status_slots (partition, next) VALUES ($1, $2)
		ON CONFLICT (partition) DO UPDATE SET next = status_slots.next + $2
		RETURNING next - $2`, partition, int64(n)).Scan(&first)
	if err != nil {
		return 0, fmt.Errorf("store: next status slots: %w", err)
	}
	return first, nil
}
