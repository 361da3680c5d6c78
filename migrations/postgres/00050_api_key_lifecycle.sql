-- API keys that can be rotated with a grace period and show when they were
-- last used. Mirrors migrations/sqlite/00050_api_key_lifecycle.sql.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN last_used_at;
ALTER TABLE api_keys DROP COLUMN expires_at;
