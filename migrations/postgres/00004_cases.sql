-- Cases (两个免于提交): service items (政务服务事项) with their materials, and the
-- cases opened for them with the counts the statistics add up. Mirrors
-- migrations/sqlite/00004_cases.sql.

-- +goose Up
CREATE TABLE service_items (
    code       text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    spec       json NOT NULL,
    seeded     boolean NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE cases (
    id                text COLLATE "C" PRIMARY KEY,
    item_code         text COLLATE "C" NOT NULL,
    applicant_subject text COLLATE "C" NOT NULL,
    caller            text NOT NULL,
    org               text NOT NULL,
    operator          text NOT NULL,
    business_code     text NOT NULL,
    purpose           text NOT NULL,
    result            json NOT NULL,
    exempted          integer NOT NULL CHECK (exempted >= 0),
    total             integer NOT NULL CHECK (total >= 0),
    prefill_filled    integer NOT NULL CHECK (prefill_filled >= 0),
    prefill_total     integer NOT NULL CHECK (prefill_total >= 0),
    precheck_passed   integer NOT NULL CHECK (precheck_passed >= 0),
    precheck_total    integer NOT NULL CHECK (precheck_total >= 0),
    created_at        timestamptz NOT NULL
);
CREATE INDEX cases_item_idx ON cases (item_code);

-- +goose Down
DROP TABLE cases;
DROP TABLE service_items;
