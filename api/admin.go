package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
)

// --- request and response bodies ---

type departmentRequest struct {
	Name             string   `json:"name" doc:"The department name (发证机构名称)." example:"上海市市场监督管理局"`
	USCC             string   `json:"uscc" doc:"Its unified social credit code (统一社会信用代码, GB 32100, 18 characters with a valid check character); unique." example:"11100000000013338W"`
	Level            string   `json:"level" doc:"Administrative level (机构级别)." enum:"国家级,省级,地市级,区县级,乡镇级,其他" example:"省级"`
	CertificateTypes []string `json:"certificate_types" doc:"Codes of the catalogue certificate types it may issue." example:"[\"11100000000021001C001\"]"`
}

type departmentView struct {
	ID               string    `json:"id" doc:"The department id." example:"dep_01JD8X3K2Q"`
	Name             string    `json:"name" doc:"The department name (发证机构名称)." example:"上海市市场监督管理局"`
	USCC             string    `json:"uscc" doc:"Its unified social credit code (统一社会信用代码)." example:"11100000000013338W"`
	Level            string    `json:"level" doc:"Administrative level (机构级别)." enum:"国家级,省级,地市级,区县级,乡镇级,其他" example:"省级"`
	CertificateTypes []string  `json:"certificate_types" doc:"Codes of the certificate types it may issue." example:"[\"11100000000021001C001\"]"`
	CreatedAt        time.Time `json:"created_at" doc:"When it was registered." example:"2026-12-01T08:00:00Z"`
}

type departmentCreated struct {
	departmentView
	APIKey string `json:"api_key" doc:"The department API key: shown once, stored only as a hash. Send it as Authorization: Bearer." example:"sk_dep_3Jx9…"`
	KeyID  string `json:"key_id,omitempty" doc:"The kid of the department signing key made for it (in /.well-known/jwks.json)." example:"dep-11100000000013338W-1"` // the department's signing key
}

