package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/store"
)

// --- bodies ---

type applicantBody struct {
	Kind     string `json:"kind" doc:"person (a natural person) or enterprise (a legal person)." enum:"person,enterprise" example:"person"`
	Name     string `json:"name" doc:"The applicant name as on their identity document." example:"张三"`
	IDNumber string `json:"id_number" doc:"公民身份号码 (person) or 统一社会信用代码 (enterprise)." example:"11010519491231002X"`
}

type relatedBody struct {
	Relation string `json:"relation" doc:"How the holder relates to the applicant, as the service item names it." example:"配偶"` // e.g. 新生儿, 配偶
	Kind     string `json:"kind" doc:"person or enterprise." enum:"person,enterprise" example:"person"`
	Name     string `json:"name" doc:"The related holder name." example:"李四"`
	IDNumber string `json:"id_number" doc:"公民身份号码 (person) or 统一社会信用代码 (enterprise)." example:"11010519491231002X"`
}

type caseRequest struct {
	ServiceItemCode string        `json:"service_item_code" doc:"The service item (政务服务事项) code." example:"310100-000-01"`
	Applicant       applicantBody `json:"applicant" doc:"Who applies."`
	// Related holders whose certificates the case may use (the newborn of a
	// birth registration, the other party of a marriage).
	Related      []relatedBody `json:"related,omitempty" doc:"Related holders whose certificates the case may use (the newborn of a birth registration, the other party of a marriage)."`
	Org          string        `json:"org" doc:"The sub-unit handling it (a window, a team), recorded for the holder." example:"徐汇区行政服务中心3号窗口"`
	Operator     string        `json:"operator" doc:"The officer handling it, recorded for the holder." example:"王五"`
	BusinessCode string        `json:"business_code" doc:"The case or business number in the caller system (办件编号)." example:"XH20261201-0001"`
	Purpose      string        `json:"purpose" doc:"Why the certificates are pulled, recorded for the holder." example:"办理营业执照变更登记"`
}

type caseMaterial struct {
	Code          string `json:"code" doc:"The material code within the service item." example:"M01"`
	Name          string `json:"name" doc:"The material name." example:"营业执照"`
	Status        string `json:"status" doc:"exempted (the certificate replaces it: data pulled), verified (checked, data not moved), to_submit (the applicant must still submit it)." enum:"exempted,verified,to_submit" example:"exempted"` // exempted | verified | to_submit
	CertificateID string `json:"certificate_id,omitempty" doc:"The identifier of the certificate attached for it, if any." example:"1210000000002100100000000000000001X"`
	// CertificateStatus is the attached certificate's status now (GET).
	CertificateStatus string `json:"certificate_status,omitempty" doc:"That certificate status now (on GET)." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	Reason            string `json:"reason" doc:"Why it has this status, in words." example:"由电子证照替代"`
}

type casePrecheck struct {
	Code   string `json:"code" doc:"The pre-check code within the service item." example:"P01"`
	Name   string `json:"name" doc:"What it checks." example:"营业执照在有效期内"`
	Passed bool   `json:"passed" doc:"Whether the pre-check passed." example:"true"`
	Reason string `json:"reason" doc:"Why it passed or failed, in words." example:"有效期至长期"`
}

type caseView struct {
	ID              string         `json:"id" doc:"The case id." example:"case_01JD8X3K2Q"`
	ServiceItemCode string         `json:"service_item_code" doc:"The service item code." example:"310100-000-01"`
	BusinessCode    string         `json:"business_code" doc:"The caller business number." example:"XH20261201-0001"`
	Materials       []caseMaterial `json:"materials" doc:"Each material of the item and how it was covered."`
	Prefill         map[string]any `json:"prefill" doc:"Form fields pre-filled from certificates, by form field name." example:"{\"company_name\":\"上海某某科技有限公司\"}"`
	Precheck        []casePrecheck `json:"precheck" doc:"The pre-checks run and their results."`
	Exempted        int            `json:"exempted" doc:"How many materials the applicant need not submit." example:"2"`
	Total           int            `json:"total" doc:"How many materials the item has." example:"3"`
	CreatedAt       time.Time      `json:"created_at" doc:"When the case was opened." example:"2026-12-01T08:00:00Z"`
}

type itemList struct {
	Items      []cases.ServiceItem `json:"items" doc:"This page of service items."`
	NextCursor *string             `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type itemStats struct {
	ServiceItemCode string  `json:"service_item_code" doc:"The service item code." example:"310100-000-01"`
	Name            string  `json:"name" doc:"The service item name." example:"营业执照变更登记"`
	Cases           int64   `json:"cases" doc:"Cases opened for it." example:"120"`
	ExemptionRate   float64 `json:"exemption_rate" doc:"Materials exempted or verified divided by all materials (0 to 1)." example:"0.83"`  // exempted or verified materials / all materials
	PrefillRate     float64 `json:"prefill_rate" doc:"Form fields pre-filled divided by pre-fillable form fields (0 to 1)." example:"0.75"` // pre-filled form fields / pre-fillable form fields
	PrecheckPass    float64 `json:"precheck_pass_rate" doc:"Pre-checks passed divided by pre-checks run (0 to 1)." example:"0.95"`          // passed pre-checks / pre-checks run
}

type statsResponse struct {
	Items []itemStats `json:"items" doc:"One entry per service item."`
}

func viewCase(c store.Case, r cases.Result, statuses map[string]string) caseView {
	out := caseView{ID: c.ID, ServiceItemCode: c.ItemCode, BusinessCode: c.BusinessCode, Prefill: r.Prefill,
		Materials: make([]caseMaterial, 0, len(r.Materials)), Precheck: make([]casePrecheck, 0, len(r.Prechecks)),
		Exempted: r.Exempted, Total: r.Total, CreatedAt: c.CreatedAt}
	if out.Prefill == nil {
		out.Prefill = map[string]any{}
	}
	for _, m := range r.Materials {
		out.Materials = append(out.Materials, caseMaterial{Code: m.Code, Name: m.Name, Status: m.Status, CertificateID: m.CertificateID,
			CertificateStatus: statuses[m.CertificateID], Reason: m.Reason})
	}
	for _, p := range r.Prechecks {
		out.Precheck = append(out.Precheck, casePrecheck{Code: p.Code, Name: p.Name, Passed: p.Passed, Reason: p.Reason})
	}
	return out
}

// --- handlers ---

func (s *Server) openCase(c *echo.Context) error {
	var req caseRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	v.text("service_item_code", req.ServiceItemCode, 64)
	s.validateHolder(&v, "applicant.", req.Applicant.Kind, req.Applicant.Name, req.Applicant.IDNumber)
	v.optText("org", req.Org, maxOrgUnit)
	v.text("operator", req.Operator, maxOperator)
	v.text("business_code", req.BusinessCode, 64)
	v.text("purpose", req.Purpose, 200)
	if len(req.Related) > 5 {
		v.add("related", "length", "may name at most 5 related holders")
	}
	var related []string
	for i, rel := range req.Related {
		f := "related[" + strconv.Itoa(i) + "]."
		v.text(f+"relation", rel.Relation, 20)
		s.validateHolder(&v, f, rel.Kind, rel.Name, rel.IDNumber)
		related = append(related, s.deps.Subjects.Of(rel.Kind, rel.IDNumber))
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	p := who(c)
	r := casework.Request{ItemCode: req.ServiceItemCode, ApplicantSubject: s.deps.Subjects.Of(req.Applicant.Kind, req.Applicant.IDNumber),
		ApplicantKind: req.Applicant.Kind, RelatedSubjects: related, Org: p.Name, OrgUSCC: p.USCC, OrgUnit: req.Org, Operator: req.Operator, BusinessCode: req.BusinessCode,
		Purpose: req.Purpose, Caller: p.Ref(), Actor: actorOf(c), RequestID: requestID(c), Audience: disclosure.ForCaseOfficer()}
	if p.Kind == store.KindApp {
		r.AppID, r.Audience = p.ID, audienceOf(p)
	}
	opened, err := s.deps.Cases.Open(ctx, r)
	if errors.Is(err, casework.ErrUnknownItem) {
		return invalid(FieldError{Field: "service_item_code", Code: "unknown", Detail: "is not a service item in the catalogue"})
	}
	if err != nil {
		return err
	}
	s.metrics.caseOpened(opened.Case.ItemCode, opened.Result.Exempted == opened.Result.Total)
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		return http.StatusCreated, viewCase(opened.Case, opened.Result, nil), nil
	})
}

