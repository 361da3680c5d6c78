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

const policyCols = `code, department_uscc, spec, types, created_at, matched_at, status, approved_at,
	match_status, match_requested_at, match_started_at, match_finished_at, match_run_at, match_cursor,
	match_read, match_eligible, match_withdrawn, match_owner, match_lease_until, match_error,
	status_reason, status_changed_at, match_attempts, match_next_retry_at`

func scanPolicy(s scanner) (store.PolicyRecord, error) {
	var p store.PolicyRecord
	var types string
	m := &p.Match
	err := s.Scan(&p.Code, &p.DepartmentUSCC, &p.Spec, &types, &p.CreatedAt, &p.MatchedAt, &p.Status, &p.ApprovedAt,
		&m.Status, &m.RequestedAt, &m.StartedAt, &m.FinishedAt, &m.RunAt, &m.Cursor,
		&m.Read, &m.Eligible, &m.Withdrawn, &m.Owner, &m.LeaseUntil, &m.Error,
		&p.StatusReason, &p.StatusChangedAt, &m.Attempts, &m.NextRetryAt)
	if types != "" {
		p.Types = strings.Split(types, ",")
	}
	return p, err
}

// CreatePolicy stores p (its status, and a match already queued when
// p.Match.Status says so).
func (q *Queries) CreatePolicy(ctx context.Context, p store.PolicyRecord) error {
	status, match := p.Status, p.Match.Status
	if status == "" {
		status = store.PolicyPendingApproval
	}
	if match == "" {
		match = store.MatchNone
	}
	if _, err := q.db.Exec(ctx, `INSERT INTO policies (code, department_uscc, spec, types, created_at, matched_at, status, approved_at,
		match_status, match_requested_at, status_reason, status_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.Code, p.DepartmentUSCC, nz(p.Spec), strings.Join(p.Types, ","), p.CreatedAt, p.MatchedAt, status, p.ApprovedAt,
		match, p.Match.RequestedAt, p.StatusReason, p.StatusChangedAt); err != nil {
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

// SetPolicyStatus sets a policy's approval status.
func (q *Queries) SetPolicyStatus(ctx context.Context, code, status string, approvedAt *time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE policies SET status = $2, approved_at = $3 WHERE code = $1`, code, status, approvedAt)
	if err != nil {
		return fmt.Errorf("store: policy status: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: policy status: %w", store.ErrNotFound)
	}
	return nil
}

// ChangePolicyStatus moves a policy from one of the statuses from to
// status; leaving approval ends its match job (see store.BenefitQueries).
func (q *Queries) ChangePolicyStatus(ctx context.Context, code string, from []string, status, reason string, at time.Time) (bool, error) {
	in, args := inList(5, from)
	n, err := q.db.Exec(ctx, `UPDATE policies SET status = $2, status_reason = $3, status_changed_at = $4,
		approved_at = CASE WHEN $2 = 'approved' THEN $4 ELSE approved_at END,
		match_error = CASE WHEN $2 <> 'approved' AND match_status = 'running'
			THEN 'stopped: the policy no longer has the administrator''s approval' ELSE match_error END,
		match_finished_at = CASE WHEN $2 <> 'approved' AND match_status = 'running' THEN $4 ELSE match_finished_at END,
		match_status = CASE WHEN $2 = 'approved' THEN match_status
			WHEN match_status = 'queued' THEN 'none' WHEN match_status = 'running' THEN 'failed' ELSE match_status END,
		match_owner = CASE WHEN $2 = 'approved' THEN match_owner ELSE '' END,
		match_lease_until = CASE WHEN $2 = 'approved' THEN match_lease_until ELSE NULL END,
		match_next_retry_at = CASE WHEN $2 = 'approved' THEN match_next_retry_at ELSE NULL END
		WHERE code = $1 AND status IN (`+in+`)`, append([]any{code, status, reason, at}, args...)...)
	if err != nil {
		return false, fmt.Errorf("store: change policy status: %w", err)
	}
	return n > 0, nil
}

