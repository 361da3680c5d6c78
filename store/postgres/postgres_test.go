package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/suishen/suishen/migrations"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/storetest"
)

// These tests need a real PostgreSQL: TEST_DATABASE_URL, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test gets its
// own schema (or, for migrations, its own database) and drops it afterwards.
// Without TEST_DATABASE_URL they skip loudly, except under CI=true or
// SUISHEN_REQUIRE_POSTGRES=1, where they fail.

func TestMain(m *testing.M) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		fmt.Fprintln(os.Stderr, "\n"+strings.Repeat("!", 78)+
			"\n!!! store/postgres: TEST_DATABASE_URL is not set: PostgreSQL tests SKIPPED.\n"+
			"!!! Set it, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable\n"+
			strings.Repeat("!", 78)+"\n")
	}
	os.Exit(m.Run())
}

// databaseURL returns TEST_DATABASE_URL, or skips (fails in CI) without it.
func databaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" || os.Getenv("SUISHEN_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TEST_DATABASE_URL is not set, and PostgreSQL tests are required here (CI=true or SUISHEN_REQUIRE_POSTGRES=1)")
		}
		t.Skip("SKIPPED: TEST_DATABASE_URL is not set; PostgreSQL tests did not run")
	}
	return u
}

var (
	adminOnce sync.Once
	adminPool *pgxpool.Pool
	adminErr  error
)

// admin returns a pool on TEST_DATABASE_URL for creating and dropping
// schemas and databases; it fails the test if the database is unreachable.
func admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := databaseURL(t)
	adminOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		adminPool, adminErr = pgxpool.New(ctx, u)
		if adminErr == nil {
			adminErr = adminPool.Ping(ctx)
		}
	})
	if adminErr != nil {
		t.Fatalf("PostgreSQL at TEST_DATABASE_URL is unreachable: %v", adminErr)
	}
	return adminPool
}

func randomName(prefix string) string {
	return fmt.Sprintf("%s_%016x", prefix, rand.Uint64())
}

// withParam returns the connection string u with one parameter set; u may be
// a URL or a key=value string.
func withParam(t testing.TB, u, key, value string) string {
	t.Helper()
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatalf("TEST_DATABASE_URL: %v", err)
		}
		if key == "dbname" {
			parsed.Path = "/" + value
			return parsed.String()
		}
		q := parsed.Query()
		q.Set(key, value)
		parsed.RawQuery = q.Encode()
		return parsed.String()
	}
	return u + " " + key + "=" + value
}

// latestMigration returns the newest migration version embedded in the
// binary.
func latestMigration(t testing.TB) int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations.Postgres, migrations.PostgresDir)
	if err != nil {
		t.Fatal(err)
	}
	var latest int64
	for _, e := range entries {
		v, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		latest = max(latest, v)
	}
	return latest
}

// openSchema opens a store confined (by search_path) to a new schema and
// drops the schema when the test ends.
func openSchema(t testing.TB, migrate bool) *Store {
	t.Helper()
	ctx := t.Context()
	pool := admin(t)
	schema := randomName("suishen_t")
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	s, err := Open(ctx, withParam(t, databaseURL(t), "search_path", schema), Options{MaxConns: 10})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSchema(t, true) })
}

