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
	stats, err := s.ServiceItemStats(ctx, store.StatsFilter{})
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
	stats, err = s.ServiceItemStats(ctx, store.StatsFilter{})
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

func testAppServiceItems(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.App{ID: "app-items", Name: "某区一网通办", USCC: "12310000MB0000001X", Scopes: []string{"cases"}, CreatedAt: base}
	ok(t, s.CreateApp(ctx, a), "create without items")
	got, err := s.GetApp(ctx, a.ID)
	ok(t, err, "get")
	same(t, "no items", got.ServiceItems, []string{})
	ok(t, s.SetAppServiceItems(ctx, a.ID, []string{"X", "Y"}), "set items")
	got, _ = s.GetApp(ctx, a.ID)
	same(t, "items", got.ServiceItems, []string{"X", "Y"})
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.SetAppServiceItems(ctx, a.ID, []string{"Z"}) }), "set in tx")
	got, _ = s.GetApp(ctx, a.ID)
	same(t, "items in tx", got.ServiceItems, []string{"Z"})
	wantErr(t, s.SetAppServiceItems(ctx, "nope", []string{"X"}), store.ErrNotFound, "unknown app")
}

func testCaseDecisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(id, item, caller string, pp, ptot int) store.Case {
		return store.Case{ID: id, ItemCode: item, ApplicantSubject: "sub-1", Caller: caller, Org: "窗口", Operator: "窗口01",
			BusinessCode: "B-" + id, Purpose: "办理", Result: []byte(`{}`), Total: 1, PrefillTotal: 2, PrecheckPassed: pp, PrecheckTotal: ptot, CreatedAt: base}
	}
	for _, c := range []store.Case{mk("d1", "A", "app:1", 1, 1), mk("d2", "A", "app:1", 0, 1), mk("d3", "A", "app:2", 1, 1), mk("d4", "B", "app:2", 1, 1)} {
		ok(t, s.CreateCase(ctx, c), "create "+c.ID)
	}
	at := base.Add(time.Hour).Truncate(time.Microsecond)
	ok(t, s.DecideCase(ctx, "d1", store.CaseDecision{Decision: "approved", Notes: "材料齐全", DecidedBy: "app:1", DecidedAt: at, PrecheckMatched: true}), "decide d1")
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		return q.DecideCase(ctx, "d2", store.CaseDecision{Decision: "approved", DecidedBy: "app:1", DecidedAt: at})
	}), "decide d2 in tx")
	wantErr(t, s.DecideCase(ctx, "d1", store.CaseDecision{Decision: "rejected", DecidedBy: "app:1", DecidedAt: at}), store.ErrConflict, "decide twice")
	wantErr(t, s.DecideCase(ctx, "nope", store.CaseDecision{Decision: "rejected", DecidedBy: "app:1", DecidedAt: at}), store.ErrNotFound, "unknown case")
	got, err := s.GetCase(ctx, "d1")
	ok(t, err, "get")
	if got.Decision != "approved" || got.DecisionNotes != "材料齐全" || got.DecidedBy != "app:1" || got.DecidedAt == nil ||
		!got.DecidedAt.Equal(at) || !got.PrecheckMatched {
		t.Fatalf("decided case %+v", got)
	}
	got, _ = s.GetCase(ctx, "d3")
	if got.Decision != "" || got.DecidedAt != nil || got.PrecheckMatched {
		t.Fatalf("undecided case %+v", got)
	}
	stats, err := s.ServiceItemStats(ctx, store.StatsFilter{})
	ok(t, err, "stats")
	same(t, "decided stats", stats, []store.ServiceItemStats{
		{ItemCode: "A", Cases: 3, Total: 3, PrefillTotal: 6, PrecheckPassed: 2, PrecheckTotal: 3, Decided: 2, PrecheckMatched: 1},
		{ItemCode: "B", Cases: 1, Total: 1, PrefillTotal: 2, PrecheckPassed: 1, PrecheckTotal: 1},
	})
	stats, err = s.ServiceItemStats(ctx, store.StatsFilter{ItemCodes: []string{"B", "C"}})
	ok(t, err, "stats of items")
	if len(stats) != 1 || stats[0].ItemCode != "B" {
		t.Fatalf("stats of B and C %+v", stats)
	}
	stats, err = s.ServiceItemStats(ctx, store.StatsFilter{ItemCodes: []string{"A"}, Caller: "app:2"})
	ok(t, err, "stats of a caller")
	if len(stats) != 1 || stats[0].Cases != 1 || stats[0].Decided != 0 {
		t.Fatalf("stats of app:2 for A %+v", stats)
	}
	stats, err = s.ServiceItemStats(ctx, store.StatsFilter{ItemCodes: []string{}})
	ok(t, err, "stats of no items")
	if len(stats) != 0 {
		t.Fatalf("stats of no items %+v", stats)
	}
}

func testSeededServiceItems(t *testing.T, s store.Store) {
	ctx := t.Context()
	seeded := store.ServiceItem{Code: "S-1", Name: "旧名", Spec: []byte(`{"v":1}`), Seeded: true, CreatedAt: base}
	admin := store.ServiceItem{Code: "S-2", Name: "管理员事项", Spec: []byte(`{"v":1}`), CreatedAt: base}
	ok(t, s.CreateServiceItem(ctx, seeded), "create seeded")
	ok(t, s.CreateServiceItem(ctx, admin), "create admin's")
	replaced, err := s.ReplaceSeededServiceItem(ctx, store.ServiceItem{Code: "S-1", Name: "新名", Spec: []byte(`{"v":2}`)})
	ok(t, err, "replace seeded")
	if !replaced {
		t.Fatal("a seeded item was not replaced")
	}
	got, _ := s.GetServiceItem(ctx, "S-1")
	if got.Name != "新名" || string(got.Spec) != `{"v":2}` || !got.Seeded {
		t.Fatalf("replaced item %+v", got)
	}
	for _, code := range []string{"S-2", "S-3"} {
		replaced, err := s.ReplaceSeededServiceItem(ctx, store.ServiceItem{Code: code, Name: "x", Spec: []byte(`{"v":3}`)})
		ok(t, err, "replace "+code)
		if replaced {
			t.Fatalf("%s replaced", code)
		}
	}
	got, _ = s.GetServiceItem(ctx, "S-2")
	if string(got.Spec) != `{"v":1}` {
		t.Fatalf("an administrator's item was overwritten: %+v", got)
	}
}
