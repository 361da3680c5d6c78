package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/regions"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

// Regional mutual recognition (区域互认, issue 15): the administrator
// registers peer regions; package regions fetches their trust data into the
// store in the background; this node's bundle endorses them; verification
// accepts their certificates and codes within their region.

type regionRequest struct {
	Code     string `json:"code" doc:"The peer region's 6-digit administrative area code (GB/T 2260); it must not overlap this node's region nor another peer's." example:"320500"`
	Name     string `json:"name" doc:"The peer region's name." example:"苏州市"`
	Anchor   string `json:"anchor" doc:"The peer's trust anchor: its SM2 public key in PEM (from its 'suishen keys export'), pinned: the peer's bundles must be signed by it." example:"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE…\n-----END PUBLIC KEY-----\n"`
	TrustURL string `json:"trust_url" doc:"Where the peer's trust bundle is: its GET /v1/trust URL (or its base URL). Redirects are not followed." example:"https://suishen.suzhou.gov.cn/v1/trust"`
}

type regionView struct {
	Code            string     `json:"code" doc:"The peer region's area code." example:"320500"`
	Name            string     `json:"name" doc:"Its name." example:"苏州市"`
	Anchor          string     `json:"anchor" doc:"Its pinned trust anchor (PEM)."`
	AnchorKID       string     `json:"anchor_kid" doc:"The anchor's key id (SM3 thumbprint), as its bundles' JWS kid." example:"q0a8hH3Xb9…"`
	TrustURL        string     `json:"trust_url" doc:"Where its bundle is fetched from." example:"https://suishen.suzhou.gov.cn/v1/trust"`
	CreatedAt       time.Time  `json:"created_at" doc:"When it was registered." example:"2026-12-01T08:00:00Z"`
	State           string     `json:"state" doc:"pending (not fetched yet); current (a good bundle is held and the last fetch succeeded); stale (the last fetch failed, the held bundle is used until it expires); expired (no usable bundle: the peer's certificates and codes verify as unknown)." enum:"pending,current,stale,expired" example:"current"`
	BundleIssuedAt  *time.Time `json:"bundle_issued_at" doc:"When the held bundle was issued; null while none is held."`
	BundleExpiresAt *time.Time `json:"bundle_expires_at" doc:"When the held bundle expires; null while none is held."`
	NextFetchAt     time.Time  `json:"next_fetch_at" doc:"When a node fetches the peer's bundle next (the peer's next_update, clamped; sooner after a failure)." example:"2026-12-01T08:15:00Z"`
	LastAttemptAt   *time.Time `json:"last_attempt_at" doc:"When the last fetch was tried."`
	LastSuccessAt   *time.Time `json:"last_success_at" doc:"When a fetch last succeeded."`
	LastError       string     `json:"last_error,omitempty" doc:"What went wrong in the last fetch (absent after a success)." example:"fetch trust bundle: HTTP 302"`
	Failures        int        `json:"failures" doc:"Consecutive failed fetches." example:"0"`
}

