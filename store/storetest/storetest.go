// Package storetest is the conformance suite every store.Store backend must
// pass: the same tests, run against PostgreSQL and SQLite, define what the
// storage contract in package store means in practice.
//
// A backend's test calls Run with a function that opens a fresh, migrated,
// empty store for one test and closes it (and drops whatever it created) in
// t.Cleanup.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// RawExecer is implemented by stores that can run a raw SQL statement. The
// suite uses it to check what the database itself enforces (the append-only
// audit tables); every backend must implement it.
type RawExecer interface {
	RawExec(ctx context.Context, stmt string) error
}

// AuditGuardsOff lists the statements that take the append-only guards off
// the audit tables on a backend ("sqlite" or "postgres"): what an attacker
// with DBA rights runs first. Tests of tamper detection use it.
func AuditGuardsOff(backend string) []string {
	if backend == "sqlite" {
		return []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete",
			"DROP TRIGGER audit_seals_no_update", "DROP TRIGGER audit_seals_no_delete",
			"DROP TRIGGER audit_checkpoints_no_update", "DROP TRIGGER audit_checkpoints_no_delete"}
	}
	return []string{"ALTER TABLE audit_entries DISABLE TRIGGER USER", "ALTER TABLE audit_seals DISABLE TRIGGER USER",
		"ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"}
}

// Run runs the conformance suite; open must return a fresh, migrated, empty
// store and arrange for its cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Basics", testBasics},
		{"Departments", testDepartments},
		{"DepartmentPagination", testDepartmentPagination},
		{"Apps", testApps},
		{"Venues", testVenues},
		{"APIKeys", testAPIKeys},
		{"Sessions", testSessions},
		{"LoginTickets", testLoginTickets},
		{"DeleteSession", testDeleteSession},
		{"Keys", testKeys},
		{"Audit", testAudit},
		{"AuditSealsAtomic", testAuditSealsAtomic},
		{"AuditDetailsByteExact", testAuditDetailsByteExact},
		{"AuditCheckpoints", testAuditCheckpoints},
		{"AuditAppendOnly", testAuditAppendOnly},
		{"AnchorSuccessions", testAnchorSuccessions},
		{"LastAuditCheckpoint", testLastAuditCheckpoint},
		{"Idempotency", testIdempotency},
		{"IdempotencyRace", testIdempotencyRace},
		{"TimePrecision", testTimePrecision},
		{"TimeOrdering", testTimeOrdering},
		{"ContextCancelled", testContextCancelled},
		{"TxCommit", testTxCommit},
		{"TxCommitOutlivesCancel", testTxCommitOutlivesCancel},
		{"TxRollback", testTxRollback},
		{"TxPanic", testTxPanic},
		{"TxRetry", testTxRetry},
		{"Regions", testRegions},
		{"TxRetryExhausted", testTxRetryExhausted},
		{"TxNoRetryOnOtherErrors", testTxNoRetryOnOtherErrors},
		{"ConcurrentTxWriters", testConcurrentTxWriters},
		{"ConcurrentAppends", testConcurrentAppends},
		{"CertificateTypes", testCertificateTypes},
		{"Certificates", testCertificates},
		{"CertificateUniqueKeys", testCertificateUniqueKeys},
		{"IssueCertificate", testIssueCertificate},
		{"CertificateStatus", testCertificateStatus},
		{"ConcurrentStatusChanges", testConcurrentStatusChanges},
		{"StatusLists", testStatusLists},
		{"Benefits", testBenefits},
		{"Copies", testCopies},
		{"CopyStatus", testCopyStatus},
		{"StatusEntries", testStatusEntries},
		{"SignedStatusLists", testSignedStatusLists},
		{"NextStatusSlots", testNextStatusSlots},
		{"NextCertificateNumbers", testNextCertificateNumbers},
		{"CreateCertificates", testCreateCertificates},
		{"CreateManyCertificates", testCreateManyCertificates},
		{"ListCertificates", testListCertificates},
		{"ConcurrentIssuance", testConcurrentIssuance},
		{"Holders", testHolders},
		{"HolderRefConcurrent", testHolderRefConcurrent},
		{"Codes", testCodes},
		{"CodeStatus", testCodeStatus},
		{"StatusEntriesWithCodes", testStatusEntriesWithCodes},
		{"CodeTimes", testCodeTimes},
		{"Checkins", testCheckins},
		{"UseCodes", testUseCodes},
		{"Grants", testGrants},
		{"UsageRecords", testUsageRecords},
		{"ServiceItems", testServiceItems},
		{"Cases", testCases},
		{"DepartmentTypes", testDepartmentTypes},
		{"DepartmentTypePeriods", testDepartmentTypePeriods},
		{"AppServiceItems", testAppServiceItems},
		{"CaseDecisions", testCaseDecisions},
		{"SeededServiceItems", testSeededServiceItems},
		{"IssuedNumbers", testIssuedNumbers},
		{"AccessQueries", testAccessQueries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, s)
		})
	}
}

// base is a time with sub-microsecond digits, so every round trip also
// checks truncation to microseconds.
var base = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)

// ---- helpers ----

func ok(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func wantErr(t *testing.T, err, sentinel error, what string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got error %v, want one matching %v", what, err, sentinel)
	}
}

// utc is what the store must return for t: UTC, truncated to microseconds.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

func ptr[T any](v T) *T { return &v }

// nb treats nil and empty byte slices alike.
func nb(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return b
}

func ns(l []string) []string {
	if len(l) == 0 {
		return []string{}
	}
	return l
}

