package store

import (
	"context"
	"time"
)

// PolicyRecord is a stored 免申即享 policy; Spec is its definition as JSON
// (benefits.Policy), Types the certificate types it reads.
type PolicyRecord struct {
	Code           string
	DepartmentUSCC string
	Spec           []byte
	Types          []string
	CreatedAt      time.Time
	MatchedAt      *time.Time // the evaluation time of the last completed full match
	// Status is PolicyApproved, PolicyPendingApproval or PolicyUnchecked
	// (created by an earlier release, not yet classified).
	Status     string
	ApprovedAt *time.Time
	// StatusReason says why the policy is in its status: the
	// administrator's reason for a rejection, or why it waits for approval
	// (at creation, or again after its department lost a type it reads).
	StatusReason    string
	StatusChangedAt *time.Time
	Match           MatchJob
}

// Policy statuses.
const (
	PolicyUnchecked       = "unchecked"
	PolicyPendingApproval = "pending_approval"
	PolicyApproved        = "approved"
	PolicyRejected        = "rejected"
)

// Match job statuses.
const (
	MatchNone    = "none"
	MatchQueued  = "queued"
	MatchRunning = "running"
	MatchDone    = "done"
	MatchFailed  = "failed"
)

// MatchJob is the state of a policy's full match, a durable job on the
// policy's row: requested (queued), claimed by one node under a lease
// (running), then done or failed. Cursor and the counts are those of the
// pages already committed, so that another node, or this one after a
// restart, resumes a running match whose lease ran out.
type MatchJob struct {
	Status      string
	RequestedAt *time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	RunAt       *time.Time // the evaluation time of the run (kept on resume)
	Cursor      string     // the last holder whose page committed
	Read        int64
	Eligible    int64
	Withdrawn   int64
	Owner       string // the node running it
	LeaseUntil  *time.Time
	Error       string
	// Attempts counts the failed runs since the match was last requested;
	// NextRetryAt is when the background worker runs a failed match again
	// (nil once it gave up, or when no retry is scheduled).
	Attempts    int
	NextRetryAt *time.Time
}

// MatchPage is what one committed page of a full match adds to its job.
type MatchPage struct {
	Cursor                    string
	Read, Eligible, Withdrawn int64
	LeaseUntil                time.Time
}

// BenefitEvent is a row of the outbox of certificate changes: the holder
// and type of a certificate that was issued, renewed or changed status.
type BenefitEvent struct {
	ID            int64
	HolderSubject string
	TypeCode      string
	CreatedAt     time.Time
	// NotBefore is when the event falls due: zero means at once (CreatedAt);
	// matching schedules a holder's re-evaluation for the day a decision
	// may change by time alone (benefits.Compiled.NextChange).
	NotBefore time.Time
	Attempts  int
}

// Entitlement statuses.
const (
	EntitlementOffered   = "offered"
	EntitlementDeclined  = "declined"
	EntitlementWithdrawn = "withdrawn"
)

// Entitlement is one holder's entitlement under one policy.
type Entitlement struct {
	ID            string
	PolicyCode    string
	HolderSubject string
	MaskedName    string
	Status        string
	Evidence      []byte // JSON list of {certificate_id, type_code}
	CreatedAt     time.Time
	UpdatedAt     time.Time
	EvaluatedAt   time.Time // the last evaluation that found the holder eligible
}

// MatchCertificate is what matching reads of a certificate: who holds it,
// its type, validity and signed document (the face fields are in its payload).
type MatchCertificate struct {
	ID            string
	TypeCode      string
	HolderSubject string
	ValidFrom     time.Time
	ValidUntil    *time.Time
	JWS           string
}

