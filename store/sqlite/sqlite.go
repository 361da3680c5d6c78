// Package sqlite is Suishen's embedded storage backend: one SQLite file
// through modernc.org/sqlite (pure Go, no cgo). Its queries are shared with
// store/postgres through store/sqldb; this package adds time encoding, error
// mapping, connection handling, transactions with retries and migrations.
//
// # Connections
//
// SQLite allows one writer at a time per file; in WAL mode readers never
// block it and it never blocks them. The Store is built around that:
//
//   - one writer connection (a *sql.DB capped at one connection), used only
//     by transactions. Every write, including the single-statement methods
//     such as CreateDepartment, runs as a transaction on it, begun with
//     BEGIN IMMEDIATE (_txlock=immediate) so that the write lock is taken up
//     front and never upgraded half-way (the upgrade is what fails with
//     "database is locked" however long busy_timeout is). Writers of this
//     process queue on a Go semaphore in front of that connection instead of
//     polling SQLite's busy handler, which sleeps between polls and lets a
//     writer lose the lock again and again. (Measured with 32 goroutines
//     appending 1,600 audit entries: one writer connection took 87 ms with a
//     worst wait of 6 ms; 32 writer connections with busy_timeout took
//     374 ms with a worst wait of 370 ms.) The wait is bounded by the busy
//     timeout (default 10 s), after which the attempt fails with
//     store.ErrRetryable and InTx tries again. busy_timeout still covers
//     other processes on the same file (`suishen migrate`,
//     `suishen audit verify`).
//   - a pool of reader connections (PRAGMA query_only) for everything
//     outside a transaction that only reads. A write routed to it by mistake
//     fails loudly ("attempt to write a readonly database") instead of
//     quietly bypassing the writer.
//
// Consequence for callers: inside InTx, use the Queries passed to fn. A write
// through the Store itself from inside fn waits for the writer that fn holds
// and fails after the busy timeout.
//
// # Times
//
// Times are stored as TEXT in TimeLayout (UTC, microseconds, fixed width), so
// comparing and sorting the text compares and sorts the times; the adapter
// converts time.Time arguments and scans them back.
//
// Open does not migrate: call Migrate (serve and `suishen migrate` do).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/suishen/suishen/migrations"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/sqldb"
)

// DefaultBusyTimeout is how long a writer waits for the write lock, in this
// process or another, before the attempt counts as busy.
const DefaultBusyTimeout = 10 * time.Second

// Option tunes Open.
type Option func(*config)

type config struct {
	busyTimeout time.Duration
	txAttempts  int
	readConns   int
}

// WithBusyTimeout sets how long a writer waits for the write lock before the
// attempt fails with store.ErrRetryable (default DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.busyTimeout = d
		}
	}
}

// WithTxAttempts sets how many times InTx runs a transaction that fails with
// a busy database (default sqldb.DefaultTxAttempts).
func WithTxAttempts(n int) Option {
	return func(c *config) { c.txAttempts = n }
}

// WithReadConns sets the size of the reader pool (default: the number of
// CPUs, at least 4).
func WithReadConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readConns = n
		}
	}
}

// Store is the SQLite backend. It is safe for concurrent use.
type Store struct {
	// Queries serves the read methods from the reader pool; Store overrides
	// every write method to run it as a transaction on the writer.
	*sqldb.Queries
	writer      *sql.DB
	reader      *sql.DB
	writerSem   chan struct{}
	busyTimeout time.Duration
	attempts    int
	closed      atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it, mode 0600, if missing) the database file at path.
