package api

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/web"
)

// mountPages serves the pages for people (package web) beside the API:
// every page and asset is embedded in the binary and carries the site's
// Content-Security-Policy and cache headers. Pages are not API operations,
// so they stay out of the route table and /openapi.json.
func (s *Server) mountPages(e *echo.Echo) {
	site := web.New()
	h := echo.WrapHandler(site)
	for _, p := range site.PagePaths() {
		e.GET(p, h)
		e.HEAD(p, h)
	}
	e.GET(web.AssetPrefix+"*", h)
	e.HEAD(web.AssetPrefix+"*", h)
	e.GET("/", func(c *echo.Context) error { return c.Redirect(http.StatusSeeOther, "/me") })
}
