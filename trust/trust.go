// Package trust defines the trust bundle (信任包): the signed document that
// offline verifiers — venue scanners, third-party apps — download from
// GET /v1/trust and pin to the trust anchor's public key.
//
// A bundle is a compact JWS with alg "SM2" (see package signing), header
// typ "suishen-trust+json", signed by the trust anchor. Its payload is a
// Bundle: every public key a verifier may need with its role, status and
// validity, references to the status lists (fetched separately, pinned by
// their SM3 digest, so that the bundle stays small at any population), and
// three times — issued_at, next_update
// (fetch again after this) and expires_at (after this the bundle must not be
// relied upon: verifiers answer "unknown", never a stale "valid").
//
// When the anchor itself is rotated, the bundle is signed by the new anchor
// and carries endorsements: small JWSs by each retired anchor that is still
// within its overlap, stating the new anchor's key. A verifier pinned to an
// older anchor accepts the bundle through that chain and should then re-pin.
//
// This package imports only package signing: it builds without the server,
// the database or the network.
package trust

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/suishen/suishen/signing"
)

// Typ is the JWS "typ" of a trust bundle; EndorsementTyp of an endorsement.
const (
	Typ            = "suishen-trust+json"
	EndorsementTyp = "suishen-anchor-endorsement+json"
)

// Key roles and statuses as published.
const (
	RoleAnchor     = "anchor"
	RoleCode       = "code"
	RoleDepartment = "department"

	StatusActive      = "active"
	StatusRetired     = "retired"
	StatusCompromised = "compromised"
)

// Key is one published public key: the JWK members plus metadata (the
// product contract's /.well-known/jwks.json entry).
type Key struct {
	signing.JWK
	Role             string   `json:"key_role" doc:"What the key signs: the trust bundle (anchor), codes (code), certificates (department)." enum:"anchor,code,department" example:"department"`
	DepartmentUSCC   string   `json:"department_uscc,omitempty" doc:"The department, for a department key." example:"11100000000013338W"`
	CertificateTypes []string `json:"certificate_types,omitempty" doc:"The certificate types a department key may sign." example:"[\"11100000000021001C001\"]"`
	// TypePeriods says since when (and until when) the department was
	// authorised for each certificate type, CertificateTypes being those
	// authorised now. A verifier judges a certificate by the periods at its
	// issued_at, so changing a department's types never changes the verdict
	// on certificates issued while a type was authorised.
	TypePeriods []TypePeriod `json:"certificate_type_periods,omitempty" doc:"For a department key: since when (and until when) it was authorised for each certificate type; a certificate is judged by the periods at its issued_at."`
	NotBefore   time.Time    `json:"not_before" doc:"From when it is valid." example:"2026-12-01T08:00:00Z"`
	NotAfter    *time.Time   `json:"not_after" doc:"Until when what it signed may verify; null while active."`
	Status      string       `json:"key_status" doc:"active; retired (verifies what it signed before); compromised (verifies nothing)." enum:"active,retired,compromised" example:"active"`
}

// TypePeriod is one period of a department's authorisation for a
// certificate type: from From until Until (absent: still authorised).
type TypePeriod struct {
	TypeCode string     `json:"type_code" doc:"The certificate type code." example:"11100000000021001C001"`
	From     time.Time  `json:"from" doc:"Authorised from." example:"2026-12-01T08:00:00Z"`
	Until    *time.Time `json:"until,omitempty" doc:"Authorised until; absent while still authorised."`
}

