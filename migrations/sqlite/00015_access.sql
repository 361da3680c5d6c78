-- Least-privilege data access (issue #10 parts 3–5). Mirrors
-- migrations/postgres/00015_access.sql.

-- +goose Up
ALTER TABLE apps ADD COLUMN use_fields TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(use_fields) AND json_type(use_fields) = 'object');
ALTER TABLE usage_records ADD COLUMN org_unit TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE usage_records DROP COLUMN org_unit;
ALTER TABLE apps DROP COLUMN use_fields;
