package sqlite

import (
	"context"

	"github.com/suishen/suishen/store"
)

// UpdateSeededCertificateType implements store.AccessQueries.
func (s *Store) UpdateSeededCertificateType(ctx context.Context, code string, spec []byte) error {
	return s.write(ctx, func(q store.Queries) error { return q.UpdateSeededCertificateType(ctx, code, spec) })
}
