// Package store holds Suishen's storage interfaces, the records they carry and
// the sentinel errors every backend returns.
//
// Two backends implement it: store/postgres (pgx, for production) and
// store/sqlite (modernc.org/sqlite, the embedded default). Both share their SQL
// through store/sqldb and must pass the conformance suite in store/storetest.
//
// Conventions:
//   - every method takes a context and honours its cancellation;
//   - lookups that find nothing return ErrNotFound, inserts that collide with a
//     unique key return ErrAlreadyExists (wrapped; test with errors.Is);
//   - a database that cannot be reached yields ErrUnavailable;
//   - times are stored with microsecond precision, in UTC;
//   - lists are keyset-paginated: pass the last ID seen as `after`; a limit
//     below 1 means 100 and there is no upper cap (callers cap it);
//   - InTx is SERIALIZABLE on both backends: insert and handle
//     ErrAlreadyExists rather than check first, to avoid needless retries.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	// ErrNotFound: no record matches.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: a unique key is already taken.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrUnavailable: the database cannot be reached or refused the work for
	// reasons outside the request (connection lost, shutting down).
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrRetryable marks a transaction that failed on a serialization failure,
	// a deadlock or a busy database; InTx retries these itself and returns the
	// error only when its attempts are spent.
	ErrRetryable = errors.New("store: transient conflict")
)

// PrincipalKind names who is calling.
type PrincipalKind string

// The principal kinds of the product contract.
const (
	KindAdmin      PrincipalKind = "admin"
	KindDepartment PrincipalKind = "department"
	KindApp        PrincipalKind = "app"
	KindVenue      PrincipalKind = "venue"
	KindHolder     PrincipalKind = "holder"
	KindSystem     PrincipalKind = "system" // the service itself (seeding, key rotation at start)
)

// Department is an issuing authority (发证机构).
type Department struct {
	ID               string
	Name             string
	USCC             string // 统一社会信用代码, unique
	Level            string // 国家级 | 省级 | 地市级 | 区县级 | 乡镇级 | 其他
	CertificateTypes []string
	CreatedAt        time.Time
}

// App is a third-party application or using organisation (用证单位).
type App struct {
	ID               string
	Name             string
	USCC             string
	Scopes           []string // verify, use, cases, identity-gateway
	CertificateTypes []string // its 用证清单: types whose fields it may receive
	// UseFields narrows the 用证清单 to named face fields: type code → the
	// exact fields the app may receive of that type. A type listed in
	// CertificateTypes without an entry here means its non-sensitive fields.
	UseFields map[string][]string
	// ServiceItems are the 事项 codes it may open cases for (scope cases).
	ServiceItems []string
	CreatedAt    time.Time
}

// HasScope reports whether the app carries scope sc.
func (a App) HasScope(sc string) bool {
	for _, x := range a.Scopes {
		if x == sc {
			return true
		}
	}
	return false
}

// Venue is a place with a venue code (场所码).
type Venue struct {
	ID        string
	Name      string
	Address   string
	AreaCode  string // GB/T 2260, 6 digits
	OwnerUSCC string
	CreatedAt time.Time
}

// APIKey is the stored half of an API key: only a hash of its secret.
type APIKey struct {
	ID          string // public key identifier, embedded in the token
	Kind        PrincipalKind
	PrincipalID string
	SecretHash  []byte // SM3 of the secret part
	CreatedAt   time.Time
	RevokedAt   *time.Time
	// ExpiresAt ends a key that was replaced by a rotation (after its grace).
	ExpiresAt *time.Time
	// LastUsedAt is when the key last authenticated a request (updated at
	// most once a minute per node).
	LastUsedAt *time.Time
}

