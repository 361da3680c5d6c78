package sqldb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/suishen/suishen/store"
)

// ---- holders ----

// LookupHolderRef returns the ref of the holder with this subject, or
// store.ErrNotFound: HolderRef without the write. Backends use it to serve
// the common case (a holder seen before) without taking a write lock.
func (q *Queries) LookupHolderRef(ctx context.Context, subject string) (int64, error) {
	ref, err := q.lookupHolderRef(ctx, subject)
	if err != nil {
		return 0, fmt.Errorf("store: holder ref: %w", err)
	}
	return ref, nil
}

func (q *Queries) lookupHolderRef(ctx context.Context, subject string) (int64, error) {
	var ref int64
	err := q.db.QueryRow(ctx, `SELECT ref FROM holders WHERE subject = $1`, subject).Scan(&ref)
	return ref, err
}

// HolderRef returns the ref of the holder with this subject, creating the
// holder (with kind, as of now) on first use; a holder already present keeps
// the kind it was created with.
//
// It reads first, so that a known holder costs no write and, on PostgreSQL,
// takes no value from the identity sequence (INSERT … ON CONFLICT takes one
// even when it inserts nothing). Two callers creating one holder at once
// both insert; ON CONFLICT DO NOTHING lets the second one's insert wait for
// the first and do nothing, and its second read, a statement of its own,
// sees the committed row. (Inside a PostgreSQL SERIALIZABLE transaction the
// loser gets a serialization failure instead, and InTx retries.)
func (q *Queries) HolderRef(ctx context.Context, subject, kind string, now time.Time) (int64, error) {
	ref, err := q.holderRef(ctx, subject, kind, now)
	if err != nil {
		return 0, fmt.Errorf("store: holder ref: %w", err)
	}
	return ref, nil
}

func (q *Queries) holderRef(ctx context.Context, subject, kind string, now time.Time) (int64, error) {
	ref, err := q.lookupHolderRef(ctx, subject)
	if !errors.Is(err, store.ErrNotFound) {
		return ref, err
	}
	err = q.db.QueryRow(ctx,
		`INSERT INTO holders (subject, kind, created_at) VALUES ($1, $2, $3)
		 ON CONFLICT (subject) DO NOTHING RETURNING ref`,
		subject, kind, now).Scan(&ref)
	if errors.Is(err, store.ErrNotFound) {
		// Another caller inserted it meanwhile.
		return q.lookupHolderRef(ctx, subject)
	}
	return ref, err
}

// GetHolderByRef returns the holder with the given ref or store.ErrNotFound.
func (q *Queries) GetHolderByRef(ctx context.Context, ref int64) (store.Holder, error) {
	var h store.Holder
	err := q.db.QueryRow(ctx, `SELECT ref, subject, kind, created_at FROM holders WHERE ref = $1`, ref).
		Scan(&h.Ref, &h.Subject, &h.Kind, &h.CreatedAt)
	if err != nil {
		return store.Holder{}, fmt.Errorf("store: get holder: %w", err)
	}
	return h, nil
}

// ---- codes ----

const codeCols = `id, kind, owner, generation, text, status, status_list, status_index, issued_at, expires_at, updated_at`

func scanCode(s scanner) (store.Code, error) {
	var c store.Code
	err := s.Scan(&c.ID, &c.Kind, &c.Owner, &c.Generation, &c.Text, &c.Status, &c.StatusList, &c.StatusIndex,
		&c.IssuedAt, &c.ExpiresAt, &c.UpdatedAt)
	return c, err
}

