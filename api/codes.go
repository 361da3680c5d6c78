package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// --- bodies ---

type codeResponse struct {
	Code       string    `json:"code" doc:"The code text (what the QR code holds)." example:"SS1:AQEC…"`
	Kind       string    `json:"kind" doc:"The kind of code." enum:"personal,offline,enterprise,venue,presentation" example:"personal"`
	ExpiresAt  time.Time `json:"expires_at" doc:"When the code stops verifying." example:"2026-12-01T08:01:00Z"`
	Generation int       `json:"generation,omitempty" doc:"For offline, enterprise and venue codes: the generation; issuing a new one invalidates the earlier." example:"2"`
}

type presentationRequest struct {
	Purpose string `json:"purpose" doc:"Why the certificate is shown (亮证), recorded in the usage record." example:"银行开户"`
}

type presentationResponse struct {
	Code      string    `json:"code" doc:"The presentation code text: verifies offline for this one certificate." example:"SS1:BQEC…"`
	UseCode   string    `json:"use_code" doc:"The one-time use code (用证码) an app redeems for the certificate data." example:"482913"`
	ExpiresAt time.Time `json:"expires_at" doc:"When the code and the use code expire." example:"2026-12-01T08:05:00Z"`
}

type codeRequest struct {
	Code string `json:"code" doc:"The scanned code text." example:"SS1:BAEC…"`
}

type venueBrief struct {
	ID      string `json:"id" doc:"The venue id." example:"ven_01JD8X3K2Q"`
	Name    string `json:"name" doc:"The venue name." example:"徐汇区图书馆"`
	Address string `json:"address" doc:"The venue address." example:"上海市徐汇区南丹东路80号"`
}

type checkinResponse struct {
	ID     string        `json:"id" doc:"The check-in id." example:"chk_01JD8X3K2Q"`
	Venue  venueBrief    `json:"venue" doc:"Where the holder checked in."`
	At     time.Time     `json:"at" doc:"When." example:"2026-12-01T08:00:00Z"`
	Region *trust.Region `json:"region,omitempty" doc:"The peer region (区域互认) of the venue; absent for a venue of this region."`
}

type checkinView struct {
	ID         string        `json:"id" doc:"The check-in id." example:"chk_01JD8X3K2Q"`
	Venue      venueBrief    `json:"venue,omitempty" doc:"Where (in the holder list)."`
	Region     *trust.Region `json:"region,omitempty" doc:"The peer region (区域互认) of the venue (in the holder list) or of the visitor (in the venue list); absent within this region."`
	MaskedName string        `json:"masked_name,omitempty" doc:"The visitor name, masked (in the venue list)." example:"张*"`
	Source     string        `json:"source" doc:"How it was recorded: the holder scanned the venue code, the venue scanned the person, or the venue uploaded an offline scan." enum:"holder_scan,venue_scan,venue_upload" example:"venue_scan"`
	CodeKind   string        `json:"code_kind" doc:"The kind of code scanned." enum:"personal,offline,enterprise,venue,presentation,copy" example:"personal"`
	ClientID   string        `json:"client_id,omitempty" doc:"The venue own id of an uploaded offline scan." example:"scan-000123"`
	At         time.Time     `json:"at" doc:"When." example:"2026-12-01T08:00:00Z"`
}

