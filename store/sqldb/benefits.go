package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/store"
)

// ---- 免申即享: policies, entitlements, and what matching reads ----

const policyCols = `code, department_uscc, spec, types, created_at, matched_at`

func scanPolicy(s scanner) (store.PolicyRecord, error) {
	var p store.PolicyRecord
	var types string
	err := s.Scan(&p.Code, &p.DepartmentUSCC, &p.Spec, &types, &p.CreatedAt, &p.MatchedAt)
	if types != "" {
		p.Types = strings.Split(types, ",")
	}
	return p, err
}

// CreatePolicy stores p.
func (q *Queries) CreatePolicy(ctx context.Context, p store.PolicyRecord) error {
	if _, err := q.db.Exec(ctx, `INSERT INTO policies (`+policyCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.Code, p.DepartmentUSCC, nz(p.Spec), strings.Join(p.Types, ","), p.CreatedAt, p.MatchedAt); err != nil {
		return fmt.Errorf("store: create policy: %w", err)
	}
	return nil
}

// GetPolicy returns a policy or store.ErrNotFound.
func (q *Queries) GetPolicy(ctx context.Context, code string) (store.PolicyRecord, error) {
	p, err := scanPolicy(q.db.QueryRow(ctx, `SELECT `+policyCols+` FROM policies WHERE code = $1`, code))
	if err != nil {
		return store.PolicyRecord{}, fmt.Errorf("store: get policy: %w", err)
	}
	return p, nil
}

// ListPolicies lists policies after a code.
func (q *Queries) ListPolicies(ctx context.Context, after string, limit int) ([]store.PolicyRecord, error) {
	out, err := list(ctx, q.db, scanPolicy, `SELECT `+policyCols+` FROM policies WHERE code > $1 ORDER BY code LIMIT $2`, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list policies: %w", err)
	}
	return out, nil
}

// SetPolicyMatched records the time of a full match.
func (q *Queries) SetPolicyMatched(ctx context.Context, code string, at time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE policies SET matched_at = $2 WHERE code = $1`, code, at)
	if err != nil {
		return fmt.Errorf("store: policy matched: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: policy matched: %w", store.ErrNotFound)
	}
	return nil
}

const entitlementCols = `id, policy_code, holder_subject, masked_name, status, evidence, created_at, updated_at, evaluated_at`

func scanEntitlement(s scanner) (store.Entitlement, error) {
	var e store.Entitlement
	err := s.Scan(&e.ID, &e.PolicyCode, &e.HolderSubject, &e.MaskedName, &e.Status, &e.Evidence, &e.CreatedAt, &e.UpdatedAt, &e.EvaluatedAt)
	return e, err
}

// GetEntitlement returns an entitlement by ID.
func (q *Queries) GetEntitlement(ctx context.Context, id string) (store.Entitlement, error) {
	e, err := scanEntitlement(q.db.QueryRow(ctx, `SELECT `+entitlementCols+` FROM entitlements WHERE id = $1`, id))
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("store: get entitlement: %w", err)
	}
	return e, nil
}

// GetEntitlementFor returns the policy's entitlement of a holder.
func (q *Queries) GetEntitlementFor(ctx context.Context, policy, subject string) (store.Entitlement, error) {
	e, err := scanEntitlement(q.db.QueryRow(ctx, `SELECT `+entitlementCols+` FROM entitlements WHERE policy_code = $1 AND holder_subject = $2`, policy, subject))
	if err != nil {
		return store.Entitlement{}, fmt.Errorf("store: get entitlement: %w", err)
	}
	return e, nil
}

// OfferEntitlement inserts an offer or refreshes the existing entitlement;
// a declined one stays declined.
func (q *Queries) OfferEntitlement(ctx context.Context, e store.Entitlement) error {
	_, err := q.db.Exec(ctx, `INSERT INTO entitlements (`+entitlementCols+`) VALUES ($1, $2, $3, $4, 'offered', $5, $6, $6, $7)
		ON CONFLICT (policy_code, holder_subject) DO UPDATE SET masked_name = excluded.masked_name,
		status = CASE WHEN entitlements.status = 'declined' THEN 'declined' ELSE 'offered' END,
		evidence = excluded.evidence, evaluated_at = excluded.evaluated_at,
		updated_at = CASE WHEN entitlements.status = 'withdrawn' THEN excluded.updated_at ELSE entitlements.updated_at END`,
		e.ID, e.PolicyCode, e.HolderSubject, e.MaskedName, nz(e.Evidence), e.UpdatedAt, e.EvaluatedAt)
	if err != nil {
		return fmt.Errorf("store: offer entitlement: %w", err)
	}
	return nil
}

// WithdrawEntitlement withdraws an offered entitlement.
func (q *Queries) WithdrawEntitlement(ctx context.Context, policy, subject string, at time.Time) (bool, error) {
	n, err := q.db.Exec(ctx, `UPDATE entitlements SET status = 'withdrawn', updated_at = $3
		WHERE policy_code = $1 AND holder_subject = $2 AND status = 'offered'`, policy, subject, at)
	if err != nil {
		return false, fmt.Errorf("store: withdraw entitlement: %w", err)
	}
	return n > 0, nil
}

// DeclineEntitlement records the holder's decline.
func (q *Queries) DeclineEntitlement(ctx context.Context, id, subject string, at time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE entitlements SET status = 'declined', updated_at = $3
		WHERE id = $1 AND holder_subject = $2 AND status <> 'declined'`, id, subject, at)
	if err != nil {
		return fmt.Errorf("store: decline entitlement: %w", err)
	}
	if n == 0 {
		e, err := q.GetEntitlement(ctx, id)
		if err != nil || e.HolderSubject != subject {
			return fmt.Errorf("store: decline entitlement: %w", store.ErrNotFound)
		}
	}
	return nil
}

