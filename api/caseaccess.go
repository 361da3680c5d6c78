package api

// Who may open, read and decide a case, and whose data a case may pull
// (docs/access.md, "Cases"). Every refusal here is recorded: an audit entry,
// and a usage record for each holder the attempt concerned where one is
// identifiable (a code whose signature verified, an applicant or a minor
// named by ID number, the applicant of an existing case).

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// applicantKinds are the codes that identify an applicant at a window.
var applicantKinds = map[string]bool{"personal": true, "offline": true, "enterprise": true}

// parties is who a case is for, as established from the request.
type parties struct {
	applicant store.Holder
	related   []casework.Party
	// holders are the subjects the request concerned, for refusal records.
	holders []string
}

// caseParties authorises the caller for the item and establishes the
// applicant (the holder of a verified applicant code, matching any
// applicant named) and the related parties (adults by their own verified
// codes, minors through the item's linking certificate). Any refusal is
// recorded and returned as a problem.
func (s *Server) caseParties(ctx context.Context, c *echo.Context, req caseRequest, it cases.ServiceItem) (parties, error) {
	var out parties
	named := ""
	if req.Applicant != nil {
		named = s.deps.Subjects.Of(req.Applicant.Kind, req.Applicant.IDNumber)
		out.holders = append(out.holders, named)
	}
	v, err := s.federationNow(ctx)
	if err != nil {
		return out, err
	}
	var appl codeCheck
	if req.ApplicantCode != "" {
		appl = s.checkCode(ctx, v, req.ApplicantCode)
		if appl.Identified {
			out.holders = append(out.holders, appl.Holder.Subject)
		}
	}
	relChecks := make([]codeCheck, len(req.Related))
	minors := make([]string, len(req.Related))
	for i, rel := range req.Related {
		if rel.Code != "" {
			relChecks[i] = s.checkCode(ctx, v, rel.Code)
			if relChecks[i].Identified {
				out.holders = append(out.holders, relChecks[i].Holder.Subject)
			}
		} else {
			minors[i] = s.deps.Subjects.Of("person", rel.IDNumber)
			out.holders = append(out.holders, minors[i])
		}
	}
	refuse := func(status int, reason string, errs ...FieldError) (parties, error) {
		return out, s.refuseCase(ctx, c, &req, it, out.holders, status, reason, errs...)
	}

	// Who: the caller must be entitled to the item.
	if !casework.MayHandle(who(c), it) {
		return refuse(http.StatusForbidden, casework.ReasonNotEntitled,
			FieldError{Field: "service_item_code", Code: casework.ReasonNotEntitled, Detail: "this case system may not open cases for this service item"})
	}
	// Whose: the applicant is the holder of a verified code.
	if req.ApplicantCode == "" {
		return refuse(http.StatusUnprocessableEntity, casework.ReasonApplicantCode,
			FieldError{Field: "applicant_code", Code: "required", Detail: "the applicant's 随申码 is required"})
	}
	if fe := codeFault("applicant_code", appl, applicantKinds); fe != nil {
		return refuse(http.StatusUnprocessableEntity, casework.ReasonApplicantCode, fe...)
	}
	out.applicant = appl.Holder
	if named != "" && (named != appl.Holder.Subject || req.Applicant.Kind != appl.Holder.Kind) {
		return refuse(http.StatusForbidden, casework.ReasonApplicantMismatch,
			FieldError{Field: "applicant", Code: casework.ReasonApplicantMismatch, Detail: "the applicant named is not the holder of the applicant code"})
	}
	seen := map[string]bool{appl.Holder.Subject: true}
	for i, rel := range req.Related {
		f := "related[" + strconv.Itoa(i) + "]."
		r, ok := it.Relation(rel.Relation)
		switch {
		case !ok:
			return refuse(http.StatusUnprocessableEntity, casework.ReasonRelated,
				FieldError{Field: f + "relation", Code: "not_declared", Detail: "the service item declares no such relation"})
		case !r.Minor() && rel.Code == "":
			return refuse(http.StatusUnprocessableEntity, casework.ReasonRelated,
				FieldError{Field: f + "code", Code: "required", Detail: "this related party presents their own 随申码"})
		case r.Minor() && rel.IDNumber == "":
			return refuse(http.StatusUnprocessableEntity, casework.ReasonRelated,
				FieldError{Field: f + "id_number", Code: "required", Detail: "a related minor is named by ID number"})
		}
		var subject string
		if !r.Minor() {
			if fe := codeFault(f+"code", relChecks[i], applicantKinds); fe != nil {
				return refuse(http.StatusUnprocessableEntity, casework.ReasonRelated, fe...)
			}
			subject = relChecks[i].Holder.Subject
		} else {
			linked, err := s.deps.Cases.LinkMinor(ctx, r, appl.Holder.Subject, minors[i])
			if err != nil {
				return out, err
			}
			if !linked {
				return refuse(http.StatusForbidden, casework.ReasonRelated,
					FieldError{Field: f + "id_number", Code: "not_linked", Detail: "no verified certificate of the related party names the applicant as the relation requires"})
			}
			subject = minors[i]
		}
		if seen[subject] {
			return refuse(http.StatusUnprocessableEntity, casework.ReasonRelated,
				FieldError{Field: f + "code", Code: "duplicate", Detail: "names the applicant or another related party again"})
		}
		seen[subject] = true
		out.related = append(out.related, casework.Party{Relation: r.Code, Subject: subject})
	}
	return out, nil
}

