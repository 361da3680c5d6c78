-- +goose Up
-- PostgreSQL's 00076 sets the entitlements' fillfactor; SQLite has no such
-- setting, and keeps the migration numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