// TestConcurrentMigrations starts four nodes at once against one fresh
// database: the advisory lock must let exactly one migrate and the others
// find the work done.
func TestConcurrentMigrations(t *testing.T) {
	ctx := t.Context()
	pool := admin(t)
	name := randomName("suishen_test")
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	u := withParam(t, databaseURL(t), "dbname", name)

	probe, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if v, err := probe.MigrationVersion(ctx); err != nil || v != 0 {
		t.Fatalf("fresh database: version %d, %v; want 0", v, err)
	}

	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			s, err := Open(ctx, u, Options{MaxConns: 2})
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			<-start
			errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	latest := latestMigration(t)
	if v, err := probe.MigrationVersion(ctx); err != nil || v != latest {
		t.Fatalf("after migrating: version %d, %v; want %d", v, err, latest)
	}
	var applied, distinct int64
	if err := probe.Pool().QueryRow(ctx,
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	// Version numbers have gaps (each line of work owns a range), so count files.
	files, err := fs.ReadDir(migrations.Postgres, migrations.PostgresDir)
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(len(files)); applied != n || distinct != n {
		t.Errorf("%d versions recorded (%d distinct), want each of the %d once", applied, distinct, n)
	}
	// The migrated database works.
	if err := probe.CreateDepartment(ctx, store.Department{ID: "d", USCC: "u", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDoesNotMigrate(t *testing.T) {
	s := openSchema(t, false)
	ctx := t.Context()
	if v, err := s.MigrationVersion(ctx); err != nil || v != 0 {
		t.Fatalf("before Migrate: version %d, %v; want 0", v, err)
	}
	var exists bool
	if err := s.Pool().QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("MigrationVersion created the version table (%v)", err)
	}
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if v, err := s.MigrationVersion(ctx); err != nil || v != latestMigration(t) {
			t.Fatalf("after Migrate: version %d, %v; want %d", v, err, latestMigration(t))
		}
	}
}

// TestIdentifiersCompareBytewise checks the schema, since a test database in
// the C locale would not show locale-ordered pagination failing.
func TestIdentifiersCompareBytewise(t *testing.T) {
	s := openSchema(t, true)
	rows, err := s.Pool().Query(t.Context(), `
		SELECT table_name, column_name, coalesce(collation_name, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND (table_name, column_name) IN
			(('departments', 'id'), ('apps', 'id'), ('venues', 'id'), ('api_keys', 'id'), ('keys', 'kid'),
			 ('certificate_types', 'code'), ('certificates', 'id'), ('status_lists', 'id'))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, column, collation string
		if err := rows.Scan(&table, &column, &collation); err != nil {
			t.Fatal(err)
		}
		n++
		if collation != "C" {
			t.Errorf("%s.%s has collation %q, want \"C\"", table, column, collation)
		}
	}
	if n != 8 {
		t.Errorf("found %d identifier columns, want 8", n)
	}
}

// TestSerializationFailureIsRetried raises SQLSTATE 40001 inside a
// transaction: InTx must roll back and run fn again, however fn reports
// (or hides) the failure.
func TestSerializationFailureIsRetried(t *testing.T) {
	s := openSchema(t, true)
	ctx := t.Context()
	const raise = `DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure'; END $$`
	for _, mode := range []string{"wrapped", "flattened", "swallowed"} {
		t.Run(mode, func(t *testing.T) {
			calls := 0
			id := "dep-" + mode
			err := s.InTx(ctx, func(q store.Queries) error {
				calls++
				if err := q.CreateDepartment(ctx, store.Department{ID: fmt.Sprintf("%s-%d", id, calls), USCC: fmt.Sprintf("%s-%d", id, calls), CreatedAt: time.Now()}); err != nil {
					return err
				}
				if calls > 1 {
					return nil
				}
				err := q.(storetest.RawExecer).RawExec(ctx, raise)
				if !errors.Is(err, store.ErrRetryable) {
					return fmt.Errorf("40001 mapped to %v, want ErrRetryable", err)
				}
				switch mode {
				case "flattened":
					return fmt.Errorf("handler failed: %v", err) // loses the sentinel
				case "swallowed":
					return nil // COMMIT then fails
				}
				return fmt.Errorf("handler failed: %w", err)
			})
			if err != nil {
				t.Fatalf("InTx: %v", err)
			}
			if calls != 2 {
				t.Errorf("fn ran %d times, want 2", calls)
			}
			if _, err := s.GetDepartment(ctx, id+"-1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("first attempt's write survived: %v", err)
			}
			if _, err := s.GetDepartment(ctx, id+"-2"); err != nil {
				t.Errorf("second attempt's write: %v", err)
			}
		})
	}
}

// TestWriteSkewIsPrevented runs two transactions that each check "no
// department yet" and then insert one. Under SERIALIZABLE one of them must
// fail, be retried, and then see the other's department.
func TestWriteSkewIsPrevented(t *testing.T) {
	s := openSchema(t, true)
	ctx := t.Context()
	errFull := errors.New("a department already exists")
	var bothRead sync.WaitGroup
	bothRead.Add(2)
	var wg sync.WaitGroup
	results := make([]error, 2)
	attempts := make([]int, 2)
	for i := range 2 {
		wg.Go(func() {
			results[i] = s.InTx(ctx, func(q store.Queries) error {
				attempts[i]++
				ds, err := q.ListDepartments(ctx, "", 10)
				if err != nil {
					return err
				}
				if attempts[i] == 1 {
					bothRead.Done()
					bothRead.Wait() // both have read before either writes
				}
				if len(ds) > 0 {
					return errFull
				}
				id := fmt.Sprint("dep-", i)
				return q.CreateDepartment(ctx, store.Department{ID: id, USCC: id, CreatedAt: time.Now()})
			})
		})
	}
	wg.Wait()
	ds, err := s.ListDepartments(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d departments, want exactly 1 (write skew)", len(ds))
	}
	full := 0
	for _, err := range results {
		switch {
		case err == nil:
		case errors.Is(err, errFull):
			full++
		default:
			t.Errorf("InTx: %v", err)
		}
	}
	if full != 1 || attempts[0]+attempts[1] < 3 {
		t.Errorf("results %v after %v attempts; want one success and one retried transaction that saw it", results, attempts)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open on a closed port: %v, want ErrUnavailable", err)
	}

	s := openSchema(t, true)
	_ = s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping on a closed store: %v, want ErrUnavailable", err)
	}
	if _, err := s.GetDepartment(t.Context(), "x"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("query on a closed store: %v, want ErrUnavailable", err)
	}
}

func TestErrorsCarryNoValues(t *testing.T) {
	s := openSchema(t, true)
	ctx := t.Context()
	d := store.Department{ID: "d1", USCC: "91350100M000100Y43", CreatedAt: time.Now()}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.ID = "d2"
	err := s.CreateDepartment(ctx, d)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Errorf("the driver error is not in the chain: %v", err)
	}
	if strings.Contains(err.Error(), d.USCC) || strings.Contains(strings.ToUpper(err.Error()), "INSERT") {
		t.Errorf("error text carries data or SQL: %v", err)
	}
}

func TestTimesComeBackInUTC(t *testing.T) {
	// The session time zone must not leak into scanned values.
	ctx := t.Context()
	pool := admin(t)
	schema := randomName("suishen_t")
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u := withParam(t, withParam(t, databaseURL(t), "search_path", schema), "timezone", "Asia/Shanghai")
	s, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	if err := s.CreateDepartment(ctx, store.Department{ID: "d", USCC: "u", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDepartment(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if !d.CreatedAt.Equal(at) || d.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", d.CreatedAt, at)
	}
}

// TestReadCommittedCommitsAsynchronously: matching's transactions
// (InTxReadCommitted) do not wait for the WAL flush; every other
// transaction does.
func TestReadCommittedCommitsAsynchronously(t *testing.T) {
	s := openSchema(t, true)
	show := func(in func(context.Context, func(store.Queries) error) error) string {
		var v string
		if err := in(t.Context(), func(q store.Queries) error {
			return q.(*txQueries).tx.QueryRow(t.Context(), "SHOW synchronous_commit").Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := show(s.InTxReadCommitted); got != "off" {
		t.Fatalf("InTxReadCommitted: synchronous_commit %s", got)
	}
	if got := show(s.InTx); got != "on" {
		t.Fatalf("InTx: synchronous_commit %s", got)
	}
}

// TestClosedConnectionIsUnavailable: pgx reports a pooled connection it
// closed when the server went away as "conn closed" (pgconn.ErrConnClosed,
// wrapped); that is the database being unavailable (503 and a retry), not
// an internal error (TestDatabaseOutageAndRecovery answered 500 so).
func TestClosedConnectionIsUnavailable(t *testing.T) {
	err := mapErr(fmt.Errorf("begin transaction: %w", pgconn.ErrConnClosed))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("conn closed maps to %v", err)
	}
}
