package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// --- bodies ---

type applicantBody struct {
	Kind     string `json:"kind" doc:"person (a natural person) or enterprise (a legal person)." enum:"person,enterprise" example:"person"`
	Name     string `json:"name" doc:"The applicant name as on their identity document." example:"张三"`
	IDNumber string `json:"id_number" doc:"公民身份号码 (person) or 统一社会信用代码 (enterprise)." example:"11010519491231002X"`
}

// relatedBody names a related party the item declares: an adult (or an
// enterprise) by their own 随申码, a minor by ID number where the item
// declares the certificate that links the minor to the applicant.
type relatedBody struct {
	Relation string `json:"relation" doc:"A relation the service item declares (its relations[].code), e.g. newborn, spouse, shareholder." example:"spouse"`
	Code     string `json:"code,omitempty" doc:"A related adult's or enterprise's own personal, offline or enterprise 随申码, verified as POST /v1/verify does." example:"SS1:..."`
	IDNumber string `json:"id_number,omitempty" doc:"A related minor's 公民身份号码: only for a relation with a linking certificate that names the applicant." example:"310104202611010018"`
}

type caseRequest struct {
	ServiceItemCode string `json:"service_item_code" doc:"The service item (政务服务事项) code; the caller must be entitled to it." example:"000113101000"`
	// ApplicantCode is the applicant's 随申码 (personal, offline or
	// enterprise) as scanned at the window: the applicant is its holder.
	ApplicantCode string `json:"applicant_code" doc:"The applicant's personal, offline or enterprise 随申码 as scanned at the window or passed on by the online channel; the applicant is its holder." example:"SS1:..."`
	// Applicant, if given, must be the code's holder.
	Applicant *applicantBody `json:"applicant,omitempty" doc:"Who the case system believes applies: must be the holder of applicant_code."`
	// Related parties the item declares (at most 5).
	Related []relatedBody `json:"related,omitempty" doc:"Related parties the item declares (at most 5): adults by their own code, minors by ID number through the item's linking certificate."`
	// UseCodes are the applicant's one-time use codes (用证码) for the
	// item's use-code materials (at most 10).
	UseCodes     []string `json:"use_codes,omitempty" doc:"The applicant's one-time use codes (用证码) for the item's use-code materials (at most 10); spent only when the case opens." example:"[\"ABCD-EFGH-JKMN\"]"`
	Org          string   `json:"org" doc:"The sub-unit handling it (a window, a team), recorded for the holder." example:"徐汇区行政服务中心3号窗口"`
	Operator     string   `json:"operator" doc:"The officer handling it, recorded for the holder." example:"王五"`
	BusinessCode string   `json:"business_code" doc:"The case or business number in the caller system (办件编号)." example:"XH20261201-0001"`
	Purpose      string   `json:"purpose" doc:"Why the certificates are pulled, recorded for the holder." example:"办理营业执照变更登记"`
	// Certificates the applicant hands over as their JWS (区域互认).
	Certificates []string `json:"certificates,omitempty" doc:"Certificates the applicant hands over as their compact JWS (at most 5), typically a peer region's (区域互认): each must verify here (this region's keys or a registered peer's, within its area) and name the applicant as holder; a valid one exempts the materials of its type like a certificate found here, with region."`
}

