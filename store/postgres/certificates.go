package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/sqldb"
)

var certificateCols = strings.Join(sqldb.CertificateColumns, ", ")

// txQueries is what InTx hands to fn: the shared queries on the
// transaction, with PostgreSQL's own versions of the two certificate methods
// that need more than sqldb's SQL.
type txQueries struct {
	*sqldb.Queries
	tx pgx.Tx
	d  *db
}

var _ store.Queries = (*txQueries)(nil)

// NextCertificateNumbers implements store.Queries with the certificate_numbers
// sequence (see reserveNumbers).
func (q *txQueries) NextCertificateNumbers(ctx context.Context, n int) (int64, error) {
	return reserveNumbers(ctx, q.d, n)
}

// CreateCertificates implements store.Queries with COPY (see copyCertificates).
func (q *txQueries) CreateCertificates(ctx context.Context, cs []store.Certificate) ([]string, error) {
	return copyCertificates(ctx, q.tx, q.d, cs)
}

// NextCertificateNumbers implements store.Queries (see reserveNumbers); the
// reservation is final at once.
func (s *Store) NextCertificateNumbers(ctx context.Context, n int) (int64, error) {
	return reserveNumbers(ctx, s.pdb, n)
}

// CreateCertificate implements store.Queries; outside a transaction it runs
// in one, so that the certificate and its status list go in together.
func (s *Store) CreateCertificate(ctx context.Context, c store.Certificate) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.CreateCertificate(ctx, c) })
}

// IssueCertificate implements store.Queries in one statement; outside a
// transaction it runs in one.
func (s *Store) IssueCertificate(ctx context.Context, c store.Certificate, e store.BenefitEvent) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.IssueCertificate(ctx, c, e) })
}

// CreateCertificates implements store.Queries (see copyCertificates); outside
// a transaction it runs in one: the staging table lives in it.
func (s *Store) CreateCertificates(ctx context.Context, cs []store.Certificate) ([]string, error) {
	var ids []string
	err := s.InTx(ctx, func(q store.Queries) error {
		var err error
		ids, err = q.CreateCertificates(ctx, cs)
		return err
	})
	return ids, err
}

// ChangeCertificateStatus implements store.Queries; outside a transaction it
// runs in one, so that the certificate and its status list change together.
func (s *Store) ChangeCertificateStatus(ctx context.Context, ch store.CertificateStatusChange) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.ChangeCertificateStatus(ctx, ch) })
}

// reserveNumbers reserves n consecutive numbers with
// reserve_certificate_numbers (migrations/postgres/00002_certificates.sql):
// nextval, then setval over the other n-1, under an advisory lock that is
// released before the function returns. Inside InTx it runs in the caller's
// transaction, outside as a statement of its own; either way the numbers
// are taken for good at once (a transaction that rolls back loses them:
// the contract allows gaps).
//
// Why a sequence: it is not transactional, so reserving never makes
// SERIALIZABLE issuers conflict, and it costs one short statement whatever
// n is. Measured on the 2-core test machine with 32 goroutines each running
// 50 × InTx{NextCertificateNumbers(1); CreateCertificate}, pools of 4 and
// 10 connections:
//
//   - this design: 1,600 commits with 1 to 9 retries (all from creating the
//     new status list at the start), 4,000 to 5,400 issuances/s;
//   - a bare nextval without the lock (right only for n = 1): 4,400 to
//     5,800/s, so the lock costs little;
//   - a counter row updated in the caller's transaction (UPDATE … RETURNING):
//     270 to 290 retries per 1,600, 1 to 5 transactions out of their 10
//     attempts, ≈1,100 issuances/s: the row is a hot spot, every updater
//     after the first waits for it and then fails with 40001.
//
// Taking numbers from a counter row in a transaction of its own, on a
// second pool connection, would avoid the conflicts but can deadlock the
// pool (every connection held by a transaction waiting for another one), and
// needs a commit and its WAL flush per reservation.
func reserveNumbers(ctx context.Context, d *db, n int) (int64, error) {
	if n < 1 {
		return 0, errors.New("store: next certificate numbers: n must be at least 1")
	}
	var first int64
	if err := d.QueryRow(ctx, `SELECT reserve_certificate_numbers($1)`, int64(n)).Scan(&first); err != nil {
		return 0, fmt.Errorf("store: next certificate numbers: %w", err)
	}
	return first, nil
}

