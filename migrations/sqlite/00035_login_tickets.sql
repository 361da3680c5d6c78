-- +goose Up
-- One-time sign-in links (login_url) for the holder's browser; only hashes.
CREATE TABLE login_tickets (
    ticket_hash  BLOB NOT NULL PRIMARY KEY,
    subject      TEXT NOT NULL,
    holder_kind  TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    used_at TEXT CHECK (used_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX login_tickets_expires_at_idx ON login_tickets (expires_at);

-- +goose Down
DROP TABLE login_tickets;
