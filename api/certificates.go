package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/store"
)

// --- bodies ---

type holderBody struct {
	Kind     string `json:"kind" doc:"person (a natural person) or enterprise (a legal person); must match the certificate type holder_kind." enum:"person,enterprise" example:"enterprise"` // person | enterprise
	Name     string `json:"name" doc:"The holder name (持证主体)." example:"上海某某科技有限公司"`
	IDType   string `json:"id_type" doc:"持证主体代码类型: 111 for a 公民身份号码 (person), 001 for a 统一社会信用代码 (enterprise)." enum:"111,001" example:"001"` // 111 (公民身份号码) | 001 (统一社会信用代码)
	IDNumber string `json:"id_number" doc:"持证主体代码: the 公民身份号码 or 统一社会信用代码, with a valid check character." example:"91350100M000100Y43"`
}

type certificateRequest struct {
	TypeCode   string         `json:"type_code" doc:"The certificate type code (证照类型代码) from the catalogue; the department must be authorised for it." example:"11100000000021001C001"`
	Number     string         `json:"number" doc:"The certificate number (证照编号) in the department register; unique per type and department." example:"310104000123456"`
	Holder     holderBody     `json:"holder" doc:"Who holds the certificate (持证主体)."`
	ValidFrom  string         `json:"valid_from" doc:"First day of validity (有效期起始日期), YYYY-MM-DD." example:"2024-03-01" format:"date"`                                // YYYY-MM-DD
	ValidUntil *string        `json:"valid_until,omitempty" doc:"Last day of validity (有效期截止日期), YYYY-MM-DD; omit with long_term." example:"2034-02-28" format:"date"` // YYYY-MM-DD
	LongTerm   bool           `json:"long_term,omitempty" doc:"Valid without end (长期有效), where the type allows it; then omit valid_until." example:"true"`
	AreaCode   string         `json:"area_code" doc:"The issuing authority 6-digit administrative area code (行政区划代码)." example:"310104"`
	Fields     map[string]any `json:"fields" doc:"The face fields (照面信息) as the type fields schema defines them, by field name." example:"{\"name\":\"上海某某科技有限公司\",\"legal_representative\":\"张三\"}"`
}

type certificateView struct {
	ID          string          `json:"id" doc:"The certificate identifier (证照标识, GB/T 36904)." example:"11100000000021001C0011210000000000001X"`
	Version     int             `json:"version" doc:"Version (版本号): 1 when issued, one more with each renewal or change." example:"1"`
	Status      string          `json:"status" doc:"The current status." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	TypeCode    string          `json:"type_code" doc:"The certificate type code." example:"11100000000021001C001"`
	IssuerUSCC  string          `json:"issuer_uscc" doc:"The issuing department unified social credit code." example:"11100000000013338W"`
	Predecessor string          `json:"predecessor,omitempty" doc:"The identifier of the version this one renewed, if any."`
	Successor   string          `json:"successor,omitempty" doc:"The identifier of the version that superseded this one, if any."`
	Document    json.RawMessage `json:"document" doc:"The signed document: GB/T 36903 metadata and the face fields, exactly as in the JWS payload." schema:"Document"`
	JWS         string          `json:"jws" doc:"The document signed by the department key: a compact JWS with alg SM2 (SM2 signature with ID 1234567812345678 over the signing input, raw r||s)." example:"eyJhbGciOiJTTTIiLCJraWQiOiJkZXAtMSJ9.eyJpZGVudGlmaWVyIjoi…In0.MEUCIQ…"`
	KeyID       string          `json:"key_id" doc:"The kid of the key that signed it." example:"dep-11100000000013338W-1"`
	IssuedAt    time.Time       `json:"issued_at" doc:"When this version was signed." example:"2026-12-01T08:00:00Z"`
	UpdatedAt   time.Time       `json:"updated_at" doc:"When its status last changed." example:"2026-12-01T08:00:00Z"`
}

type certificateSummary struct {
	ID         string     `json:"id" doc:"The certificate identifier (证照标识)." example:"11100000000021001C0011210000000000001X"`
	Version    int        `json:"version" doc:"Version (版本号)." example:"1"`
	Status     string     `json:"status" doc:"The current status." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	TypeCode   string     `json:"type_code" doc:"The certificate type code." example:"11100000000021001C001"`
	TypeName   string     `json:"type_name" doc:"The certificate type name." example:"营业执照"`
	IssuerUSCC string     `json:"issuer_uscc" doc:"The issuing department unified social credit code." example:"11100000000013338W"`
	Number     string     `json:"number" doc:"The certificate number (证照编号)." example:"310104000123456"`
	ValidUntil *time.Time `json:"valid_until" doc:"End of validity; null when long-term."`
	IssuedAt   time.Time  `json:"issued_at" doc:"When this version was signed." example:"2026-12-01T08:00:00Z"`
	// VerifyResult and Reasons: what a verifier holding the current trust
	// bundle answers for it (valid | invalid | unknown).
	VerifyResult string       `json:"verify_result" doc:"What a verifier holding the current trust bundle answers for the certificate (a compromised department key shows here)." enum:"valid,invalid,unknown" example:"valid"`
	Reasons      []reasonView `json:"reasons" doc:"Why verify_result is not valid (empty when valid)."`
}

