package codes

import (
	"fmt"
	"time"
)

// Kind is what a code stands for. Its numeric value is the first byte of the
// encoded claims and never changes; values 7–255 are reserved.
type Kind uint8

// The kinds of format version 1.
const (
	// Personal is the dynamic personal code (个人随申码): short-lived, a fresh
	// one per request, never stored.
	Personal Kind = 1
	// Offline is the printable offline code (离线码) for people without a
	// phone: long-lived, generation-numbered, revocable through a status list.
	Offline Kind = 2
	// Enterprise is the static enterprise code (企业码), revocable through a
	// status list.
	Enterprise Kind = 3
	// Venue is the static venue code (场所码) posted at an entrance,
	// revocable through a status list.
	Venue Kind = 4
	// Presentation is the short-lived 亮证 code: it refers to one certificate
	// and carries a one-time use code (用证码).
	Presentation Kind = 5
	// Copy is an annotated copy (加注件) of one certificate, made for one
	// recipient and purpose: "仅供{recipient}{purpose}使用". It carries the
	// certificate's id (whose GB/T 36904 version segment binds the version)
	// and status entry, so it stops verifying when the certificate is
	// suspended, revoked or superseded, and the recipient's name and unified
	// social credit code and the purpose. Added within version 1 as value 6
	// (docs/code-format.md §11): older verifiers answer unknown_kind.
	Copy Kind = 6
)

var kindNames = [...]string{Personal: "personal", Offline: "offline", Enterprise: "enterprise", Venue: "venue", Presentation: "presentation", Copy: "copy"}

// String returns the kind's API name: "personal", "offline", "enterprise",
// "venue", "presentation" or "copy"; "kind(N)" for an undefined value.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= Personal && k <= Copy }

// ParseKind returns the kind whose String is s.
func ParseKind(s string) (Kind, error) {
	for k := Personal; k <= Copy; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("codes: unknown kind %q", s)
}

// Kinds lists the kinds of this version in numeric order.
func Kinds() []Kind { return []Kind{Personal, Offline, Enterprise, Venue, Presentation, Copy} }

const day = 24 * time.Hour

// rules are the per-kind bounds of version 1 (docs/code-format.md §5).
type rules struct {
	defaultLifetime time.Duration
	maxLifetime     time.Duration
	minSubject      int // 0: optional
	maxSubject      int
	maxName         int // bytes of UTF-8
}

var kindRules = [...]rules{
	// Personal limits keep the worst case at QR version 7-M: 52 bytes of
	// claims + 64 of signature = 116 bytes = 174 Base45 characters + "SS1:".
	Personal:     {60 * time.Second, day, 1, 16, 18},
	Offline:      {180 * day, 400 * day, 1, 32, 64},
	Enterprise:   {3650 * day, 18262 * day, 0, 32, 64},
	Venue:        {3650 * day, 18262 * day, 0, 32, 64},
	Presentation: {5 * time.Minute, day, 0, 32, 64},
	// Copy bounds keep the largest copy code at MaxTextLen (the largest
	// presentation code), so a verifier that predates the kind answers
	// unknown_kind, never oversized. 180 days: a copy never outlives the
	// code key that signed it (retired code keys verify for 181 days).
	Copy: {30 * day, 180 * day, 0, 16, 18},
}

// DefaultLifetime is the lifetime [Issue] gives a code of kind k whose
// ExpiresAt is zero: personal 60 s (SUISHEN_CODE_TTL overrides it in the
// server), offline 180 days, enterprise and venue 10 years, presentation
// 5 minutes, copy 30 days. It is 0 for an undefined kind.
func DefaultLifetime(k Kind) time.Duration {
	if !k.valid() {
		return 0
	}
	return kindRules[k].defaultLifetime
}

// MaxLifetime is the longest lifetime a code of kind k may have: personal
// and presentation 24 h, offline 400 days, enterprise and venue 50 years
// (18,262 days), copy 180 days. Parse rejects longer lifetimes as
// malformed.
func MaxLifetime(k Kind) time.Duration {
	if !k.valid() {
		return 0
	}
	return kindRules[k].maxLifetime
}
