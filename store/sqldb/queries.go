package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/store"
)

// DefaultLimit is the page size used when a list method gets limit < 1.
// There is no upper bound here: the API layer caps what clients may ask for,
// and internal walkers (audit verify) page with limits they choose.
const DefaultLimit = 100

// Queries implements store.Queries over a DB. It is safe for concurrent use
// when its DB is (a pool is; a transaction is not).
type Queries struct {
	db DB
}

var _ store.Queries = (*Queries)(nil)

// New returns Queries running on db.
func New(db DB) *Queries { return &Queries{db: db} }

// RawExec runs one SQL statement outside the storage contract. It exists for
// tests (the append-only triggers) and operational tooling; never pass it
// anything derived from a request.
func (q *Queries) RawExec(ctx context.Context, sql string) error {
	if _, err := q.db.Exec(ctx, sql); err != nil {
		return fmt.Errorf("store: raw exec: %w", err)
	}
	return nil
}

func pageLimit(limit int) int {
	if limit < 1 {
		return DefaultLimit
	}
	return limit
}

// nz returns b, or an empty non-nil slice for nil: every byte column is NOT
// NULL, and drivers disagree on whether a nil []byte is NULL.
func nz(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func encodeList(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("decode list column: %w", err)
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

// scanner is what Row and Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, db DB, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- departments, apps, venues ----

const departmentCols = `id, name, uscc, level, certificate_types, created_at`

func scanDepartment(s scanner) (store.Department, error) {
	var d store.Department
	var types string
	if err := s.Scan(&d.ID, &d.Name, &d.USCC, &d.Level, &types, &d.CreatedAt); err != nil {
		return d, err
	}
	var err error
	d.CertificateTypes, err = decodeList(types)
	return d, err
}

// CreateDepartment stores d; a taken ID or USCC gives store.ErrAlreadyExists.
func (q *Queries) CreateDepartment(ctx context.Context, d store.Department) error {
	types, err := encodeList(d.CertificateTypes)
	if err != nil {
		return fmt.Errorf("store: create department: %w", err)
	}
	_, err = q.db.Exec(ctx,
		`INSERT INTO departments (`+departmentCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		d.ID, d.Name, d.USCC, d.Level, types, d.CreatedAt)
	if err == nil {
		err = q.openTypePeriods(ctx, d.USCC, d.CertificateTypes, nil, d.CreatedAt)
	}
	if err != nil {
		return fmt.Errorf("store: create department: %w", err)
	}
	return nil
}

// GetDepartment returns the department with the given ID or store.ErrNotFound.
func (q *Queries) GetDepartment(ctx context.Context, id string) (store.Department, error) {
	d, err := scanDepartment(q.db.QueryRow(ctx,
		`SELECT `+departmentCols+` FROM departments WHERE id = $1`, id))
	if err != nil {
		return store.Department{}, fmt.Errorf("store: get department: %w", err)
	}
	return d, nil
}

// GetDepartmentByUSCC returns the department with the given 统一社会信用代码
// or store.ErrNotFound.
func (q *Queries) GetDepartmentByUSCC(ctx context.Context, uscc string) (store.Department, error) {
	d, err := scanDepartment(q.db.QueryRow(ctx,
		`SELECT `+departmentCols+` FROM departments WHERE uscc = $1`, uscc))
	if err != nil {
		return store.Department{}, fmt.Errorf("store: get department by uscc: %w", err)
	}
	return d, nil
}

// SetDepartmentTypes replaces the certificate types a department may issue
// from at on, closing and opening authorisation periods. It runs several
// statements: call it in a transaction.
func (q *Queries) SetDepartmentTypes(ctx context.Context, id string, types []string, at time.Time) error {
	if err := q.setDepartmentTypes(ctx, id, types, at); err != nil {
		return fmt.Errorf("store: set department types: %w", err)
	}
	return nil
}

func (q *Queries) setDepartmentTypes(ctx context.Context, id string, types []string, at time.Time) error {
	enc, err := encodeList(types)
	if err != nil {
		return err
	}
	var uscc string
	if err := q.db.QueryRow(ctx, `SELECT uscc FROM departments WHERE id = $1`, id).Scan(&uscc); err != nil {
		return err
	}
	if _, err := q.db.Exec(ctx, `UPDATE departments SET certificate_types = $1 WHERE id = $2`, enc, id); err != nil {
		return err
	}
	open, err := list(ctx, q.db, func(s scanner) (string, error) {
		var t string
		return t, s.Scan(&t)
	}, `SELECT type_code FROM department_type_periods WHERE department_uscc = $1 AND valid_until IS NULL`, uscc)
	if err != nil {
		return err
	}
	for _, t := range open {
		if !slices.Contains(types, t) {
			if _, err := q.db.Exec(ctx, `UPDATE department_type_periods SET valid_until = $3
				WHERE department_uscc = $1 AND type_code = $2 AND valid_until IS NULL`, uscc, t, at); err != nil {
				return err
			}
		}
	}
	return q.openTypePeriods(ctx, uscc, types, open, at)
}

// openTypePeriods opens a period at at for each type not already open.
func (q *Queries) openTypePeriods(ctx context.Context, uscc string, types, open []string, at time.Time) error {
	for i, t := range types {
		if slices.Contains(open, t) || slices.Contains(types[:i], t) {
			continue
		}
		if _, err := q.db.Exec(ctx, `INSERT INTO department_type_periods (department_uscc, type_code, valid_from)
			VALUES ($1, $2, $3)`, uscc, t, at); err != nil {
			return err
		}
	}
	return nil
}

// DepartmentTypePeriods lists the department's authorisation periods by
// type and start.
func (q *Queries) DepartmentTypePeriods(ctx context.Context, uscc string) ([]store.TypePeriod, error) {
	out, err := list(ctx, q.db, func(s scanner) (store.TypePeriod, error) {
		var p store.TypePeriod
		return p, s.Scan(&p.TypeCode, &p.From, &p.Until)
	}, `SELECT type_code, valid_from, valid_until FROM department_type_periods
		WHERE department_uscc = $1 ORDER BY type_code, valid_from`, uscc)
	if err != nil {
		return nil, fmt.Errorf("store: department type periods: %w", err)
	}
	return out, nil
}

// ListDepartments lists departments with ID > after, in byte order of ID.
func (q *Queries) ListDepartments(ctx context.Context, after string, limit int) ([]store.Department, error) {
	out, err := list(ctx, q.db, scanDepartment,
		`SELECT `+departmentCols+` FROM departments WHERE id > $1 ORDER BY id LIMIT $2`,
		after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list departments: %w", err)
	}
	return out, nil
}

const appCols = `id, name, uscc, scopes, certificate_types, created_at, use_fields, service_items`

func scanApp(s scanner) (store.App, error) {
	var a store.App
	var scopes, types, fields, items string
	if err := s.Scan(&a.ID, &a.Name, &a.USCC, &scopes, &types, &a.CreatedAt, &fields, &items); err != nil {
		return a, err
	}
	var err error
	if a.Scopes, err = decodeList(scopes); err != nil {
		return a, err
	}
	if a.UseFields, err = decodeUseFields(fields); err != nil {
		return a, err
	}
	if a.ServiceItems, err = decodeList(items); err != nil {
		return a, err
	}
	a.CertificateTypes, err = decodeList(types)
	return a, err
}

// CreateApp stores a; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateApp(ctx context.Context, a store.App) error {
	scopes, err := encodeList(a.Scopes)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	types, err := encodeList(a.CertificateTypes)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	fields, err := encodeUseFields(a.UseFields)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	items, err := encodeList(a.ServiceItems)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	_, err = q.db.Exec(ctx,
		`INSERT INTO apps (`+appCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.Name, a.USCC, scopes, types, a.CreatedAt, fields, items)
	if err != nil {
		return fmt.Errorf("store: create app: %w", err)
	}
	return nil
}

// GetApp returns the app with the given ID or store.ErrNotFound.
func (q *Queries) GetApp(ctx context.Context, id string) (store.App, error) {
	a, err := scanApp(q.db.QueryRow(ctx, `SELECT `+appCols+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return store.App{}, fmt.Errorf("store: get app: %w", err)
	}
	return a, nil
}

// SetAppServiceItems replaces the service items an app may open cases for.
func (q *Queries) SetAppServiceItems(ctx context.Context, id string, items []string) error {
	list, err := encodeList(items)
	if err != nil {
		return fmt.Errorf("store: set app service items: %w", err)
	}
	n, err := q.db.Exec(ctx, `UPDATE apps SET service_items = $1 WHERE id = $2`, list, id)
	if err != nil {
		return fmt.Errorf("store: set app service items: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: set app service items: %w", store.ErrNotFound)
	}
	return nil
}

// ListApps lists apps with ID > after, in byte order of ID.
func (q *Queries) ListApps(ctx context.Context, after string, limit int) ([]store.App, error) {
	out, err := list(ctx, q.db, scanApp,
		`SELECT `+appCols+` FROM apps WHERE id > $1 ORDER BY id LIMIT $2`,
		after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list apps: %w", err)
	}
	return out, nil
}

const venueCols = `id, name, address, area_code, owner_uscc, created_at`

func scanVenue(s scanner) (store.Venue, error) {
	var v store.Venue
	err := s.Scan(&v.ID, &v.Name, &v.Address, &v.AreaCode, &v.OwnerUSCC, &v.CreatedAt)
	return v, err
}

// CreateVenue stores v; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateVenue(ctx context.Context, v store.Venue) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO venues (`+venueCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.ID, v.Name, v.Address, v.AreaCode, v.OwnerUSCC, v.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create venue: %w", err)
	}
	return nil
}

