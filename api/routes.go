package api

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// route is one endpoint: how it is reached, who may call it, what it takes
// and answers. The same table registers the handlers, enforces access and
// generates /openapi.json, so the three cannot drift apart.
type route struct {
	Method   string
	Path     string // OpenAPI form: /v1/things/{id}
	Summary  string
	Tag      string
	Access   access
	Handler  echo.HandlerFunc
	Request  any // zero value of the JSON body type, or nil
	Response any // zero value of the success body type, or nil
	Status   int // success status
	// Produces lists non-JSON success media types (images, text).
	Produces []string
	// Query lists query parameters.
	Query []string
	// Idempotent marks creating POSTs that honour Idempotency-Key.
	Idempotent bool
	// Doc is the operation's description beyond its summary (optional).
	Doc string
	// Params describe path and query parameters that commonParams and
	// pathParamDocs (api/openapi.go) do not.
	Params map[string]string
	// Errors lists 4xx statuses beyond those the route's shape implies
	// (see errorStatuses).
	Errors []int
}

func (s *Server) routeTable() []route {
	routes := append(s.coreRoutes(), s.apiKeyRoutes()...)
	routes = append(routes, s.keyEventRoutes()...)
	routes = append(routes, s.policyRoutes()...)
	routes = append(routes, s.regionRoutes()...)
	routes = append(routes, s.copyRoutes()...)
	return append(routes, s.caseAccessRoutes()...)
}