// checkUTC fails unless every time is in UTC (nil pointers are skipped).
func checkUTC(t *testing.T, what string, times ...any) {
	t.Helper()
	for i, v := range times {
		var tm time.Time
		switch x := v.(type) {
		case time.Time:
			tm = x
		case *time.Time:
			if x == nil {
				continue
			}
			tm = *x
		default:
			t.Fatalf("checkUTC: %T", v)
		}
		if tm.Location() != time.UTC {
			t.Errorf("%s: time #%d is in %v, want UTC", what, i, tm.Location())
		}
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func normDepartment(d store.Department) store.Department {
	d.CertificateTypes = ns(d.CertificateTypes)
	d.CreatedAt = utc(d.CreatedAt)
	return d
}

func checkDepartment(t *testing.T, got, want store.Department) {
	t.Helper()
	checkUTC(t, "department "+want.ID, got.CreatedAt)
	same(t, "department "+want.ID, normDepartment(got), normDepartment(want))
}

func normApp(a store.App) store.App {
	a.Scopes, a.CertificateTypes, a.ServiceItems = ns(a.Scopes), ns(a.CertificateTypes), ns(a.ServiceItems)
	if a.UseFields == nil {
		a.UseFields = map[string][]string{}
	}
	a.CreatedAt = utc(a.CreatedAt)
	return a
}

func normVenue(v store.Venue) store.Venue {
	v.CreatedAt = utc(v.CreatedAt)
	return v
}

func normAPIKey(k store.APIKey) store.APIKey {
	k.SecretHash = nb(k.SecretHash)
	k.CreatedAt, k.RevokedAt = utc(k.CreatedAt), utcp(k.RevokedAt)
	k.ExpiresAt, k.LastUsedAt = utcp(k.ExpiresAt), utcp(k.LastUsedAt)
	return k
}

func normSession(s store.Session) store.Session {
	s.TokenHash = nb(s.TokenHash)
	s.CreatedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.ExpiresAt)
	return s
}

func normKey(k store.Key) store.Key {
	k.PublicKey, k.Sealed = nb(k.PublicKey), nb(k.Sealed)
	k.NotBefore, k.CreatedAt = utc(k.NotBefore), utc(k.CreatedAt)
	k.NotAfter, k.RetiredAt, k.CompromisedAt = utcp(k.NotAfter), utcp(k.RetiredAt), utcp(k.CompromisedAt)
	return k
}

func checkKey(t *testing.T, got, want store.Key) {
	t.Helper()
	checkUTC(t, "key "+want.KID, got.NotBefore, got.CreatedAt, got.NotAfter, got.RetiredAt, got.CompromisedAt)
	same(t, "key "+want.KID, normKey(got), normKey(want))
}

func normEntry(e store.AuditEntry) store.AuditEntry {
	e.At = utc(e.At)
	e.Details = nb(e.Details)
	return e
}

func checkEntries(t *testing.T, what string, got, want []store.AuditEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d entries %v, want %d %v", what, len(got), entryIDs(got), len(want), entryIDs(want))
	}
	for i := range got {
		checkUTC(t, what, got[i].At)
		same(t, fmt.Sprintf("%s[%d]", what, i), normEntry(got[i]), normEntry(want[i]))
	}
}