// path is a plain file path: ":memory:", "file:" URIs and names containing
// '?' are refused. Open applies the connection settings (WAL, foreign keys,
// synchronous=NORMAL, busy timeout) and checks that the file is usable, but
// does not run migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{
		busyTimeout: DefaultBusyTimeout,
		readConns:   max(4, runtime.NumCPU()),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, errors.New("store: sqlite: the database must be a plain file path")
	}
	// Create the file ourselves so that it, and the -wal and -shm files
	// SQLite derives from its mode, are readable by the owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: open database file: %w", sqldb.Classify(store.ErrUnavailable, err))
	}
	_ = f.Close()

	busy := "_pragma=busy_timeout(" + strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10) + ")"
	writer, err := sql.Open("sqlite", path+"?"+strings.Join([]string{
		"_txlock=immediate",
		busy,
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		// A page cache of up to 64 MiB for the one writer (the default is
		// 2 MiB), and statement journals in memory: a batch of certificates
		// touches a leaf page of each of the certificate table's indexes
		// per row, at random places (serials are opaque), and with the
		// default cache the writer spilled dirty pages to the journal and
		// read them back mid-transaction (docs/performance.md, bulk import).
		// The cache grows only as pages are used.
		"_pragma=cache_size(-65536)",
		"_pragma=temp_store(MEMORY)",
	}, "&"))
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: open: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	var mode string
	if err := writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("store: sqlite: open: %w", mapErr(err))
	}
	if !strings.EqualFold(mode, "wal") {
		_ = writer.Close()
		return nil, fmt.Errorf("store: sqlite: open: journal mode is %q, want wal", mode)
	}

	// The writer has switched the file to WAL (a persistent setting), so
	// readers need not and, being query_only, could not.
	reader, err := sql.Open("sqlite", path+"?"+strings.Join([]string{
		busy,
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	}, "&"))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("store: sqlite: open: %w", err)
	}
	reader.SetMaxOpenConns(cfg.readConns)
	reader.SetMaxIdleConns(cfg.readConns)

	s := &Store{
		writer:      writer,
		reader:      reader,
		writerSem:   make(chan struct{}, 1),
		busyTimeout: cfg.busyTimeout,
		attempts:    cfg.txAttempts,
	}
	s.Queries = sqldb.New(&db{q: reader, closed: &s.closed})
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Backend returns "sqlite".
func (s *Store) Backend() string { return "sqlite" }

// Ping reports whether the database file answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: sqlite: ping: %w", s.mapErr(err))
	}
	return nil
}

// Stats adds up the writer's and the readers' pool figures.
func (s *Store) Stats() store.PoolStats {
	w, r := s.writer.Stats(), s.reader.Stats()
	return store.PoolStats{
		Open:         w.OpenConnections + r.OpenConnections,
		InUse:        w.InUse + r.InUse,
		Idle:         w.Idle + r.Idle,
		WaitCount:    w.WaitCount + r.WaitCount,
		WaitDuration: w.WaitDuration + r.WaitDuration,
	}
}

// Close closes both pools; the last connection to close checkpoints the WAL.
// Calls after Close fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.closed.Store(true)
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// mapErr is the package's mapErr, plus: after Close, store.ErrUnavailable.
func (s *Store) mapErr(err error) error {
	return (&db{closed: &s.closed}).note(err)
}

var errWriterBusy = errors.New("store: sqlite: timed out waiting for the writer")

// acquireWriter takes the writer semaphore, waiting at most wait (0: no
// bound other than ctx).
func (s *Store) acquireWriter(ctx context.Context, wait time.Duration) error {
	select {
	case s.writerSem <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.writerSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return sqldb.Classify(store.ErrRetryable, errWriterBusy)
	}
}

func (s *Store) releaseWriter() { <-s.writerSem }

// InTx runs fn in one transaction on the writer connection (BEGIN
// IMMEDIATE: SQLite transactions are serializable) and commits if fn returns
// nil. A busy database (SQLITE_BUSY, SQLITE_LOCKED, or the writer not free
// within the busy timeout) rolls back and reruns fn with jittered backoff, up
// to the configured attempts; fn may therefore run more than once. An error
// returned by fn is returned unchanged (after rollback) unless it is
// retryable. A panic in fn rolls back and panics again.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return sqldb.Retry(ctx, s.attempts, func() error { return s.tryTx(ctx, fn) })
}

// InTxReadCommitted implements store.Store: SQLite has one writer, so it is
// InTx.
func (s *Store) InTxReadCommitted(ctx context.Context, fn func(q store.Queries) error) error {
	return s.InTx(ctx, fn)
}

