-- 免申即享: the rest of a policy's lifecycle — 'rejected', the reason of a
-- policy's status, and the retries of a failed full match. Mirrors
-- migrations/postgres/00073_policy_lifecycle.sql (read the reasons there).
--
-- SQLite cannot change a CHECK constraint in place, so the policies table is
-- rebuilt (https://sqlite.org/lang_altertable.html, "other kinds of table
-- schema changes"): with foreign keys off — entitlements reference policies,
-- and dropping the old table would otherwise delete-check every row — and
-- back on at the end, in one transaction of our own.

-- +goose NO TRANSACTION
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE policies_new (
    code               TEXT NOT NULL PRIMARY KEY,
    department_uscc    TEXT NOT NULL,
    spec               BLOB NOT NULL,
    types              TEXT NOT NULL,
    created_at         TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    matched_at         TEXT CHECK (matched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    status             TEXT NOT NULL DEFAULT 'unchecked' CHECK (status IN ('unchecked', 'pending_approval', 'approved', 'rejected')),
    approved_at        TEXT CHECK (approved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_status       TEXT NOT NULL DEFAULT 'none' CHECK (match_status IN ('none', 'queued', 'running', 'done', 'failed')),
    match_requested_at TEXT CHECK (match_requested_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_started_at   TEXT CHECK (match_started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_finished_at  TEXT CHECK (match_finished_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_run_at       TEXT CHECK (match_run_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_cursor       TEXT NOT NULL DEFAULT '',
    match_read         INTEGER NOT NULL DEFAULT 0,
    match_eligible     INTEGER NOT NULL DEFAULT 0,
    match_withdrawn    INTEGER NOT NULL DEFAULT 0,
    match_owner        TEXT NOT NULL DEFAULT '',
    match_lease_until  TEXT CHECK (match_lease_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_error        TEXT NOT NULL DEFAULT '',
    status_reason      TEXT NOT NULL DEFAULT '',
    status_changed_at  TEXT CHECK (status_changed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_attempts     INTEGER NOT NULL DEFAULT 0,
    match_next_retry_at TEXT CHECK (match_next_retry_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
INSERT INTO policies_new (code, department_uscc, spec, types, created_at, matched_at, status, approved_at, match_status, match_requested_at, match_started_at, match_finished_at, match_run_at, match_cursor, match_read, match_eligible, match_withdrawn, match_owner, match_lease_until, match_error)
    SELECT code, department_uscc, spec, types, created_at, matched_at, status, approved_at, match_status, match_requested_at, match_started_at, match_finished_at, match_run_at, match_cursor, match_read, match_eligible, match_withdrawn, match_owner, match_lease_until, match_error FROM policies;
DROP TABLE policies;
ALTER TABLE policies_new RENAME TO policies;
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
UPDATE policies SET status = 'pending_approval' WHERE status = 'rejected';
CREATE TABLE policies_new (
    code               TEXT NOT NULL PRIMARY KEY,
    department_uscc    TEXT NOT NULL,
    spec               BLOB NOT NULL,
    types              TEXT NOT NULL,
    created_at         TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    matched_at         TEXT CHECK (matched_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    status             TEXT NOT NULL DEFAULT 'unchecked' CHECK (status IN ('unchecked', 'pending_approval', 'approved')),
    approved_at        TEXT CHECK (approved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_status       TEXT NOT NULL DEFAULT 'none' CHECK (match_status IN ('none', 'queued', 'running', 'done', 'failed')),
    match_requested_at TEXT CHECK (match_requested_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_started_at   TEXT CHECK (match_started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_finished_at  TEXT CHECK (match_finished_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_run_at       TEXT CHECK (match_run_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_cursor       TEXT NOT NULL DEFAULT '',
    match_read         INTEGER NOT NULL DEFAULT 0,
    match_eligible     INTEGER NOT NULL DEFAULT 0,
    match_withdrawn    INTEGER NOT NULL DEFAULT 0,
    match_owner        TEXT NOT NULL DEFAULT '',
    match_lease_until  TEXT CHECK (match_lease_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    match_error        TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO policies_new (code, department_uscc, spec, types, created_at, matched_at, status, approved_at, match_status, match_requested_at, match_started_at, match_finished_at, match_run_at, match_cursor, match_read, match_eligible, match_withdrawn, match_owner, match_lease_until, match_error)
    SELECT code, department_uscc, spec, types, created_at, matched_at, status, approved_at, match_status, match_requested_at, match_started_at, match_finished_at, match_run_at, match_cursor, match_read, match_eligible, match_withdrawn, match_owner, match_lease_until, match_error FROM policies;
DROP TABLE policies;
ALTER TABLE policies_new RENAME TO policies;
COMMIT;
PRAGMA foreign_keys = ON;
