-- Key events without holes. Mirrors migrations/sqlite/00025_key_events.sql.
--   * department_type_periods: when a department was authorised for a
--     certificate type. Verifiers judge a certificate by the authorisation
--     in force at its issued_at, so changing a department's types never
--     changes the verdict on certificates already issued. departments.
--     certificate_types stays the set authorised now.
--   * certificates_key_idx: the certificates a compromised key signed, per
--     department (the list to re-issue).

-- +goose Up
CREATE TABLE department_type_periods (
    department_uscc text COLLATE "C" NOT NULL,
    type_code       text COLLATE "C" NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz,
    PRIMARY KEY (department_uscc, type_code, valid_from),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE UNIQUE INDEX department_type_periods_open_idx
    ON department_type_periods (department_uscc, type_code) WHERE valid_until IS NULL;

INSERT INTO department_type_periods (department_uscc, type_code, valid_from)
SELECT d.uscc, t.code, d.created_at
FROM departments d, jsonb_array_elements_text(d.certificate_types) AS t(code);

CREATE INDEX certificates_key_idx ON certificates (issuer_uscc, key_id, id);

-- +goose Down
DROP INDEX certificates_key_idx;
DROP TABLE department_type_periods;
