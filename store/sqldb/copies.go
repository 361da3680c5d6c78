package sqldb

import (
	"context"
	"fmt"

	"github.com/suishen/suishen/store"
)

const copyCols = `id, certificate_id, holder_subject, recipient_org, recipient_uscc, purpose, code, created_by, case_id, created_at, expires_at`

func scanCopy(s scanner) (store.Copy, error) {
	var c store.Copy
	err := s.Scan(&c.ID, &c.CertificateID, &c.HolderSubject, &c.RecipientOrg, &c.RecipientUSCC, &c.Purpose, &c.Code,
		&c.CreatedBy, &c.CaseID, &c.CreatedAt, &c.ExpiresAt)
	return c, err
}

// CreateCopy stores c; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateCopy(ctx context.Context, c store.Copy) error {
	_, err := q.db.Exec(ctx, `INSERT INTO copies (`+copyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.CertificateID, c.HolderSubject, c.RecipientOrg, c.RecipientUSCC, c.Purpose, c.Code, c.CreatedBy, c.CaseID,
		c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create copy: %w", err)
	}
	return nil
}

// GetCopy returns the copy with the given ID or store.ErrNotFound.
func (q *Queries) GetCopy(ctx context.Context, id string) (store.Copy, error) {
	c, err := scanCopy(q.db.QueryRow(ctx, `SELECT `+copyCols+` FROM copies WHERE id = $1`, id))
	if err != nil {
		return store.Copy{}, fmt.Errorf("store: get copy: %w", err)
	}
	return c, nil
}

// ListCopiesByHolder lists the holder's copies with ID > after, in byte
// order of ID (time order for UUIDv7 IDs).
func (q *Queries) ListCopiesByHolder(ctx context.Context, subject, after string, limit int) ([]store.Copy, error) {
	out, err := list(ctx, q.db, scanCopy,
		`SELECT `+copyCols+` FROM copies WHERE holder_subject = $1 AND id > $2 ORDER BY id LIMIT $3`,
		subject, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list copies: %w", err)
	}
	return out, nil
}
