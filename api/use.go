package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// --- bodies ---

type verifyRequest struct {
	Code string `json:"code,omitempty" doc:"A code text to verify (any kind); give code or jws." example:"SS1:AQEC…"`
	JWS  string `json:"jws,omitempty" doc:"A certificate compact JWS to verify; give code or jws."`
	// Attribution of the use (optional for a bare verification, recorded in
	// the holder's usage records when given).
	Org      string `json:"org,omitempty" doc:"The caller sub-unit (a window, a branch), recorded in the holder usage record." example:"徐汇支行"` // the caller's sub-unit (a window, a branch)
	Operator string `json:"operator,omitempty" doc:"Who at the app verifies (recorded in the holder usage record)." example:"柜员001"`
	Purpose  string `json:"purpose,omitempty" doc:"Why (recorded in the holder usage record)." example:"开户核验"`
}

type redeemRequest struct {
	UseCode      string `json:"use_code" doc:"The one-time use code (用证码) the holder presented." example:"482913"`
	Org          string `json:"org" doc:"The sub-unit using the data (a branch, a window)." example:"徐汇支行"`
	Operator     string `json:"operator" doc:"Who uses it." example:"柜员001"`
	ItemCode     string `json:"item_code" doc:"The 事项 code the data is used for." example:"310100-000-01"`
	ItemName     string `json:"item_name" doc:"The 事项 name." example:"对公开户"`
	BusinessCode string `json:"business_code" doc:"The business or case number." example:"KH20261201-0001"`
	Purpose      string `json:"purpose" doc:"Why." example:"对公开户资料核验"`
}

// redeemResponse is what an app receives of a certificate (package
// disclosure's View): the fields its use list allows, names and identity
// numbers masked.
type redeemResponse = disclosure.View

type grantRequest struct {
	AppID            string   `json:"app_id" doc:"The app granted the use." example:"app_01JD8X3K2Q"`
	CertificateTypes []string `json:"certificate_types" doc:"The certificate types it may use." example:"[\"11100000000021002F001\"]"`
	Purpose          string   `json:"purpose" doc:"What for, in words." example:"贷款审批"`
	ExpiresAt        string   `json:"expires_at" doc:"Until when (RFC 3339)." example:"2027-01-01T00:00:00Z" format:"date-time"`
}

type grantView struct {
	ID               string     `json:"id" doc:"The grant id." example:"grt_01JD8X3K2Q"`
	AppID            string     `json:"app_id" doc:"The app granted the use." example:"app_01JD8X3K2Q"`
	AppName          string     `json:"app_name" doc:"Its name." example:"某银行上海分行"`
	CertificateTypes []string   `json:"certificate_types" doc:"The certificate types it may use." example:"[\"11100000000021002F001\"]"`
	Purpose          string     `json:"purpose" doc:"What for." example:"贷款审批"`
	CreatedAt        time.Time  `json:"created_at" doc:"When it was granted." example:"2026-12-01T08:00:00Z"`
	ExpiresAt        time.Time  `json:"expires_at" doc:"Until when." example:"2027-01-01T00:00:00Z"`
	RevokedAt        *time.Time `json:"revoked_at,omitempty" doc:"When the holder revoked it, if they did."`
}

