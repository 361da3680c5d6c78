-- 随申码 codes: holders and their refs, long-lived codes that can be revoked,
-- check-ins (场所码), one-time use codes (用证码), grants (授权用证) and usage
-- records (用证记录). Mirrors migrations/postgres/00003_codes.sql (same version
-- number, same tables and columns).
--
-- Conventions as in 00001 and 00002, plus:
--   * codes share status lists with nothing else: their list IDs are their own,
--     and StatusEntries reads the codes' not-valid entries beside the
--     certificates';
--   * grants' certificate_types is a JSON array in TEXT, as apps' is;
--   * use codes are stored by hash only (BLOB), never the code itself;
--   * usage_records is append-only, as the audit tables are: triggers abort
--     UPDATE and DELETE.

-- +goose Up
CREATE TABLE holders (
    ref     INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL UNIQUE,
    kind    TEXT NOT NULL CHECK (kind IN ('person', 'enterprise')),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE codes (
    id           TEXT NOT NULL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('offline', 'enterprise', 'venue')),
    owner        TEXT NOT NULL,
    generation   INTEGER NOT NULL CHECK (generation >= 0),
    text         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
    status_list  TEXT NOT NULL,
    status_index INTEGER NOT NULL CHECK (status_index >= 0),
    issued_at TEXT NOT NULL CHECK (issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
-- Also the "latest generation" index that LatestCode walks from its end.
CREATE UNIQUE INDEX codes_generation_idx ON codes (kind, owner, generation);
CREATE UNIQUE INDEX codes_status_slot_idx ON codes (status_list, status_index);
CREATE INDEX codes_not_valid_idx ON codes (status_list, status_index) WHERE status <> 'valid';

CREATE TABLE checkins (
    id             TEXT NOT NULL PRIMARY KEY,
    venue_id       TEXT NOT NULL,
    holder_subject TEXT NOT NULL,
    masked_name    TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('holder_scan', 'venue_scan', 'venue_upload')),
    code_kind      TEXT NOT NULL,
    client_id      TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
-- A venue's own record ID makes its uploads idempotent.
CREATE UNIQUE INDEX checkins_client_id_idx ON checkins (venue_id, client_id) WHERE client_id <> '';
CREATE INDEX checkins_holder_idx ON checkins (holder_subject, id);
CREATE INDEX checkins_venue_idx ON checkins (venue_id, id);

CREATE TABLE use_codes (
    hash           BLOB NOT NULL PRIMARY KEY,
    certificate_id TEXT NOT NULL,
    holder_subject TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_at TEXT CHECK (used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_by        TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE grants (
    id                TEXT NOT NULL PRIMARY KEY,
    holder_subject    TEXT NOT NULL,
    app_id            TEXT NOT NULL,
    certificate_types TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(certificate_types) AND json_type(certificate_types) = 'array'),
    purpose           TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    revoked_at TEXT CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX grants_holder_idx ON grants (holder_subject, id);
CREATE INDEX grants_app_holder_idx ON grants (app_id, holder_subject);

CREATE TABLE usage_records (
    id             TEXT NOT NULL PRIMARY KEY,
    holder_subject TEXT NOT NULL,
    at TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    org            TEXT NOT NULL,
    org_uscc       TEXT NOT NULL,
    operator       TEXT NOT NULL,
    item_code      TEXT NOT NULL,
    item_name      TEXT NOT NULL,
    business_code  TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    code_kind      TEXT NOT NULL,
    channel        TEXT NOT NULL,
    result         TEXT NOT NULL,
    app_id         TEXT NOT NULL,
    detail         TEXT NOT NULL
) STRICT;
CREATE INDEX usage_records_holder_idx ON usage_records (holder_subject, id);

-- +goose StatementBegin
CREATE TRIGGER usage_records_no_update BEFORE UPDATE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'table usage_records is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER usage_records_no_delete BEFORE DELETE ON usage_records
BEGIN
    SELECT RAISE(ABORT, 'table usage_records is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE usage_records;
DROP TABLE grants;
DROP TABLE use_codes;
DROP TABLE checkins;
DROP TABLE codes;
DROP TABLE holders;
