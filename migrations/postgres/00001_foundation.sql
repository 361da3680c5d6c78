-- Foundation: principals, API keys, holder sessions, signing keys, the audit
-- chain and idempotency records. Mirrors migrations/sqlite/00001_foundation.sql.
--
-- Conventions:
--   * string identifiers compare byte-wise (COLLATE "C") so keyset pagination
--     orders the same way as on SQLite, whatever the database's locale;
--   * times are timestamptz (microseconds, UTC on the way out);
--   * lists of names are jsonb arrays;
--   * audit details are bytea: they are hashed into the audit chain and must
--     come back byte for byte (jsonb would reorder and re-space them);
--   * the audit tables are append-only: triggers reject UPDATE, DELETE and
--     TRUNCATE. (A table owner can still disable triggers: run the service as a
--     role that does not own these tables where that matters.)

-- +goose Up
CREATE TABLE departments (
    id                text COLLATE "C" PRIMARY KEY,
    name              text NOT NULL,
    uscc              text NOT NULL UNIQUE,
    level             text NOT NULL,
    certificate_types jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(certificate_types) = 'array'),
    created_at        timestamptz NOT NULL
);

CREATE TABLE apps (
    id                text COLLATE "C" PRIMARY KEY,
    name              text NOT NULL,
    uscc              text NOT NULL,
    scopes            jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(scopes) = 'array'),
    certificate_types jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(certificate_types) = 'array'),
    created_at        timestamptz NOT NULL
);
CREATE INDEX apps_uscc_idx ON apps (uscc);

CREATE TABLE venues (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    address    text NOT NULL,
    area_code  text NOT NULL,
    owner_uscc text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX venues_owner_uscc_idx ON venues (owner_uscc);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    kind         text NOT NULL,
    principal_id text NOT NULL,
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_principal_idx ON api_keys (kind, principal_id);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    subject      text NOT NULL,
    holder_kind  text NOT NULL,
    display_name text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE keys (
    kid             text COLLATE "C" PRIMARY KEY,
    role            text NOT NULL CHECK (role IN ('anchor', 'code', 'department')),
    department_uscc text NOT NULL DEFAULT '',
    public_key      bytea NOT NULL,
    sealed          bytea NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'retired', 'compromised')),
    not_before      timestamptz NOT NULL,
    not_after       timestamptz,
    created_at      timestamptz NOT NULL,
    retired_at      timestamptz,
    compromised_at  timestamptz
);

-- At most one active key per role and department: nodes starting at once
-- cannot create two anchors, and two rotations cannot both win.
CREATE UNIQUE INDEX keys_one_active_idx ON keys (role, department_uscc) WHERE status = 'active';

CREATE TABLE audit_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    request_id  text NOT NULL,
    details     bytea NOT NULL
);
CREATE INDEX audit_entries_at_idx ON audit_entries (at);

CREATE TABLE audit_seals (
    seq      bigint PRIMARY KEY CHECK (seq > 0),
    entry_id bigint NOT NULL UNIQUE REFERENCES audit_entries (id),
    hash     bytea NOT NULL
);

CREATE TABLE audit_checkpoints (
    seq       bigint PRIMARY KEY CHECK (seq >= 0),
    hash      bytea NOT NULL,
    at        timestamptz NOT NULL,
    key_id    text NOT NULL DEFAULT '',
    signature bytea NOT NULL
);

CREATE TABLE idempotency (
    principal    text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_created_at_idx ON idempotency (created_at);

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE idempotency;
DROP TABLE audit_checkpoints;
DROP TABLE audit_seals;
DROP TABLE audit_entries;
DROP FUNCTION audit_append_only();
DROP TABLE keys;
DROP TABLE sessions;
DROP TABLE api_keys;
DROP TABLE venues;
DROP TABLE apps;
DROP TABLE departments;
