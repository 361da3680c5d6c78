-- Signed status lists are stored, so that every node serves the same bytes
-- and every node's trust bundle can pin them by SM3 (the bundle references
-- lists instead of carrying them). One node signs a list when it changed,
-- when its signature ages or when the anchor changed, and stores it with a
-- compare-and-set on version; the others read it. The previous signed form
-- is kept, so a verifier whose bundle pins it can still fetch it by digest
-- until it refreshes its bundle.
--
-- Mirrors migrations/sqlite/00020_status_list_signatures.sql.

-- +goose Up
ALTER TABLE status_lists ADD COLUMN version    bigint NOT NULL DEFAULT 0;
ALTER TABLE status_lists ADD COLUMN jws        text   NOT NULL DEFAULT '';
ALTER TABLE status_lists ADD COLUMN sm3        text   NOT NULL DEFAULT '';
ALTER TABLE status_lists ADD COLUMN key_id     text   NOT NULL DEFAULT '';
ALTER TABLE status_lists ADD COLUMN signed_at  timestamptz;
ALTER TABLE status_lists ADD COLUMN signed_for timestamptz;
ALTER TABLE status_lists ADD COLUMN prev_jws   text   NOT NULL DEFAULT '';
ALTER TABLE status_lists ADD COLUMN prev_sm3   text   NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE status_lists DROP COLUMN prev_sm3;
ALTER TABLE status_lists DROP COLUMN prev_jws;
ALTER TABLE status_lists DROP COLUMN signed_for;
ALTER TABLE status_lists DROP COLUMN signed_at;
ALTER TABLE status_lists DROP COLUMN key_id;
ALTER TABLE status_lists DROP COLUMN sm3;
ALTER TABLE status_lists DROP COLUMN jws;
ALTER TABLE status_lists DROP COLUMN version;
