package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/matching"
	"github.com/suishen/suishen/store"
)

// 免申即享: departments define policies; matching finds the holders who
// qualify; holders see and may decline their entitlements; anyone may read
// what a policy is and why (transparency).

func (s *Server) policyRoutes() []route {
	if s.deps.Benefits == nil {
		return nil
	}
	return []route{
		{Method: http.MethodPost, Path: "/v1/policies", Summary: "Define a 免申即享 policy (criteria over certificate face fields, validated against the catalogue) and find the holders who qualify today", Tag: "benefits", Access: deptOnly, Handler: s.createPolicy, Request: benefits.Policy{}, Response: policyCreated{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/policies", Summary: "Every policy: what it gives, on what legal basis, and its criteria in words (public)", Tag: "benefits", Access: public, Handler: s.listPolicies, Response: policyList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/policies/{code}", Summary: "One policy (public)", Tag: "benefits", Access: public, Handler: s.getPolicy, Response: policyView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/policies/{code}/match", Summary: "Run a full match now (the policy's department): offers to holders who qualify, withdraws from those who no longer do", Tag: "benefits", Access: deptOnly, Handler: s.matchPolicy, Response: matching.Summary{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/policies/{code}/entitlements", Summary: "The policy's entitlements (its department): masked names, status, evidence; never identity numbers", Tag: "benefits", Access: deptOnly, Handler: s.policyEntitlements, Response: entitlementList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/me/entitlements", Summary: "The holder's entitlements (benefits offered without an application)", Tag: "holders", Access: holderOnly, Handler: s.myEntitlements, Response: entitlementList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodPost, Path: "/v1/me/entitlements/{id}/decline", Summary: "Decline an entitlement; a later match does not offer it again", Tag: "holders", Access: holderOnly, Handler: s.declineEntitlement, Response: entitlementView{}, Status: 200},
	}
}

type policyView struct {
	benefits.Policy
	DepartmentUSCC  string     `json:"department_uscc" doc:"The department that made the policy." example:"11100000000013338W"`
	CriteriaInWords []string   `json:"criteria_in_words" doc:"The criteria, in words." example:"[\"年龄满70周岁\"]"`
	CreatedAt       time.Time  `json:"created_at" doc:"When it was made." example:"2026-12-01T08:00:00Z"`
	MatchedAt       *time.Time `json:"matched_at" doc:"When holders were last matched against it; null before the first match."`
}

type policyCreated struct {
	policyView
	Match matching.Summary `json:"match" doc:"What the first match found."`
}

type policyList struct {
	Items      []policyView `json:"items" doc:"This page of policies."`
	NextCursor *string      `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type entitlementView struct {
	ID         string              `json:"id" doc:"The entitlement id." example:"ent_01JD8X3K2Q"`
	Policy     entitlementPolicy   `json:"policy" doc:"The policy that offers it."`
	Status     string              `json:"status" doc:"offered (the holder qualifies), declined (by the holder), withdrawn (the holder no longer qualifies)." enum:"offered,declined,withdrawn" example:"offered"`
	MaskedName string              `json:"masked_name" doc:"The holder name, masked (in the department list)." example:"张*"`
	Evidence   []benefits.Evidence `json:"evidence" doc:"The certificates that made the holder eligible."`
	At         time.Time           `json:"at" doc:"When the status last changed." example:"2026-12-01T08:00:00Z"`
}

type entitlementPolicy struct {
	Code    string           `json:"code" doc:"The policy code." example:"SH-ELDER-70"`
	Name    string           `json:"name" doc:"The policy name." example:"高龄老人营养补贴"`
	Benefit benefits.Benefit `json:"benefit" doc:"What the holder receives."`
}

type entitlementList struct {
	Items      []entitlementView `json:"items" doc:"This page of entitlements."`
	NextCursor *string           `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func (s *Server) viewPolicy(ctx context.Context, rec store.PolicyRecord) (policyView, error) {
	var p benefits.Policy
	if err := json.Unmarshal(rec.Spec, &p); err != nil {
		return policyView{}, err
	}
	v := policyView{Policy: p, DepartmentUSCC: rec.DepartmentUSCC, CreatedAt: rec.CreatedAt, MatchedAt: rec.MatchedAt, CriteriaInWords: []string{}}
	if c, err := s.deps.Benefits.Compile(ctx, p); err == nil {
		v.CriteriaInWords = s.deps.Benefits.Describe(ctx, c)
	}
	if v.AreaCodes == nil {
		v.AreaCodes = []string{}
	}
	return v, nil
}

func policyProblem(err error) error {
	var inv *matching.InvalidError
	switch {
	case errors.As(err, &inv):
		fe := make([]FieldError, 0, len(inv.Fields))
		for _, f := range inv.Fields {
			fe = append(fe, FieldError{Field: f.Field, Code: f.Code, Detail: f.Detail})
		}
		return invalid(fe...)
	case errors.Is(err, matching.ErrExists):
		return problemConflict("code", "a policy with this code exists")
	case errors.Is(err, matching.ErrUnknown):
		return errNotFound("policy")
	}
	return err
}

func (s *Server) createPolicy(c *echo.Context) error {
	var req benefits.Policy
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	req.Example = false // only the seed marks examples
	ctx := c.Request().Context()
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	dept := who(c)
	rec, err := s.deps.Benefits.Create(ctx, dept.USCC, req, actorOf(c), requestID(c))
	if err != nil {
		return policyProblem(err)
	}
	sum, err := s.deps.Benefits.Match(context.WithoutCancel(ctx), rec.Code)
	if err != nil {
		return err
	}
	if rec, err = s.store.GetPolicy(ctx, rec.Code); err != nil {
		return err
	}
	v, err := s.viewPolicy(ctx, rec)
	if err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		return http.StatusCreated, policyCreated{policyView: v, Match: sum}, nil
	})
}

func (s *Server) listPolicies(c *echo.Context) error {
	ctx := c.Request().Context()
	items, next, err := listPage(c, s.store.ListPolicies, func(r store.PolicyRecord) (policyView, error) { return s.viewPolicy(ctx, r) },
		func(r store.PolicyRecord) string { return r.Code })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, policyList{Items: items, NextCursor: next})
}

