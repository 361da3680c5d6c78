package store

import "context"

// AccessQueries are the queries of least-privilege data access.
type AccessQueries interface {
	// UpdateSeededCertificateType replaces the spec of a seeded catalogue
	// entry (the product's own, when a new release changes it, e.g. marks
	// fields sensitive); an administrator's entry is never touched.
	// ErrNotFound when code is not a seeded entry.
	UpdateSeededCertificateType(ctx context.Context, code string, spec []byte) error
	// GetUseCode returns a use code without spending it (ErrNotFound if
	// unknown), so that the caller's right to its type can be checked first.
	GetUseCode(ctx context.Context, hash []byte) (UseCode, error)
}
