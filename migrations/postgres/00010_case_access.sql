-- Least-privilege cases: the service items (事项) a case system may open
-- cases for, and the officer's decision on each case (for pre-check
-- accuracy). Mirrors migrations/sqlite/00010_case_access.sql.
--
--   * apps.service_items: the 事项 codes an app with scope `cases` may open
--     cases for; existing apps get none (they must be given items before
--     they open another case).
--   * cases.decision: '' until the officer decides, then approved | rejected,
--     set once with decided_at; precheck_matched says whether the pre-check verdict (every
--     pre-check passed) agreed with it.

-- +goose Up
ALTER TABLE apps ADD COLUMN service_items jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(service_items) = 'array');

ALTER TABLE cases ADD COLUMN decision text NOT NULL DEFAULT ''
    CHECK (decision IN ('', 'approved', 'rejected'));
ALTER TABLE cases ADD COLUMN decision_notes text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN decided_by text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN decided_at timestamptz;
ALTER TABLE cases ADD COLUMN precheck_matched boolean NOT NULL DEFAULT false;
ALTER TABLE cases ADD CONSTRAINT cases_decision_complete
    CHECK ((decision = '') = (decided_at IS NULL) AND (decision <> '' OR NOT precheck_matched));
CREATE INDEX cases_caller_idx ON cases (caller, item_code);

-- +goose Down
DROP INDEX cases_caller_idx;
ALTER TABLE cases DROP CONSTRAINT cases_decision_complete;
ALTER TABLE cases DROP COLUMN precheck_matched;
ALTER TABLE cases DROP COLUMN decided_at;
ALTER TABLE cases DROP COLUMN decided_by;
ALTER TABLE cases DROP COLUMN decision_notes;
ALTER TABLE cases DROP COLUMN decision;
ALTER TABLE apps DROP COLUMN service_items;
