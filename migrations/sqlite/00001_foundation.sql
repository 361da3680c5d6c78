-- Foundation: principals, API keys, holder sessions, signing keys, the audit
-- chain and idempotency records. Mirrors migrations/postgres/00001_foundation.sql
-- (same version number, same tables and columns).
--
-- Conventions:
--   * STRICT tables, so a value of the wrong type is an error, not a surprise;
--   * times are TEXT in one fixed-width UTC form, 2006-01-02T15:04:05.000000Z
--     (microseconds), written by store/sqlite: with a fixed width, text order is
--     time order, so comparisons and ORDER BY on these columns are correct. The
--     CHECKs reject anything else;
--   * lists of names are JSON arrays in TEXT;
--   * audit details are BLOB: they are hashed into the audit chain and come back
--     byte for byte;
--   * the audit tables are append-only: triggers abort UPDATE and DELETE.

-- +goose Up
CREATE TABLE departments (
    id                TEXT NOT NULL PRIMARY KEY,
    name              TEXT NOT NULL,
    uscc              TEXT NOT NULL UNIQUE,
    level             TEXT NOT NULL,
    certificate_types TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(certificate_types) AND json_type(certificate_types) = 'array'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE apps (
    id                TEXT NOT NULL PRIMARY KEY,
    name              TEXT NOT NULL,
    uscc              TEXT NOT NULL,
    scopes            TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
    certificate_types TEXT NOT NULL DEFAULT '[]'
        CHECK (json_valid(certificate_types) AND json_type(certificate_types) = 'array'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX apps_uscc_idx ON apps (uscc);

CREATE TABLE venues (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    address    TEXT NOT NULL,
    area_code  TEXT NOT NULL,
    owner_uscc TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX venues_owner_uscc_idx ON venues (owner_uscc);

CREATE TABLE api_keys (
    id           TEXT NOT NULL PRIMARY KEY,
    kind         TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    revoked_at TEXT CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX api_keys_principal_idx ON api_keys (kind, principal_id);

CREATE TABLE sessions (
    token_hash   BLOB NOT NULL PRIMARY KEY,
    subject      TEXT NOT NULL,
    holder_kind  TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE keys (
    kid             TEXT NOT NULL PRIMARY KEY,
    role            TEXT NOT NULL CHECK (role IN ('anchor', 'code', 'department')),
    department_uscc TEXT NOT NULL DEFAULT '',
    public_key      BLOB NOT NULL,
    sealed          BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'retired', 'compromised')),
    not_before TEXT NOT NULL CHECK (not_before GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    not_after TEXT CHECK (not_after GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    retired_at TEXT CHECK (retired_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    compromised_at TEXT CHECK (compromised_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

-- At most one active key per role and department: nodes starting at once
-- cannot create two anchors, and two rotations cannot both win.
CREATE UNIQUE INDEX keys_one_active_idx ON keys (role, department_uscc) WHERE status = 'active';

CREATE TABLE audit_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    details     BLOB NOT NULL
) STRICT;
CREATE INDEX audit_entries_at_idx ON audit_entries (at);

CREATE TABLE audit_seals (
    seq      INTEGER PRIMARY KEY CHECK (seq > 0),
    entry_id INTEGER NOT NULL UNIQUE REFERENCES audit_entries (id),
    hash     BLOB NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY CHECK (seq >= 0),
    hash      BLOB NOT NULL,
    at TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    key_id    TEXT NOT NULL DEFAULT '',
    signature BLOB NOT NULL
) STRICT;

CREATE TABLE idempotency (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    PRIMARY KEY (principal, key)
) STRICT;
CREATE INDEX idempotency_created_at_idx ON idempotency (created_at);

-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'table audit_entries is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'table audit_entries is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'table audit_seals is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'table audit_seals is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'table audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'table audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE idempotency;
DROP TABLE audit_checkpoints;
DROP TABLE audit_seals;
DROP TABLE audit_entries;
DROP TABLE keys;
DROP TABLE sessions;
DROP TABLE api_keys;
DROP TABLE venues;
DROP TABLE apps;
DROP TABLE departments;