// GetVenue returns the venue with the given ID or store.ErrNotFound.
func (q *Queries) GetVenue(ctx context.Context, id string) (store.Venue, error) {
	v, err := scanVenue(q.db.QueryRow(ctx, `SELECT `+venueCols+` FROM venues WHERE id = $1`, id))
	if err != nil {
		return store.Venue{}, fmt.Errorf("store: get venue: %w", err)
	}
	return v, nil
}

// ListVenues lists venues with ID > after, in byte order of ID.
func (q *Queries) ListVenues(ctx context.Context, after string, limit int) ([]store.Venue, error) {
	out, err := list(ctx, q.db, scanVenue,
		`SELECT `+venueCols+` FROM venues WHERE id > $1 ORDER BY id LIMIT $2`,
		after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list venues: %w", err)
	}
	return out, nil
}

// ---- API keys and sessions ----

const apiKeyCols = `id, kind, principal_id, secret_hash, created_at, revoked_at, expires_at, last_used_at`

// CreateAPIKey stores k; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, string(k.Kind), k.PrincipalID, nz(k.SecretHash), k.CreatedAt, k.RevokedAt, k.ExpiresAt, k.LastUsedAt)
	if err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

// GetAPIKey returns the key with the given ID (revoked or not) or
// store.ErrNotFound.
func (q *Queries) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return store.APIKey{}, fmt.Errorf("store: get api key: %w", err)
	}
	return k, nil
}

