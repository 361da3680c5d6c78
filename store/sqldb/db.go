// Package sqldb is the one implementation of store.Queries that both SQL
// backends share. Its SQL is written once, with $1, $2, … placeholders, which
// pgx and modernc.org/sqlite both bind by ordinal; the backends adapt their
// driver to the small DB interface below and keep everything dialect-specific
// (time encoding, error codes, transactions) on their side of it.
package sqldb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/suishen/suishen/store"
)

// DB is what a backend provides: a connection pool or an open transaction.
//
// An adapter must:
//   - bind $N placeholders by ordinal (one may appear more than once);
//   - accept as arguments string, int, int64, bool, []byte (never nil: sqldb
//     passes empty slices), time.Time and *time.Time (nil is SQL NULL), and store
//     times with microsecond precision so that stored order is time order;
//   - scan into *string, *int, *int64, *bool, *[]byte, *time.Time and
//     **time.Time (NULL gives nil), returning times in UTC;
//   - make Row.Scan return an error wrapping store.ErrNotFound when the query
//     returned no row;
//   - wrap driver errors with the store sentinels where they apply
//     (unique violation: store.ErrAlreadyExists; serialization failure,
//     deadlock, busy database: store.ErrRetryable; connection trouble:
//     store.ErrUnavailable), keeping the driver error in the chain, and pass
//     context errors through so errors.Is(err, context.Canceled) holds.
type DB interface {
	// Exec runs a statement and reports how many rows it changed.
	Exec(ctx context.Context, sql string, args ...any) (rowsAffected int64, err error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row of interest;
	// errors are reported by Scan.
	QueryRow(ctx context.Context, sql string, args ...any) Row
}

// Rows iterates over a query result. Close must be called; it may be called
// more than once. Err reports any error met by Next.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Classify wraps cause with a store sentinel: errors.Is finds the sentinel,
// errors.As still finds the driver error. Backends use it in their error
// mapping; a nil cause gives the bare sentinel.
func Classify(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return fmt.Errorf("%w: %w", sentinel, cause)
}

// DefaultTxAttempts is how many times a backend's InTx runs a transaction
// that keeps failing with store.ErrRetryable before it gives up.
const DefaultTxAttempts = 10

// CommitTimeout bounds a COMMIT, which runs on a context the caller's
// cancellation does not reach (a request whose transaction committed must
// answer its success).
const CommitTimeout = 10 * time.Second

// Retry runs attempt until it returns nil, returns an error that is not
// store.ErrRetryable, the context ends or maxAttempts runs are spent
// (maxAttempts < 1 means DefaultTxAttempts). Between runs it sleeps with
// jittered exponential backoff (about 5 ms, 10 ms, 20 ms … capped at 500 ms;
// ten attempts sleep at most about 1.6 s in all).
// The error of the last run is returned unchanged, except when the attempts
// are spent, where it is wrapped with the attempt count.
func Retry(ctx context.Context, maxAttempts int, attempt func() error) error {
	if maxAttempts < 1 {
		maxAttempts = DefaultTxAttempts
	}
	const (
		base     = 5 * time.Millisecond
		maxSleep = 500 * time.Millisecond
	)
	var err error
	for i := range maxAttempts {
		if cerr := ctx.Err(); cerr != nil {
			if err != nil {
				return fmt.Errorf("store: transaction interrupted after %d attempts: %w", i, errors.Join(cerr, err))
			}
			return cerr
		}
		err = attempt()
		if err == nil || !errors.Is(err, store.ErrRetryable) {
			return err
		}
		if i == maxAttempts-1 {
			break
		}
		backoff := maxSleep
		if i < 16 { // base<<i would overflow for large i
			backoff = min(base<<i, maxSleep)
		}
		// "Equal jitter": a random sleep in [backoff/2, backoff) keeps
		// colliding writers apart without ever retrying at once.
		sleep := backoff/2 + rand.N(backoff/2)
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return fmt.Errorf("store: transaction failed after %d attempts: %w", maxAttempts, err)
}

// MarkRetryable makes err match store.ErrRetryable under errors.Is while
// keeping its message and chain. Backends use it when a statement inside a
// transaction failed with a retryable error but fn returned an error that no
// longer says so (wrapped with %v, or replaced).
func MarkRetryable(err error) error {
	if err == nil || errors.Is(err, store.ErrRetryable) {
		return err
	}
	return retryableError{err}
}

type retryableError struct{ err error }

func (e retryableError) Error() string        { return e.err.Error() }
func (e retryableError) Unwrap() error        { return e.err }
func (e retryableError) Is(target error) bool { return target == store.ErrRetryable }
