package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/suishen/suishen/store"
)

// ---- service items ----

const serviceItemCols = "code, name, spec, seeded, created_at"

func scanServiceItem(s scanner) (store.ServiceItem, error) {
	var it store.ServiceItem
	var spec string
	err := s.Scan(&it.Code, &it.Name, &spec, &it.Seeded, &it.CreatedAt)
	it.Spec = []byte(spec)
	return it, err
}

// CreateServiceItem stores it; a taken code gives store.ErrAlreadyExists.
func (q *Queries) CreateServiceItem(ctx context.Context, it store.ServiceItem) error {
	_, err := q.db.Exec(ctx, `INSERT INTO service_items (`+serviceItemCols+`) VALUES ($1, $2, $3, $4, $5)`,
		it.Code, it.Name, string(it.Spec), it.Seeded, it.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create service item: %w", err)
	}
	return nil
}

// GetServiceItem returns the item with the given code or store.ErrNotFound.
func (q *Queries) GetServiceItem(ctx context.Context, code string) (store.ServiceItem, error) {
	it, err := scanServiceItem(q.db.QueryRow(ctx, `SELECT `+serviceItemCols+` FROM service_items WHERE code = $1`, code))
	if err != nil {
		return store.ServiceItem{}, fmt.Errorf("store: get service item: %w", err)
	}
	return it, nil
}

// ReplaceSeededServiceItem replaces the name and spec of a seeded item.
func (q *Queries) ReplaceSeededServiceItem(ctx context.Context, it store.ServiceItem) (bool, error) {
	n, err := q.db.Exec(ctx, `UPDATE service_items SET name = $2, spec = $3 WHERE code = $1 AND seeded`, it.Code, it.Name, string(it.Spec))
	if err != nil {
		return false, fmt.Errorf("store: replace seeded service item: %w", err)
	}
	return n == 1, nil
}

// ListServiceItems lists items by code after `after`.
func (q *Queries) ListServiceItems(ctx context.Context, after string, limit int) ([]store.ServiceItem, error) {
	out, err := list(ctx, q.db, scanServiceItem,
		`SELECT `+serviceItemCols+` FROM service_items WHERE code > $1 ORDER BY code LIMIT $2`, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list service items: %w", err)
	}
	return out, nil
}

// ---- cases ----

const caseCols = "id, item_code, applicant_subject, caller, org, operator, business_code, purpose, result, " +
	"exempted, total, prefill_filled, prefill_total, precheck_passed, precheck_total, created_at, " +
	"decision, decision_notes, decided_by, decided_at, precheck_matched"

func scanCase(s scanner) (store.Case, error) {
	var c store.Case
	var result string
	err := s.Scan(&c.ID, &c.ItemCode, &c.ApplicantSubject, &c.Caller, &c.Org, &c.Operator, &c.BusinessCode, &c.Purpose, &result,
		&c.Exempted, &c.Total, &c.PrefillFilled, &c.PrefillTotal, &c.PrecheckPassed, &c.PrecheckTotal, &c.CreatedAt,
		&c.Decision, &c.DecisionNotes, &c.DecidedBy, &c.DecidedAt, &c.PrecheckMatched)
	c.Result = []byte(result)
	return c, err
}

// CreateCase stores an undecided case; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateCase(ctx context.Context, c store.Case) error {
	_, err := q.db.Exec(ctx, `INSERT INTO cases (id, item_code, applicant_subject, caller, org, operator, business_code, purpose, result,
		exempted, total, prefill_filled, prefill_total, precheck_passed, precheck_total, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.ItemCode, c.ApplicantSubject, c.Caller, c.Org, c.Operator, c.BusinessCode, c.Purpose, string(c.Result),
		c.Exempted, c.Total, c.PrefillFilled, c.PrefillTotal, c.PrecheckPassed, c.PrecheckTotal, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create case: %w", err)
	}
	return nil
}

// GetCase returns the case with the given ID or store.ErrNotFound.
func (q *Queries) GetCase(ctx context.Context, id string) (store.Case, error) {
	c, err := scanCase(q.db.QueryRow(ctx, `SELECT `+caseCols+` FROM cases WHERE id = $1`, id))
	if err != nil {
		return store.Case{}, fmt.Errorf("store: get case: %w", err)
	}
	return c, nil
}

// DecideCase records the decision on an undecided case.
func (q *Queries) DecideCase(ctx context.Context, id string, d store.CaseDecision) error {
	n, err := q.db.Exec(ctx, `UPDATE cases SET decision = $2, decision_notes = $3, decided_by = $4, decided_at = $5, precheck_matched = $6
		WHERE id = $1 AND decision = ''`, id, d.Decision, d.Notes, d.DecidedBy, d.DecidedAt, d.PrecheckMatched)
	if err != nil {
		return fmt.Errorf("store: decide case: %w", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := q.GetCase(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("store: decide case: %w", store.ErrConflict)
}

// ServiceItemStats sums the cases of every item that has any, by code,
// within the filter.
func (q *Queries) ServiceItemStats(ctx context.Context, f store.StatsFilter) ([]store.ServiceItemStats, error) {
	scan := func(s scanner) (store.ServiceItemStats, error) {
		var st store.ServiceItemStats
		err := s.Scan(&st.ItemCode, &st.Cases, &st.Exempted, &st.Total, &st.PrefillFilled, &st.PrefillTotal, &st.PrecheckPassed, &st.PrecheckTotal,
			&st.Decided, &st.PrecheckMatched)
		return st, err
	}
	where, args := "", []any{}
	if f.ItemCodes != nil {
		if len(f.ItemCodes) == 0 {
			return []store.ServiceItemStats{}, nil
		}
		ph := make([]string, len(f.ItemCodes))
		for i, c := range f.ItemCodes {
			args = append(args, c)
			ph[i] = "$" + strconv.Itoa(len(args))
		}
		where = " WHERE item_code IN (" + strings.Join(ph, ", ") + ")"
	}
	if f.Caller != "" {
		args = append(args, f.Caller)
		if where == "" {
			where = " WHERE"
		} else {
			where += " AND"
		}
		where += " caller = $" + strconv.Itoa(len(args))
	}
	out, err := list(ctx, q.db, scan, `SELECT item_code, COUNT(*), COALESCE(SUM(exempted), 0), COALESCE(SUM(total), 0),
		COALESCE(SUM(prefill_filled), 0), COALESCE(SUM(prefill_total), 0), COALESCE(SUM(precheck_passed), 0), COALESCE(SUM(precheck_total), 0),
		COALESCE(SUM(CASE WHEN decision <> '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN decision <> '' AND precheck_matched THEN 1 ELSE 0 END), 0)
		FROM cases`+where+` GROUP BY item_code ORDER BY item_code`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: service item stats: %w", err)
	}
	return out, nil
}