// CreateCode stores c and adds its status list (as of c.IssuedAt) if the
// list is new, as CreateCertificate does. A taken ID, (kind, owner,
// generation) or status slot gives store.ErrAlreadyExists. It runs two
// statements: backends run it in a transaction when the caller has none.
func (q *Queries) CreateCode(ctx context.Context, c store.Code) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO codes (`+codeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.Kind, c.Owner, c.Generation, c.Text, c.Status, c.StatusList, c.StatusIndex,
		c.IssuedAt, c.ExpiresAt, c.UpdatedAt)
	if err == nil {
		err = q.addStatusList(ctx, c.StatusList, c.IssuedAt)
	}
	if err != nil {
		return fmt.Errorf("store: create code: %w", err)
	}
	return nil
}

// LatestCode returns the owner's code of this kind with the highest
// generation, whatever its status, or store.ErrNotFound.
func (q *Queries) LatestCode(ctx context.Context, kind, owner string) (store.Code, error) {
	c, err := scanCode(q.db.QueryRow(ctx,
		`SELECT `+codeCols+` FROM codes WHERE kind = $1 AND owner = $2 ORDER BY generation DESC LIMIT 1`,
		kind, owner))
	if err != nil {
		return store.Code{}, fmt.Errorf("store: latest code: %w", err)
	}
	return c, nil
}

// GetCode returns the code with the given ID or store.ErrNotFound.
func (q *Queries) GetCode(ctx context.Context, id string) (store.Code, error) {
	c, err := scanCode(q.db.QueryRow(ctx, `SELECT `+codeCols+` FROM codes WHERE id = $1`, id))
	if err != nil {
		return store.Code{}, fmt.Errorf("store: get code: %w", err)
	}
	return c, nil
}

// ChangeCodeStatus moves the code id from status `from` to `to`, with at as
// its UpdatedAt, and bumps its status list's UpdatedAt as
// ChangeCertificateStatus does (never backwards, always forwards). A code no
// longer in `from` gives store.ErrConflict, an unknown one
// store.ErrNotFound. It runs several statements: backends run it in a
// transaction when the caller has none.
func (q *Queries) ChangeCodeStatus(ctx context.Context, id, from, to string, at time.Time) error {
	if err := q.changeCodeStatus(ctx, id, from, to, at); err != nil {
		return fmt.Errorf("store: change code status: %w", err)
	}
	return nil
}

func (q *Queries) changeCodeStatus(ctx context.Context, id, from, to string, at time.Time) error {
	var list string
	err := q.db.QueryRow(ctx,
		`UPDATE codes SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2 RETURNING status_list`,
		id, from, to, at).Scan(&list)
	if errors.Is(err, store.ErrNotFound) {
		var one int
		if err = q.db.QueryRow(ctx, `SELECT 1 FROM codes WHERE id = $1`, id).Scan(&one); err == nil {
			err = store.ErrConflict
		}
		return err
	}
	if err != nil {
		return err
	}
	return q.bumpStatusList(ctx, list, at)
}

// ---- check-ins ----

const checkinCols = `id, venue_id, holder_subject, masked_name, source, code_kind, client_id, at, created_at, region_code, venue_name`

func scanCheckin(s scanner) (store.Checkin, error) {
	var c store.Checkin
	err := s.Scan(&c.ID, &c.VenueID, &c.HolderSubject, &c.MaskedName, &c.Source, &c.CodeKind, &c.ClientID,
		&c.At, &c.CreatedAt, &c.RegionCode, &c.VenueName)
	return c, err
}

// AddCheckin stores c. A taken ID, or a non-empty ClientID the venue has
// already used, gives store.ErrAlreadyExists.
func (q *Queries) AddCheckin(ctx context.Context, c store.Checkin) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO checkins (`+checkinCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.VenueID, c.HolderSubject, c.MaskedName, c.Source, c.CodeKind, c.ClientID, c.At, c.CreatedAt, c.RegionCode, c.VenueName)
	if err != nil {
		return fmt.Errorf("store: add check-in: %w", err)
	}
	return nil
}

// ListCheckinsByHolder lists the holder's check-ins with ID > after, in byte
// order of ID (time order for UUIDv7 IDs).
func (q *Queries) ListCheckinsByHolder(ctx context.Context, subject string, after string, limit int) ([]store.Checkin, error) {
	out, err := list(ctx, q.db, scanCheckin,
		`SELECT `+checkinCols+` FROM checkins WHERE holder_subject = $1 AND id > $2 ORDER BY id LIMIT $3`,
		subject, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list check-ins by holder: %w", err)
	}
	return out, nil
}

