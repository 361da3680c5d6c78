-- +goose Up
-- Uses across regions (区域互认): a use here of a peer region's certificate
-- or code is kept as a receipt the peer fetches (GET /v1/regions/usage-receipts);
-- a receipt fetched from a peer becomes a usage record of the holder here,
-- with the region it happened in.
CREATE TABLE region_usage_receipts (
    id             TEXT NOT NULL PRIMARY KEY,
    region_code    TEXT NOT NULL,
    at             TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    org            TEXT NOT NULL,
    org_uscc       TEXT NOT NULL,
    org_unit       TEXT NOT NULL,
    operator       TEXT NOT NULL,
    item_code      TEXT NOT NULL,
    item_name      TEXT NOT NULL,
    business_code  TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    code_kind      TEXT NOT NULL,
    code_subject   TEXT NOT NULL,
    channel        TEXT NOT NULL,
    result         TEXT NOT NULL
) STRICT;
CREATE INDEX region_usage_receipts_region_idx ON region_usage_receipts (region_code, id);
ALTER TABLE usage_records ADD COLUMN region_code TEXT NOT NULL DEFAULT '';
ALTER TABLE regions ADD COLUMN receipts_since TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE regions DROP COLUMN receipts_since;
ALTER TABLE usage_records DROP COLUMN region_code;
DROP TABLE region_usage_receipts;
