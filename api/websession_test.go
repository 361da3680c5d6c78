package api

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/suishen/suishen/store/teststore"
)

// loginPath mints a session through the gateway and returns the path of
// its login_url.
func (h *harness) loginPath(gw string) string {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "person", "name": "张三", "id_number": personID}))
	u, err := url.Parse(m["login_url"].(string))
	if err != nil || !strings.HasPrefix(u.Path, "/login/slt_") || !strings.HasPrefix(m["login_url"].(string), h.cfg.PublicURL+"/login/") {
		h.t.Fatalf("login_url %v", m["login_url"])
	}
	return u.Path
}

// open requests path without following redirects, sending cookies and
// headers in pairs.
func (h *harness) open(method, path string, cookies []*http.Cookie, hdr ...string) *http.Response {
	h.t.Helper()
	return h.openAs(h.t, method, path, cookies, hdr...)
}

// openAs is open reporting to t (a fuzz target's own T).
func (h *harness) openAs(t testing.TB, method, path string, cookies []*http.Cookie, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, h.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn opens a fresh login_url and returns the browser's cookies.
func (h *harness) signIn(gw string) []*http.Cookie {
	h.t.Helper()
	res := h.open("GET", h.loginPath(gw), nil)
	sess, csrf := cookieNamed(res, SessionCookie), cookieNamed(res, CSRFCookie)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/me" || sess == nil || csrf == nil {
		h.t.Fatalf("login: %d %v", res.StatusCode, res.Header)
	}
	return []*http.Cookie{{Name: sess.Name, Value: sess.Value}, {Name: csrf.Name, Value: csrf.Value}}
}

func TestLoginURLWorksOnceAndExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		path := h.loginPath(gw)
		res := h.open("GET", path, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/me" {
			t.Fatalf("first use: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		sess, csrf := cookieNamed(res, SessionCookie), cookieNamed(res, CSRFCookie)
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || sess.MaxAge <= 0 || sess.Secure {
			t.Fatalf("session cookie %+v", sess)
		}
		if csrf == nil || csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Value == "" {
			t.Fatalf("csrf cookie %+v", csrf)
		}
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("login headers %v", res.Header)
		}
		me := h.open("GET", "/v1/me", []*http.Cookie{sess})
		if me.StatusCode != 200 {
			t.Fatalf("/v1/me with the cookie: %d", me.StatusCode)
		}

		// Twice: refused, and nothing is set.
		res = h.open("GET", path, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/me?login=invalid" || len(res.Cookies()) != 0 {
			t.Fatalf("second use: %d %q %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
		}
		// After two minutes: refused.
		late := h.loginPath(gw)
		h.clock.Add(LoginTicketTTL)
		res = h.open("GET", late, nil)
		if res.Header.Get("Location") != "/me?login=invalid" || len(res.Cookies()) != 0 {
			t.Fatalf("expired ticket: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		// Malformed and guessed tickets.
		for _, p := range []string{"/login/x", "/login/slt_" + strings.Repeat("A", 43), "/login/" + strings.Repeat("%00", 10)} {
			if res := h.open("GET", p, nil); res.Header.Get("Location") != "/me?login=invalid" || len(res.Cookies()) != 0 {
				t.Fatalf("%s: %d %q", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		// The cookie session ends at its expiry.
		h.clock.Add(h.cfg.SessionTTL)
		if me := h.open("GET", "/v1/me", []*http.Cookie{sess}); me.StatusCode != http.StatusUnauthorized {
			t.Fatalf("expired cookie session: %d", me.StatusCode)
		}
	})
}

func TestCookieSessionRefusesCrossSiteRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		ck := h.signIn(gw)
		sess, csrf := ck[0], ck[1]
		self := h.ts.URL
		post := func(hdr ...string) *http.Response { return h.open("POST", "/v1/me/codes/personal", ck, hdr...) }
		for name, hdr := range map[string][]string{
			"other origin":            {"Origin", "https://evil.example", CSRFHeader, csrf.Value},
			"cross-site fetch":        {"Sec-Fetch-Site", "cross-site", CSRFHeader, csrf.Value},
			"same-site, other origin": {"Sec-Fetch-Site", "same-site", "Origin", self, CSRFHeader, csrf.Value},
			"null origin":             {"Origin", "null", CSRFHeader, csrf.Value},
			"no origin at all":        {CSRFHeader, csrf.Value},
		} {
			if res := post(hdr...); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, res.StatusCode)
			}
		}
		if res := post("Origin", self, "Sec-Fetch-Site", "same-origin"); res.StatusCode != http.StatusForbidden {
			t.Errorf("no CSRF token: %d", res.StatusCode)
		}
		if res := post("Origin", self, CSRFHeader, "forged"); res.StatusCode != http.StatusForbidden {
			t.Errorf("wrong CSRF token: %d", res.StatusCode)
		}
		// Another session's token does not fit this session.
		other := h.signIn(gw)
		if res := post("Origin", self, CSRFHeader, other[1].Value); res.StatusCode != http.StatusForbidden {
			t.Errorf("another session's CSRF token: %d", res.StatusCode)
		}
		if res := post("Origin", self, "Sec-Fetch-Site", "same-origin", CSRFHeader, csrf.Value); res.StatusCode != 200 ||
			res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("same-origin with token: %d", res.StatusCode)
		}
		// Reading needs no token.
		if res := h.open("GET", "/v1/me/certificates", []*http.Cookie{sess}); res.StatusCode != 200 {
			t.Fatalf("GET with the cookie: %d", res.StatusCode)
		}
		// The cookie opens holder routes only.
		if res := h.open("GET", "/v1/admin/apps", ck); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("cookie on an admin route: %d", res.StatusCode)
		}
		if res := h.open("GET", "/v1/me", []*http.Cookie{{Name: SessionCookie, Value: "sst_" + strings.Repeat("A", 43)}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged cookie: %d", res.StatusCode)
		}
	})
}

func TestSignOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		ck := h.signIn(gw)
		// Cross-site sign-out is refused like any other change.
		if res := h.open("DELETE", "/v1/me/session", ck, "Origin", "https://evil.example"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site sign-out: %d", res.StatusCode)
		}
		res := h.open("DELETE", "/v1/me/session", ck, "Origin", h.ts.URL, CSRFHeader, ck[1].Value)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("sign out: %d", res.StatusCode)
		}
		if c := cookieNamed(res, SessionCookie); c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Fatalf("session cookie not cleared: %+v", c)
		}
		if res := h.open("GET", "/v1/me", ck); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after sign-out: %d", res.StatusCode)
		}
		// A bearer session signs out the same way.
		tok := h.holder(gw)
		h.must(204, h.do("DELETE", "/v1/me/session", tok, nil))
		if r := h.do("GET", "/v1/me", tok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("bearer after sign-out: %d", r.Status)
		}
	})
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	h.srv.cfg.PublicURL = "https://suishen.example"
	h.cfg.PublicURL = h.srv.cfg.PublicURL
	_, gw := h.app("identity-gateway")
	res := h.open("GET", h.loginPath(gw), nil)
	if c := cookieNamed(res, SessionCookie); c == nil || !c.Secure || !c.HttpOnly {
		t.Fatalf("session cookie behind https: %+v", c)
	}
}

// FuzzBrowserSignIn feeds arbitrary login tickets, cookies and the headers a
// page request carries: nothing is ever a 5xx, a bad ticket never sets a
// cookie, and a state change is refused unless it has this session's cookie,
// this origin and this session's CSRF token.
//
//	go test ./api -run '^$' -fuzz FuzzBrowserSignIn -fuzztime 30s
func FuzzBrowserSignIn(f *testing.F) {
	f.Add("slt_"+strings.Repeat("A", 43), "", "same-origin", "", "")
	f.Add("x", "sst_"+strings.Repeat("b", 43), "cross-site", "https://evil.example", "token")
	f.Add("slt_%2F..%2F", "sst_", "", "null", "")
	f.Add("", "\x00", "none", "http://[::1", "\xff")
	h := newHarness(f, teststore.SQLite(f))
	_, gw := h.app("identity-gateway")
	valid := h.signIn(gw)
	f.Fuzz(func(t *testing.T, ticket, cookie, fetchSite, origin, token string) {
		res := h.openAs(t, "GET", "/login/"+url.PathEscape(ticket), nil)
		if res.StatusCode >= 500 || (res.StatusCode == http.StatusSeeOther && len(res.Cookies()) != 0) {
			t.Fatalf("login %q: %d, cookies %v", ticket, res.StatusCode, res.Cookies())
		}
		req, err := http.NewRequest("POST", h.ts.URL+"/v1/me/codes/personal", nil)
		if err != nil {
			t.Fatal(err)
		}
		// Header values the HTTP client would refuse to send are not requests.
		for _, v := range []string{cookie, fetchSite, origin, token} {
			if strings.ContainsAny(v, "\r\n\x00") || !utf8.ValidString(v) {
				return
			}
		}
		req.Header.Set("Cookie", SessionCookie+"="+cookie)
		req.Header.Set("Sec-Fetch-Site", fetchSite)
		req.Header.Set("Origin", origin)
		req.Header.Set(CSRFHeader, token)
		r, err := h.ts.Client().Do(req)
		if err != nil {
			return
		}
		r.Body.Close()
		if r.StatusCode >= 500 || r.StatusCode == 200 {
			t.Fatalf("POST with cookie %q site %q origin %q token %q: %d", cookie, fetchSite, origin, token, r.StatusCode)
		}
		// The valid session with fuzzed origin headers: only this origin passes.
		res = h.openAs(t, "POST", "/v1/me/codes/personal", valid, "Sec-Fetch-Site", fetchSite, "Origin", origin, CSRFHeader, valid[1].Value)
		if res.StatusCode == 200 && !(fetchSite == "" || fetchSite == "same-origin") {
			t.Fatalf("site %q origin %q passed", fetchSite, origin)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("valid session, site %q origin %q: %d", fetchSite, origin, res.StatusCode)
		}
	})
}
