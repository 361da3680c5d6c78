-- Least-privilege data access (issue #10 parts 3–5).
--   * apps.use_fields: a field-level 用证清单 — type code → the exact face
--     fields the app may receive of that type; a type listed in
--     certificate_types without an entry here gives its non-sensitive fields;
--   * usage_records.org_unit: the caller's own words for its sub-unit (a
--     window, a branch). org and org_uscc come from the caller's registration.

-- +goose Up
ALTER TABLE apps ADD COLUMN use_fields jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(use_fields) = 'object');
ALTER TABLE usage_records ADD COLUMN org_unit text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE usage_records DROP COLUMN org_unit;
ALTER TABLE apps DROP COLUMN use_fields;
