package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/store"
)

// ---- catalogue ----

const certificateTypeCols = `code, name, holder_kind, spec, seeded, created_at`

func scanCertificateType(s scanner) (store.CertificateType, error) {
	var ct store.CertificateType
	var spec string
	err := s.Scan(&ct.Code, &ct.Name, &ct.HolderKind, &spec, &ct.Seeded, &ct.CreatedAt)
	ct.Spec = []byte(spec)
	return ct, err
}

// CreateCertificateType stores t; a taken code gives store.ErrAlreadyExists.
// Spec must be a JSON object (the schema refuses anything else); it comes
// back as given.
func (q *Queries) CreateCertificateType(ctx context.Context, t store.CertificateType) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO certificate_types (`+certificateTypeCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Code, t.Name, t.HolderKind, string(t.Spec), t.Seeded, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create certificate type: %w", err)
	}
	return nil
}

// GetCertificateType returns the type with the given code or
// store.ErrNotFound.
func (q *Queries) GetCertificateType(ctx context.Context, code string) (store.CertificateType, error) {
	ct, err := scanCertificateType(q.db.QueryRow(ctx,
		`SELECT `+certificateTypeCols+` FROM certificate_types WHERE code = $1`, code))
	if err != nil {
		return store.CertificateType{}, fmt.Errorf("store: get certificate type: %w", err)
	}
	return ct, nil
}

// ListCertificateTypes lists types with code > after, in byte order of code.
func (q *Queries) ListCertificateTypes(ctx context.Context, after string, limit int) ([]store.CertificateType, error) {
	out, err := list(ctx, q.db, scanCertificateType,
		`SELECT `+certificateTypeCols+` FROM certificate_types WHERE code > $1 ORDER BY code LIMIT $2`,
		after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list certificate types: %w", err)
	}
	return out, nil
}

// ---- certificates ----

// CertificateColumns are the columns of the certificates table, in the order
// of CertificateValues. Backends use them for bulk loads (COPY).
var CertificateColumns = []string{
	"id", "type_code", "issuer_uscc", "serial", "version", "number", "holder_subject", "holder_kind",
	"status", "status_reason", "valid_from", "valid_until", "jws", "key_id",
	"predecessor_id", "successor_id", "status_list", "status_index", "issued_at", "updated_at",
}

var certificateCols = strings.Join(CertificateColumns, ", ")

// CertificateValues returns the column values of c in the order of
// CertificateColumns, as sqldb passes them to a DB.
func CertificateValues(c store.Certificate) []any {
	return []any{
		c.ID, c.TypeCode, c.IssuerUSCC, c.Serial, c.Version, c.Number, c.HolderSubject, c.HolderKind,
		c.Status, c.StatusReason, c.ValidFrom, c.ValidUntil, c.JWS, c.KeyID,
		c.PredecessorID, c.SuccessorID, c.StatusList, c.StatusIndex, c.IssuedAt, c.UpdatedAt,
	}
}

func scanCertificate(s scanner) (store.Certificate, error) {
	var c store.Certificate
	err := s.Scan(&c.ID, &c.TypeCode, &c.IssuerUSCC, &c.Serial, &c.Version, &c.Number, &c.HolderSubject, &c.HolderKind,
		&c.Status, &c.StatusReason, &c.ValidFrom, &c.ValidUntil, &c.JWS, &c.KeyID,
		&c.PredecessorID, &c.SuccessorID, &c.StatusList, &c.StatusIndex, &c.IssuedAt, &c.UpdatedAt)
	return c, err
}

// placeholders writes "($k+1, …, $k+n)" to b.
func placeholders(b *strings.Builder, k, n int) {
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(k + i + 1))
	}
	b.WriteByte(')')
}

// errBadCount is returned for a reservation of fewer than one number.
var errBadCount = errors.New("store: next certificate numbers: n must be at least 1")

// NextCertificateNumbers reserves n consecutive numbers and returns the
// first, from the one-row counter table (SQLite's): the update runs in the
// caller's transaction, so numbers taken by a transaction that rolls back are
// handed out again. SQLite has a single writer, so the row is never
// contended. store/postgres overrides this method with a sequence.
func (q *Queries) NextCertificateNumbers(ctx context.Context, n int) (int64, error) {
	if n < 1 {
		return 0, errBadCount
	}
	var first int64
	err := q.db.QueryRow(ctx,
		`UPDATE counters SET next = next + $1 WHERE name = 'certificate_numbers' RETURNING next - $1`,
		int64(n)).Scan(&first)
	if err != nil {
		return 0, fmt.Errorf("store: next certificate numbers: %w", err)
	}
	return first, nil
}

// addStatusList records that list is in use, as of at, unless it already is;
// an existing list keeps its UpdatedAt (a valid entry changes no bits).
//
// The NOT EXISTS matters on PostgreSQL. Bare ON CONFLICT DO NOTHING finds
// the existing row in the unique index, and if a concurrent status change
// has updated that row since this transaction's snapshot, SERIALIZABLE
// reports a serialization failure: measured, 16 issuers into one list while
// 200 of its entries changed status took ≈1,000 retries for 4,000
// issuances. Reading the row first sees the snapshot's version and inserts
// nothing: 0 retries. ON CONFLICT stays for two issuers creating one new
// list at once.
func (q *Queries) addStatusList(ctx context.Context, list string, at time.Time) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO status_lists (id, created_at, updated_at)
		 SELECT $1, $2, $2 WHERE NOT EXISTS (SELECT 1 FROM status_lists WHERE id = $1)
		 ON CONFLICT (id) DO NOTHING`,
		list, at)
	return err
}

