-- 免申即享: the rest of a policy's lifecycle. Mirrors
-- migrations/sqlite/00073_policy_lifecycle.sql.
--
--   * policies.status gains 'rejected': the administrator refused a pending
--     policy (with a reason, shown to the public); it never matches and its
--     department cannot run it.
--   * status_reason / status_changed_at: why the policy is in its status —
--     the rejection's reason, or why it waits for approval (at creation, or
--     again after its department lost a certificate type it reads).
--   * match_attempts / match_next_retry_at: a failed full match is retried by
--     the background worker with a bounded exponential backoff; attempts
--     counts the failed runs since the match was last requested, and
--     next_retry_at is null once it gave up (or when nothing is scheduled).

-- +goose Up
ALTER TABLE policies DROP CONSTRAINT policies_status_check;
ALTER TABLE policies ADD CONSTRAINT policies_status_check
    CHECK (status IN ('unchecked', 'pending_approval', 'approved', 'rejected'));
ALTER TABLE policies ADD COLUMN status_reason text NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN status_changed_at timestamptz;
ALTER TABLE policies ADD COLUMN match_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE policies ADD COLUMN match_next_retry_at timestamptz;

-- +goose Down
ALTER TABLE policies DROP COLUMN match_next_retry_at, DROP COLUMN match_attempts,
    DROP COLUMN status_changed_at, DROP COLUMN status_reason;
UPDATE policies SET status = 'pending_approval' WHERE status = 'rejected';
ALTER TABLE policies DROP CONSTRAINT policies_status_check;
ALTER TABLE policies ADD CONSTRAINT policies_status_check
    CHECK (status IN ('unchecked', 'pending_approval', 'approved'));