type departmentList struct {
	Items      []departmentView `json:"items" doc:"This page of departments."`
	NextCursor *string          `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type appRequest struct {
	Name   string   `json:"name" doc:"The app or using organisation (用证单位) name." example:"某银行上海分行"`
	USCC   string   `json:"uscc" doc:"The organisation unified social credit code (统一社会信用代码); recorded in every usage record it causes." example:"91350100M000100Y43"`
	Scopes []string `json:"scopes" doc:"What the app may do: verify (POST /v1/verify), use (redeem use codes, read granted certificates), cases (open cases), identity-gateway (mint holder sessions)." enum:"verify,use,cases,identity-gateway" example:"[\"verify\",\"use\"]"`
	// CertificateTypes is the app's 用证清单: each entry a type code (that
	// type's non-sensitive fields) or {type_code, fields[]} (exactly those).
	CertificateTypes []json.RawMessage `json:"certificate_types" doc:"Its use list (用证清单): the certificate types whose data it may receive." example:"[\"11100000000021001C001\"]"`
	// ServiceItems are the 事项 codes an app with scope cases may open
	// cases for (required with scope cases, refused without it).
	ServiceItems []string `json:"service_items,omitempty" doc:"The service items (事项 codes) an app with scope cases may open cases for: required with scope cases, refused without it." example:"[\"000113101000\"]"`
}

type appView struct {
	ID     string   `json:"id" doc:"The app id (holders name it in grants)." example:"app_01JD8X3K2Q"`
	Name   string   `json:"name" doc:"The app or using organisation name." example:"某银行上海分行"`
	USCC   string   `json:"uscc" doc:"The organisation unified social credit code." example:"91350100M000100Y43"`
	Scopes []string `json:"scopes" doc:"What the app may do." enum:"verify,use,cases,identity-gateway" example:"[\"verify\",\"use\"]"`
	// CertificateTypes: a type code, or {type_code, fields[]} for a
	// field-level entry.
	CertificateTypes []any     `json:"certificate_types" doc:"Its use list (用证清单): certificate types whose data it may receive." example:"[\"11100000000021001C001\"]"`
	ServiceItems     []string  `json:"service_items" doc:"The service items (事项 codes) it may open cases for (scope cases)." example:"[\"000113101000\"]"`
	CreatedAt        time.Time `json:"created_at" doc:"When it was registered." example:"2026-12-01T08:00:00Z"`
}

type appCreated struct {
	appView
	APIKey string `json:"api_key" doc:"The app API key: shown once, stored only as a hash." example:"sk_app_8Qw2…"`
}

type appList struct {
	Items      []appView `json:"items" doc:"This page of apps."`
	NextCursor *string   `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type venueRequest struct {
	Name      string `json:"name" doc:"The venue name (场所名称)." example:"徐汇区图书馆"`
	Address   string `json:"address" doc:"Its address, shown to people who check in." example:"上海市徐汇区南丹东路80号"`
	AreaCode  string `json:"area_code" doc:"Its 6-digit administrative area code (行政区划代码, GB/T 2260)." example:"310104"`
	OwnerUSCC string `json:"owner_uscc" doc:"The unified social credit code of the organisation running it." example:"91350100M000100Y43"`
}

type venueView struct {
	ID        string    `json:"id" doc:"The venue id." example:"ven_01JD8X3K2Q"`
	Name      string    `json:"name" doc:"The venue name." example:"徐汇区图书馆"`
	Address   string    `json:"address" doc:"Its address." example:"上海市徐汇区南丹东路80号"`
	AreaCode  string    `json:"area_code" doc:"Its 6-digit administrative area code." example:"310104"`
	OwnerUSCC string    `json:"owner_uscc" doc:"The unified social credit code of the organisation running it." example:"91350100M000100Y43"`
	CreatedAt time.Time `json:"created_at" doc:"When it was registered." example:"2026-12-01T08:00:00Z"`
}

type venueCreated struct {
	venueView
	APIKey string `json:"api_key" doc:"The venue API key: shown once, stored only as a hash." example:"sk_ven_5Tz1…"`
}

type venueList struct {
	Items      []venueView `json:"items" doc:"This page of venues."`
	NextCursor *string     `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

type auditView struct {
	ID         int64          `json:"id" doc:"Position in the audit chain (grows by one per entry)." example:"42"`
	At         time.Time      `json:"at" doc:"When it happened." example:"2026-12-01T08:00:00Z"`
	ActorKind  string         `json:"actor_kind" doc:"Who did it: the kind of principal, or system for the service itself." enum:"admin,department,app,venue,holder,system" example:"admin"`
	ActorID    string         `json:"actor_id" doc:"The principal id (a pseudonymous subject for a holder; empty for the admin)." example:"dep_01JD8X3K2Q"`
	Action     string         `json:"action" doc:"What was done, as object.verb." example:"department.create"`
	ObjectType string         `json:"object_type" doc:"The kind of object acted on." example:"department"`
	ObjectID   string         `json:"object_id" doc:"The object id." example:"dep_01JD8X3K2Q"`
	RequestID  string         `json:"request_id" doc:"The X-Request-ID of the request that did it." example:"q1W2e3R4t5Y6u7I8"`
	Details    map[string]any `json:"details" doc:"What changed, without personal data." example:"{\"name\":\"上海市市场监督管理局\"}"`
}

type auditList struct {
	Items      []auditView `json:"items" doc:"This page of audit entries, newest first unless order=asc."`
	NextCursor *string     `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// --- validation helpers shared by handlers ---

type checks struct{ errs []FieldError }

func (v *checks) add(field, code, detail string) {
	v.errs = append(v.errs, FieldError{Field: field, Code: code, Detail: detail})
}

func (v *checks) text(field, s string, max int) {
	if strings.TrimSpace(s) == "" {
		v.add(field, "required", "is required")
		return
	}
	v.optText(field, s, max)
}

func (v *checks) uscc(field, s string) {
	if s == "" {
		v.add(field, "required", "is required")
		return
	}
	if err := ident.ValidateUSCC(s); err != nil {
		v.add(field, identCode(err), err.Error())
	}
}

func (v *checks) typeCodes(field string, codes []string, max int) {
	if len(codes) > max {
		v.add(field, "length", "may list at most "+strconv.Itoa(max)+" types")
		return
	}
	seen := map[string]bool{}
	for i, t := range codes {
		f := field + "[" + strconv.Itoa(i) + "]"
		if len(t) != 21 {
			v.add(f, "format", "a certificate type code has 21 characters (the defining authority's USCC and a 3-digit serial)")
			continue
		}
		if err := ident.ValidateUSCC(t[:18]); err != nil {
			v.add(f, "format", "the first 18 characters must be the defining authority's USCC: "+err.Error())
			continue
		}
		if seen[t] {
			v.add(f, "duplicate", "is listed twice")
		}
		seen[t] = true
	}
}

// catalogued adds an error for every type code not in the catalogue.
func (s *Server) catalogued(ctx context.Context, v *checks, field string, codes []string) {
	for i, t := range codes {
		if _, err := s.deps.Issuance.Type(ctx, t); err != nil {
			v.add(field+"["+strconv.Itoa(i)+"]", "unknown_type", "is not in the certificate catalogue (GET /v1/certificate-types)")
		}
	}
}

func (v *checks) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return invalid(v.errs...)
}

func identCode(err error) string {
	if ie, ok := err.(*ident.Error); ok {
		return ie.Code
	}
	return "invalid"
}

var levels = map[string]bool{"国家级": true, "省级": true, "地市级": true, "区县级": true, "乡镇级": true, "其他": true}

var scopes = map[string]bool{"verify": true, "use": true, "cases": true, "identity-gateway": true}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// --- handlers ---

func (s *Server) createDepartment(c *echo.Context) error {
	var req departmentRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	v.text("name", req.Name, 200)
	v.uscc("uscc", req.USCC)
	if !levels[req.Level] {
		v.add("level", "enum", "must be one of 国家级, 省级, 地市级, 区县级, 乡镇级, 其他")
	}
	v.typeCodes("certificate_types", req.CertificateTypes, 500)
	if len(v.errs) == 0 {
		s.catalogued(c.Request().Context(), &v, "certificate_types", req.CertificateTypes)
	}
	if err := v.err(); err != nil {
		return err
	}
	if req.CertificateTypes == nil {
		req.CertificateTypes = []string{}
	}
	defer func() {
		// Publish the department's new key at once on this node; other nodes
		// pick it up on their next reload or first use.
		_ = s.deps.Keys.Reload(c.Request().Context())
	}()
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		d := store.Department{ID: newID(), Name: req.Name, USCC: req.USCC, Level: req.Level,
			CertificateTypes: req.CertificateTypes, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
		if err := q.CreateDepartment(ctx, d); err != nil {
			if isExists(err) {
				return 0, nil, problemConflict("uscc", "a department with this USCC is already registered")
			}
			return 0, nil, err
		}
		key, err := s.deps.Keys.CreateDepartmentKey(ctx, q, d.USCC, actorOf(c), requestID(c))
		if err != nil {
			return 0, nil, err
		}
		token, err := s.register(ctx, c, q, store.KindDepartment, d.ID,
			map[string]any{"uscc": d.USCC, "name": d.Name, "level": d.Level, "certificate_types": d.CertificateTypes})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, departmentCreated{departmentView: viewDepartment(d), APIKey: token, KeyID: key.KID}, nil
	})
}

