-- Copies withdrawn by their holder, and each copy's own status-list entry.
-- Mirrors migrations/postgres/00070_copy_status.sql (see there).

-- +goose Up
ALTER TABLE copies ADD COLUMN status_list  TEXT NOT NULL DEFAULT '';
ALTER TABLE copies ADD COLUMN status_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE copies ADD COLUMN status       TEXT NOT NULL DEFAULT 'valid';
ALTER TABLE copies ADD COLUMN withdrawn_at TEXT CHECK (withdrawn_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
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
