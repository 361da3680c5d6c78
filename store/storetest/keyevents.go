package storetest

import (
	"context"
	"testing"

	"github.com/suishen/suishen/store"
)

// testTxCommitOutlivesCancel: once fn has succeeded, a cancellation (a
// client disconnect, a request deadline) must not turn a transaction that
// the database commits into an error, nor undo it. Before the fix the
// commit ran on the caller's context and answered "context canceled".
func testTxCommitOutlivesCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateDepartment(ctx, dept("dep-cc", "USCC-CC", base)); err != nil {
			return err
		}
		cancel() // the client goes away after the last statement, before COMMIT
		return nil
	})
	ok(t, err, "InTx whose caller cancelled after its last statement")
	_, err = s.GetDepartment(t.Context(), "dep-cc")
	ok(t, err, "the department is committed")
}