// ListCheckinsByVenue lists the venue's check-ins with ID > after, in byte
// order of ID (time order for UUIDv7 IDs).
func (q *Queries) ListCheckinsByVenue(ctx context.Context, venueID string, after string, limit int) ([]store.Checkin, error) {
	out, err := list(ctx, q.db, scanCheckin,
		`SELECT `+checkinCols+` FROM checkins WHERE venue_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		venueID, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list check-ins by venue: %w", err)
	}
	return out, nil
}

// ---- use codes ----

const useCodeCols = `hash, certificate_id, holder_subject, purpose, created_at, expires_at, used_at, used_by`

func scanUseCode(s scanner) (store.UseCode, error) {
	var u store.UseCode
	err := s.Scan(&u.Hash, &u.CertificateID, &u.HolderSubject, &u.Purpose, &u.CreatedAt, &u.ExpiresAt, &u.UsedAt, &u.UsedBy)
	return u, err
}

// CreateUseCode stores u; a taken hash gives store.ErrAlreadyExists.
func (q *Queries) CreateUseCode(ctx context.Context, u store.UseCode) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO use_codes (`+useCodeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		nz(u.Hash), u.CertificateID, u.HolderSubject, u.Purpose, u.CreatedAt, u.ExpiresAt, u.UsedAt, u.UsedBy)
	if err != nil {
		return fmt.Errorf("store: create use code: %w", err)
	}
	return nil
}

// RedeemUseCode marks the use code with this hash used by app at now and
// returns it, in one conditional UPDATE, so that of two racing redemptions
// exactly one succeeds. A code already used, or expired (now >= ExpiresAt),
// gives store.ErrConflict; an unknown one store.ErrNotFound.
func (q *Queries) RedeemUseCode(ctx context.Context, hash []byte, app string, now time.Time) (store.UseCode, error) {
	u, err := scanUseCode(q.db.QueryRow(ctx,
		`UPDATE use_codes SET used_at = $3, used_by = $2
		 WHERE hash = $1 AND used_at IS NULL AND expires_at > $3
		 RETURNING `+useCodeCols,
		nz(hash), app, now))
	if errors.Is(err, store.ErrNotFound) {
		var one int
		if err = q.db.QueryRow(ctx, `SELECT 1 FROM use_codes WHERE hash = $1`, nz(hash)).Scan(&one); err == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return store.UseCode{}, fmt.Errorf("store: redeem use code: %w", err)
	}
	return u, nil
}

// ---- grants ----

const grantCols = `id, holder_subject, app_id, certificate_types, purpose, created_at, expires_at, revoked_at`

func scanGrant(s scanner) (store.Grant, error) {
	var g store.Grant
	var types string
	if err := s.Scan(&g.ID, &g.HolderSubject, &g.AppID, &types, &g.Purpose, &g.CreatedAt, &g.ExpiresAt, &g.RevokedAt); err != nil {
		return g, err
	}
	var err error
	g.CertificateTypes, err = decodeList(types)
	return g, err
}

// CreateGrant stores g; a taken ID gives store.ErrAlreadyExists.
func (q *Queries) CreateGrant(ctx context.Context, g store.Grant) error {
	types, err := encodeList(g.CertificateTypes)
	if err != nil {
		return fmt.Errorf("store: create grant: %w", err)
	}
	_, err = q.db.Exec(ctx,
		`INSERT INTO grants (`+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ID, g.HolderSubject, g.AppID, types, g.Purpose, g.CreatedAt, g.ExpiresAt, g.RevokedAt)
	if err != nil {
		return fmt.Errorf("store: create grant: %w", err)
	}
	return nil
}

// GetGrant returns the grant with the given ID (revoked or expired alike) or
// store.ErrNotFound.
func (q *Queries) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := scanGrant(q.db.QueryRow(ctx, `SELECT `+grantCols+` FROM grants WHERE id = $1`, id))
	if err != nil {
		return store.Grant{}, fmt.Errorf("store: get grant: %w", err)
	}
	return g, nil
}

// ListGrants lists the holder's grants (revoked and expired ones too) with
// ID > after, in byte order of ID (time order for UUIDv7 IDs).
func (q *Queries) ListGrants(ctx context.Context, subject string, after string, limit int) ([]store.Grant, error) {
	out, err := list(ctx, q.db, scanGrant,
		`SELECT `+grantCols+` FROM grants WHERE holder_subject = $1 AND id > $2 ORDER BY id LIMIT $3`,
		subject, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list grants: %w", err)
	}
	return out, nil
}