type caseMaterial struct {
	Code          string `json:"code" doc:"The material code within the service item." example:"M01"`
	Name          string `json:"name" doc:"The material name." example:"营业执照"`
	Status        string `json:"status" doc:"exempted (the certificate replaces it: data pulled), verified (checked, data not moved), to_submit (the applicant must still submit it)." enum:"exempted,verified,to_submit" example:"exempted"` // exempted | verified | to_submit
	CertificateID string `json:"certificate_id,omitempty" doc:"The identifier of the certificate attached for it, if any." example:"1210000000002100100000000000000001X"`
	// CertificateStatus is the attached certificate's status now (GET).
	CertificateStatus string `json:"certificate_status,omitempty" doc:"That certificate status now (on GET)." enum:"valid,suspended,revoked,cancelled,expired,superseded" example:"valid"`
	Reason            string `json:"reason" doc:"Why it has this status, in words." example:"由电子证照替代"`
	Region            string `json:"region,omitempty" doc:"The peer region (区域互认) whose certificate, handed over by the applicant, covers the material; absent for this region's." example:"320500"`
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
	Prefill         map[string]any `json:"prefill" doc:"Form fields pre-filled from certificates, by form field name (only fields of the item's form)." example:"{\"company_name\":\"上海某某科技有限公司\"}"`
	Precheck        []casePrecheck `json:"precheck" doc:"The pre-checks run and their results."`
	Exempted        int            `json:"exempted" doc:"How many materials the applicant need not submit." example:"2"`
	Total           int            `json:"total" doc:"How many materials the item has." example:"3"`
	CreatedAt       time.Time      `json:"created_at" doc:"When the case was opened." example:"2026-12-01T08:00:00Z"`
	// Decision is the officer's decision, once recorded.
	Decision *caseDecisionView `json:"decision,omitempty" doc:"The officer's decision, once recorded."`
}

type caseDecisionView struct {
	Outcome         string    `json:"outcome" doc:"The decision." enum:"approved,rejected" example:"approved"`
	Notes           string    `json:"notes" doc:"The officer's notes." example:"材料齐全，准予登记"`
	DecidedAt       time.Time `json:"decided_at" doc:"When it was decided." example:"2026-12-01T09:00:00Z"`
	PrecheckMatched bool      `json:"precheck_matched" doc:"Whether the pre-check verdict (every pre-check passed) agreed with the outcome." example:"true"`
}

