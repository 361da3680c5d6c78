-- 免申即享 under abuse and at scale: approval status, the full match as a
-- durable job, and the outbox of certificate changes. Mirrors
-- migrations/postgres/00060_benefits_jobs.sql (read the reasons there).

-- +goose Up
ALTER TABLE policies ADD COLUMN status TEXT NOT NULL DEFAULT 'unchecked'
    CHECK (status IN ('unchecked', 'pending_approval', 'approved'));
ALTER TABLE policies ADD COLUMN approved_at TEXT CHECK (approved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_status TEXT NOT NULL DEFAULT 'none'
    CHECK (match_status IN ('none', 'queued', 'running', 'done', 'failed'));
ALTER TABLE policies ADD COLUMN match_requested_at TEXT CHECK (match_requested_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_started_at TEXT CHECK (match_started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_finished_at TEXT CHECK (match_finished_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_run_at TEXT CHECK (match_run_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN match_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_eligible INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_withdrawn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN match_lease_until TEXT CHECK (match_lease_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE policies ADD COLUMN match_error TEXT NOT NULL DEFAULT '';

CREATE TABLE benefit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    holder_subject TEXT NOT NULL,
    type_code      TEXT NOT NULL,
    created_at     TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    attempts       INTEGER NOT NULL DEFAULT 0,
    not_before     TEXT NOT NULL CHECK (not_before GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX benefit_events_due_idx ON benefit_events (not_before, id);

-- +goose Down
DROP TABLE benefit_events;
ALTER TABLE policies DROP COLUMN match_error;
ALTER TABLE policies DROP COLUMN match_lease_until;
ALTER TABLE policies DROP COLUMN match_owner;
ALTER TABLE policies DROP COLUMN match_withdrawn;
ALTER TABLE policies DROP COLUMN match_eligible;
ALTER TABLE policies DROP COLUMN match_read;
ALTER TABLE policies DROP COLUMN match_cursor;
ALTER TABLE policies DROP COLUMN match_run_at;
ALTER TABLE policies DROP COLUMN match_finished_at;
ALTER TABLE policies DROP COLUMN match_started_at;
ALTER TABLE policies DROP COLUMN match_requested_at;
ALTER TABLE policies DROP COLUMN match_status;
ALTER TABLE policies DROP COLUMN approved_at;
ALTER TABLE policies DROP COLUMN status;