func (s *Server) getPolicy(c *echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.store.GetPolicy(ctx, c.Param("code"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("policy")
	}
	if err != nil {
		return err
	}
	v, err := s.viewPolicy(ctx, rec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// ownPolicy loads a policy of the calling department (another department's
// is 404: it may not even learn who matched).
func (s *Server) ownPolicy(c *echo.Context) (store.PolicyRecord, error) {
	rec, err := s.store.GetPolicy(c.Request().Context(), c.Param("code"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.DepartmentUSCC != who(c).USCC) {
		return rec, errNotFound("policy")
	}
	return rec, err
}

func (s *Server) matchPolicy(c *echo.Context) error {
	rec, err := s.ownPolicy(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sum, err := s.deps.Benefits.Match(context.WithoutCancel(ctx), rec.Code)
	if err != nil {
		return policyProblem(err)
	}
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		return s.record(ctx, c, q, "policy.match", "policy", rec.Code, sum)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sum)
}

func (s *Server) entitlementViews(ctx context.Context) func(store.Entitlement) (entitlementView, error) {
	cache := map[string]entitlementPolicy{}
	return func(e store.Entitlement) (entitlementView, error) {
		p, ok := cache[e.PolicyCode]
		if !ok {
			rec, err := s.store.GetPolicy(ctx, e.PolicyCode)
			if err != nil {
				return entitlementView{}, err
			}
			var spec benefits.Policy
			if err := json.Unmarshal(rec.Spec, &spec); err != nil {
				return entitlementView{}, err
			}
			p = entitlementPolicy{Code: spec.Code, Name: spec.Name, Benefit: spec.Benefit}
			cache[e.PolicyCode] = p
		}
		v := entitlementView{ID: e.ID, Policy: p, Status: e.Status, MaskedName: e.MaskedName, At: e.UpdatedAt, Evidence: []benefits.Evidence{}}
		_ = json.Unmarshal(e.Evidence, &v.Evidence)
		return v, nil
	}
}

func (s *Server) policyEntitlements(c *echo.Context) error {
	rec, err := s.ownPolicy(c)
	if err != nil {
		return err
	}
	fetch := func(ctx context.Context, after string, limit int) ([]store.Entitlement, error) {
		return s.store.ListEntitlementsByPolicy(ctx, rec.Code, after, limit)
	}
	items, next, err := listPage(c, fetch, s.entitlementViews(c.Request().Context()), func(e store.Entitlement) string { return e.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entitlementList{Items: items, NextCursor: next})
}

func (s *Server) myEntitlements(c *echo.Context) error {
	fetch := func(ctx context.Context, after string, limit int) ([]store.Entitlement, error) {
		return s.store.ListEntitlementsByHolder(ctx, who(c).ID, after, limit)
	}
	items, next, err := listPage(c, fetch, s.entitlementViews(c.Request().Context()), func(e store.Entitlement) string { return e.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entitlementList{Items: items, NextCursor: next})
}

func (s *Server) declineEntitlement(c *echo.Context) error {
	ctx := c.Request().Context()
	e, err := s.deps.Benefits.Decline(ctx, who(c).ID, c.Param("id"))
	if errors.Is(err, matching.ErrNotYours) {
		return errNotFound("entitlement")
	}
	if err != nil {
		return err
	}
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		return s.record(ctx, c, q, "entitlement.decline", "entitlement", e.ID, map[string]any{"policy": e.PolicyCode})
	}); err != nil {
		return err
	}
	v, err := s.entitlementViews(ctx)(e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// certificateChanged re-evaluates the holder's entitlements after one of
// their certificates was issued, renewed or changed status (committed). A
// failure is logged, never the request's: the next full match heals it.
func (s *Server) certificateChanged(ctx context.Context, holderSubject, typeCode string) {
	if s.deps.Benefits == nil {
		return
	}
	if err := s.deps.Benefits.OnCertificate(context.WithoutCancel(ctx), holderSubject, typeCode); err != nil {
		s.log.Warn("benefits: incremental match failed; the next full match will catch up", "type_code", typeCode, "err", err)
	}
}
