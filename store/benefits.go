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
	MatchedAt      *time.Time // the last full match
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

	// GetEntitlement returns an entitlement by ID; GetEntitlementFor by
	// policy and holder (ErrNotFound if none).
	GetEntitlement(ctx context.Context, id string) (Entitlement, error)
	GetEntitlementFor(ctx context.Context, policy, subject string) (Entitlement, error)
	// OfferEntitlement records that the holder qualifies: a new entitlement
	// is offered; an existing one gets e's evidence, name and evaluation
	// time, and is offered again unless the holder declined it (declines
	// stick). It keeps an existing entitlement's ID and creation time.
	OfferEntitlement(ctx context.Context, e Entitlement) error
	// WithdrawEntitlement withdraws the holder's offered entitlement under
	// the policy (false when there was none on offer).
	WithdrawEntitlement(ctx context.Context, policy, subject string, at time.Time) (bool, error)
	// DeclineEntitlement is the holder declining an entitlement that is not
	// already declined (ErrNotFound unless it is the holder's).
	DeclineEntitlement(ctx context.Context, id, subject string, at time.Time) error
	// ListEntitlementsByHolder and ListEntitlementsByPolicy page by ID.
	ListEntitlementsByHolder(ctx context.Context, subject, after string, limit int) ([]Entitlement, error)
	ListEntitlementsByPolicy(ctx context.Context, policy, after string, limit int) ([]Entitlement, error)
	// WithdrawStale withdraws the policy's offered entitlements last found
	// eligible before before (a full match that no longer finds them).
	WithdrawStale(ctx context.Context, policy string, before, at time.Time) (int64, error)

	// AddUsageRecords appends many usage records at once.
	AddUsageRecords(ctx context.Context, rs []UsageRecord) error

	// ValidCertificatesByType pages through a type's valid certificates in
	// (holder, id) order after (afterHolder, afterID).
	ValidCertificatesByType(ctx context.Context, typeCode, afterHolder, afterID string, limit int) ([]MatchCertificate, error)
	// ValidCertificatesOf returns the holders' valid certificates of the types.
	ValidCertificatesOf(ctx context.Context, subjects, types []string) ([]MatchCertificate, error)
}
