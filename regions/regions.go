// Package regions keeps this node's copy of its peer regions' trust data
// (区域互认): for each peer the administrator registered it fetches the
// peer's trust bundle and the status lists the bundle references (package
// trustsync), verifies the bundle against the peer's pinned anchor, and
// stores the last good copy in the database, so that every node of this
// region verifies against the same peer data and none fetches anything
// while answering a request.
//
// Faults of a peer never reach this region's requests: fetching runs in
// the background (Run) with bounded time (Service.Timeout per request) and
// size (MaxBundleSize, trustsync.MaxListSize), follows no redirect, and
// keeps the held copy when anything is wrong — a bundle that is not signed
// by the pinned anchor, that has expired, that is oversized, that names
// another region, or that is older than the held one. The held copy is used
// until it expires; then verifiers answer "unknown", never "valid".
package regions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
)

// Limits of what is taken from a peer.
const (
	// MaxBundleSize bounds a peer's bundle: far above the 64 KiB goal of
	// a bundle, far below what could hurt.
	MaxBundleSize = 256 << 10
	// MaxLists bounds the status lists of one peer bundle that are kept.
	MaxLists = 1024
	// MinInterval and MaxInterval clamp the peer's schedule (its bundle's
	// next_update); failures back off from RetryMin to RetryMax.
	MinInterval = time.Minute
	MaxInterval = time.Hour
	RetryMin    = time.Minute
	RetryMax    = 15 * time.Minute
	// FutureSkew: a bundle issued further in the future is refused (it
	// would keep every later bundle out).
	FutureSkew = 5 * time.Minute
)

// Service fetches peer regions' trust data into the store.
type Service struct {
	Store store.Store
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
	// Timeout bounds each request to a peer (0: 10 s); one refresh of a
	// peer is bounded by a few of them.
	Timeout time.Duration
	// HTTP is the client for peers (nil: one that follows no redirect).
	HTTP *http.Client
	// OnChange is called after a peer's held bundle or lists changed (the
	// server drops its cached verifiers).
	OnChange func()

	// Usage receipts (PullReceipts): this region's code, its anchor (to
	// sign requests) and who a receipt's certificate or code belongs to
	// here (ok false: nobody known here).
	Region string
	Anchor func(ctx context.Context) (signing.Signer, error)
	Holder func(ctx context.Context, r Receipt) (subject string, ok bool, err error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 10 * time.Second
}

// noRedirect is the client for peers: a redirect is answered as the
// response it is (and refused as not 200), never followed — to another
// host or the same.
func (s *Service) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{
		Timeout:       s.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Base is the base URL of a peer's node from its trust URL: the URL
// without a trailing /v1/trust (given either way).
func Base(trustURL string) string {
	return strings.TrimSuffix(strings.TrimRight(trustURL, "/"), "/v1/trust")
}

// CheckTrustURL reports why a trust URL cannot be used ("" when it can):
// an absolute http(s) URL without credentials, query or fragment.
func CheckTrustURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || len(s) > 500:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return "must be an absolute http(s) URL"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "must carry no credentials, query or fragment"
	}
	return ""
}

// State is a peer's state as the admin API shows it.
func State(r store.Region, now time.Time) string {
	switch {
	case r.BundleJWS == "" && r.LastAttemptAt == nil:
		return "pending" // never fetched yet
	case r.BundleExpiresAt == nil || !now.Before(*r.BundleExpiresAt):
		return "expired" // nothing usable: its codes and certificates are unknown
	case r.LastError != "":
		return "stale" // the held copy is used until it expires
	}
	return "current"
}

// RefreshDue refreshes every peer whose next fetch is due and reports how
// many it refreshed successfully.
func (s *Service) RefreshDue(ctx context.Context) (int, error) {
	now := s.now()
	ok, after := 0, ""
	for {
		page, err := s.Store.ListRegions(ctx, after, 100)
		if err != nil {
			return ok, err
		}
		for _, r := range page {
			if now.Before(r.NextFetchAt) {
				continue
			}
			if err := s.Refresh(ctx, r.Code); err == nil {
				ok++
			} else if ctx.Err() != nil {
				return ok, ctx.Err()
			}
			// Uses of this region's certificates and codes in the peer,
			// on the same schedule.
			if s.Region != "" && s.Anchor != nil && s.Holder != nil {
				if _, err := s.PullReceipts(ctx, r.Code); err != nil && ctx.Err() == nil {
					s.log().Warn("fetching usage receipts from a peer region failed", "region", r.Code, "err", err)
				}
			}
		}
		if len(page) < 100 {
			return ok, nil
		}
		after = page[len(page)-1].Code
	}
}

// Run refreshes due peers every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RefreshDue(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("refreshing peer regions failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errFetch is a fault of the peer (recorded, never an error of this node).
type errFetch struct{ msg string }

func (e errFetch) Error() string { return e.msg }