// RevokeGrant sets the grant's RevokedAt to at. A grant already revoked
// keeps its first revocation and gives store.ErrConflict; an unknown one
// store.ErrNotFound.
func (q *Queries) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	n, err := q.db.Exec(ctx, `UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, at)
	if err == nil && n == 0 {
		var one int
		if err = q.db.QueryRow(ctx, `SELECT 1 FROM grants WHERE id = $1`, id).Scan(&one); err == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("store: revoke grant: %w", err)
	}
	return nil
}

// ActiveGrant returns the newest (by CreatedAt, then ID) grant of the holder
// to the app that is not revoked, not expired at now (now < ExpiresAt) and
// lists typeCode, or store.ErrNotFound.
//
// The database selects the holder's live grants to the app (a handful, by
// the (app_id, holder_subject) index); whether a grant lists typeCode is
// decided here, on the decoded list, so that one statement serves both
// dialects (a JSON array is jsonb on PostgreSQL and TEXT on SQLite) and the
// match is exact, not a LIKE on JSON text.
func (q *Queries) ActiveGrant(ctx context.Context, subject, appID, typeCode string, now time.Time) (store.Grant, error) {
	gs, err := list(ctx, q.db, scanGrant,
		`SELECT `+grantCols+` FROM grants
		 WHERE app_id = $1 AND holder_subject = $2 AND revoked_at IS NULL AND expires_at > $3
		 ORDER BY created_at DESC, id DESC`,
		appID, subject, now)
	if err != nil {
		return store.Grant{}, fmt.Errorf("store: active grant: %w", err)
	}
	for _, g := range gs {
		if slices.Contains(g.CertificateTypes, typeCode) {
			return g, nil
		}
	}
	return store.Grant{}, fmt.Errorf("store: active grant: %w", store.ErrNotFound)
}

// ---- usage records ----

const usageRecordCols = `id, holder_subject, at, org, org_uscc, operator, item_code, item_name, business_code, purpose, certificate_id, code_kind, channel, result, app_id, detail, org_unit`

// usageRecordColsAll adds the region of a use in a peer region (区域互认).
const usageRecordColsAll = usageRecordCols + `, region_code`

func scanUsageRecord(s scanner) (store.UsageRecord, error) {
	var r store.UsageRecord
	err := s.Scan(&r.ID, &r.HolderSubject, &r.At, &r.Org, &r.OrgUSCC, &r.Operator, &r.ItemCode, &r.ItemName,
		&r.BusinessCode, &r.Purpose, &r.CertificateID, &r.CodeKind, &r.Channel, &r.Result, &r.AppID, &r.Detail, &r.OrgUnit, &r.RegionCode)
	return r, err
}

// AddUsageRecord appends r; a taken ID gives store.ErrAlreadyExists. The
// table is append-only: the database refuses to change or delete a record.
func (q *Queries) AddUsageRecord(ctx context.Context, r store.UsageRecord) error {
	_, err := q.db.Exec(ctx,
		`INSERT INTO usage_records (`+usageRecordColsAll+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		r.ID, r.HolderSubject, r.At, r.Org, r.OrgUSCC, r.Operator, r.ItemCode, r.ItemName,
		r.BusinessCode, r.Purpose, r.CertificateID, r.CodeKind, r.Channel, r.Result, r.AppID, r.Detail, r.OrgUnit, r.RegionCode)
	if err != nil {
		return fmt.Errorf("store: add usage record: %w", err)
	}
	return nil
}

// ListUsageRecords lists the holder's usage records with ID > after, in byte
// order of ID (time order for UUIDv7 IDs).
func (q *Queries) ListUsageRecords(ctx context.Context, subject string, after string, limit int) ([]store.UsageRecord, error) {
	out, err := list(ctx, q.db, scanUsageRecord,
		`SELECT `+usageRecordColsAll+` FROM usage_records WHERE holder_subject = $1 AND id > $2 ORDER BY id LIMIT $3`,
		subject, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list usage records: %w", err)
	}
	return out, nil
}
