// Package teststore opens fresh, migrated stores on every backend for tests
// outside the store packages (API, key ring, end-to-end).
//
// PostgreSQL comes from TEST_DATABASE_URL: each Open creates a database of
// its own (a copy of a migrated template, template.go) and drops it after
// the test ends (in the background, drop.go). Without TEST_DATABASE_URL the
// PostgreSQL half is skipped with a loud message — unless CI=true or
// SUISHEN_REQUIRE_POSTGRES=1, when it fails, so CI can never pass without it.
package teststore

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/sqlite"
)

// Backend opens a fresh store of one kind.
type Backend struct {
	Name string
	Open func(t testing.TB) store.Store
}

// Backends lists SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}
}

// SQLite opens a migrated store in a temporary directory: a copy of the
// migrated template (template.go).
func SQLite(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "suishen.db")
	if err := copySQLiteTemplate(path); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// RequirePostgres reports whether a missing PostgreSQL must fail the test.
func RequirePostgres() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SUISHEN_REQUIRE_POSTGRES") == "1"
}

// PostgresURL creates a fresh, empty database and returns its URL; it is
// dropped after the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return postgresDatabase(t, false)
}

// postgresDatabase creates a database that is dropped when the test ends:
// empty, or (migrated) a copy of the migrated template.
func postgresDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if RequirePostgres() {
			t.Fatal("TEST_DATABASE_URL is not set, and CI requires the PostgreSQL tests to run")
		}
		t.Skip("SKIPPING PostgreSQL: set TEST_DATABASE_URL=postgres://… to run this test on PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	startDropper(base)
	name := testDatabaseName()
	if migrated {
		tpl, err := postgresTemplate(ctx, base)
		if err != nil {
			t.Fatalf("PostgreSQL template: %v", err)
		}
		if err := createFromTemplate(ctx, admin, name, tpl); err != nil {
			t.Fatalf("create test database from the template: %v", err)
		}
	} else if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropLater(base, name) }) // drop.go
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres opens a migrated store on a fresh database: a copy of the
// migrated template (template.go).
func Postgres(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgresDatabase(t, true), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