// AuthorisedAt reports whether k (a department key) was trusted for
// certificates of typeCode issued at issuedAt (whole seconds, as
// certificates carry it). A key without periods (a bundle of an older
// server) is judged by CertificateTypes alone.
func (k Key) AuthorisedAt(typeCode string, issuedAt time.Time) bool {
	if len(k.TypePeriods) == 0 {
		for _, t := range k.CertificateTypes {
			if t == typeCode {
				return true
			}
		}
		return false
	}
	for _, p := range k.TypePeriods {
		if p.TypeCode != typeCode || issuedAt.Before(p.From.Truncate(time.Second)) {
			continue
		}
		// issued_at is truncated to the second: a certificate issued in
		// the second the period ended was issued within it.
		if p.Until == nil || issuedAt.Before(p.Until.Truncate(time.Second).Add(time.Second)) {
			return true
		}
	}
	return false
}

// JWKS is the document at /.well-known/jwks.json.
type JWKS struct {
	Keys []Key `json:"keys" doc:"Every public key a verifier may need."`
}

// Status list kinds: the partitions a verifier fetches from. A list holds
// entries of one kind only, so a verifier that checks only some kinds never
// fetches the others' lists (personal codes carry no status: a verifier of
// personal codes needs no list at all).
const (
	ListCertificates    = "certificates"     // electronic certificates (电子证照)
	ListOfflineCodes    = "offline-codes"    // printed offline 随申码
	ListEnterpriseCodes = "enterprise-codes" // enterprise codes
	ListVenueCodes      = "venue-codes"      // venue (场所) codes
	ListCopies          = "copies"           // annotated copies (加注件) made with their own entry
)

// StatusListRef references a status list from the bundle: the bundle
// carries no list, only what pins it. A verifier fetches the list (a
// compact JWS signed by the anchor) from URL when it first needs it, and
// uses it only if the SM3 digest of the fetched text is SM3: a list that
// is missing, cannot be fetched or does not match is "unknown", never
// "valid". Version grows by one each time the list is re-signed (a status
// change, a refresh before it expires, an anchor change); a verifier that
// holds the list with the same SM3 need not fetch it again.
type StatusListRef struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"` // ListCertificates, ListOfflineCodes, …
	Version int64  `json:"version"`
	SM3     string `json:"sm3"` // ListDigest of the list's compact JWS
	URL     string `json:"url"` // GET it (with If-None-Match: "SM3") to fetch the list
}

// ListDigest is the digest a StatusListRef pins: the SM3 hash of the
// list's compact JWS text (exactly as served, without a trailing newline),
// in lowercase hex.
func ListDigest(jws string) string {
	sum := signing.SM3([]byte(jws))
	return hex.EncodeToString(sum[:])
}

// StatusList returns the bundle's reference to status list id.
func (b Bundle) StatusList(id string) (StatusListRef, bool) {
	for _, r := range b.StatusLists {
		if r.ID == id {
			return r, true
		}
	}
	return StatusListRef{}, false
}

// Bundle is the payload of a trust bundle.
type Bundle struct {
	Issuer       string          `json:"iss"`
	IssuedAt     time.Time       `json:"issued_at"`
	NextUpdate   time.Time       `json:"next_update"`
	ExpiresAt    time.Time       `json:"expires_at"`
	Keys         []Key           `json:"keys"`
	StatusLists  []StatusListRef `json:"status_lists"`
	Endorsements []string        `json:"anchor_endorsements,omitempty"`
	// AuditHead is the newest sealed audit entry when the bundle was signed
	// (see AuditHead).
	AuditHead *AuditHead `json:"audit_head,omitempty"`
	// Region is the region this node serves (区域互认, see Peer); absent
	// in bundles of nodes that predate regions.
	Region *Region `json:"region,omitempty"`
	// Peers are the peer regions this node's administrator registered:
	// whom a verifier pinned to this bundle's anchor may also trust. A
	// verifier reads them from its home bundle only; the Peers of a peer's
	// bundle are ignored (no transitive trust).
	Peers []Peer `json:"peers,omitempty"`
}

// Endorsement is the payload of an endorsement JWS: the old anchor vouching
// for the new one.
type Endorsement struct {
	NewAnchor signing.JWK `json:"new_anchor"`
	IssuedAt  time.Time   `json:"issued_at"`
}