// copyCertificates is CreateCertificates for PostgreSQL: COPY into a
// temporary staging table (dropped at the latest on commit), then one
// INSERT … SELECT … ON CONFLICT DO NOTHING that also adds the status lists of
// the inserted rows that are new, in the same statement (reading them first,
// as sqldb's addStatusList does, for the same reason). COPY is the
// fastest way in; the INSERT skips rows already present as the contract
// says (on any unique key, as sqldb.CreateCertificates does).
func copyCertificates(ctx context.Context, tx pgx.Tx, d *db, cs []store.Certificate) ([]string, error) {
	if len(cs) == 0 {
		return []string{}, nil
	}
	wrap := func(err error) error { return fmt.Errorf("store: create certificates: %w", err) }
	if _, err := d.Exec(ctx,
		`CREATE TEMPORARY TABLE certificates_staging (LIKE certificates INCLUDING DEFAULTS INCLUDING COMPRESSION) ON COMMIT DROP`); err != nil {
		return nil, wrap(err)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "certificates_staging"}, sqldb.CertificateColumns,
		pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) { return sqldb.CertificateValues(cs[i]), nil }))
	if err != nil {
		return nil, wrap(d.note(err))
	}
	rows, err := d.Query(ctx, `
		WITH ins AS (
			INSERT INTO certificates (`+certificateCols+`)
			SELECT `+certificateCols+` FROM pg_temp.certificates_staging
			ON CONFLICT DO NOTHING
			RETURNING id, status_list, issued_at
		), lists AS (
			INSERT INTO status_lists (id, created_at, updated_at)
			SELECT status_list, min(issued_at), min(issued_at) FROM ins
			WHERE NOT EXISTS (SELECT 1 FROM status_lists l WHERE l.id = ins.status_list)
			GROUP BY status_list
			ON CONFLICT (id) DO NOTHING
		)
		SELECT id FROM ins`)
	if err != nil {
		return nil, wrap(err)
	}
	inserted := make(map[string]bool, len(cs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		inserted[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	// Dropped now rather than at commit, so that the transaction may call
	// CreateCertificates again.
	if _, err := d.Exec(ctx, `DROP TABLE pg_temp.certificates_staging`); err != nil {
		return nil, wrap(err)
	}
	ids, _ := sqldb.InsertedInOrder(cs, inserted)
	return ids, nil
}

// Analyze refreshes the planner's statistics of the certificate tables; bulk
// imports call it after loading, since autovacuum may be off or slower than
// the load.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE certificates, status_lists`); err != nil {
		return fmt.Errorf("store: postgres: analyze: %w", mapErr(err))
	}
	return nil
}

// IssueCertificate implements store.Queries with one statement.
func (q *txQueries) IssueCertificate(ctx context.Context, c store.Certificate, e store.BenefitEvent) error {
	return q.Queries.IssueCertificateOneStatement(ctx, c, e)
}

// ClaimBenefitEvents implements store.Queries: inside a transaction the
// events stay locked until it ends, and concurrent drainers skip them.
func (q *txQueries) ClaimBenefitEvents(ctx context.Context, now time.Time, limit int) ([]store.BenefitEvent, error) {
	return q.Queries.ClaimBenefitEventsWith(ctx, sqldb.ClaimBenefitEventsSQL+` FOR UPDATE SKIP LOCKED`, now, limit)
}

// AddUsageRecords implements store.Queries with COPY for many records (a
// full match writes one per holder read); a few go in as sqldb inserts them.
func (q *txQueries) AddUsageRecords(ctx context.Context, rs []store.UsageRecord) error {
	if len(rs) < 64 {
		return q.Queries.AddUsageRecords(ctx, rs)
	}
	_, err := q.tx.CopyFrom(ctx, pgx.Identifier{"usage_records"}, sqldb.UsageRecordColumns,
		pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) { return sqldb.UsageRecordValues(rs[i]), nil }))
	if err != nil {
		return fmt.Errorf("store: add usage records: %w", q.d.note(err))
	}
	return nil
}

// CreateCopy implements store.Queries; outside a transaction it runs in
// one (it reads the certificate and may add a status list).
func (s *Store) CreateCopy(ctx context.Context, c store.Copy) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.CreateCopy(ctx, c) })
}

// WithdrawCopy implements store.Queries; outside a transaction it runs in
// one (it bumps the copy's status list).
func (s *Store) WithdrawCopy(ctx context.Context, id string, at time.Time) error {
	return s.InTx(ctx, func(q store.Queries) error { return q.WithdrawCopy(ctx, id, at) })
}
