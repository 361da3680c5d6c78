package store

import (
	"context"
	"time"
)

// Copy is an annotated copy (加注件) of a certificate: made for one recipient
// and purpose, until ExpiresAt, with its signed copy code.
type Copy struct {
	ID            string
	CertificateID string
	HolderSubject string // the certificate's holder
	RecipientOrg  string
	RecipientUSCC string
	Purpose       string
	Code          string // the copy code text (kind copy)
	CreatedBy     string // principal ref: the holder, or a case system
	CaseID        string // the case it was made for; "" when the holder made it
	CreatedAt     time.Time
	ExpiresAt     time.Time
	// StatusList and StatusIndex are the copy's own status-list entry (a
	// copies list, ids "a-N"); "" for a copy made before copies had their
	// own entry (its code refers to the certificate's entry). Status is
	// that entry's status: the certificate's (valid, suspended, revoked,
	// cancelled, superseded) while the copy is unexpired and not withdrawn,
	// revoked once withdrawn.
	StatusList  string
	StatusIndex int64
	Status      string
	// WithdrawnAt is when the holder withdrew the copy; nil while not.
	WithdrawnAt *time.Time
}

// CopyQueries stores annotated copies.
type CopyQueries interface {
	// CreateCopy stores c (ErrAlreadyExists for a taken ID or status
	// entry). A copy with its own status entry is stored only while its
	// certificate is valid (else ErrConflict), with Status valid, and adds
	// its status list if the list is new.
	CreateCopy(ctx context.Context, c Copy) error
	// GetCopy returns a copy by ID, or ErrNotFound.
	GetCopy(ctx context.Context, id string) (Copy, error)
	// ListCopiesByHolder lists the holder's copies with ID > after, in ID
	// order.
	ListCopiesByHolder(ctx context.Context, subject, after string, limit int) ([]Copy, error)
	// GetCopyByStatus returns the copy whose own status entry is (list,
	// index), or ErrNotFound.
	GetCopyByStatus(ctx context.Context, list string, index int64) (Copy, error)
	// WithdrawCopy withdraws a copy at at: its entry becomes revoked, for
	// good (certificate status changes no longer touch it), and its status
	// list is bumped. ErrNotFound for an unknown copy; ErrConflict for one
	// already withdrawn or without its own status entry.
	WithdrawCopy(ctx context.Context, id string, at time.Time) error
}