// CreateCertificate stores c and adds its status list (as of c.IssuedAt) if
// the list is new. Any unique key already taken (ID; type, issuer, number
// and version; type, issuer, serial and version; status list and index)
// gives store.ErrAlreadyExists. It runs two statements: backends run it in a
// transaction when the caller has none.
func (q *Queries) CreateCertificate(ctx context.Context, c store.Certificate) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO certificates (`+certificateCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		CertificateValues(c)...)
	if err == nil {
		err = q.addStatusList(ctx, c.StatusList, c.IssuedAt)
	}
	if err != nil {
		return fmt.Errorf("store: create certificate: %w", err)
	}
	return nil
}

// IssueCertificate stores c and queues e (CreateCertificate, then
// AddBenefitEvents): SQLite runs in-process, where a statement costs no
// round trip. PostgreSQL runs IssueCertificateOneStatement.
func (q *Queries) IssueCertificate(ctx context.Context, c store.Certificate, e store.BenefitEvent) error {
	if err := q.CreateCertificate(ctx, c); err != nil {
		return err
	}
	return q.AddBenefitEvents(ctx, []store.BenefitEvent{e})
}

// IssueCertificateOneStatement is IssueCertificate as one PostgreSQL
// statement: the certificate, its status list if new and the outbox event
// are data-modifying WITH clauses of one INSERT, so that the event adds a
// row but no round trip to the issuing transaction.
func (q *Queries) IssueCertificateOneStatement(ctx context.Context, c store.Certificate, e store.BenefitEvent) error {
	args := append(CertificateValues(c), c.StatusList, c.IssuedAt, e.HolderSubject, e.TypeCode, e.CreatedAt)
	n := len(CertificateColumns)
	_, err := q.db.Exec(ctx, fmt.Sprintf(`WITH c AS (INSERT INTO certificates (`+certificateCols+`) VALUES (%s) RETURNING 1),
		l AS (INSERT INTO status_lists (id, created_at, updated_at)
			SELECT $%[2]d, $%[3]d, $%[3]d WHERE NOT EXISTS (SELECT 1 FROM status_lists WHERE id = $%[2]d)
			ON CONFLICT (id) DO NOTHING)
		INSERT INTO benefit_events (holder_subject, type_code, created_at, not_before) SELECT $%[4]d, $%[5]d, $%[6]d, $%[6]d FROM c`,
		dollars(n), n+1, n+2, n+3, n+4, n+5), args...)
	if err != nil {
		return fmt.Errorf("store: create certificate: %w", err)
	}
	return nil
}

// dollars is "$1, $2, …, $n".
func dollars(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i))
	}
	return b.String()
}

// maxCertificatesPerStatement bounds one multi-row INSERT (20 parameters a
// row). It is small on purpose: SQLite finds a $N parameter by a linear
// search of the statement's parameter names, at parse and again at bind
// time, so a statement's cost grows with the square of its parameters.
// Measured (10,000 rows of ≈3.9 KB, modernc.org/sqlite): 256 rows a
// statement ran at 3,600 rows/s, 64 at 10,000, and 4 to 16 at
// 15,000–16,800, where writing the pages dominates.
const maxCertificatesPerStatement = 8

// CreateCertificates inserts cs with multi-row INSERT … ON CONFLICT DO
// NOTHING statements (sizes powers of two up to
// maxCertificatesPerStatement, so a statement cache sees at most four), then
// adds the status lists of the rows it inserted that are new (each as of the
// earliest IssuedAt among them). A row that collides with a stored one, or
// with an earlier row of cs, on any unique key is skipped: by ID or (type,
// issuer, number, version) as the contract says, and also by serial or
// status slot, which derive from the same reservation of numbers as the ID
// and so collide only along with it. It returns the IDs it inserted, in the
// order of cs. Run it in a transaction: the statements are undone only with
// one. (store/postgres loads with COPY instead.)
func (q *Queries) CreateCertificates(ctx context.Context, cs []store.Certificate) ([]string, error) {
	inserted := make(map[string]bool, len(cs))
	rest := cs
	for len(rest) > 0 {
		n := maxCertificatesPerStatement
		for n > len(rest) {
			n /= 2
		}
		chunk := rest[:n]
		rest = rest[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO certificates (` + certificateCols + `) VALUES `)
		cols := len(CertificateColumns)
		args := make([]any, 0, cols*len(chunk))
		for i, c := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			placeholders(&b, cols*i, cols)
			args = append(args, CertificateValues(c)...)
		}
		b.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
		ids, err := list(ctx, q.db, func(s scanner) (string, error) {
			var id string
			err := s.Scan(&id)
			return id, err
		}, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("store: create certificates: %w", err)
		}
		for _, id := range ids {
			inserted[id] = true
		}
	}
	out, lists := InsertedInOrder(cs, inserted)
	for _, l := range lists {
		if err := q.addStatusList(ctx, l.ID, l.UpdatedAt); err != nil {
			return nil, fmt.Errorf("store: create certificates: %w", err)
		}
	}
	return out, nil
}

