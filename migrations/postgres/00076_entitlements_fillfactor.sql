-- Entitlements are rewritten by every evaluation of their holder (a full
-- match renews every offer; a withdrawal or a decline changes the status),
-- and none of those writes touches an indexed column. With room on each
-- heap page for a second version of every row, the new version stays on
-- its page (a HOT update) and none of the three indexes gets an entry; with
-- full pages (the default, 100) every renewal moved the row and wrote all
-- three indexes. Measured on 200,000 rows renewed by one upsert, as a full
-- match does (docs/performance.md): 5.1–6.4 s at 100 (no HOT update),
-- 1.4–1.5 s at 50 (every update HOT); 70 made only 48 % HOT. The cost is
-- twice the table's pages. Pages written from now on keep half free;
-- existing ones follow as they are rewritten. SQLite has no fillfactor (its
-- 00076 only keeps the numbers in step).

-- +goose Up
ALTER TABLE entitlements SET (fillfactor = 50);

-- +goose Down
ALTER TABLE entitlements RESET (fillfactor);
