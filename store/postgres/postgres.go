// Package postgres is Suishen's production storage backend: PostgreSQL through
// pgx and pgxpool. Its queries are shared with store/sqlite through
// store/sqldb; this package adds the pool, error mapping, serializable
// transactions with retries, migrations, and the two certificate methods
// that need PostgreSQL itself (certificates.go: numbers from a sequence, bulk
// loads with COPY).
//
// Open does not migrate: call Migrate (serve and `suishen migrate` do).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/suishen/suishen/migrations"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/sqldb"
)

// Options tune a Store; the zero value is a sensible default.
type Options struct {
	// MaxConns caps the pool; 0 keeps pgxpool's default (4 or the number of
	// CPUs, whichever is larger) unless the URL sets pool_max_conns.
	MaxConns int32
	// TxAttempts is how many times InTx runs a transaction that fails with
	// a serialization failure or deadlock; 0 means sqldb.DefaultTxAttempts.
	TxAttempts int
}

// Store is the PostgreSQL backend. It is safe for concurrent use.
type Store struct {
	*sqldb.Queries
	pool     *pgxpool.Pool
	pdb      *db // the pool, adapted
	attempts int
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// string; libpq parameters such as search_path are honoured) and checks that
// it answers. An unreachable database gives an error wrapping
// store.ErrUnavailable. Open does not run migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("store: postgres: parse database URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Return timestamptz values in UTC, as the store contract says,
		// rather than in the process's local zone.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: create pool: %w", mapErr(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: connect: %w", mapConnectErr(err))
	}
	s := &Store{pool: pool, pdb: &db{q: pool}, attempts: opts.TxAttempts}
	s.Queries = sqldb.New(s.pdb)
	return s, nil
}

// mapConnectErr is mapErr, except that any failure to connect at Open is
// store.ErrUnavailable (wrong password and unknown database included: the
// service cannot reach its data either way).
func mapConnectErr(err error) error {
	mapped := mapErr(err)
	var connectErr *pgconn.ConnectError
	if !errors.Is(mapped, store.ErrUnavailable) && errors.As(err, &connectErr) {
		return sqldb.Classify(store.ErrUnavailable, err)
	}
	return mapped
}

// Pool returns the underlying pool, for work the store interface does not
// cover (tests, operational tooling). Errors from it are raw pgx errors, not
// store sentinels.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Backend returns "postgres".
func (s *Store) Backend() string { return "postgres" }

// Ping reports whether the database answers; failures wrap
// store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: postgres: ping: %w", mapConnectErr(err))
	}
	return nil
}

// Stats reports pool figures: WaitCount and WaitDuration count acquisitions
// that had to wait for a connection.
func (s *Store) Stats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{
		Open:         int(st.TotalConns()),
		InUse:        int(st.AcquiredConns()),
		Idle:         int(st.IdleConns()),
		WaitCount:    st.EmptyAcquireCount(),
		WaitDuration: st.EmptyAcquireWaitTime(),
	}
}

// Close closes the pool, waiting for acquired connections to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// RawExec runs one statement on the pool, outside the storage contract: a
// hook for tests and operational tooling, never for request data.
func (s *Store) RawExec(ctx context.Context, stmt string) error {
	return s.Queries.RawExec(ctx, stmt)
}

// AddAuditSeals adds all seals or none: outside a transaction it runs in one.
func (s *Store) AddAuditSeals(ctx context.Context, seals []store.AuditSeal) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.AddAuditSeals(ctx, seals) })
}

// InTx runs fn in one SERIALIZABLE transaction, so that fn sees and writes
// data as if it ran alone, as on SQLite, and commits if fn returns nil.
// Serialization failures and deadlocks (SQLSTATE 40001, 40P01), whether
// raised by a statement or by COMMIT, roll back and rerun fn with jittered
// backoff, up to Options.TxAttempts times; fn may therefore run more than
// once. An error returned by fn is returned unchanged (after rollback) unless
// it is retryable. A panic in fn rolls back and panics again.
//
// PostgreSQL tracks what serializable transactions read at index-page
// granularity, so a transaction that reads a table which concurrent
// transactions insert into (check-then-insert on one table) conflicts with
// them often while the table is small, and may exhaust its attempts under a
// burst of such writers. Prefer inserting and handling store.ErrAlreadyExists
// to checking first; transactions that read some tables and insert into
// others do not conflict.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return sqldb.Retry(ctx, s.attempts, func() error { return s.tryTx(ctx, pgx.Serializable, fn) })
}

