package verifier

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

// Outcome is the result of a verification: Valid, Invalid or Unknown.
type Outcome string

// The three outcomes (product contract: "valid" | "invalid" | "unknown").
const (
	Valid   Outcome = "valid"
	Invalid Outcome = "invalid"
	Unknown Outcome = "unknown"
)

// Reason codes. They are stable machine strings, part of the product
// contract (POST /v1/verify lists them too): they never change meaning.
// The comment after each says which outcome it comes with.
const (
	ReasonMalformed            = "malformed"                // invalid: not a well-formed code or JWS
	ReasonOversized            = "oversized"                // invalid: longer than any valid code
	ReasonUnsupportedAlgorithm = "unsupported_algorithm"    // invalid: a JWS alg other than SM2
	ReasonUnsupportedVersion   = "unsupported_version"      // unknown: a code format version this build cannot read
	ReasonUnknownKind          = "unknown_kind"             // unknown: a code kind this build does not know
	ReasonBadSignature         = "bad_signature"            // invalid: the signature does not verify
	ReasonUnknownKey           = "unknown_key"              // unknown: no key of the bundle matches (or its status is unrecognised)
	ReasonKeyCompromised       = "key_compromised"          // invalid: signed by a key reported compromised
	ReasonWrongRole            = "wrong_role"               // invalid: signed by a key of another role
	ReasonKeyNotTrustedForType = "key_not_trusted_for_type" // invalid: the department key may not sign this issuer or type
	ReasonKeyRetired           = "key_retired"              // unknown: the key is past its not_after and has left trust
	ReasonKeyNotYetValid       = "key_not_yet_valid"        // unknown: issued before the key's not_before
	ReasonExpired              = "expired"                  // invalid: past its expiry / valid_until
	ReasonNotYetValid          = "not_yet_valid"            // invalid: before its issued-at / valid_from
	ReasonWrongKind            = "wrong_kind"               // invalid: a kind the caller does not accept, or a JWS that is not a certificate
	ReasonSuspended            = "suspended"                // invalid: status entry 1
	ReasonRevoked              = "revoked"                  // invalid: status entry 2 (revoked or cancelled)
	ReasonSuperseded           = "superseded"               // invalid: status entry 3 (replaced by a newer version or generation)
	ReasonWithdrawn            = "withdrawn"                // invalid: online only (POST /v1/verify) — the holder withdrew this copy (offline: revoked)
	ReasonStatusListMissing    = "status_list_missing"      // unknown: no usable status list of that id in the bundle
	ReasonStatusListExpired    = "status_list_expired"      // unknown: the status list is past its valid_until
	ReasonStatusUnknown        = "status_unknown"           // unknown: the status list has no entry at that index
	ReasonBundleExpired        = "bundle_expired"           // unknown: the trust bundle is past its expires_at
	ReasonBundleOutdated       = "bundle_outdated"          // unknown: the certificate is newer than the bundle, which does not show the type authorisation it was issued under
	ReasonBundleUnavailable    = "bundle_unavailable"       // unknown: for callers — no bundle could be fetched or verified
	ReasonUnverifiable         = "unverifiable"             // unknown: an unexpected error prevented the check
)

// KindCertificate is Result.Kind of a certificate; codes have their
// codes.Kind name ("personal", "offline", "enterprise", "venue",
// "presentation", "copy").
const KindCertificate = "certificate"

// DefaultSkew is the clock-skew tolerance when Options.Skew is 0.
const DefaultSkew = 30 * time.Second