// codeFault says why a checked code does not identify a party: the
// verifier's reasons, a kind that does not identify a person or an
// enterprise, or a holder this node does not know. Nil when it does.
func codeFault(field string, cc codeCheck, kinds map[string]bool) []FieldError {
	r := cc.Result
	if r.Result != verifier.Valid {
		var out []FieldError
		for _, re := range r.Reasons {
			out = append(out, FieldError{Field: field, Code: re.Code, Detail: re.Detail})
		}
		if len(out) == 0 {
			out = append(out, FieldError{Field: field, Code: string(r.Result), Detail: "the code could not be verified"})
		}
		return out
	}
	if !kinds[r.Kind] {
		return []FieldError{{Field: field, Code: verifier.ReasonWrongKind, Detail: "a " + r.Kind + " code does not identify a person or an enterprise"}}
	}
	if !cc.Identified {
		return []FieldError{{Field: field, Code: "unknown_holder", Detail: "the code's holder is not known to this service"}}
	}
	return nil
}

// refuseCase records a refused case request and returns its problem (code:
// the casework Reason).
func (s *Server) refuseCase(ctx context.Context, c *echo.Context, req *caseRequest, it cases.ServiceItem, holders []string,
	status int, reason string, errs ...FieldError) error {
	p := who(c)
	r := casework.Refusal{Action: "case.open", Reason: reason, Item: it, Holders: holders, Org: p.Name, OrgUSCC: p.USCC,
		Actor: actorOf(c), Request: requestID(c)}
	if req != nil {
		r.OrgUnit, r.Operator, r.Business, r.Purpose = req.Org, req.Operator, req.BusinessCode, req.Purpose
	}
	if p.Kind == store.KindApp {
		r.AppID = p.ID
	}
	if len(errs) > 0 {
		r.Field = errs[0].Field
	}
	return s.refusal(ctx, r, status, errs...)
}

func (s *Server) refusal(ctx context.Context, r casework.Refusal, status int, errs ...FieldError) error {
	if err := s.deps.Cases.Refuse(ctx, r); err != nil {
		return err
	}
	detail := "refused: " + r.Reason
	if len(errs) > 0 {
		detail = errs[0].Field + ": " + errs[0].Detail
	}
	if status == http.StatusNotFound {
		return errNotFound("case")
	}
	pr := problem(status, r.Reason, detail)
	pr.Errors = errs
	return pr
}