type certificateList struct {
	Items      []certificateSummary `json:"items" doc:"This page of certificates."`
	NextCursor *string              `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type statusView struct {
	ID         string     `json:"id" doc:"The certificate identifier." example:"11100000000021001C0011210000000000001X"`
	Status     string     `json:"status" doc:"The current status." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	ValidUntil *time.Time `json:"valid_until" doc:"End of validity; null when long-term."`
	UpdatedAt  time.Time  `json:"updated_at" doc:"When the status last changed." example:"2026-12-01T08:00:00Z"`
	// VerifyResult and Reasons: what a verifier holding the current trust
	// bundle answers for the certificate (valid | invalid | unknown).
	VerifyResult string       `json:"verify_result,omitempty" doc:"What a verifier holding the current trust bundle answers for the certificate (a compromised department key shows here)." enum:"valid,invalid,unknown" example:"valid"`
	Reasons      []reasonView `json:"reasons,omitempty" doc:"Why verify_result is not valid (empty when valid)."`
}

type lifecycleRequest struct {
	Reason string `json:"reason" doc:"Why, in words: recorded in the audit log and shown to the holder." example:"依法暂扣"`
}

type renewRequest struct {
	Reason     string         `json:"reason" doc:"Why the certificate is renewed or changed." example:"有效期届满换证"`
	ValidFrom  *string        `json:"valid_from,omitempty" doc:"The new first day of validity, YYYY-MM-DD (default: as before)." example:"2034-03-01" format:"date"`
	ValidUntil *string        `json:"valid_until,omitempty" doc:"The new last day of validity, YYYY-MM-DD." example:"2044-02-28" format:"date"`
	LongTerm   *bool          `json:"long_term,omitempty" doc:"Whether the new version is valid without end."`
	Fields     map[string]any `json:"fields,omitempty" doc:"Face fields to change, by name; the others stay." example:"{\"domicile\":\"上海市徐汇区虹桥路2号\"}"`
}

type batchRequest struct {
	Items []certificateRequest `json:"items" doc:"1 to 1,000 certificates to issue, each like POST /v1/certificates."`
}

type batchItem struct {
	Index  int          `json:"index" doc:"The item position in the request (from 0)." example:"0"`
	Status int          `json:"status" doc:"The HTTP status this item alone would have had: 201 issued, 409 already issued, 422 invalid." example:"201"`
	ID     string       `json:"id,omitempty" doc:"The certificate identifier (the existing one for a 409)." example:"11100000000021001C0011210000000000001X"`
	Code   string       `json:"code,omitempty" doc:"The problem code when the item failed." example:"validation_failed"`
	Detail string       `json:"detail,omitempty" doc:"What went wrong, in words."`
	Errors []FieldError `json:"errors,omitempty" doc:"The item bad fields, named items[i].field."`
}

type batchResponse struct {
	Items   []batchItem `json:"items" doc:"One result per request item, in request order."`
	Created int         `json:"created" doc:"How many items were issued." example:"998"`
	Failed  int         `json:"failed" doc:"How many were not." example:"2"`
}

// --- conversion ---