// Refresh fetches one peer's bundle and lists now and records the
// outcome. An error is returned for a fault of the peer too (after it is
// recorded in the region's state) and for a store failure.
func (s *Service) Refresh(ctx context.Context, code string) error {
	r, err := s.Store.GetRegion(ctx, code)
	if err != nil {
		return err
	}
	at := s.now().UTC().Truncate(time.Microsecond)
	// One refresh is bounded as a whole too: a bundle and its lists.
	ctx, cancel := context.WithTimeout(ctx, 8*s.timeout())
	defer cancel()
	f, lists, fetchErr := s.fetch(ctx, r, at)
	if fetchErr != nil {
		var fe errFetch
		if !errors.As(fetchErr, &fe) {
			return fetchErr
		}
		backoff := RetryMin << min(r.Failures, 4)
		f = store.RegionFetch{At: at, NextFetchAt: at.Add(min(backoff, RetryMax)), Err: trim(fe.msg)}
		if _, err := s.Store.RecordRegionFetch(context.WithoutCancel(ctx), code, f); err != nil {
			return err
		}
		s.log().Warn("peer region fetch failed; its held bundle stays in use until it expires", "region", code, "err", fe.msg)
		return fetchErr
	}
	replaced, err := s.Store.RecordRegionFetch(ctx, code, f)
	if err != nil {
		return err
	}
	if replaced {
		if err := s.Store.PruneRegionLists(ctx, code, lists); err != nil {
			return err
		}
	}
	if s.OnChange != nil {
		s.OnChange()
	}
	if f.Warning != "" {
		return errFetch{f.Warning}
	}
	return nil
}

func trim(s string) string {
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// fetch gets and checks the peer's bundle and stores the lists it needs;
// it returns the fetch to record and the ids of the lists the bundle
// references.
func (s *Service) fetch(ctx context.Context, r store.Region, at time.Time) (store.RegionFetch, []string, error) {
	anchor, err := signing.ParsePublicKeyPEM([]byte(r.AnchorPEM))
	if err != nil {
		return store.RegionFetch{}, nil, errFetch{"the registered anchor does not parse: " + err.Error()}
	}
	c := trustsync.Client{Server: Base(r.TrustURL), HTTP: s.client(), Now: func() time.Time { return at },
		Timeout: s.timeout(), MaxBundleSize: MaxBundleSize}
	jws, _, err := c.Bundle(ctx, r.BundleJWS)
	if err != nil {
		return store.RegionFetch{}, nil, errFetch{err.Error()}
	}
	b, err := trust.Verify(jws, anchor, at)
	switch {
	case errors.Is(err, trust.ErrExpired):
		return store.RegionFetch{}, nil, errFetch{"the peer's bundle has expired (expires_at " + b.ExpiresAt.UTC().Format(time.RFC3339) + ")"}
	case err != nil:
		return store.RegionFetch{}, nil, errFetch{"the peer's bundle is refused: " + err.Error()}
	case b.Region != nil && b.Region.Code != r.Code:
		return store.RegionFetch{}, nil, errFetch{fmt.Sprintf("the peer's bundle is of region %q, not %q", b.Region.Code, r.Code)}
	case b.IssuedAt.After(at.Add(FutureSkew)):
		return store.RegionFetch{}, nil, errFetch{"the peer's bundle is issued in the future (" + b.IssuedAt.UTC().Format(time.RFC3339) + ")"}
	case r.BundleIssuedAt != nil && b.IssuedAt.Before(*r.BundleIssuedAt):
		return store.RegionFetch{}, nil, errFetch{"the peer served an older bundle than the one held (a replay?)"}
	case len(b.StatusLists) > MaxLists:
		return store.RegionFetch{}, nil, errFetch{fmt.Sprintf("the peer's bundle references %d status lists, more than %d", len(b.StatusLists), MaxLists)}
	}
	held, err := s.Store.RegionListsHeld(ctx, r.Code)
	if err != nil {
		return store.RegionFetch{}, nil, err
	}
	var ids []string
	failed := 0
	for _, ref := range b.StatusLists {
		ids = append(ids, ref.ID)
		if held[ref.ID] == strings.ToLower(ref.SM3) {
			continue
		}
		list, err := c.List(ctx, ref)
		if err != nil {
			failed++
			continue
		}
		if err := s.Store.PutRegionList(ctx, r.Code, store.RegionList{ID: ref.ID, SM3: strings.ToLower(ref.SM3), JWS: list}); err != nil {
			return store.RegionFetch{}, nil, err
		}
	}
	next := b.NextUpdate
	if next.Before(at.Add(MinInterval)) {
		next = at.Add(MinInterval)
	}
	if next.After(at.Add(MaxInterval)) {
		next = at.Add(MaxInterval)
	}
	f := store.RegionFetch{At: at, NextFetchAt: next, BundleJWS: jws, BundleIssuedAt: b.IssuedAt.UTC(), BundleExpiresAt: b.ExpiresAt.UTC()}
	if failed > 0 {
		// The bundle is taken (its key statuses are news too); what the
		// missing lists cover verifies as unknown until the next try.
		f.Warning = fmt.Sprintf("%d of %d status lists could not be fetched", failed, len(b.StatusLists))
		f.NextFetchAt = at.Add(RetryMin)
	}
	return f, ids, nil
}