// InsertedInOrder returns the IDs of cs that are in inserted, in the order
// of cs and each once, and the status lists of those rows, each with the
// earliest IssuedAt among them (as UpdatedAt), in order of first
// appearance.
func InsertedInOrder(cs []store.Certificate, inserted map[string]bool) ([]string, []store.StatusListInfo) {
	out := make([]string, 0, len(inserted))
	var lists []store.StatusListInfo
	listAt := map[string]int{}
	seen := make(map[string]bool, len(inserted))
	for _, c := range cs {
		// The first row with an ID is the one the database kept: a later
		// duplicate in cs was skipped.
		if !inserted[c.ID] || seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		out = append(out, c.ID)
		if i, seen := listAt[c.StatusList]; !seen {
			listAt[c.StatusList] = len(lists)
			lists = append(lists, store.StatusListInfo{ID: c.StatusList, UpdatedAt: c.IssuedAt})
		} else if c.IssuedAt.Before(lists[i].UpdatedAt) {
			lists[i].UpdatedAt = c.IssuedAt
		}
	}
	return out, lists
}

// GetCertificate returns the certificate with the given ID or
// store.ErrNotFound.
func (q *Queries) GetCertificate(ctx context.Context, id string) (store.Certificate, error) {
	c, err := scanCertificate(q.db.QueryRow(ctx,
		`SELECT `+certificateCols+` FROM certificates WHERE id = $1`, id))
	if err != nil {
		return store.Certificate{}, fmt.Errorf("store: get certificate: %w", err)
	}
	return c, nil
}