type checkinList struct {
	Items      []checkinView `json:"items" doc:"This page of check-ins, newest first."`
	NextCursor *string       `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type reasonView struct {
	Code   string `json:"code" doc:"A stable reason code: what made the result invalid or unknown." enum:"@verifier.reasons" example:"expired"`
	Detail string `json:"detail" doc:"The reason in words." example:"the code expired at 2026-12-01T08:01:00Z"`
}

type verifyResult struct {
	Result        string        `json:"result" doc:"valid, invalid, or unknown (what could not be checked; never valid, never invalid)." enum:"valid,invalid,unknown" example:"valid"`
	Reasons       []reasonView  `json:"reasons" doc:"Why the result is not valid (empty when valid)."`
	Kind          string        `json:"kind" doc:"What was verified: a code of some kind, or a certificate JWS." enum:"personal,offline,enterprise,venue,presentation,copy,certificate" example:"personal"`
	Issuer        string        `json:"issuer" doc:"Who signed it (this node, or the issuing department)." example:"http://127.0.0.1:8080"`
	IssuedAt      *time.Time    `json:"issued_at" doc:"When it was signed."`
	ExpiresAt     *time.Time    `json:"expires_at" doc:"When it stops verifying."`
	Subject       subjectView   `json:"subject" doc:"Who it is about, masked."`
	CertificateID string        `json:"certificate_id,omitempty" doc:"The certificate identifier, for presentation and copy codes and certificate JWS." example:"11100000000021001C0011210000000000001X"`
	TypeCode      string        `json:"type_code,omitempty" doc:"The certificate type code, where there is a certificate." example:"11100000000021001C001"`
	Copy          *copyInfo     `json:"copy,omitempty" doc:"For an annotated copy (加注件, kind copy): whom it was made for and why, as signed in the code."`
	Region        *trust.Region `json:"region,omitempty" doc:"The region whose keys verified the signature (区域互认): this node's own region (SUISHEN_REGION_CODE) or a registered peer region; absent when no key of either verified it."`
}

type copyInfo struct {
	RecipientOrg  string `json:"recipient_org" doc:"The organisation the copy was made for." example:"某某银行上海分行"`
	RecipientUSCC string `json:"recipient_uscc" doc:"Its unified social credit code." example:"91310000MA1K4C2X5R"`
	Purpose       string `json:"purpose" doc:"What for." example:"办理个人贷款"`
	Annotation    string `json:"annotation" doc:"The annotation across the copy: 仅供 + recipient + purpose + 使用." example:"仅供某某银行上海分行办理个人贷款使用"`
}

type subjectView struct {
	Masked string `json:"masked" doc:"The subject name, masked." example:"张*"`
}

type scanResponse struct {
	verifyResult
	Scan *checkinView `json:"scan,omitempty" doc:"The scan record, when the code was valid and recorded."`
}

type scanUpload struct {
	ID        string `json:"id" doc:"The venue own id for the scan: uploading the same id again is harmless." example:"scan-000123"`
	Code      string `json:"code" doc:"The scanned code text." example:"SS1:AQEC…"`
	ScannedAt string `json:"scanned_at" doc:"When it was scanned (RFC 3339)." example:"2026-12-01T07:58:00Z" format:"date-time"`
}

type scanBatchRequest struct {
	Items []scanUpload `json:"items" doc:"Scans made offline, each with its own id."`
}

type scanBatchItem struct {
	ID     string `json:"id" doc:"The venue id of the scan." example:"scan-000123"`
	Status string `json:"status" doc:"recorded; duplicate (already uploaded); rejected (not recorded, see reason)." enum:"recorded,duplicate,rejected" example:"recorded"` // recorded | duplicate | rejected
	Result string `json:"result,omitempty" doc:"The verification result of the code at scanning time." enum:"valid,invalid,unknown" example:"valid"`
	Reason string `json:"reason,omitempty" doc:"Why it was rejected or not valid."`
}

type scanBatchResponse struct {
	Items    []scanBatchItem `json:"items" doc:"One result per uploaded scan, in request order."`
	Recorded int             `json:"recorded" doc:"How many scans were newly recorded." example:"10"`
}

// --- verification against this node's own trust bundle ---

// onlineVerifier caches a verifier per signed bundle.
type onlineVerifier struct {
	mu   sync.Mutex
	etag string
	v    *verifier.Verifier
}

// verifierNow returns a verifier over the current bundle, as an offline
// scanner holding the same bundle would verify.
func (s *Server) verifierNow(ctx context.Context) (*verifier.Verifier, error) {
	pub, err := s.pub.Current(ctx)
	if err != nil {
		return nil, err
	}
	s.online.mu.Lock()
	defer s.online.mu.Unlock()
	if s.online.v != nil && s.online.etag == pub.ETag {
		return s.online.v, nil
	}
	anchor, err := s.deps.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return nil, err
	}
	v, err := verifier.New(pub.JWS, anchor.Public(), verifier.Options{Skew: s.cfg.ClockSkew, Now: s.now, Lists: s.lists, Cache: s.listCache})
	if err != nil {
		return nil, err
	}
	s.online.v, s.online.etag = v, pub.ETag
	return v, nil
}

func viewResult(r verifier.Result) verifyResult {
	out := verifyResult{Result: string(r.Result), Reasons: []reasonView{}, Kind: r.Kind, Issuer: r.Issuer,
		Subject: subjectView{Masked: r.Subject.Masked}, CertificateID: r.CertificateID, TypeCode: r.TypeCode, Region: r.Region}
	if r.Copy != nil {
		out.Copy = &copyInfo{RecipientOrg: r.Copy.RecipientOrg, RecipientUSCC: r.Copy.RecipientUSCC, Purpose: r.Copy.Purpose, Annotation: r.Copy.Annotation}
	}
	for _, re := range r.Reasons {
		out.Reasons = append(out.Reasons, reasonView{Code: re.Code, Detail: re.Detail})
	}
	if !r.IssuedAt.IsZero() {
		t := r.IssuedAt
		out.IssuedAt = &t
	}
	if !r.ExpiresAt.IsZero() {
		t := r.ExpiresAt
		out.ExpiresAt = &t
	}
	return out
}

func codeText(field, s string) (string, error) {
	if s == "" {
		return "", invalid(FieldError{Field: field, Code: "required", Detail: "is required"})
	}
	if len(s) > 2048 {
		return "", invalid(FieldError{Field: field, Code: "length", Detail: "is longer than any code"})
	}
	return s, nil
}

// --- holders' codes ---

// sendCode answers with JSON, or with the QR image when the client asks for
// image/png or image/svg+xml (the text then travels in Suishen-Code).
func sendCode(c *echo.Context, status int, body any, text string) error {
	accept := c.Request().Header.Get("Accept")
	// The expiry travels in a header too, so a page that asks for the image
	// knows when to ask for the next one.
	switch b := body.(type) {
	case codeResponse:
		c.Response().Header().Set("Suishen-Code-Expires-At", b.ExpiresAt.UTC().Format(time.RFC3339))
		if b.Generation > 0 {
			c.Response().Header().Set("Suishen-Code-Generation", strconv.Itoa(b.Generation))
		}
	case presentationResponse:
		c.Response().Header().Set("Suishen-Code-Expires-At", b.ExpiresAt.UTC().Format(time.RFC3339))
	}
	switch {
	case strings.Contains(accept, "image/png"):
		size := 300
		if v, err := strconv.Atoi(c.QueryParam("size")); err == nil && v >= 100 && v <= 2000 {
			size = v
		}
		img, err := codes.PNG(text, size)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Suishen-Code", text)
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(status, "image/png", img)
	case strings.Contains(accept, "image/svg+xml"):
		img, err := codes.SVG(text)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Suishen-Code", text)
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(status, "image/svg+xml", img)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, body)
}

func (s *Server) codeActor(c *echo.Context) codeservice.Actor {
	return codeservice.Actor{Actor: actorOf(c), RequestID: requestID(c)}
}

func (s *Server) personalCode(c *echo.Context) error {
	is, err := s.deps.Codes.Personal(c.Request().Context(), who(c))
	if err != nil {
		return err
	}
	s.metrics.codeIssued(is.Kind.String())
	return sendCode(c, http.StatusOK, codeResponse{Code: is.Text, Kind: is.Kind.String(), ExpiresAt: is.ExpiresAt}, is.Text)
}

func (s *Server) offlineCode(c *echo.Context) error {
	is, err := s.deps.Codes.Offline(c.Request().Context(), who(c), s.codeActor(c))
	if err != nil {
		return err
	}
	s.metrics.codeIssued(is.Kind.String())
	return sendCode(c, http.StatusCreated, codeResponse{Code: is.Text, Kind: is.Kind.String(), ExpiresAt: is.ExpiresAt, Generation: is.Generation}, is.Text)
}

func (s *Server) enterpriseCode(c *echo.Context) error {
	is, err := s.deps.Codes.Enterprise(c.Request().Context(), who(c), s.codeActor(c))
	if errors.Is(err, codeservice.ErrNotEnterprise) {
		p := errForbidden("only an enterprise holder has an enterprise code; this session is a person's")
		p.Code = "not_enterprise"
		return p
	}
	if err != nil {
		return err
	}
	s.metrics.codeIssued(is.Kind.String())
	return sendCode(c, http.StatusOK, codeResponse{Code: is.Text, Kind: is.Kind.String(), ExpiresAt: is.ExpiresAt, Generation: is.Generation}, is.Text)
}

func (s *Server) venueCode(c *echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.store.GetVenue(ctx, who(c).ID)
	if err != nil {
		return err
	}
	is, err := s.deps.Codes.Venue(ctx, v, s.codeActor(c))
	if err != nil {
		return err
	}
	s.metrics.codeIssued(is.Kind.String())
	return sendCode(c, http.StatusOK, codeResponse{Code: is.Text, Kind: is.Kind.String(), ExpiresAt: is.ExpiresAt, Generation: is.Generation}, is.Text)
}

// revokeEnterpriseCode: an enterprise revokes its static code (e.g. after a
// leak); the next request issues a new one.
func (s *Server) revokeEnterpriseCode(c *echo.Context) error {
	h := who(c)
	if h.HolderKind != "enterprise" {
		p := errForbidden("only an enterprise holder has an enterprise code; this session is a person's")
		p.Code = "not_enterprise"
		return p
	}
	if _, err := s.deps.Codes.RevokeStatic(c.Request().Context(), codes.Enterprise, h.ID, s.codeActor(c), "holder"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// revokeVenueCode: a venue revokes its posted code (e.g. after moving or a
// forged poster); the next GET /v1/venue/code issues a new one.
func (s *Server) revokeVenueCode(c *echo.Context) error {
	if _, err := s.deps.Codes.RevokeStatic(c.Request().Context(), codes.Venue, who(c).ID, s.codeActor(c), "venue"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) presentCertificate(c *echo.Context) error {
	var req presentationRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	v.text("purpose", req.Purpose, 200)
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cert, err := s.store.GetCertificate(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && cert.HolderSubject != who(c).ID) {
		return errNotFound("certificate")
	}
	if err != nil {
		return err
	}
	is, useCode, err := s.deps.Codes.Presentation(ctx, who(c), cert, s.deps.Issuance.Effective(cert), req.Purpose, s.codeActor(c))
	if errors.Is(err, codeservice.ErrNotPresentable) {
		return problem(http.StatusConflict, "certificate_not_valid", "only a valid certificate can be shown")
	}
	if err != nil {
		return err
	}
	if strings.Contains(c.Request().Header.Get("Accept"), "image/") {
		c.Response().Header().Set("Suishen-Use-Code", useCode)
	}
	s.metrics.codeIssued(is.Kind.String())
	return sendCode(c, http.StatusCreated, presentationResponse{Code: is.Text, UseCode: useCode, ExpiresAt: is.ExpiresAt}, is.Text)
}

// --- check-ins and venue scans ---

func (s *Server) checkin(c *echo.Context) error {
	var req codeRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	text, err := codeText("code", req.Code)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.federationNow(ctx)
	if err != nil {
		return err
	}
	r := v.VerifyCode(text)
	s.metrics.verified("checkin", r)
	if r.Result != verifier.Valid || r.Kind != "venue" {
		return codeRejected(r, "venue")
	}
	if !s.homeResult(r) {
		return s.peerCheckin(c, r)
	}
	venue, err := s.store.GetVenue(ctx, r.VenueID)
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusUnprocessableEntity, "unknown_venue", "the venue of this code is not registered")
	}
	if err != nil {
		return err
	}
	h := who(c)
	now := s.now().UTC().Truncate(time.Microsecond)
	ci := store.Checkin{ID: newID(), VenueID: venue.ID, HolderSubject: h.ID, MaskedName: h.Name, Source: "holder_scan",
		CodeKind: "venue", At: now, CreatedAt: now}
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.AddCheckin(ctx, ci); err != nil {
			return err
		}
		return s.record(ctx, c, q, "checkin.create", "venue", venue.ID, map[string]any{"source": ci.Source})
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, checkinResponse{ID: ci.ID, Venue: venueBrief{ID: venue.ID, Name: venue.Name, Address: venue.Address}, At: now})
}

// codeRejected is the problem for a code that did not verify for an endpoint.
func codeRejected(r verifier.Result, want string) error {
	if r.Result == verifier.Valid {
		p := problem(http.StatusUnprocessableEntity, "wrong_kind", "this endpoint takes a "+want+" code, not a "+r.Kind+" code")
		p.Errors = []FieldError{{Field: "code", Code: "wrong_kind", Detail: p.Detail}}
		return p
	}
	code, detail := string(r.Result), "the code could not be verified"
	if len(r.Reasons) > 0 {
		code, detail = r.Reasons[0].Code, r.Reasons[0].Detail
	}
	p := problem(http.StatusUnprocessableEntity, "code_"+string(r.Result), detail)
	p.Errors = []FieldError{{Field: "code", Code: code, Detail: detail}}
	return p
}

func (s *Server) myCheckins(c *echo.Context) error {
	venues := map[string]store.Venue{}
	fetch := func(ctx context.Context, after string, limit int) ([]store.Checkin, error) {
		return s.store.ListCheckinsByHolder(ctx, who(c).ID, after, limit)
	}
	view := func(ci store.Checkin) (checkinView, error) {
		v, ok := venues[ci.VenueID]
		if !ok && ci.RegionCode == "" {
			var err error
			if v, err = s.store.GetVenue(c.Request().Context(), ci.VenueID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return checkinView{}, err
			}
			venues[ci.VenueID] = v
		}
		if ci.RegionCode != "" {
			return checkinView{ID: ci.ID, Venue: venueBrief{ID: ci.VenueID, Name: ci.VenueName}, Region: s.regionNamed(ci.RegionCode),
				Source: ci.Source, CodeKind: ci.CodeKind, At: ci.At}, nil
		}
		return checkinView{ID: ci.ID, Venue: venueBrief{ID: v.ID, Name: v.Name, Address: v.Address},
			Source: ci.Source, CodeKind: ci.CodeKind, At: ci.At}, nil
	}
	items, next, err := listPage(c, fetch, view, func(ci store.Checkin) string { return ci.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkinList{Items: items, NextCursor: next})
}

func (s *Server) venueCheckins(c *echo.Context) error {
	fetch := func(ctx context.Context, after string, limit int) ([]store.Checkin, error) {
		return s.store.ListCheckinsByVenue(ctx, who(c).ID, after, limit)
	}
	view := func(ci store.Checkin) checkinView {
		out := checkinView{ID: ci.ID, MaskedName: ci.MaskedName, Source: ci.Source, CodeKind: ci.CodeKind, ClientID: ci.ClientID, At: ci.At}
		if ci.RegionCode != "" {
			out.Region = s.regionNamed(ci.RegionCode)
		}
		return out
	}
	items, next, err := listPage(c, fetch, infallible(view), func(ci store.Checkin) string { return ci.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkinList{Items: items, NextCursor: next})
}

// personKinds are the codes a venue may scan to record a visit.
var personKinds = map[string]bool{"personal": true, "offline": true}

// venueScan: a venue scans a holder's code (数字哨兵): verification plus a
// scan record and a usage record the holder can see.
func (s *Server) venueScan(c *echo.Context) error {
	var req codeRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	text, err := codeText("code", req.Code)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.federationNow(ctx)
	if err != nil {
		return err
	}
	r := v.VerifyCode(text)
	s.metrics.verified("venue_scan", r)
	out := scanResponse{verifyResult: viewResult(r)}
	if r.Result == verifier.Valid && !personKinds[r.Kind] {
		return codeRejected(r, "personal or offline")
	}
	if r.Result != verifier.Valid {
		return c.JSON(http.StatusOK, out)
	}
	ci, err := s.recordScan(ctx, c, text, r, "venue_scan", "", s.now())
	if err != nil {
		return err
	}
	out.Scan = &ci
	return c.JSON(http.StatusOK, out)
}

// recordScan stores a verified scan of a holder's code at the calling venue.
func (s *Server) recordScan(ctx context.Context, c *echo.Context, text string, r verifier.Result, source, clientID string, at time.Time) (checkinView, error) {
	parsed, err := codes.Parse(text)
	if err != nil {
		return checkinView{}, err
	}
	if !s.homeResult(r) {
		return s.recordPeerScan(ctx, c, parsed, r, source, clientID, at)
	}
	holder, err := s.deps.Codes.HolderOf(ctx, parsed.Subject)
	if err != nil {
		return checkinView{}, err
	}
	venue := who(c)
	now := s.now().UTC().Truncate(time.Microsecond)
	ci := store.Checkin{ID: newID(), VenueID: venue.ID, HolderSubject: holder.Subject, MaskedName: parsed.DisplayName,
		Source: source, CodeKind: parsed.Kind.String(), ClientID: clientID, At: at.UTC().Truncate(time.Microsecond), CreatedAt: now}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.AddCheckin(ctx, ci); err != nil {
			return err
		}
		if err := q.AddUsageRecord(ctx, store.UsageRecord{ID: newID(), HolderSubject: holder.Subject, At: ci.At,
			Org: venue.Name, OrgUSCC: venue.USCC, Operator: "venue scanner", Purpose: "场所扫码登记", CodeKind: ci.CodeKind,
			Channel: source, Result: "success"}); err != nil {
			return err
		}
		return s.record(ctx, c, q, "checkin.create", "venue", venue.ID, map[string]any{"source": source})
	})
	if err != nil {
		return checkinView{}, err
	}
	return checkinView{ID: ci.ID, MaskedName: ci.MaskedName, Source: ci.Source, CodeKind: ci.CodeKind, ClientID: clientID, At: ci.At}, nil
}

// venueScanBatch records scans made offline; each has the venue's own ID,
// so uploading the same batch again records nothing twice.
func (s *Server) venueScanBatch(c *echo.Context) error {
	var req scanBatchRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	if len(req.Items) == 0 || len(req.Items) > 1000 {
		return invalid(FieldError{Field: "items", Code: "length", Detail: "must hold 1 to 1000 scans"})
	}
	var v checks
	times := make([]time.Time, len(req.Items))
	for i, it := range req.Items {
		f := "items[" + strconv.Itoa(i) + "]."
		if it.ID == "" || len(it.ID) > 64 {
			v.add(f+"id", "required", "each scan needs the venue's own ID (1–64 characters)")
		}
		if it.Code == "" || len(it.Code) > 2048 {
			v.add(f+"code", "required", "is required")
		}
		t, err := time.Parse(time.RFC3339, it.ScannedAt)
		if err != nil {
			v.add(f+"scanned_at", "format", "must be an RFC 3339 time")
		} else if t.After(s.now().Add(5 * time.Minute)) {
			v.add(f+"scanned_at", "date_future", "is in the future")
		}
		times[i] = t
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	// One verifier for the whole batch (the bundle's signature is checked
	// once); its clock is each scan's own time, so a code is judged as it
	// stood when it was scanned.
	var at time.Time
	vf, err := s.federationAt(ctx, func() time.Time { return at })
	if err != nil {
		return err
	}
	out := scanBatchResponse{Items: make([]scanBatchItem, len(req.Items))}
	for i, it := range req.Items {
		at = times[i]
		r := vf.VerifyCode(it.Code)
		item := scanBatchItem{ID: it.ID, Result: string(r.Result)}
		switch {
		case r.Result != verifier.Valid:
			item.Status = "rejected"
			if len(r.Reasons) > 0 {
				item.Reason = r.Reasons[0].Code
			}
		case !personKinds[r.Kind]:
			item.Status, item.Reason = "rejected", "wrong_kind"
		default:
			_, err := s.recordScan(ctx, c, it.Code, r, "venue_upload", it.ID, at)
			switch {
			case errors.Is(err, store.ErrAlreadyExists):
				item.Status = "duplicate"
			case err != nil:
				return err
			default:
				item.Status = "recorded"
				out.Recorded++
			}
		}
		out.Items[i] = item
	}
	return c.JSON(http.StatusOK, out)
}

// verifierAt returns a verifier over the current bundle whose clock is now
// (offline uploads: the time of the scan being checked).
func (s *Server) verifierAt(ctx context.Context, now func() time.Time) (*verifier.Verifier, error) {
	pub, err := s.pub.Current(ctx)
	if err != nil {
		return nil, err
	}
	anchor, err := s.deps.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return nil, err
	}
	return verifier.New(pub.JWS, anchor.Public(), verifier.Options{Skew: s.cfg.ClockSkew, Now: now, Lists: s.lists, Cache: s.listCache})
}