// getCase: only the principal that opened it (or the admin) sees a case.
func (s *Server) getCase(c *echo.Context) error {
	cur, err := s.deps.Cases.Get(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("case")
	}
	if err != nil {
		return err
	}
	if p := who(c); p.Kind != store.KindAdmin && cur.Case.Caller != p.Ref() {
		return errNotFound("case")
	}
	return c.JSON(http.StatusOK, viewCase(cur.Case, cur.Result, cur.Statuses))
}

func (s *Server) serviceItemStats(c *echo.Context) error {
	ctx := c.Request().Context()
	rows, err := s.store.ServiceItemStats(ctx)
	if err != nil {
		return err
	}
	out := statsResponse{Items: make([]itemStats, 0, len(rows))}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	for _, r := range rows {
		name := ""
		if it, err := s.deps.Cases.Item(ctx, r.ItemCode); err == nil {
			name = it.Name
		}
		out.Items = append(out.Items, itemStats{ServiceItemCode: r.ItemCode, Name: name, Cases: r.Cases,
			ExemptionRate: ratio(r.Exempted, r.Total), PrefillRate: ratio(r.PrefillFilled, r.PrefillTotal),
			PrecheckPass: ratio(r.PrecheckPassed, r.PrecheckTotal)})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listItems(c *echo.Context) error {
	view := func(it store.ServiceItem) (cases.ServiceItem, error) { return spec[cases.ServiceItem](it.Spec) }
	items, next, err := listPage(c, s.store.ListServiceItems, view, func(it store.ServiceItem) string { return it.Code })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, itemList{Items: items, NextCursor: next})
}

func (s *Server) getItem(c *echo.Context) error {
	it, err := s.deps.Cases.Item(c.Request().Context(), c.Param("code"))
	if errors.Is(err, casework.ErrUnknownItem) {
		return errNotFound("service item")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, it)
}

func (s *Server) addItem(c *echo.Context) error {
	var it cases.ServiceItem
	raw, err := readBody(c, &it)
	if err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		err := s.deps.Cases.AddItem(ctx, q, it, actorOf(c), requestID(c))
		var inv *casework.InvalidError
		switch {
		case errors.As(err, &inv):
			fe := make([]FieldError, len(inv.Fields))
			for i, e := range inv.Fields {
				fe[i] = FieldError{Field: e.Field, Code: e.Code, Detail: e.Detail}
			}
			return 0, nil, invalid(fe...)
		case isExists(err):
			return 0, nil, problemConflict("code", "a service item with this code exists")
		case err != nil:
			return 0, nil, err
		}
		return http.StatusCreated, it, nil
	})
}