// RequestMatch queues a full match unless one is queued or running.
func (q *Queries) RequestMatch(ctx context.Context, code string, at time.Time) (bool, error) {
	n, err := q.db.Exec(ctx, `UPDATE policies SET match_status = 'queued', match_requested_at = $2, match_error = '',
		match_attempts = 0, match_next_retry_at = NULL
		WHERE code = $1 AND status = 'approved' AND match_status NOT IN ('queued', 'running')`, code, at)
	if err != nil {
		return false, fmt.Errorf("store: request match: %w", err)
	}
	return n > 0, nil
}

// claimable is the condition of a match a node may take at $2 (the wall
// clock, for leases) and $4 (the domain clock, for retries).
const claimable = `status = 'approved' AND (match_status = 'queued' OR (match_status = 'running' AND match_lease_until < $2)
	OR (match_status = 'failed' AND match_next_retry_at <= $4))`

// ClaimMatch takes a queued match, or a running one whose lease ended.
// The condition is repeated outside the subquery so that of two nodes
// racing for one row under READ COMMITTED the second finds it taken.
func (q *Queries) ClaimMatch(ctx context.Context, owner, code string, now, leaseUntil, runAt time.Time) (store.PolicyRecord, error) {
	p, err := scanPolicy(q.db.QueryRow(ctx, `UPDATE policies SET
		match_started_at = CASE WHEN match_status IN ('queued', 'failed') THEN $2 ELSE match_started_at END,
		match_run_at = CASE WHEN match_status IN ('queued', 'failed') THEN $4 ELSE match_run_at END,
		match_cursor = CASE WHEN match_status IN ('queued', 'failed') THEN '' ELSE match_cursor END,
		match_read = CASE WHEN match_status IN ('queued', 'failed') THEN 0 ELSE match_read END,
		match_eligible = CASE WHEN match_status IN ('queued', 'failed') THEN 0 ELSE match_eligible END,
		match_withdrawn = CASE WHEN match_status IN ('queued', 'failed') THEN 0 ELSE match_withdrawn END,
		match_finished_at = NULL, match_error = '', match_next_retry_at = NULL,
		match_status = 'running', match_owner = $1, match_lease_until = $3
		WHERE code = (SELECT code FROM policies WHERE `+claimable+` AND ($5 = '' OR code = $5)
			ORDER BY match_requested_at, code LIMIT 1) AND `+claimable+`
		RETURNING `+policyCols, owner, now, leaseUntil, runAt, code))
	if err != nil {
		return store.PolicyRecord{}, fmt.Errorf("store: claim match: %w", err)
	}
	return p, nil
}

// MatchPageDone records a committed page of owner's match.
func (q *Queries) MatchPageDone(ctx context.Context, code, owner string, p store.MatchPage) error {
	n, err := q.db.Exec(ctx, `UPDATE policies SET match_cursor = $3, match_read = match_read + $4,
		match_eligible = match_eligible + $5, match_withdrawn = match_withdrawn + $6, match_lease_until = $7
		WHERE code = $1 AND match_owner = $2 AND match_status = 'running'`,
		code, owner, p.Cursor, p.Read, p.Eligible, p.Withdrawn, p.LeaseUntil)
	if err != nil {
		return fmt.Errorf("store: match page: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: match page: %w", store.ErrConflict)
	}
	return nil
}

// FinishMatch ends owner's match, done or failed.
func (q *Queries) FinishMatch(ctx context.Context, code, owner string, at time.Time, withdrawn int64, errText string) error {
	var n int64
	var err error
	if errText == "" {
		n, err = q.db.Exec(ctx, `UPDATE policies SET match_status = 'done', matched_at = match_run_at, match_finished_at = $3,
			match_withdrawn = match_withdrawn + $4, match_owner = '', match_lease_until = NULL
			WHERE code = $1 AND match_owner = $2 AND match_status = 'running'`, code, owner, at, withdrawn)
	} else {
		n, err = q.db.Exec(ctx, `UPDATE policies SET match_status = 'failed', match_error = $4, match_finished_at = $3,
			match_owner = '', match_lease_until = NULL
			WHERE code = $1 AND match_owner = $2 AND match_status = 'running'`, code, owner, at, errText)
	}
	if err != nil {
		return fmt.Errorf("store: finish match: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: finish match: %w", store.ErrConflict)
	}
	return nil
}