// openerCase loads the case of the path for its opener (or the admin): a
// case opened by someone else is "not found", a case of an item the opener
// may no longer handle is refused; both are recorded.
func (s *Server) openerCase(c *echo.Context, action string) (casework.Current, error) {
	ctx := c.Request().Context()
	cur, err := s.deps.Cases.Get(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return cur, errNotFound("case")
	}
	if err != nil {
		return cur, err
	}
	p := who(c)
	if p.Kind == store.KindAdmin && action == "case.read" {
		return cur, nil
	}
	it, err := s.deps.Cases.Item(ctx, cur.Case.ItemCode)
	if err != nil {
		return cur, err
	}
	r := casework.Refusal{Action: action, Item: it, CaseID: cur.Case.ID, Holders: []string{cur.Case.ApplicantSubject},
		Org: p.Name, OrgUSCC: p.USCC, Business: cur.Case.BusinessCode, Actor: actorOf(c), Request: requestID(c)}
	if p.Kind == store.KindApp {
		r.AppID = p.ID
	}
	switch {
	case cur.Case.Caller != p.Ref():
		r.Reason = casework.ReasonNotOpener
		return cur, s.refusal(ctx, r, http.StatusNotFound)
	case !casework.MayHandle(p, it):
		r.Reason = casework.ReasonNotEntitled
		return cur, s.refusal(ctx, r, http.StatusForbidden,
			FieldError{Field: "id", Code: casework.ReasonNotEntitled, Detail: "this case system may no longer handle cases of this service item"})
	}
	return cur, nil
}

// statsScope is what the caller may see of the statistics.
func (s *Server) statsScope(c *echo.Context) (store.StatsFilter, error) {
	p := who(c)
	ctx := c.Request().Context()
	var f store.StatsFilter
	switch p.Kind {
	case store.KindAdmin:
		return f, nil
	case store.KindApp:
		f.ItemCodes, f.Caller = append([]string{}, p.ServiceItems...), p.Ref()
	case store.KindDepartment:
		f.ItemCodes = []string{}
		after := ""
		for {
			page, err := s.store.ListServiceItems(ctx, after, 200)
			if err != nil {
				return f, err
			}
			for _, rec := range page {
				if it, err := spec[cases.ServiceItem](rec.Spec); err == nil && it.AcceptsDepartment(p.USCC) {
					f.ItemCodes = append(f.ItemCodes, it.Code)
				}
			}
			if len(page) < 200 {
				break
			}
			after = page[len(page)-1].Code
		}
	}
	if len(f.ItemCodes) == 0 {
		r := casework.Refusal{Action: "case.stats", Reason: casework.ReasonNotEntitled, Org: p.Name, OrgUSCC: p.USCC,
			Actor: actorOf(c), Request: requestID(c)}
		return f, s.refusal(ctx, r, http.StatusForbidden,
			FieldError{Field: "service_items", Code: casework.ReasonNotEntitled, Detail: "this case system may handle no service item"})
	}
	return f, nil
}

// --- decisions ---

type decisionRequest struct {
	Outcome string `json:"outcome" doc:"The officer's decision." enum:"approved,rejected" example:"approved"`
	Notes   string `json:"notes,omitempty" doc:"The officer's notes (at most 1,000 characters; no control or bidirectional-override characters)." example:"材料齐全，准予登记"`
}

// maxDecisionNotes bounds the officer's notes (characters).
const maxDecisionNotes = 1000

