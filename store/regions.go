package store

import (
	"context"
	"time"
)

// Region is a peer region (区域互认) the administrator registered, with the
// last good copy of its trust bundle and the state of fetching it. The copy
// is kept in the database so that every node of this region verifies
// against the same peer data without fetching it itself.
type Region struct {
	Code      string // 6-digit GB/T 2260 area code
	Name      string
	AnchorPEM string // the pinned trust anchor of the peer (SM2 public key, PEM)
	TrustURL  string // where the peer's bundle is (GET …/v1/trust)
	CreatedAt time.Time

	// The last good bundle ("" until one was fetched) and its times.
	BundleJWS       string
	BundleIssuedAt  *time.Time
	BundleExpiresAt *time.Time
	// Fetch state: when the node next fetches, what the last attempt gave.
	NextFetchAt   time.Time
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	LastError     string // "" after a success
	Failures      int    // consecutive failed attempts (back-off)
	UpdatedAt     time.Time
	// ReceiptsSince is the id of the last usage receipt taken from the
	// peer ("" before the first).
	ReceiptsSince string
}

// UsageReceipt is a use in this region of a peer region's certificate or
// code (区域互认): kept for the peer, which fetches it and shows it to the
// holder in their usage records (用证记录). It names the holder only as the
// peer knows them: the certificate's identifier, or the code's
// pseudonymous subject (hex).
type UsageReceipt struct {
	ID            string // time-ordered (UUIDv7): the peer pages by it
	RegionCode    string // the peer region the certificate or code is of
	At            time.Time
	Org           string
	OrgUSCC       string
	OrgUnit       string
	Operator      string
	ItemCode      string
	ItemName      string
	BusinessCode  string
	Purpose       string
	CertificateID string
	CodeKind      string
	CodeSubject   string
	Channel       string
	Result        string
}

// RegionFetch is the outcome of one fetch of a peer's bundle.
type RegionFetch struct {
	At          time.Time
	NextFetchAt time.Time
	// On success: the bundle (verified) and its times; Err is "".
	BundleJWS       string
	BundleIssuedAt  time.Time
	BundleExpiresAt time.Time
	// Warning: what went wrong with a bundle taken nonetheless (status
	// lists that could not be fetched); stored as the last error.
	Warning string
	// On failure (BundleJWS ""): why; the held bundle stays as it was.
	Err string
}

// RegionList is one status list of a peer region, as its bundle pins it.
type RegionList struct {
	ID  string
	SM3 string
	JWS string
}

// RegionQueries are the queries of peer regions.
type RegionQueries interface {
	// CreateRegion gives ErrAlreadyExists for a code already registered.
	CreateRegion(ctx context.Context, r Region) error
	GetRegion(ctx context.Context, code string) (Region, error)
	// ListRegions lists regions by code after `after`.
	ListRegions(ctx context.Context, after string, limit int) ([]Region, error)
	// DeleteRegion removes the region and its lists (ErrNotFound if absent).
	DeleteRegion(ctx context.Context, code string) error
	// RecordRegionFetch stores a fetch's outcome: on success (a BundleJWS) the
	// bundle replaces the held one — unless the held one was issued later
	// (a replayed older bundle never replaces a newer one: false, nil) —
	// and the failure count is reset; on failure only the state changes.
	// ErrNotFound if the region was deleted meanwhile.
	RecordRegionFetch(ctx context.Context, code string, f RegionFetch) (bool, error)
	// RegionListHeld reports which of the region's lists are held, by id:
	// the SM3 of each.
	RegionListsHeld(ctx context.Context, code string) (map[string]string, error)
	// PutRegionList stores a list of the region (replacing the one of that
	// id); ErrNotFound if the region is not registered.
	PutRegionList(ctx context.Context, code string, l RegionList) error
	// GetRegionList returns the region's list with this id and digest
	// (ErrNotFound if not held).
	GetRegionList(ctx context.Context, code, id, sm3 string) (RegionList, error)
	// RegionsVersion changes whenever a region is registered, removed or
	// fetched (cheap: nodes poll it to follow one another).
	RegionsVersion(ctx context.Context) (string, error)
	// AddUsageReceipt stores a receipt for its region (ErrAlreadyExists for
	// a taken id).
	AddUsageReceipt(ctx context.Context, r UsageReceipt) error
	// ListUsageReceipts lists the receipts for region with id > after.
	ListUsageReceipts(ctx context.Context, region, after string, limit int) ([]UsageReceipt, error)
	// SetReceiptsSince records the last receipt taken from the peer.
	SetReceiptsSince(ctx context.Context, code, since string) error
	// PruneRegionLists removes the region's lists whose id is not in keep.
	PruneRegionLists(ctx context.Context, code string, keep []string) error
}
