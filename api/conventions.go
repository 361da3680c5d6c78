package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// HTTP conventions every route follows (contract v2, "Operators and
// integrators"): HEAD beside every GET, Allow on every 405, CORS for the
// configured origins only, and JSON bodies that end with a newline.

// methodNotAllowed answers 405 with the Allow header the router computed for
// the path (RFC 9110 §15.5.6: a 405 MUST carry Allow).
func methodNotAllowed(c *echo.Context) error {
	if allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && allow != "" {
		c.Response().Header().Set(echo.HeaderAllow, allow)
	}
	return statusProblem(http.StatusMethodNotAllowed)
}

// corsHeaders are what a browser app may send and read across origins.
var (
	corsAllowHeaders  = []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key", "If-None-Match", echo.HeaderXRequestID, echo.HeaderAccept}
	corsExposeHeaders = []string{echo.HeaderXRequestID, "ETag", "Suishen-Code", "Retry-After", echo.HeaderAllow, echo.HeaderLocation}
)

// cors is the CORS middleware for SUISHEN_CORS_ORIGINS, or nil when the list
// is empty (no CORS headers at all: browsers on other origins are refused).
// Credentials are never allowed: the API takes bearer tokens, and the
// holder pages' session cookie must not ride on another origin's request.
func cors(origins []string) echo.MiddlewareFunc {
	if len(origins) == 0 {
		return nil
	}
	mw, err := middleware.CORSConfig{
		AllowOrigins:  origins,
		AllowHeaders:  corsAllowHeaders,
		ExposeHeaders: corsExposeHeaders,
		MaxAge:        600,
	}.ToMiddleware()
	if err != nil {
		// config.Load validated the origins; this is a programming error.
		panic("api: CORS origins: " + err.Error())
	}
	return mw
}

// jsonBlob writes an already encoded JSON body, ending it with a newline as
// c.JSON does (json.Encoder), so every JSON body the API sends looks alike.
func jsonBlob(c *echo.Context, status int, contentType string, b []byte) error {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b[:len(b):len(b)], '\n')
	}
	if contentType == "" {
		contentType = echo.MIMEApplicationJSON
	}
	return c.Blob(status, contentType, b)
}

// isGet reports whether a route answers HEAD as well.
func isGet(method string) bool { return strings.EqualFold(method, http.MethodGet) }
