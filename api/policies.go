package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
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
		{Method: http.MethodPost, Path: "/v1/policies", Summary: "Define a 免申即享 policy (criteria over certificate face fields, validated against the catalogue); within the department's scope it is approved and its first full match starts in the background, otherwise it waits for the administrator", Tag: "benefits", Access: deptOnly, Handler: s.createPolicy, Request: benefits.Policy{}, Response: policyView{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/policies", Summary: "Every policy: what it gives, on what legal basis, and its criteria in words (public)", Tag: "benefits", Access: public, Handler: s.listPolicies, Response: policyList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/policies/{code}", Summary: "One policy (public)", Tag: "benefits", Access: public, Handler: s.getPolicy, Response: policyView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/policies/{code}/match", Summary: "Queue a full match (the policy's department): it runs in the background, offers to holders who qualify and withdraws from those who no longer do; GET the policy for its progress", Tag: "benefits", Access: deptOnly, Handler: s.matchPolicy, Response: matchView{}, Status: 202},
		{Method: http.MethodGet, Path: "/v1/policies/{code}/entitlements", Summary: "The policy's entitlements (its department): masked names, status, evidence; never identity numbers", Tag: "benefits", Access: deptOnly, Handler: s.policyEntitlements, Response: entitlementList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/me/entitlements", Summary: "The holder's entitlements (benefits offered without an application)", Tag: "holders", Access: holderOnly, Handler: s.myEntitlements, Response: entitlementList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodPost, Path: "/v1/admin/policies/{code}/approve", Summary: "Approve a policy that reads sensitive fields or other departments' certificate types; its first full match starts in the background", Tag: "admin", Access: adminOnly, Handler: s.approvePolicy, Response: policyView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/admin/policies/{code}/reject", Summary: "Reject a policy pending approval, with a reason shown to the public; it never matches and its department cannot run it (409 when it is not pending)", Tag: "admin", Access: adminOnly, Handler: s.rejectPolicy, Request: policyRejectRequest{}, Response: policyView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/policies/{code}/entitlements/{id}/payee", Summary: "The payee's identity behind one offered entitlement, for paying the benefit (its department; only for an approved policy whose legal basis requires it, payee_identity): name and identity number from the evidence certificate; every read is audited and shown in the holder's usage records", Tag: "benefits", Access: deptOnly, Handler: s.entitlementPayee, Request: payeeRequest{}, Response: payeeView{}, Status: 200, Errors: []int{403, 409}},
		{Method: http.MethodPost, Path: "/v1/me/entitlements/{id}/decline", Summary: "Decline an entitlement; a later match does not offer it again", Tag: "holders", Access: holderOnly, Handler: s.declineEntitlement, Response: entitlementView{}, Status: 200},
	}
}

type policyView struct {
	benefits.Policy
	DepartmentUSCC  string     `json:"department_uscc" doc:"The department that made the policy." example:"11100000000013338W"`
	Status          string     `json:"status" doc:"approved; pending_approval: the criteria read a sensitive field or a type the department does not issue (at creation, or again after the administrator removed a type the policy reads from the department), so nobody is matched until the administrator approves it; rejected: the administrator refused it (status_reason says why) and it never matches." enum:"approved,pending_approval,rejected" example:"approved"`
	StatusReason    string     `json:"status_reason" doc:"Why the policy is in its status: the administrator's reason for a rejection, or why it waits for approval; empty when approved." example:"依据不足：未附区政府批复"`
	StatusChangedAt *time.Time `json:"status_changed_at" doc:"When the status last changed (creation, approval, rejection, or the return to pending_approval)."`
	CriteriaInWords []string   `json:"criteria_in_words" doc:"The criteria, in words." example:"[\"年龄满70周岁\"]"`
	CreatedAt       time.Time  `json:"created_at" doc:"When it was made." example:"2026-12-01T08:00:00Z"`
	ApprovedAt      *time.Time `json:"approved_at" doc:"When it was approved (at creation when within the department's scope); null while pending."`
	MatchedAt       *time.Time `json:"matched_at" doc:"The evaluation time of the last completed full match; null before the first."`
	Match           *matchView `json:"match" doc:"The full match's state and progress; shown to the policy's department and the administrator only (null for anyone else)."`
	// ApprovalRequiredBecause is filled in the answer to the creation.
	ApprovalRequiredBecause []string `json:"approval_required_because,omitempty" doc:"In the answer to POST /v1/policies: why the policy waits for the administrator's approval."`
}

type matchView struct {
	Status      string     `json:"status" doc:"none (never requested), queued, running, done or failed." enum:"none,queued,running,done,failed" example:"running"`
	RequestedAt *time.Time `json:"requested_at" doc:"When the match was last requested."`
	StartedAt   *time.Time `json:"started_at" doc:"When it started (a match resumed after a restart keeps this)."`
	FinishedAt  *time.Time `json:"finished_at" doc:"When it finished; null while queued or running."`
	Read        int64      `json:"holders_read" doc:"Holders whose certificates were read so far." example:"1200"`
	Eligible    int64      `json:"eligible" doc:"Of them, how many qualify." example:"87"`
	Withdrawn   int64      `json:"withdrawn" doc:"Offers withdrawn because the holder no longer qualifies (known when the match finishes)." example:"2"`
	Error       string     `json:"error,omitempty" doc:"Why it failed, and whether it is retried."`
	Attempts    int        `json:"failed_attempts" doc:"How many runs of the match failed since it was last requested; a failed match is retried automatically with a growing delay (1, 2, 4 … minutes, at most 1 hour) until 8 runs have failed." example:"0"`
	NextRetryAt *time.Time `json:"next_retry_at" doc:"When the background worker runs a failed match again; null when no retry is scheduled (not failed, or it gave up: then only a new request starts it)."`
}

type payeeRequest struct {
	Purpose string `json:"purpose" doc:"What the identity is read for (the payment run), recorded in the audit log and shown to the holder." example:"2026年12月高龄补贴发放"`
}

type payeeView struct {
	EntitlementID string `json:"entitlement_id" doc:"The entitlement." example:"01938f6e-6c1a-7b1e-9f3e-2a4c5d6e7f80"`
	PolicyCode    string `json:"policy_code" doc:"Its policy." example:"EX-GAOLING-310117"`
	Name          string `json:"name" doc:"The holder's name, as on the evidence certificate." example:"王某某"`
	IDType        string `json:"id_type" doc:"The identity code type (111 居民身份证号码, 001 统一社会信用代码)." enum:"111,001" example:"111"`
	IDNumber      string `json:"id_number" doc:"The identity number, as on the evidence certificate." example:"310117194612010011"`
	CertificateID string `json:"certificate_id" doc:"The evidence certificate it was read from." example:"1.2.156.3005.2.11100000000021002F001.11100000000013338W.2026000000000001.001.K"`
}

type policyRejectRequest struct {
	Reason string `json:"reason" doc:"Why the policy is rejected: shown to the public with the policy and recorded in the audit log." example:"依据不足：未附区政府批复"`
}

func viewMatch(m store.MatchJob) *matchView {
	return &matchView{Status: m.Status, RequestedAt: m.RequestedAt, StartedAt: m.StartedAt, FinishedAt: m.FinishedAt,
		Read: m.Read, Eligible: m.Eligible, Withdrawn: m.Withdrawn, Error: m.Error, Attempts: m.Attempts, NextRetryAt: m.NextRetryAt}
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

// viewPolicy shows a policy; its match's progress only to its department
// and the administrator.
func (s *Server) viewPolicy(c *echo.Context, rec store.PolicyRecord) (policyView, error) {
	ctx := c.Request().Context()
	var p benefits.Policy
	if err := json.Unmarshal(rec.Spec, &p); err != nil {
		return policyView{}, err
	}
	status := rec.Status
	if status != store.PolicyApproved && status != store.PolicyRejected {
		status = store.PolicyPendingApproval // unchecked: classified when a node starts
	}
	v := policyView{Policy: p, DepartmentUSCC: rec.DepartmentUSCC, Status: status, StatusReason: rec.StatusReason,
		StatusChangedAt: rec.StatusChangedAt, CreatedAt: rec.CreatedAt, ApprovedAt: rec.ApprovedAt,
		MatchedAt: rec.MatchedAt, CriteriaInWords: []string{}}
	if status != store.PolicyApproved {
		v.ApprovedAt = nil // approved before, then sent back for approval
	}
	if pr := who(c); pr.Kind == store.KindAdmin || (pr.Kind == store.KindDepartment && pr.USCC == rec.DepartmentUSCC) {
		v.Match = viewMatch(rec.Match)
	}
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
	case errors.Is(err, matching.ErrNotApproved):
		p := problem(http.StatusConflict, "policy_not_approved", "the policy awaits the administrator's approval; nobody is matched before")
		p.Errors = []FieldError{{Field: "status", Code: "policy_not_approved", Detail: p.Detail}}
		return p
	case errors.Is(err, matching.ErrRejected):
		p := problem(http.StatusConflict, "policy_rejected", "the administrator rejected the policy (status_reason says why); it is never matched")
		p.Errors = []FieldError{{Field: "status", Code: "policy_rejected", Detail: p.Detail}}
		return p
	case errors.Is(err, matching.ErrNotPending):
		p := problem(http.StatusConflict, "policy_not_pending", "only a policy pending approval can be rejected")
		p.Errors = []FieldError{{Field: "status", Code: "policy_not_pending", Detail: p.Detail}}
		return p
	}
	return err
}

// createPolicy stores the policy and answers at once: the policy, the
// idempotency record and (within the department's scope) the queued match
// commit together; the background worker runs the match.
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
	dept, err := s.department(ctx, c)
	if err != nil {
		return err
	}
	err = s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		created, err := s.deps.Benefits.CreateIn(ctx, q, dept, req, actorOf(c), requestID(c))
		if err != nil {
			return 0, nil, policyProblem(err)
		}
		v, err := s.viewPolicy(c, created.Record)
		if err != nil {
			return 0, nil, err
		}
		v.ApprovalRequiredBecause = created.Pending
		return http.StatusCreated, v, nil
	})
	if err == nil {
		s.deps.Benefits.Kick()
	}
	return err
}