// Errors of Verify.
var (
	ErrNotSignedByAnchor = errors.New("trust: bundle is not signed by the pinned anchor or a key it endorsed")
	ErrExpired           = errors.New("trust: bundle has expired")
	ErrMalformed         = errors.New("trust: malformed bundle")
)

// Sign signs b with the anchor signer and returns the compact JWS.
func Sign(anchor signing.Signer, b Bundle) (string, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	return signing.SignJWS(anchor, raw, map[string]any{"typ": Typ})
}

// Endorse has oldAnchor vouch for newAnchor.
func Endorse(oldAnchor signing.Signer, newAnchor *signing.PublicKey, at time.Time) (string, error) {
	raw, err := json.Marshal(Endorsement{NewAnchor: signing.NewJWK(newAnchor), IssuedAt: at.UTC()})
	if err != nil {
		return "", err
	}
	return signing.SignJWS(oldAnchor, raw, map[string]any{"typ": EndorsementTyp})
}

// Verify checks a bundle's signature against the pinned anchor (directly,
// or through an endorsement signed by the pinned anchor) and returns its
// payload. It does not judge freshness beyond ExpiresAt: now after
// ExpiresAt gives ErrExpired together with the parsed bundle, so a caller
// can still show what it had.
func Verify(compact string, pinned *signing.PublicKey, now time.Time) (Bundle, error) {
	var b Bundle
	hdr, payload, err := signing.ParseJWS(compact)
	if err != nil {
		return b, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if hdr.Typ != Typ {
		return b, fmt.Errorf("%w: typ %q", ErrMalformed, hdr.Typ)
	}
	if err := json.Unmarshal(payload, &b); err != nil {
		return Bundle{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	pinnedKid := signing.Thumbprint(pinned)
	signer := pinned
	if hdr.Kid != pinnedKid {
		signer = nil
		for _, e := range b.Endorsements {
			ehdr, epayload, err := signing.ParseJWS(e)
			if err != nil || ehdr.Typ != EndorsementTyp || ehdr.Kid != pinnedKid {
				continue
			}
			if _, _, err := signing.VerifyJWS(e, func(string) (*signing.PublicKey, error) { return pinned, nil }); err != nil {
				continue
			}
			var en Endorsement
			if json.Unmarshal(epayload, &en) != nil {
				continue
			}
			k, err := en.NewAnchor.PublicKey()
			if err != nil || signing.Thumbprint(k) != hdr.Kid {
				continue
			}
			signer = k
			break
		}
		if signer == nil {
			return Bundle{}, ErrNotSignedByAnchor
		}
	}
	if _, _, err := signing.VerifyJWS(compact, func(kid string) (*signing.PublicKey, error) {
		if kid != signing.Thumbprint(signer) {
			return nil, signing.ErrUnknownKey
		}
		return signer, nil
	}); err != nil {
		return Bundle{}, fmt.Errorf("%w: %v", ErrNotSignedByAnchor, err)
	}
	if !now.Before(b.ExpiresAt) {
		return b, ErrExpired
	}
	return b, nil
}

// Key returns the bundle's key with id kid.
func (b Bundle) Key(kid string) (Key, bool) {
	for _, k := range b.Keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return Key{}, false
}

// Usable reports whether k may verify a signature at time now: not
// compromised, and now not after NotAfter (a retired key keeps verifying
// until everything it signed has expired).
func (k Key) Usable(now time.Time) error {
	switch k.Status {
	case StatusCompromised:
		return fmt.Errorf("key %s is compromised", k.Kid)
	case StatusActive, StatusRetired:
	default:
		return fmt.Errorf("key %s has unknown status %q", k.Kid, k.Status)
	}
	if k.NotAfter != nil && now.After(*k.NotAfter) {
		return fmt.Errorf("key %s stopped verifying at %s", k.Kid, k.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