type grantList struct {
	Items      []grantView `json:"items" doc:"This page of grants."`
	NextCursor *string     `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type usageView struct {
	ID            string        `json:"id" doc:"The record id." example:"use_01JD8X3K2Q"`
	At            time.Time     `json:"at" doc:"When the data or code was used." example:"2026-12-01T08:00:00Z"`
	Org           string        `json:"org" doc:"The registered name of the organisation that used it." example:"某银行上海分行"`                // the caller's registered name
	OrgUSCC       string        `json:"org_uscc,omitempty" doc:"Its registered unified social credit code." example:"91350100M000100Y43"` // the caller's registered USCC
	Region        *trust.Region `json:"region,omitempty" doc:"The peer region (区域互认) where the use happened, as its signed usage receipt says; absent for a use in this region."`
	OrgUnit       string        `json:"org_unit,omitempty" doc:"The sub-unit in the caller own words (a window, a branch)." example:"徐汇支行"` // the caller's own words for its sub-unit
	Operator      string        `json:"operator" doc:"Who at the organisation." example:"柜员001"`
	ItemCode      string        `json:"item_code,omitempty" doc:"The 事项 code." example:"310100-000-01"`
	ItemName      string        `json:"item_name,omitempty" doc:"The 事项 name." example:"对公开户"`
	BusinessCode  string        `json:"business_code,omitempty" doc:"The case or business number." example:"KH20261201-0001"`
	Purpose       string        `json:"purpose,omitempty" doc:"Why." example:"对公开户资料核验"`
	CertificateID string        `json:"certificate_id,omitempty" doc:"The certificate used, if one was." example:"11100000000021001C0011210000000000001X"`
	CodeKind      string        `json:"code_kind,omitempty" doc:"The kind of code used, if one was." enum:"personal,offline,enterprise,venue,presentation,copy" example:"presentation"`
	Channel       string        `json:"channel" doc:"How: online verification, a use code, a grant, a case, a venue scan, a holder check-in, or an annotated copy (加注件) made or its page shown." enum:"verify,use_code,grant,case,venue_scan,venue_upload,holder_scan,copy" example:"use_code"`
	Result        string        `json:"result" doc:"What came of it: success, refused (not allowed), a verification result, or the certificate status that stood in the way." enum:"success,refused,valid,invalid,unknown,certificate_suspended,certificate_revoked,certificate_cancelled,certificate_expired,certificate_superseded" example:"success"`
	Detail        string        `json:"detail,omitempty" doc:"Why, for a refusal or a failed verification (a reason code or words)." example:"expired"` // why, for a refusal or a failed verification
}

type usageList struct {
	Items      []usageView `json:"items" doc:"This page of usage records, newest first."`
	NextCursor *string     `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// --- helpers ---

// usage appends a usage record, committed before it returns (refusals are
// recorded even though the request fails); concurrent records share a
// transaction (see usageLog).
func (s *Server) usage(ctx context.Context, r store.UsageRecord) error {
	r.ID = newID()
	if r.At.IsZero() {
		r.At = s.now().UTC().Truncate(time.Microsecond)
	}
	if err := s.usageLog.write(ctx, r); err != nil {
		return err
	}
	s.metrics.usageWritten(r)
	return nil
}

func appRecord(p principal.Principal) store.UsageRecord {
	return store.UsageRecord{Org: p.Name, OrgUSCC: p.USCC, AppID: p.ID}
}

func newAppLimiter(rate int) *middleware.RateLimiterMemoryStore {
	return middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: float64(rate), Burst: 2 * rate, ExpiresIn: 3 * time.Minute,
	})
}

// --- handlers ---

