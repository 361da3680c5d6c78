-- 免申即享: policies a department defines, and the entitlements matching
-- finds for holders (one per policy and holder). Mirrors
-- migrations/sqlite/00055_benefits.sql.

-- +goose Up
CREATE TABLE policies (
    code            text COLLATE "C" PRIMARY KEY,
    department_uscc text COLLATE "C" NOT NULL,
    spec            bytea NOT NULL,           -- benefits.Policy as JSON
    types           text NOT NULL,            -- the certificate types it reads, comma-separated
    created_at      timestamptz NOT NULL,
    matched_at      timestamptz
);

CREATE TABLE entitlements (
    id             text COLLATE "C" PRIMARY KEY,
    policy_code    text COLLATE "C" NOT NULL REFERENCES policies (code),
    holder_subject text COLLATE "C" NOT NULL,
    masked_name    text NOT NULL,
    status         text NOT NULL CHECK (status IN ('offered', 'declined', 'withdrawn')),
    evidence       bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    evaluated_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX entitlements_policy_holder_idx ON entitlements (policy_code, holder_subject);
CREATE INDEX entitlements_holder_idx ON entitlements (holder_subject, id);
CREATE INDEX entitlements_policy_idx ON entitlements (policy_code, id);

-- A full match walks one type's valid certificates in holder order.
CREATE INDEX certificates_type_holder_idx ON certificates (type_code, holder_subject, id) WHERE status = 'valid';

-- +goose Down
DROP INDEX certificates_type_holder_idx;
DROP TABLE entitlements;
DROP TABLE policies;