// FailMatch ends owner's match as failed, counting the attempt.
func (q *Queries) FailMatch(ctx context.Context, code, owner string, at time.Time, errText string, nextRetry *time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE policies SET match_status = 'failed', match_error = $4, match_finished_at = $3,
		match_attempts = match_attempts + 1, match_next_retry_at = $5, match_owner = '', match_lease_until = NULL
		WHERE code = $1 AND match_owner = $2 AND match_status = 'running'`, code, owner, at, errText, nextRetry)
	if err != nil {
		return fmt.Errorf("store: fail match: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: fail match: %w", store.ErrConflict)
	}
	return nil
}

// ReleaseMatch ends owner's lease now.
func (q *Queries) ReleaseMatch(ctx context.Context, code, owner string) error {
	if _, err := q.db.Exec(ctx, `UPDATE policies SET match_owner = '', match_lease_until = $3
		WHERE code = $1 AND match_owner = $2 AND match_status = 'running'`, code, owner, time.Unix(0, 0).UTC()); err != nil {
		return fmt.Errorf("store: release match: %w", err)
	}
	return nil
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
		updated_at = CASE WHEN entitlements.status = 'withdrawn' THEN excluded.updated_at ELSE entitlements.updated_at END
		WHERE entitlements.evaluated_at <= excluded.evaluated_at`,
		e.ID, e.PolicyCode, e.HolderSubject, e.MaskedName, nz(e.Evidence), e.UpdatedAt, e.EvaluatedAt)
	if err != nil {
		return fmt.Errorf("store: offer entitlement: %w", err)
	}
	return nil
}

// OfferEntitlements is OfferEntitlement for many holders, 100 rows a
// statement (7 parameters a row). Statements stay this small because SQLite
// looks each $N parameter up in a list as it parses a statement: the cost
// grows with the square of the parameters (7,000 made a full match spend
// two thirds of its time parsing).
func (q *Queries) OfferEntitlements(ctx context.Context, es []store.Entitlement) error {
	for len(es) > 0 {
		chunk := es[:min(len(es), 100)]
		es = es[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO entitlements (` + entitlementCols + `) VALUES `)
		args := make([]any, 0, len(chunk)*7)
		for i, e := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, 'offered', $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+6, k+7)
			args = append(args, e.ID, e.PolicyCode, e.HolderSubject, e.MaskedName, nz(e.Evidence), e.UpdatedAt, e.EvaluatedAt)
		}
		b.WriteString(` ON CONFLICT (policy_code, holder_subject) DO UPDATE SET masked_name = excluded.masked_name,
		status = CASE WHEN entitlements.status = 'declined' THEN 'declined' ELSE 'offered' END,
		evidence = excluded.evidence, evaluated_at = excluded.evaluated_at,
		updated_at = CASE WHEN entitlements.status = 'withdrawn' THEN excluded.updated_at ELSE entitlements.updated_at END
		WHERE entitlements.evaluated_at <= excluded.evaluated_at`)
		if _, err := q.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: offer entitlements: %w", err)
		}
	}
	return nil
}

// WithdrawEntitlements withdraws the holders' offers not evaluated after
// at and records at as the evaluation time of their other entitlements.
func (q *Queries) WithdrawEntitlements(ctx context.Context, policy string, subjects []string, at time.Time) (int64, error) {
	var total int64
	for len(subjects) > 0 {
		chunk := subjects[:min(len(subjects), 200)]
		subjects = subjects[len(chunk):]
		in, args := inList(3, chunk)
		args = append([]any{policy, at}, args...)
		n, err := q.db.Exec(ctx, `UPDATE entitlements SET status = 'withdrawn', updated_at = $2, evaluated_at = $2
			WHERE policy_code = $1 AND status = 'offered' AND evaluated_at <= $2 AND holder_subject IN (`+in+`)`, args...)
		if err != nil {
			return 0, fmt.Errorf("store: withdraw entitlements: %w", err)
		}
		total += n
		if _, err := q.db.Exec(ctx, `UPDATE entitlements SET evaluated_at = $2
			WHERE policy_code = $1 AND status <> 'offered' AND evaluated_at < $2 AND holder_subject IN (`+in+`)`, args...); err != nil {
			return 0, fmt.Errorf("store: withdraw entitlements: %w", err)
		}
	}
	return total, nil
}

// inList writes $first, $first+1, … for the values.
func inList[T any](first int, vs []T) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(vs))
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
		args = append(args, v)
	}
	return b.String(), args
}

// AddBenefitEvents adds outbox rows, 500 a statement.
func (q *Queries) AddBenefitEvents(ctx context.Context, es []store.BenefitEvent) error {
	for len(es) > 0 {
		chunk := es[:min(len(es), 200)]
		es = es[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO benefit_events (holder_subject, type_code, created_at, not_before) VALUES `)
		args := make([]any, 0, len(chunk)*4)
		for i, e := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4)
			due := e.NotBefore
			if due.IsZero() {
				due = e.CreatedAt
			}
			args = append(args, e.HolderSubject, e.TypeCode, e.CreatedAt, due)
		}
		if _, err := q.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: add benefit events: %w", err)
		}
	}
	return nil
}

