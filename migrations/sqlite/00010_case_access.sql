-- Least-privilege cases: the service items (事项) a case system may open
-- cases for, and the officer's decision on each case (for pre-check
-- accuracy). Mirrors migrations/postgres/00010_case_access.sql.
--
-- SQLite cannot add a CHECK spanning columns with ALTER TABLE; the decision
-- columns check themselves, and DecideCase writes all of them at once.

-- +goose Up
ALTER TABLE apps ADD COLUMN service_items TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(service_items) AND json_type(service_items) = 'array');

ALTER TABLE cases ADD COLUMN decision TEXT NOT NULL DEFAULT ''
    CHECK (decision IN ('', 'approved', 'rejected'));
ALTER TABLE cases ADD COLUMN decision_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN decided_at TEXT
    CHECK (decided_at IS NULL OR decided_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z');
ALTER TABLE cases ADD COLUMN precheck_matched INTEGER NOT NULL DEFAULT 0 CHECK (precheck_matched IN (0, 1));
CREATE INDEX cases_caller_idx ON cases (caller, item_code);

-- +goose Down
DROP INDEX cases_caller_idx;
ALTER TABLE cases DROP COLUMN precheck_matched;
ALTER TABLE cases DROP COLUMN decided_at;
ALTER TABLE cases DROP COLUMN decided_by;
ALTER TABLE cases DROP COLUMN decision_notes;
ALTER TABLE cases DROP COLUMN decision;
ALTER TABLE apps DROP COLUMN service_items;
