package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/sqldb"
)

// mapErr wraps a pgx error with the store sentinel it stands for, keeping the
// pgx error in the chain. pgx's messages carry the SQLSTATE and the constraint
// name but not the row values (those are in PgError.Detail, which Error()
// leaves out), so wrapping them leaks no personal data.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "23505": // unique_violation
			return sqldb.Classify(store.ErrAlreadyExists, err)
		case code == "40001" || code == "40P01": // serialization_failure, deadlock_detected
			return sqldb.Classify(store.ErrRetryable, err)
		case strings.HasPrefix(code, "08"), // connection exception
			code == "57P01", code == "57P02", code == "57P03", // admin/crash shutdown, cannot connect now
			code == "53300": // too_many_connections
			return sqldb.Classify(store.ErrUnavailable, err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		// A pooled connection the driver closed when the server went away
		// (begin on it says "conn closed"): the database is unavailable.
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, puddle.ErrClosedPool):
		return sqldb.Classify(store.ErrUnavailable, err)
	}
	return err
}
