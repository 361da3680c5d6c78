package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/store/teststore"
)

// concretePath fills a route's path parameters with a placeholder.
func concretePath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") {
			seg = "x"
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

// TestHeadOnEveryGet sends HEAD beside GET to every GET route: the same
// status and headers, never 405, and no body.
func TestHeadOnEveryGet(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	n := 0
	for _, r := range h.srv.routes {
		if r.Method != http.MethodGet {
			continue
		}
		n++
		for _, tok := range []string{"", testAdminToken} {
			path := concretePath(r.Path)
			get := h.do("GET", path, tok, nil)
			head := h.do("HEAD", path, tok, nil)
			if head.Status == http.StatusMethodNotAllowed || head.Status != get.Status {
				t.Errorf("HEAD %s: %d, GET %d", path, head.Status, get.Status)
			}
			if len(head.Body) != 0 {
				t.Errorf("HEAD %s has a body of %d bytes", path, len(head.Body))
			}
			if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("HEAD %s: content type %q, GET %q", path, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d GET routes", n)
	}
	// A public GET with a body: HEAD tells its length-free headers, ETag
	// included, and answers 304 to a matching If-None-Match.
	get := h.do("GET", "/v1/trust", "", nil)
	head := h.do("HEAD", "/v1/trust", "", nil)
	if get.Status != 200 || head.Status != 200 || head.Header.Get("ETag") == "" || head.Header.Get("ETag") != get.Header.Get("ETag") {
		t.Fatalf("trust: GET %d %q, HEAD %d %q", get.Status, get.Header.Get("ETag"), head.Status, head.Header.Get("ETag"))
	}
	if r := h.do("HEAD", "/v1/trust", "", nil, "If-None-Match", get.Header.Get("ETag")); r.Status != http.StatusNotModified {
		t.Fatalf("HEAD with If-None-Match: %d", r.Status)
	}
}

// TestMethodNotAllowedCarriesAllow sends a method no route has to every
// path: 405, a problem, and Allow listing exactly the path's methods (with
// HEAD wherever GET is).
func TestMethodNotAllowedCarriesAllow(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	methods := map[string]map[string]bool{}
	for _, r := range h.srv.routes {
		if methods[r.Path] == nil {
			methods[r.Path] = map[string]bool{"OPTIONS": true}
		}
		methods[r.Path][r.Method] = true
		if r.Method == http.MethodGet {
			methods[r.Path][http.MethodHead] = true
		}
	}
	for path, want := range methods {
		res := h.do("PATCH", concretePath(path), testAdminToken, map[string]any{})
		if res.Status != http.StatusMethodNotAllowed {
			t.Errorf("PATCH %s: %d", path, res.Status)
			continue
		}
		if p := res.problem(t); p.Code != "method_not_allowed" {
			t.Errorf("PATCH %s: code %q", path, p.Code)
		}
		got := map[string]bool{}
		for _, m := range strings.Split(res.Header.Get("Allow"), ",") {
			if m = strings.TrimSpace(m); m != "" {
				got[m] = true
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("PATCH %s: Allow %q, want %v", path, res.Header.Get("Allow"), want)
		}
	}
}

// TestCORS: no CORS headers by default; with SUISHEN_CORS_ORIGINS, a
// preflight from a listed origin is answered with the methods and headers
// the API uses, a listed origin may read responses (and the headers that
// matter), and any other origin gets no CORS headers at all.
func TestCORS(t *testing.T) {
	const good, evil = "https://app.example.gov.cn", "https://evil.example"
	preflight := func(h *harness, origin string) resp {
		return h.do("OPTIONS", "/v1/verify", "", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	}

	off := newHarness(t, teststore.Backends()[0].Open(t))
	for _, r := range []resp{preflight(off, good), off.do("GET", "/v1/certificate-types", "", nil, "Origin", good)} {
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("CORS answered without SUISHEN_CORS_ORIGINS: %q", v)
		}
	}

	h := newHarnessWith(t, teststore.Backends()[0].Open(t), func(c *config.Config) { c.CORSOrigins = []string{good} })
	r := preflight(h, good)
	if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != good {
		t.Fatalf("preflight: %d %v", r.Status, r.Header)
	}
	if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
		t.Fatalf("allow methods %q", m)
	}
	ah := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
	for _, want := range []string{"authorization", "content-type", "idempotency-key"} {
		if !strings.Contains(ah, want) {
			t.Fatalf("allow headers %q lack %s", ah, want)
		}
	}
	if r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatal("credentials allowed cross-origin")
	}
	g := h.do("GET", "/v1/certificate-types", "", nil, "Origin", good)
	if g.Status != 200 || g.Header.Get("Access-Control-Allow-Origin") != good ||
		!strings.Contains(g.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") &&
			!strings.Contains(g.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Fatalf("simple GET: %d %v", g.Status, g.Header)
	}
	for _, r := range []resp{preflight(h, evil), h.do("GET", "/v1/certificate-types", "", nil, "Origin", evil)} {
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("origin %s allowed: %q", evil, v)
		}
	}
}

// TestJSONBodiesEndWithNewline checks every kind of JSON body the API
// writes: a handler's, a created resource, an idempotent replay, a list, a
// problem (404, 405, 422, 401) and the OpenAPI document.
func TestJSONBodiesEndWithNewline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		dept := map[string]any{"name": "市市场监督管理局", "uscc": uscc2, "level": "地市级", "certificate_types": []string{typeLicence}}
		cases := map[string]resp{
			"created":     h.do("POST", "/v1/admin/departments", testAdminToken, dept, "Idempotency-Key", "k1"),
			"replayed":    h.do("POST", "/v1/admin/departments", testAdminToken, dept, "Idempotency-Key", "k1"),
			"list":        h.do("GET", "/v1/admin/departments", testAdminToken, nil),
			"handler":     h.do("GET", "/healthz", "", nil),
			"openapi":     h.do("GET", "/openapi.json", "", nil),
			"404 problem": h.do("GET", "/v1/nothing-here", "", nil),
			"405 problem": h.do("PATCH", "/healthz", "", nil),
			"422 problem": h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{"bogus": 1}),
			"401 problem": h.do("GET", "/v1/admin/departments", "", nil),
		}
		for name, r := range cases {
			if !strings.Contains(r.Header.Get("Content-Type"), "json") || len(r.Body) == 0 {
				t.Errorf("%s: %d %q %q", name, r.Status, r.Header.Get("Content-Type"), r.Body)
				continue
			}
			if !bytes.HasSuffix(r.Body, []byte("}\n")) {
				t.Errorf("%s: body does not end with a newline: %q", name, r.Body[max(0, len(r.Body)-20):])
			}
		}
	})
}

