-- +goose Up
-- One-time sign-in links (login_url) for the holder's browser; only hashes.
CREATE TABLE login_tickets (
    ticket_hash  bytea PRIMARY KEY,
    subject      text NOT NULL,
    holder_kind  text NOT NULL,
    display_name text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX login_tickets_expires_at_idx ON login_tickets (expires_at);

-- +goose Down
DROP TABLE login_tickets;
