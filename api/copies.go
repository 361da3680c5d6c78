package api

// Annotated copies (加注件): a certificate copied for one recipient and one
// purpose ("仅供{recipient}{purpose}使用"), with a copy code (kind copy) that
// verifies offline and stops verifying when the certificate is suspended,
// revoked or superseded, the copy expires or its holder withdraws it; and a
// printable page reached through a capability URL (docs/decisions.md,
// "Annotated copies" and "Withdrawing a copy").

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/web"
)

// --- bodies ---

type copyRequest struct {
	CertificateID string `json:"certificate_id,omitempty" doc:"The certificate to copy: required on a case (an exempted material of it); on the holder path, optional and equal to the path id." example:"1.2.156.3005.2.11100000000013338W032.11310104MB2F50001X.2600000000001.001.K"`
	Purpose       string `json:"purpose" doc:"What the recipient may use the copy for: a verb phrase without a final 使用, at most 16 Chinese characters (48 bytes of UTF-8)." example:"办理个人贷款"`
	RecipientOrg  string `json:"recipient_org" doc:"The organisation the copy is for, at most 24 Chinese characters (72 bytes of UTF-8)." example:"某某银行上海分行"`
	RecipientUSCC string `json:"recipient_uscc" doc:"The recipient's unified social credit code (check character verified)." example:"91310000MA1K4C2X5R"`
	ExpiresAt     string `json:"expires_at" doc:"Until when the copy verifies (RFC 3339): at least a minute ahead, at most 180 days, and not after the certificate's own validity." example:"2027-01-31T16:00:00Z" format:"date-time"`
}

type copyCreated struct {
	ID            string    `json:"id" doc:"The copy id." example:"0193a5c2-7d1e-7c3a-9b2e-4f1a2b3c4d5e"`
	Code          string    `json:"code" doc:"The copy code (kind copy): verifies offline, shows the recipient and purpose." example:"SS1:V*08…"`
	ExpiresAt     time.Time `json:"expires_at" doc:"When the copy stops verifying." example:"2027-01-31T16:00:00Z"`
	URL           string    `json:"url" doc:"The printable page of the copy (one A4 page): a capability URL — whoever has it can open the page while the copy is valid, so hand it only to the recipient." example:"http://127.0.0.1:8080/copies/0193a5c2-7d1e-7c3a-9b2e-4f1a2b3c4d5e?k=…"`
	Annotation    string    `json:"annotation" doc:"The annotation across the copy." example:"仅供某某银行上海分行办理个人贷款使用"`
	CertificateID string    `json:"certificate_id" doc:"The certificate copied (its version is part of the identifier)." example:"1.2.156.3005.2.11100000000013338W032.11310104MB2F50001X.2600000000001.001.K"`
}

type copyView struct {
	ID            string     `json:"id" doc:"The copy id." example:"0193a5c2-7d1e-7c3a-9b2e-4f1a2b3c4d5e"`
	CertificateID string     `json:"certificate_id" doc:"The certificate copied." example:"1.2.156.3005.2.11100000000013338W032.11310104MB2F50001X.2600000000001.001.K"`
	RecipientOrg  string     `json:"recipient_org" doc:"Whom it was made for." example:"某某银行上海分行"`
	RecipientUSCC string     `json:"recipient_uscc" doc:"The recipient's unified social credit code." example:"91310000MA1K4C2X5R"`
	Purpose       string     `json:"purpose" doc:"What for." example:"办理个人贷款"`
	Annotation    string     `json:"annotation" doc:"The annotation across the copy." example:"仅供某某银行上海分行办理个人贷款使用"`
	CaseID        string     `json:"case_id,omitempty" doc:"The case it was made for, when a case system made it."`
	CreatedAt     time.Time  `json:"created_at" doc:"When it was made." example:"2026-12-01T08:00:00Z"`
	ExpiresAt     time.Time  `json:"expires_at" doc:"When it stops verifying." example:"2027-01-31T16:00:00Z"`
	URL           string     `json:"url" doc:"Its printable page (a capability URL)." example:"http://127.0.0.1:8080/copies/0193a5c2-7d1e-7c3a-9b2e-4f1a2b3c4d5e?k=…"`
	Status        string     `json:"status" doc:"valid; withdrawn (by the holder); expired; or certificate_not_valid (the certificate is suspended, revoked, cancelled, superseded or expired). The first that applies, in that order after withdrawn." enum:"valid,withdrawn,expired,certificate_not_valid" example:"valid"`
	WithdrawnAt   *time.Time `json:"withdrawn_at" doc:"When the holder withdrew it; null while not withdrawn." example:"2026-12-02T08:00:00Z"`
	Withdrawable  bool       `json:"withdrawable" doc:"Whether DELETE /v1/me/copies/{id} can still withdraw it: a copy that is not yet withdrawn or expired and has its own status entry (copies made before copies had their own entry follow only their certificate and their expiry)."`
}

