-- Anchor successions: when the trust anchor is rotated, the old anchor signs
-- an endorsement of the new one (trust.Endorse, the same JWS the trust bundle
-- carries) and the new anchor signs an acknowledgement of the old one
-- (trust.Acknowledge). `suishen audit verify --anchor` follows them from the
-- pinned anchor in both directions, so checkpoints signed on either side of a
-- rotation verify with an old or a new pin. A row planted here is useless to a
-- forger: each JWS must verify under a key the pin already trusts. Append-only
-- like the audit tables. Mirrors migrations/postgres/00030_anchor_successions.sql.

-- +goose Up
CREATE TABLE anchor_successions (
    old_kid         TEXT NOT NULL PRIMARY KEY,
    new_kid         TEXT NOT NULL UNIQUE,
    endorsement     TEXT NOT NULL,
    acknowledgement TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER anchor_successions_no_update BEFORE UPDATE ON anchor_successions
BEGIN
    SELECT RAISE(ABORT, 'table anchor_successions is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER anchor_successions_no_delete BEFORE DELETE ON anchor_successions
BEGIN
    SELECT RAISE(ABORT, 'table anchor_successions is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE anchor_successions;
