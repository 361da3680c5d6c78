-- Annotated copies (加注件): a certificate copied for one recipient and
-- purpose, with its signed copy code. Mirrors
-- migrations/postgres/00056_copies.sql.

-- +goose Up
CREATE TABLE copies (
    id             TEXT NOT NULL PRIMARY KEY,
    certificate_id TEXT NOT NULL,
    holder_subject TEXT NOT NULL,
    recipient_org  TEXT NOT NULL,
    recipient_uscc TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    code           TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    case_id        TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at     TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX copies_holder_idx ON copies (holder_subject, id);

-- +goose Down
DROP TABLE copies;