func scanAPIKey(r interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var kind string
	err := r.Scan(&k.ID, &kind, &k.PrincipalID, &k.SecretHash, &k.CreatedAt, &k.RevokedAt, &k.ExpiresAt, &k.LastUsedAt)
	k.Kind = store.PrincipalKind(kind)
	return k, err
}

// ListAPIKeys returns a principal's keys, oldest first.
func (q *Queries) ListAPIKeys(ctx context.Context, kind store.PrincipalKind, principalID string) ([]store.APIKey, error) {
	rows, err := q.db.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE kind = $1 AND principal_id = $2
		ORDER BY created_at, id LIMIT 1000`, string(kind), principalID)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	return out, nil
}

// ExpireOtherAPIKeys shortens the life of the principal's other unrevoked keys to at.
func (q *Queries) ExpireOtherAPIKeys(ctx context.Context, kind store.PrincipalKind, principalID, keep string, at time.Time) (int64, error) {
	n, err := q.db.Exec(ctx, `UPDATE api_keys SET expires_at = $4
		WHERE kind = $1 AND principal_id = $2 AND id <> $3 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4)`,
		string(kind), principalID, keep, at)
	if err != nil {
		return 0, fmt.Errorf("store: expire api keys: %w", err)
	}
	return n, nil
}

// RevokeAPIKey revokes one of the principal's keys.
func (q *Queries) RevokeAPIKey(ctx context.Context, kind store.PrincipalKind, principalID, id string, at time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $4)
		WHERE kind = $1 AND principal_id = $2 AND id = $3`, string(kind), principalID, id, at)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: revoke api key: %w", store.ErrNotFound)
	}
	return nil
}

// TouchAPIKey records a use of the key.
func (q *Queries) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := q.db.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, id, at); err != nil {
		return fmt.Errorf("store: touch api key: %w", err)
	}
	return nil
}

const sessionCols = `token_hash, subject, holder_kind, display_name, created_by, created_at, expires_at`

