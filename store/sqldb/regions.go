package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/store"
)

const regionCols = `code, name, anchor_pem, trust_url, created_at, bundle_jws, bundle_issued_at, bundle_expires_at,
	next_fetch_at, last_attempt_at, last_success_at, last_error, failures, updated_at, receipts_since`

func scanRegion(r interface{ Scan(...any) error }) (store.Region, error) {
	var x store.Region
	err := r.Scan(&x.Code, &x.Name, &x.AnchorPEM, &x.TrustURL, &x.CreatedAt, &x.BundleJWS, &x.BundleIssuedAt, &x.BundleExpiresAt,
		&x.NextFetchAt, &x.LastAttemptAt, &x.LastSuccessAt, &x.LastError, &x.Failures, &x.UpdatedAt, &x.ReceiptsSince)
	return x, err
}

// CreateRegion implements store.RegionQueries.
func (q *Queries) CreateRegion(ctx context.Context, r store.Region) error {
	_, err := q.db.Exec(ctx, `INSERT INTO regions (code, name, anchor_pem, trust_url, created_at, next_fetch_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.Code, r.Name, r.AnchorPEM, r.TrustURL, r.CreatedAt, r.NextFetchAt, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create region: %w", err)
	}
	return nil
}

// GetRegion implements store.RegionQueries.
func (q *Queries) GetRegion(ctx context.Context, code string) (store.Region, error) {
	r, err := scanRegion(q.db.QueryRow(ctx, `SELECT `+regionCols+` FROM regions WHERE code = $1`, code))
	if err != nil {
		return store.Region{}, fmt.Errorf("store: get region: %w", err)
	}
	return r, nil
}

// ListRegions implements store.RegionQueries.
func (q *Queries) ListRegions(ctx context.Context, after string, limit int) ([]store.Region, error) {
	rows, err := q.db.Query(ctx, `SELECT `+regionCols+` FROM regions WHERE code > $1 ORDER BY code LIMIT $2`, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list regions: %w", err)
	}
	defer rows.Close()
	var out []store.Region
	for rows.Next() {
		r, err := scanRegion(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list regions: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list regions: %w", err)
	}
	return out, nil
}

// DeleteRegion implements store.RegionQueries (its lists go by ON DELETE
// CASCADE).
func (q *Queries) DeleteRegion(ctx context.Context, code string) error {
	n, err := q.db.Exec(ctx, `DELETE FROM regions WHERE code = $1`, code)
	if err != nil {
		return fmt.Errorf("store: delete region: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: delete region: %w", store.ErrNotFound)
	}
	return nil
}

// RecordRegionFetch implements store.RegionQueries.
func (q *Queries) RecordRegionFetch(ctx context.Context, code string, f store.RegionFetch) (bool, error) {
	if f.BundleJWS == "" {
		n, err := q.db.Exec(ctx, `UPDATE regions SET last_attempt_at = $2, next_fetch_at = $3, last_error = $4,
			failures = failures + 1, revision = revision + 1, updated_at = $2 WHERE code = $1`, code, f.At, f.NextFetchAt, f.Err)
		if err != nil {
			return false, fmt.Errorf("store: record region fetch: %w", err)
		}
		if n == 0 {
			return false, fmt.Errorf("store: record region fetch: %w", store.ErrNotFound)
		}
		return false, nil
	}
	// The held bundle is replaced only by one issued at the same time or
	// later: a replayed older bundle (validly signed, but stale) would undo
	// revocations.
	n, err := q.db.Exec(ctx, `UPDATE regions SET bundle_jws = $2, bundle_issued_at = $3, bundle_expires_at = $4,
			last_attempt_at = $5, last_success_at = $5, next_fetch_at = $6, last_error = $7, failures = 0, revision = revision + 1, updated_at = $5
		WHERE code = $1 AND (bundle_issued_at IS NULL OR bundle_issued_at <= $3)`,
		code, f.BundleJWS, f.BundleIssuedAt, f.BundleExpiresAt, f.At, f.NextFetchAt, f.Warning)
	if err != nil {
		return false, fmt.Errorf("store: record region fetch: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	if _, err := q.GetRegion(ctx, code); err != nil {
		return false, fmt.Errorf("store: record region fetch: %w", err)
	}
	return false, nil
}

// RegionListsHeld implements store.RegionQueries.
func (q *Queries) RegionListsHeld(ctx context.Context, code string) (map[string]string, error) {
	rows, err := q.db.Query(ctx, `SELECT id, sm3 FROM region_status_lists WHERE region_code = $1`, code)
	if err != nil {
		return nil, fmt.Errorf("store: region lists: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, sum string
		if err := rows.Scan(&id, &sum); err != nil {
			return nil, fmt.Errorf("store: region lists: %w", err)
		}
		out[id] = sum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: region lists: %w", err)
	}
	return out, nil
}

// PutRegionList implements store.RegionQueries.
func (q *Queries) PutRegionList(ctx context.Context, code string, l store.RegionList) error {
	_, err := q.db.Exec(ctx, `INSERT INTO region_status_lists (region_code, id, sm3, jws) VALUES ($1, $2, $3, $4)
		ON CONFLICT (region_code, id) DO UPDATE SET sm3 = excluded.sm3, jws = excluded.jws`, code, l.ID, l.SM3, l.JWS)
	if err != nil {
		if _, gerr := q.GetRegion(ctx, code); errors.Is(gerr, store.ErrNotFound) {
			return fmt.Errorf("store: put region list: %w", store.ErrNotFound)
		}
		return fmt.Errorf("store: put region list: %w", err)
	}
	return nil
}

// GetRegionList implements store.RegionQueries.
func (q *Queries) GetRegionList(ctx context.Context, code, id, sm3 string) (store.RegionList, error) {
	l := store.RegionList{}
	err := q.db.QueryRow(ctx, `SELECT id, sm3, jws FROM region_status_lists WHERE region_code = $1 AND id = $2 AND sm3 = $3`,
		code, id, sm3).Scan(&l.ID, &l.SM3, &l.JWS)
	if err != nil {
		return store.RegionList{}, fmt.Errorf("store: get region list: %w", err)
	}
	return l, nil
}

// PruneRegionLists implements store.RegionQueries.
func (q *Queries) PruneRegionLists(ctx context.Context, code string, keep []string) error {
	held, err := q.RegionListsHeld(ctx, code)
	if err != nil {
		return err
	}
	k := make(map[string]bool, len(keep))
	for _, id := range keep {
		k[id] = true
	}
	for id := range held {
		if k[id] {
			continue
		}
		if _, err := q.db.Exec(ctx, `DELETE FROM region_status_lists WHERE region_code = $1 AND id = $2`, code, id); err != nil {
			return fmt.Errorf("store: prune region lists: %w", err)
		}
	}
	return nil
}

// RegionsVersion implements store.RegionQueries: every region's code,
// revision (bumped by every recorded fetch) and registration time.
func (q *Queries) RegionsVersion(ctx context.Context) (string, error) {
	rows, err := q.db.Query(ctx, `SELECT code, revision, created_at FROM regions ORDER BY code`)
	if err != nil {
		return "", fmt.Errorf("store: regions version: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var code string
		var rev int64
		var created time.Time
		if err := rows.Scan(&code, &rev, &created); err != nil {
			return "", fmt.Errorf("store: regions version: %w", err)
		}
		b.WriteString(code + "/" + strconv.FormatInt(rev, 10) + "/" + created.UTC().Format(time.RFC3339Nano) + ";")
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("store: regions version: %w", err)
	}
	return b.String(), nil
}

const receiptCols = `id, region_code, at, org, org_uscc, org_unit, operator, item_code, item_name, business_code, purpose,
	certificate_id, code_kind, code_subject, channel, result`

// AddUsageReceipt implements store.RegionQueries.
func (q *Queries) AddUsageReceipt(ctx context.Context, r store.UsageReceipt) error {
	_, err := q.db.Exec(ctx, `INSERT INTO region_usage_receipts (`+receiptCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		r.ID, r.RegionCode, r.At, r.Org, r.OrgUSCC, r.OrgUnit, r.Operator, r.ItemCode, r.ItemName, r.BusinessCode, r.Purpose,
		r.CertificateID, r.CodeKind, r.CodeSubject, r.Channel, r.Result)
	if err != nil {
		return fmt.Errorf("store: add usage receipt: %w", err)
	}
	return nil
}

// ListUsageReceipts implements store.RegionQueries.
func (q *Queries) ListUsageReceipts(ctx context.Context, region, after string, limit int) ([]store.UsageReceipt, error) {
	rows, err := q.db.Query(ctx, `SELECT `+receiptCols+` FROM region_usage_receipts WHERE region_code = $1 AND id > $2 ORDER BY id LIMIT $3`,
		region, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list usage receipts: %w", err)
	}
	defer rows.Close()
	var out []store.UsageReceipt
	for rows.Next() {
		var r store.UsageReceipt
		if err := rows.Scan(&r.ID, &r.RegionCode, &r.At, &r.Org, &r.OrgUSCC, &r.OrgUnit, &r.Operator, &r.ItemCode, &r.ItemName,
			&r.BusinessCode, &r.Purpose, &r.CertificateID, &r.CodeKind, &r.CodeSubject, &r.Channel, &r.Result); err != nil {
			return nil, fmt.Errorf("store: list usage receipts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list usage receipts: %w", err)
	}
	return out, nil
}

// SetReceiptsSince implements store.RegionQueries.
func (q *Queries) SetReceiptsSince(ctx context.Context, code, since string) error {
	n, err := q.db.Exec(ctx, `UPDATE regions SET receipts_since = $2 WHERE code = $1`, code, since)
	if err != nil {
		return fmt.Errorf("store: set receipts since: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: set receipts since: %w", store.ErrNotFound)
	}
	return nil
}
