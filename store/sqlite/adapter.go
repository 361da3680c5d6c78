package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/sqldb"
)

// TimeLayout is how times are stored: UTC, microseconds, always the same
// width, so that comparing the text compares the times. (modernc's default,
// like RFC 3339 with nanoseconds, drops trailing zeros: "…:37Z" would sort
// after "…:37.1Z".)
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t in TimeLayout, truncated to microseconds.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(TimeLayout)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		// Tolerate rows written by hand in another RFC 3339 form.
		if t2, err2 := time.Parse(time.RFC3339Nano, s); err2 == nil {
			return t2.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("store: sqlite: stored time is malformed: %w", err)
	}
	return t, nil
}

// convertArgs renders time arguments as TimeLayout text; other values pass
// unchanged. The slice is copied only when something changes.
func convertArgs(args []any) []any {
	out := args
	copied := false
	for i, a := range args {
		var v any
		switch x := a.(type) {
		case time.Time:
			v = FormatTime(x)
		case *time.Time:
			if x == nil {
				v = nil
			} else {
				v = FormatTime(*x)
			}
		default:
			continue
		}
		if !copied {
			out = append([]any(nil), args...)
			copied = true
		}
		out[i] = v
	}
	return out
}

// convertDest wraps *time.Time and **time.Time destinations with scanners
// that parse TimeLayout text.
func convertDest(dest []any) []any {
	out := dest
	copied := false
	for i, d := range dest {
		var v any
		switch x := d.(type) {
		case *time.Time:
			v = timeDest{x}
		case **time.Time:
			v = nullTimeDest{x}
		default:
			continue
		}
		if !copied {
			out = append([]any(nil), dest...)
			copied = true
		}
		out[i] = v
	}
	return out
}

type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case string:
		t, err := parseTime(v)
		*d.t = t
		return err
	case []byte:
		t, err := parseTime(string(v))
		*d.t = t
		return err
	case time.Time:
		*d.t = v.UTC()
		return nil
	case nil:
		return errors.New("store: sqlite: NULL in a non-null time column")
	}
	return fmt.Errorf("store: sqlite: cannot scan %T into a time", src)
}

type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(src any) error {
	if src == nil {
		*d.t = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{&t}).Scan(src); err != nil {
		return err
	}
	*d.t = &t
	return nil
}

// mapErr wraps a database/sql or SQLite error with the store sentinel it
// stands for, keeping the original in the chain. SQLite's messages name the
// constraint ("UNIQUE constraint failed: departments.uscc"), never the
// values.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch code {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqldb.Classify(store.ErrAlreadyExists, err)
		}
		switch code & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return sqldb.Classify(store.ErrRetryable, err)
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_PERM:
			return sqldb.Classify(store.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, sql.ErrConnDone) {
		return sqldb.Classify(store.ErrUnavailable, err)
	}
	return err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db adapts a *sql.DB or *sql.Tx to sqldb.DB.
type db struct {
	q    querier
	inTx bool
	// closed is the Store's flag: once it is closed, every failure is
	// store.ErrUnavailable.
	closed *atomic.Bool
	// sawRetryable records that a statement in this transaction failed
	// with a retryable error, whatever fn then made of it.
	sawRetryable atomic.Bool
}

func (d *db) note(err error) error {
	err = mapErr(err)
	if err != nil && d.closed != nil && d.closed.Load() && !errors.Is(err, store.ErrUnavailable) {
		return sqldb.Classify(store.ErrUnavailable, err)
	}
	if d.inTx && errors.Is(err, store.ErrRetryable) {
		d.sawRetryable.Store(true)
	}
	return err
}

func (d *db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.q.ExecContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return 0, d.note(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, d.note(err)
	}
	return n, nil
}

func (d *db) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := d.q.QueryContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return nil, d.note(err)
	}
	return &sqlRows{rows: rows, d: d}, nil
}

func (d *db) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return &sqlRow{row: d.q.QueryRowContext(ctx, query, convertArgs(args)...), d: d}
}

type sqlRows struct {
	rows *sql.Rows
	d    *db
}

func (r *sqlRows) Next() bool { return r.rows.Next() }
func (r *sqlRows) Close()     { _ = r.rows.Close() }
func (r *sqlRows) Err() error { return r.d.note(r.rows.Err()) }
func (r *sqlRows) Scan(dest ...any) error {
	return r.d.note(r.rows.Scan(convertDest(dest)...))
}

type sqlRow struct {
	row *sql.Row
	d   *db
}

func (r *sqlRow) Scan(dest ...any) error {
	err := r.row.Scan(convertDest(dest)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return r.d.note(err)
}
