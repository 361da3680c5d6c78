package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// keyEventRoutes are the routes of key events (issue #11 part 3).
func (s *Server) keyEventRoutes() []route {
	return []route{
		{Method: http.MethodGet, Path: "/v1/certificates/to-reissue", Summary: "The department's certificates in effect that a compromised key of it signed: re-issue each (POST /v1/certificates/{id}/renew)", Tag: "certificates", Access: deptOnly, Handler: s.toReissue, Response: certificateList{}, Status: 200, Query: []string{"limit", "cursor"}},
	}
}

// verdict is what a verifier holding this node's current trust bundle
// answers for the certificate: the public status and the wallet show it, so
// they always agree with the verifiers (a compromised key, a withdrawn
// type, a status not yet published all show). Reasons carry no personal
// data. A bundle that cannot be built is "unknown", never an error.
func (s *Server) verdict(ctx context.Context, c store.Certificate) (string, []reasonView) {
	v, err := s.verifierNow(ctx)
	if err != nil {
		return string(verifier.Unknown), []reasonView{{Code: verifier.ReasonBundleUnavailable, Detail: "this node could not build its trust bundle"}}
	}
	r := v.VerifyCertificate(c.JWS)
	out := make([]reasonView, 0, len(r.Reasons))
	for _, re := range r.Reasons {
		out = append(out, reasonView{Code: re.Code, Detail: re.Detail})
	}
	return string(r.Result), out
}

// toReissue lists the department's certificates in effect (valid or
// suspended) signed by one of its compromised keys: they verify as invalid
// until renewed, which signs a new version with the replacement key.
func (s *Server) toReissue(c *echo.Context) error {
	uscc := who(c).USCC
	all, err := s.store.ListKeys(c.Request().Context()) // the database, not this node's view
	if err != nil {
		return err
	}
	kids := []string{}
	for _, k := range all {
		if k.Role == store.RoleDepartment && k.DepartmentUSCC == uscc && k.Status == store.KeyCompromised {
			kids = append(kids, k.KID)
		}
	}
	if len(kids) == 0 {
		if _, _, err := page(c); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, certificateList{Items: []certificateSummary{}})
	}
	return s.listCerts(c, store.CertificateFilter{IssuerUSCC: uscc, KeyIDs: kids, InEffect: true})
}
