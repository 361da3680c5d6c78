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
}

// CopyQueries stores annotated copies.
type CopyQueries interface {
	// CreateCopy stores c (ErrAlreadyExists for a taken ID).
	CreateCopy(ctx context.Context, c Copy) error
	// GetCopy returns a copy by ID, or ErrNotFound.
	GetCopy(ctx context.Context, id string) (Copy, error)
	// ListCopiesByHolder lists the holder's copies with ID > after, in ID
	// order.
	ListCopiesByHolder(ctx context.Context, subject, after string, limit int) ([]Copy, error)
}
