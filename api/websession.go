package api

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Browser sessions for the pages. POST /v1/sessions returns a one-time
// login_url; opening it trades the ticket for a session of the browser's own,
// carried in an HttpOnly, SameSite=Strict cookie. Holder routes accept that
// cookie instead of a bearer token; a request that changes state must also
// come from this origin (Origin / Sec-Fetch-Site) and carry the session's
// CSRF token in X-CSRF-Token (double submit: the token is in a second,
// script-readable cookie, and is an HMAC of the session, so it cannot be
// forged or carried to another session).

const (
	// SessionCookie holds the browser's session token (HttpOnly).
	SessionCookie = "suishen_session"
	// CSRFCookie holds the session's CSRF token, readable by the page's script.
	CSRFCookie = "suishen_csrf"
	// CSRFHeader carries the CSRF token on requests that change state.
	CSRFHeader = "X-CSRF-Token"
	// LoginTicketTTL is how long a login_url works.
	LoginTicketTTL = 2 * time.Minute
)

// loginURL mints a one-time sign-in ticket for the session being created and
// returns its URL.
func (s *Server) loginURL(ctx context.Context, q store.Queries, sess store.Session) (string, error) {
	ticket, hash := principal.NewLoginTicket()
	err := q.CreateLoginTicket(ctx, store.LoginTicket{TicketHash: hash, Subject: sess.Subject, HolderKind: sess.HolderKind,
		DisplayName: sess.DisplayName, CreatedBy: sess.CreatedBy, CreatedAt: sess.CreatedAt, ExpiresAt: sess.CreatedAt.Add(LoginTicketTTL)})
	if err != nil {
		return "", err
	}
	return s.cfg.PublicURL + "/login/" + ticket, nil
}

// login trades a one-time ticket for a cookie session and sends the browser
// to /me. An unknown, used or expired ticket leads to /me?login=invalid and
// sets nothing (a session the browser already has stays).
func (s *Server) login(c *echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	ticket := c.Param("ticket")
	if !principal.IsLoginTicket(ticket) {
		return c.Redirect(http.StatusSeeOther, "/me?login=invalid")
	}
	ctx := c.Request().Context()
	now := s.now().UTC().Truncate(time.Microsecond)
	token, tokenHash := principal.NewSessionToken()
	var sess store.Session
	err := s.store.InTx(ctx, func(q store.Queries) error {
		t, err := q.UseLoginTicket(ctx, principal.Hash(ticket), now)
		if err != nil {
			return err
		}
		sess = store.Session{TokenHash: tokenHash, Subject: t.Subject, HolderKind: t.HolderKind, DisplayName: t.DisplayName,
			CreatedBy: t.CreatedBy, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
		if err := q.CreateSession(ctx, sess); err != nil {
			return err
		}
		_, err = q.AppendAudit(ctx, audit.New(now, audit.Actor{Kind: store.KindHolder, ID: t.Subject}, "session.browser_login",
			"holder", t.Subject, requestID(c), map[string]any{"expires_at": sess.ExpiresAt, "minted_by": t.CreatedBy}))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return c.Redirect(http.StatusSeeOther, "/me?login=invalid")
	}
	if err != nil {
		return err
	}
	s.setSessionCookies(c, token, tokenHash, sess.ExpiresAt)
	return c.Redirect(http.StatusSeeOther, "/me")
}

func (s *Server) secureCookies(c *echo.Context) bool {
	return c.Request().TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

func (s *Server) setSessionCookies(c *echo.Context, token string, tokenHash []byte, expires time.Time) {
	maxAge := max(int(expires.Sub(s.now()).Seconds()), 1)
	secure := s.secureCookies(c)
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: s.csrfToken(tokenHash), Path: "/", MaxAge: maxAge, Secure: secure, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearSessionCookies(c *echo.Context) {
	secure := s.secureCookies(c)
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: "", Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteStrictMode})
}

// csrfToken is the CSRF token of the session whose token hashes to tokenHash.
func (s *Server) csrfToken(tokenHash []byte) string {
	m := hmac.New(sm3.New, signing.DeriveKey(s.cfg.MasterKey, "suishen/csrf/v1"))
	m.Write(tokenHash)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// allowsHolder reports whether a route is for holders.
func (a access) allowsHolder() bool {
	for _, k := range a.kinds {
		if k == store.KindHolder {
			return true
		}
	}
	return false
}

// cookieSession authenticates a holder route's request by its session
// cookie, when it has one; ok is false when there is no cookie. A request
// that changes state must pass the same-origin and CSRF checks.
func (s *Server) cookieSession(c *echo.Context, a access) (p principal.Principal, ok bool, err error) {
	if !a.allowsHolder() {
		return p, false, nil
	}
	ck, cerr := c.Cookie(SessionCookie)
	if cerr != nil || ck.Value == "" {
		return p, false, nil
	}
	if !principal.IsSessionToken(ck.Value) {
		return p, true, problem(http.StatusUnauthorized, "invalid_session", "the session has ended or expired; sign in again")
	}
	p, err = s.auth.authenticate(c.Request().Context(), ck.Value)
	if errors.Is(err, errBadCredentials) {
		return p, true, problem(http.StatusUnauthorized, "invalid_session", "the session has ended or expired; sign in again")
	}
	if err != nil {
		return p, true, err
	}
	r := c.Request()
	if !safeMethod(r.Method) {
		if !s.sameOrigin(r) {
			return p, true, problem(http.StatusForbidden, "cross_site", "requests that change state must come from this site's own pages")
		}
		want := s.csrfToken(principal.Hash(ck.Value))
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(want)) != 1 {
			return p, true, problem(http.StatusForbidden, "csrf", "missing or wrong "+CSRFHeader+" header")
		}
	}
	// What the API answers a page is personal: never kept in a cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	return p, true, nil
}

// sameOrigin reports whether a request comes from this site's own pages: a
// browser says so in Sec-Fetch-Site, and the Origin, when sent, must name
// this host (or SUISHEN_PUBLIC_URL).
func (s *Server) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return site == "same-origin"
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	pu, err := url.Parse(s.cfg.PublicURL)
	return err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, pu.Scheme+"://"+pu.Host)
}

// endSession signs out: the session (bearer or cookie) ends at once and the
// browser's cookies are cleared.
func (s *Server) endSession(c *echo.Context) error {
	var token string
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		token, _ = strings.CutPrefix(h, "Bearer ")
	} else if ck, err := c.Cookie(SessionCookie); err == nil {
		token = ck.Value
	}
	if !principal.IsSessionToken(token) {
		return errForbidden("only a holder session can be ended here")
	}
	hash := principal.Hash(token)
	ctx := c.Request().Context()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		if err := q.DeleteSession(ctx, hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.record(ctx, c, q, "session.end", "holder", who(c).ID, nil)
	})
	if err != nil {
		return err
	}
	s.clearSessionCookies(c)
	return c.NoContent(http.StatusNoContent)
}

// webSessionRoutes are the sign-in link and sign-out.
func (s *Server) webSessionRoutes() []route {
	return []route{
		{Method: http.MethodGet, Path: "/login/{ticket}", Summary: "Open a one-time login_url (2 minutes): sets the browser's session cookie and redirects to /me", Tag: "pages", Access: public, Handler: s.login, Status: 303},
		{Method: http.MethodDelete, Path: "/v1/me/session", Summary: "Sign out: end this session (bearer token or browser cookie) at once", Tag: "holders", Access: holderOnly, Handler: s.endSession, Status: 204},
	}
}
