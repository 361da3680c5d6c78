-- 免申即享: policies and entitlements. Mirrors
-- migrations/postgres/00055_benefits.sql.

-- +goose Up
CREATE TABLE policies (
    code            TEXT NOT NULL PRIMARY KEY,
    department_uscc TEXT NOT NULL,
    spec            BLOB NOT NULL,
    types           TEXT NOT NULL,
    created_at      TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    matched_at      TEXT CHECK (matched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE entitlements (
    id             TEXT NOT NULL PRIMARY KEY,
    policy_code    TEXT NOT NULL REFERENCES policies (code),
    holder_subject TEXT NOT NULL,
    masked_name    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('offered', 'declined', 'withdrawn')),
    evidence       BLOB NOT NULL,
    created_at     TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_at     TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    evaluated_at   TEXT NOT NULL CHECK (evaluated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE UNIQUE INDEX entitlements_policy_holder_idx ON entitlements (policy_code, holder_subject);
CREATE INDEX entitlements_holder_idx ON entitlements (holder_subject, id);
CREATE INDEX entitlements_policy_idx ON entitlements (policy_code, id);

CREATE INDEX certificates_type_holder_idx ON certificates (type_code, holder_subject, id) WHERE status = 'valid';

-- +goose Down
DROP INDEX certificates_type_holder_idx;
DROP TABLE entitlements;
DROP TABLE policies;