// CreateSession stores s; a taken token hash gives store.ErrAlreadyExists.
func (q *Queries) CreateSession(ctx context.Context, s store.Session) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		nz(s.TokenHash), s.Subject, s.HolderKind, s.DisplayName, s.CreatedBy, s.CreatedAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// GetSession returns the session whose token hash is tokenHash if it is still
// valid at now (now < ExpiresAt); unknown and expired sessions both give
// store.ErrNotFound.
func (q *Queries) GetSession(ctx context.Context, tokenHash []byte, now time.Time) (store.Session, error) {
	var s store.Session
	err := q.db.QueryRow(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE token_hash = $1 AND expires_at > $2`,
		nz(tokenHash), now).
		Scan(&s.TokenHash, &s.Subject, &s.HolderKind, &s.DisplayName, &s.CreatedBy, &s.CreatedAt, &s.ExpiresAt)
	if err != nil {
		return store.Session{}, fmt.Errorf("store: get session: %w", err)
	}
	return s, nil
}

// DeleteExpiredSessions deletes sessions with ExpiresAt <= now and reports how
// many it deleted.
func (q *Queries) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := q.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}

// ---- signing keys ----

const keyCols = `kid, role, department_uscc, public_key, sealed, status, not_before, not_after, created_at, retired_at, compromised_at`

func scanKey(s scanner) (store.Key, error) {
	var k store.Key
	var role, status string
	err := s.Scan(&k.KID, &role, &k.DepartmentUSCC, &k.PublicKey, &k.Sealed, &status,
		&k.NotBefore, &k.NotAfter, &k.CreatedAt, &k.RetiredAt, &k.CompromisedAt)
	k.Role, k.Status = store.KeyRole(role), store.KeyStatus(status)
	return k, err
}

// CreateKey stores k; a taken KID gives store.ErrAlreadyExists.
func (q *Queries) CreateKey(ctx context.Context, k store.Key) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.KID, string(k.Role), k.DepartmentUSCC, nz(k.PublicKey), nz(k.Sealed), string(k.Status),
		k.NotBefore, k.NotAfter, k.CreatedAt, k.RetiredAt, k.CompromisedAt)
	if err != nil {
		return fmt.Errorf("store: create key: %w", err)
	}
	return nil
}

// GetKey returns the key with the given KID or store.ErrNotFound.
func (q *Queries) GetKey(ctx context.Context, kid string) (store.Key, error) {
	k, err := scanKey(q.db.QueryRow(ctx, `SELECT `+keyCols+` FROM keys WHERE kid = $1`, kid))
	if err != nil {
		return store.Key{}, fmt.Errorf("store: get key: %w", err)
	}
	return k, nil
}

// ListKeys lists every key, oldest CreatedAt first (ties by KID).
func (q *Queries) ListKeys(ctx context.Context) ([]store.Key, error) {
	out, err := list(ctx, q.db, scanKey, `SELECT `+keyCols+` FROM keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	return out, nil
}

// UpdateKey stores Status, NotAfter, RetiredAt and CompromisedAt of k and
// leaves every other column alone; an unknown KID gives store.ErrNotFound.
func (q *Queries) UpdateKey(ctx context.Context, k store.Key) error {
	n, err := q.db.Exec(ctx,
		`UPDATE keys SET status = $2, not_after = $3, retired_at = $4, compromised_at = $5 WHERE kid = $1`,
		k.KID, string(k.Status), k.NotAfter, k.RetiredAt, k.CompromisedAt)
	if err != nil {
		return fmt.Errorf("store: update key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: update key: %w", store.ErrNotFound)
	}
	return nil
}

// ---- audit ----

const auditCols = `e.id, e.at, e.actor_kind, e.actor_id, e.action, e.object_type, e.object_id, e.request_id, e.details`

// unsealed is the anti-join shared by UnsealedAudit and CountUnsealedAuditBefore.
const unsealed = `NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.entry_id = e.id)`

func scanAuditEntry(s scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var kind string
	err := s.Scan(&e.ID, &e.At, &kind, &e.ActorID, &e.Action, &e.ObjectType, &e.ObjectID, &e.RequestID, &e.Details)
	e.ActorKind = store.PrincipalKind(kind)
	return e, err
}

// AppendAudit appends e (its ID is ignored) and returns the ID the database
// assigned. Details is stored byte for byte. IDs grow, but on PostgreSQL
// concurrent appends may become visible out of ID order.
func (q *Queries) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var id int64
	err := q.db.QueryRow(ctx,
		`INSERT INTO audit_entries (at, actor_kind, actor_id, action, object_type, object_id, request_id, details)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.At, string(e.ActorKind), e.ActorID, e.Action, e.ObjectType, e.ObjectID, e.RequestID, nz(e.Details)).
		Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: append audit entry: %w", err)
	}
	return id, nil
}

// UnsealedAudit lists up to limit entries that have no seal and At >= since
// (the zero time: all), smallest ID first. A recent since keeps the scan short
// on a large table.
func (q *Queries) UnsealedAudit(ctx context.Context, since time.Time, limit int) ([]store.AuditEntry, error) {
	out, err := list(ctx, q.db, scanAuditEntry,
		`SELECT `+auditCols+` FROM audit_entries e WHERE e.at >= $1 AND `+unsealed+` ORDER BY e.id LIMIT $2`,
		since, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list unsealed audit entries: %w", err)
	}
	return out, nil
}

// LastAuditSeal returns the seal with the highest Seq, or store.ErrNotFound
// while the chain is empty.
func (q *Queries) LastAuditSeal(ctx context.Context) (store.AuditSeal, error) {
	var s store.AuditSeal
	err := q.db.QueryRow(ctx, `SELECT seq, entry_id, hash FROM audit_seals ORDER BY seq DESC LIMIT 1`).
		Scan(&s.Seq, &s.EntryID, &s.Hash)
	if err != nil {
		return store.AuditSeal{}, fmt.Errorf("store: last audit seal: %w", err)
	}
	return s, nil
}

// maxSealsPerStatement bounds one multi-row INSERT (3 parameters a row), well
// under both databases' parameter limits.
const maxSealsPerStatement = 256

// AddAuditSeals inserts seals with multi-row INSERTs whose sizes are powers
// of two up to 256, so that a statement cache sees at most nine distinct
// statements. A Seq or EntryID already sealed gives store.ErrAlreadyExists; a
// seal of an unknown entry fails on the foreign key. Statements that ran
// before a failing one are undone only with their transaction: the backends'
// Store methods run it in one so that, called outside InTx, it adds all seals
// or none.
func (q *Queries) AddAuditSeals(ctx context.Context, seals []store.AuditSeal) error {
	for len(seals) > 0 {
		n := maxSealsPerStatement
		for n > len(seals) {
			n /= 2
		}
		chunk := seals[:n]
		seals = seals[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_seals (seq, entry_id, hash) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, s := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			p := 3 * i
			b.WriteString("($" + strconv.Itoa(p+1) + ", $" + strconv.Itoa(p+2) + ", $" + strconv.Itoa(p+3) + ")")
			args = append(args, s.Seq, s.EntryID, nz(s.Hash))
		}
		if _, err := q.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("store: add audit seals: %w", err)
		}
	}
	return nil
}

// ListSealedAudit lists up to limit sealed entries with Seq > afterSeq, in Seq
// order, each with its seal.
func (q *Queries) ListSealedAudit(ctx context.Context, afterSeq int64, limit int) ([]store.SealedAuditEntry, error) {
	out, err := list(ctx, q.db, func(sc scanner) (store.SealedAuditEntry, error) {
		var se store.SealedAuditEntry
		var kind string
		e := &se.Entry
		err := sc.Scan(&se.Seal.Seq, &se.Seal.EntryID, &se.Seal.Hash,
			&e.ID, &e.At, &kind, &e.ActorID, &e.Action, &e.ObjectType, &e.ObjectID, &e.RequestID, &e.Details)
		e.ActorKind = store.PrincipalKind(kind)
		return se, err
	},
		`SELECT s.seq, s.entry_id, s.hash, `+auditCols+`
		 FROM audit_seals s JOIN audit_entries e ON e.id = s.entry_id
		 WHERE s.seq > $1 ORDER BY s.seq LIMIT $2`,
		afterSeq, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list sealed audit entries: %w", err)
	}
	return out, nil
}

// AddAuditCheckpoint stores c; a Seq already checkpointed gives
// store.ErrAlreadyExists.
func (q *Queries) AddAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)`,
		c.Seq, nz(c.Hash), c.At, c.KeyID, nz(c.Signature))
	if err != nil {
		return fmt.Errorf("store: add audit checkpoint: %w", err)
	}
	return nil
}

