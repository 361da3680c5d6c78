package signing

import "errors"

// Sentinel errors. Errors returned by this package wrap at most one of them;
// compare with errors.Is.
var (
	// ErrMalformed reports input that does not parse: bad base64, DER,
	// PEM, JSON or JWS structure, wrong lengths, points not on the curve,
	// scalars out of range, or inputs over a size limit.
	ErrMalformed = errors.New("signing: malformed input")

	// ErrInvalidSignature reports a well-formed object whose signature does
	// not verify (including a signature value of the wrong size or with r
	// or s outside [1, n-1]).
	ErrInvalidSignature = errors.New("signing: invalid signature")

	// ErrUnsupportedAlgorithm reports a JWS "alg" (or a JWK "alg") other
	// than "SM2", or a key or key container of another algorithm.
	ErrUnsupportedAlgorithm = errors.New("signing: unsupported algorithm")

	// ErrUnknownKey reports a JWS whose "kid" is missing or names no key
	// the caller's lookup knows.
	ErrUnknownKey = errors.New("signing: unknown key")

	// ErrOpen reports sealed data that cannot be opened: wrong master key,
	// wrong key id, or data altered after sealing. It deliberately does not
	// say which.
	ErrOpen = errors.New("signing: cannot open sealed data")
)
