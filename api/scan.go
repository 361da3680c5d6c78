package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/web"
)

// scanRoutes serve the /scan page (package web): a scanner that verifies
// codes in the browser with the WebAssembly build of package verifier. The
// page pins this node's trust anchor, written into it when served.
func (s *Server) scanRoutes() []route {
	sc, err := web.NewScanner(func(ctx context.Context) ([]byte, error) {
		anchor, err := s.deps.Keys.Signer(ctx, store.RoleAnchor, "")
		if err != nil {
			return nil, err
		}
		return signing.MarshalPublicKeyPEM(anchor.Public())
	})
	if err != nil {
		panic("web: the embedded /scan page does not load: " + err.Error()) // a build defect, caught by every test
	}
	h := echo.WrapHandler(sc)
	return []route{
		{Method: http.MethodGet, Path: "/scan", Summary: "The scanner page for venues and verifiers: camera or typed codes, verified in the page (works offline); a venue signed in with its key records its scans", Tag: "pages", Access: public, Handler: h, Status: 200, Produces: []string{"text/html"}},
		{Method: http.MethodGet, Path: "/scan-sw.js", Summary: "The scanner's service worker (keeps the page, the verifier and the trust data for offline use)", Tag: "pages", Access: public, Handler: h, Status: 200, Produces: []string{"text/javascript"}},
		{Method: http.MethodGet, Path: "/scan/{name}", Summary: "An asset of the scanner page (immutable when asked for with its ?v= content hash; verifier.wasm is the WebAssembly build of package verifier)", Tag: "pages", Access: public, Handler: h, Status: 200, Query: []string{"v"}, Produces: []string{"text/javascript", "text/css", "application/wasm"}},
	}
}