func (s *Store) tryTx(ctx context.Context, fn func(q store.Queries) error) error {
	if err := s.acquireWriter(ctx, s.busyTimeout); err != nil {
		return fmt.Errorf("store: sqlite: begin transaction: %w", err)
	}
	defer s.releaseWriter()
	// database/sql rolls a transaction back when its BeginTx context ends,
	// even between fn's last statement and COMMIT; statements inside fn
	// still use the caller's ctx, so a cancellation aborts fn, but once fn
	// has succeeded the commit is not cancellable.
	tx, err := s.writer.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("store: sqlite: begin transaction: %w", s.mapErr(err))
	}
	txdb := &db{q: tx, inTx: true, closed: &s.closed}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if ferr := fn(sqldb.New(txdb)); ferr != nil {
		_ = tx.Rollback()
		if txdb.sawRetryable.Load() {
			return sqldb.MarkRetryable(ferr)
		}
		return ferr
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("store: sqlite: commit: %w", s.mapErr(err))
		if txdb.sawRetryable.Load() {
			return sqldb.MarkRetryable(err)
		}
		return err
	}
	return nil
}

// write runs one write method as a transaction on the writer.
func (s *Store) write(ctx context.Context, fn func(q store.Queries) error) error {
	return s.InTx(ctx, fn)
}

// RawExec runs one statement in a transaction on the writer, outside the
// storage contract: a hook for tests and operational tooling, never for
// request data.
func (s *Store) RawExec(ctx context.Context, stmt string) error {
	return s.write(ctx, func(q store.Queries) error { return q.(*sqldb.Queries).RawExec(ctx, stmt) })
}

// Migrate brings the schema to the newest version embedded in the binary. It
// holds the writer while it works; another process migrating the same file
// at the same moment is not coordinated beyond SQLite's own locking.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations.SQLite, migrations.SQLiteDir)
	if err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", err)
	}
	if err := s.acquireWriter(ctx, 0); err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", err)
	}
	defer s.releaseWriter()
	// goose uses one connection throughout (no session locker with SQLite),
	// so the single writer connection is enough. The provider is not
	// closed: Close would close the writer.
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: sqlite: migrate: %w", s.mapErr(err))
	}
	return nil
}

// MigrationVersion returns the schema version recorded in the file: 0 for a
// database never migrated. It reads goose's version table and changes
// nothing.
func (s *Store) MigrationVersion(ctx context.Context) (int64, error) {
	var n int
	err := s.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: sqlite: migration version: %w", s.mapErr(err))
	}
	if n == 0 {
		return 0, nil
	}
	var v int64
	if err := s.reader.QueryRowContext(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: sqlite: migration version: %w", s.mapErr(err))
	}
	return v, nil
}

// ---- writes: each runs as a transaction on the writer ----

// CreateDepartment implements store.Queries.
func (s *Store) CreateDepartment(ctx context.Context, d store.Department) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateDepartment(ctx, d) })
}

// CreateApp implements store.Queries.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateApp(ctx, a) })
}

// CreateVenue implements store.Queries.
func (s *Store) CreateVenue(ctx context.Context, v store.Venue) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateVenue(ctx, v) })
}

// CreateAPIKey implements store.Queries.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateAPIKey(ctx, k) })
}

// ExpireOtherAPIKeys implements store.Queries.
func (s *Store) ExpireOtherAPIKeys(ctx context.Context, kind store.PrincipalKind, principalID, keep string, at time.Time) (n int64, err error) {
	err = s.write(ctx, func(q store.Queries) error {
		n, err = q.ExpireOtherAPIKeys(ctx, kind, principalID, keep, at)
		return err
	})
	return n, err
}

// RevokeAPIKey implements store.Queries.
func (s *Store) RevokeAPIKey(ctx context.Context, kind store.PrincipalKind, principalID, id string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.RevokeAPIKey(ctx, kind, principalID, id, at) })
}

// TouchAPIKey implements store.Queries.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(q store.Queries) error { return q.TouchAPIKey(ctx, id, at) })
}

// CreateSession implements store.Queries.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateSession(ctx, se) })
}

