-- Anchor successions: when the trust anchor is rotated, the old anchor signs
-- an endorsement of the new one (trust.Endorse, the same JWS the trust bundle
-- carries) and the new anchor signs an acknowledgement of the old one
-- (trust.Acknowledge). `suishen audit verify --anchor` follows them from the
-- pinned anchor in both directions, so checkpoints signed on either side of a
-- rotation verify with an old or a new pin. A row planted here is useless to a
-- forger: each JWS must verify under a key the pin already trusts. Append-only
-- like the audit tables. Mirrors migrations/sqlite/00030_anchor_successions.sql.

-- +goose Up
CREATE TABLE anchor_successions (
    old_kid         text COLLATE "C" PRIMARY KEY,
    new_kid         text COLLATE "C" NOT NULL UNIQUE,
    endorsement     text NOT NULL,
    acknowledgement text NOT NULL,
    created_at      timestamptz NOT NULL
);

CREATE TRIGGER anchor_successions_append_only BEFORE UPDATE OR DELETE ON anchor_successions
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER anchor_successions_no_truncate BEFORE TRUNCATE ON anchor_successions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE anchor_successions;
