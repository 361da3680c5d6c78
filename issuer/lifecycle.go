package issuer

import "time"

// Status is a certificate's status, as the contract names it
// (GET /v1/certificates/{id}/status).
type Status string

const (
	StatusValid      Status = "valid"      // 有效
	StatusSuspended  Status = "suspended"  // 暂扣
	StatusRevoked    Status = "revoked"    // 吊销 or 撤销 (see RevocationKind)
	StatusCancelled  Status = "cancelled"  // 注销
	StatusExpired    Status = "expired"    // 失效 by expiry; derived, never stored
	StatusSuperseded Status = "superseded" // replaced by a newer version (renewal or change)
)

// Statuses lists every status.
var Statuses = []Status{StatusValid, StatusSuspended, StatusRevoked, StatusCancelled, StatusExpired, StatusSuperseded}

// Action is a lifecycle action (POST /v1/certificates/{id}/{action}).
type Action string

const (
	ActionSuspend Action = "suspend" // 暂扣
	ActionResume  Action = "resume"  // 发还: end a suspension
	ActionRevoke  Action = "revoke"  // 吊销 / 撤销
	ActionCancel  Action = "cancel"  // 注销
	ActionRenew   Action = "renew"   // 换发 / 变更: a new version replaces this one
)

// Actions lists every action.
var Actions = []Action{ActionSuspend, ActionResume, ActionRevoke, ActionCancel, ActionRenew}

// transitions is the lifecycle table: transitions[from][action] = to. A
// missing entry is an illegal transition.
//
//	from \ action  suspend    resume  revoke   cancel     renew
//	valid          suspended  -       revoked  cancelled  superseded
//	suspended      -          valid   revoked  cancelled  -
//	expired        -          -       -        cancelled  superseded
//	revoked        -          -       -        -          -
//	cancelled      -          -       -        -          -
//	superseded     -          -       -        -          -
//
// A suspended certificate must be resumed before it is renewed (the
// suspension would otherwise be laundered by a new version). An expired one
// may still be renewed (换证 after expiry) or cancelled (注销 of an expired
// licence), but suspending or revoking it is meaningless. Revoked,
// cancelled and superseded are final.
var transitions = map[Status]map[Action]Status{
	StatusValid: {
		ActionSuspend: StatusSuspended,
		ActionRevoke:  StatusRevoked,
		ActionCancel:  StatusCancelled,
		ActionRenew:   StatusSuperseded,
	},
	StatusSuspended: {
		ActionResume: StatusValid,
		ActionRevoke: StatusRevoked,
		ActionCancel: StatusCancelled,
	},
	StatusExpired: {
		ActionCancel: StatusCancelled,
		ActionRenew:  StatusSuperseded,
	},
	StatusRevoked:    {},
	StatusCancelled:  {},
	StatusSuperseded: {},
}

// Transition returns the status a certificate in status from moves to under
// action a. from should be the effective status (EffectiveStatus), so that
// an expired certificate is treated as one. Renew yields the status of the
// old version (superseded); the new version starts valid.
//
// It fails with an *Error: CodeUnknownStatus or CodeUnknownAction for a
// value outside the sets, CodeIllegalTransition (errors.Is(err,
// ErrIllegalTransition)) for an action not allowed from the status. The
// HTTP layer should answer 409 Conflict for the latter.
func Transition(from Status, a Action) (Status, error) {
	row, ok := transitions[from]
	if !ok {
		return "", newError(CodeUnknownStatus, nil, "unknown certificate status %q", shorten(string(from)))
	}
	if !a.valid() {
		return "", newError(CodeUnknownAction, nil, "unknown lifecycle action %q", shorten(string(a)))
	}
	to, ok := row[a]
	if !ok {
		return "", newError(CodeIllegalTransition, nil, "a %s certificate cannot be %s", from, a.pastTense())
	}
	return to, nil
}

func (a Action) valid() bool {
	for _, x := range Actions {
		if a == x {
			return true
		}
	}
	return false
}

func (a Action) pastTense() string {
	switch a {
	case ActionSuspend:
		return "suspended"
	case ActionResume:
		return "resumed"
	case ActionRevoke:
		return "revoked"
	case ActionCancel:
		return "cancelled"
	case ActionRenew:
		return "renewed"
	}
	return string(a)
}