// DeleteExpiredSessions implements store.Queries.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		n, err = q.DeleteExpiredSessions(ctx, now)
		return err
	})
	return n, err
}

// CreateKey implements store.Queries.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateKey(ctx, k) })
}

// UpdateKey implements store.Queries.
func (s *Store) UpdateKey(ctx context.Context, k store.Key) error {
	return s.write(ctx, func(q store.Queries) error { return q.UpdateKey(ctx, k) })
}

// AppendAudit implements store.Queries.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var id int64
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		id, err = q.AppendAudit(ctx, e)
		return err
	})
	return id, err
}

// AddAuditSeals implements store.Queries; it adds all seals or none.
func (s *Store) AddAuditSeals(ctx context.Context, seals []store.AuditSeal) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddAuditSeals(ctx, seals) })
}

// AddAnchorSuccession implements store.Queries.
func (s *Store) AddAnchorSuccession(ctx context.Context, a store.AnchorSuccession) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddAnchorSuccession(ctx, a) })
}

// AddAuditCheckpoint implements store.Queries.
func (s *Store) AddAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	return s.write(ctx, func(q store.Queries) error { return q.AddAuditCheckpoint(ctx, c) })
}

// PutIdempotency implements store.Queries.
func (s *Store) PutIdempotency(ctx context.Context, r store.IdempotencyRecord) error {
	return s.write(ctx, func(q store.Queries) error { return q.PutIdempotency(ctx, r) })
}

// CreateCertificateType implements store.Queries.
func (s *Store) CreateCertificateType(ctx context.Context, t store.CertificateType) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCertificateType(ctx, t) })
}

// NextCertificateNumbers implements store.Queries: outside InTx the
// reservation commits at once.
func (s *Store) NextCertificateNumbers(ctx context.Context, n int) (int64, error) {
	var first int64
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		first, err = q.NextCertificateNumbers(ctx, n)
		return err
	})
	return first, err
}

// CreateCertificate implements store.Queries.
func (s *Store) CreateCertificate(ctx context.Context, c store.Certificate) error {
	return s.write(ctx, func(q store.Queries) error { return q.CreateCertificate(ctx, c) })
}

// IssueCertificate implements store.Queries.
func (s *Store) IssueCertificate(ctx context.Context, c store.Certificate, e store.BenefitEvent) error {
	return s.write(ctx, func(q store.Queries) error { return q.IssueCertificate(ctx, c, e) })
}

// CreateCertificates implements store.Queries; it inserts all new rows or
// none.
func (s *Store) CreateCertificates(ctx context.Context, cs []store.Certificate) ([]string, error) {
	var ids []string
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		ids, err = q.CreateCertificates(ctx, cs)
		return err
	})
	return ids, err
}

// ChangeCertificateStatus implements store.Queries.
func (s *Store) ChangeCertificateStatus(ctx context.Context, ch store.CertificateStatusChange) error {
	return s.write(ctx, func(q store.Queries) error { return q.ChangeCertificateStatus(ctx, ch) })
}

// Backup writes a consistent copy of the whole database to path (VACUUM
// INTO: one read transaction, so it is safe while other processes serve and
// write). The copy is written beside path, mode 0600, and renamed into place
// when complete, so path never holds a partial copy. path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("store: sqlite: backup: %s already exists", path)
	}
	tmp := path + ".partial"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: sqlite: backup: %w", err)
	}
	_ = f.Close()
	if _, err := s.writer.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: sqlite: backup: %w", s.mapErr(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: sqlite: backup: %w", err)
	}
	return nil
}

// PutSignedStatusList implements store.Queries.
func (s *Store) PutSignedStatusList(ctx context.Context, l store.SignedStatusList) error {
	return s.write(ctx, func(q store.Queries) error { return q.PutSignedStatusList(ctx, l) })
}

// NextStatusSlots implements store.Queries: outside InTx the reservation
// commits at once.
func (s *Store) NextStatusSlots(ctx context.Context, partition string, n int) (int64, error) {
	var first int64
	err := s.write(ctx, func(q store.Queries) error {
		var err error
		first, err = q.NextStatusSlots(ctx, partition, n)
		return err
	})
	return first, err
}