func entryIDs(es []store.AuditEntry) []int64 {
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

// hash returns a distinct 32-byte value, like an SM3 digest.
func hash(seed byte) []byte {
	h := make([]byte, 32)
	for i := range h {
		h[i] = seed ^ byte(i*7)
	}
	return h
}

func dept(id, uscc string, at time.Time) store.Department {
	return store.Department{
		ID: id, Name: "上海市市场监督管理局 " + id, USCC: uscc, Level: "省级",
		CertificateTypes: []string{"11100000000013127D001", "11100000000013127D002"}, CreatedAt: at,
	}
}

func entry(action string, at time.Time, details string) store.AuditEntry {
	return store.AuditEntry{
		At: at, ActorKind: store.KindAdmin, ActorID: "admin", Action: action,
		ObjectType: "department", ObjectID: "dep-" + action, RequestID: "req-" + action,
		Details: []byte(details),
	}
}

// paginate walks list with the given page size and returns every ID seen,
// failing on an empty page before the end or a page longer than asked.
func paginate[T any](t *testing.T, limit int, list func(after string, limit int) ([]T, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 1000 {
		page, err := list(after, limit)
		ok(t, err, "list page")
		if len(page) > limit {
			t.Fatalf("page of %d items with limit %d", len(page), limit)
		}
		for _, v := range page {
			ids = append(ids, id(v))
		}
		if len(page) < limit {
			return ids
		}
		after = id(page[len(page)-1])
	}
	t.Fatal("pagination does not end")
	return nil
}

// awkwardIDs are identifiers whose byte order differs from common locale
// collations (case, punctuation, digits, non-ASCII), so a backend that sorts
// by locale breaks keyset pagination and fails.
var awkwardIDs = []string{"B-2", "_z", "a-1", "a_1", "a1", "b", "Äpfel", "10", "9", "Z", "a"}

func byteOrder(ids []string) []string {
	s := slices.Clone(ids)
	sort.Strings(s) // Go compares strings byte-wise
	return s
}

func shuffled(ids []string) []string {
	s := slices.Clone(ids)
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// ---- tests ----

func testBasics(t *testing.T, s store.Store) {
	ctx := t.Context()
	ok(t, s.Ping(ctx), "ping")
	if b := s.Backend(); b != "postgres" && b != "sqlite" {
		t.Errorf("Backend() = %q", b)
	}
	_, err := s.ListDepartments(ctx, "", 10)
	ok(t, err, "list")
	if st := s.Stats(); st.Open < 1 || st.InUse < 0 || st.Idle < 0 || st.InUse > st.Open {
		t.Errorf("Stats() = %+v after a query", st)
	}
}

func testDepartments(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := dept("dep-1", "11310000MB2F1234XA", base)
	ok(t, s.CreateDepartment(ctx, d), "create")

	got, err := s.GetDepartment(ctx, d.ID)
	ok(t, err, "get")
	checkDepartment(t, got, d)
	got, err = s.GetDepartmentByUSCC(ctx, d.USCC)
	ok(t, err, "get by uscc")
	checkDepartment(t, got, d)

	_, err = s.GetDepartment(ctx, "dep-missing")
	wantErr(t, err, store.ErrNotFound, "get missing")
	_, err = s.GetDepartmentByUSCC(ctx, "91350100M000100Y43")
	wantErr(t, err, store.ErrNotFound, "get missing uscc")

	wantErr(t, s.CreateDepartment(ctx, dept("dep-2", d.USCC, base)), store.ErrAlreadyExists, "duplicate uscc")
	wantErr(t, s.CreateDepartment(ctx, dept(d.ID, "91350100M000100Y43", base)), store.ErrAlreadyExists, "duplicate id")

	// No certificate types: an empty list comes back.
	bare := store.Department{ID: "dep-3", Name: "x", USCC: "91350100M000100Y43", Level: "其他", CreatedAt: base}
	ok(t, s.CreateDepartment(ctx, bare), "create without types")
	got, err = s.GetDepartment(ctx, bare.ID)
	ok(t, err, "get without types")
	checkDepartment(t, got, bare)
	if got.CertificateTypes == nil {
		t.Error("CertificateTypes is nil, want an empty list")
	}
}

func testDepartmentPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, id := range shuffled(awkwardIDs) {
		ok(t, s.CreateDepartment(ctx, dept(id, fmt.Sprintf("USCC%02d", i), base)), "create "+id)
	}
	want := byteOrder(awkwardIDs)
	list := func(after string, limit int) ([]store.Department, error) { return s.ListDepartments(ctx, after, limit) }
	id := func(d store.Department) string { return d.ID }
	for _, limit := range []int{1, 3, len(want), 100} {
		same(t, fmt.Sprintf("pages of %d", limit), paginate(t, limit, list, id), want)
	}
	all, err := s.ListDepartments(ctx, "", 0)
	ok(t, err, "list with limit 0")
	if len(all) != len(want) {
		t.Errorf("limit 0 gave %d departments, want the default page (all %d)", len(all), len(want))
	}
	rest, err := s.ListDepartments(ctx, want[len(want)-1], 10)
	ok(t, err, "list after last")
	if len(rest) != 0 {
		t.Errorf("after the last ID: %d departments", len(rest))
	}
	for _, d := range all {
		checkDepartment(t, d, dept(d.ID, d.USCC, base))
	}
}

func testApps(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.App{
		ID: "app-1", Name: "随申办", USCC: "12310000MB0000001X",
		Scopes: []string{"verify", "use", "identity-gateway", "cases"}, CertificateTypes: []string{"t1"},
		ServiceItems: []string{"000114001000"}, CreatedAt: base,
	}
	ok(t, s.CreateApp(ctx, a), "create")
	got, err := s.GetApp(ctx, a.ID)
	ok(t, err, "get")
	checkUTC(t, "app", got.CreatedAt)
	same(t, "app", normApp(got), normApp(a))
	_, err = s.GetApp(ctx, "app-missing")
	wantErr(t, err, store.ErrNotFound, "get missing")
	wantErr(t, s.CreateApp(ctx, a), store.ErrAlreadyExists, "duplicate id")

	// Same USCC, no scopes: allowed, empty lists back.
	b := store.App{ID: "app-2", Name: "b", USCC: a.USCC, CreatedAt: base}
	ok(t, s.CreateApp(ctx, b), "create second")
	got, err = s.GetApp(ctx, b.ID)
	ok(t, err, "get second")
	same(t, "app without scopes", normApp(got), normApp(b))

	ids := []string{"app-1", "app-2"}
	for _, id := range shuffled(awkwardIDs) {
		ok(t, s.CreateApp(ctx, store.App{ID: id, Name: id, USCC: "u", CreatedAt: base}), "create "+id)
		ids = append(ids, id)
	}
	got2 := paginate(t, 4, func(after string, limit int) ([]store.App, error) { return s.ListApps(ctx, after, limit) },
		func(a store.App) string { return a.ID })
	same(t, "app pages", got2, byteOrder(ids))
}

func testVenues(t *testing.T, s store.Store) {
	ctx := t.Context()
	v := store.Venue{ID: "ven-1", Name: "上海图书馆", Address: "淮海中路1555号", AreaCode: "310104", OwnerUSCC: "12310000425019013A", CreatedAt: base}
	ok(t, s.CreateVenue(ctx, v), "create")
	got, err := s.GetVenue(ctx, v.ID)
	ok(t, err, "get")
	checkUTC(t, "venue", got.CreatedAt)
	same(t, "venue", normVenue(got), normVenue(v))
	_, err = s.GetVenue(ctx, "ven-missing")
	wantErr(t, err, store.ErrNotFound, "get missing")
	wantErr(t, s.CreateVenue(ctx, v), store.ErrAlreadyExists, "duplicate id")

	ids := []string{v.ID}
	for _, id := range shuffled(awkwardIDs) {
		ok(t, s.CreateVenue(ctx, store.Venue{ID: id, Name: id, CreatedAt: base}), "create "+id)
		ids = append(ids, id)
	}
	got2 := paginate(t, 5, func(after string, limit int) ([]store.Venue, error) { return s.ListVenues(ctx, after, limit) },
		func(v store.Venue) string { return v.ID })
	same(t, "venue pages", got2, byteOrder(ids))
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	live := store.APIKey{ID: "key-live", Kind: store.KindDepartment, PrincipalID: "dep-1", SecretHash: hash(1), CreatedAt: base}
	revoked := store.APIKey{ID: "key-revoked", Kind: store.KindApp, PrincipalID: "app-1", SecretHash: hash(2),
		CreatedAt: base, RevokedAt: ptr(base.Add(time.Hour))}
	for _, k := range []store.APIKey{live, revoked} {
		ok(t, s.CreateAPIKey(ctx, k), "create "+k.ID)
		got, err := s.GetAPIKey(ctx, k.ID)
		ok(t, err, "get "+k.ID)
		checkUTC(t, k.ID, got.CreatedAt, got.RevokedAt)
		same(t, k.ID, normAPIKey(got), normAPIKey(k))
	}
	_, err := s.GetAPIKey(ctx, "key-missing")
	wantErr(t, err, store.ErrNotFound, "get missing")
	dup := live
	dup.PrincipalID, dup.SecretHash = "dep-2", hash(3)
	wantErr(t, s.CreateAPIKey(ctx, dup), store.ErrAlreadyExists, "duplicate id")
	got, err := s.GetAPIKey(ctx, live.ID)
	ok(t, err, "get after duplicate")
	same(t, "key after duplicate", normAPIKey(got), normAPIKey(live))

	// Rotation: a second key for dep-1; the first expires after a grace.
	second := store.APIKey{ID: "key-second", Kind: store.KindDepartment, PrincipalID: "dep-1", SecretHash: hash(4), CreatedAt: base.Add(time.Minute)}
	other := store.APIKey{ID: "key-other", Kind: store.KindDepartment, PrincipalID: "dep-3", SecretHash: hash(5), CreatedAt: base}
	ok(t, s.CreateAPIKey(ctx, second), "create second")
	ok(t, s.CreateAPIKey(ctx, other), "create other")
	graceEnd := base.Add(25 * time.Hour)
	n, err := s.ExpireOtherAPIKeys(ctx, store.KindDepartment, "dep-1", second.ID, graceEnd)
	ok(t, err, "expire others")
	same(t, "keys shortened", n, int64(1))
	// A later rotation with a longer grace never extends a key's life.
	n, err = s.ExpireOtherAPIKeys(ctx, store.KindDepartment, "dep-1", second.ID, graceEnd.Add(time.Hour))
	ok(t, err, "expire others again")
	same(t, "keys shortened again", n, int64(0))
	keys, err := s.ListAPIKeys(ctx, store.KindDepartment, "dep-1")
	ok(t, err, "list")
	if len(keys) != 2 || keys[0].ID != live.ID || keys[1].ID != second.ID {
		t.Fatalf("list: %+v", keys)
	}
	checkUTC(t, "expires", keys[0].CreatedAt, keys[0].ExpiresAt)
	same(t, "expiry", utcp(keys[0].ExpiresAt), utcp(&graceEnd))
	if keys[1].ExpiresAt != nil || !keys[1].Usable(graceEnd.Add(time.Hour)) || keys[0].Usable(graceEnd) || !keys[0].Usable(graceEnd.Add(-time.Second)) {
		t.Fatalf("usability: %+v", keys)
	}
	got, err = s.GetAPIKey(ctx, other.ID)
	ok(t, err, "other principal untouched")
	same(t, "other principal", normAPIKey(got), normAPIKey(other))

	// Revocation is scoped to the principal, and the first time stays.
	wantErr(t, s.RevokeAPIKey(ctx, store.KindDepartment, "dep-3", second.ID, base), store.ErrNotFound, "revoke through another principal")
	wantErr(t, s.RevokeAPIKey(ctx, store.KindApp, "dep-1", second.ID, base), store.ErrNotFound, "revoke through another kind")
	ok(t, s.RevokeAPIKey(ctx, store.KindDepartment, "dep-1", second.ID, base.Add(2*time.Hour)), "revoke")
	ok(t, s.RevokeAPIKey(ctx, store.KindDepartment, "dep-1", second.ID, base.Add(3*time.Hour)), "revoke again")
	got, err = s.GetAPIKey(ctx, second.ID)
	ok(t, err, "get revoked")
	same(t, "revoked at", utcp(got.RevokedAt), utcp(ptr(base.Add(2*time.Hour))))

	// Last use only moves forward.
	ok(t, s.TouchAPIKey(ctx, other.ID, base.Add(time.Hour)), "touch")
	ok(t, s.TouchAPIKey(ctx, other.ID, base.Add(time.Minute)), "touch earlier")
	got, err = s.GetAPIKey(ctx, other.ID)
	ok(t, err, "get touched")
	same(t, "last used", utcp(got.LastUsedAt), utcp(ptr(base.Add(time.Hour))))
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	long := store.Session{TokenHash: hash(10), Subject: "sub-1", HolderKind: "person", DisplayName: "张*",
		CreatedBy: "app-1", CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute)}
	short := store.Session{TokenHash: hash(11), Subject: "sub-2", HolderKind: "enterprise", DisplayName: "上海**有限公司",
		CreatedBy: "admin", CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
	ok(t, s.CreateSession(ctx, long), "create long")
	ok(t, s.CreateSession(ctx, short), "create short")
	wantErr(t, s.CreateSession(ctx, long), store.ErrAlreadyExists, "duplicate token")

	got, err := s.GetSession(ctx, long.TokenHash, base.Add(time.Minute))
	ok(t, err, "get valid")
	checkUTC(t, "session", got.CreatedAt, got.ExpiresAt)
	same(t, "session", normSession(got), normSession(long))

	_, err = s.GetSession(ctx, hash(99), base)
	wantErr(t, err, store.ErrNotFound, "unknown token")
	_, err = s.GetSession(ctx, long.TokenHash, long.ExpiresAt)
	wantErr(t, err, store.ErrNotFound, "at the expiry instant")
	_, err = s.GetSession(ctx, long.TokenHash, long.ExpiresAt.Add(time.Microsecond))
	wantErr(t, err, store.ErrNotFound, "just after expiry")
	_, err = s.GetSession(ctx, long.TokenHash, long.ExpiresAt.Add(-time.Microsecond))
	ok(t, err, "just before expiry")

	n, err := s.DeleteExpiredSessions(ctx, base.Add(20*time.Minute))
	ok(t, err, "delete expired")
	if n != 1 {
		t.Errorf("deleted %d sessions, want 1", n)
	}
	_, err = s.GetSession(ctx, short.TokenHash, base)
	wantErr(t, err, store.ErrNotFound, "deleted session")
	_, err = s.GetSession(ctx, long.TokenHash, base)
	ok(t, err, "surviving session")
	n, err = s.DeleteExpiredSessions(ctx, base.Add(20*time.Minute))
	ok(t, err, "delete expired again")
	if n != 0 {
		t.Errorf("second sweep deleted %d sessions, want 0", n)
	}
}

func testKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	anchor := store.Key{KID: "kid-anchor", Role: store.RoleAnchor, PublicKey: append([]byte{4}, hash(20)...),
		Sealed: hash(21), Status: store.KeyActive, NotBefore: base, CreatedAt: base}
	dep := store.Key{KID: "kid-dep", Role: store.RoleDepartment, DepartmentUSCC: "11310000MB2F1234XA",
		PublicKey: append([]byte{4}, hash(22)...), Sealed: hash(23), Status: store.KeyActive,
		NotBefore: base.Add(time.Hour), CreatedAt: base.Add(time.Hour)}
	code := store.Key{KID: "kid-code", Role: store.RoleCode, PublicKey: append([]byte{4}, hash(24)...),
		Sealed: hash(25), Status: store.KeyActive, NotBefore: base.Add(time.Hour), CreatedAt: base.Add(time.Hour)}
	for _, k := range []store.Key{dep, anchor, code} {
		ok(t, s.CreateKey(ctx, k), "create "+k.KID)
	}
	wantErr(t, s.CreateKey(ctx, anchor), store.ErrAlreadyExists, "duplicate kid")
	second := anchor
	second.KID = "kid-anchor-2"
	wantErr(t, s.CreateKey(ctx, second), store.ErrAlreadyExists, "second active anchor")
	_, err := s.GetKey(ctx, "kid-missing")
	wantErr(t, err, store.ErrNotFound, "get missing")

	got, err := s.GetKey(ctx, dep.KID)
	ok(t, err, "get")
	checkKey(t, got, dep)

	all, err := s.ListKeys(ctx)
	ok(t, err, "list")
	if len(all) != 3 {
		t.Fatalf("ListKeys: %d keys, want 3", len(all))
	}
	// Oldest first, ties by KID.
	for i, want := range []store.Key{anchor, code, dep} {
		checkKey(t, all[i], want)
	}

	// Retire: Status, NotAfter, RetiredAt change; nothing else does, even if
	// the caller's copy says otherwise.
	retired := anchor
	retired.Status = store.KeyRetired
	retired.NotAfter = ptr(base.Add(90 * 24 * time.Hour))
	retired.RetiredAt = ptr(base.Add(2 * time.Hour))
	sneaky := retired
	sneaky.PublicKey, sneaky.Sealed, sneaky.Role = hash(30), hash(31), store.RoleCode
	sneaky.NotBefore, sneaky.CreatedAt, sneaky.DepartmentUSCC = base.Add(time.Minute), base.Add(time.Minute), "x"
	ok(t, s.UpdateKey(ctx, sneaky), "retire")
	got, err = s.GetKey(ctx, anchor.KID)
	ok(t, err, "get retired")
	checkKey(t, got, retired)

	// Compromise, and clear NotAfter back to NULL.
	compromised := retired
	compromised.Status = store.KeyCompromised
	compromised.CompromisedAt = ptr(base.Add(3 * time.Hour))
	compromised.NotAfter = nil
	ok(t, s.UpdateKey(ctx, compromised), "compromise")
	got, err = s.GetKey(ctx, anchor.KID)
	ok(t, err, "get compromised")
	checkKey(t, got, compromised)

	missing := compromised
	missing.KID = "kid-missing"
	wantErr(t, s.UpdateKey(ctx, missing), store.ErrNotFound, "update missing")

	// The other keys are untouched.
	got, err = s.GetKey(ctx, code.KID)
	ok(t, err, "get code key")
	checkKey(t, got, code)
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.LastAuditSeal(ctx)
	wantErr(t, err, store.ErrNotFound, "last seal of an empty chain")
	none, err := s.ListSealedAudit(ctx, 0, 10)
	ok(t, err, "list sealed, empty")
	if len(none) != 0 {
		t.Fatalf("empty chain lists %d sealed entries", len(none))
	}

	var es []store.AuditEntry
	for i := range 5 {
		e := entry(fmt.Sprintf("a%d", i), base.Add(time.Duration(i)*time.Minute), fmt.Sprintf(`{"i":%d}`, i))
		e.ID = 12345 // ignored
		id, err := s.AppendAudit(ctx, e)
		ok(t, err, "append")
		if len(es) > 0 && id <= es[len(es)-1].ID {
			t.Fatalf("IDs do not grow: %d after %d", id, es[len(es)-1].ID)
		}
		e.ID = id
		es = append(es, e)
	}

	all, err := s.ListAudit(ctx, 0, 0)
	ok(t, err, "list all")
	checkEntries(t, "ListAudit", all, es)
	page, err := s.ListAudit(ctx, es[1].ID, 2)
	ok(t, err, "list page")
	checkEntries(t, "ListAudit page", page, es[2:4])

	rev := make([]store.AuditEntry, len(es))
	for i, e := range es {
		rev[len(es)-1-i] = e
	}
	newest, err := s.ListAuditNewestFirst(ctx, 0, 0)
	ok(t, err, "list newest first")
	checkEntries(t, "ListAuditNewestFirst", newest, rev)
	newest, err = s.ListAuditNewestFirst(ctx, es[len(es)-2].ID, 2)
	ok(t, err, "list newest first, page")
	checkEntries(t, "ListAuditNewestFirst page", newest, rev[2:4])

	unsealed, err := s.UnsealedAudit(ctx, time.Time{}, 0)
	ok(t, err, "unsealed, all")
	checkEntries(t, "UnsealedAudit", unsealed, es)
	unsealed, err = s.UnsealedAudit(ctx, es[2].At, 0)
	ok(t, err, "unsealed since")
	checkEntries(t, "UnsealedAudit since", unsealed, es[2:])
	unsealed, err = s.UnsealedAudit(ctx, time.Time{}, 2)
	ok(t, err, "unsealed, limit")
	checkEntries(t, "UnsealedAudit limit", unsealed, es[:2])
	n, err := s.CountUnsealedAuditBefore(ctx, es[2].At)
	ok(t, err, "count unsealed")
	if n != 2 {
		t.Errorf("CountUnsealedAuditBefore = %d, want 2", n)
	}

	// Seal out of ID order: the chain order is Seq, not entry ID.
	seals := []store.AuditSeal{
		{Seq: 1, EntryID: es[1].ID, Hash: hash(41)},
		{Seq: 2, EntryID: es[0].ID, Hash: hash(42)},
	}
	ok(t, s.AddAuditSeals(ctx, seals), "add seals")
	ok(t, s.AddAuditSeals(ctx, nil), "add no seals")
	last, err := s.LastAuditSeal(ctx)
	ok(t, err, "last seal")
	same(t, "last seal", last, seals[1])

	sealed, err := s.ListSealedAudit(ctx, 0, 0)
	ok(t, err, "list sealed")
	if len(sealed) != 2 {
		t.Fatalf("ListSealedAudit: %d entries, want 2", len(sealed))
	}
	same(t, "seal 1", sealed[0].Seal, seals[0])
	same(t, "seal 2", sealed[1].Seal, seals[1])
	checkEntries(t, "sealed entries", []store.AuditEntry{sealed[0].Entry, sealed[1].Entry}, []store.AuditEntry{es[1], es[0]})
	sealed, err = s.ListSealedAudit(ctx, 1, 10)
	ok(t, err, "list sealed after 1")
	if len(sealed) != 1 || sealed[0].Seal.Seq != 2 {
		t.Fatalf("ListSealedAudit(after 1) = %+v", sealed)
	}
	sealed, err = s.ListSealedAudit(ctx, 0, 1)
	ok(t, err, "list sealed, limit 1")
	if len(sealed) != 1 || sealed[0].Seal.Seq != 1 {
		t.Fatalf("ListSealedAudit(limit 1) = %+v", sealed)
	}

	unsealed, err = s.UnsealedAudit(ctx, time.Time{}, 0)
	ok(t, err, "unsealed after sealing")
	checkEntries(t, "UnsealedAudit after sealing", unsealed, es[2:])
	n, err = s.CountUnsealedAuditBefore(ctx, es[2].At)
	ok(t, err, "count unsealed after sealing")
	if n != 0 {
		t.Errorf("CountUnsealedAuditBefore after sealing = %d, want 0", n)
	}
	n, err = s.CountUnsealedAuditBefore(ctx, es[4].At.Add(time.Second))
	ok(t, err, "count unsealed, later")
	if n != 3 {
		t.Errorf("CountUnsealedAuditBefore(later) = %d, want 3", n)
	}

	// Another node sealed first.
	wantErr(t, s.AddAuditSeals(ctx, []store.AuditSeal{{Seq: 2, EntryID: es[2].ID, Hash: hash(43)}}),
		store.ErrAlreadyExists, "duplicate seq")
	wantErr(t, s.AddAuditSeals(ctx, []store.AuditSeal{{Seq: 3, EntryID: es[0].ID, Hash: hash(43)}}),
		store.ErrAlreadyExists, "entry sealed twice")
	if err := s.AddAuditSeals(ctx, []store.AuditSeal{{Seq: 3, EntryID: es[4].ID + 1000, Hash: hash(43)}}); err == nil {
		t.Error("sealing an entry that does not exist succeeded")
	}
	last, err = s.LastAuditSeal(ctx)
	ok(t, err, "last seal after failures")
	same(t, "last seal after failures", last, seals[1])
}

func testAuditSealsAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ids []int64
	for i := range 4 {
		id, err := s.AppendAudit(ctx, entry(fmt.Sprint(i), base, "{}"))
		ok(t, err, "append")
		ids = append(ids, id)
	}
	ok(t, s.AddAuditSeals(ctx, []store.AuditSeal{{Seq: 1, EntryID: ids[0], Hash: hash(1)}}), "seal 1")
	// The last seal collides: none of the batch may stay.
	err := s.AddAuditSeals(ctx, []store.AuditSeal{
		{Seq: 2, EntryID: ids[1], Hash: hash(2)},
		{Seq: 3, EntryID: ids[2], Hash: hash(3)},
		{Seq: 1, EntryID: ids[3], Hash: hash(4)},
	})
	wantErr(t, err, store.ErrAlreadyExists, "colliding batch")
	last, err := s.LastAuditSeal(ctx)
	ok(t, err, "last seal")
	if last.Seq != 1 {
		t.Fatalf("a failed batch left seals behind: last seq %d", last.Seq)
	}

	// A large batch (more than one statement's worth) goes in whole.
	var big []store.AuditSeal
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		big = big[:0]
		for i := range 1200 {
			id, err := q.AppendAudit(ctx, entry("bulk", base, ""))
			if err != nil {
				return err
			}
			big = append(big, store.AuditSeal{Seq: int64(i + 2), EntryID: id, Hash: hash(byte(i))})
		}
		return nil
	}), "append bulk")
	ok(t, s.AddAuditSeals(ctx, big), "large batch")
	sealed, err := s.ListSealedAudit(ctx, 0, 5000)
	ok(t, err, "list sealed")
	if len(sealed) != 1201 {
		t.Fatalf("%d sealed entries, want 1201", len(sealed))
	}
	for i, se := range sealed {
		if se.Seal.Seq != int64(i+1) {
			t.Fatalf("sealed[%d].Seq = %d", i, se.Seal.Seq)
		}
	}
}

func testAuditDetailsByteExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	details := [][]byte{
		[]byte(`{"b":1,  "a":2}`),
		[]byte("{\n  \"name\": \"证照\",\t\"esc\": \"\\u00e9\\/\" ,\"n\":1.0e+2 }\n"),
		[]byte(`[]`),
		[]byte(` {"dup":1,"dup":2} `),
		{},
		{0x00, 0xff, 0xfe, '{', 0x00}, // not JSON, not UTF-8: still byte for byte
	}
	var es []store.AuditEntry
	for i, d := range details {
		e := entry(fmt.Sprint(i), base, "")
		e.Details = d
		id, err := s.AppendAudit(ctx, e)
		ok(t, err, "append")
		e.ID = id
		es = append(es, e)
	}
	check := func(what string, got []store.AuditEntry) {
		t.Helper()
		if len(got) != len(details) {
			t.Fatalf("%s: %d entries", what, len(got))
		}
		for i, e := range got {
			if !bytes.Equal(e.Details, details[i]) {
				t.Errorf("%s: details[%d] = %q, want %q", what, i, e.Details, details[i])
			}
		}
	}
	got, err := s.ListAudit(ctx, 0, 100)
	ok(t, err, "list")
	check("ListAudit", got)
	got, err = s.UnsealedAudit(ctx, time.Time{}, 100)
	ok(t, err, "unsealed")
	check("UnsealedAudit", got)
	var seals []store.AuditSeal
	for i, e := range es {
		seals = append(seals, store.AuditSeal{Seq: int64(i + 1), EntryID: e.ID, Hash: hash(byte(i))})
	}
	ok(t, s.AddAuditSeals(ctx, seals), "seal")
	sealed, err := s.ListSealedAudit(ctx, 0, 100)
	ok(t, err, "list sealed")
	got = got[:0]
	for _, se := range sealed {
		got = append(got, se.Entry)
	}
	check("ListSealedAudit", got)
}

func testAuditCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	cps, err := s.ListAuditCheckpoints(ctx)
	ok(t, err, "list empty")
	if len(cps) != 0 {
		t.Fatalf("%d checkpoints in an empty store", len(cps))
	}
	later := store.AuditCheckpoint{Seq: 20, Hash: hash(2), At: base.Add(time.Hour), KeyID: "kid-anchor", Signature: hash(3)}
	first := store.AuditCheckpoint{Seq: 10, Hash: hash(1), At: base} // no anchor key yet
	ok(t, s.AddAuditCheckpoint(ctx, later), "add later")
	ok(t, s.AddAuditCheckpoint(ctx, first), "add first")
	wantErr(t, s.AddAuditCheckpoint(ctx, first), store.ErrAlreadyExists, "duplicate seq")
	cps, err = s.ListAuditCheckpoints(ctx)
	ok(t, err, "list")
	if len(cps) != 2 {
		t.Fatalf("%d checkpoints, want 2", len(cps))
	}
	norm := func(c store.AuditCheckpoint) store.AuditCheckpoint {
		c.At, c.Hash, c.Signature = utc(c.At), nb(c.Hash), nb(c.Signature)
		return c
	}
	for i, want := range []store.AuditCheckpoint{first, later} {
		checkUTC(t, "checkpoint", cps[i].At)
		same(t, fmt.Sprintf("checkpoint %d", i), norm(cps[i]), norm(want))
	}
}

func testAuditAppendOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	raw, isRaw := s.(RawExecer)
	if !isRaw {
		t.Fatalf("%T does not implement storetest.RawExecer", s)
	}
	id, err := s.AppendAudit(ctx, entry("create", base, `{"x":1}`))
	ok(t, err, "append")
	ok(t, s.AddAuditSeals(ctx, []store.AuditSeal{{Seq: 1, EntryID: id, Hash: hash(1)}}), "seal")
	ok(t, s.AddAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: 1, Hash: hash(1), At: base}), "checkpoint")
	before, err := s.ListSealedAudit(ctx, 0, 10)
	ok(t, err, "list before")

	for _, stmt := range []string{
		`UPDATE audit_entries SET action = 'tampered'`,
		`UPDATE audit_entries SET details = details`,
		`DELETE FROM audit_entries`,
		`UPDATE audit_seals SET entry_id = entry_id`,
		`DELETE FROM audit_seals`,
		`UPDATE audit_checkpoints SET key_id = 'forged'`,
		`DELETE FROM audit_checkpoints`,
	} {
		err := raw.RawExec(ctx, stmt)
		if err == nil {
			t.Errorf("%s: succeeded on an append-only table", stmt)
			continue
		}
		if !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: failed, but not because of the append-only trigger: %v", stmt, err)
		}
	}
	after, err := s.ListSealedAudit(ctx, 0, 10)
	ok(t, err, "list after")
	same(t, "audit after tampering attempts", after, before)
	cps, err := s.ListAuditCheckpoints(ctx)
	ok(t, err, "list checkpoints")
	if len(cps) != 1 || cps[0].KeyID != "" {
		t.Errorf("checkpoints after tampering attempts: %+v", cps)
	}
	// Appending still works.
	_, err = s.AppendAudit(ctx, entry("after", base, `{}`))
	ok(t, err, "append after")
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := store.IdempotencyRecord{Principal: "app:app-1", Key: "3f1c-k1", RequestHash: hash(5), Status: 201,
		Body: []byte(`{"id":"x",  "api_key":"shown once"}`), CreatedAt: base}
	ok(t, s.PutIdempotency(ctx, r), "put")
	got, err := s.GetIdempotency(ctx, r.Principal, r.Key)
	ok(t, err, "get")
	checkUTC(t, "idempotency", got.CreatedAt)
	norm := func(r store.IdempotencyRecord) store.IdempotencyRecord {
		r.CreatedAt, r.RequestHash, r.Body = utc(r.CreatedAt), nb(r.RequestHash), nb(r.Body)
		return r
	}
	same(t, "idempotency record", norm(got), norm(r))

	_, err = s.GetIdempotency(ctx, r.Principal, "other-key")
	wantErr(t, err, store.ErrNotFound, "other key")
	_, err = s.GetIdempotency(ctx, "app:app-2", r.Key)
	wantErr(t, err, store.ErrNotFound, "other principal")

	dup := r
	dup.Status, dup.Body = 500, nil
	wantErr(t, s.PutIdempotency(ctx, dup), store.ErrAlreadyExists, "duplicate key")
	got, err = s.GetIdempotency(ctx, r.Principal, r.Key)
	ok(t, err, "get after duplicate")
	same(t, "first record wins", norm(got), norm(r))

	// The same key from another principal is a different record.
	other := r
	other.Principal, other.Body = "department:dep-1", nil
	ok(t, s.PutIdempotency(ctx, other), "put other principal")
	got, err = s.GetIdempotency(ctx, other.Principal, other.Key)
	ok(t, err, "get other principal")
	same(t, "other principal", norm(got), norm(other))
}

func testIdempotencyRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			errs[i] = s.PutIdempotency(ctx, store.IdempotencyRecord{Principal: "app:a", Key: "k", RequestHash: hash(byte(i)),
				Status: 200 + i, CreatedAt: base})
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrAlreadyExists):
		default:
			t.Errorf("racing put: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racing puts of one key succeeded, want exactly 1", wins)
	}
}

func testTimePrecision(t *testing.T, s store.Store) {
	ctx := t.Context()
	shanghai := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 12, 31, 23, 59, 59, 999999999, shanghai) // 15:59:59.999999999 UTC
	d := dept("dep-time", "USCC-TIME", at)
	ok(t, s.CreateDepartment(ctx, d), "create")
	got, err := s.GetDepartment(ctx, d.ID)
	ok(t, err, "get")
	want := time.Date(2026, 12, 31, 15, 59, 59, 999999000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v (truncated to microseconds, in UTC)", got.CreatedAt, want)
	}

	k := store.Key{KID: "kid-time", Role: store.RoleCode, PublicKey: hash(1), Sealed: hash(2), Status: store.KeyRetired,
		NotBefore: at, NotAfter: ptr(at.Add(time.Nanosecond)), CreatedAt: at, RetiredAt: ptr(at)}
	ok(t, s.CreateKey(ctx, k), "create key")
	gotKey, err := s.GetKey(ctx, k.KID)
	ok(t, err, "get key")
	// at+1ns is 2027-01-01 00:00:00 CST exactly: a whole second.
	if wantNA := time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC); gotKey.NotAfter == nil || !gotKey.NotAfter.Equal(wantNA) {
		t.Errorf("NotAfter = %v, want %v", gotKey.NotAfter, wantNA)
	}
	checkKey(t, gotKey, k)

	// Exactly representable microseconds survive unchanged.
	micro := time.Date(1999, 1, 2, 3, 4, 5, 6000, time.UTC)
	id, err := s.AppendAudit(ctx, entry("t", micro, ""))
	ok(t, err, "append")
	es, err := s.ListAudit(ctx, id-1, 1)
	ok(t, err, "list")
	if len(es) != 1 || !es[0].At.Equal(micro) {
		t.Errorf("At = %v, want %v", es, micro)
	}
}

// testTimeOrdering catches a backend that compares times as variable-width
// text ("…:00Z" sorts after "…:00.05Z").
func testTimeOrdering(t *testing.T, s store.Store) {
	ctx := t.Context()
	whole := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	a := store.Session{TokenHash: hash(1), Subject: "a", HolderKind: "person", CreatedAt: whole.Add(-time.Hour), ExpiresAt: whole}
	b := store.Session{TokenHash: hash(2), Subject: "b", HolderKind: "person", CreatedAt: whole.Add(-time.Hour), ExpiresAt: whole.Add(100 * time.Millisecond)}
	ok(t, s.CreateSession(ctx, a), "create a")
	ok(t, s.CreateSession(ctx, b), "create b")
	now := whole.Add(50 * time.Millisecond)
	_, err := s.GetSession(ctx, a.TokenHash, now)
	wantErr(t, err, store.ErrNotFound, "session expired 50ms ago")
	_, err = s.GetSession(ctx, b.TokenHash, now)
	ok(t, err, "session with 50ms left")
	n, err := s.DeleteExpiredSessions(ctx, now)
	ok(t, err, "delete expired")
	if n != 1 {
		t.Errorf("deleted %d sessions, want 1", n)
	}

	var es []store.AuditEntry
	for _, at := range []time.Time{whole, whole.Add(time.Millisecond), whole.Add(time.Second), whole.Add(-time.Microsecond)} {
		e := entry("o", at, "")
		id, err := s.AppendAudit(ctx, e)
		ok(t, err, "append")
		e.ID = id
		es = append(es, e)
	}
	got, err := s.UnsealedAudit(ctx, whole.Add(500*time.Microsecond), 0)
	ok(t, err, "unsealed since")
	checkEntries(t, "UnsealedAudit since a fractional second", got, []store.AuditEntry{es[1], es[2]})
	n, err = s.CountUnsealedAuditBefore(ctx, whole)
	ok(t, err, "count before")
	if n != 1 {
		t.Errorf("CountUnsealedAuditBefore(whole second) = %d, want 1", n)
	}

	k1 := store.Key{KID: "k-b", Role: store.RoleCode, PublicKey: hash(1), Sealed: hash(1), Status: store.KeyActive,
		NotBefore: whole, CreatedAt: whole}
	// Only one key per role and department may be active.
	k2 := k1
	k2.KID, k2.CreatedAt, k2.Status = "k-a", whole.Add(time.Millisecond), store.KeyRetired
	k3 := k1
	k3.KID, k3.CreatedAt, k3.Status = "k-c", whole.Add(-time.Millisecond), store.KeyRetired
	for _, k := range []store.Key{k1, k2, k3} {
		ok(t, s.CreateKey(ctx, k), "create key")
	}
	keys, err := s.ListKeys(ctx)
	ok(t, err, "list keys")
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	same(t, "keys by CreatedAt", kids, []string{"k-c", "k-b", "k-a"})
}

func testContextCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.GetDepartment(ctx, "x")
	wantErr(t, err, context.Canceled, "get with a cancelled context")
	err = s.CreateDepartment(ctx, dept("dep-c", "USCC-C", base))
	wantErr(t, err, context.Canceled, "create with a cancelled context")
	err = s.InTx(ctx, func(q store.Queries) error {
		return q.CreateDepartment(ctx, dept("dep-c", "USCC-C", base))
	})
	wantErr(t, err, context.Canceled, "InTx with a cancelled context")
	_, err = s.GetDepartment(t.Context(), "dep-c")
	wantErr(t, err, store.ErrNotFound, "nothing written")
}

func testTxCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var id int64
	err := s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateDepartment(ctx, dept("dep-tx", "USCC-TX", base)); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if _, err := q.GetDepartmentByUSCC(ctx, "USCC-TX"); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		var err error
		id, err = q.AppendAudit(ctx, entry("department.create", base, `{"id":"dep-tx"}`))
		return err
	})
	ok(t, err, "InTx")
	_, err = s.GetDepartment(ctx, "dep-tx")
	ok(t, err, "department committed")
	es, err := s.ListAudit(ctx, 0, 10)
	ok(t, err, "list audit")
	if len(es) != 1 || es[0].ID != id {
		t.Fatalf("audit after commit: %v, want id %d", entryIDs(es), id)
	}
}

