package storetest

import (
	"context"
	"testing"
	"time"

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

// testDepartmentTypePeriods: changing a department's types closes and opens
// authorisation periods; nothing of the past is lost.
func testDepartmentTypePeriods(t *testing.T, s store.Store) {
	ctx := t.Context()
	b := base.Truncate(time.Microsecond) // stored precision
	d := store.Department{ID: "dep-per", Name: "某局", USCC: "11100000000013338W", Level: "省级", CertificateTypes: []string{"A", "B"}, CreatedAt: b}
	ok(t, s.CreateDepartment(ctx, d), "create")
	t1, t2 := b.Add(time.Hour), b.Add(2*time.Hour)
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.SetDepartmentTypes(ctx, d.ID, []string{"B", "C"}, t1) }), "set B, C")
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.SetDepartmentTypes(ctx, d.ID, []string{"A", "C"}, t2) }), "set A, C")
	got, err := s.DepartmentTypePeriods(ctx, d.USCC)
	ok(t, err, "periods")
	want := []store.TypePeriod{
		{TypeCode: "A", From: b, Until: &t1},
		{TypeCode: "A", From: t2},
		{TypeCode: "B", From: b, Until: &t2},
		{TypeCode: "C", From: t1},
	}
	if len(got) != len(want) {
		t.Fatalf("periods %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.TypeCode != w.TypeCode || !g.From.Equal(w.From) || (g.Until == nil) != (w.Until == nil) ||
			g.Until != nil && !g.Until.Equal(*w.Until) {
			t.Fatalf("period %d: %+v, want %+v", i, g, w)
		}
	}
	none, err := s.DepartmentTypePeriods(ctx, "no-such-uscc")
	ok(t, err, "periods of an unknown department")
	if len(none) != 0 {
		t.Fatalf("periods of an unknown department: %+v", none)
	}
}
