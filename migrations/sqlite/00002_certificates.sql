-- Certificates: the catalogue (证照目录), issued certificates (电子证照), the
-- status lists they sit in and the counter their serials come from. Mirrors
-- migrations/postgres/00002_certificates.sql (same version number, same
-- tables and columns).
--
-- Conventions as in 00001, plus:
--   * the catalogue spec is a JSON object in TEXT, kept as given;
--   * the signed document is stored once, as the payload of its JWS;
--   * no foreign keys from certificates to certificate_types or status_lists
--     (as on PostgreSQL, where they would put a lock on hot rows).

-- +goose Up
CREATE TABLE certificate_types (
    code        TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    holder_kind TEXT NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
    spec        TEXT NOT NULL CHECK (json_valid(spec) AND json_type(spec) = 'object'),
    seeded      INTEGER NOT NULL DEFAULT 0 CHECK (seeded IN (0, 1)),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE certificates (
    id             TEXT NOT NULL PRIMARY KEY,
    type_code      TEXT NOT NULL,
    issuer_uscc    TEXT NOT NULL,
    serial         TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    number         TEXT NOT NULL,
    holder_subject TEXT NOT NULL,
    holder_kind    TEXT NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
    status         TEXT NOT NULL
        CHECK (status IN ('valid', 'suspended', 'revoked', 'cancelled', 'superseded')),
    status_reason  TEXT NOT NULL DEFAULT '',
    valid_from TEXT NOT NULL CHECK (valid_from GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    valid_until TEXT CHECK (valid_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    jws            TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    predecessor_id TEXT NOT NULL DEFAULT '',
    successor_id   TEXT NOT NULL DEFAULT '',
    status_list    TEXT NOT NULL,
    status_index   INTEGER NOT NULL CHECK (status_index >= 0),
    issued_at TEXT NOT NULL CHECK (issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
-- One index is both the UNIQUE (type_code, issuer_uscc, number, version)
-- constraint and the "latest version of this number" index that
-- GetCertificateByNumber walks from its first entry.
CREATE UNIQUE INDEX certificates_number_idx ON certificates (type_code, issuer_uscc, number, version DESC);
CREATE UNIQUE INDEX certificates_serial_idx ON certificates (type_code, issuer_uscc, serial, version);
CREATE UNIQUE INDEX certificates_status_slot_idx ON certificates (status_list, status_index);
CREATE INDEX certificates_holder_idx ON certificates (holder_subject, id);
CREATE INDEX certificates_issuer_idx ON certificates (issuer_uscc, id);
-- StatusEntries reads only the entries that are not valid: a few, out of at
-- least 131,072 per list.
CREATE INDEX certificates_not_valid_idx ON certificates (status_list, status_index) WHERE status <> 'valid';

CREATE TABLE status_lists (
    id         TEXT NOT NULL PRIMARY KEY,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

-- The counter behind NextCertificateNumbers: one row holding the next number
-- to hand out. SQLite has one writer at a time, so the row is never
-- contended; it is updated inside the caller's transaction and rolls back
-- with it.
CREATE TABLE counters (
    name TEXT NOT NULL PRIMARY KEY,
    next INTEGER NOT NULL CHECK (next >= 1)
) STRICT;
INSERT INTO counters (name, next) VALUES ('certificate_numbers', 1);

-- +goose Down
DROP TABLE counters;
DROP TABLE status_lists;
DROP TABLE certificates;
DROP TABLE certificate_types;
