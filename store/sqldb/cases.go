package sqldb

import (
	"context"
	"fmt"

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
	"exempted, total, prefill_filled, prefill_total, precheck_passed, precheck_total, created_at"

func scanCase(s scanner) (store.Case, error) {
	var c store.Case
	var result string
	err := s.Scan(&c.ID, &c.ItemCode, &c.ApplicantSubject, &c.Caller, &c.Org, &c.Operator, &c.BusinessCode, &c.Purpose, &result,
		&c.Exempted, &c.Total, &c.PrefillFilled, &c.PrefillTotal, &c.PrecheckPassed, &c.PrecheckTotal, &c.CreatedAt)
	c.Result = []byte(result)
	return c, err
}

// CreateCase stores a case; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateCase(ctx context.Context, c store.Case) error {
	_, err := q.db.Exec(ctx, `INSERT INTO cases (`+caseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
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

// ServiceItemStats sums the cases of every item that has any, by code.
func (q *Queries) ServiceItemStats(ctx context.Context) ([]store.ServiceItemStats, error) {
	scan := func(s scanner) (store.ServiceItemStats, error) {
		var st store.ServiceItemStats
		err := s.Scan(&st.ItemCode, &st.Cases, &st.Exempted, &st.Total, &st.PrefillFilled, &st.PrefillTotal, &st.PrecheckPassed, &st.PrecheckTotal)
		return st, err
	}
	out, err := list(ctx, q.db, scan, `SELECT item_code, COUNT(*), COALESCE(SUM(exempted), 0), COALESCE(SUM(total), 0),
		COALESCE(SUM(prefill_filled), 0), COALESCE(SUM(prefill_total), 0), COALESCE(SUM(precheck_passed), 0), COALESCE(SUM(precheck_total), 0)
		FROM cases GROUP BY item_code ORDER BY item_code`)
	if err != nil {
		return nil, fmt.Errorf("store: service item stats: %w", err)
	}
	return out, nil
}
