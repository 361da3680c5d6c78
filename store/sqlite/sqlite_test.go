package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/migrations"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/storetest"
)

// templateDir holds the migrated file openMigrated copies; TestMain removes
// it.
var templateDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		_ = os.RemoveAll(templateDir)
	}
	os.Exit(code)
}

// migratedTemplate migrates a file once per test binary (a second or more
// under the race detector); openMigrated hands each test a copy. Migrating
// itself is tested on fresh files (TestMigrate, TestFileIsPrivate, …).
var migratedTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "suishen-sqlite-test-")
	if err != nil {
		return nil, err
	}
	templateDir = dir
	path := filepath.Join(dir, "template.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	err = s.Migrate(context.Background())
	// Close checkpoints the write-ahead log into the file.
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, errors.New("the migrated template still has a write-ahead log after Close")
	}
	return os.ReadFile(path)
})

// openMigrated opens a migrated store on a new file in t.TempDir: a copy of
// the file migratedTemplate migrated.
func openMigrated(t *testing.T, opts ...Option) *Store {
	t.Helper()
	tpl, err := migratedTemplate()
	if err != nil {
		t.Fatalf("migrated template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "suishen.db")
	if err := os.WriteFile(path, tpl, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// latestMigration returns the newest migration version embedded in the
// binary.
func latestMigration(t testing.TB) int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations.SQLite, migrations.SQLiteDir)
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

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openMigrated(t) })
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.MigrationVersion(ctx); err != nil || v != 0 {
		t.Fatalf("before Migrate: version %d, %v; want 0", v, err)
	}
	// Open must not have migrated, nor MigrationVersion created anything.
	var tables int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("fresh file has %d schema objects (%v), want 0", tables, err)
	}
	for range 2 { // the second run has nothing to do
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if v, err := s.MigrationVersion(ctx); err != nil || v != latestMigration(t) {
			t.Fatalf("after Migrate: version %d, %v; want %d", v, err, latestMigration(t))
		}
	}
}

func TestConnectionSettings(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, c := range []struct {
		db         *sql.DB
		name, want string
	}{
		{s.writer, "journal_mode", "wal"},
		{s.writer, "foreign_keys", "1"},
		{s.writer, "synchronous", "1"}, // NORMAL
		{s.writer, "busy_timeout", "10000"},
		{s.writer, "query_only", "0"},
		{s.reader, "journal_mode", "wal"},
		{s.reader, "foreign_keys", "1"},
		{s.reader, "busy_timeout", "10000"},
		{s.reader, "query_only", "1"},
	} {
		if got := pragma(c.db, c.name); got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
	}
	if n := s.writer.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
}

func TestStoredTimeIsFixedWidth(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	for i, at := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100_000_000, time.UTC),
		time.Date(2026, 1, 2, 11, 4, 5, 123_456_789, time.FixedZone("CST", 8*3600)),
	} {
		id := string(rune('a' + i))
		if err := s.CreateDepartment(ctx, store.Department{ID: id, USCC: id, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT created_at FROM departments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	want := []string{"2026-01-02T03:04:05.000000Z", "2026-01-02T03:04:05.100000Z", "2026-01-02T03:04:05.123456Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stored times %q, want %q", got, want)
	}
}

func TestSchemaRejectsOtherTimeForms(t *testing.T) {
	s := openMigrated(t)
	err := s.RawExec(t.Context(), `INSERT INTO departments (id, name, uscc, level, created_at) VALUES ('x', '', 'x', '', '2026-01-02T03:04:05Z')`)
	if err == nil {
		t.Fatal("a variable-width time was accepted")
	}
}

func TestFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), m)
		}
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "no", "such", "dir.db"))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open in a missing directory: %v, want ErrUnavailable", err)
	}
}

// TestBusyIsRetryable holds the write lock from another connection (as
// another process would) and checks that writers report store.ErrRetryable
// once the busy timeout has passed, and succeed once the lock is gone.
func TestBusyIsRetryable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	ctx := t.Context()
	s, err := Open(ctx, path, WithBusyTimeout(50*time.Millisecond), WithTxAttempts(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	d := store.Department{ID: "d", USCC: "u", CreatedAt: time.Now()}
	err = s.CreateDepartment(ctx, d)
	if !errors.Is(err, store.ErrRetryable) {
		t.Fatalf("write while another connection holds the lock: %v, want ErrRetryable", err)
	}
	// Readers are not blocked by the writer (WAL).
	if _, err := s.ListDepartments(ctx, "", 10); err != nil {
		t.Fatalf("read while locked: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDepartment(ctx, d); err != nil {
		t.Fatalf("write after the lock is released: %v", err)
	}
}

// TestStoreWriteInsideTxFails documents the one misuse SQLite cannot serve:
// writing through the Store, not the Queries given to fn, from inside InTx.
// It must fail after the busy timeout rather than hang.
func TestStoreWriteInsideTxFails(t *testing.T) {
	s := openMigrated(t, WithBusyTimeout(50*time.Millisecond), WithTxAttempts(2))
	ctx := t.Context()
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(q store.Queries) error {
			return s.CreateDepartment(ctx, store.Department{ID: "d", USCC: "u", CreatedAt: time.Now()})
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrRetryable) {
			t.Fatalf("nested write: %v, want ErrRetryable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nested write hangs")
	}
}

func TestErrorsCarryNoValues(t *testing.T) {
	s := openMigrated(t)
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
	if strings.Contains(err.Error(), d.USCC) || strings.Contains(strings.ToUpper(err.Error()), "INSERT") {
		t.Errorf("error text carries data or SQL: %v", err)
	}
}

func TestContextCancelledDuringWait(t *testing.T) {
	s := openMigrated(t)
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = s.InTx(t.Context(), func(q store.Queries) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	defer close(release)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := s.CreateDepartment(ctx, store.Department{ID: "d", USCC: "u", CreatedAt: time.Now()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("write waiting for the writer, then cancelled: %v", err)
	}
}

func TestUnusableIsUnavailable(t *testing.T) {
	ctx := t.Context()
	s := openMigrated(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.GetDepartment(ctx, "x"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read after Close: %v, want ErrUnavailable", err)
	}
	if err := s.CreateDepartment(ctx, store.Department{ID: "d", USCC: "u", CreatedAt: time.Now()}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write after Close: %v, want ErrUnavailable", err)
	}

	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, garbage); !errors.Is(err, store.ErrUnavailable) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open on a file that is not a database: %v, want ErrUnavailable", err)
	}
}
