package sqlite

import (
	"context"
	"time"

	"github.com/suishen/suishen/store"
)

// CreateLoginTicket implements store.Queries.
func (s *Store) CreateLoginTicket(ctx context.Context, t store.LoginTicket) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateLoginTicket(ctx, t) })
}

// UseLoginTicket implements store.Queries.
func (s *Store) UseLoginTicket(ctx context.Context, ticketHash []byte, now time.Time) (store.LoginTicket, error) {
	var t store.LoginTicket
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		t, err = q.UseLoginTicket(ctx, ticketHash, now)
		return err
	})
	return t, err
}

// DeleteSession implements store.Queries.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.write(ctx, func(q store.Queries) error { return q.DeleteSession(ctx, tokenHash) })
}

// DeleteExpiredLoginTickets implements store.Queries.
func (s *Store) DeleteExpiredLoginTickets(ctx context.Context, now time.Time) (n int64, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		n, err = q.DeleteExpiredLoginTickets(ctx, now)
		return err
	})
	return n, err
}