// ClaimBenefitEventsSQL is the query of ClaimBenefitEvents; PostgreSQL adds
// FOR UPDATE SKIP LOCKED inside a transaction.
const ClaimBenefitEventsSQL = `SELECT id, holder_subject, type_code, created_at, not_before, attempts FROM benefit_events
	WHERE not_before <= $1 ORDER BY not_before, id LIMIT $2`

// scanBenefitEvent scans a row of ClaimBenefitEventsSQL.
func scanBenefitEvent(s scanner) (store.BenefitEvent, error) {
	var e store.BenefitEvent
	err := s.Scan(&e.ID, &e.HolderSubject, &e.TypeCode, &e.CreatedAt, &e.NotBefore, &e.Attempts)
	return e, err
}

// ClaimBenefitEvents returns the oldest due events.
func (q *Queries) ClaimBenefitEvents(ctx context.Context, now time.Time, limit int) ([]store.BenefitEvent, error) {
	return q.ClaimBenefitEventsWith(ctx, ClaimBenefitEventsSQL, now, limit)
}

// ClaimBenefitEventsWith runs a backend's variant of ClaimBenefitEventsSQL.
func (q *Queries) ClaimBenefitEventsWith(ctx context.Context, query string, now time.Time, limit int) ([]store.BenefitEvent, error) {
	out, err := list(ctx, q.db, scanBenefitEvent, query, now, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: claim benefit events: %w", err)
	}
	return out, nil
}

// DeleteBenefitEvents deletes handled events.
func (q *Queries) DeleteBenefitEvents(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 200)]
		ids = ids[len(chunk):]
		in, args := inList(1, chunk)
		if _, err := q.db.Exec(ctx, `DELETE FROM benefit_events WHERE id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("store: delete benefit events: %w", err)
		}
	}
	return nil
}

// DeferBenefitEvents counts a failed attempt and postpones the events.
func (q *Queries) DeferBenefitEvents(ctx context.Context, ids []int64, notBefore time.Time) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 200)]
		ids = ids[len(chunk):]
		in, args := inList(2, chunk)
		if _, err := q.db.Exec(ctx, `UPDATE benefit_events SET attempts = attempts + 1, not_before = $1 WHERE id IN (`+in+`)`,
			append([]any{notBefore}, args...)...); err != nil {
			return fmt.Errorf("store: defer benefit events: %w", err)
		}
	}
	return nil
}

// PendingBenefitWork counts due or retried outbox events and unfinished
// matches.
func (q *Queries) PendingBenefitWork(ctx context.Context, now time.Time) (events, matches int64, err error) {
	err = q.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM benefit_events WHERE not_before <= $1 OR attempts > 0),
		(SELECT count(*) FROM policies WHERE status = 'approved' AND (match_status IN ('queued', 'running')
			OR (match_status = 'failed' AND match_next_retry_at <= $1)))`, now).Scan(&events, &matches)
	if err != nil {
		return 0, 0, fmt.Errorf("store: pending benefit work: %w", err)
	}
	return events, matches, nil
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

