package teststore

// Templates: migrating a fresh database for every test costs a second or
// more per store (twenty migrations, under the race detector), and a test
// binary opens hundreds. Each backend is therefore migrated once into a
// template — keyed by a hash of the embedded migrations, so a changed or added
// migration builds a new one — and every test gets a copy of it: PostgreSQL
// by CREATE DATABASE … TEMPLATE, SQLite by copying the file. The copy is
// still handed to Migrate, which checks the recorded version and has nothing
// to do; tests of migrating itself (store/sqlite, store/postgres) do not use
// this package.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/suishen/suishen/migrations"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/sqlite"
)

// migrationsHash identifies one set of migrations for one dialect: the
// directory's file names and contents and the goose version applying them.
func migrationsHash(fsys fs.FS, dir string) (string, error) {
	h := sha256.New()
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, dir+"/"+n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/pressly/goose/v3" {
				fmt.Fprintf(h, "goose\x00%s", d.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var sqliteTemplate struct {
	once sync.Once
	path string
	err  error
}

// sqliteTemplatePath returns a migrated SQLite file to copy; it is built once
// per set of migrations and kept in the temporary directory for later runs.
func sqliteTemplatePath() (string, error) {
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.path, sqliteTemplate.err = buildSQLiteTemplate()
	})
	return sqliteTemplate.path, sqliteTemplate.err
}

func buildSQLiteTemplate() (string, error) {
	sum, err := migrationsHash(migrations.SQLite, migrations.SQLiteDir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), "suishen-teststore-sqlite-"+sum+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	// Build in a directory of its own and rename into place, so a reader
	// never sees a half-migrated file, whoever else builds at the same time.
	dir, err := os.MkdirTemp("", "suishen-teststore-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "template.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tmp)
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	// Close checkpoints the write-ahead log into the file and removes it.
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(tmp + "-wal"); err == nil {
		return "", errors.New("teststore: the SQLite template still has a write-ahead log after Close")
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return path, nil
}

// copySQLiteTemplate copies the template to dst, readable by the owner only
// (as sqlite.Open creates a file).
func copySQLiteTemplate(dst string) error {
	src, err := sqliteTemplatePath()
	if err != nil {
		return fmt.Errorf("teststore: SQLite template: %w", err)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var pgTemplate struct {
	mu    sync.Mutex
	names map[string]string // TEST_DATABASE_URL → template database
}

// postgresTemplate returns the name of a migrated template database on the
// server of base, building it once per set of migrations. Templates are kept
// for later runs; they never accept connections, so CREATE DATABASE can always
// copy them (and autovacuum leaves them alone).
func postgresTemplate(ctx context.Context, base string) (string, error) {
	pgTemplate.mu.Lock()
	defer pgTemplate.mu.Unlock()
	if n, ok := pgTemplate.names[base]; ok {
		return n, nil
	}
	sum, err := migrationsHash(migrations.Postgres, migrations.PostgresDir)
	if err != nil {
		return "", err
	}
	name := "suishen_tpl_" + sum
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect to TEST_DATABASE_URL: %w", err)
	}
	defer admin.Close(context.Background())
	// One builder at a time on this database (other test binaries run at
	// the same time); a builder on another database loses the rename below.
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key)
	exists := func() (bool, error) {
		var ok bool
		err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
		return ok, err
	}
	if ok, err := exists(); err != nil {
		return "", err
	} else if !ok {
		if err := buildPostgresTemplate(ctx, admin, base, name); err != nil {
			return "", err
		}
	}
	if pgTemplate.names == nil {
		pgTemplate.names = map[string]string{}
	}
	pgTemplate.names[base] = name
	return name, nil
}

func buildPostgresTemplate(ctx context.Context, admin *pgx.Conn, base, name string) error {
	tmp := "suishen_tplb_" + randomSuffix()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+tmp); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	built := false
	defer func() {
		if !built {
			_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+tmp+" WITH (FORCE)")
		}
	}()
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	u.Path = "/" + tmp
	st, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err != nil {
		return err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+tmp+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	// Terminate any connection left behind (the store's pool is closed, but
	// a backend may still be on its way out).
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", tmp); err != nil {
		return err
	}
	err = retryInUse(func() error {
		_, err := admin.Exec(ctx, "ALTER DATABASE "+tmp+" RENAME TO "+name)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: built by another
		return nil
	}
	if err != nil {
		return fmt.Errorf("rename template database: %w", err)
	}
	built = true
	return nil
}

// createFromTemplate creates database name as a copy of template. A backend
// still leaving the template (just built) makes PostgreSQL refuse for a
// moment; that is retried. PostgreSQL 15 copies a small database by its
// WAL, without a checkpoint.
func createFromTemplate(ctx context.Context, admin *pgx.Conn, name, template string) error {
	return retryInUse(func() error {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template)
		return err
	})
}

// retryInUse runs f again, for up to ten seconds, while PostgreSQL says a
// database it needs alone is still in use (object_in_use).
func retryInUse(f func() error) error {
	var err error
	for attempt := 0; attempt < 40; attempt++ {
		err = f()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}
