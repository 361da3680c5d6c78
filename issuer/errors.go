package issuer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/suishen/suishen/ident"
)

// Stable codes carried in FieldError.Code. The HTTP layer copies them into
// a problem's errors[].code; they never change meaning. The ident package's
// codes (length, charset, check_character, date_invalid, date_future,
// area_code, format) are passed through unchanged for holder ID numbers.
const (
	CodeRequired       = "required"        // a required value is missing or empty
	CodeType           = "type"            // a value of the wrong JSON type (or an integer with a fraction)
	CodeLength         = "length"          // too long (runes for text) or the wrong length
	CodePattern        = "pattern"         // a text value does not match the field's pattern
	CodeEnum           = "enum"            // a value outside the allowed values
	CodeUnknownField   = "unknown_field"   // a face field the type's schema does not have
	CodeCheckCharacter = "check_character" // a check character does not match (from ident)
	CodeCharset        = "charset"         // characters that are not allowed (control characters, bad UTF-8, …)
	CodeFormat         = "format"          // structure: not YYYY-MM-DD, not 6 digits, not snake_case, …
	CodeDateFuture     = "date_future"     // a date later than allowed (a birth date after today, …)
	CodeDateInvalid    = "date_invalid"    // not a real calendar date, or before 1900
	CodeAreaCode       = "area_code"       // an implausible administrative area code (GB/T 2260)
	CodeRange          = "range"           // a number or a validity period outside its range
	CodeKindMismatch   = "kind_mismatch"   // holder kind or ID type does not match the type's holder kind
	CodeTypeMismatch   = "type_mismatch"   // the request names another certificate type than the one validated against
	CodeNotAllowed     = "not_allowed"     // long_term for a type that does not allow it, …
	CodeConflict       = "conflict"        // two members that exclude each other (valid_until with long_term)
	CodeTooLarge       = "too_large"       // over a size or count limit
	CodeDuplicate      = "duplicate"       // a name or code that must be unique is repeated
	CodeInvalidPattern = "invalid_pattern" // a field spec's pattern does not compile or is too long
	CodeMismatch       = "mismatch"        // two values that must agree do not (type code vs defining authority USCC)
	CodeSyntax         = "syntax"          // an import row that is not well-formed CSV or JSON
)

// Codes carried in Error.Code.
const (
	CodeIllegalTransition = "illegal_transition" // the action is not allowed from the status
	CodeUnknownStatus     = "unknown_status"     // a status outside the six statuses
	CodeUnknownAction     = "unknown_action"     // an action outside the five actions
	CodeMalformed         = "malformed"          // a JWS payload or encoded status list that does not parse
	CodeWrongType         = "wrong_type"         // a JWS whose "typ" is not the expected one
	CodeInconsistent      = "inconsistent"       // a signed document or list that contradicts itself
	CodeInvalidArgument   = "invalid_argument"   // a caller error: bad index, value or size
)

// FieldError names one rejected value. Field is a JSON path into the request
// ("number", "holder.id_number", "valid_until", "fields.legal_representative",
// for a type "fields[3].pattern"); Code is one of the Code... constants;
// Detail is an English sentence for people. Detail never repeats the
// rejected value, so a FieldError may be logged and returned to a client.
type FieldError struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (e FieldError) String() string { return e.Field + ": " + e.Code + ": " + e.Detail }

// Error is the error of the package's non-validation functions: Transition,
// VerifyDocument, status lists. Code is one of the Code... constants for
// Error; Err, when set, is the underlying cause (a signing error, say), so
// errors.Is(err, signing.ErrInvalidSignature) works through it.
type Error struct {
	Code   string
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "issuer: " + e.Detail + ": " + e.Err.Error()
	}
	return "issuer: " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrIllegalTransition) true for every illegal
// transition, whatever its status and action.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Err == nil && t.Code == e.Code
}

// ErrIllegalTransition matches (errors.Is) every error Transition returns for
// an action that is not allowed from a status.
var ErrIllegalTransition error = &Error{Code: CodeIllegalTransition}

func newError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...), Err: err}
}

// RowError is the error ParseCSV and ParseJSONL hand to their callback for a
// row that could not be read into an IssueRequest. Line is the 1-based line
// on which the row starts; Errors names each bad column or member with the
// same paths and codes as ValidateRequest.
type RowError struct {
	Line   int
	Errors []FieldError
}

func (e *RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "issuer: line %d:", e.Line)
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteByte(' ')
		b.WriteString(fe.String())
	}
	return b.String()
}

// cst is China Standard Time, the zone of every certificate date.
var cst = time.FixedZone("CST", 8*60*60)

// DateLayout is the layout of certificate dates.
const DateLayout = "2006-01-02"

// ParseDate parses a certificate date "YYYY-MM-DD" (a real calendar date,
// year 1900 to 9999) and returns midnight China Standard Time on that day.
// The error is an *Error whose Code is CodeFormat for anything that is not
// ten characters of the form NNNN-NN-NN, or CodeDateInvalid for a date that
// does not exist (2023-02-29) or is before 1900; the same codes a FieldError
// carries.
func ParseDate(s string) (time.Time, error) {
	if len(s) != len(DateLayout) || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return time.Time{}, &Error{Code: CodeFormat, Detail: "a date must be written YYYY-MM-DD"}
	}
	t, err := time.ParseInLocation(DateLayout, s, cst)
	if err != nil || t.Year() < 1900 {
		return time.Time{}, &Error{Code: CodeDateInvalid, Detail: "not a real calendar date in 1900 or later"}
	}
	return t, nil
}

// errorCode returns the Code of an *Error or *ident.Error in err's chain,
// or fallback.
func errorCode(err error, fallback string) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var ie *ident.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	return fallback
}

// FormatDate returns t's calendar date in China Standard Time, YYYY-MM-DD.
func FormatDate(t time.Time) string { return t.In(cst).Format(DateLayout) }

// dateOf returns t's CST calendar date at midnight CST.
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(cst).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, cst)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