// verify checks a code or a certificate JWS for an app, online, with the
// same rules an offline verifier applies to this node's current bundle.
// Whenever a holder's code or certificate is involved — valid or not, as
// long as its signature shows it is really theirs — the holder sees it in
// their usage records.
func (s *Server) verify(c *echo.Context) error {
	// SUISHEN_VERIFY_RATE per app.
	if ok, _ := s.appLimiter.Allow(who(c).ID); !ok {
		c.Response().Header().Set("Retry-After", "1")
		return statusProblem(http.StatusTooManyRequests)
	}
	var req verifyRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	if (req.Code == "") == (req.JWS == "") {
		return invalid(FieldError{Field: "code", Code: "one_of", Detail: "send exactly one of code and jws"})
	}
	if len(req.Code) > 4096 || len(req.JWS) > 256<<10 {
		return invalid(FieldError{Field: "code", Code: "length", Detail: "is longer than any code or certificate"})
	}
	var v checks
	v.optText("org", req.Org, maxOrgUnit)
	v.optText("operator", req.Operator, maxOperator)
	v.optText("purpose", req.Purpose, maxPurpose)
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	vf, err := s.federationNow(ctx)
	if err != nil {
		return err
	}
	var r verifier.Result
	holder := ""
	if req.Code != "" {
		cc := s.checkCode(ctx, vf, req.Code)
		r = cc.Result
		if cc.Identified {
			holder = cc.Holder.Subject
		}
	} else {
		r = vf.VerifyCertificate(req.JWS)
		if r.CertificateID != "" && authentic(r) && s.homeResult(r) {
			if cert, err := s.store.GetCertificate(ctx, r.CertificateID); err == nil {
				holder = cert.HolderSubject
			}
		}
	}
	s.metrics.verified("verify", r)
	if !s.homeResult(r) {
		// A peer region's certificate or code: the holder is the peer's;
		// a receipt tells the peer of the use (区域互认).
		rec := appRecord(who(c))
		rec.OrgUnit, rec.Operator, rec.Purpose, rec.Channel, rec.Result = req.Org, req.Operator, req.Purpose, "verify", string(r.Result)
		var subject []byte
		if req.Code != "" {
			if p, err := codes.Parse(req.Code); err == nil {
				subject = p.Subject
			}
		}
		if err := s.peerReceipt(ctx, r, subject, rec); err != nil {
			return err
		}
	}
	if holder != "" {
		rec := appRecord(who(c))
		rec.HolderSubject, rec.OrgUnit, rec.Operator, rec.Purpose = holder, req.Org, req.Operator, req.Purpose
		rec.CertificateID, rec.CodeKind, rec.Channel, rec.Result = r.CertificateID, r.Kind, "verify", string(r.Result)
		if r.Result != verifier.Valid && len(r.Reasons) > 0 {
			rec.Detail = r.Reasons[0].Code
		}
		if err := s.usage(ctx, rec); err != nil {
			return err
		}
	}
	out := viewResult(r)
	out.Subject.Masked = disclosure.Text(out.Subject.Masked)
	return c.JSON(http.StatusOK, out)
}

// authentic reports whether a verification result shows a signature that
// verified under a key of the bundle — so the code or certificate really is
// its holder's, even when it is expired, revoked, suspended, superseded or
// signed by a key since reported compromised. Forged, malformed or
// unattributable input is never recorded against anyone.
func authentic(r verifier.Result) bool {
	for _, re := range r.Reasons {
		switch re.Code {
		case verifier.ReasonMalformed, verifier.ReasonOversized, verifier.ReasonUnsupportedAlgorithm,
			verifier.ReasonUnsupportedVersion, verifier.ReasonUnknownKind, verifier.ReasonBadSignature,
			verifier.ReasonUnknownKey, verifier.ReasonWrongRole, verifier.ReasonKeyNotTrustedForType, verifier.ReasonKeyNotTrustedForRegion,
			verifier.ReasonUnverifiable, verifier.ReasonBundleUnavailable:
			return false
		}
	}
	return true
}

