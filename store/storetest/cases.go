package storetest

import (
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func testServiceItems(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.ServiceItem{Code: "310000-A", Name: "食品经营许可证核发", Spec: []byte(`{"code":"310000-A",  "materials":[]}`), Seeded: true, CreatedAt: base}
	b := store.ServiceItem{Code: "310000-B", Name: "结婚登记", Spec: []byte(`{"code":"310000-B"}`), CreatedAt: base.Add(time.Second)}
	ok(t, s.CreateServiceItem(ctx, b), "create b")
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.CreateServiceItem(ctx, a) }), "create a in tx")
	wantErr(t, s.CreateServiceItem(ctx, a), store.ErrAlreadyExists, "duplicate code")
	got, err := s.GetServiceItem(ctx, a.Code)
	ok(t, err, "get")
	if string(got.Spec) != string(a.Spec) || !got.Seeded || got.Name != a.Name || !got.CreatedAt.Equal(a.CreatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("service item round trip: %+v", got)
	}
	_, err = s.GetServiceItem(ctx, "nope")
	wantErr(t, err, store.ErrNotFound, "missing item")
	page, err := s.ListServiceItems(ctx, "", 1)
	ok(t, err, "list")
	if len(page) != 1 || page[0].Code != a.Code {
		t.Fatalf("first page %+v", page)
	}
	page, err = s.ListServiceItems(ctx, page[0].Code, 10)
	ok(t, err, "list after")
	if len(page) != 1 || page[0].Code != b.Code {
		t.Fatalf("second page %+v", page)
	}
}

func testCases(t *testing.T, s store.Store) {
	ctx := t.Context()
	stats, err := s.ServiceItemStats(ctx)
	ok(t, err, "empty stats")
	if len(stats) != 0 {
		t.Fatalf("stats without cases: %+v", stats)
	}
	mk := func(id, item string, ex, tot, pf, pt, pp, ptot int) store.Case {
		return store.Case{ID: id, ItemCode: item, ApplicantSubject: "sub-1", Caller: "app:1", Org: "某区行政服务中心", Operator: "窗口01",
			BusinessCode: "B-" + id, Purpose: "办理", Result: []byte(`{"materials":[]}`), Exempted: ex, Total: tot,
			PrefillFilled: pf, PrefillTotal: pt, PrecheckPassed: pp, PrecheckTotal: ptot, CreatedAt: base}
	}
	cs := []store.Case{mk("c1", "A", 2, 3, 5, 6, 1, 1), mk("c2", "A", 3, 3, 6, 6, 0, 1), mk("c3", "B", 0, 2, 0, 4, 2, 2)}
	for _, c := range cs {
		ok(t, s.CreateCase(ctx, c), "create "+c.ID)
	}
	wantErr(t, s.CreateCase(ctx, cs[0]), store.ErrAlreadyExists, "duplicate case")
	got, err := s.GetCase(ctx, "c2")
	ok(t, err, "get")
	if got.BusinessCode != "B-c2" || got.Exempted != 3 || string(got.Result) != `{"materials":[]}` {
		t.Fatalf("case round trip %+v", got)
	}
	_, err = s.GetCase(ctx, "nope")
	wantErr(t, err, store.ErrNotFound, "missing case")
	stats, err = s.ServiceItemStats(ctx)
	ok(t, err, "stats")
	want := []store.ServiceItemStats{
		{ItemCode: "A", Cases: 2, Exempted: 5, Total: 6, PrefillFilled: 11, PrefillTotal: 12, PrecheckPassed: 1, PrecheckTotal: 2},
		{ItemCode: "B", Cases: 1, Exempted: 0, Total: 2, PrefillFilled: 0, PrefillTotal: 4, PrecheckPassed: 2, PrecheckTotal: 2},
	}
	same(t, "stats", stats, want)
}

func testDepartmentTypes(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := store.Department{ID: "dep-types", Name: "某局", USCC: "11100000000013338W", Level: "省级", CertificateTypes: []string{"A"}, CreatedAt: base}
	ok(t, s.CreateDepartment(ctx, d), "create")
	ok(t, s.SetDepartmentTypes(ctx, d.ID, []string{"B", "C"}, base.Add(time.Hour)), "set types")
	got, err := s.GetDepartment(ctx, d.ID)
	ok(t, err, "get")
	same(t, "types", got.CertificateTypes, []string{"B", "C"})
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.SetDepartmentTypes(ctx, d.ID, nil, base.Add(2*time.Hour)) }), "clear in tx")
	got, _ = s.GetDepartment(ctx, d.ID)
	same(t, "cleared types", got.CertificateTypes, []string{})
	wantErr(t, s.SetDepartmentTypes(ctx, "nope", []string{"B"}, base), store.ErrNotFound, "unknown department")
}