func (s *Server) listPolicies(c *echo.Context) error {
	items, next, err := listPage(c, s.store.ListPolicies, func(r store.PolicyRecord) (policyView, error) { return s.viewPolicy(c, r) },
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
	v, err := s.viewPolicy(c, rec)
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

// matchPolicy queues a full match and answers 202 with its state; a match
// already queued or running is not started twice.
func (s *Server) matchPolicy(c *echo.Context) error {
	rec, err := s.ownPolicy(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rec, err = s.deps.Benefits.RequestMatch(ctx, rec.Code)
	if err != nil {
		return policyProblem(err)
	}
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		return s.record(ctx, c, q, "policy.match", "policy", rec.Code, map[string]any{"match_status": rec.Match.Status})
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, viewMatch(rec.Match))
}

// approvePolicy is the administrator approving a pending policy.
func (s *Server) approvePolicy(c *echo.Context) error {
	rec, err := s.deps.Benefits.Approve(c.Request().Context(), c.Param("code"), actorOf(c), requestID(c))
	if err != nil {
		return policyProblem(err)
	}
	v, err := s.viewPolicy(c, rec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// maxPolicyReason bounds a rejection's reason.
const maxPolicyReason = 500

// rejectPolicy is the administrator refusing a pending policy.
func (s *Server) rejectPolicy(c *echo.Context) error {
	var req policyRejectRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	v.text("reason", req.Reason, maxPolicyReason)
	if err := v.err(); err != nil {
		return err
	}
	rec, err := s.deps.Benefits.Reject(c.Request().Context(), c.Param("code"), strings.TrimSpace(req.Reason), actorOf(c), requestID(c))
	if err != nil {
		return policyProblem(err)
	}
	pv, err := s.viewPolicy(c, rec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pv)
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

// certificateChanged wakes the 免申即享 worker after a certificate was
// issued, renewed or changed status: the change's transaction put the
// holder in the outbox, and the worker evaluates it after commit, off the
// request path (a crash in between loses nothing: the outbox is drained on
// start).
func (s *Server) certificateChanged() {
	if s.deps.Benefits != nil {
		s.deps.Benefits.Kick()
	}
}

// maxPayeePurpose bounds the stated purpose of a payee read.
const maxPayeePurpose = 100

// entitlementPayee is a department reading, for payment, the identity of
// the holder behind one of its policy's offered entitlements. Whose data:
// the holder's name and identity number, from the certificate that made
// them eligible. Who asks: the policy's own department (another's: 404).
// Entitled by: the policy's legal basis, declared as payee_identity and
// approved by the administrator (such a policy is never approved without
// them). For what: paying the benefit (the purpose is stated, audited and
// shown to the holder). How much: one holder's name, identity type and
// number per request; never for a declined or withdrawn entitlement.
func (s *Server) entitlementPayee(c *echo.Context) error {
	var req payeeRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	v.text("purpose", req.Purpose, maxPayeePurpose)
	if err := v.err(); err != nil {
		return err
	}
	rec, err := s.ownPolicy(c)
	if err != nil {
		return err
	}
	var spec benefits.Policy
	if err := json.Unmarshal(rec.Spec, &spec); err != nil {
		return err
	}
	switch {
	case !spec.PayeeIdentity:
		p := problem(http.StatusForbidden, "payee_identity_not_provided", "the policy's legal basis does not provide for reading the payee's identity (payee_identity); identity never leaves through it")
		p.Errors = []FieldError{{Field: "payee_identity", Code: "payee_identity_not_provided", Detail: p.Detail}}
		return p
	case rec.Status == store.PolicyRejected:
		return policyProblem(matching.ErrRejected)
	case rec.Status != store.PolicyApproved:
		return policyProblem(matching.ErrNotApproved)
	}
	ctx := c.Request().Context()
	e, err := s.store.GetEntitlement(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.PolicyCode != rec.Code) {
		return errNotFound("entitlement")
	}
	if err != nil {
		return err
	}
	if e.Status != store.EntitlementOffered {
		p := problem(http.StatusConflict, "entitlement_not_offered", "the entitlement is "+e.Status+": the holder declined it or no longer qualifies, and nothing is paid")
		p.Errors = []FieldError{{Field: "status", Code: "entitlement_not_offered", Detail: p.Detail}}
		return p
	}
	var ev []benefits.Evidence
	if err := json.Unmarshal(e.Evidence, &ev); err != nil || len(ev) == 0 {
		return fmt.Errorf("api: entitlement %s has no evidence", e.ID)
	}
	cert, err := s.store.GetCertificate(ctx, ev[0].CertificateID)
	if err != nil {
		return err
	}
	if cert.HolderSubject != e.HolderSubject || s.deps.Issuance.Effective(cert) != issuer.StatusValid {
		p := problem(http.StatusConflict, "evidence_not_valid", "the certificate that made the holder eligible is no longer valid; the next evaluation withdraws the entitlement")
		p.Errors = []FieldError{{Field: "evidence", Code: "evidence_not_valid", Detail: p.Detail}}
		return p
	}
	var doc issuer.Document
	if err := json.Unmarshal(issuance.DocumentOf(cert), &doc); err != nil || len(doc.Holders) == 0 {
		return fmt.Errorf("api: certificate %s: no holder in its document", cert.ID)
	}
	h := doc.Holders[0]
	dept, err := s.department(ctx, c)
	if err != nil {
		return err
	}
	purpose := strings.TrimSpace(req.Purpose)
	at := s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.AddUsageRecord(ctx, store.UsageRecord{ID: newID(), HolderSubject: e.HolderSubject, At: at, Org: dept.Name,
			OrgUSCC: dept.USCC, Operator: dept.Name, ItemCode: rec.Code, ItemName: spec.Name, Purpose: "免申即享发放：" + purpose,
			CertificateID: cert.ID, Channel: matching.ChannelBenefit, Result: "identity_disclosed",
			Detail: "姓名、证件号码 read for payment under " + spec.LegalBasis}); err != nil {
			return err
		}
		return s.record(ctx, c, q, "entitlement.payee", "entitlement", e.ID, map[string]any{"policy": rec.Code,
			"certificate_id": cert.ID, "purpose": purpose})
	}); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, payeeView{EntitlementID: e.ID, PolicyCode: rec.Code, Name: h.Name, IDType: h.IDType,
		IDNumber: h.IDNumber, CertificateID: cert.ID})
}