// toIssueRequest converts a body; field paths are prefixed with prefix
// ("items[3]." in a batch).
func toIssueRequest(b certificateRequest) (issuer.IssueRequest, []FieldError) {
	var errs []FieldError
	r := issuer.IssueRequest{TypeCode: b.TypeCode, Number: b.Number, LongTerm: b.LongTerm, AreaCode: b.AreaCode, Fields: b.Fields,
		Holder: issuer.Holder{Kind: b.Holder.Kind, Name: b.Holder.Name, IDType: b.Holder.IDType, IDNumber: b.Holder.IDNumber}}
	if r.Fields == nil {
		r.Fields = map[string]any{}
	}
	if b.ValidFrom == "" {
		errs = append(errs, FieldError{Field: "valid_from", Code: "required", Detail: "is required (YYYY-MM-DD)"})
	} else if t, err := issuer.ParseDate(b.ValidFrom); err != nil {
		errs = append(errs, FieldError{Field: "valid_from", Code: "date_invalid", Detail: "must be a real date YYYY-MM-DD"})
	} else {
		r.ValidFrom = t
	}
	if b.ValidUntil != nil {
		if t, err := issuer.ParseDate(*b.ValidUntil); err != nil {
			errs = append(errs, FieldError{Field: "valid_until", Code: "date_invalid", Detail: "must be a real date YYYY-MM-DD"})
		} else {
			r.ValidUntil = &t
		}
	}
	return r, errs
}

func fieldErrors(prefix string, in []issuer.FieldError) []FieldError {
	out := make([]FieldError, len(in))
	for i, e := range in {
		out[i] = FieldError{Field: prefix + e.Field, Code: e.Code, Detail: e.Detail}
	}
	return out
}

// issuanceProblem maps the issuance service's errors to problems.
func issuanceProblem(err error) error {
	var inv *issuance.InvalidError
	switch {
	case errors.As(err, &inv):
		return invalid(fieldErrors("", inv.Fields)...)
	case errors.Is(err, issuance.ErrUnknownType):
		return invalid(FieldError{Field: "type_code", Code: "unknown_type", Detail: "is not in the certificate catalogue"})
	case errors.Is(err, issuance.ErrNotAuthorsed):
		p := errForbidden("this department is not authorised to issue this certificate type")
		p.Code = "type_not_authorised"
		p.Errors = []FieldError{{Field: "type_code", Code: "not_authorised", Detail: "the department may not issue this type"}}
		return p
	case errors.Is(err, issuer.ErrIllegalTransition):
		return problem(http.StatusConflict, "illegal_transition", err.Error())
	case errors.Is(err, store.ErrConflict):
		return problem(http.StatusConflict, "concurrent_change", "the certificate changed meanwhile; read it again and retry")
	}
	return err
}

func (s *Server) department(ctx context.Context, c *echo.Context) (store.Department, error) {
	return s.store.GetDepartment(ctx, who(c).ID)
}

func (s *Server) viewCertificate(c store.Certificate) certificateView {
	return certificateView{ID: c.ID, Version: c.Version, Status: string(s.deps.Issuance.Effective(c)), TypeCode: c.TypeCode,
		IssuerUSCC: c.IssuerUSCC, Predecessor: c.PredecessorID, Successor: c.SuccessorID, Document: issuance.DocumentOf(c), JWS: c.JWS,
		KeyID: c.KeyID, IssuedAt: c.IssuedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) actor(c *echo.Context) issuance.Actor {
	return issuance.Actor{Actor: actorOf(c), RequestID: requestID(c)}
}

// --- handlers ---

func (s *Server) issueCertificate(c *echo.Context) error {
	var body certificateRequest
	raw, err := readBody(c, &body)
	if err != nil {
		return err
	}
	req, errs := toIssueRequest(body)
	if len(errs) > 0 {
		return invalid(errs...)
	}
	ctx := c.Request().Context()
	dept, err := s.department(ctx, c)
	if err != nil {
		return err
	}
	// A retry with the same Idempotency-Key must not consume a number or a
	// signature: answer it from the record before preparing anything.
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		p, err := s.deps.Issuance.Prepare(ctx, dept, req)
		if err != nil {
			return issuanceProblem(err)
		}
		err = s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
			if err := s.deps.Issuance.Save(ctx, q, p, s.actor(c)); err != nil {
				if isExists(err) {
					return 0, nil, problemConflict("number", "a certificate of this type with this number was already issued by this department")
				}
				return 0, nil, err
			}
			return http.StatusCreated, s.viewCertificate(p.Record), nil
		})
		// The key was retired or compromised (on any node) between
		// signing and storing: sign again with its replacement.
		if errors.Is(err, keyring.ErrKeyNotActive) && attempt == 0 {
			continue
		}
		if err == nil {
			s.certificateChanged()
		}
		return err
	}
}

