package sqldb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/suishen/suishen/store"
)

const copyCols = `id, certificate_id, holder_subject, recipient_org, recipient_uscc, purpose, code, created_by, case_id, created_at, expires_at,
	status_list, status_index, status, withdrawn_at`

func scanCopy(s scanner) (store.Copy, error) {
	var c store.Copy
	err := s.Scan(&c.ID, &c.CertificateID, &c.HolderSubject, &c.RecipientOrg, &c.RecipientUSCC, &c.Purpose, &c.Code,
		&c.CreatedBy, &c.CaseID, &c.CreatedAt, &c.ExpiresAt, &c.StatusList, &c.StatusIndex, &c.Status, &c.WithdrawnAt)
	return c, err
}

// CreateCopy stores c; a taken ID or status entry gives
// store.ErrAlreadyExists. A copy with its own status entry needs its
// certificate valid (store.ErrConflict otherwise: read in the same
// transaction, so a concurrent status change of the certificate either
// precedes it or sees the copy), and adds its status list when new. It
// runs several statements: backends run it in a transaction when the
// caller has none.
func (q *Queries) CreateCopy(ctx context.Context, c store.Copy) error {
	if err := q.createCopy(ctx, c); err != nil {
		return fmt.Errorf("store: create copy: %w", err)
	}
	return nil
}

func (q *Queries) createCopy(ctx context.Context, c store.Copy) error {
	c.Status = "valid"
	if c.StatusList != "" {
		var st string
		if err := q.db.QueryRow(ctx, `SELECT status FROM certificates WHERE id = $1`, c.CertificateID).Scan(&st); err != nil {
			return err
		}
		if st != "valid" {
			return store.ErrConflict
		}
	}
	_, err := q.db.Exec(ctx, `INSERT INTO copies (`+copyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.ID, c.CertificateID, c.HolderSubject, c.RecipientOrg, c.RecipientUSCC, c.Purpose, c.Code, c.CreatedBy, c.CaseID,
		c.CreatedAt, c.ExpiresAt, c.StatusList, c.StatusIndex, c.Status, c.WithdrawnAt)
	if err != nil || c.StatusList == "" {
		return err
	}
	return q.addStatusList(ctx, c.StatusList, c.CreatedAt)
}

// GetCopy returns the copy with the given ID or store.ErrNotFound.
func (q *Queries) GetCopy(ctx context.Context, id string) (store.Copy, error) {
	c, err := scanCopy(q.db.QueryRow(ctx, `SELECT `+copyCols+` FROM copies WHERE id = $1`, id))
	if err != nil {
		return store.Copy{}, fmt.Errorf("store: get copy: %w", err)
	}
	return c, nil
}

// GetCopyByStatus returns the copy whose own status entry is (list, index)
// or store.ErrNotFound.
func (q *Queries) GetCopyByStatus(ctx context.Context, list string, index int64) (store.Copy, error) {
	if list == "" {
		return store.Copy{}, fmt.Errorf("store: get copy by status: %w", store.ErrNotFound)
	}
	c, err := scanCopy(q.db.QueryRow(ctx, `SELECT `+copyCols+` FROM copies WHERE status_list = $1 AND status_index = $2 AND status_list <> ''`, list, index))
	if err != nil {
		return store.Copy{}, fmt.Errorf("store: get copy by status: %w", err)
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

// WithdrawCopy sets the copy's entry to revoked and its WithdrawnAt to at,
// and bumps its status list (see ChangeCertificateStatus for how). It
// runs several statements: backends run it in a transaction when the
// caller has none.
func (q *Queries) WithdrawCopy(ctx context.Context, id string, at time.Time) error {
	var list string
	err := q.db.QueryRow(ctx,
		`UPDATE copies SET status = 'revoked', withdrawn_at = $2
		 WHERE id = $1 AND withdrawn_at IS NULL AND status_list <> ''
		 RETURNING status_list`, id, at).Scan(&list)
	if errors.Is(err, store.ErrNotFound) {
		var one int
		if err = q.db.QueryRow(ctx, `SELECT 1 FROM copies WHERE id = $1`, id).Scan(&one); err == nil {
			err = store.ErrConflict
		}
	}
	if err == nil {
		err = q.bumpStatusList(ctx, list, at)
	}
	if err != nil {
		return fmt.Errorf("store: withdraw copy: %w", err)
	}
	return nil
}

// followCertificate gives the own entries of the certificate's copies that
// are neither expired at ch.At nor withdrawn the certificate's new status,
// and bumps their lists: a copy stops when its certificate stops, and
// verifies again when it is resumed.
func (q *Queries) followCertificate(ctx context.Context, ch store.CertificateStatusChange) error {
	lists, err := list(ctx, q.db, func(s scanner) (string, error) {
		var l string
		return l, s.Scan(&l)
	}, `UPDATE copies SET status = $2
		WHERE certificate_id = $1 AND status_list <> '' AND withdrawn_at IS NULL AND expires_at > $3 AND status <> $2
		RETURNING status_list`, ch.ID, ch.To, ch.At)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, l := range lists {
		if seen[l] {
			continue
		}
		seen[l] = true
		if err := q.bumpStatusList(ctx, l, ch.At); err != nil {
			return err
		}
	}
	return nil
}