// Reason is one reason for an Invalid or Unknown result: a stable machine
// Code (the Reason... constants) and an English Detail for people and logs
// (never the input text or personal data).
type Reason struct {
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// Subject is who or what a code or certificate is about, masked.
type Subject struct {
	// Masked is the code's display name (masked by the issuer, e.g. "张*",
	// or a public venue or enterprise name) or the certificate holder's
	// name (masked for a person, whole for an enterprise).
	Masked string `json:"masked"`
}

// Result is the outcome of one verification with what was learnt. Fields
// other than Result, Reasons and Kind are filled only when the signature
// verified under a key of the bundle: claims that are not signed are never
// shown. Its JSON form is the body of POST /v1/verify.
type Result struct {
	Result  Outcome  `json:"result"`
	Reasons []Reason `json:"reasons"` // empty (never nil) when Valid
	// Kind is "personal", "offline", "enterprise", "venue", "presentation"
	// or "certificate"; "" for a code that does not parse.
	Kind string `json:"kind,omitempty"`
	// Issuer is the signing key's id for a code, the issuing department's
	// unified social credit code for a certificate.
	Issuer string `json:"issuer,omitempty"`
	// KeyID is the kid of the key that verified the signature.
	KeyID string `json:"key_id,omitempty"`
	// IssuedAt and ExpiresAt bound validity. For a certificate IssuedAt is
	// its issued_at and ExpiresAt the end of its valid_until day in China
	// Standard Time (zero when long-term).
	IssuedAt  time.Time `json:"issued_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Subject   Subject   `json:"subject"`
	// CertificateID is the GB/T 36904 identifier of a certificate, or of
	// the certificate a presentation code shows; TypeCode a certificate's
	// type code.
	CertificateID string `json:"certificate_id,omitempty"`
	TypeCode      string `json:"type_code,omitempty"`
	// UseCode is a presentation code's one-time use code (用证码), to be
	// redeemed online.
	UseCode string `json:"use_code,omitempty"`
	// VenueID is a venue code's venue.
	VenueID string `json:"venue_id,omitempty"`
	// Generation is an offline code's generation (printed on the paper).
	Generation uint32 `json:"generation,omitempty"`
	// Copy is what a copy code (加注件) says of whom it was made for and why;
	// its CertificateID is the certificate copied. Nil for other kinds.
	Copy *Copy `json:"copy,omitempty"`
	// Region is the region whose key verified the signature (区域互认, see
	// Federation): set by a Federation (the home region when its bundle
	// names one, or the peer region), nil otherwise.
	Region *trust.Region `json:"region,omitempty"`
}

// Copy is the recipient and purpose of an annotated copy (加注件).
type Copy struct {
	// RecipientOrg and RecipientUSCC name the organisation the copy was
	// made for (its unified social credit code), Purpose what for.
	RecipientOrg  string `json:"recipient_org"`
	RecipientUSCC string `json:"recipient_uscc"`
	Purpose       string `json:"purpose"`
	// Annotation is the text across the copy: "仅供" ‖ recipient ‖ purpose ‖
	// "使用".
	Annotation string `json:"annotation"`
}

// HasReason reports whether r lists a reason with code.
func (r Result) HasReason(code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

// add records a reason with its outcome: Invalid dominates Unknown, which
// dominates Valid.
func (r *Result) add(o Outcome, code, detail string) {
	r.Reasons = append(r.Reasons, Reason{Code: code, Detail: detail})
	if o == Invalid || r.Result == Valid {
		r.Result = o
	}
}

// Options configure a Verifier.
type Options struct {
	// Skew is the clock tolerance applied to validity windows: 0 means
	// DefaultSkew (30 s); a negative value means none.
	Skew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Lists fetches the status lists the bundle references, lazily: a
	// list is asked for the first time a code or certificate needs it,
	// then kept for the Verifier's life (its digest is pinned by the
	// bundle, so it cannot change under it). nil: no list can be had, and
	// every code or certificate with a status reference is Unknown.
	Lists ListSource
	// Cache, when set, keeps decoded lists by digest across Verifiers: a
	// new bundle that pins the same list (most lists, after one status
	// change elsewhere) reuses it without fetching, verifying or
	// decompressing it again. Share one cache between the Verifiers that
	// replace one another.
	Cache *ListCache
}

// ListCache holds decoded status lists by SM3 digest for Verifiers that
// succeed one another (Options.Cache). It is safe for concurrent use. A
// list is reused only if its signing key is, in the new bundle, an anchor
// key with the same public key.
type ListCache struct {
	mu sync.Mutex
	m  map[string]*cachedList
}

type cachedList struct {
	payload issuer.StatusListPayload
	list    *issuer.StatusList
	kid     string
	thumb   string // the signing key's SM3 thumbprint
}

// maxCachedLists bounds a ListCache; past it, lists the newest bundle does
// not pin are dropped.
const maxCachedLists = 1024

// NewListCache returns an empty cache.
func NewListCache() *ListCache { return &ListCache{m: map[string]*cachedList{}} }

func (c *ListCache) get(digest string) *cachedList {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[digest]
}

func (c *ListCache) put(digest string, e *cachedList, pinned map[string]*statusList) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedLists {
		keep := make(map[string]bool, len(pinned))
		for _, sl := range pinned {
			keep[strings.ToLower(sl.ref.SM3)] = true
		}
		for d := range c.m {
			if !keep[d] {
				delete(c.m, d)
			}
		}
	}
	if len(c.m) < maxCachedLists {
		c.m[digest] = e
	}
}

// ListSource gives the status lists a bundle references: the compact JWS
// of the list ref names. A Verifier checks what it returns — the SM3
// digest against ref.SM3, the anchor's signature, the id, the validity —
// so a source need not be trusted: anything wrong in what it gives is
// Unknown (status_list_missing), never Valid. An error is Unknown too; the
// Verifier asks again for that list after ListRetry.
//
// Implementations: Lists (lists at hand, e.g. read from files), the
// server's store, `suishen verify`'s directory with network fallback, a
// browser's cache and fetch(). This package itself never touches the
// network. A source may be called concurrently for different lists.
type ListSource interface {
	StatusList(ref trust.StatusListRef) (string, error)
}

// ListSourceFunc adapts a function to ListSource.
type ListSourceFunc func(ref trust.StatusListRef) (string, error)

// StatusList calls f.
func (f ListSourceFunc) StatusList(ref trust.StatusListRef) (string, error) { return f(ref) }

// Lists is a ListSource over lists at hand: compact JWSs by list id.
type Lists map[string]string

// ErrListNotHeld is Lists' error for a list it does not hold.
var ErrListNotHeld = errors.New("verifier: status list not held")

// StatusList returns the list with ref's id.
func (l Lists) StatusList(ref trust.StatusListRef) (string, error) {
	if jws, ok := l[ref.ID]; ok {
		return jws, nil
	}
	return "", ErrListNotHeld
}

// ListRetry is how long a Verifier waits before asking its ListSource
// again for a list it could not get or use.
const ListRetry = 10 * time.Second

// Verifier verifies codes and certificates against one trust bundle. It is
// safe for concurrent use.
type Verifier struct {
	bundle  trust.Bundle
	skew    time.Duration
	now     func() time.Time
	byKid   map[string]*bundleKey // published kid → key (JWS lookup)
	byThumb map[string]*bundleKey // SM3 thumbprint → key (codes)
	byHint  map[[codes.KeyHintSize]byte][]*signing.PublicKey
	lists   map[string]*statusList
	source  ListSource
	cache   *ListCache
	// region is set on a peer region's verifier (Federate): its keys
	// count only for certificates of areas within it.
	region *trust.Region
}

// bundleKey is a bundle key with its parsed public key.
type bundleKey struct {
	trust.Key
	pub *signing.PublicKey
}

// statusList is a status list the bundle references, fetched from the
// ListSource, verified and decoded on first use.
type statusList struct {
	ref trust.StatusListRef
	mu  sync.Mutex
	// set under mu: the list once it is usable, or the last failure and
	// when it happened (retried after ListRetry).
	ok      bool
	payload issuer.StatusListPayload
	list    *issuer.StatusList
	signer  *bundleKey
	err     error
	failed  time.Time
}

// ErrNoAnchor is returned by New without a pinned anchor key.
var ErrNoAnchor = errors.New("verifier: no pinned trust anchor")

// New verifies bundleJWS (the compact JWS of GET /v1/trust) against the
// pinned anchor key — directly or through an endorsement by it, see
// trust.Verify — and returns a Verifier over its keys and status lists.
//
// A bundle that does not verify fails with an error wrapping
// trust.ErrMalformed or trust.ErrNotSignedByAnchor; nothing can be checked
// then (report Unknown with ReasonBundleUnavailable). A bundle past its
// expires_at loads without error, but every result is Unknown
// (bundle_expired) for as long as it is expired: see Expired. Keys whose
// JWK does not parse are left out (codes and certificates they signed are
// unknown_key).
func New(bundleJWS string, pinnedAnchor *signing.PublicKey, opts Options) (*Verifier, error) {
	if pinnedAnchor == nil {
		return nil, ErrNoAnchor
	}
	v := &Verifier{skew: opts.Skew, now: opts.Now, source: opts.Lists, cache: opts.Cache}
	switch {
	case v.skew == 0:
		v.skew = DefaultSkew
	case v.skew < 0:
		v.skew = 0
	}
	if v.now == nil {
		v.now = time.Now
	}
	b, err := trust.Verify(bundleJWS, pinnedAnchor, v.now())
	if err != nil && !errors.Is(err, trust.ErrExpired) {
		return nil, fmt.Errorf("verifier: trust bundle: %w", err)
	}
	v.bundle = b
	v.byKid = make(map[string]*bundleKey, len(b.Keys))
	v.byThumb = make(map[string]*bundleKey, len(b.Keys))
	v.byHint = make(map[[codes.KeyHintSize]byte][]*signing.PublicKey, len(b.Keys))
	for _, k := range b.Keys {
		pub, err := k.JWK.PublicKey()
		if err != nil || k.Kid == "" {
			continue
		}
		bk := &bundleKey{Key: k, pub: pub}
		if _, dup := v.byKid[k.Kid]; !dup {
			v.byKid[k.Kid] = bk
		}
		tp := signing.Thumbprint(pub)
		if _, dup := v.byThumb[tp]; dup {
			continue
		}
		v.byThumb[tp] = bk
		h := [codes.KeyHintSize]byte(codes.KeyHint(pub))
		v.byHint[h] = append(v.byHint[h], pub)
	}
	v.lists = make(map[string]*statusList, len(b.StatusLists))
	for _, ref := range b.StatusLists {
		if _, dup := v.lists[ref.ID]; !dup && ref.ID != "" {
			v.lists[ref.ID] = &statusList{ref: ref}
		}
	}
	return v, nil
}

// Bundle returns the verified bundle's payload. Its slices are copies at
// the top level; do not modify the keys' inner slices.
func (v *Verifier) Bundle() trust.Bundle {
	b := v.bundle
	b.Keys = slices.Clone(b.Keys)
	b.StatusLists = slices.Clone(b.StatusLists)
	b.Endorsements = slices.Clone(b.Endorsements)
	return b
}

// Expired reports whether the bundle is past its expires_at now: every
// result is then Unknown (bundle_expired).
func (v *Verifier) Expired() bool { return !v.now().Before(v.bundle.ExpiresAt) }

// NeedsUpdate reports whether the bundle is past its next_update: results
// are still given, but the caller should fetch a fresh bundle.
func (v *Verifier) NeedsUpdate() bool { return !v.now().Before(v.bundle.NextUpdate) }

// VerifyCode verifies a code text (as scanned: used verbatim, never
// trimmed) of any kind. See the package documentation for the rules.
func (v *Verifier) VerifyCode(text string) Result { return v.verifyCode(text, nil) }

// VerifyCodeOf is VerifyCode for a caller that accepts only some kinds — a
// venue scanner personal and offline codes, a check-in a venue code: a
// genuine code of another kind is Invalid (wrong_kind). No kinds accepts
// every kind.
func (v *Verifier) VerifyCodeOf(text string, kinds ...codes.Kind) Result {
	return v.verifyCode(text, kinds)
}

func (v *Verifier) verifyCode(text string, kinds []codes.Kind) (r Result) {
	now := v.now()
	r = Result{Result: Valid, Reasons: []Reason{}}
	defer v.finish(&r, now) // r is the named result: finish sees every return

	c, err := codes.Parse(text)
	if err != nil {
		code, detail := codeError(err)
		o := Invalid
		if code == ReasonUnsupportedVersion || code == ReasonUnknownKind {
			o = Unknown
		}
		r.add(o, code, detail)
		return r
	}
	r.Kind = c.Kind.String()
	thumb, err := c.Verify(v.lookupHint)
	if err != nil {
		code, detail := codeError(err)
		switch code {
		case ReasonUnknownKey:
			r.add(Unknown, code, "no key of the trust bundle matches the code's key hint")
		case ReasonBadSignature:
			r.add(Invalid, code, "the signature does not verify")
		default:
			r.add(Unknown, ReasonUnverifiable, detail)
		}
		return r
	}
	k := v.byThumb[thumb]
	if k == nil { // cannot happen: lookupHint answers bundle keys only
		r.add(Unknown, ReasonUnknownKey, "the verifying key is not in the bundle")
		return r
	}
	r.Issuer, r.KeyID = k.Kid, k.Kid
	r.IssuedAt, r.ExpiresAt = c.IssuedAt, c.ExpiresAt
	r.Subject.Masked = c.DisplayName
	r.VenueID, r.CertificateID, r.UseCode, r.Generation = c.VenueID, c.CertificateID, c.UseCode, c.Generation
	if c.Kind == codes.Copy {
		r.Copy = &Copy{RecipientOrg: c.RecipientOrg, RecipientUSCC: c.RecipientUSCC, Purpose: c.Purpose, Annotation: c.Annotation()}
	}

	if !v.checkKey(&r, k, trust.RoleCode, "codes", c.IssuedAt, now, nil) {
		return r
	}
	if err := c.CheckTime(now, v.skew); err != nil {
		code, _ := codeError(err)
		if code == ReasonExpired {
			r.add(Invalid, code, "the code expired at "+stamp(c.ExpiresAt))
		} else {
			r.add(Invalid, code, "the code is issued at "+stamp(c.IssuedAt)+", in the future")
		}
	}
	if len(kinds) > 0 {
		if err := c.Expect(kinds...); err != nil {
			r.add(Invalid, ReasonWrongKind, "a "+c.Kind.String()+" code is not accepted here")
		}
	}
	if c.StatusList != "" {
		v.checkStatus(&r, c.StatusList, int64(c.StatusIndex), now)
	}
	return r
}

// lookupHint answers every bundle key (of any role: the role is judged
// after the signature) whose key hint is h.
func (v *Verifier) lookupHint(h []byte) []*signing.PublicKey {
	if len(h) != codes.KeyHintSize {
		return nil
	}
	return v.byHint[[codes.KeyHintSize]byte(h)]
}

// codeError returns the reason code and detail of an error of package
// codes.
func codeError(err error) (code, detail string) {
	var e *codes.Error
	if errors.As(err, &e) {
		if e.Detail == "" {
			return e.Reason, "the code is " + strings.ReplaceAll(e.Reason, "_", " ")
		}
		return e.Reason, e.Detail
	}
	return ReasonUnverifiable, "unexpected error"
}

// VerifyCertificate verifies a certificate: the compact JWS of its
// metadata document (证照元数据) as issued by POST /v1/certificates. The JWS
// is used verbatim (no white space is trimmed). See the package
// documentation for the rules.
func (v *Verifier) VerifyCertificate(jws string) (r Result) {
	now := v.now()
	r = Result{Result: Valid, Reasons: []Reason{}, Kind: KindCertificate}
	defer v.finish(&r, now) // r is the named result: finish sees every return

	var signer *bundleKey
	d, err := issuer.VerifyDocument(jws, func(kid string) (*signing.PublicKey, error) {
		k := v.byKid[kid]
		if k == nil {
			return nil, signing.ErrUnknownKey
		}
		signer = k
		return k.pub, nil
	})
	if err != nil {
		o, code, detail := certError(err)
		r.add(o, code, detail)
		return r
	}
	r.Issuer, r.KeyID = d.Issuer.USCC, signer.Kid
	r.IssuedAt = d.IssuedAt
	r.CertificateID, r.TypeCode = d.Identifier, d.TypeCode
	if len(d.Holders) > 0 {
		h := d.Holders[0]
		if h.IDType == issuer.IDTypeUSCC {
			r.Subject.Masked = h.Name // an enterprise's name is public
		} else {
			r.Subject.Masked = ident.MaskName(h.Name)
		}
	}
	var until time.Time
	if d.ValidUntil != nil {
		u, err := issuer.ParseDate(*d.ValidUntil) // checked by VerifyDocument
		if err != nil {
			r.add(Invalid, ReasonMalformed, "valid_until is not a date")
			return r
		}
		until = u.AddDate(0, 0, 1) // valid through the whole valid_until day
		r.ExpiresAt = until.UTC()
	}

	outdated := false
	authorise := func(k *bundleKey) string {
		switch {
		case k.DepartmentUSCC != d.Issuer.USCC:
			return "key " + k.Kid + " belongs to another department than the certificate's issuer"
		case k.AuthorisedAt(d.TypeCode, d.IssuedAt):
		case !d.IssuedAt.Before(v.bundle.IssuedAt.Truncate(time.Second)):
			// The certificate is not older than the bundle: the
			// authorisation it was issued under may be newer than what
			// the bundle knows.
			outdated = true
		default:
			return "the issuing department was not authorised for certificate type " + d.TypeCode + " at " + stamp(d.IssuedAt)
		}
		return ""
	}
	if !v.checkKey(&r, signer, trust.RoleDepartment, "certificates", d.IssuedAt, now, authorise) {
		return r
	}
	if v.region != nil && !trust.RegionCovers(v.region.Code, d.AreaCode) {
		r.add(Invalid, ReasonKeyNotTrustedForRegion, "a key of region "+v.region.Code+" signed a certificate of area "+quote(d.AreaCode)+", outside that region")
		return r
	}
	if outdated {
		r.add(Unknown, ReasonBundleOutdated, "issued at "+stamp(d.IssuedAt)+" under an authorisation for type "+d.TypeCode+
			" that the trust bundle of "+stamp(v.bundle.IssuedAt)+" does not show; fetch a fresh bundle")
		return r
	}

	from, err := issuer.ParseDate(d.ValidFrom)
	switch {
	case err != nil:
		r.add(Invalid, ReasonMalformed, "valid_from is not a date")
	case now.Add(v.skew).Before(from):
		r.add(Invalid, ReasonNotYetValid, "the certificate is valid from "+d.ValidFrom)
	}
	if !until.IsZero() && !now.Add(-v.skew).Before(until) {
		r.add(Invalid, ReasonExpired, "the certificate was valid until "+*d.ValidUntil)
	}
	if d.StatusList.ID != "" {
		v.checkStatus(&r, d.StatusList.ID, int64(d.StatusList.Index), now)
	}
	return r
}

// certError maps an error of issuer.VerifyDocument to a result.
func certError(err error) (Outcome, string, string) {
	switch {
	case errors.Is(err, signing.ErrUnknownKey):
		return Unknown, ReasonUnknownKey, "no key of the trust bundle has the JWS's kid"
	case errors.Is(err, signing.ErrInvalidSignature):
		return Invalid, ReasonBadSignature, "the signature does not verify"
	case errors.Is(err, signing.ErrUnsupportedAlgorithm):
		return Invalid, ReasonUnsupportedAlgorithm, "the JWS is not signed with alg SM2"
	case errors.Is(err, signing.ErrMalformed):
		return Invalid, ReasonMalformed, "not a well-formed compact JWS"
	}
	var ie *issuer.Error
	if errors.As(err, &ie) {
		if ie.Code == issuer.CodeWrongType {
			return Invalid, ReasonWrongKind, "the JWS is not a certificate"
		}
		return Invalid, ReasonMalformed, "the certificate document is malformed or inconsistent: " + ie.Detail
	}
	return Unknown, ReasonUnverifiable, "unexpected error"
}

// checkKey applies the key rules (package documentation, rule 4) to k,
// which verified a signature over claims issued at issuedAt: the Invalid
// findings first (compromised, role, and for a certificate authorise's
// verdict on the department and type), then the Unknown ones (status not
// recognised, past not_after, before not_before). It records the first
// failure and reports whether the key may be relied upon.
func (v *Verifier) checkKey(r *Result, k *bundleKey, role, what string, issuedAt, now time.Time, authorise func(*bundleKey) string) bool {
	if k.Status == trust.StatusCompromised {
		r.add(Invalid, ReasonKeyCompromised, "key "+k.Kid+" is reported compromised")
		return false
	}
	if k.Role != role {
		r.add(Invalid, ReasonWrongRole, fmt.Sprintf("key %s has role %q; %s are signed by %q keys", k.Kid, k.Role, what, role))
		return false
	}
	if authorise != nil {
		if why := authorise(k); why != "" {
			r.add(Invalid, ReasonKeyNotTrustedForType, why)
			return false
		}
	}
	if k.Status != trust.StatusActive && k.Status != trust.StatusRetired {
		r.add(Unknown, ReasonUnknownKey, "key "+k.Kid+" has an unrecognised key_status")
		return false
	}
	if k.NotAfter != nil && now.After(*k.NotAfter) {
		r.add(Unknown, ReasonKeyRetired, "key "+k.Kid+" was retired and left trust at "+stamp(*k.NotAfter))
		return false
	}
	if !k.NotBefore.IsZero() && issuedAt.Add(v.skew).Before(k.NotBefore.Truncate(time.Second)) {
		r.add(Unknown, ReasonKeyNotYetValid, "issued before key "+k.Kid+" became valid at "+stamp(k.NotBefore))
		return false
	}
	return true
}

// checkStatus looks up entry index of status list id (rule 6).
func (v *Verifier) checkStatus(r *Result, id string, index int64, now time.Time) {
	sl := v.lists[id]
	if sl == nil {
		r.add(Unknown, ReasonStatusListMissing, "the trust bundle carries no status list "+quote(id))
		return
	}
	payload, list, k, err := sl.get(v, now)
	if err != nil {
		r.add(Unknown, ReasonStatusListMissing, "status list "+quote(id)+" is not usable: "+err.Error())
		return
	}
	if k.Status != trust.StatusActive && k.Status != trust.StatusRetired || k.NotAfter != nil && now.After(*k.NotAfter) {
		r.add(Unknown, ReasonStatusListMissing, "status list "+quote(id)+" is signed by anchor key "+k.Kid+", which is no longer trusted")
		return
	}
	if !now.Before(payload.ValidUntil) {
		r.add(Unknown, ReasonStatusListExpired, "status list "+quote(id)+" expired at "+stamp(payload.ValidUntil))
		return
	}
	if index > int64(list.Size) {
		index = int64(list.Size) // out of range, without overflowing int
	}
	e, ok := list.Lookup(int(index))
	if !ok {
		r.add(Unknown, ReasonStatusUnknown, fmt.Sprintf("status list %s has no entry %d", quote(id), index))
		return
	}
	switch e {
	case issuer.EntryGood:
	case issuer.EntrySuspended:
		r.add(Invalid, ReasonSuspended, "suspended (status list "+quote(id)+")")
	case issuer.EntryRevoked:
		if r.Kind == codes.Copy.String() {
			// A copy's own entry: withdrawn by its holder, or its
			// certificate revoked or cancelled.
			r.add(Invalid, ReasonRevoked, "the copy was withdrawn or its certificate revoked or cancelled (status list "+quote(id)+")")
		} else {
			r.add(Invalid, ReasonRevoked, "revoked or cancelled (status list "+quote(id)+")")
		}
	case issuer.EntrySuperseded:
		r.add(Invalid, ReasonSuperseded, "superseded by a newer version (status list "+quote(id)+")")
	}
}

// get returns the list, fetching and checking it on first use; a failure
// is remembered for ListRetry, then the source is asked again.
func (sl *statusList) get(v *Verifier, now time.Time) (issuer.StatusListPayload, *issuer.StatusList, *bundleKey, error) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if !sl.ok && (sl.err == nil || now.Sub(sl.failed) >= ListRetry || now.Before(sl.failed)) {
		sl.err = sl.fetch(v)
		sl.ok, sl.failed = sl.err == nil, now
	}
	if !sl.ok {
		return issuer.StatusListPayload{}, nil, nil, sl.err
	}
	return sl.payload, sl.list, sl.signer, nil
}

// fetch asks the source for the list, checks it against the bundle's
// digest, verifies its JWS under an anchor key of the bundle and decodes it.
func (sl *statusList) fetch(v *Verifier) error {
	digest := strings.ToLower(sl.ref.SM3)
	if c := v.cache.get(digest); c != nil {
		if k := v.byKid[c.kid]; k != nil && k.Role == trust.RoleAnchor && signing.Thumbprint(k.pub) == c.thumb && c.payload.ID == sl.ref.ID {
			sl.payload, sl.list, sl.signer = c.payload, c.list, k
			return nil
		}
	}
	if v.source == nil {
		return errors.New("this verifier has no source of status lists")
	}
	jws, err := v.source.StatusList(sl.ref)
	switch {
	case err != nil:
		return errors.New("it could not be fetched")
	case len(jws) > signing.MaxJWSSize:
		return errors.New("it is larger than any status list")
	case !strings.EqualFold(trust.ListDigest(jws), sl.ref.SM3):
		return errors.New("it does not match the SM3 digest the trust bundle pins (fetch a fresh bundle)")
	}
	var signer *bundleKey
	p, l, err := issuer.VerifyStatusList(jws, func(kid string) (*signing.PublicKey, error) {
		k := v.byKid[kid]
		if k == nil || k.Role != trust.RoleAnchor {
			return nil, signing.ErrUnknownKey
		}
		signer = k
		return k.pub, nil
	})
	switch {
	case errors.Is(err, signing.ErrUnknownKey):
		return errors.New("not signed by an anchor key of the bundle")
	case err != nil:
		return errors.New("its signature or content is invalid")
	case p.ID != sl.ref.ID:
		return errors.New("it names another list")
	}
	sl.payload, sl.list, sl.signer = p, l, signer
	v.cache.put(digest, &cachedList{payload: p, list: l, kid: signer.Kid, thumb: signing.Thumbprint(signer.pub)}, v.lists)
	return nil
}

// finish applies rule 1: while the bundle is expired nothing is Valid or
// Invalid.
func (v *Verifier) finish(r *Result, now time.Time) {
	if !now.Before(v.bundle.ExpiresAt) {
		r.Result = Unknown
		r.Reasons = []Reason{{Code: ReasonBundleExpired,
			Detail: "the trust bundle expired at " + stamp(v.bundle.ExpiresAt) + "; fetch a fresh one"}}
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// quote quotes an identifier from a signed object for a detail, cut short.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}
