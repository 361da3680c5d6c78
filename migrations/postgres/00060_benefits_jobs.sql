-- 免申即享 under abuse and at scale. Mirrors migrations/sqlite/00060_benefits_jobs.sql.
--
--   * policies.status: a policy whose criteria read a sensitive field, or a
--     type its department does not issue, waits for the administrator
--     (pending_approval) and is never matched before; 'unchecked' marks the
--     policies of an earlier release, which the service classifies by the
--     same rule when it starts.
--   * policies.match_*: the full match is a durable job on its policy row —
--     queued, running (by one node, under a lease renewed with every page),
--     done or failed — with the keyset cursor and counts of the pages already
--     committed, so a match interrupted by a restart resumes where it stopped.
--   * benefit_events: the outbox of certificate changes. The transaction that
--     issues, renews or changes the status of a certificate adds its holder and
--     type here; matching evaluates the holder after commit and deletes the row
--     in the transaction that stores the result, so nothing is lost on a crash.

-- +goose Up
ALTER TABLE policies ADD COLUMN status text NOT NULL DEFAULT 'unchecked'
    CHECK (status IN ('unchecked', 'pending_approval', 'approved'));
ALTER TABLE policies ADD COLUMN approved_at timestamptz;
ALTER TABLE policies ADD COLUMN match_status text NOT NULL DEFAULT 'none'
    CHECK (match_status IN ('none', 'queued', 'running', 'done', 'failed'));
ALTER TABLE policies ADD COLUMN match_requested_at timestamptz;
ALTER TABLE policies ADD COLUMN match_started_at timestamptz;
ALTER TABLE policies ADD COLUMN match_finished_at timestamptz;
ALTER TABLE policies ADD COLUMN match_run_at timestamptz;
ALTER TABLE policies ADD COLUMN match_cursor text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN match_read bigint NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_eligible bigint NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_withdrawn bigint NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_owner text NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN match_lease_until timestamptz;
ALTER TABLE policies ADD COLUMN match_error text NOT NULL DEFAULT '';

CREATE TABLE benefit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    holder_subject text COLLATE "C" NOT NULL,
    type_code      text COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    attempts       integer NOT NULL DEFAULT 0,
    not_before     timestamptz NOT NULL
);
CREATE INDEX benefit_events_due_idx ON benefit_events (not_before, id);

-- +goose Down
DROP TABLE benefit_events;
ALTER TABLE policies DROP COLUMN match_error, DROP COLUMN match_lease_until, DROP COLUMN match_owner,
    DROP COLUMN match_withdrawn, DROP COLUMN match_eligible, DROP COLUMN match_read, DROP COLUMN match_cursor,
    DROP COLUMN match_run_at, DROP COLUMN match_finished_at, DROP COLUMN match_started_at,
    DROP COLUMN match_requested_at, DROP COLUMN match_status, DROP COLUMN approved_at, DROP COLUMN status;