// scanMatchInto scans a row of matchCols with its document in arena.
func scanMatchInto(arena *store.Arena) func(s scanner) (store.MatchCertificate, error) {
	if arena == nil {
		return scanMatch
	}
	return func(s scanner) (store.MatchCertificate, error) {
		var c store.MatchCertificate
		err := s.Scan(&c.ID, &c.TypeCode, &c.HolderSubject, &c.ValidFrom, &c.ValidUntil, arenaString{arena, &c.JWS})
		return c, err
	}
}

// arenaString scans a text column into a store.Arena: pgx hands it the
// wire bytes (pgtype.BytesScanner), database/sql the driver's value
// (sql.Scanner).
type arenaString struct {
	arena *store.Arena
	dst   *string
}

// ScanBytes implements pgtype.BytesScanner; b is valid during the call only.
func (a arenaString) ScanBytes(b []byte) error {
	if b == nil {
		return fmt.Errorf("store: a NULL document")
	}
	*a.dst = a.arena.String(b)
	return nil
}

// Scan implements sql.Scanner.
func (a arenaString) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*a.dst = v
	case []byte:
		*a.dst = a.arena.String(v)
	default:
		return fmt.Errorf("store: a document of type %T", src)
	}
	return nil
}

// ValidCertificatesByType walks a type's valid certificates in holder order
// (the certificates_type_holder_idx partial index). The keyset condition is a
// row-value comparison, which both databases turn into an index range: the
// equivalent OR of two conditions made PostgreSQL filter the type's whole
// range on every page (a 1M-certificate match never finished).
func (q *Queries) ValidCertificatesByType(ctx context.Context, typeCode, afterHolder, afterID string, limit int, arena *store.Arena) ([]store.MatchCertificate, error) {
	out, err := list(ctx, q.db, scanMatchInto(arena), `SELECT `+matchCols+` FROM certificates
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

// AddUsageRecords appends records with multi-row inserts (25 a statement:
// see OfferEntitlements for why SQLite wants small statements).
func (q *Queries) AddUsageRecords(ctx context.Context, rs []store.UsageRecord) error {
	return AddUsageRecordsTo(ctx, q.db, rs)
}

// UsageRecordColumns are the columns of usage_records, in the order
// UsageRecordValues gives a record's values.
var UsageRecordColumns = strings.Split(strings.ReplaceAll(usageRecordCols, " ", ""), ",")

// UsageRecordValues are a record's column values.
func UsageRecordValues(r store.UsageRecord) []any {
	return []any{r.ID, r.HolderSubject, r.At, r.Org, r.OrgUSCC, r.Operator, r.ItemCode, r.ItemName,
		r.BusinessCode, r.Purpose, r.CertificateID, r.CodeKind, r.Channel, r.Result, r.AppID, r.Detail, r.OrgUnit}
}

// AddUsageRecordsTo is AddUsageRecords on db.
func AddUsageRecordsTo(ctx context.Context, db DB, rs []store.UsageRecord) error {
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), 25)]
		rs = rs[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO usage_records (` + usageRecordCols + `) VALUES `)
		args := make([]any, 0, len(chunk)*17)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			placeholders(&b, len(args), 17)
			args = append(args, UsageRecordValues(r)...)
		}
		if _, err := db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: add usage records: %w", err)
		}
	}
	return nil
}