func (s *Server) issueBatch(c *echo.Context) error {
	var body batchRequest
	raw, err := readBody(c, &body)
	if err != nil {
		return err
	}
	if len(body.Items) == 0 || len(body.Items) > 1000 {
		return invalid(FieldError{Field: "items", Code: "length", Detail: "must hold 1 to 1000 items"})
	}
	ctx := c.Request().Context()
	dept, err := s.department(ctx, c)
	if err != nil {
		return err
	}
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	out := batchResponse{Items: make([]batchItem, len(body.Items))}
	reqs := make([]issuer.IssueRequest, 0, len(body.Items))
	pos := make([]int, 0, len(body.Items))
	for i, it := range body.Items {
		out.Items[i].Index = i
		r, errs := toIssueRequest(it)
		if len(errs) > 0 {
			out.Items[i] = batchItem{Index: i, Status: 422, Code: "validation_failed", Errors: prefixed(i, errs)}
			continue
		}
		reqs = append(reqs, r)
		pos = append(pos, i)
	}
	results, err := s.deps.Issuance.Batch(ctx, dept, reqs, s.actor(c))
	if err != nil {
		return err
	}
	for j, res := range results {
		i := pos[j]
		it := batchItem{Index: i, ID: res.ID}
		switch {
		case res.Err == nil:
			it.Status = 201
		case errors.Is(res.Err, issuance.ErrDuplicate):
			it.Status, it.Code, it.Detail = 409, "already_exists", "a certificate with this number was already issued; id names it"
		default:
			p, _ := toProblem(issuanceProblem(res.Err))
			it.Status, it.Code, it.Detail, it.Errors = p.Status, p.Code, p.Detail, prefixed(i, p.Errors)
		}
		out.Items[i] = it
	}
	s.certificateChanged()
	for _, it := range out.Items {
		if it.Status == 201 {
			out.Created++
		} else {
			out.Failed++
		}
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		return http.StatusOK, out, nil
	})
}

func prefixed(i int, errs []FieldError) []FieldError {
	out := make([]FieldError, len(errs))
	for k, e := range errs {
		e.Field = "items[" + strconv.Itoa(i) + "]." + e.Field
		out[k] = e
	}
	return out
}

// getCertificate: the issuing department or the holder; anyone else 404.
func (s *Server) getCertificate(c *echo.Context) error {
	ctx := c.Request().Context()
	cert, err := s.store.GetCertificate(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("certificate")
	}
	if err != nil {
		return err
	}
	p := who(c)
	if p.Kind == store.KindApp {
		return s.grantedCertificate(c)
	}
	allowed := false
	switch p.Kind {
	case store.KindDepartment:
		allowed = p.USCC == cert.IssuerUSCC
	case store.KindHolder:
		allowed = p.ID == cert.HolderSubject
	}
	if !allowed {
		return errNotFound("certificate")
	}
	return c.JSON(http.StatusOK, s.viewCertificate(cert))
}

// certificateStatus is public and carries no personal data.
func (s *Server) certificateStatus(c *echo.Context) error {
	if err := s.statusAllowed(c); err != nil {
		return err
	}
	cert, err := s.store.GetCertificate(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("certificate")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	sv := statusView{ID: cert.ID, Status: string(s.deps.Issuance.Effective(cert)), ValidUntil: cert.ValidUntil, UpdatedAt: cert.UpdatedAt}
	sv.VerifyResult, sv.Reasons = s.verdict(c.Request().Context(), cert)
	return c.JSON(http.StatusOK, sv)
}

func (s *Server) lifecycle(a issuer.Action) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var body lifecycleRequest
		if _, err := readBody(c, &body); err != nil {
			return err
		}
		var v checks
		v.optText("reason", body.Reason, maxReason)
		if (a == issuer.ActionRevoke || a == issuer.ActionSuspend) && body.Reason == "" {
			v.add("reason", "required", "say why (it is recorded and shown to the holder)")
		}
		if err := v.err(); err != nil {
			return err
		}
		ctx := c.Request().Context()
		dept, err := s.department(ctx, c)
		if err != nil {
			return err
		}
		cert, err := s.deps.Issuance.Change(ctx, dept, c.Param("id"), a, body.Reason, s.actor(c))
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("certificate")
		}
		if err != nil {
			return issuanceProblem(err)
		}
		s.certificateChanged()
		return c.JSON(http.StatusOK, statusView{ID: cert.ID, Status: string(s.deps.Issuance.Effective(cert)), ValidUntil: cert.ValidUntil, UpdatedAt: cert.UpdatedAt})
	}
}

