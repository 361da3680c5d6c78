package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// errIdempotencyRace marks a transaction that lost the race to record its
// Idempotency-Key; the caller re-runs it and finds the winner's response.
var errIdempotencyRace = errors.New("idempotency race")

// create runs a creating POST inside one transaction and honours the
// Idempotency-Key header: the same key from the same principal returns the
// first response (sealed at rest with the master key, since a first response
// may carry a secret shown once); the same key with a different body is 422.
// fn does the work with q and returns the success status and body.
func (s *Server) create(c *echo.Context, raw []byte, fn func(ctx context.Context, q store.Queries) (int, any, error)) error {
	ctx := c.Request().Context()
	key, ref, reqHash, aad, err := s.idempotencyKey(c, raw)
	if err != nil {
		return err
	}

	var status int
	var body []byte
	run := func() error {
		return s.store.InTx(ctx, func(q store.Queries) error {
			if key != "" {
				rec, err := q.GetIdempotency(ctx, ref, key)
				if err == nil {
					if !bytes.Equal(rec.RequestHash, reqHash) {
						return problem(http.StatusUnprocessableEntity, "idempotency_key_reused",
							"this Idempotency-Key was used with a different request")
					}
					plain, err := signing.Open(s.cfg.MasterKey, aad, rec.Body)
					if err != nil {
						return err
					}
					status, body = rec.Status, plain
					return nil
				}
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			st, resp, err := fn(ctx, q)
			if err != nil {
				return err
			}
			b, err := json.Marshal(resp)
			if err != nil {
				return err
			}
			status, body = st, b
			if key == "" {
				return nil
			}
			sealed, err := signing.Seal(s.cfg.MasterKey, aad, b)
			if err != nil {
				return err
			}
			err = q.PutIdempotency(ctx, store.IdempotencyRecord{
				Principal: ref, Key: key, RequestHash: reqHash, Status: st, Body: sealed, CreatedAt: s.now().UTC(),
			})
			if errors.Is(err, store.ErrAlreadyExists) {
				return errIdempotencyRace
			}
			return err
		})
	}
	err = run()
	if err != nil && key != "" && !errors.Is(err, context.Canceled) {
		// A concurrent request with the same key may have won while this one
		// failed on its unique keys (or on the idempotency record itself):
		// answer with the winner's response, as a retry would get.
		if again := run(); again == nil {
			err = nil
		} else if errors.Is(err, errIdempotencyRace) {
			err = again
		}
	}
	if err != nil {
		return err
	}
	return jsonBlob(c, status, "", body)
}

// idempotencyKey reads the Idempotency-Key header and derives what the
// record is keyed and checked by.
func (s *Server) idempotencyKey(c *echo.Context, raw []byte) (key, ref string, reqHash []byte, aad string, err error) {
	key = c.Request().Header.Get("Idempotency-Key")
	if key != "" && (len(key) > 128 || !utf8.ValidString(key)) {
		return "", "", nil, "", invalid(FieldError{Field: "Idempotency-Key", Code: "length", Detail: "must be at most 128 characters"})
	}
	ref = who(c).Ref()
	h := sm3.New()
	h.Write([]byte(c.Request().Method + " " + c.Path() + "\n"))
	for _, v := range c.PathValues() {
		h.Write([]byte(v.Value + "\n"))
	}
	h.Write(raw)
	return key, ref, h.Sum(nil), "idempotency:" + ref + ":" + key, nil
}

// replay answers a request whose Idempotency-Key was already used, before
// any expensive work (numbering, signing); it reports whether it answered.
func (s *Server) replay(c *echo.Context, raw []byte) (bool, error) {
	key, ref, reqHash, aad, err := s.idempotencyKey(c, raw)
	if err != nil || key == "" {
		return false, err
	}
	rec, err := s.store.GetIdempotency(c.Request().Context(), ref, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !bytes.Equal(rec.RequestHash, reqHash) {
		return false, problem(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
	}
	plain, err := signing.Open(s.cfg.MasterKey, aad, rec.Body)
	if err != nil {
		return false, err
	}
	return true, jsonBlob(c, rec.Status, "", plain)
}

// record appends an audit entry for the request's principal.
func (s *Server) record(ctx context.Context, c *echo.Context, q store.Queries, action, objectType, objectID string, details any) error {
	p := who(c)
	_, err := q.AppendAudit(ctx, audit.New(s.now(), audit.Actor{Kind: p.Kind, ID: p.ID}, action, objectType, objectID, requestID(c), details))
	return err
}

// page reads limit and cursor. Cursors are opaque to clients.
func page(c *echo.Context) (after string, limit int, err error) {
	limit = 50
	if v := c.QueryParam("limit"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 500 {
			return "", 0, invalid(FieldError{Field: "limit", Code: "range", Detail: "must be a whole number from 1 to 500"})
		}
		limit = n
	}
	if v := c.QueryParam("cursor"); v != "" {
		b, derr := base64.RawURLEncoding.DecodeString(v)
		if derr != nil || len(b) == 0 || len(b) > 200 {
			return "", 0, invalid(FieldError{Field: "cursor", Code: "format", Detail: "is not a cursor this API returned"})
		}
		after = string(b)
	}
	return after, limit, nil
}

// listPage reads limit and cursor, fetches one page (asking for one more
// row than the limit to know whether there are more), converts each row with
// view, and returns the items and the next cursor (keyed by key of the last
// row). Every list endpoint goes through it.
func listPage[T, V any](c *echo.Context, fetch func(ctx context.Context, after string, limit int) ([]T, error),
	view func(T) (V, error), key func(T) string) ([]V, *string, error) {
	after, limit, err := page(c)
	if err != nil {
		return nil, nil, err
	}
	rows, err := fetch(c.Request().Context(), after, limit+1)
	if err != nil {
		return nil, nil, err
	}
	rows, more := trim(rows, limit)
	items := make([]V, 0, len(rows))
	for _, r := range rows {
		v, err := view(r)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, v)
	}
	var next *string
	if len(rows) > 0 {
		next = nextCursor(more, key(rows[len(rows)-1]))
	}
	return items, next, nil
}

// spec decodes a catalogue row's JSON spec (certificate types, service items).
func spec[T any](b []byte) (T, error) {
	var v T
	return v, json.Unmarshal(b, &v)
}

// infallible adapts a view that cannot fail.
func infallible[T, V any](f func(T) V) func(T) (V, error) {
	return func(t T) (V, error) { return f(t), nil }
}

// trim cuts a page fetched with limit+1 rows to limit and says whether there
// are more.
func trim[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

// nextCursor returns the cursor after last when there are more items.
func nextCursor(more bool, last string) *string {
	if !more || last == "" {
		return nil
	}
	c := base64.RawURLEncoding.EncodeToString([]byte(last))
	return &c
}