// BenefitQueries stores policies and entitlements.
type BenefitQueries interface {
	// CreatePolicy stores a policy (ErrAlreadyExists for a taken code).
	CreatePolicy(ctx context.Context, p PolicyRecord) error
	GetPolicy(ctx context.Context, code string) (PolicyRecord, error)
	// ListPolicies lists policies with code > after, in code order.
	ListPolicies(ctx context.Context, after string, limit int) ([]PolicyRecord, error)
	SetPolicyMatched(ctx context.Context, code string, at time.Time) error
	// SetPolicyStatus sets a policy's approval status (approvedAt with
	// PolicyApproved); ErrNotFound for an unknown code.
	SetPolicyStatus(ctx context.Context, code, status string, approvedAt *time.Time) error
	// ChangePolicyStatus moves a policy whose status is one of from to
	// status, with its reason, at at (approved_at is set when status is
	// PolicyApproved). Leaving approval also ends the policy's match job: a
	// queued one returns to none, a running one is marked failed (its node
	// loses it at its next page), and a failed one is not retried. It
	// reports whether the policy was in one of from (false changes nothing).
	ChangePolicyStatus(ctx context.Context, code string, from []string, status, reason string, at time.Time) (bool, error)

	// RequestMatch queues a full match of an approved policy unless one is
	// queued or running already (resetting a failed one's attempts); it
	// reports whether it queued one.
	RequestMatch(ctx context.Context, code string, at time.Time) (bool, error)
	// ClaimMatch takes the oldest queued match of an approved policy (of
	// the policy code, unless code is empty), a failed one whose retry is
	// due at runAt (the domain clock), or a
	// running one whose lease ended before now, for owner until leaseUntil:
	// a queued or retried one starts afresh at runAt, a running one keeps
	// its run time, cursor and counts. ErrNotFound when there is none.
	ClaimMatch(ctx context.Context, owner, code string, now, leaseUntil, runAt time.Time) (PolicyRecord, error)
	// MatchPageDone records a committed page (in the page's transaction) and
	// renews the lease; ErrConflict when owner no longer runs the match.
	MatchPageDone(ctx context.Context, code, owner string, p MatchPage) error
	// FinishMatch ends owner's match: done (setting matched_at to the run
	// time and adding withdrawn) or failed with errText. ErrConflict when
	// owner no longer runs it.
	FinishMatch(ctx context.Context, code, owner string, at time.Time, withdrawn int64, errText string) error
	// FailMatch ends owner's match as failed with errText, counting one
	// more attempt; the worker retries it at nextRetry (nil: never).
	// ErrConflict when owner no longer runs it.
	FailMatch(ctx context.Context, code, owner string, at time.Time, errText string, nextRetry *time.Time) error
	// ReleaseMatch ends owner's lease at once so that any node resumes the
	// match (a node shutting down).
	ReleaseMatch(ctx context.Context, code, owner string) error

	// GetEntitlement returns an entitlement by ID; GetEntitlementFor by
	// policy and holder (ErrNotFound if none).
	GetEntitlement(ctx context.Context, id string) (Entitlement, error)
	GetEntitlementFor(ctx context.Context, policy, subject string) (Entitlement, error)
	// OfferEntitlement records that the holder qualifies: a new entitlement
	// is offered; an existing one gets e's evidence, name and evaluation
	// time, and is offered again unless the holder declined it (declines
	// stick). It keeps an existing entitlement's ID and creation time.
	OfferEntitlement(ctx context.Context, e Entitlement) error
	// OfferEntitlements is OfferEntitlement for many holders of one
	// policy in one statement, skipping any entitlement whose last
	// evaluation is newer than e's (a newer evaluation read newer data).
	OfferEntitlements(ctx context.Context, es []Entitlement) error
	// WithdrawEntitlement withdraws the holder's offered entitlement under
	// the policy (false when there was none on offer).
	WithdrawEntitlement(ctx context.Context, policy, subject string, at time.Time) (bool, error)
	// WithdrawEntitlements withdraws the holders' offered entitlements
	// under the policy unless evaluated after at, recording at as their
	// evaluation time; it returns how many it withdrew.
	WithdrawEntitlements(ctx context.Context, policy string, subjects []string, at time.Time) (int64, error)
	// DeclineEntitlement is the holder declining an entitlement that is not
	// already declined (ErrNotFound unless it is the holder's).
	DeclineEntitlement(ctx context.Context, id, subject string, at time.Time) error
	// ListEntitlementsByHolder and ListEntitlementsByPolicy page by ID.
	ListEntitlementsByHolder(ctx context.Context, subject, after string, limit int) ([]Entitlement, error)
	ListEntitlementsByPolicy(ctx context.Context, policy, after string, limit int) ([]Entitlement, error)
	// WithdrawStale withdraws the policy's offered entitlements last found
	// eligible before before (a full match that no longer finds them).
	WithdrawStale(ctx context.Context, policy string, before, at time.Time) (int64, error)

	// AddBenefitEvents adds certificate changes to the outbox (in the
	// transaction that made them).
	AddBenefitEvents(ctx context.Context, es []BenefitEvent) error
	// ClaimBenefitEvents returns up to limit events due at now, oldest
	// first; inside a transaction on PostgreSQL they stay locked until it
	// ends and other transactions skip them.
	ClaimBenefitEvents(ctx context.Context, now time.Time, limit int) ([]BenefitEvent, error)
	// DeleteBenefitEvents deletes handled events.
	DeleteBenefitEvents(ctx context.Context, ids []int64) error
	// DeferBenefitEvents counts a failed attempt and makes the events due
	// again at notBefore.
	DeferBenefitEvents(ctx context.Context, ids []int64, notBefore time.Time) error
	// PendingBenefitWork counts outbox events due at now (or failed once
	// and waiting for a retry; re-evaluations scheduled for a later day are
	// not pending work), the queued or running matches of approved
	// policies, and the failed ones due for a retry at now.
	PendingBenefitWork(ctx context.Context, now time.Time) (events, matches int64, err error)

	// AddUsageRecords appends many usage records at once.
	AddUsageRecords(ctx context.Context, rs []UsageRecord) error

	// ValidCertificatesByType pages through a type's valid certificates in
	// (holder, id) order after (afterHolder, afterID).
	// The documents (JWS) are read into arena when it is not nil: they
	// stay valid until the caller resets it.
	ValidCertificatesByType(ctx context.Context, typeCode, afterHolder, afterID string, limit int, arena *Arena) ([]MatchCertificate, error)
	// ValidCertificatesOf returns the holders' valid certificates of the types.
	ValidCertificatesOf(ctx context.Context, subjects, types []string) ([]MatchCertificate, error)
}
