// Package principal mints and checks the bearer credentials of Suishen's
// principals (调用方): API keys for departments, apps and venues, holder
// session tokens, the admin token, and the pseudonymous holder subject.
//
// Secrets are 256-bit random values; only their SM3 digests are stored, and
// comparisons are constant-time. A token's kind is visible in its prefix so an
// operator can tell a leaked key's owner kind at a glance, but nothing else.
package principal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind store.PrincipalKind
	ID   string // department/app/venue ID; holder subject; "admin"
	// Name is a display name (departments, apps, venues) or a masked holder name.
	Name string
	// USCC of a department, app or venue owner.
	USCC string
	// Scopes of an app.
	Scopes []string
	// CertificateTypes a department may issue, or an app's 用证清单.
	CertificateTypes []string
	// UseFields narrows an app's 用证清单 to named fields per type (see
	// store.App.UseFields).
	UseFields map[string][]string
	// ServiceItems an app may open cases for (scope cases).
	ServiceItems []string
	// HolderKind is person or enterprise, for holders.
	HolderKind string
}

// HasScope reports whether an app principal carries scope s.
func (p Principal) HasScope(s string) bool {
	for _, x := range p.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// Ref is "<kind>:<id>", the principal's key in idempotency records and audit.
func (p Principal) Ref() string { return string(p.Kind) + ":" + p.ID }

// Admin is the configured administrator.
var Admin = Principal{Kind: store.KindAdmin, ID: "admin", Name: "admin"}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("principal: system randomness failed: " + err.Error())
	}
	return b
}

// Hash is the stored digest of a secret.
func Hash(secret string) []byte {
	h := sm3.Sum([]byte(secret))
	return h[:]
}

// Prefixes of API keys by principal kind.
var keyPrefix = map[store.PrincipalKind]string{
	store.KindDepartment: "ssk_dep_",
	store.KindApp:        "ssk_app_",
	store.KindVenue:      "ssk_ven_",
}

// NewAPIKey mints an API key for kind: the token to show once, the key ID to
// store and look up by, and the digest of its secret.
func NewAPIKey(kind store.PrincipalKind) (token, keyID string, secretHash []byte) {
	p, ok := keyPrefix[kind]
	if !ok {
		panic("principal: no API keys for kind " + string(kind))
	}
	keyID = b32.EncodeToString(random(10)) // 16 characters
	secret := base64.RawURLEncoding.EncodeToString(random(32))
	return p + keyID + "." + secret, keyID, Hash(secret)
}

// ErrMalformed: the token is not of any form Suishen issues.
var ErrMalformed = errors.New("principal: malformed token")

// ParseAPIKey splits an API key into its kind, key ID and secret.
func ParseAPIKey(token string) (kind store.PrincipalKind, keyID, secret string, err error) {
	for k, p := range keyPrefix {
		if strings.HasPrefix(token, p) {
			rest := token[len(p):]
			id, sec, ok := strings.Cut(rest, ".")
			if !ok || len(id) != 16 || len(sec) != 43 {
				return "", "", "", ErrMalformed
			}
			return k, id, sec, nil
		}
	}
	return "", "", "", ErrMalformed
}

// CheckSecret compares a presented secret with a stored digest in constant time.
func CheckSecret(secret string, stored []byte) bool {
	return subtle.ConstantTimeCompare(Hash(secret), stored) == 1
}

// SessionPrefix starts every holder session token.
const SessionPrefix = "sst_"

// NewSessionToken mints a holder session token and the digest to store.
func NewSessionToken() (token string, hash []byte) {
	token = SessionPrefix + base64.RawURLEncoding.EncodeToString(random(32))
	return token, Hash(token)
}

// IsSessionToken reports whether token has the session form.
func IsSessionToken(token string) bool {
	return strings.HasPrefix(token, SessionPrefix) && len(token) == len(SessionPrefix)+43
}

// AdminMatcher checks the admin token without keeping it in the clear.
type AdminMatcher struct{ digest []byte }

// NewAdminMatcher remembers the digest of the configured admin token.
func NewAdminMatcher(token string) AdminMatcher { return AdminMatcher{Hash(token)} }

// Match reports, in constant time, whether token is the admin token.
func (m AdminMatcher) Match(token string) bool {
	return len(m.digest) > 0 && subtle.ConstantTimeCompare(Hash(token), m.digest) == 1
}

// NewAdminToken generates an admin token for embedded mode.
func NewAdminToken() string {
	return "sad_" + base64.RawURLEncoding.EncodeToString(random(32))
}

// Subjects derives pseudonymous holder subjects: a keyed SM3-HMAC of the
// holder kind and identifier number, so the same holder always gets the same
// subject on every node, while the subject reveals nothing of the number and
// cannot be recomputed without the key.
type Subjects struct{ key []byte }

// NewSubjects derives the subject key from the master key.
func NewSubjects(masterKey []byte) Subjects {
	return Subjects{signing.DeriveKey(masterKey, "suishen/holder-subject/v1")}
}

// Of returns the subject of a holder: 26 lower-case base32 characters.
func (s Subjects) Of(holderKind, idNumber string) string {
	m := hmac.New(sm3.New, s.key)
	m.Write([]byte(holderKind))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToUpper(idNumber)))
	return b32.EncodeToString(m.Sum(nil)[:16])
}