func (s *Server) coreRoutes() []route {
	return []route{
		// Operations.
		{Method: http.MethodGet, Path: "/healthz", Summary: "Process is alive", Tag: "operations", Access: public, Handler: s.healthz, Response: healthResponse{}, Status: 200},
		{Method: http.MethodGet, Path: "/readyz", Summary: "Database reachable and keys loaded", Tag: "operations", Access: public, Handler: s.readyz, Response: healthResponse{}, Status: 200},
		{Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics", Tag: "operations", Access: public, Handler: s.metricsHandler, Status: 200, Produces: []string{"text/plain"}},
		{Method: http.MethodGet, Path: "/openapi.json", Summary: "This document", Tag: "operations", Access: public, Handler: s.openAPIHandler, Status: 200},

		// Admin: principals.
		{Method: http.MethodPost, Path: "/v1/admin/departments", Summary: "Register an issuing department (发证机构) and mint its API key", Tag: "admin", Access: adminOnly, Handler: s.createDepartment, Request: departmentRequest{}, Response: departmentCreated{}, Status: 201, Idempotent: true},
		{Method: http.MethodPut, Path: "/v1/admin/departments/{id}/certificate-types", Summary: "Change which certificate types a department may issue", Tag: "admin", Access: adminOnly, Handler: s.setDepartmentTypes, Request: departmentTypesRequest{}, Response: departmentView{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/admin/departments", Summary: "List departments", Tag: "admin", Access: adminOnly, Handler: s.listDepartments, Response: departmentList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodPost, Path: "/v1/admin/apps", Summary: "Register a third-party app (用证单位) and mint its API key", Tag: "admin", Access: adminOnly, Handler: s.createApp, Request: appRequest{}, Response: appCreated{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/admin/apps", Summary: "List apps", Tag: "admin", Access: adminOnly, Handler: s.listApps, Response: appList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodPost, Path: "/v1/admin/venues", Summary: "Register a venue (场所) and mint its API key", Tag: "admin", Access: adminOnly, Handler: s.createVenue, Request: venueRequest{}, Response: venueCreated{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/admin/venues", Summary: "List venues", Tag: "admin", Access: adminOnly, Handler: s.listVenues, Response: venueList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/admin/audit", Summary: "Read the audit log, newest first (order=asc for oldest first)", Tag: "admin", Access: adminOnly, Handler: s.listAudit, Response: auditList{}, Status: 200, Query: []string{"limit", "cursor", "order"}},

		// Trust (public) and key administration.
		{Method: http.MethodGet, Path: "/.well-known/jwks.json", Summary: "Every public key a verifier may need, with role and status", Tag: "trust", Access: public, Handler: s.jwks, Response: trust.JWKS{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/trust", Summary: "The trust bundle: a compact JWS (alg SM2) by the trust anchor; ETag / If-None-Match", Tag: "trust", Access: public, Handler: s.trustBundle, Status: 200, Produces: []string{"application/jose"}},
		{Method: http.MethodGet, Path: "/v1/admin/keys", Summary: "List signing keys (metadata only)", Tag: "admin", Access: adminOnly, Handler: s.listKeys, Response: keyList{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/admin/keys/rotate", Summary: "Rotate a signing key with overlap", Tag: "admin", Access: adminOnly, Handler: s.rotateKey, Request: rotateRequest{}, Response: rotateResponse{}, Status: 201, Idempotent: true},
		{Method: http.MethodPost, Path: "/v1/admin/keys/{kid}/compromised", Summary: "Mark a key compromised: nothing it signed verifies any more", Tag: "admin", Access: adminOnly, Handler: s.compromiseKey, Response: compromiseResponse{}, Status: 200},

		// Catalogue (public) and its administration.
		{Method: http.MethodGet, Path: "/v1/certificate-types", Summary: "The certificate catalogue (证照目录, GB/T 36902)", Tag: "catalogue", Access: public, Handler: s.listTypes, Response: typeList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/certificate-types/{code}", Summary: "One certificate type with its face-field schema", Tag: "catalogue", Access: public, Handler: s.getType, Response: issuer.CertificateType{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/admin/certificate-types", Summary: "Add a certificate type to the catalogue", Tag: "admin", Access: adminOnly, Handler: s.addType, Request: issuer.CertificateType{}, Response: issuer.CertificateType{}, Status: 201, Idempotent: true},

		// Certificates.
		{Method: http.MethodPost, Path: "/v1/certificates", Summary: "Issue an electronic certificate (电子证照), signed by the department's key", Tag: "certificates", Access: deptOnly, Handler: s.issueCertificate, Request: certificateRequest{}, Response: certificateView{}, Status: 201, Idempotent: true},
		{Method: http.MethodPost, Path: "/v1/certificates/batch", Summary: "Issue up to 1,000 certificates; per-item results", Tag: "certificates", Access: deptOnly, Handler: s.issueBatch, Request: batchRequest{}, Response: batchResponse{}, Status: 200, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/certificates", Summary: "The department's own certificates", Tag: "certificates", Access: deptOnly, Handler: s.listIssued, Response: certificateList{}, Status: 200, Query: []string{"limit", "cursor", "type_code"}},
		{Method: http.MethodGet, Path: "/v1/certificates/{id}", Summary: "A certificate: the issuer and the holder see all of it; an app with scope use and the holder's grant sees what its use list allows (recorded for the holder); anyone else gets 404", Tag: "certificates", Access: access{kinds: []store.PrincipalKind{store.KindDepartment, store.KindHolder, store.KindApp}, scope: "use"}, Handler: s.getCertificate, Response: certificateView{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/certificates/{id}/status", Summary: "A certificate's current status (public, no personal data)", Tag: "certificates", Access: public, Handler: s.certificateStatus, Response: statusView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/certificates/{id}/suspend", Summary: "Suspend (暂扣)", Tag: "certificates", Access: deptOnly, Handler: s.lifecycle(issuer.ActionSuspend), Request: lifecycleRequest{}, Response: statusView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/certificates/{id}/resume", Summary: "End a suspension", Tag: "certificates", Access: deptOnly, Handler: s.lifecycle(issuer.ActionResume), Request: lifecycleRequest{}, Response: statusView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/certificates/{id}/revoke", Summary: "Revoke (吊销/撤销)", Tag: "certificates", Access: deptOnly, Handler: s.lifecycle(issuer.ActionRevoke), Request: lifecycleRequest{}, Response: statusView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/certificates/{id}/cancel", Summary: "Cancel (注销)", Tag: "certificates", Access: deptOnly, Handler: s.lifecycle(issuer.ActionCancel), Request: lifecycleRequest{}, Response: statusView{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/certificates/{id}/renew", Summary: "Renew or change: a new version linked to its predecessor", Tag: "certificates", Access: deptOnly, Handler: s.renewCertificate, Request: renewRequest{}, Response: certificateView{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/status-lists/{id}", Summary: "A signed, compressed bitstring status list (the trust bundle pins it by SM3); ETag / If-None-Match; ?sm3= fetches the form a bundle pins", Tag: "trust", Access: public, Handler: s.statusList, Status: 200, Produces: []string{"application/jose"}, Query: []string{"sm3"}, Errors: []int{400}},
		{Method: http.MethodGet, Path: "/v1/me/certificates", Summary: "The holder's certificates from every department", Tag: "holders", Access: holderOnly, Handler: s.myCertificates, Response: certificateList{}, Status: 200, Query: []string{"limit", "cursor", "type_code"}},

		// 随申码 codes, check-ins and venue scans.
		{Method: http.MethodPost, Path: "/v1/me/codes/personal", Summary: "A fresh dynamic personal code (JSON, or the QR as image/png or image/svg+xml with the text in Suishen-Code)", Tag: "codes", Access: holderOnly, Handler: s.personalCode, Response: codeResponse{}, Status: 200, Produces: []string{"image/png", "image/svg+xml"}},
		{Method: http.MethodPost, Path: "/v1/me/codes/offline", Summary: "A new printable offline code; the previous one stops being valid", Tag: "codes", Access: holderOnly, Handler: s.offlineCode, Response: codeResponse{}, Status: 201, Produces: []string{"image/png", "image/svg+xml"}},
		{Method: http.MethodPost, Path: "/v1/me/codes/enterprise", Summary: "An enterprise holder's static enterprise code", Tag: "codes", Access: holderOnly, Handler: s.enterpriseCode, Response: codeResponse{}, Status: 200, Produces: []string{"image/png", "image/svg+xml"}},
		{Method: http.MethodDelete, Path: "/v1/me/codes/enterprise", Summary: "Revoke the enterprise code; the next request issues a new one", Tag: "codes", Access: holderOnly, Handler: s.revokeEnterpriseCode, Status: 204},
		{Method: http.MethodPost, Path: "/v1/me/certificates/{id}/presentations", Summary: "亮证: a short-lived code for one certificate with a one-time use code (用证码)", Tag: "codes", Access: holderOnly, Handler: s.presentCertificate, Request: presentationRequest{}, Response: presentationResponse{}, Status: 201, Produces: []string{"image/png", "image/svg+xml"}},
		{Method: http.MethodPost, Path: "/v1/me/checkins", Summary: "Check in by scanning a venue code", Tag: "codes", Access: holderOnly, Handler: s.checkin, Request: codeRequest{}, Response: checkinResponse{}, Status: 201},
		{Method: http.MethodGet, Path: "/v1/me/checkins", Summary: "The holder's check-ins", Tag: "codes", Access: holderOnly, Handler: s.myCheckins, Response: checkinList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/venue/code", Summary: "The venue's static venue code (JSON, PNG or SVG)", Tag: "venues", Access: venueOnly, Handler: s.venueCode, Response: codeResponse{}, Status: 200, Produces: []string{"image/png", "image/svg+xml"}},
		{Method: http.MethodDelete, Path: "/v1/venue/code", Summary: "Revoke the venue code; the next GET issues a new one", Tag: "venues", Access: venueOnly, Handler: s.revokeVenueCode, Status: 204},
		{Method: http.MethodPost, Path: "/v1/venue/scans", Summary: "Scan a person's code: verification and a scan record", Tag: "venues", Access: venueOnly, Handler: s.venueScan, Request: codeRequest{}, Response: scanResponse{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/venue/scans/batch", Summary: "Upload scans made offline (each with the venue's own ID; re-uploading is harmless)", Tag: "venues", Access: venueOnly, Handler: s.venueScanBatch, Request: scanBatchRequest{}, Response: scanBatchResponse{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/venue/checkins", Summary: "The venue's visitors, names masked", Tag: "venues", Access: venueOnly, Handler: s.venueCheckins, Response: checkinList{}, Status: 200, Query: []string{"limit", "cursor"}},

		// Verification and use.
		{Method: http.MethodPost, Path: "/v1/verify", Summary: "Verify a code or a certificate JWS online (rate-limited per app; recorded for the holder)", Tag: "verification", Access: appWith("verify"), Handler: s.verify, Request: verifyRequest{}, Response: verifyResult{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/use-codes/redeem", Summary: "Redeem a one-time use code (用证码): the certificate's data the app's use list allows", Tag: "verification", Access: appWith("use"), Handler: s.redeem, Request: redeemRequest{}, Response: redeemResponse{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/me/authorizations", Summary: "Grant an app the use of certificate types for a purpose until a date (授权用证)", Tag: "holders", Access: holderOnly, Handler: s.createGrant, Request: grantRequest{}, Response: grantView{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/me/authorizations", Summary: "The holder's grants", Tag: "holders", Access: holderOnly, Handler: s.listGrants, Response: grantList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodDelete, Path: "/v1/me/authorizations/{id}", Summary: "Revoke a grant", Tag: "holders", Access: holderOnly, Handler: s.revokeGrant, Status: 204},
		{Method: http.MethodGet, Path: "/v1/me/usage-records", Summary: "Every use of the holder's certificates and codes, refusals included (用证记录)", Tag: "holders", Access: holderOnly, Handler: s.usageRecords, Response: usageList{}, Status: 200, Query: []string{"limit", "cursor"}},

		// Cases — 两个免于提交.
		{Method: http.MethodGet, Path: "/v1/service-items", Summary: "Service items (政务服务事项) with their materials", Tag: "cases", Access: public, Handler: s.listItems, Response: itemList{}, Status: 200, Query: []string{"limit", "cursor"}},
		{Method: http.MethodGet, Path: "/v1/service-items/{code}", Summary: "One service item", Tag: "cases", Access: public, Handler: s.getItem, Response: cases.ServiceItem{}, Status: 200},
		{Method: http.MethodPost, Path: "/v1/admin/service-items", Summary: "Add a service item", Tag: "admin", Access: adminOnly, Handler: s.addItem, Request: cases.ServiceItem{}, Response: cases.ServiceItem{}, Status: 201, Idempotent: true},
		{Method: http.MethodPost, Path: "/v1/cases", Summary: "Open a case: pull, verify and attach the applicant's certificates, pre-fill, pre-check", Tag: "cases", Access: caseSystems, Handler: s.openCase, Request: caseRequest{}, Response: caseView{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/cases/{id}", Summary: "A case with the current status of every attached certificate (its opener or the admin)", Tag: "cases", Access: access{kinds: []store.PrincipalKind{store.KindApp, store.KindDepartment, store.KindAdmin}, scope: "cases"}, Handler: s.getCase, Response: caseView{}, Status: 200},
		{Method: http.MethodGet, Path: "/v1/stats/service-items", Summary: "Per item: cases, exemption rate, pre-fill rate, pre-check pass rate", Tag: "cases", Access: access{kinds: []store.PrincipalKind{store.KindApp, store.KindDepartment, store.KindAdmin}, scope: "cases"}, Handler: s.serviceItemStats, Response: statsResponse{}, Status: 200},

		// Holders.
		{Method: http.MethodPost, Path: "/v1/sessions", Summary: "Mint a holder session (identity gateway)", Tag: "holders", Access: gatewayOrAd, Handler: s.createSession, Request: sessionRequest{}, Response: sessionCreated{}, Status: 201, Idempotent: true},
		{Method: http.MethodGet, Path: "/v1/me", Summary: "The holder of this session", Tag: "holders", Access: holderOnly, Handler: s.me, Response: meResponse{}, Status: 200},
	}
}
