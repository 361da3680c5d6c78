-- +goose Up
-- Peer regions (区域互认): the administrator's registrations and the last good
-- copy of each peer's trust bundle and status lists, shared by every node.
CREATE TABLE regions (
    code       TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    anchor_pem TEXT NOT NULL,
    trust_url  TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    bundle_jws TEXT NOT NULL DEFAULT '',
    bundle_issued_at TEXT CHECK (bundle_issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    bundle_expires_at TEXT CHECK (bundle_expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    next_fetch_at TEXT NOT NULL CHECK (next_fetch_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    last_attempt_at TEXT CHECK (last_attempt_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    last_success_at TEXT CHECK (last_success_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    last_error TEXT NOT NULL DEFAULT '',
    failures   INTEGER NOT NULL DEFAULT 0,
    revision   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE region_status_lists (
    region_code TEXT NOT NULL REFERENCES regions (code) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    sm3         TEXT NOT NULL,
    jws         TEXT NOT NULL,
    PRIMARY KEY (region_code, id)
) STRICT;

-- +goose Down
DROP TABLE region_status_lists;
DROP TABLE regions;
