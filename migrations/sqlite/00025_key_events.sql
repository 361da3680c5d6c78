-- Key events without holes. Mirrors migrations/postgres/00025_key_events.sql
-- (see there for the reasons).

-- +goose Up
CREATE TABLE department_type_periods (
    department_uscc TEXT NOT NULL,
    type_code       TEXT NOT NULL,
    valid_from      TEXT NOT NULL CHECK (valid_from GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    valid_until     TEXT CHECK (valid_until IS NULL OR valid_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    PRIMARY KEY (department_uscc, type_code, valid_from),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX department_type_periods_open_idx
    ON department_type_periods (department_uscc, type_code) WHERE valid_until IS NULL;

INSERT INTO department_type_periods (department_uscc, type_code, valid_from)
SELECT d.uscc, t.value, d.created_at
FROM departments d, json_each(d.certificate_types) AS t;

CREATE INDEX certificates_key_idx ON certificates (issuer_uscc, key_id, id);

-- +goose Down
DROP INDEX certificates_key_idx;
DROP TABLE department_type_periods;