// Valid reports whether s is one of the six statuses.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// EffectiveStatus derives the status to show at now from the stored one:
// a valid or suspended certificate whose validity has ended is expired.
// validUntil is the last day of validity (nil for long-term); the
// certificate is valid through that whole calendar day in China Standard
// Time and expired from the following midnight. Revoked, cancelled and
// superseded are stronger than expiry and are returned unchanged, as is a
// stored value that is not a status.
func EffectiveStatus(stored Status, validUntil *time.Time, now time.Time) Status {
	if (stored == StatusValid || stored == StatusSuspended) && Expired(validUntil, now) {
		return StatusExpired
	}
	return stored
}

// Expired reports whether a certificate valid until validUntil (nil:
// long-term) has expired at now: now is on or after the midnight (China
// Standard Time) that ends validUntil's calendar day.
func Expired(validUntil *time.Time, now time.Time) bool {
	if validUntil == nil {
		return false
	}
	return !now.Before(dateOf(*validUntil).AddDate(0, 0, 1))
}

// RevocationKind distinguishes the two national codes a revoked certificate
// may carry. The contract's revoke action covers both; the caller stores the
// kind with the revocation reason.
type RevocationKind string

const (
	// RevocationPenalty is 吊销: withdrawn as an administrative penalty
	// (national code 07). The default.
	RevocationPenalty RevocationKind = "penalty"
	// RevocationAnnulment is 撤销: the issuance itself is annulled, e.g.
	// granted on false material or beyond authority (national code 03).
	RevocationAnnulment RevocationKind = "annulment"
)

// National status codes used by the national sector system (证照状态代码).
const (
	NationalValid     = "01" // 有效
	NationalSuspended = "02" // 暂扣
	NationalAnnulled  = "03" // 撤销
	NationalCancelled = "04" // 注销
	NationalInvalid   = "05" // 失效
	NationalRevoked   = "07" // 吊销
	NationalOther     = "99" // 其他
)

// NationalCodeNames names the national status codes.
var NationalCodeNames = map[string]string{
	NationalValid: "有效", NationalSuspended: "暂扣", NationalAnnulled: "撤销", NationalCancelled: "注销",
	NationalInvalid: "失效", NationalRevoked: "吊销", NationalOther: "其他",
}

// NationalCode maps a status to the national status code:
//
//	valid 01 有效 · suspended 02 暂扣 · revoked 07 吊销 · cancelled 04 注销 ·
//	expired 05 失效 · superseded 05 失效 · anything else 99 其他
//
// A superseded version has lost its effect without being withdrawn: 05, the
// successor linking back through its predecessor. A revocation that annuls
// the issuance (撤销) is 03: use NationalCodeFor with RevocationAnnulment.
func NationalCode(s Status) string { return NationalCodeFor(s, RevocationPenalty) }

// NationalCodeFor is NationalCode with the kind of a revocation: for
// StatusRevoked it returns 03 (撤销) for RevocationAnnulment and 07 (吊销)
// otherwise; the kind is ignored for every other status.
func NationalCodeFor(s Status, k RevocationKind) string {
	switch s {
	case StatusValid:
		return NationalValid
	case StatusSuspended:
		return NationalSuspended
	case StatusRevoked:
		if k == RevocationAnnulment {
			return NationalAnnulled
		}
		return NationalRevoked
	case StatusCancelled:
		return NationalCancelled
	case StatusExpired, StatusSuperseded:
		return NationalInvalid
	}
	return NationalOther
}

// Status list entry values (2 bits per certificate).
const (
	EntryGood       uint8 = 0 // in good standing (valid, or expired: expiry is in the signed document)
	EntrySuspended  uint8 = 1
	EntryRevoked    uint8 = 2 // revoked or cancelled
	EntrySuperseded uint8 = 3
)

// StatusEntry returns the status list value of a stored or effective status.
// Expiry is not in the list (verifiers read valid_until from the document),
// so valid and expired are both EntryGood.
func StatusEntry(s Status) uint8 {
	switch s {
	case StatusSuspended:
		return EntrySuspended
	case StatusRevoked, StatusCancelled:
		return EntryRevoked
	case StatusSuperseded:
		return EntrySuperseded
	}
	return EntryGood
}
