package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/suishen/suishen/store"
)

// ResignCode replaces a valid code's text and times (same generation, same
// status slot) when it was signed again with another key; oldText must be
// the stored text (store.ErrConflict otherwise: it changed meanwhile).
func (q *Queries) ResignCode(ctx context.Context, id, oldText, text string, issuedAt, expiresAt, at time.Time) error {
	n, err := q.db.Exec(ctx,
		`UPDATE codes SET text = $3, issued_at = $4, expires_at = $5, updated_at = $6
		 WHERE id = $1 AND text = $2 AND status = 'valid'`, id, oldText, text, issuedAt, expiresAt, at)
	if err != nil {
		return fmt.Errorf("store: re-sign code: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: re-sign code: %w", store.ErrConflict)
	}
	return nil
}