type regionList struct {
	Items      []regionView `json:"items" doc:"This page of peer regions, by code."`
	NextCursor *string      `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// regionRoutes are the routes of regional mutual recognition.
func (s *Server) regionRoutes() []route {
	return []route{
		{Method: http.MethodPost, Path: "/v1/admin/regions", Summary: "Register a peer region (区域互认): its certificates and codes verify here, offline too", Tag: "regions", Access: adminOnly, Handler: s.createRegion, Request: regionRequest{}, Response: regionView{}, Status: 201, Idempotent: true, Errors: []int{409},
			Doc: "The node fetches the peer's trust bundle in the background, verifies it against the pinned anchor, refreshes it on the peer's schedule and keeps the last good copy until it expires; this node's own trust bundle lists the peer from its next signing on."},
		{Method: http.MethodGet, Path: "/v1/admin/regions", Summary: "List peer regions with the state of their trust data", Tag: "regions", Access: adminOnly, Handler: s.listRegions, Response: regionList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/admin/regions/{code}", Summary: "One peer region with the state of its trust data", Tag: "regions", Access: adminOnly, Handler: s.getRegion, Response: regionView{}, Status: 200},
		{Method: http.MethodDelete, Path: "/v1/admin/regions/{code}", Summary: "Remove a peer region: no longer trusted here, and gone from this node's next trust bundle", Tag: "regions", Access: adminOnly, Handler: s.deleteRegion, Status: 204},
		{Method: http.MethodGet, Path: "/v1/regions/{code}/trust", Summary: "A peer region's trust bundle as this node holds it (signed by the peer's anchor), for offline verifiers that reach only this node; ETag / If-None-Match", Tag: "regions", Access: public, Handler: s.regionBundle, Status: 200, Produces: []string{"application/jose"}},
		{Method: http.MethodGet, Path: "/v1/regions/usage-receipts", Summary: "Usage receipts for a peer region: uses here of its certificates and codes, signed by this node's anchor (the peer authenticates with a request token its anchor signed, header Suishen-Region-Request)", Tag: "regions", Access: public, Handler: s.usageReceipts, Status: 200, Produces: []string{"application/jose"}, Query: []string{"since"}, Errors: []int{403},
			Params: map[string]string{"since": "The id of the last receipt taken (the answer's last receipt, or its next); empty for the first."},
			Doc:    "The answer is a compact JWS (typ suishen-usage-receipts+json) of {iss, aud, issued_at, receipts[], next}: at most 500 receipts after the receipt id `since`, in id order; ask again with since=next while next is present. Receipts name the holder only as the peer knows them (certificate identifier or the code's pseudonymous subject)."},
		{Method: http.MethodGet, Path: "/v1/regions/{code}/status-lists/{id}", Summary: "A status list of a peer region as this node holds it (signed by the peer's anchor)", Tag: "regions", Access: public, Handler: s.regionStatusList, Status: 200, Produces: []string{"application/jose"}, Query: []string{"sm3"}},
	}
}

func viewRegion(r store.Region, now time.Time) regionView {
	v := regionView{Code: r.Code, Name: r.Name, Anchor: r.AnchorPEM, TrustURL: r.TrustURL, CreatedAt: r.CreatedAt,
		State: regions.State(r, now), BundleIssuedAt: utcPtr(r.BundleIssuedAt), BundleExpiresAt: utcPtr(r.BundleExpiresAt),
		NextFetchAt: r.NextFetchAt.UTC(), LastAttemptAt: utcPtr(r.LastAttemptAt), LastSuccessAt: utcPtr(r.LastSuccessAt),
		LastError: r.LastError, Failures: r.Failures}
	if k, err := signing.ParsePublicKeyPEM([]byte(r.AnchorPEM)); err == nil {
		v.AnchorKID = signing.Thumbprint(k)
	}
	return v
}

func (s *Server) createRegion(c *echo.Context) error {
	var req regionRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	switch {
	case req.Code == "":
		v.add("code", "required", "is required")
	case !trust.ValidRegionCode(req.Code):
		v.add("code", "area_code", "must be a 6-digit GB/T 2260 administrative area code")
	case trust.RegionsOverlap(req.Code, s.cfg.RegionCode):
		v.add("code", "overlaps_home_region", "overlaps this node's own region "+s.cfg.RegionCode+" (SUISHEN_REGION_CODE): a peer cannot sign for it")
	}
	v.text("name", req.Name, 100)
	var anchorPEM string
	if req.Anchor == "" {
		v.add("anchor", "required", "is required")
	} else if k, err := signing.ParsePublicKeyPEM([]byte(req.Anchor)); err != nil {
		v.add("anchor", "format", "is not an SM2 public key in PEM")
	} else if b, err := signing.MarshalPublicKeyPEM(k); err == nil {
		anchorPEM = string(b)
		if own, err := s.deps.Keys.Signer(c.Request().Context(), store.RoleAnchor, ""); err == nil && signing.Thumbprint(own.Public()) == signing.Thumbprint(k) {
			v.add("anchor", "own_anchor", "is this node's own trust anchor")
		}
	}
	if req.TrustURL == "" {
		v.add("trust_url", "required", "is required")
	} else if why := regions.CheckTrustURL(req.TrustURL); why != "" {
		v.add("trust_url", "format", why)
	}
	if err := v.err(); err != nil {
		return err
	}
	err = s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		all, err := q.ListRegions(ctx, "", trust.MaxPeers+1)
		if err != nil {
			return 0, nil, err
		}
		for _, r := range all {
			if r.Code == req.Code {
				return 0, nil, problemConflict("code", "a peer region with this code is registered already")
			}
			if trust.RegionsOverlap(r.Code, req.Code) {
				p := problem(http.StatusConflict, "region_overlap", "overlaps the registered peer region "+r.Code+": which of the two may sign there would be ambiguous")
				p.Errors = []FieldError{{Field: "code", Code: "region_overlap", Detail: p.Detail}}
				return 0, nil, p
			}
		}
		if len(all) >= trust.MaxPeers {
			p := problem(http.StatusConflict, "too_many_regions", "at most 32 peer regions: the trust bundle lists each of them and has a size goal")
			p.Errors = []FieldError{{Field: "code", Code: "too_many_regions", Detail: p.Detail}}
			return 0, nil, p
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		r := store.Region{Code: req.Code, Name: req.Name, AnchorPEM: anchorPEM, TrustURL: req.TrustURL, CreatedAt: now, NextFetchAt: now, UpdatedAt: now}
		if err := q.CreateRegion(ctx, r); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return 0, nil, problemConflict("code", "a peer region with this code is registered already")
			}
			return 0, nil, err
		}
		if err := s.record(ctx, c, q, "region.create", "region", r.Code,
			map[string]any{"name": r.Name, "trust_url": r.TrustURL, "anchor_kid": viewRegion(r, now).AnchorKID}); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, viewRegion(r, now), nil
	})
	if err == nil {
		s.regionsChanged()
	}
	return err
}

func (s *Server) listRegions(c *echo.Context) error {
	now := s.now()
	items, next, err := listPage(c, s.store.ListRegions, infallible(func(r store.Region) regionView { return viewRegion(r, now) }),
		func(r store.Region) string { return r.Code })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, regionList{Items: items, NextCursor: next})
}

func (s *Server) getRegion(c *echo.Context) error {
	r, err := s.store.GetRegion(c.Request().Context(), c.Param("code"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("peer region")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewRegion(r, s.now()))
}

func (s *Server) deleteRegion(c *echo.Context) error {
	ctx := c.Request().Context()
	code := c.Param("code")
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeleteRegion(ctx, code); err != nil {
			return err
		}
		return s.record(ctx, c, q, "region.delete", "region", code, map[string]any{})
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("peer region")
	}
	if err != nil {
		return err
	}
	s.regionsChanged()
	return c.NoContent(http.StatusNoContent)
}

// regionsChanged: the peers changed on this node — the bundle is re-signed
// with the new list and the verifiers are rebuilt at once (other nodes
// follow within their reload interval).
func (s *Server) regionsChanged() {
	s.pub.Invalidate()
	s.peers.invalidate()
}

// regionBundle relays a peer's bundle as held: self-authenticating (the
// peer's anchor signed it, and this node's bundle names that anchor), so
// an offline verifier or the scanner page needs to reach only this node.
func (s *Server) regionBundle(c *echo.Context) error {
	r, err := s.store.GetRegion(c.Request().Context(), c.Param("code"))
	if errors.Is(err, store.ErrNotFound) || err == nil && r.BundleJWS == "" {
		return problem(http.StatusNotFound, "no_region_bundle", "this node holds no trust bundle of that region")
	}
	if err != nil {
		return err
	}
	etag := trustsync.BundleETag(r.BundleJWS)
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=60")
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == etag || m == "*" || m == "W/"+etag {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, "application/jose", []byte(r.BundleJWS))
}

// regionStatusList relays a peer's status list as held, by the digest its
// bundle pins.
func (s *Server) regionStatusList(c *echo.Context) error {
	want := c.QueryParam("sm3")
	if !isSM3Hex(want) {
		p := problem(http.StatusBadRequest, "invalid_parameter", "sm3 is the 64-character lowercase hex SM3 digest the peer's bundle pins")
		p.Errors = []FieldError{{Field: "sm3", Code: "invalid", Detail: p.Detail}}
		return p
	}
	l, err := s.store.GetRegionList(c.Request().Context(), c.Param("code"), c.Param("id"), want)
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, "status_list_version_gone", "this node holds no status list of that region with that digest")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	c.Response().Header().Set("ETag", `"`+l.SM3+`"`)
	return c.Blob(http.StatusOK, "application/jose", []byte(l.JWS))
}

// regionNamed names a region code: this node's region, or a peer as
// registered (the code alone once the peer is removed).
func (s *Server) regionNamed(code string) *trust.Region {
	if code == s.cfg.RegionCode {
		return &trust.Region{Code: code, Name: s.cfg.RegionName}
	}
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	for _, r := range s.peers.regions {
		if r.Code == code {
			return &trust.Region{Code: code, Name: r.Name}
		}
	}
	return &trust.Region{Code: code}
}

// peerCheckin records a holder's check-in at a peer region's venue: the
// venue is the peer's (its id and public name come from its signed code).
func (s *Server) peerCheckin(c *echo.Context, r verifier.Result) error {
	ctx := c.Request().Context()
	h := who(c)
	now := s.now().UTC().Truncate(time.Microsecond)
	ci := store.Checkin{ID: newID(), VenueID: r.VenueID, HolderSubject: h.ID, MaskedName: h.Name, Source: "holder_scan",
		CodeKind: "venue", At: now, CreatedAt: now, RegionCode: r.Region.Code, VenueName: r.Subject.Masked}
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.AddCheckin(ctx, ci); err != nil {
			return err
		}
		return s.record(ctx, c, q, "checkin.create", "venue", r.VenueID, map[string]any{"source": ci.Source, "region": ci.RegionCode})
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, checkinResponse{ID: ci.ID, Venue: venueBrief{ID: r.VenueID, Name: r.Subject.Masked}, At: now, Region: r.Region})
}

// recordPeerScan records a scan of a peer region's holder at the calling
// venue: the holder is known here only by the code's pseudonymous subject
// and masked name.
func (s *Server) recordPeerScan(ctx context.Context, c *echo.Context, parsed *codes.Code, r verifier.Result, source, clientID string, at time.Time) (checkinView, error) {
	venue := who(c)
	now := s.now().UTC().Truncate(time.Microsecond)
	ci := store.Checkin{ID: newID(), VenueID: venue.ID, HolderSubject: "region:" + r.Region.Code + ":" + hex.EncodeToString(parsed.Subject),
		MaskedName: parsed.DisplayName, Source: source, CodeKind: parsed.Kind.String(), ClientID: clientID,
		At: at.UTC().Truncate(time.Microsecond), CreatedAt: now, RegionCode: r.Region.Code}
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.AddCheckin(ctx, ci); err != nil {
			return err
		}
		return s.record(ctx, c, q, "checkin.create", "venue", venue.ID, map[string]any{"source": source, "region": ci.RegionCode})
	})
	if err != nil {
		return checkinView{}, err
	}
	// The peer shows the scan to its holder (区域互认 usage receipt).
	if err := s.peerReceipt(ctx, r, parsed.Subject, store.UsageRecord{At: ci.At, Org: venue.Name, OrgUSCC: venue.USCC,
		Operator: "venue scanner", Purpose: "场所扫码登记", Channel: source, Result: "success"}); err != nil {
		return checkinView{}, err
	}
	return checkinView{ID: ci.ID, MaskedName: ci.MaskedName, Source: ci.Source, CodeKind: ci.CodeKind, ClientID: clientID, At: ci.At, Region: r.Region}, nil
}

// usageReceipts serves a peer region the receipts of uses here of its
// certificates and codes (区域互认), to a request its anchor signed.
func (s *Server) usageReceipts(c *echo.Context) error {
	ctx := c.Request().Context()
	r, err := regions.CheckRequest(ctx, s.store, s.cfg.RegionCode, c.Request().Header.Get(regions.RequestHeader), s.now())
	if errors.Is(err, regions.ErrRequest) {
		// 403, not 401: the route is public as far as API tokens go; what is
		// missing is a peer region's signed request.
		return problem(http.StatusForbidden, "region_request_invalid",
			"send a current request token signed by the anchor of a registered peer region, addressed to this region, in the Suishen-Region-Request header")
	}
	if err != nil {
		return err
	}
	since := c.QueryParam("since")
	if len(since) > 64 {
		return invalid(FieldError{Field: "since", Code: "length", Detail: "is not a receipt id"})
	}
	rows, err := s.store.ListUsageReceipts(ctx, r.Code, since, regions.ReceiptsPage+1)
	if err != nil {
		return err
	}
	out := regions.Receipts{Iss: s.cfg.RegionCode, Aud: r.Code, IssuedAt: s.now().UTC().Truncate(time.Second), Receipts: []regions.Receipt{}}
	for i, x := range rows {
		if i == regions.ReceiptsPage {
			out.Next = rows[i-1].ID
			break
		}
		out.Receipts = append(out.Receipts, regions.ReceiptOf(x))
	}
	anchor, err := s.deps.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return err
	}
	jws, err := regions.SignReceipts(anchor, out)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/jose", []byte(jws))
}

// peerReceipt keeps a receipt for the peer region whose certificate or
// code was used here (r is its authentic verification): the peer fetches
// it and shows the use to the holder. subject is a code's pseudonymous
// subject ("" for a certificate).
func (s *Server) peerReceipt(ctx context.Context, r verifier.Result, subject []byte, rec store.UsageRecord) error {
	if r.Region == nil || s.homeResult(r) || !authentic(r) {
		return nil
	}
	at := rec.At
	if at.IsZero() {
		at = s.now()
	}
	rc := store.UsageReceipt{ID: uuid.Must(uuid.NewV7()).String(), RegionCode: r.Region.Code, At: at.UTC().Truncate(time.Microsecond),
		Org: rec.Org, OrgUSCC: rec.OrgUSCC, OrgUnit: rec.OrgUnit, Operator: rec.Operator, ItemCode: rec.ItemCode, ItemName: rec.ItemName,
		BusinessCode: rec.BusinessCode, Purpose: rec.Purpose, CertificateID: r.CertificateID, CodeKind: rec.CodeKind,
		Channel: rec.Channel, Result: rec.Result}
	if r.Kind != verifier.KindCertificate {
		rc.CodeKind = r.Kind
		rc.CodeSubject = hex.EncodeToString(subject)
	}
	if rc.CertificateID == "" && rc.CodeSubject == "" {
		return nil
	}
	return s.store.AddUsageReceipt(ctx, rc)
}

// receiptHolder finds who a receipt from a peer is about here: the holder
// of the certificate it names, or of the code subject.
func (s *Server) receiptHolder(ctx context.Context, rc regions.Receipt) (string, bool, error) {
	if rc.CertificateID != "" {
		cert, err := s.store.GetCertificate(ctx, rc.CertificateID)
		if errors.Is(err, store.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return cert.HolderSubject, true, nil
	}
	subj, err := hex.DecodeString(rc.CodeSubject)
	if err != nil || len(subj) == 0 || len(subj) > 64 {
		return "", false, nil
	}
	h, err := s.deps.Codes.HolderOf(ctx, subj)
	if err != nil {
		return "", false, nil // not a holder of this region (or not any more)
	}
	return h.Subject, true, nil
}

// handedOver verifies the certificates an applicant handed over for a case
// (区域互认: typically a peer region's). Each must be authentic here — under
// this region's keys or a registered peer's within its area — and name the
// applicant as its holder; one that is not valid stays a candidate that
// exempts nothing, with the verifier's reason.
func (s *Server) handedOver(ctx context.Context, jwss []string, applicant store.Holder) ([]cases.Candidate, error) {
	if len(jwss) == 0 {
		return nil, nil
	}
	fed, err := s.federationNow(ctx)
	if err != nil {
		return nil, err
	}
	var out []cases.Candidate
	var errs []FieldError
	for i, jws := range jwss {
		f := "certificates[" + strconv.Itoa(i) + "]"
		r := fed.VerifyCertificate(jws)
		if !authentic(r) || r.KeyID == "" {
			code, detail := "unverifiable", "does not verify under this region's keys or a registered peer region's"
			if len(r.Reasons) > 0 {
				code, detail = r.Reasons[0].Code, r.Reasons[0].Detail
			}
			errs = append(errs, FieldError{Field: f, Code: code, Detail: detail})
			continue
		}
		_, payload, err := signing.ParseJWS(jws)
		var d issuer.Document
		if err != nil || json.Unmarshal(payload, &d) != nil || len(d.Holders) == 0 {
			errs = append(errs, FieldError{Field: f, Code: "malformed", Detail: "is not a certificate document"})
			continue
		}
		h := d.Holders[0]
		kind := "person"
		if h.IDType == issuer.IDTypeUSCC {
			kind = "enterprise"
		}
		if kind != applicant.Kind || s.deps.Subjects.Of(kind, h.IDNumber) != applicant.Subject {
			errs = append(errs, FieldError{Field: f, Code: "not_applicant", Detail: "names another holder than the applicant"})
			continue
		}
		cand := cases.Candidate{ID: d.Identifier, TypeCode: d.TypeCode, Status: issuer.StatusValid, Document: d,
			Verified: r.Result == verifier.Valid, HolderIsApplicant: true}
		if !cand.Verified && len(r.Reasons) > 0 {
			cand.Reason = r.Reasons[0].Code
		}
		if !s.homeResult(r) {
			cand.Region = r.Region.Code
		}
		out = append(out, cand)
	}
	if len(errs) > 0 {
		return nil, invalid(errs...)
	}
	return out, nil
}