// GetCertificateByNumber returns the highest version of the certificate with
// this type, issuer and number, or store.ErrNotFound.
func (q *Queries) GetCertificateByNumber(ctx context.Context, typeCode, issuerUSCC, number string) (store.Certificate, error) {
	c, err := scanCertificate(q.db.QueryRow(ctx,
		`SELECT `+certificateCols+` FROM certificates
		 WHERE type_code = $1 AND issuer_uscc = $2 AND number = $3
		 ORDER BY version DESC LIMIT 1`,
		typeCode, issuerUSCC, number))
	if err != nil {
		return store.Certificate{}, fmt.Errorf("store: get certificate by number: %w", err)
	}
	return c, nil
}

// IssuedNumbers returns, of numbers, those already issued for the type by the
// issuer, each with its latest version's ID. Each number is one correlated
// lookup that matches the (type, issuer, number, version DESC) index exactly,
// so the plan does not depend on table statistics (a bulk load outruns them);
// it asks in chunks of 200 (SQLite looks placeholders up linearly).
func (q *Queries) IssuedNumbers(ctx context.Context, typeCode, issuerUSCC string, numbers []string) (map[string]string, error) {
	out := map[string]string{}
	for len(numbers) > 0 {
		chunk := numbers[:min(len(numbers), 200)]
		numbers = numbers[len(chunk):]
		var b strings.Builder
		b.WriteString(`SELECT v.column1, COALESCE((SELECT c.id FROM certificates c
			WHERE c.type_code = $1 AND c.issuer_uscc = $2 AND c.number = v.column1
			ORDER BY c.version DESC LIMIT 1), '') FROM (VALUES `)
		args := append(make([]any, 0, len(chunk)+2), typeCode, issuerUSCC)
		for i, n := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("($" + strconv.Itoa(i+3) + ")")
			args = append(args, n)
		}
		b.WriteString(`) AS v`)
		type row struct{ number, id string }
		rows, err := list(ctx, q.db, func(s scanner) (row, error) {
			var r row
			return r, s.Scan(&r.number, &r.id)
		}, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("store: issued numbers: %w", err)
		}
		for _, r := range rows {
			if r.id != "" {
				out[r.number] = r.id
			}
		}
	}
	return out, nil
}

// ChangeCertificateStatus moves the certificate ch.ID from ch.From to ch.To,
// storing ch.Reason, ch.At as its UpdatedAt and ch.SuccessorID when not
// empty, and bumps its status list's UpdatedAt; the own entries of its
// copies follow (followCertificate). A certificate no longer in
// ch.From gives store.ErrConflict, an unknown one store.ErrNotFound. It runs
// several statements: backends run it in a transaction when the caller has
// none.
//
// The list's UpdatedAt becomes ch.At, or, when the list already shows a
// change at or after ch.At (another node's clock, or the same microsecond),
// one microsecond after that: it never goes back, and every change moves it,
// so that a signed list cached under the UpdatedAt it was built from is
// always seen to be stale.
func (q *Queries) ChangeCertificateStatus(ctx context.Context, ch store.CertificateStatusChange) error {
	err := q.changeCertificateStatus(ctx, ch)
	if err != nil {
		return fmt.Errorf("store: change certificate status: %w", err)
	}
	return nil
}

func (q *Queries) changeCertificateStatus(ctx context.Context, ch store.CertificateStatusChange) error {
	var list string
	err := q.db.QueryRow(ctx,
		`UPDATE certificates
		 SET status = $3, status_reason = $4, updated_at = $5,
		     successor_id = CASE WHEN $6 = '' THEN successor_id ELSE $6 END
		 WHERE id = $1 AND status = $2
		 RETURNING status_list`,
		ch.ID, ch.From, ch.To, ch.Reason, ch.At, ch.SuccessorID).Scan(&list)
	if errors.Is(err, store.ErrNotFound) {
		// Nothing changed: is the certificate missing, or in another status?
		var one int
		if err = q.db.QueryRow(ctx, `SELECT 1 FROM certificates WHERE id = $1`, ch.ID).Scan(&one); err == nil {
			err = store.ErrConflict
		}
		return err
	}
	if err != nil {
		return err
	}
	if err := q.bumpStatusList(ctx, list, ch.At); err != nil {
		return err
	}
	return q.followCertificate(ctx, ch)
}

