-- +goose Up
-- Peer regions (区域互认): the administrator's registrations and the last good
-- copy of each peer's trust bundle and status lists, shared by every node.
CREATE TABLE regions (
    code              text PRIMARY KEY,
    name              text NOT NULL,
    anchor_pem        text NOT NULL,
    trust_url         text NOT NULL,
    created_at        timestamptz NOT NULL,
    bundle_jws        text NOT NULL DEFAULT '',
    bundle_issued_at  timestamptz,
    bundle_expires_at timestamptz,
    next_fetch_at     timestamptz NOT NULL,
    last_attempt_at   timestamptz,
    last_success_at   timestamptz,
    last_error        text NOT NULL DEFAULT '',
    failures          integer NOT NULL DEFAULT 0,
    revision          bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE region_status_lists (
    region_code text NOT NULL REFERENCES regions (code) ON DELETE CASCADE,
    id          text NOT NULL,
    sm3         text NOT NULL,
    jws         text NOT NULL,
    PRIMARY KEY (region_code, id)
);

-- +goose Down
DROP TABLE region_status_lists;
DROP TABLE regions;