// InTxReadCommitted implements store.Store: InTx at READ COMMITTED, where
// only deadlocks (and serialization failures from row-level conflicts of
// conditional updates) are retried.
func (s *Store) InTxReadCommitted(ctx context.Context, fn func(q store.Queries) error) error {
	return sqldb.Retry(ctx, s.attempts, func() error { return s.tryTx(ctx, pgx.ReadCommitted, fn) })
}

func (s *Store) tryTx(ctx context.Context, iso pgx.TxIsoLevel, fn func(q store.Queries) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return fmt.Errorf("store: postgres: begin transaction: %w", mapErr(err))
	}
	txdb := &db{q: tx, inTx: true}
	if iso == pgx.ReadCommitted {
		// Redo-able work only (store.Store.InTxReadCommitted): its commit
		// need not wait for the WAL flush.
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return fmt.Errorf("store: postgres: begin transaction: %w", mapErr(err))
		}
	}
	rollback := func() {
		// A cancelled ctx must not stop the rollback; pgx closes the
		// connection if the rollback itself fails.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if ferr := fn(&txQueries{Queries: sqldb.New(txdb), tx: tx, d: txdb}); ferr != nil {
		rollback()
		if txdb.sawRetryable.Load() {
			return sqldb.MarkRetryable(ferr)
		}
		return ferr
	}
	// fn succeeded: commit on a context a client disconnect or a request
	// deadline cannot cancel. Cancelling while COMMIT is on the wire would
	// report a failure for a transaction PostgreSQL may have committed.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqldb.CommitTimeout)
	defer cancel()
	if err := tx.Commit(cctx); err != nil {
		err = fmt.Errorf("store: postgres: commit: %w", mapErr(err))
		if txdb.sawRetryable.Load() {
			// fn swallowed a serialization failure; the transaction
			// was aborted, so COMMIT rolled back.
			return sqldb.MarkRetryable(err)
		}
		return err
	}
	return nil
}

// Migrate brings the schema to the newest version embedded in the binary.
// It holds a PostgreSQL session advisory lock while it works, so several
// nodes starting at once against one database migrate it exactly once; the
// others wait (polling every second, for up to five minutes) and find nothing
// left to do.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations.Postgres, migrations.PostgresDir)
	if err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	// A database/sql view of the pool for goose; closing it returns its
	// connections to the pool and leaves the pool open.
	sqlDB := stdlib.OpenDBFromPool(s.pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: postgres: migrate: %w", mapErr(err))
	}
	return nil
}

// MigrationVersion returns the schema version recorded in the database: 0 for
// a database never migrated. It reads goose's version table and changes
// nothing.
func (s *Store) MigrationVersion(ctx context.Context) (int64, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("store: postgres: migration version: %w", mapErr(err))
	}
	if !exists {
		return 0, nil
	}
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: postgres: migration version: %w", mapErr(err))
	}
	return v, nil
}

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// db adapts a pool or a transaction to sqldb.DB.
type db struct {
	q    querier
	inTx bool
	// sawRetryable records that a statement in this transaction failed
	// with a retryable error, whatever fn then made of it.
	sawRetryable atomic.Bool
}

func (d *db) note(err error) error {
	err = mapErr(err)
	if d.inTx && errors.Is(err, store.ErrRetryable) {
		d.sawRetryable.Store(true)
	}
	return err
}

func (d *db) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, sql, args...)
	if err != nil {
		return 0, d.note(err)
	}
	return tag.RowsAffected(), nil
}

func (d *db) Query(ctx context.Context, sql string, args ...any) (sqldb.Rows, error) {
	rows, err := d.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, d.note(err)
	}
	return &pgRows{rows: rows, d: d}, nil
}

func (d *db) QueryRow(ctx context.Context, sql string, args ...any) sqldb.Row {
	return &pgRow{row: d.q.QueryRow(ctx, sql, args...), d: d}
}

type pgRows struct {
	rows pgx.Rows
	d    *db
}

func (r *pgRows) Next() bool { return r.rows.Next() }
func (r *pgRows) Close()     { r.rows.Close() }
func (r *pgRows) Err() error { return r.d.note(r.rows.Err()) }
func (r *pgRows) Scan(dest ...any) error {
	return r.d.note(r.rows.Scan(dest...))
}

type pgRow struct {
	row pgx.Row
	d   *db
}

func (r *pgRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return r.d.note(err)
}