// ListAuditCheckpoints lists every checkpoint in Seq order.
func (q *Queries) ListAuditCheckpoints(ctx context.Context) ([]store.AuditCheckpoint, error) {
	out, err := list(ctx, q.db, func(s scanner) (store.AuditCheckpoint, error) {
		var c store.AuditCheckpoint
		err := s.Scan(&c.Seq, &c.Hash, &c.At, &c.KeyID, &c.Signature)
		return c, err
	}, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: list audit checkpoints: %w", err)
	}
	return out, nil
}

// LastAuditCheckpoint returns the checkpoint with the highest Seq, or
// store.ErrNotFound while there is none.
func (q *Queries) LastAuditCheckpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	var c store.AuditCheckpoint
	err := q.db.QueryRow(ctx, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&c.Seq, &c.Hash, &c.At, &c.KeyID, &c.Signature)
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("store: last audit checkpoint: %w", err)
	}
	return c, nil
}

// AddAnchorSuccession stores a; an OldKID or NewKID already recorded gives
// store.ErrAlreadyExists.
func (q *Queries) AddAnchorSuccession(ctx context.Context, a store.AnchorSuccession) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO anchor_successions (old_kid, new_kid, endorsement, acknowledgement, created_at) VALUES ($1, $2, $3, $4, $5)`,
		a.OldKID, a.NewKID, a.Endorsement, a.Acknowledgement, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: add anchor succession: %w", err)
	}
	return nil
}

// ListAnchorSuccessions lists every succession, oldest first.
func (q *Queries) ListAnchorSuccessions(ctx context.Context) ([]store.AnchorSuccession, error) {
	out, err := list(ctx, q.db, func(s scanner) (store.AnchorSuccession, error) {
		var a store.AnchorSuccession
		err := s.Scan(&a.OldKID, &a.NewKID, &a.Endorsement, &a.Acknowledgement, &a.CreatedAt)
		return a, err
	}, `SELECT old_kid, new_kid, endorsement, acknowledgement, created_at FROM anchor_successions ORDER BY created_at, old_kid`)
	if err != nil {
		return nil, fmt.Errorf("store: list anchor successions: %w", err)
	}
	return out, nil
}

// CountUnsealedAuditBefore counts entries with At < t that have no seal.
func (q *Queries) CountUnsealedAuditBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM audit_entries e WHERE e.at < $1 AND `+unsealed, t).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count unsealed audit entries: %w", err)
	}
	return n, nil
}