// Usable reports whether the key may authenticate a request at now.
func (k APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// Session is a holder session minted by an identity gateway. The token itself
// is never stored; only its hash.
type Session struct {
	TokenHash   []byte
	Subject     string // pseudonymous holder subject, never the ID number
	HolderKind  string // person | enterprise
	DisplayName string // masked name
	CreatedBy   string // principal that minted it (app id or "admin")
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// KeyRole is what a signing key is for.
type KeyRole string

// Key roles.
const (
	RoleAnchor     KeyRole = "anchor"
	RoleCode       KeyRole = "code"
	RoleDepartment KeyRole = "department"
)

// KeyStatus is the lifecycle state of a signing key.
type KeyStatus string

// Key statuses.
const (
	KeyActive      KeyStatus = "active"
	KeyRetired     KeyStatus = "retired"
	KeyCompromised KeyStatus = "compromised"
)

// Key is a signing key: its public half and its private half sealed with
// SM4-GCM under the master key (never stored in the clear).
type Key struct {
	KID            string
	Role           KeyRole
	DepartmentUSCC string // for department keys
	PublicKey      []byte // 65-byte uncompressed point
	Sealed         []byte // sealed private scalar
	Status         KeyStatus
	NotBefore      time.Time
	NotAfter       *time.Time // last moment anything it signed may still be valid; nil while active
	CreatedAt      time.Time
	RetiredAt      *time.Time
	CompromisedAt  *time.Time
}

// AuditEntry is one append-only audit record. Details is stored byte for byte
// (it is hashed into the chain).
type AuditEntry struct {
	ID         int64 // assigned by the database
	At         time.Time
	ActorKind  PrincipalKind
	ActorID    string
	Action     string // e.g. "department.create"
	ObjectType string
	ObjectID   string
	RequestID  string
	Details    []byte // JSON
}

// AuditSeal places one entry in the hash chain: Hash = SM3(prev ‖ SM3(entry)).
type AuditSeal struct {
	Seq     int64 // 1, 2, 3 … without gaps
	EntryID int64
	Hash    []byte
}

// AuditCheckpoint is a signed statement of the chain head at Seq.
type AuditCheckpoint struct {
	Seq       int64
	Hash      []byte
	At        time.Time
	KeyID     string // empty when no anchor key existed yet
	Signature []byte
}

// AnchorSuccession links two consecutive trust anchors: Endorsement is a JWS
// by the old anchor naming the new one (trust.Endorse), Acknowledgement a JWS
// by the new anchor naming the old one (trust.Acknowledge). Append-only.
type AnchorSuccession struct {
	OldKID          string
	NewKID          string
	Endorsement     string
	Acknowledgement string
	CreatedAt       time.Time
}

// SealedAuditEntry is an entry with its seal, as `audit verify` walks them.
type SealedAuditEntry struct {
	Seal  AuditSeal
	Entry AuditEntry
}

// IdempotencyRecord remembers the first response to a creating POST.
type IdempotencyRecord struct {
	Principal   string // "<kind>:<id>"
	Key         string
	RequestHash []byte
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// CertificateType is a catalogue entry (证照目录, GB/T 36902). Spec is the
// whole entry as JSON (package issuer's CertificateType); the columns beside
// it are what queries need.
type CertificateType struct {
	Code       string // 21 characters, unique
	Name       string
	HolderKind string // person | enterprise
	Spec       []byte // JSON
	Seeded     bool   // came with the product rather than from an administrator
	CreatedAt  time.Time
}

// Certificate is one issued electronic certificate (电子证照) version.
type Certificate struct {
	ID            string // GB/T 36904 identifier, including version and check character
	TypeCode      string
	IssuerUSCC    string
	Serial        string
	Version       int
	Number        string // 证照编号, printed on the face
	HolderSubject string // pseudonymous holder subject (principal.Subjects)
	HolderKind    string
	Status        string // valid | suspended | revoked | cancelled | superseded (expiry is derived from ValidUntil)
	StatusReason  string
	ValidFrom     time.Time
	ValidUntil    *time.Time // nil: long-term (长期)
	JWS           string     // the GB/T 36903 document signed by the department key; the document is its payload
	KeyID         string
	PredecessorID string
	SuccessorID   string
	StatusList    string // status list ID
	StatusIndex   int64  // index in that list
	IssuedAt      time.Time
	UpdatedAt     time.Time
}

// CertificateStatusChange is a conditional status update: it applies only
// while the certificate is still in status From (else ErrConflict).
type CertificateStatusChange struct {
	ID          string
	From, To    string
	Reason      string
	SuccessorID string // set when To is superseded
	At          time.Time
}

// ErrConflict: a conditional update found the record changed meanwhile.
var ErrConflict = errors.New("store: conflicting change")

// StatusEntry is one certificate's entry in a status list.
type StatusEntry struct {
	Index  int64
	Status string
}

// StatusListInfo summarises one status list.
type StatusListInfo struct {
	ID        string
	UpdatedAt time.Time // latest status change of any entry (or latest issuance)
	// The stored signed form (see SignedStatusList): Version 0 and the
	// other fields zero when the list was never signed.
	Version   int64
	SM3       string
	KeyID     string
	SignedAt  time.Time
	SignedFor time.Time
}

// SignedStatusList is a status list's stored signed form: every node serves
// these bytes, and every node's trust bundle pins them by SM3.
type SignedStatusList struct {
	ID        string
	Version   int64 // 1 for the first signing, one more for each after
	JWS       string
	SM3       string    // trust.ListDigest(JWS)
	KeyID     string    // the anchor key that signed it
	SignedAt  time.Time // when it was signed
	SignedFor time.Time // the list's UpdatedAt that it reflects
	UpdatedAt time.Time // read only: the list's UpdatedAt now
	// PrevJWS and PrevSM3 are the form it replaced ("" for version 1),
	// still served to verifiers whose bundle pins it.
	PrevJWS string
	PrevSM3 string
}

// CertificateFilter selects certificates for listing.
type CertificateFilter struct {
	HolderSubject string // "" : any
	IssuerUSCC    string // "" : any
	TypeCode      string // "" : any
	// KeyIDs keeps certificates signed by one of these keys (nil: any), and
	// InEffect those that are valid or suspended: the certificates to
	// re-issue after a compromise.
	KeyIDs   []string
	InEffect bool
}

// TypePeriod is a period in which a department was authorised to issue a
// certificate type: from From, until Until (nil: still authorised).
type TypePeriod struct {
	TypeCode string
	From     time.Time
	Until    *time.Time
}

// Holder maps a pseudonymous subject to a small number that 随申码 codes
// carry (encrypted) instead of anything personal.
type Holder struct {
	Ref       int64 // assigned by the database, 1, 2, 3 …
	Subject   string
	Kind      string // person | enterprise
	CreatedAt time.Time
}

// Code is a long-lived 随申码 code that can be revoked: an offline code (one
// valid generation per holder), an enterprise code, a venue code. Dynamic
// personal and presentation codes are never stored.
type Code struct {
	ID          string // e.g. "offline:<subject>:<generation>"
	Kind        string // offline | enterprise | venue
	Owner       string // holder subject, or venue ID
	Generation  int
	Text        string // the signed code text (static codes are handed out again as they are)
	Status      string // valid | revoked
	StatusList  string
	StatusIndex int64
	IssuedAt    time.Time
	ExpiresAt   time.Time
	UpdatedAt   time.Time
}

// Checkin is one visit: a holder scanned a venue code, or a venue scanned a
// holder's code (online or uploaded later).
type Checkin struct {
	ID            string
	VenueID       string
	HolderSubject string
	MaskedName    string
	Source        string // holder_scan | venue_scan | venue_upload
	CodeKind      string // the kind of code scanned
	ClientID      string // venue's own record ID for uploads (unique per venue); "" otherwise
	At            time.Time
	CreatedAt     time.Time
	// RegionCode is "" when both sides are of this region; else the peer
	// region (区域互认) of the venue (a holder checked in at a peer's venue:
	// VenueID is the peer's, VenueName from its code) or of the holder (a
	// peer region's code scanned here: HolderSubject is
	// "region:CODE:" and the code's pseudonymous subject in hex).
	RegionCode string
	VenueName  string
}

// UseCode is a one-time 用证码 handed out with a presentation (亮证).
type UseCode struct {
	Hash          []byte // SM3 of the normalised code; the code itself is never stored
	CertificateID string
	HolderSubject string
	Purpose       string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
	UsedBy        string // app ID
}

// Grant is a holder's authorisation (授权用证) for an app to use certificates
// of some types for a purpose until a time.
type Grant struct {
	ID               string
	HolderSubject    string
	AppID            string
	CertificateTypes []string
	Purpose          string
	CreatedAt        time.Time
	ExpiresAt        time.Time
	RevokedAt        *time.Time
}

// UsageRecord is one use of a holder's certificate or code (用证记录),
// append-only, shown to the holder; refusals are recorded too.
type UsageRecord struct {
	ID            string
	HolderSubject string
	At            time.Time
	Org           string // using organisation
	OrgUSCC       string
	Operator      string
	ItemCode      string // 事项 code
	ItemName      string
	BusinessCode  string // case / business number
	Purpose       string
	CertificateID string
	CodeKind      string
	Channel       string // verify | use_code | grant | case | venue_scan
	Result        string // success | refused | invalid | …
	AppID         string
	Detail        string
	// OrgUnit is the caller's own free text naming its sub-unit (a window,
	// a branch); Org and OrgUSCC always come from the caller's registration.
	OrgUnit string
	// RegionCode is "" for a use in this region; else the peer region
	// (区域互认) where it happened, as its signed usage receipt says.
	RegionCode string
}

// Queries is everything a backend can do, inside or outside a transaction.
type Queries interface {
	BenefitQueries
	CopyQueries
	CodeQueries
	WebQueries
	CaseQueries
	AccessQueries
	RegionQueries

	// Principals.
	CreateDepartment(ctx context.Context, d Department) error
	GetDepartment(ctx context.Context, id string) (Department, error)
	GetDepartmentByUSCC(ctx context.Context, uscc string) (Department, error)
	// SetDepartmentTypes replaces the certificate types a department may
	// issue from at on: periods of types no longer listed end at at, types
	// newly listed open a period at at (see DepartmentTypePeriods).
	SetDepartmentTypes(ctx context.Context, id string, types []string, at time.Time) error
	// DepartmentTypePeriods lists when the department with this USCC was
	// authorised for each certificate type, by type and start.
	DepartmentTypePeriods(ctx context.Context, uscc string) ([]TypePeriod, error)
	ListDepartments(ctx context.Context, after string, limit int) ([]Department, error)
	CreateApp(ctx context.Context, a App) error
	GetApp(ctx context.Context, id string) (App, error)
	ListApps(ctx context.Context, after string, limit int) ([]App, error)
	// SetAppServiceItems replaces the service items an app may open cases
	// for (ErrNotFound for an unknown ID).
	SetAppServiceItems(ctx context.Context, id string, items []string) error
	CreateVenue(ctx context.Context, v Venue) error
	GetVenue(ctx context.Context, id string) (Venue, error)
	ListVenues(ctx context.Context, after string, limit int) ([]Venue, error)

	CreateAPIKey(ctx context.Context, k APIKey) error
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	// ListAPIKeys returns a principal's keys, oldest first.
	ListAPIKeys(ctx context.Context, kind PrincipalKind, principalID string) ([]APIKey, error)
	// ExpireOtherAPIKeys makes every other unrevoked key of the principal
	// expire at at (or earlier, if it already would); it returns how many
	// keys it shortened.
	ExpireOtherAPIKeys(ctx context.Context, kind PrincipalKind, principalID, keep string, at time.Time) (int64, error)
	// RevokeAPIKey revokes one key of the principal at at (ErrNotFound if the
	// principal has no such key; revoking twice keeps the first time).
	RevokeAPIKey(ctx context.Context, kind PrincipalKind, principalID, id string, at time.Time) error
	// TouchAPIKey records that the key was used at at (never moves it back).
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	CreateSession(ctx context.Context, s Session) error
	// GetSession returns ErrNotFound for unknown and for expired sessions
	// (expired once now >= ExpiresAt).
	GetSession(ctx context.Context, tokenHash []byte, now time.Time) (Session, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	// Signing keys.
	CreateKey(ctx context.Context, k Key) error
	GetKey(ctx context.Context, kid string) (Key, error)
	ListKeys(ctx context.Context) ([]Key, error)
	// UpdateKey stores Status, NotAfter, RetiredAt and CompromisedAt of k.
	UpdateKey(ctx context.Context, k Key) error

	// Audit. AppendAudit sets e.ID from the database and returns it.
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	// UnsealedAudit lists entries without a seal, oldest ID first, created at
	// or after `since` (zero: all).
	UnsealedAudit(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error)
	// LastAuditSeal returns ErrNotFound while the chain is empty.
	LastAuditSeal(ctx context.Context) (AuditSeal, error)
	// AddAuditSeals appends seals; a Seq or EntryID already sealed gives
	// ErrAlreadyExists (another node sealed first).
	AddAuditSeals(ctx context.Context, seals []AuditSeal) error
	ListSealedAudit(ctx context.Context, afterSeq int64, limit int) ([]SealedAuditEntry, error)
	AddAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
	ListAuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
	// LastAuditCheckpoint returns the checkpoint with the highest Seq, or
	// ErrNotFound while there is none.
	LastAuditCheckpoint(ctx context.Context) (AuditCheckpoint, error)
	// AddAnchorSuccession records a succession; an OldKID or NewKID already
	// recorded gives ErrAlreadyExists.
	AddAnchorSuccession(ctx context.Context, a AnchorSuccession) error
	// ListAnchorSuccessions lists every succession, oldest first.
	ListAnchorSuccessions(ctx context.Context) ([]AnchorSuccession, error)
	// CountUnsealedAuditBefore counts entries older than t that have no seal.
	CountUnsealedAuditBefore(ctx context.Context, t time.Time) (int64, error)
	// ListAudit lists entries by ID for administrators.
	ListAudit(ctx context.Context, afterID int64, limit int) ([]AuditEntry, error)
	// ListAuditNewestFirst lists entries with ID < beforeID (0: from the
	// newest), highest ID first: what an operator reading the log wants.
	ListAuditNewestFirst(ctx context.Context, beforeID int64, limit int) ([]AuditEntry, error)

	// Catalogue.
	CreateCertificateType(ctx context.Context, t CertificateType) error
	GetCertificateType(ctx context.Context, code string) (CertificateType, error)
	ListCertificateTypes(ctx context.Context, after string, limit int) ([]CertificateType, error)

	// Certificates.
	// NextCertificateNumbers reserves n consecutive numbers from one global,
	// never-reused counter (serials and status-list slots derive from them)
	// and returns the first. Numbers taken by a rolled-back transaction may
	// be lost on PostgreSQL (a sequence); gaps are fine.
	NextCertificateNumbers(ctx context.Context, n int) (int64, error)
	// NextStatusSlots reserves n consecutive status-list slots of partition
	// (e.g. one certificate type) and returns the first: a counter per
	// partition, starting at 0, never reused. Callers reserve in blocks.
	NextStatusSlots(ctx context.Context, partition string, n int) (int64, error)
	CreateCertificate(ctx context.Context, c Certificate) error
	// IssueCertificate is CreateCertificate together with the benefit
	// outbox event of the new certificate (免申即享 evaluates its holder after
	// commit), in as few round trips as the backend allows: one statement on
	// PostgreSQL.
	IssueCertificate(ctx context.Context, c Certificate, e BenefitEvent) error
	// CreateCertificates inserts many; an ID or (type, issuer, number,
	// version) already present is skipped, not an error. It returns the IDs
	// it inserted. PostgreSQL uses COPY into a staging table.
	CreateCertificates(ctx context.Context, cs []Certificate) ([]string, error)
	GetCertificate(ctx context.Context, id string) (Certificate, error)
	// IssuedNumbers returns, of the given certificate numbers, those the
	// issuer already used for this type, each with the ID of its latest
	// version (bulk re-runs skip them before signing anything).
	IssuedNumbers(ctx context.Context, typeCode, issuerUSCC string, numbers []string) (map[string]string, error)
	// GetCertificateByNumber finds the latest version with this number.
	GetCertificateByNumber(ctx context.Context, typeCode, issuerUSCC, number string) (Certificate, error)
	// ChangeCertificateStatus applies ch; the own status entries of the
	// certificate's unexpired, unwithdrawn copies take the new status in
	// the same transaction (Copy.Status).
	ChangeCertificateStatus(ctx context.Context, ch CertificateStatusChange) error
	ListCertificates(ctx context.Context, f CertificateFilter, after string, limit int) ([]Certificate, error)
	// StatusEntries lists the entries of a status list that are not valid —
	// of certificates, codes and copies alike (their lists have distinct
	// IDs).
	StatusEntries(ctx context.Context, listID string) ([]StatusEntry, error)
	// StatusLists lists every status list in use, by ID. Lists live in a
	// table of their own: CreateCertificate(s) add a list when its first
	// entry is issued (issuing a valid entry changes no bits, so it does not
	// touch UpdatedAt), ChangeCertificateStatus bumps UpdatedAt in the same
	// transaction — no scan of the certificates.
	StatusLists(ctx context.Context) ([]StatusListInfo, error)
	// GetSignedStatusList returns list id's stored signed form: ErrNotFound
	// for no such list, Version 0 when it was never signed.
	GetSignedStatusList(ctx context.Context, id string) (SignedStatusList, error)
	// PutSignedStatusList stores s as the signed form of list s.ID, moving
	// the current one to Prev; s.Version must be the stored version + 1,
	// else ErrConflict (another node signed it first: read theirs).
	// ErrNotFound for no such list.
	PutSignedStatusList(ctx context.Context, s SignedStatusList) error

	// Idempotency.
	GetIdempotency(ctx context.Context, principal, key string) (IdempotencyRecord, error)
	PutIdempotency(ctx context.Context, r IdempotencyRecord) error
}

// CodeQueries are the queries of 随申码 codes, check-ins, use codes, grants
// and usage records.
type CodeQueries interface {
	// Holders and codes.
	// HolderRef returns the holder's ref, creating the holder on first use.
	HolderRef(ctx context.Context, subject, kind string, now time.Time) (int64, error)
	GetHolderByRef(ctx context.Context, ref int64) (Holder, error)
	CreateCode(ctx context.Context, c Code) error
	// LatestCode returns the owner's code of this kind with the highest
	// generation (ErrNotFound if none).
	LatestCode(ctx context.Context, kind, owner string) (Code, error)
	GetCode(ctx context.Context, id string) (Code, error)
	// ChangeCodeStatus sets Status from `from` to `to` (ErrConflict if it is
	// not `from`; ErrNotFound for an unknown ID) and bumps its status list.
	ChangeCodeStatus(ctx context.Context, id, from, to string, at time.Time) error
	// ResignCode replaces a valid code's text and times after it was signed
	// again (key rotation or compromise); ErrConflict unless its text is
	// still oldText.
	ResignCode(ctx context.Context, id, oldText, text string, issuedAt, expiresAt, at time.Time) error

	// Check-ins. A ClientID already recorded for the venue gives
	// ErrAlreadyExists (uploads are idempotent).
	AddCheckin(ctx context.Context, c Checkin) error
	ListCheckinsByHolder(ctx context.Context, subject string, after string, limit int) ([]Checkin, error)
	ListCheckinsByVenue(ctx context.Context, venueID string, after string, limit int) ([]Checkin, error)

	// Use codes.
	CreateUseCode(ctx context.Context, u UseCode) error
	// RedeemUseCode marks an unused, unexpired use code used by app at now
	// and returns it; used or expired codes give ErrConflict, unknown ones
	// ErrNotFound.
	RedeemUseCode(ctx context.Context, hash []byte, app string, now time.Time) (UseCode, error)

	// Grants.
	CreateGrant(ctx context.Context, g Grant) error
	GetGrant(ctx context.Context, id string) (Grant, error)
	ListGrants(ctx context.Context, subject string, after string, limit int) ([]Grant, error)
	RevokeGrant(ctx context.Context, id string, at time.Time) error
	// ActiveGrant finds an unrevoked, unexpired grant of the holder to the
	// app that covers typeCode (ErrNotFound if none).
	ActiveGrant(ctx context.Context, subject, appID, typeCode string, now time.Time) (Grant, error)

	// Usage records (append-only).
	AddUsageRecord(ctx context.Context, r UsageRecord) error
	ListUsageRecords(ctx context.Context, subject string, after string, limit int) ([]UsageRecord, error)
}

// ServiceItem is a 政务服务事项 with its materials (package cases' spec as JSON).
type ServiceItem struct {
	Code      string
	Name      string
	Spec      []byte
	Seeded    bool
	CreatedAt time.Time
}

// Case is one application (办件) opened by a case system, with what Suishen
// found for it and the counts its statistics add up.
type Case struct {
	ID               string
	ItemCode         string
	ApplicantSubject string
	Caller           string // principal ref of the case system
	Org              string
	Operator         string
	BusinessCode     string
	Purpose          string
	Result           []byte // JSON: materials, prefill, prechecks
	Exempted, Total  int
	PrefillFilled    int
	PrefillTotal     int
	PrecheckPassed   int
	PrecheckTotal    int
	CreatedAt        time.Time
	// Decision is "" until the officer decides, then approved | rejected
	// (set once, with DecisionNotes, DecidedBy and DecidedAt).
	Decision      string
	DecisionNotes string
	DecidedBy     string // principal ref
	DecidedAt     *time.Time
	// PrecheckMatched: the pre-check verdict (every pre-check passed) agreed
	// with the decision. False while undecided.
	PrecheckMatched bool
}

// CaseDecision is the officer's decision on a case.
type CaseDecision struct {
	Decision        string // approved | rejected
	Notes           string
	DecidedBy       string
	DecidedAt       time.Time
	PrecheckMatched bool
}

// ServiceItemStats adds up the cases of one service item.
type ServiceItemStats struct {
	ItemCode                      string
	Cases                         int64
	Exempted, Total               int64
	PrefillFilled, PrefillTotal   int64
	PrecheckPassed, PrecheckTotal int64
	// Decided cases, and those whose pre-check verdict matched the decision.
	Decided, PrecheckMatched int64
}

// StatsFilter narrows ServiceItemStats: to the items listed (nil: every
// item) and to the cases one caller opened ("" : every caller's).
type StatsFilter struct {
	ItemCodes []string
	Caller    string
}

// CaseQueries are the queries of service items and cases.
type CaseQueries interface {
	// CreateServiceItem gives ErrAlreadyExists for a code already present.
	CreateServiceItem(ctx context.Context, it ServiceItem) error
	GetServiceItem(ctx context.Context, code string) (ServiceItem, error)
	// ReplaceSeededServiceItem replaces the name and spec of a seeded item
	// (false, nil when the code is absent or the item is not seeded: an
	// administrator's item is never overwritten).
	ReplaceSeededServiceItem(ctx context.Context, it ServiceItem) (bool, error)
	ListServiceItems(ctx context.Context, after string, limit int) ([]ServiceItem, error)
	CreateCase(ctx context.Context, c Case) error
	GetCase(ctx context.Context, id string) (Case, error)
	// DecideCase records the decision on an undecided case (ErrConflict if
	// it is decided already, ErrNotFound for an unknown ID).
	DecideCase(ctx context.Context, id string, d CaseDecision) error
	// ServiceItemStats sums the cases of every item that has any, by code,
	// within the filter.
	ServiceItemStats(ctx context.Context, f StatsFilter) ([]ServiceItemStats, error)
}

// Store is a backend: Queries outside a transaction plus transactions.
type Store interface {
	Queries
	// InTx runs fn in one read-write transaction and commits if fn returns
	// nil. Serialization failures, deadlocks and busy databases are retried
	// (fn may run more than once: keep side effects out of it).
	InTx(ctx context.Context, fn func(q Queries) error) error
	// InTxReadCommitted is InTx at READ COMMITTED on PostgreSQL (SQLite's
	// single writer is serializable anyway), for writes that are idempotent
	// and conditional by themselves (upserts, guarded updates) and must not
	// fail with serialization conflicts against concurrent transactions:
	// matching's. Deadlocks are retried as in InTx. On PostgreSQL its commit
	// does not wait for the WAL flush (synchronous_commit off): what a crash
	// can lose is the last fraction of a second of such transactions, whole,
	// and for matching that is work the outbox or the match's cursor makes
	// it redo (the cursor is written in the same transaction as its page).
	InTxReadCommitted(ctx context.Context, fn func(q Queries) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Backend names the backend: "postgres" or "sqlite".
	Backend() string
	// Stats reports connection-pool figures for /metrics.
	Stats() PoolStats
	Close() error
}

// PoolStats are connection-pool figures.
type PoolStats struct {
	Open, InUse, Idle int
	WaitCount         int64
	WaitDuration      time.Duration
}
