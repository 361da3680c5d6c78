-- 随申码 codes: holders and their refs, long-lived codes that can be revoked,
-- check-ins (场所码), one-time use codes (用证码), grants (授权用证) and usage
-- records (用证记录). Mirrors migrations/sqlite/00003_codes.sql (same tables
-- and columns).
--
-- Conventions as in 00001 and 00002, plus:
--   * codes share status lists with nothing else: their list IDs are their own,
--     and StatusEntries reads the codes' not-valid entries beside the
--     certificates';
--   * grants' certificate_types is a jsonb array, as apps' is;
--   * use codes are stored by hash only (bytea), never the code itself;
--   * usage_records is append-only, as the audit tables are: the triggers of
--     00001 (audit_append_only) reject UPDATE, DELETE and TRUNCATE;
--   * no foreign keys, as in 00002: check-ins, grants and records are written
--     often and would lock the few hot rows they point at.

-- +goose Up
CREATE TABLE holders (
    ref        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject    text COLLATE "C" NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN ('person', 'enterprise')),
    created_at timestamptz NOT NULL
);

CREATE TABLE codes (
    id           text COLLATE "C" PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('offline', 'enterprise', 'venue')),
    owner        text COLLATE "C" NOT NULL,
    generation   integer NOT NULL CHECK (generation >= 0),
    text         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('valid', 'revoked')),
    status_list  text COLLATE "C" NOT NULL,
    status_index bigint NOT NULL CHECK (status_index >= 0),
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
-- Also the "latest generation" index that LatestCode walks from its end.
CREATE UNIQUE INDEX codes_generation_idx ON codes (kind, owner, generation);
CREATE UNIQUE INDEX codes_status_slot_idx ON codes (status_list, status_index);
CREATE INDEX codes_not_valid_idx ON codes (status_list, status_index) WHERE status <> 'valid';

CREATE TABLE checkins (
    id             text COLLATE "C" PRIMARY KEY,
    venue_id       text COLLATE "C" NOT NULL,
    holder_subject text COLLATE "C" NOT NULL,
    masked_name    text NOT NULL,
    source         text NOT NULL CHECK (source IN ('holder_scan', 'venue_scan', 'venue_upload')),
    code_kind      text NOT NULL,
    client_id      text COLLATE "C" NOT NULL DEFAULT '',
    at             timestamptz NOT NULL,
    created_at     timestamptz NOT NULL
);
-- A venue's own record ID makes its uploads idempotent.
CREATE UNIQUE INDEX checkins_client_id_idx ON checkins (venue_id, client_id) WHERE client_id <> '';
CREATE INDEX checkins_holder_idx ON checkins (holder_subject, id);
CREATE INDEX checkins_venue_idx ON checkins (venue_id, id);

CREATE TABLE use_codes (
    hash           bytea PRIMARY KEY,
    certificate_id text COLLATE "C" NOT NULL,
    holder_subject text COLLATE "C" NOT NULL,
    purpose        text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    used_by        text NOT NULL DEFAULT ''
);

CREATE TABLE grants (
    id                text COLLATE "C" PRIMARY KEY,
    holder_subject    text COLLATE "C" NOT NULL,
    app_id            text COLLATE "C" NOT NULL,
    certificate_types jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(certificate_types) = 'array'),
    purpose           text NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    revoked_at        timestamptz
);
CREATE INDEX grants_holder_idx ON grants (holder_subject, id);
CREATE INDEX grants_app_holder_idx ON grants (app_id, holder_subject);

CREATE TABLE usage_records (
    id             text COLLATE "C" PRIMARY KEY,
    holder_subject text COLLATE "C" NOT NULL,
    at             timestamptz NOT NULL,
    org            text NOT NULL,
    org_uscc       text NOT NULL,
    operator       text NOT NULL,
    item_code      text NOT NULL,
    item_name      text NOT NULL,
    business_code  text NOT NULL,
    purpose        text NOT NULL,
    certificate_id text NOT NULL,
    code_kind      text NOT NULL,
    channel        text NOT NULL,
    result         text NOT NULL,
    app_id         text NOT NULL,
    detail         text NOT NULL
);
CREATE INDEX usage_records_holder_idx ON usage_records (holder_subject, id);

CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE ON usage_records
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER usage_records_no_truncate BEFORE TRUNCATE ON usage_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE usage_records;
DROP TABLE grants;
DROP TABLE use_codes;
DROP TABLE checkins;
DROP TABLE codes;
DROP TABLE holders;
