package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/suishen/suishen/store"
)

const loginTicketCols = `ticket_hash, subject, holder_kind, display_name, created_by, created_at, expires_at, used_at`

// CreateLoginTicket stores t; a taken hash gives store.ErrAlreadyExists.
func (q *Queries) CreateLoginTicket(ctx context.Context, t store.LoginTicket) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO login_tickets (`+loginTicketCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
		nz(t.TicketHash), t.Subject, t.HolderKind, t.DisplayName, t.CreatedBy, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create login ticket: %w", err)
	}
	return nil
}

// UseLoginTicket marks an unused, unexpired ticket used in one statement, so
// two concurrent uses cannot both succeed.
func (q *Queries) UseLoginTicket(ctx context.Context, ticketHash []byte, now time.Time) (store.LoginTicket, error) {
	var t store.LoginTicket
	err := q.db.QueryRow(ctx,
		`UPDATE login_tickets SET used_at = $1 WHERE ticket_hash = $2 AND used_at IS NULL AND expires_at > $1
		 RETURNING `+loginTicketCols, now, nz(ticketHash)).
		Scan(&t.TicketHash, &t.Subject, &t.HolderKind, &t.DisplayName, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt)
	if err != nil {
		return store.LoginTicket{}, fmt.Errorf("store: use login ticket: %w", err)
	}
	return t, nil
}

// DeleteSession deletes the session with this token hash.
func (q *Queries) DeleteSession(ctx context.Context, tokenHash []byte) error {
	n, err := q.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, nz(tokenHash))
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteExpiredLoginTickets removes expired sign-in tickets.
func (q *Queries) DeleteExpiredLoginTickets(ctx context.Context, now time.Time) (int64, error) {
	n, err := q.db.Exec(ctx, `DELETE FROM login_tickets WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired login tickets: %w", err)
	}
	return n, nil
}