// ListAudit lists up to limit entries with ID > afterID, in ID order.
func (q *Queries) ListAudit(ctx context.Context, afterID int64, limit int) ([]store.AuditEntry, error) {
	out, err := list(ctx, q.db, scanAuditEntry,
		`SELECT `+auditCols+` FROM audit_entries e WHERE e.id > $1 ORDER BY e.id LIMIT $2`,
		afterID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list audit entries: %w", err)
	}
	return out, nil
}

// ListAuditNewestFirst lists up to limit entries with ID < beforeID (0: no
// bound), highest ID first.
func (q *Queries) ListAuditNewestFirst(ctx context.Context, beforeID int64, limit int) ([]store.AuditEntry, error) {
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	out, err := list(ctx, q.db, scanAuditEntry,
		`SELECT `+auditCols+` FROM audit_entries e WHERE e.id < $1 ORDER BY e.id DESC LIMIT $2`,
		beforeID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list audit entries newest first: %w", err)
	}
	return out, nil
}

// ---- idempotency ----

// GetIdempotency returns the record for (principal, key) or store.ErrNotFound.
func (q *Queries) GetIdempotency(ctx context.Context, principal, key string) (store.IdempotencyRecord, error) {
	var r store.IdempotencyRecord
	err := q.db.QueryRow(ctx,
		`SELECT principal, key, request_hash, status, body, created_at FROM idempotency WHERE principal = $1 AND key = $2`,
		principal, key).
		Scan(&r.Principal, &r.Key, &r.RequestHash, &r.Status, &r.Body, &r.CreatedAt)
	if err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("store: get idempotency record: %w", err)
	}
	return r, nil
}

// PutIdempotency stores r; a (principal, key) already stored gives
// store.ErrAlreadyExists, so of two racing requests exactly one wins.
func (q *Queries) PutIdempotency(ctx context.Context, r store.IdempotencyRecord) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO idempotency (principal, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.Principal, r.Key, nz(r.RequestHash), r.Status, nz(r.Body), r.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: put idempotency record: %w", err)
	}
	return nil
}