func (s *Server) renewCertificate(c *echo.Context) error {
	var body renewRequest
	raw, err := readBody(c, &body)
	if err != nil {
		return err
	}
	var r issuance.Renewal
	var v checks
	// Renewal requires a reason, as revocation and suspension do: it is
	// recorded and shown to the holder.
	v.text("reason", body.Reason, maxReason)
	r.Reason, r.LongTerm, r.Fields = body.Reason, body.LongTerm, body.Fields
	for name, p := range map[string]*string{"valid_from": body.ValidFrom, "valid_until": body.ValidUntil} {
		if p == nil {
			continue
		}
		t, err := issuer.ParseDate(*p)
		if err != nil {
			v.add(name, "date_invalid", "must be a real date YYYY-MM-DD")
			continue
		}
		if name == "valid_from" {
			r.ValidFrom = &t
		} else {
			r.ValidUntil = &t
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	dept, err := s.department(ctx, c)
	if err != nil {
		return err
	}
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	p, err := s.deps.Issuance.Renew(ctx, dept, c.Param("id"), r, s.actor(c))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("certificate")
	}
	if err != nil {
		return issuanceProblem(err)
	}
	s.certificateChanged()
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		return http.StatusCreated, s.viewCertificate(p.Record), nil
	})
}

// listCertificates lists a department's own certificates.
func (s *Server) listIssued(c *echo.Context) error {
	return s.listCerts(c, store.CertificateFilter{IssuerUSCC: who(c).USCC, TypeCode: c.QueryParam("type_code")})
}

// myCertificates lists a holder's certificates from every department.
func (s *Server) myCertificates(c *echo.Context) error {
	return s.listCerts(c, store.CertificateFilter{HolderSubject: who(c).ID, TypeCode: c.QueryParam("type_code")})
}

func (s *Server) listCerts(c *echo.Context, f store.CertificateFilter) error {
	fetch := func(ctx context.Context, after string, limit int) ([]store.Certificate, error) {
		return s.store.ListCertificates(ctx, f, after, limit)
	}
	view := func(ce store.Certificate) (certificateSummary, error) {
		name := ""
		if t, err := s.deps.Issuance.Type(c.Request().Context(), ce.TypeCode); err == nil {
			name = t.Name
		}
		sum := certificateSummary{ID: ce.ID, Version: ce.Version, Status: string(s.deps.Issuance.Effective(ce)),
			TypeCode: ce.TypeCode, TypeName: name, IssuerUSCC: ce.IssuerUSCC, Number: ce.Number, ValidUntil: ce.ValidUntil, IssuedAt: ce.IssuedAt}
		sum.VerifyResult, sum.Reasons = s.verdict(c.Request().Context(), ce)
		return sum, nil
	}
	items, next, err := listPage(c, fetch, view, func(ce store.Certificate) string { return ce.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, certificateList{Items: items, NextCursor: next})
}

// --- catalogue ---

type typeList struct {
	Items      []issuer.CertificateType `json:"items" doc:"This page of certificate types."`
	NextCursor *string                  `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (s *Server) listTypes(c *echo.Context) error {
	view := func(t store.CertificateType) (issuer.CertificateType, error) {
		return spec[issuer.CertificateType](t.Spec)
	}
	items, next, err := listPage(c, s.store.ListCertificateTypes, view, func(t store.CertificateType) string { return t.Code })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, typeList{Items: items, NextCursor: next})
}

func (s *Server) getType(c *echo.Context) error {
	t, err := s.deps.Issuance.Type(c.Request().Context(), c.Param("code"))
	if errors.Is(err, issuance.ErrUnknownType) {
		return errNotFound("certificate type")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) addType(c *echo.Context) error {
	var t issuer.CertificateType
	raw, err := readBody(c, &t)
	if err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		if err := s.deps.Issuance.AddType(ctx, q, t, s.actor(c)); err != nil {
			if isExists(err) {
				return 0, nil, problemConflict("code", "a certificate type with this code exists")
			}
			return 0, nil, issuanceProblem(err)
		}
		return http.StatusCreated, t, nil
	})
}
