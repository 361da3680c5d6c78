-- A status-list slot counter per partition (one per certificate type), so
-- that a type's certificates fill lists of their own: a verifier that
-- checks one type fetches only that type's lists. Nodes reserve slots in
-- blocks (issuance), so the row is touched once per block, not per
-- certificate. Mirrors migrations/sqlite/00021_status_slots.sql.

-- +goose Up
CREATE TABLE status_slots (
    partition text COLLATE "C" PRIMARY KEY,
    next      bigint NOT NULL CHECK (next >= 0)
);

-- +goose Down
DROP TABLE status_slots;