// bumpStatusList moves the UpdatedAt of list to at, or to one microsecond
// past its current value when that is at or after at (see
// ChangeCertificateStatus). A list without a row (an entry not made by this
// store) is left alone.
func (q *Queries) bumpStatusList(ctx context.Context, list string, at time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE status_lists SET updated_at = $2 WHERE id = $1 AND updated_at < $2`, list, at)
	if err != nil || n == 1 {
		return err
	}
	var last time.Time
	err = q.db.QueryRow(ctx, `SELECT updated_at FROM status_lists WHERE id = $1`, list).Scan(&last)
	if errors.Is(err, store.ErrNotFound) {
		return nil // an entry without a list row (not made by this store): nothing to bump
	}
	if err == nil {
		_, err = q.db.Exec(ctx, `UPDATE status_lists SET updated_at = $2 WHERE id = $1`, list, last.Add(time.Microsecond))
	}
	return err
}

// ListCertificates lists the certificates that match every non-empty field
// of f and have ID > after, in byte order of ID. Only the conditions in use
// go into the statement, so that each combination gets a plan that uses its
// index (holder, issuer) rather than one generic plan for all.
func (q *Queries) ListCertificates(ctx context.Context, f store.CertificateFilter, after string, limit int) ([]store.Certificate, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + certificateCols + ` FROM certificates WHERE id > $1`)
	args := []any{after}
	for _, cond := range []struct{ col, v string }{
		{"holder_subject", f.HolderSubject},
		{"issuer_uscc", f.IssuerUSCC},
		{"type_code", f.TypeCode},
	} {
		if cond.v != "" {
			args = append(args, cond.v)
			b.WriteString(` AND ` + cond.col + ` = $` + strconv.Itoa(len(args)))
		}
	}
	if f.KeyIDs != nil {
		b.WriteString(` AND key_id IN (''`)
		for _, k := range f.KeyIDs {
			args = append(args, k)
			b.WriteString(`, $` + strconv.Itoa(len(args)))
		}
		b.WriteString(`)`)
	}
	if f.InEffect {
		b.WriteString(` AND status IN ('valid', 'suspended')`)
	}
	args = append(args, pageLimit(limit))
	b.WriteString(` ORDER BY id LIMIT $` + strconv.Itoa(len(args)))
	out, err := list(ctx, q.db, scanCertificate, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list certificates: %w", err)
	}
	return out, nil
}

// StatusEntries lists the entries of the status list listID whose
// certificate, code or copy is not valid, by index. A list holds only
// certificates, codes or copies (their list IDs differ), so two arms of the
// UNION are always empty; a code's status ("revoked") is its entry's status. (The
// conditions are written exactly as in the partial indexes that serve them.)
func (q *Queries) StatusEntries(ctx context.Context, listID string) ([]store.StatusEntry, error) {
	out, err := list(ctx, q.db, func(s scanner) (store.StatusEntry, error) {
		var e store.StatusEntry
		err := s.Scan(&e.Index, &e.Status)
		return e, err
	}, `SELECT status_index, status FROM certificates WHERE status_list = $1 AND status <> 'valid'
		UNION ALL
		SELECT status_index, status FROM codes WHERE status_list = $1 AND status <> 'valid'
		UNION ALL
		SELECT status_index, status FROM copies WHERE status_list = $1 AND status <> 'valid'
		ORDER BY status_index`,
		listID)
	if err != nil {
		return nil, fmt.Errorf("store: status entries: %w", err)
	}
	return out, nil
}