// decideCase records the opener's decision on a case, once.
func (s *Server) decideCase(c *echo.Context) error {
	var req decisionRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	if req.Outcome != "approved" && req.Outcome != "rejected" {
		v.add("outcome", "enum", "must be approved or rejected")
	}
	switch {
	case utf8.RuneCountInString(req.Notes) > maxDecisionNotes:
		v.add("notes", "length", "must be at most "+strconv.Itoa(maxDecisionNotes)+" characters")
	case req.Notes != "" && !printableNotes(req.Notes):
		v.add("notes", "charset", "must be printable text without control or bidirectional-override characters")
	}
	if err := v.err(); err != nil {
		return err
	}
	cur, err := s.openerCase(c, "case.decide")
	if err != nil {
		return err
	}
	p := who(c)
	decided, err := s.deps.Cases.Decide(c.Request().Context(), cur.Case, req.Outcome == "approved", req.Notes, p.Ref(), actorOf(c), requestID(c))
	if errors.Is(err, casework.ErrDecided) {
		return problem(http.StatusConflict, "case_decided", "the case has its decision already")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCase(decided, cur.Result, cur.Statuses))
}

// printableNotes: valid UTF-8, no control characters except line breaks and
// tabs, no bidirectional overrides or isolates.
func printableNotes(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			return false
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f || r == 0x061c:
			return false
		}
	}
	return true
}

// --- the service items of an app ---

type appServiceItemsRequest struct {
	ServiceItems []string `json:"service_items" doc:"The service items (事项 codes) the app may open cases for; at least one." example:"[\"000113101000\"]"`
}

// checkServiceItems adds an error for each item code that is malformed,
// duplicated or not in the catalogue.
func (s *Server) checkServiceItems(ctx context.Context, v *checks, field string, items []string) {
	if len(items) > 500 {
		v.add(field, "length", "may list at most 500 service items")
		return
	}
	seen := map[string]bool{}
	for i, code := range items {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case code == "" || len(code) > 64:
			v.add(f, "format", "is not a service item code")
		case seen[code]:
			v.add(f, "duplicate", "is listed twice")
		default:
			if _, err := s.deps.Cases.Item(ctx, code); err != nil {
				v.add(f, "unknown", "is not a service item in the catalogue (GET /v1/service-items)")
			}
		}
		seen[code] = true
	}
}

// setAppServiceItems replaces the service items a case system may open
// cases for. An empty or missing list is refused: an app that should open
// no more cases loses scope cases instead.
func (s *Server) setAppServiceItems(c *echo.Context) error {
	var req appServiceItemsRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var v checks
	if len(req.ServiceItems) == 0 {
		v.add("service_items", "required", "name at least one service item")
	}
	s.checkServiceItems(ctx, &v, "service_items", req.ServiceItems)
	if err := v.err(); err != nil {
		return err
	}
	id := c.Param("id")
	var a store.App
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if a, err = q.GetApp(ctx, id); err != nil {
			return err
		}
		if !a.HasScope("cases") {
			return invalid(FieldError{Field: "service_items", Code: "not_allowed", Detail: "the app has no scope cases"})
		}
		if err := q.SetAppServiceItems(ctx, id, req.ServiceItems); err != nil {
			return err
		}
		a.ServiceItems = req.ServiceItems
		return s.record(ctx, c, q, "app.set_service_items", "app", id, map[string]any{"service_items": req.ServiceItems})
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("app")
	}
	if err != nil {
		return err
	}
	s.auth.forget(id)
	return c.JSON(http.StatusOK, viewApp(a))
}

// caseAccessRoutes are the routes of least-privilege cases.
func (s *Server) caseAccessRoutes() []route {
	return []route{
		{Method: http.MethodPut, Path: "/v1/admin/apps/{id}/service-items", Summary: "Change the service items (事项) a case system may open cases for (an empty list is refused)", Tag: "admin", Access: adminOnly, Handler: s.setAppServiceItems, Request: appServiceItemsRequest{}, Response: appView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/cases/{id}/decision", Summary: "Record the officer's decision on a case, once (the case's opener)", Tag: "cases", Access: caseSystems, Handler: s.decideCase, Request: decisionRequest{}, Response: caseView{}, Status: 200},
	}
}