// register finishes registering a principal inside q's transaction: it
// mints its API key (returned once, stored as a hash) and audits
// "<kind>.create" with details.
func (s *Server) register(ctx context.Context, c *echo.Context, q store.Queries, kind store.PrincipalKind, id string, details map[string]any) (string, error) {
	token, keyID, hash := principal.NewAPIKey(kind)
	if err := q.CreateAPIKey(ctx, store.APIKey{ID: keyID, Kind: kind, PrincipalID: id, SecretHash: hash, CreatedAt: s.now().UTC()}); err != nil {
		return "", err
	}
	return token, s.record(ctx, c, q, string(kind)+".create", string(kind), id, details)
}

func viewDepartment(d store.Department) departmentView {
	return departmentView{ID: d.ID, Name: d.Name, USCC: d.USCC, Level: d.Level, CertificateTypes: nonNil(d.CertificateTypes), CreatedAt: d.CreatedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type departmentTypesRequest struct {
	CertificateTypes []string `json:"certificate_types" doc:"The complete new list of certificate type codes the department may issue." example:"[\"11100000000021001C001\"]"`
}

// setDepartmentTypes changes which certificate types a department may issue
// from now on. Each type's authorisation periods are kept, and published
// with the department's keys, so certificates issued while a type was
// authorised keep their verdict. Its key's entry in the JWKS and the trust
// bundle follows at once on this node (other nodes within their bundle
// refresh).
func (s *Server) setDepartmentTypes(c *echo.Context) error {
	var req departmentTypesRequest
	if _, err := readBody(c, &req); err != nil {
		return err
	}
	var v checks
	// An empty or missing list would silently withdraw every type: a
	// department that must stop issuing is handled by its key, not by a
	// body that lost a field.
	if len(req.CertificateTypes) == 0 {
		v.add("certificate_types", "required", "must list at least one certificate type")
	}
	v.typeCodes("certificate_types", req.CertificateTypes, 500)
	if len(v.errs) == 0 {
		s.catalogued(c.Request().Context(), &v, "certificate_types", req.CertificateTypes)
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	var d store.Department
	var sentBack []string
	at := s.now().UTC().Truncate(time.Microsecond)
	err := s.store.InTx(ctx, func(q store.Queries) error {
		before, err := q.GetDepartment(ctx, id)
		if err != nil {
			return err
		}
		if err := q.SetDepartmentTypes(ctx, id, req.CertificateTypes, at); err != nil {
			return err
		}
		if d, err = q.GetDepartment(ctx, id); err != nil {
			return err
		}
		// 免申即享: the department's policies that read a type it lost go
		// back to the administrator (matching.RecheckDepartment).
		if s.deps.Benefits != nil {
			kept := map[string]bool{}
			for _, t := range d.CertificateTypes {
				kept[t] = true
			}
			var removed []string
			for _, t := range before.CertificateTypes {
				if !kept[t] {
					removed = append(removed, t)
				}
			}
			if sentBack, err = s.deps.Benefits.RecheckDepartment(ctx, q, d, removed, actorOf(c), requestID(c)); err != nil {
				return err
			}
		}
		detail := map[string]any{"certificate_types": req.CertificateTypes}
		if len(sentBack) > 0 {
			detail["policies_pending_approval"] = sentBack
		}
		return s.record(ctx, c, q, "department.set_types", "department", id, detail)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("department")
	}
	if err != nil {
		return err
	}
	s.auth.forget(id)
	s.pub.Invalidate()
	if len(sentBack) > 0 {
		s.deps.Benefits.Refresh(ctx)
	}
	return c.JSON(http.StatusOK, viewDepartment(d))
}

func (s *Server) listDepartments(c *echo.Context) error {
	items, next, err := listPage(c, s.store.ListDepartments, infallible(viewDepartment), func(d store.Department) string { return d.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, departmentList{Items: items, NextCursor: next})
}

func (s *Server) createApp(c *echo.Context) error {
	var req appRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	v.text("name", req.Name, 200)
	v.uscc("uscc", req.USCC)
	if len(req.Scopes) == 0 {
		v.add("scopes", "required", "name at least one of verify, use, cases, identity-gateway")
	}
	seen := map[string]bool{}
	for i, sc := range req.Scopes {
		if !scopes[sc] {
			v.add("scopes["+strconv.Itoa(i)+"]", "enum", "must be one of verify, use, cases, identity-gateway")
		} else if seen[sc] {
			v.add("scopes["+strconv.Itoa(i)+"]", "duplicate", "is listed twice")
		}
		seen[sc] = true
	}
	useList := s.useList(c.Request().Context(), &v, req.CertificateTypes)
	switch {
	case seen["cases"] && len(req.ServiceItems) == 0:
		v.add("service_items", "required", "an app with scope cases names the service items it may open cases for")
	case !seen["cases"] && len(req.ServiceItems) > 0:
		v.add("service_items", "not_allowed", "only an app with scope cases opens cases")
	default:
		s.checkServiceItems(c.Request().Context(), &v, "service_items", req.ServiceItems)
	}
	if err := v.err(); err != nil {
		return err
	}
	if req.ServiceItems == nil {
		req.ServiceItems = []string{}
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		a := store.App{ID: newID(), Name: req.Name, USCC: req.USCC, Scopes: req.Scopes,
			CertificateTypes: useList.Types(), UseFields: useList.Fields(), ServiceItems: req.ServiceItems, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
		if err := q.CreateApp(ctx, a); err != nil {
			return 0, nil, err
		}
		token, err := s.register(ctx, c, q, store.KindApp, a.ID,
			map[string]any{"uscc": a.USCC, "name": a.Name, "scopes": a.Scopes, "certificate_types": useListView(a), "service_items": a.ServiceItems})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, appCreated{appView: viewApp(a), APIKey: token}, nil
	})
}

func viewApp(a store.App) appView {
	return appView{ID: a.ID, Name: a.Name, USCC: a.USCC, Scopes: nonNil(a.Scopes), CertificateTypes: useListView(a),
		ServiceItems: nonNil(a.ServiceItems), CreatedAt: a.CreatedAt}
}

func (s *Server) listApps(c *echo.Context) error {
	items, next, err := listPage(c, s.store.ListApps, infallible(viewApp), func(a store.App) string { return a.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, appList{Items: items, NextCursor: next})
}

func (s *Server) createVenue(c *echo.Context) error {
	var req venueRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	v.text("name", req.Name, 200)
	v.text("address", req.Address, 300)
	if code := issuer.ValidateAreaCode(req.AreaCode); code != "" {
		v.add("area_code", code, "must be a 6-digit GB/T 2260 administrative area code")
	}
	v.uscc("owner_uscc", req.OwnerUSCC)
	if err := v.err(); err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		vn := store.Venue{ID: newID(), Name: req.Name, Address: req.Address, AreaCode: req.AreaCode,
			OwnerUSCC: req.OwnerUSCC, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
		if err := q.CreateVenue(ctx, vn); err != nil {
			return 0, nil, err
		}
		token, err := s.register(ctx, c, q, store.KindVenue, vn.ID,
			map[string]any{"name": vn.Name, "area_code": vn.AreaCode, "owner_uscc": vn.OwnerUSCC})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, venueCreated{venueView: viewVenue(vn), APIKey: token}, nil
	})
}

func viewVenue(v store.Venue) venueView {
	return venueView{ID: v.ID, Name: v.Name, Address: v.Address, AreaCode: v.AreaCode, OwnerUSCC: v.OwnerUSCC, CreatedAt: v.CreatedAt}
}

func (s *Server) listVenues(c *echo.Context) error {
	items, next, err := listPage(c, s.store.ListVenues, infallible(viewVenue), func(v store.Venue) string { return v.ID })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, venueList{Items: items, NextCursor: next})
}

func (s *Server) listAudit(c *echo.Context) error {
	// Newest first unless order=asc; a cursor continues in the order it was
	// made for (its ID bound means "before" or "after" accordingly).
	var newestFirst bool
	switch c.QueryParam("order") {
	case "", "desc":
		newestFirst = true
	case "asc":
	default:
		return invalid(FieldError{Field: "order", Code: "enum", Detail: "must be desc (newest first, the default) or asc"})
	}
	fetch := func(ctx context.Context, after string, limit int) ([]store.AuditEntry, error) {
		var afterID int64
		if after != "" {
			// A newest-first cursor is "d<id>", an oldest-first one "<id>":
			// a cursor used with the other order is refused, not misread.
			digits, desc := strings.CutPrefix(after, "d")
			var err error
			if afterID, err = strconv.ParseInt(digits, 10, 64); err != nil || afterID < 1 || desc != newestFirst {
				return nil, invalid(FieldError{Field: "cursor", Code: "format", Detail: "is not a cursor this API returned"})
			}
		}
		if newestFirst {
			return s.store.ListAuditNewestFirst(ctx, afterID, limit)
		}
		return s.store.ListAudit(ctx, afterID, limit)
	}
	view := func(e store.AuditEntry) (auditView, error) {
		av := auditView{ID: e.ID, At: e.At, ActorKind: string(e.ActorKind), ActorID: e.ActorID, Action: e.Action,
			ObjectType: e.ObjectType, ObjectID: e.ObjectID, RequestID: e.RequestID}
		_ = jsonUnmarshal(e.Details, &av.Details)
		return av, nil
	}
	items, next, err := listPage(c, fetch, view, func(e store.AuditEntry) string {
		if newestFirst {
			return "d" + strconv.FormatInt(e.ID, 10)
		}
		return strconv.FormatInt(e.ID, 10)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, auditList{Items: items, NextCursor: next})
}

func problemConflict(field, detail string) *Problem {
	p := problem(http.StatusConflict, "already_exists", detail)
	p.Errors = []FieldError{{Field: field, Code: "already_exists", Detail: detail}}
	return p
}
