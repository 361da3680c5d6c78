-- Cases (两个免于提交): service items (政务服务事项) with their materials, and the
-- cases opened for them with the counts the statistics add up. Mirrors
-- migrations/postgres/00004_cases.sql.

-- +goose Up
CREATE TABLE service_items (
    code   TEXT NOT NULL PRIMARY KEY,
    name   TEXT NOT NULL,
    spec   TEXT NOT NULL CHECK (json_valid(spec)),
    seeded INTEGER NOT NULL CHECK (seeded IN (0, 1)),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE cases (
    id                TEXT NOT NULL PRIMARY KEY,
    item_code         TEXT NOT NULL,
    applicant_subject TEXT NOT NULL,
    caller            TEXT NOT NULL,
    org               TEXT NOT NULL,
    operator          TEXT NOT NULL,
    business_code     TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    result            TEXT NOT NULL CHECK (json_valid(result)),
    exempted          INTEGER NOT NULL CHECK (exempted >= 0),
    total             INTEGER NOT NULL CHECK (total >= 0),
    prefill_filled    INTEGER NOT NULL CHECK (prefill_filled >= 0),
    prefill_total     INTEGER NOT NULL CHECK (prefill_total >= 0),
    precheck_passed   INTEGER NOT NULL CHECK (precheck_passed >= 0),
    precheck_total    INTEGER NOT NULL CHECK (precheck_total >= 0),
    created_at TEXT NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX cases_item_idx ON cases (item_code);

-- +goose Down
DROP TABLE cases;
DROP TABLE service_items;
