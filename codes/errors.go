package codes

import "errors"

// Stable machine reasons carried by [Error]. They are part of the product
// contract (verification results list them) and never change meaning.
const (
	ReasonMalformed          = "malformed"           // not a well-formed code of a known version
	ReasonUnsupportedVersion = "unsupported_version" // a well-formed prefix of a version this build does not read
	ReasonUnknownKind        = "unknown_kind"        // a kind byte this version does not define
	ReasonBadSignature       = "bad_signature"       // no candidate key verifies the signature
	ReasonUnknownKey         = "unknown_key"         // no key is known for the code's key hint
	ReasonExpired            = "expired"             // now is past the expiry (plus tolerance)
	ReasonNotYetValid        = "not_yet_valid"       // now is before issued-at (minus tolerance)
	ReasonOversized          = "oversized"           // text longer than any valid code
	ReasonWrongKind          = "wrong_kind"          // a valid code of a kind the caller does not accept
)

// Error is the error type of [Parse], [Code.Verify], [Code.CheckTime] and
// [Code.Expect]. Reason is one of the Reason constants; Detail is a short
// English explanation for logs (it never contains the code text or personal
// data).
type Error struct {
	Reason string
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "codes: " + e.Reason
	}
	return "codes: " + e.Reason + ": " + e.Detail
}

// Is makes errors.Is(err, ErrExpired) (and the other sentinels) match any
// *Error with the same Reason, whatever its Detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Detail == "" || t.Detail == e.Detail)
}

// Sentinels for errors.Is, one per reason.
var (
	ErrMalformed          = &Error{Reason: ReasonMalformed}
	ErrUnsupportedVersion = &Error{Reason: ReasonUnsupportedVersion}
	ErrUnknownKind        = &Error{Reason: ReasonUnknownKind}
	ErrBadSignature       = &Error{Reason: ReasonBadSignature}
	ErrUnknownKey         = &Error{Reason: ReasonUnknownKey}
	ErrExpired            = &Error{Reason: ReasonExpired}
	ErrNotYetValid        = &Error{Reason: ReasonNotYetValid}
	ErrOversized          = &Error{Reason: ReasonOversized}
	ErrWrongKind          = &Error{Reason: ReasonWrongKind}
)

// ErrInvalidClaims is wrapped by [Issue] when the claims break a rule of the
// format (a field too long, a field the kind does not carry, a time out of
// range). It is a caller error, not a verification result.
var ErrInvalidClaims = errors.New("codes: invalid claims")

// Reason returns the stable machine reason of err if it is (or wraps) an
// [*Error], and "" otherwise.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func errorf(reason, detail string) *Error { return &Error{Reason: reason, Detail: detail} }
