-- Annotated copies (加注件): a certificate copied for one recipient and
-- purpose, with its signed copy code (kind copy; it holds no personal data
-- beyond the masked name). created_by is the principal ref of whoever made
-- it: the holder, or the case system of case_id. Mirrors
-- migrations/sqlite/00056_copies.sql.

-- +goose Up
CREATE TABLE copies (
    id             text COLLATE "C" PRIMARY KEY,
    certificate_id text COLLATE "C" NOT NULL,
    holder_subject text COLLATE "C" NOT NULL,
    recipient_org  text NOT NULL,
    recipient_uscc text NOT NULL,
    purpose        text NOT NULL,
    code           text NOT NULL,
    created_by     text NOT NULL,
    case_id        text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX copies_holder_idx ON copies (holder_subject, id);

-- +goose Down
DROP TABLE copies;