type itemList struct {
	Items      []cases.ServiceItem `json:"items" doc:"This page of service items."`
	NextCursor *string             `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type itemStats struct {
	ServiceItemCode string  `json:"service_item_code" doc:"The service item code." example:"310100-000-01"`
	Name            string  `json:"name" doc:"The service item name." example:"营业执照变更登记"`
	Cases           int64   `json:"cases" doc:"Cases opened for it." example:"120"`
	ExemptionRate   float64 `json:"exemption_rate" doc:"Materials exempted or verified divided by all materials (0 to 1)." example:"0.83"`
	PrefillRate     float64 `json:"prefill_rate" doc:"Form fields pre-filled divided by the item's form fields (0 to 1)." example:"0.75"`
	PrecheckPass    float64 `json:"precheck_pass_rate" doc:"Pre-checks passed divided by pre-checks run (0 to 1)." example:"0.95"`
	Decided         int64   `json:"decided" doc:"Cases with the officer's decision." example:"100"`
	// PrecheckAccuracy is the share of decided cases whose pre-check
	// verdict (every pre-check passed) matched the decision; null before
	// any decision.
	PrecheckAccuracy *float64 `json:"precheck_accuracy" doc:"Share of decided cases whose pre-check verdict matched the decision (0 to 1); null before any decision." example:"0.92"`
	PrefillTargetMet bool     `json:"prefill_target_met" doc:"Whether prefill_rate reaches the target." example:"true"`
	// PrecheckAccuracyTargetMet is null before any decision.
	PrecheckAccuracyTargetMet *bool `json:"precheck_accuracy_target_met" doc:"Whether precheck_accuracy reaches the target; null before any decision." example:"true"`
}

// statsTargets are the policy targets the rates are measured against.
type statsTargets struct {
	PrefillRate      float64 `json:"prefill_rate" doc:"The pre-fill rate target." example:"0.7"`
	PrecheckAccuracy float64 `json:"precheck_accuracy" doc:"The pre-check accuracy target." example:"0.9"`
}

type statsResponse struct {
	Targets statsTargets `json:"targets" doc:"The policy targets the rates are measured against."`
	Items   []itemStats  `json:"items" doc:"One entry per service item the caller may see."`
}

// The policy targets of 两个免于提交: pre-fill at least 70 % of a form,
// pre-checks that agree with the officer's decision at least 90 % of the time.
const (
	targetPrefillRate      = 0.70
	targetPrecheckAccuracy = 0.90
)

func viewCase(c store.Case, r cases.Result, statuses map[string]string) caseView {
	out := caseView{ID: c.ID, ServiceItemCode: c.ItemCode, BusinessCode: c.BusinessCode, Prefill: r.Prefill,
		Materials: make([]caseMaterial, 0, len(r.Materials)), Precheck: make([]casePrecheck, 0, len(r.Prechecks)),
		Exempted: r.Exempted, Total: r.Total, CreatedAt: c.CreatedAt}
	if out.Prefill == nil {
		out.Prefill = map[string]any{}
	}
	for _, m := range r.Materials {
		out.Materials = append(out.Materials, caseMaterial{Code: m.Code, Name: m.Name, Status: m.Status, CertificateID: m.CertificateID,
			CertificateStatus: statuses[m.CertificateID], Reason: m.Reason, Region: m.Region})
	}
	for _, p := range r.Prechecks {
		out.Precheck = append(out.Precheck, casePrecheck{Code: p.Code, Name: p.Name, Passed: p.Passed, Reason: p.Reason})
	}
	if c.Decision != "" && c.DecidedAt != nil {
		out.Decision = &caseDecisionView{Outcome: c.Decision, Notes: c.DecisionNotes, DecidedAt: *c.DecidedAt, PrecheckMatched: c.PrecheckMatched}
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
	if req.Applicant != nil {
		s.validateHolder(&v, "applicant.", req.Applicant.Kind, req.Applicant.Name, req.Applicant.IDNumber)
	}
	if len(req.ApplicantCode) > 4096 {
		v.add("applicant_code", "length", "is longer than any code")
	}
	v.optText("org", req.Org, maxOrgUnit)
	v.text("operator", req.Operator, maxOperator)
	v.text("business_code", req.BusinessCode, 64)
	v.text("purpose", req.Purpose, 200)
	if len(req.Related) > 5 {
		v.add("related", "length", "may name at most 5 related parties")
	}
	for i, rel := range req.Related {
		f := "related[" + strconv.Itoa(i) + "]."
		v.text(f+"relation", rel.Relation, 64)
		switch {
		case (rel.Code == "") == (rel.IDNumber == ""):
			v.add(f+"code", "one_of", "send the related adult's code, or a related minor's id_number")
		case len(rel.Code) > 4096:
			v.add(f+"code", "length", "is longer than any code")
		case rel.IDNumber != "":
			if err := ident.ValidateCitizenID(rel.IDNumber, s.now()); err != nil {
				v.add(f+"id_number", identCode(err), err.Error())
			}
		}
	}
	if len(req.UseCodes) > 10 {
		v.add("use_codes", "length", "may carry at most 10 use codes")
	}
	if len(req.Certificates) > 5 {
		v.add("certificates", "length", "may carry at most 5 certificates")
	}
	for i, j := range req.Certificates {
		if j == "" || len(j) > 256<<10 {
			v.add("certificates["+strconv.Itoa(i)+"]", "length", "is not a certificate JWS")
		}
	}
	var useCodes [][]byte
	seenUse := map[string]bool{}
	for i, u := range req.UseCodes {
		n, err := codes.NormalizeUseCode(u)
		f := "use_codes[" + strconv.Itoa(i) + "]"
		switch {
		case err != nil:
			v.add(f, "format", "is not a use code (用证码)")
		case seenUse[n]:
			v.add(f, "duplicate", "is listed twice")
		default:
			useCodes = append(useCodes, codeservice.UseCodeHash(n))
		}
		seenUse[n] = true
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if replayed, err := s.replay(c, raw); replayed || err != nil {
		return err
	}
	it, err := s.deps.Cases.Item(ctx, req.ServiceItemCode)
	if errors.Is(err, casework.ErrUnknownItem) {
		return invalid(FieldError{Field: "service_item_code", Code: "unknown", Detail: "is not a service item in the catalogue"})
	}
	if err != nil {
		return err
	}
	parties, err := s.caseParties(ctx, c, req, it)
	if err != nil {
		return err
	}
	handed, err := s.handedOver(ctx, req.Certificates, parties.applicant)
	if err != nil {
		return err
	}
	p := who(c)
	r := casework.Request{HandedOver: handed, ItemCode: it.Code, ApplicantSubject: parties.applicant.Subject, ApplicantKind: parties.applicant.Kind,
		Related: parties.related, UseCodes: useCodes, Org: p.Name, OrgUSCC: p.USCC, OrgUnit: req.Org, Operator: req.Operator, BusinessCode: req.BusinessCode,
		Purpose: req.Purpose, Caller: p.Ref(), Actor: actorOf(c), RequestID: requestID(c), Audience: disclosure.ForCaseOfficer()}
	if p.Kind == store.KindApp {
		r.AppID, r.Audience = p.ID, audienceOf(p)
	}
	opened, err := s.deps.Cases.Open(ctx, r)
	var refused *casework.RefusedError
	if errors.As(err, &refused) {
		return s.refuseCase(ctx, c, &req, it, parties.holders, http.StatusForbidden, refused.Reason,
			FieldError{Field: refused.Field, Code: "refused", Detail: "not a usable use code of the applicant for a use-code material of this item"})
	}
	if err != nil {
		return err
	}
	s.metrics.caseOpened(opened.Case.ItemCode, opened.Result.Exempted == opened.Result.Total)
	// A peer's certificate used by the case: a receipt for the peer, which
	// shows the use to its holder there (区域互认).
	for _, h := range handed {
		if h.Region == "" || !slices.Contains(opened.Result.Pulled, h.ID) {
			continue
		}
		rec := store.UsageRecord{At: opened.Case.CreatedAt, Org: p.Name, OrgUSCC: p.USCC, OrgUnit: req.Org, Operator: req.Operator,
			ItemCode: it.Code, ItemName: it.Name, BusinessCode: req.BusinessCode, Purpose: req.Purpose, Channel: "case", Result: "success"}
		res := verifier.Result{Result: verifier.Valid, Kind: verifier.KindCertificate, CertificateID: h.ID, Region: s.regionNamed(h.Region)}
		if err := s.peerReceipt(ctx, res, nil, rec); err != nil {
			return err
		}
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		return http.StatusCreated, viewCase(opened.Case, opened.Result, nil), nil
	})
}

// getCase: only the principal that opened it, while it may still handle the
// item, (or the admin) sees a case.
func (s *Server) getCase(c *echo.Context) error {
	cur, err := s.openerCase(c, "case.read")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewCase(cur.Case, cur.Result, cur.Statuses))
}

// serviceItemStats answers per item the rates and the targets, scoped to
// the caller: the administrator sees every item; a department the items it
// may handle (every case of them); an app its own cases of its items.
func (s *Server) serviceItemStats(c *echo.Context) error {
	ctx := c.Request().Context()
	f, err := s.statsScope(c)
	if err != nil {
		return err
	}
	rows, err := s.store.ServiceItemStats(ctx, f)
	if err != nil {
		return err
	}
	out := statsResponse{Targets: statsTargets{PrefillRate: targetPrefillRate, PrecheckAccuracy: targetPrecheckAccuracy},
		Items: make([]itemStats, 0, len(rows))}
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
		st := itemStats{ServiceItemCode: r.ItemCode, Name: name, Cases: r.Cases,
			ExemptionRate: ratio(r.Exempted, r.Total), PrefillRate: ratio(r.PrefillFilled, r.PrefillTotal),
			PrecheckPass: ratio(r.PrecheckPassed, r.PrecheckTotal), Decided: r.Decided}
		st.PrefillTargetMet = st.PrefillRate >= targetPrefillRate
		if r.Decided > 0 {
			acc := ratio(r.PrecheckMatched, r.Decided)
			met := acc >= targetPrecheckAccuracy
			st.PrecheckAccuracy, st.PrecheckAccuracyTargetMet = &acc, &met
		}
		out.Items = append(out.Items, st)
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