var errBoom = errors.New("boom")

func testTxRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	calls := 0
	err := s.InTx(ctx, func(q store.Queries) error {
		calls++
		if err := q.CreateDepartment(ctx, dept("dep-rb", "USCC-RB", base)); err != nil {
			return err
		}
		if _, err := q.AppendAudit(ctx, entry("x", base, "{}")); err != nil {
			return err
		}
		if err := q.PutIdempotency(ctx, store.IdempotencyRecord{Principal: "p", Key: "k", RequestHash: hash(1), CreatedAt: base}); err != nil {
			return err
		}
		return fmt.Errorf("validation failed: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	if calls != 1 {
		t.Errorf("fn ran %d times, want 1", calls)
	}
	assertEmpty(t, s)
}

// assertEmpty checks that the writes the transaction tests make are absent.
func assertEmpty(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	ds, err := s.ListDepartments(ctx, "", 100)
	ok(t, err, "list departments")
	es, err := s.ListAudit(ctx, 0, 100)
	ok(t, err, "list audit")
	_, ierr := s.GetIdempotency(ctx, "p", "k")
	if len(ds) != 0 || len(es) != 0 || !errors.Is(ierr, store.ErrNotFound) {
		t.Fatalf("rolled-back writes are visible: %d departments, %d audit entries, idempotency: %v", len(ds), len(es), ierr)
	}
}

func testTxPanic(t *testing.T, s store.Store) {
	ctx := t.Context()
	func() {
		defer func() {
			if p := recover(); p != "fn panicked" {
				t.Fatalf("recovered %v, want fn's panic", p)
			}
		}()
		_ = s.InTx(ctx, func(q store.Queries) error {
			if err := q.CreateDepartment(ctx, dept("dep-p", "USCC-P", base)); err != nil {
				return err
			}
			panic("fn panicked")
		})
	}()
	assertEmpty(t, s)
	// The store is still usable: the connection went back rolled back.
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.CreateDepartment(ctx, dept("dep-p", "USCC-P", base)) }), "InTx after panic")
}

func testTxRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	calls := 0
	err := s.InTx(ctx, func(q store.Queries) error {
		calls++
		if err := q.CreateDepartment(ctx, dept(fmt.Sprintf("dep-attempt-%d", calls), fmt.Sprintf("USCC-%d", calls), base)); err != nil {
			return err
		}
		if calls < 3 {
			return fmt.Errorf("simulated conflict: %w", store.ErrRetryable)
		}
		return nil
	})
	ok(t, err, "InTx")
	if calls != 3 {
		t.Fatalf("fn ran %d times, want 3", calls)
	}
	ds, err := s.ListDepartments(ctx, "", 100)
	ok(t, err, "list")
	if len(ds) != 1 || ds[0].ID != "dep-attempt-3" {
		t.Fatalf("after retries: %+v, want only the last attempt's department", ds)
	}
}

func testTxRetryExhausted(t *testing.T, s store.Store) {
	ctx := t.Context()
	calls := 0
	start := time.Now()
	err := s.InTx(ctx, func(q store.Queries) error {
		calls++
		if _, err := q.AppendAudit(ctx, entry("x", base, "{}")); err != nil {
			return err
		}
		return fmt.Errorf("always conflicting: %w", store.ErrRetryable)
	})
	wantErr(t, err, store.ErrRetryable, "InTx that never succeeds")
	if calls < 2 || calls > 20 {
		t.Errorf("fn ran %d times; want a bounded number of retries", calls)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("giving up took %v", d)
	}
	assertEmpty(t, s)
}

func testTxNoRetryOnOtherErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	ok(t, s.CreateDepartment(ctx, dept("dep-1", "USCC-1", base)), "create")
	calls := 0
	err := s.InTx(ctx, func(q store.Queries) error {
		calls++
		return q.CreateDepartment(ctx, dept("dep-2", "USCC-1", base))
	})
	wantErr(t, err, store.ErrAlreadyExists, "duplicate inside InTx")
	if calls != 1 {
		t.Errorf("fn ran %d times after ErrAlreadyExists, want 1", calls)
	}
	calls = 0
	err = s.InTx(ctx, func(q store.Queries) error {
		calls++
		_, err := q.GetDepartment(ctx, "dep-missing")
		return err
	})
	wantErr(t, err, store.ErrNotFound, "not found inside InTx")
	if calls != 1 {
		t.Errorf("fn ran %d times after ErrNotFound, want 1", calls)
	}
}

// testConcurrentTxWriters runs many read-then-insert transactions at once;
// all must commit. (The transactions read a table they do not insert into:
// on PostgreSQL, reading a small table that concurrent transactions insert
// into makes SERIALIZABLE report conflicts at index-page granularity, which
// InTx retries but cannot promise to resolve within its attempts.)
func testConcurrentTxWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, perWorker = 8, 20
	owner := dept("dep-owner", "USCC-OWNER", base)
	ok(t, s.CreateDepartment(ctx, owner), "create owner")
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker+2)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 { // readers run alongside the writers
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ListAudit(ctx, 0, 50); err != nil {
					errs <- fmt.Errorf("concurrent read: %w", err)
					return
				}
			}
		})
	}
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%02d", w, i)
				err := s.InTx(ctx, func(q store.Queries) error {
					d, err := q.GetDepartment(ctx, owner.ID)
					if err != nil {
						return err
					}
					if err := q.CreateVenue(ctx, store.Venue{ID: id, Name: id, OwnerUSCC: d.USCC, CreatedAt: base}); err != nil {
						return err
					}
					_, err = q.AppendAudit(ctx, entry("venue.create", base, `{"id":"`+id+`"}`))
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("writer %s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	vs, err := s.ListVenues(ctx, "", 1000)
	ok(t, err, "list venues")
	es, err := s.ListAudit(ctx, 0, 1000)
	ok(t, err, "list audit")
	if len(vs) != workers*perWorker || len(es) != workers*perWorker {
		t.Fatalf("%d venues and %d audit entries, want %d each", len(vs), len(es), workers*perWorker)
	}
}

func testConcurrentAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, perWorker = 8, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id, err := s.AppendAudit(ctx, entry(fmt.Sprintf("w%d-%d", w, i), base, "{}"))
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("ID %d assigned twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	es, err := s.ListAudit(ctx, 0, 1000)
	ok(t, err, "list")
	if len(es) != workers*perWorker {
		t.Fatalf("%d entries, want %d", len(es), workers*perWorker)
	}
	for _, e := range es {
		if !seen[e.ID] {
			t.Fatalf("listed ID %d was never returned by AppendAudit", e.ID)
		}
	}
}
