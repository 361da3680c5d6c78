package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/suishen/suishen/store"
)

// UpdateSeededCertificateType implements store.AccessQueries.
func (q *Queries) UpdateSeededCertificateType(ctx context.Context, code string, spec []byte) error {
	n, err := q.db.Exec(ctx, `UPDATE certificate_types SET spec = $2 WHERE code = $1 AND seeded`, code, string(spec))
	if err != nil {
		return fmt.Errorf("store: update seeded certificate type: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update seeded certificate type: %w", store.ErrNotFound)
	}
	return nil
}

// GetUseCode implements store.AccessQueries.
func (q *Queries) GetUseCode(ctx context.Context, hash []byte) (store.UseCode, error) {
	u, err := scanUseCode(q.db.QueryRow(ctx, `SELECT `+useCodeCols+` FROM use_codes WHERE hash = $1`, nz(hash)))
	if err != nil {
		return store.UseCode{}, fmt.Errorf("store: get use code: %w", err)
	}
	return u, nil
}

func encodeUseFields(m map[string][]string) (string, error) {
	if m == nil {
		m = map[string][]string{}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeUseFields(s string) (map[string][]string, error) {
	m := map[string][]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode use_fields column: %w", err)
	}
	if m == nil {
		m = map[string][]string{}
	}
	return m, nil
}
