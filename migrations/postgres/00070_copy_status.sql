-- Copies withdrawn by their holder (DELETE /v1/me/copies/{id}), and each
-- copy's own status-list entry. A copy made from now on has its own slot
-- (status_list, status_index) in a copies list (ids "a-N"): withdrawal sets
-- only that slot, and every status change of the certificate copies its
-- status into the slots of the certificate's unexpired, unwithdrawn copies
-- in the same transaction (store: ChangeCertificateStatus). status is the
-- slot's status as the list shows it: valid, suspended, revoked, cancelled
-- or superseded (a withdrawn copy is revoked). Copies made before keep
-- status_list '' — their code refers to the certificate's entry — and
-- cannot be withdrawn. Mirrors migrations/sqlite/00070_copy_status.sql.

-- +goose Up
ALTER TABLE copies ADD COLUMN status_list  text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE copies ADD COLUMN status_index bigint NOT NULL DEFAULT 0;
ALTER TABLE copies ADD COLUMN status       text NOT NULL DEFAULT 'valid';
ALTER TABLE copies ADD COLUMN withdrawn_at timestamptz;
CREATE INDEX copies_certificate_idx ON copies (certificate_id);
CREATE UNIQUE INDEX copies_slot_idx ON copies (status_list, status_index) WHERE status_list <> '';
CREATE INDEX copies_status_idx ON copies (status_list, status_index) WHERE status <> 'valid';

-- +goose Down
DROP INDEX copies_status_idx;
DROP INDEX copies_slot_idx;
DROP INDEX copies_certificate_idx;
ALTER TABLE copies DROP COLUMN withdrawn_at;
ALTER TABLE copies DROP COLUMN status;
ALTER TABLE copies DROP COLUMN status_index;
ALTER TABLE copies DROP COLUMN status_list;