// ListEntitlementsByHolder pages a holder's entitlements.
func (q *Queries) ListEntitlementsByHolder(ctx context.Context, subject, after string, limit int) ([]store.Entitlement, error) {
	out, err := list(ctx, q.db, scanEntitlement, `SELECT `+entitlementCols+` FROM entitlements WHERE holder_subject = $1 AND id > $2 ORDER BY id LIMIT $3`,
		subject, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list entitlements: %w", err)
	}
	return out, nil
}

// ListEntitlementsByPolicy pages a policy's entitlements.
func (q *Queries) ListEntitlementsByPolicy(ctx context.Context, policy, after string, limit int) ([]store.Entitlement, error) {
	out, err := list(ctx, q.db, scanEntitlement, `SELECT `+entitlementCols+` FROM entitlements WHERE policy_code = $1 AND id > $2 ORDER BY id LIMIT $3`,
		policy, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list entitlements: %w", err)
	}
	return out, nil
}

// WithdrawStale withdraws offers a full match did not renew.
func (q *Queries) WithdrawStale(ctx context.Context, policy string, before, at time.Time) (int64, error) {
	n, err := q.db.Exec(ctx, `UPDATE entitlements SET status = 'withdrawn', updated_at = $3
		WHERE policy_code = $1 AND status = 'offered' AND evaluated_at < $2`, policy, before, at)
	if err != nil {
		return 0, fmt.Errorf("store: withdraw entitlements: %w", err)
	}
	return n, nil
}

const matchCols = `id, type_code, holder_subject, valid_from, valid_until, jws`

func scanMatch(s scanner) (store.MatchCertificate, error) {
	var c store.MatchCertificate
	err := s.Scan(&c.ID, &c.TypeCode, &c.HolderSubject, &c.ValidFrom, &c.ValidUntil, &c.JWS)
	return c, err
}

// ValidCertificatesByType walks a type's valid certificates in holder order
// (the certificates_type_holder_idx partial index). The keyset condition is a
// row-value comparison, which both databases turn into an index range: the
// equivalent OR of two conditions made PostgreSQL filter the type's whole
// range on every page (a 1M-certificate match never finished).
func (q *Queries) ValidCertificatesByType(ctx context.Context, typeCode, afterHolder, afterID string, limit int) ([]store.MatchCertificate, error) {
	out, err := list(ctx, q.db, scanMatch, `SELECT `+matchCols+` FROM certificates
		WHERE type_code = $1 AND status = 'valid' AND (holder_subject, id) > ($2, $3)
		ORDER BY type_code, holder_subject, id LIMIT $4`, typeCode, afterHolder, afterID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: certificates by type: %w", err)
	}
	return out, nil
}

// ValidCertificatesOf returns the holders' valid certificates of the types,
// asking in chunks of 200 holders.
func (q *Queries) ValidCertificatesOf(ctx context.Context, subjects, types []string) ([]store.MatchCertificate, error) {
	out := []store.MatchCertificate{}
	if len(types) == 0 {
		return out, nil
	}
	for len(subjects) > 0 {
		chunk := subjects[:min(len(subjects), 200)]
		subjects = subjects[len(chunk):]
		var b strings.Builder
		b.WriteString(`SELECT ` + matchCols + ` FROM certificates WHERE status = 'valid' AND holder_subject IN (`)
		args := make([]any, 0, len(chunk)+len(types))
		for i, s := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(len(args)+1))
			args = append(args, s)
		}
		b.WriteString(`) AND type_code IN (`)
		for i, t := range types {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(len(args)+1))
			args = append(args, t)
		}
		b.WriteString(`) ORDER BY holder_subject, id`)
		rows, err := list(ctx, q.db, scanMatch, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("store: certificates of holders: %w", err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// AddUsageRecords appends records with multi-row inserts (250 a statement).
func (q *Queries) AddUsageRecords(ctx context.Context, rs []store.UsageRecord) error {
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), 250)]
		rs = rs[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO usage_records (` + usageRecordCols + `) VALUES `)
		args := make([]any, 0, len(chunk)*17)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			placeholders(&b, len(args), 17)
			args = append(args, r.ID, r.HolderSubject, r.At, r.Org, r.OrgUSCC, r.Operator, r.ItemCode, r.ItemName,
				r.BusinessCode, r.Purpose, r.CertificateID, r.CodeKind, r.Channel, r.Result, r.AppID, r.Detail, r.OrgUnit)
		}
		if _, err := q.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: add usage records: %w", err)
		}
	}
	return nil
}