// redeem turns a one-time use code into the certificate's data, limited to
// what the app's 用证清单 allows (package disclosure). The app's right to the
// type is checked before the code is spent: a refused code stays usable for
// the app the holder meant, and the refusal is recorded for the holder.
// Unknown codes count as guesses (useCodeGuesses).
func (s *Server) redeem(c *echo.Context) error {
	var req redeemRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	v.optText("org", req.Org, maxOrgUnit)
	v.text("operator", req.Operator, maxOperator)
	v.text("item_code", req.ItemCode, 64)
	v.text("item_name", req.ItemName, 200)
	v.text("business_code", req.BusinessCode, 64)
	v.text("purpose", req.Purpose, maxPurpose)
	if _, err := codes.NormalizeUseCode(req.UseCode); err != nil {
		v.add("use_code", "format", "is not a use code (用证码)")
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	app := who(c)
	if err := s.guessAllowed(c, app.ID); err != nil {
		return err
	}
	rec := appRecord(app)
	rec.OrgUnit, rec.Operator, rec.ItemCode, rec.ItemName, rec.BusinessCode, rec.Purpose, rec.Channel = req.Org, req.Operator, req.ItemCode, req.ItemName, req.BusinessCode, req.Purpose, "use_code"
	aud := audienceOf(app)
	got, err := s.deps.Codes.RedeemUseCode(ctx, req.UseCode, app.ID, aud.MayUse)
	switch {
	case errors.Is(err, codeservice.ErrUnknownUseCode):
		s.guessFailed(c, app.ID)
		return problem(http.StatusNotFound, "unknown_use_code", "no such use code")
	case errors.Is(err, codeservice.ErrUseCodeSpent):
		s.guessFailed(c, app.ID)
		return problem(http.StatusConflict, "use_code_spent", "the use code was already used or has expired")
	case errors.Is(err, codeservice.ErrNotEntitled):
		rec.HolderSubject, rec.CertificateID = got.UseCode.HolderSubject, got.Certificate.ID
		rec.Result, rec.Detail = "refused", "type not in the app's use list"
		if err := s.usage(ctx, rec); err != nil {
			return err
		}
		p := errForbidden("this certificate type is not in the app's use list (用证清单); the use code was not spent")
		p.Code = "type_not_in_use_list"
		return p
	case err != nil:
		return err
	}
	cert := got.Certificate
	rec.HolderSubject, rec.CertificateID = got.UseCode.HolderSubject, cert.ID
	view, err := s.disclose(ctx, cert, aud)
	if err != nil {
		return err
	}
	rec.Result = "success"
	if view.Status != "valid" {
		rec.Result = "certificate_" + view.Status
	}
	if err := s.usage(ctx, rec); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// disclose is what an audience receives of a certificate: package
// disclosure's filter over the type's catalogue entry and the signed
// document.
func (s *Server) disclose(ctx context.Context, cert store.Certificate, aud disclosure.Audience) (disclosure.View, error) {
	t, err := s.deps.Issuance.Type(ctx, cert.TypeCode)
	if err != nil {
		return disclosure.View{}, err
	}
	var doc issuer.Document
	if err := json.Unmarshal(issuance.DocumentOf(cert), &doc); err != nil {
		return disclosure.View{}, err
	}
	v, ok := disclosure.Certificate(t, doc, string(s.deps.Issuance.Effective(cert)), aud)
	if !ok {
		return disclosure.View{}, errForbidden("this certificate type is not in the app's use list (用证清单)")
	}
	return v, nil
}

// --- grants (授权用证) ---

func (s *Server) createGrant(c *echo.Context) error {
	var req grantRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	v.text("app_id", req.AppID, 64)
	v.text("purpose", req.Purpose, 200)
	if len(req.CertificateTypes) == 0 {
		v.add("certificate_types", "required", "name at least one certificate type")
	}
	v.typeCodes("certificate_types", req.CertificateTypes, 50)
	exp, perr := time.Parse(time.RFC3339, req.ExpiresAt)
	if perr != nil {
		v.add("expires_at", "format", "must be an RFC 3339 time")
	} else if !exp.After(s.now()) {
		v.add("expires_at", "range", "must be in the future")
	} else if exp.After(s.now().AddDate(1, 0, 0)) {
		v.add("expires_at", "range", "may be at most one year ahead")
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	app, err := s.store.GetApp(ctx, req.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return invalid(FieldError{Field: "app_id", Code: "unknown", Detail: "no such app"})
	}
	if err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		now := s.now().UTC().Truncate(time.Microsecond)
		g := store.Grant{ID: newID(), HolderSubject: who(c).ID, AppID: app.ID, CertificateTypes: req.CertificateTypes,
			Purpose: req.Purpose, CreatedAt: now, ExpiresAt: exp.UTC().Truncate(time.Microsecond)}
		if err := q.CreateGrant(ctx, g); err != nil {
			return 0, nil, err
		}
		if err := s.record(ctx, c, q, "grant.create", "grant", g.ID, map[string]any{"app_id": app.ID, "certificate_types": g.CertificateTypes}); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, viewGrant(g, app.Name), nil
	})
}

func viewGrant(g store.Grant, appName string) grantView {
	return grantView{ID: g.ID, AppID: g.AppID, AppName: appName, CertificateTypes: nonNil(g.CertificateTypes), Purpose: g.Purpose,
		CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt}
}

func (s *Server) listGrants(c *echo.Context) error {
	fetch := func(ctx context.Context, after string, limit int) ([]store.Grant, error) {
		return s.store.ListGrants(ctx, who(c).ID, after, limit)
	}
	view := func(g store.Grant) (grantView, error) {
		name := ""
		if a, err := s.store.GetApp(c.Request().Context(), g.AppID); err == nil {
			name = a.Name
		}
		return viewGrant(g, name), nil
	}
	items, next, err := listPage(c, fetch, view, func(g store.Grant) string { return g.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, grantList{Items: items, NextCursor: next})
}

func (s *Server) revokeGrant(c *echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.store.GetGrant(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.HolderSubject != who(c).ID) {
		return errNotFound("grant")
	}
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.RevokeGrant(ctx, g.ID, s.now().UTC().Truncate(time.Microsecond)); err != nil {
			return err
		}
		return s.record(ctx, c, q, "grant.revoke", "grant", g.ID, nil)
	})
	if errors.Is(err, store.ErrConflict) {
		return c.NoContent(http.StatusNoContent) // already revoked: the holder's wish holds
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// grantedCertificate: an app reads a certificate within a holder's grant.
func (s *Server) grantedCertificate(c *echo.Context) error {
	ctx := c.Request().Context()
	app := who(c)
	cert, err := s.store.GetCertificate(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("certificate")
	}
	if err != nil {
		return err
	}
	var v checks
	v.optText("org", c.QueryParam("org"), maxOrgUnit)
	v.optText("operator", c.QueryParam("operator"), maxOperator)
	v.optText("purpose", c.QueryParam("purpose"), maxPurpose)
	if err := v.err(); err != nil {
		return err
	}
	rec := appRecord(app)
	rec.HolderSubject, rec.CertificateID, rec.Channel = cert.HolderSubject, cert.ID, "grant"
	rec.OrgUnit, rec.Operator, rec.Purpose = c.QueryParam("org"), c.QueryParam("operator"), c.QueryParam("purpose")
	aud := audienceOf(app)
	g, err := s.store.ActiveGrant(ctx, cert.HolderSubject, app.ID, cert.TypeCode, s.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && !aud.MayUse(cert.TypeCode)) {
		rec.Result = "refused"
		if err := s.usage(ctx, rec); err != nil {
			return err
		}
		return errNotFound("certificate")
	}
	if err != nil {
		return err
	}
	rec.Result = "success"
	if rec.Purpose == "" {
		rec.Purpose = g.Purpose
	}
	view, err := s.disclose(ctx, cert, aud)
	if err != nil {
		return err
	}
	if err := s.usage(ctx, rec); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view)
}

// --- usage records (用证记录) ---

func (s *Server) usageRecords(c *echo.Context) error {
	fetch := func(ctx context.Context, after string, limit int) ([]store.UsageRecord, error) {
		return s.store.ListUsageRecords(ctx, who(c).ID, after, limit)
	}
	view := func(r store.UsageRecord) usageView {
		v := usageView{ID: r.ID, At: r.At, Org: r.Org, OrgUSCC: r.OrgUSCC, OrgUnit: r.OrgUnit, Operator: r.Operator, ItemCode: r.ItemCode,
			ItemName: r.ItemName, BusinessCode: r.BusinessCode, Purpose: r.Purpose, CertificateID: r.CertificateID,
			CodeKind: r.CodeKind, Channel: r.Channel, Result: r.Result, Detail: r.Detail}
		if r.RegionCode != "" {
			v.Region = s.regionNamed(r.RegionCode)
		}
		return v
	}
	items, next, err := listPage(c, fetch, infallible(view), func(r store.UsageRecord) string { return r.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usageList{Items: items, NextCursor: next})
}