// TestAuditNewestFirst: GET /v1/admin/audit lists the newest entries first
// and pages on in that order; order=asc gives the oldest first; a cursor of
// one order is refused by the other.
func TestAuditNewestFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		for _, u := range []string{uscc1, uscc2, uscc3} {
			h.department(u)
		}
		ids := func(m map[string]any) []float64 {
			var out []float64
			for _, it := range m["items"].([]any) {
				out = append(out, it.(map[string]any)["id"].(float64))
			}
			return out
		}
		first := h.must(200, h.do("GET", "/v1/admin/audit?limit=2", testAdminToken, nil))
		if got := first["items"].([]any)[0].(map[string]any)["action"]; got != "department.create" {
			t.Fatalf("newest entry is %v, want the last department.create", got)
		}
		var all []float64
		cursor := ""
		for page := 0; page < 20; page++ {
			m := h.must(200, h.do("GET", "/v1/admin/audit?limit=2"+cursor, testAdminToken, nil))
			all = append(all, ids(m)...)
			nc, _ := m["next_cursor"].(string)
			if nc == "" {
				break
			}
			cursor = "&cursor=" + nc
		}
		asc := h.must(200, h.do("GET", "/v1/admin/audit?order=asc&limit=500", testAdminToken, nil))
		up := ids(asc)
		if len(all) != len(up) || len(all) < 6 {
			t.Fatalf("newest first gave %d entries, oldest first %d", len(all), len(up))
		}
		for i := range all {
			if all[i] != up[len(up)-1-i] || i > 0 && all[i] >= all[i-1] {
				t.Fatalf("newest first %v, oldest first %v", all, up)
			}
		}
		if d := h.must(200, h.do("GET", "/v1/admin/audit?order=desc&limit=500", testAdminToken, nil)); fmt.Sprint(ids(d)) != fmt.Sprint(all) {
			t.Fatalf("order=desc %v, default %v", ids(d), all)
		}
		descCursor := first["next_cursor"].(string)
		ascCursor := h.must(200, h.do("GET", "/v1/admin/audit?order=asc&limit=1", testAdminToken, nil))["next_cursor"].(string)
		for _, q := range []string{"?order=asc&cursor=" + descCursor, "?cursor=" + ascCursor, "?order=newest"} {
			r := h.do("GET", "/v1/admin/audit"+q, testAdminToken, nil)
			if r.Status != 422 {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
			p := r.problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Field != "cursor" && p.Errors[0].Field != "order" {
				t.Fatalf("%s: %+v", q, p)
			}
		}
	})
}

// TestBatchFieldPaths: a batch whose items carry unknown fields or values
// of the wrong type is refused with every bad field named by its item
// (items[1].bogus, items[3].holder.kind), not just the first one met.
func TestBatchFieldPaths(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		items := []any{licenceBody("P-0"), licenceBody("P-1"), licenceBody("P-2"), licenceBody("P-3")}
		items[1].(map[string]any)["bogus"] = true
		items[3].(map[string]any)["holder"].(map[string]any)["kind"] = 7
		items[3].(map[string]any)["long_term"] = "yes"
		r := h.do("POST", "/v1/certificates/batch", dep, map[string]any{"items": items})
		if r.Status != 422 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		p := r.problem(t)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field+"/"+e.Code)
		}
		want := "items[1].bogus/unknown_field items[3].holder.kind/type items[3].long_term/type"
		if strings.Join(got, " ") != want {
			t.Fatalf("errors %v, want %s", got, want)
		}
		// Nothing of the batch was issued.
		if l := h.must(200, h.do("GET", "/v1/certificates", dep, nil)); len(l["items"].([]any)) != 0 {
			t.Fatalf("a refused batch issued %v", l["items"])
		}
		// A single request names nested fields by path as well.
		one := licenceBody("P-9")
		one["holder"].(map[string]any)["nickname"] = "x"
		p = h.do("POST", "/v1/certificates", dep, one).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "holder.nickname" || p.Errors[0].Code != "unknown_field" {
			t.Fatalf("single: %+v", p)
		}
	})
}
