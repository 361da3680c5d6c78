-- +goose Up
-- Check-ins across regions (区域互认): at a peer region's venue, or of a peer
-- region's holder scanned here.
ALTER TABLE checkins ADD COLUMN region_code TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN venue_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE checkins DROP COLUMN venue_name;
ALTER TABLE checkins DROP COLUMN region_code;
