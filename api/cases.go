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
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

type relatedBody struct {
	Relation string `json:"relation"` // e.g. 新生儿, 配偶
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

type caseRequest struct {
	ServiceItemCode string        `json:"service_item_code"`
	Applicant       applicantBody `json:"applicant"`
	// Related holders whose certificates the case may use (the newborn of a
	// birth registration, the other party of a marriage).
	Related      []relatedBody `json:"related,omitempty"`
	Org          string        `json:"org"`
	Operator     string        `json:"operator"`
	BusinessCode string        `json:"business_code"`
	Purpose      string        `json:"purpose"`
}

type caseMaterial struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	Status        string `json:"status"` // exempted | verified | to_submit
	CertificateID string `json:"certificate_id,omitempty"`
	// CertificateStatus is the attached certificate's status now (GET).
	CertificateStatus string `json:"certificate_status,omitempty"`
	Reason            string `json:"reason"`
}

type casePrecheck struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Reason string `json:"reason"`
}

type caseView struct {
	ID              string         `json:"id"`
	ServiceItemCode string         `json:"service_item_code"`
	BusinessCode    string         `json:"business_code"`
	Materials       []caseMaterial `json:"materials"`
	Prefill         map[string]any `json:"prefill"`
	Precheck        []casePrecheck `json:"precheck"`
	Exempted        int            `json:"exempted"`
	Total           int            `json:"total"`
	CreatedAt       time.Time      `json:"created_at"`
}

type itemList struct {
	Items      []cases.ServiceItem `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

type itemStats struct {
	ServiceItemCode string  `json:"service_item_code"`
	Name            string  `json:"name"`
	Cases           int64   `json:"cases"`
	ExemptionRate   float64 `json:"exemption_rate"`     // exempted or verified materials / all materials
	PrefillRate     float64 `json:"prefill_rate"`       // pre-filled form fields / pre-fillable form fields
	PrecheckPass    float64 `json:"precheck_pass_rate"` // passed pre-checks / pre-checks run
}

type statsResponse struct {
	Items []itemStats `json:"items"`
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
