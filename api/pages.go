package api

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/web"
)

// pageRoutes are the pages for people (package web) served beside the API:
// every page and asset is embedded in the binary and carries the site's
// Content-Security-Policy and cache headers. They are public; what a page
// shows comes from the /v1 API with the holder's cookie session.
func (s *Server) pageRoutes() []route {
	site := web.New()
	h := echo.WrapHandler(site)
	var rs []route
	for _, p := range web.Pages {
		rs = append(rs, route{Method: http.MethodGet, Path: p.Path, Summary: p.Summary, Tag: "pages", Access: public, Handler: h, Status: 200, Produces: []string{"text/html"}})
	}
	rs = append(rs,
		route{Method: http.MethodGet, Path: web.AssetPrefix + "{name}", Summary: "An embedded page asset (immutable when asked for with its ?v= content hash)", Tag: "pages", Access: public, Handler: h, Status: 200, Query: []string{"v"}, Produces: []string{"text/css", "text/javascript", "image/svg+xml"}},
		route{Method: http.MethodGet, Path: "/", Summary: "Redirect to the holder page /me", Tag: "pages", Access: public, Handler: func(c *echo.Context) error { return c.Redirect(http.StatusSeeOther, "/me") }, Status: 303},
	)
	// Sign-out comes last: TestAuthorizationMatrix calls the routes in
	// order with one holder session, which sign-out ends.
	return append(rs, s.webSessionRoutes()...)
}