type copyList struct {
	Items      []copyView `json:"items" doc:"This page of the holder's copies, oldest first."`
	NextCursor *string    `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// Bounds of a copy (codes: the copy kind's field rules).
const (
	maxCopyRecipientBytes = 72
	maxCopyPurposeBytes   = 48
	minCopyLifetime       = time.Minute
	reasonNotMaterial     = "not_exempted_material"
)

func (s *Server) copyRoutes() []route {
	return []route{
		{Method: http.MethodPost, Path: "/v1/me/certificates/{id}/copies", Summary: "加注件: an annotated copy of one of the holder's valid certificates for one recipient and purpose, with a copy code that verifies offline and a printable page", Tag: "holders", Access: holderOnly, Handler: s.holderCopy, Request: copyRequest{}, Response: copyCreated{}, Status: 201, Idempotent: true, Errors: []int{404, 409}},
		{Method: http.MethodGet, Path: "/v1/me/copies", Summary: "The holder's annotated copies (加注件), whoever made them, each with its status", Tag: "holders", Access: holderOnly, Handler: s.myCopies, Response: copyList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodDelete, Path: "/v1/me/copies/{id}", Summary: "Withdraw one of the holder's annotated copies before it expires: it stops verifying online and offline (its own status entry becomes revoked) and its printable page answers 410; idempotent", Tag: "holders", Access: holderOnly, Handler: s.withdrawCopy, Status: 204, Errors: []int{404, 409}},
		{Method: http.MethodPost, Path: "/v1/cases/{id}/copies", Summary: "加注件 for a case: an annotated copy of a certificate that is an exempted material of the case (its opener only)", Tag: "cases", Access: caseSystems, Handler: s.caseCopy, Request: copyRequest{}, Response: copyCreated{}, Status: 201, Idempotent: true, Errors: []int{403, 404, 409}},
		{Method: http.MethodGet, Path: "/copies/{id}", Summary: "The printable page of an annotated copy (one A4 page, the annotation as a watermark); a capability URL: it needs the k the creating call returned, and shows the certificate only while the copy verifies (afterwards an HTML page with status 410 that shows nothing of it)", Tag: "pages", Access: public, Handler: s.copyPage, Status: 200, Query: []string{"k"}, Produces: []string{"text/html"}, Errors: []int{404},
			Params: map[string]string{"k": "The page key returned in the copy's url."}},
	}
}

// --- creating ---

// checkCopy validates a copy request's own fields.
func (s *Server) checkCopy(req copyRequest) (time.Time, *checks) {
	var v checks
	v.text("purpose", req.Purpose, 100)
	if len(req.Purpose) > maxCopyPurposeBytes {
		v.add("purpose", "length", "must be at most 48 bytes of UTF-8 (16 Chinese characters)")
	} else if strings.HasSuffix(strings.TrimSpace(req.Purpose), "使用") {
		v.add("purpose", "format", "is the purpose without a final 使用 (the annotation reads 仅供{recipient_org}{purpose}使用)")
	}
	v.text("recipient_org", req.RecipientOrg, 100)
	if len(req.RecipientOrg) > maxCopyRecipientBytes {
		v.add("recipient_org", "length", "must be at most 72 bytes of UTF-8 (24 Chinese characters)")
	}
	for _, f := range []struct{ name, val string }{{"purpose", req.Purpose}, {"recipient_org", req.RecipientOrg}} {
		if f.val != strings.TrimSpace(f.val) {
			v.add(f.name, "format", "must not start or end with white space")
		}
	}
	v.uscc("recipient_uscc", req.RecipientUSCC)
	var exp time.Time
	if req.ExpiresAt == "" {
		v.add("expires_at", "required", "is required")
	} else if t, err := time.Parse(time.RFC3339, req.ExpiresAt); err != nil {
		v.add("expires_at", "format", "must be an RFC 3339 time")
	} else {
		exp = t.UTC().Truncate(time.Second)
		now := s.now().UTC().Truncate(time.Second)
		switch {
		case exp.Before(now.Add(minCopyLifetime)):
			v.add("expires_at", "range", "must be at least a minute in the future")
		case exp.After(now.Add(codes.MaxLifetime(codes.Copy))):
			v.add("expires_at", "range", "may be at most 180 days ahead")
		}
	}
	return exp, &v
}

// copyOf is a copy being made: the certificate, its document and type.
type copyOf struct {
	cert store.Certificate
	doc  issuer.Document
	typ  issuer.CertificateType
}

// loadCopy loads what a copy of cert needs and checks that the certificate
// can be copied until exp: valid now, with a status entry, and valid at
// least until exp.
func (s *Server) loadCopy(ctx context.Context, cert store.Certificate, exp time.Time) (copyOf, error) {
	out := copyOf{cert: cert}
	if st := s.deps.Issuance.Effective(cert); st != issuer.StatusValid {
		p := problem(http.StatusConflict, "certificate_not_valid", "only a valid certificate can be copied; this one is "+string(st))
		p.Errors = []FieldError{{Field: "certificate_id", Code: "certificate_" + string(st), Detail: p.Detail}}
		return out, p
	}
	if cert.StatusList == "" {
		return out, problem(http.StatusConflict, "certificate_without_status", "this certificate has no status entry, so a copy of it could not be revoked")
	}
	if err := json.Unmarshal(issuance.DocumentOf(cert), &out.doc); err != nil {
		return out, err
	}
	if out.doc.ValidUntil != nil {
		until, err := issuer.ParseDate(*out.doc.ValidUntil)
		if err != nil {
			return out, err
		}
		if exp.After(until.AddDate(0, 0, 1)) { // the certificate is valid through its valid_until day (China Standard Time)
			return out, invalid(FieldError{Field: "expires_at", Code: "after_certificate",
				Detail: "must not be after the certificate's own validity (valid until " + *out.doc.ValidUntil + ")"})
		}
	}
	t, err := s.deps.Issuance.Type(ctx, cert.TypeCode)
	if err != nil {
		return out, err
	}
	out.typ = t
	return out, nil
}

// makeCopy signs and stores the copy, with the holder's usage record and
// the audit entry, in one transaction that confirms the code key.
func (s *Server) makeCopy(c *echo.Context, raw []byte, req copyRequest, co copyOf, exp time.Time, cs *store.Case) error {
	name := ""
	if len(co.doc.Holders) > 0 {
		name = ident.MaskName(co.doc.Holders[0].Name)
	}
	// The copy's own status entry: withdrawing it sets only this one, and
	// the certificate's status changes are copied into it.
	list, index, err := s.deps.Codes.CopySlot(c.Request().Context())
	if err != nil {
		return err
	}
	cc := codeservice.CopyClaims{DisplayName: name, RecipientOrg: req.RecipientOrg, RecipientUSCC: req.RecipientUSCC, Purpose: req.Purpose, ExpiresAt: exp,
		StatusList: list, StatusIndex: index}
	p := who(c)
	attempt := func() error {
		// Signed before the transaction: SignCopy may assign the holder's
		// reference, a write of its own.
		text, kid, at, err := s.deps.Codes.SignCopy(c.Request().Context(), co.cert, cc)
		if err != nil {
			return err
		}
		return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
			if err := s.deps.Keys.Confirm(ctx, q, kid); err != nil {
				return 0, nil, err
			}
			cp := store.Copy{ID: newID(), CertificateID: co.cert.ID, HolderSubject: co.cert.HolderSubject, RecipientOrg: req.RecipientOrg,
				RecipientUSCC: req.RecipientUSCC, Purpose: req.Purpose, Code: text, CreatedBy: p.Ref(), CreatedAt: at, ExpiresAt: exp,
				StatusList: list, StatusIndex: int64(index)}
			rec := store.UsageRecord{ID: newID(), HolderSubject: co.cert.HolderSubject, At: at, Org: req.RecipientOrg, OrgUSCC: req.RecipientUSCC,
				Operator: "本人", Purpose: req.Purpose, CertificateID: co.cert.ID, CodeKind: "copy", Channel: "copy", Result: "success",
				Detail: "加注件 " + cp.ID + " made by the holder, valid until " + exp.Format(time.RFC3339)}
			details := map[string]any{"copy_id": cp.ID, "recipient_uscc": req.RecipientUSCC, "purpose": req.Purpose, "expires_at": exp}
			if cs != nil {
				cp.CaseID = cs.ID
				rec.Operator, rec.BusinessCode, rec.ItemCode = p.Name, cs.BusinessCode, cs.ItemCode
				rec.Detail = "加注件 " + cp.ID + " made by " + p.Name + " for case " + cs.ID + ", valid until " + exp.Format(time.RFC3339)
				if p.Kind == store.KindApp {
					rec.AppID = p.ID
				}
				details["case_id"] = cs.ID
			}
			if err := q.CreateCopy(ctx, cp); errors.Is(err, store.ErrConflict) {
				// The certificate changed status since it was read.
				return 0, nil, problem(http.StatusConflict, "certificate_not_valid", "only a valid certificate can be copied; this one changed status meanwhile")
			} else if err != nil {
				return 0, nil, err
			}
			if err := q.AddUsageRecord(ctx, rec); err != nil {
				return 0, nil, err
			}
			if err := s.record(ctx, c, q, "certificate.copy", "certificate", co.cert.ID, details); err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, copyCreated{ID: cp.ID, Code: text, ExpiresAt: exp, URL: s.copyURL(cp.ID),
				Annotation: annotation(cp), CertificateID: cp.CertificateID}, nil
		})
	}
	err = attempt()
	if errors.Is(err, keyring.ErrKeyNotActive) { // the code key changed meanwhile: sign with its replacement
		err = attempt()
	}
	if err == nil {
		s.deps.Codes.Placed(list)
		s.metrics.codeIssued("copy")
	}
	return err
}

func annotation(cp store.Copy) string { return "仅供" + cp.RecipientOrg + cp.Purpose + "使用" }

// holderCopy: the holder copies one of their own valid certificates.
func (s *Server) holderCopy(c *echo.Context) error {
	var req copyRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	exp, v := s.checkCopy(req)
	if req.CertificateID != "" && req.CertificateID != c.Param("id") {
		v.add("certificate_id", "mismatch", "is the certificate of the path, or omitted")
	}
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
	co, err := s.loadCopy(ctx, cert, exp)
	if err != nil {
		return err
	}
	return s.makeCopy(c, raw, req, co, exp, nil)
}

// caseCopy: the case system that opened a case copies a certificate that
// is an exempted material of it. Anything else is refused and recorded.
func (s *Server) caseCopy(c *echo.Context) error {
	var req copyRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	exp, v := s.checkCopy(req)
	if req.CertificateID == "" {
		v.add("certificate_id", "required", "name the exempted material's certificate to copy")
	}
	if err := v.err(); err != nil {
		return err
	}
	cur, err := s.openerCase(c, "case.copy")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	exempted := false
	for _, m := range cur.Result.Materials {
		if m.Status == cases.StatusExempted && m.CertificateID == req.CertificateID {
			exempted = true
		}
	}
	cert, err := s.store.GetCertificate(ctx, req.CertificateID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !exempted || err != nil {
		p := who(c)
		it, ierr := s.deps.Cases.Item(ctx, cur.Case.ItemCode)
		if ierr != nil {
			return ierr
		}
		holders := []string{cur.Case.ApplicantSubject}
		if err == nil && cert.HolderSubject != cur.Case.ApplicantSubject {
			holders = append(holders, cert.HolderSubject)
		}
		r := casework.Refusal{Action: "case.copy", Reason: reasonNotMaterial, Field: "certificate_id", Item: it, CaseID: cur.Case.ID, Holders: holders,
			Org: p.Name, OrgUSCC: p.USCC, Business: cur.Case.BusinessCode, Purpose: req.Purpose, Actor: actorOf(c), Request: requestID(c)}
		if p.Kind == store.KindApp {
			r.AppID = p.ID
		}
		return s.refusal(ctx, r, http.StatusForbidden, FieldError{Field: "certificate_id", Code: reasonNotMaterial,
			Detail: "is not the certificate of an exempted material of this case"})
	}
	co, err := s.loadCopy(ctx, cert, exp)
	if err != nil {
		return err
	}
	return s.makeCopy(c, raw, req, co, exp, &cur.Case)
}

// copyStatus is a copy's status as its holder sees it (copyView.Status).
// A copy with its own entry carries its certificate's status; an older one
// is judged by its certificate, read here.
func (s *Server) copyStatus(ctx context.Context, cp store.Copy) (string, error) {
	switch {
	case cp.WithdrawnAt != nil:
		return "withdrawn", nil
	case !s.now().Before(cp.ExpiresAt):
		return "expired", nil
	}
	cert, err := s.store.GetCertificate(ctx, cp.CertificateID)
	if err != nil {
		return "", err
	}
	if s.deps.Issuance.Effective(cert) != issuer.StatusValid || (cp.StatusList != "" && cp.Status != string(issuer.StatusValid)) {
		return "certificate_not_valid", nil
	}
	return "valid", nil
}

func (s *Server) myCopies(c *echo.Context) error {
	ctx := c.Request().Context()
	fetch := func(ctx context.Context, after string, limit int) ([]store.Copy, error) {
		return s.store.ListCopiesByHolder(ctx, who(c).ID, after, limit)
	}
	view := func(cp store.Copy) (copyView, error) {
		st, err := s.copyStatus(ctx, cp)
		if err != nil {
			return copyView{}, err
		}
		return copyView{ID: cp.ID, CertificateID: cp.CertificateID, RecipientOrg: cp.RecipientOrg, RecipientUSCC: cp.RecipientUSCC,
			Purpose: cp.Purpose, Annotation: annotation(cp), CaseID: cp.CaseID, CreatedAt: cp.CreatedAt, ExpiresAt: cp.ExpiresAt, URL: s.copyURL(cp.ID),
			Status: st, WithdrawnAt: cp.WithdrawnAt, Withdrawable: cp.StatusList != "" && st != "withdrawn" && st != "expired"}, nil
	}
	items, next, err := listPage(c, fetch, view, func(cp store.Copy) string { return cp.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, copyList{Items: items, NextCursor: next})
}

// --- withdrawing ---

// withdrawCopy: the holder withdraws one of their copies. Its own status
// entry becomes revoked (the published status lists carry it to offline
// verifiers), for good; the holder's usage records and the audit log
// record it. Withdrawing a withdrawn copy changes nothing (204); another
// holder's copy is not found; a copy made before copies had their own
// entry cannot be withdrawn (409: it stops only with its certificate or at
// its expiry).
func (s *Server) withdrawCopy(c *echo.Context) error {
	ctx := c.Request().Context()
	cp, err := s.store.GetCopy(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && cp.HolderSubject != who(c).ID) {
		return errNotFound("copy")
	}
	if err != nil {
		return err
	}
	if cp.WithdrawnAt != nil {
		return c.NoContent(http.StatusNoContent)
	}
	if cp.StatusList == "" {
		return problem(http.StatusConflict, "copy_not_withdrawable",
			"this copy was made before copies could be withdrawn: it stops verifying at its expiry ("+cp.ExpiresAt.In(cstZone).Format("2006-01-02 15:04")+
				" China Standard Time) or when the certificate is suspended, revoked or renewed")
	}
	err = s.store.InTx(ctx, func(q store.Queries) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := q.WithdrawCopy(ctx, cp.ID, now); err != nil {
			return err
		}
		if err := q.AddUsageRecord(ctx, store.UsageRecord{ID: newID(), HolderSubject: cp.HolderSubject, At: now, Org: cp.RecipientOrg,
			OrgUSCC: cp.RecipientUSCC, Operator: "本人", Purpose: cp.Purpose, CertificateID: cp.CertificateID, CodeKind: "copy", Channel: "copy",
			Result: "withdrawn", Detail: "加注件 " + cp.ID + " withdrawn by the holder"}); err != nil {
			return err
		}
		return s.record(ctx, c, q, "copy.withdraw", "copy", cp.ID, map[string]any{"certificate_id": cp.CertificateID,
			"status_list": cp.StatusList, "status_index": cp.StatusIndex})
	})
	if errors.Is(err, store.ErrConflict) {
		return c.NoContent(http.StatusNoContent) // withdrawn meanwhile: the holder's wish holds
	}
	if err != nil {
		return err
	}
	s.pub.Invalidate() // publish the changed list at once
	return c.NoContent(http.StatusNoContent)
}

// --- the printable page ---

// copyKey is the page key of a copy: 128 bits of HMAC-SM3 under a key
// derived from the master key, so the page needs no stored secret and the
// holder's list can show the URL again; it cannot be guessed from the id.
func (s *Server) copyKey(id string) string {
	m := hmac.New(sm3.New, s.copyPageKey())
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (s *Server) copyPageKey() []byte {
	return signing.DeriveKey(s.cfg.MasterKey, "suishen/copy-page/v1")
}

func (s *Server) copyURL(id string) string {
	return s.cfg.PublicURL + "/copies/" + id + "?k=" + s.copyKey(id)
}

var copySite = sync.OnceValue(web.New)

// copyPage renders the printable page of a copy for whoever holds its
// capability URL: the certificate's face as package disclosure lets it leave
// (non-sensitive fields, names and identity numbers masked), the annotation
// across the page, the QR of the copy code and the issuing department. A
// copy that no longer verifies shows nothing of the certificate (410). Each
// showing of the face is a usage record for the holder.
func (s *Server) copyPage(c *echo.Context) error {
	ctx := c.Request().Context()
	id, key := c.Param("id"), c.QueryParam("k")
	if len(id) > 64 || len(key) > 64 || !hmac.Equal([]byte(key), []byte(s.copyKey(id))) {
		return errNotFound("copy")
	}
	cp, err := s.store.GetCopy(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("copy")
	}
	if err != nil {
		return err
	}
	site := copySite()
	w, r := c.Response(), c.Request()
	vf, err := s.verifierNow(ctx)
	if err != nil {
		return err
	}
	res := vf.VerifyCode(cp.Code)
	if res.Result != "valid" || cp.WithdrawnAt != nil {
		why := "此加注件已失效，无法再查看证照内容。"
		if cp.WithdrawnAt != nil {
			why = "持证人已于 " + cp.WithdrawnAt.In(cstZone).Format("2006-01-02 15:04") + " 撤回此加注件，无法再查看证照内容。"
		} else if res.HasReason("expired") {
			why = "此加注件已超过有效期（" + cp.ExpiresAt.In(cstZone).Format("2006-01-02 15:04") + "），无法再查看证照内容。"
		} else if res.HasReason("revoked") || res.HasReason("suspended") || res.HasReason("superseded") {
			why = "所加注的证照已被暂扣、吊销、注销或更新，此加注件随之失效。"
		}
		return site.RenderCopy(w, r, http.StatusGone, web.CopyPage{Why: why})
	}
	cert, err := s.store.GetCertificate(ctx, cp.CertificateID)
	if err != nil {
		return err
	}
	t, err := s.deps.Issuance.Type(ctx, cert.TypeCode)
	if err != nil {
		return err
	}
	var doc issuer.Document
	if err := json.Unmarshal(issuance.DocumentOf(cert), &doc); err != nil {
		return err
	}
	view, ok := disclosure.Certificate(t, doc, string(s.deps.Issuance.Effective(cert)), copyAudience(t.Code))
	if !ok {
		return fmt.Errorf("copy page: type %s not disclosed", t.Code)
	}
	qr, err := codes.PNG(cp.Code, 480)
	if err != nil {
		return err
	}
	page := web.CopyPage{Valid: true, TypeName: view.TypeName, HolderName: view.Holder.Name, HolderID: view.Holder.IDNumber,
		HolderIDLabel: "证件号码", Number: disclosure.Text(doc.Number), CertificateID: view.CertificateID, Department: doc.Issuer.Name,
		Annotation: annotation(cp), RecipientOrg: cp.RecipientOrg, RecipientUSCC: cp.RecipientUSCC, Purpose: cp.Purpose,
		ExpiresAt: cp.ExpiresAt.In(cstZone).Format("2006-01-02 15:04") + "（北京时间）",
		QR:        template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(qr))}
	if view.Holder.Kind == issuer.HolderEnterprise {
		page.HolderIDLabel = "统一社会信用代码"
	}
	page.Validity = view.ValidFrom + " 至 长期"
	if view.ValidUntil != nil {
		page.Validity = view.ValidFrom + " 至 " + *view.ValidUntil
	}
	for _, f := range t.Fields {
		if v, ok := view.Fields[f.Name]; ok {
			page.Fields = append(page.Fields, web.CopyField{Label: f.Label, Value: fmt.Sprint(v)})
		}
	}
	if r.Method == http.MethodHead { // nothing of the face is sent: no use to record
		return site.RenderCopy(w, r, http.StatusOK, page)
	}
	if err := s.usage(ctx, store.UsageRecord{HolderSubject: cp.HolderSubject, Org: cp.RecipientOrg, OrgUSCC: cp.RecipientUSCC,
		Operator: "加注件页面", Purpose: cp.Purpose, CertificateID: cp.CertificateID, CodeKind: "copy", Channel: "copy",
		Result: "success", Detail: "加注件 " + cp.ID + " page shown"}); err != nil {
		return err
	}
	return site.RenderCopy(w, r, http.StatusOK, page)
}

// copyAudience is whoever holds a copy's page: what an app whose use list
// names the type (no fields) receives — the non-sensitive face fields,
// persons' names and every identity number masked.
func copyAudience(typeCode string) disclosure.Audience {
	return disclosure.ForApp(disclosure.NewUseList([]string{typeCode}, nil))
}

var cstZone = time.FixedZone("CST", 8*60*60)
