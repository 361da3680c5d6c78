package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// TestOpenAPIMatchesRoutes proves both ways that /openapi.json documents
// exactly the routes the server registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		doc := h.must(200, h.do("GET", "/openapi.json", "", nil))
		documented := map[string]bool{}
		for p, ops := range doc["paths"].(map[string]any) {
			for m := range ops.(map[string]any) {
				documented[strings.ToUpper(m)+" "+echoPath(p)] = true
			}
		}
		registered := map[string]bool{}
		heads := map[string]bool{}
		for _, r := range h.srv.echo.Router().Routes() {
			if r.Method == "HEAD" {
				// HEAD answers beside every GET; the document says so once
				// (info.description) instead of doubling every GET.
				heads[r.Path] = true
				continue
			}
			registered[r.Method+" "+r.Path] = true
		}
		for k := range registered {
			if p, ok := strings.CutPrefix(k, "GET "); ok && !heads[p] {
				t.Errorf("GET %s does not answer HEAD", p)
			}
		}
		for p := range heads {
			if !registered["GET "+p] {
				t.Errorf("HEAD %s is registered without its GET", p)
			}
		}
		for k := range registered {
			if !documented[k] {
				t.Errorf("route %s is registered but not in /openapi.json", k)
			}
		}
		for k := range documented {
			if !registered[k] {
				t.Errorf("/openapi.json documents %s, which is not registered", k)
			}
		}
		if len(registered) < 10 {
			t.Fatalf("only %d routes registered", len(registered))
		}
		if doc["openapi"] != "3.1.0" {
			t.Fatalf("openapi %v", doc["openapi"])
		}
	})
}

// TestAuthorizationMatrix calls every route as every kind of principal and
// checks the decision against the route's access policy: anonymous callers
// get 401 on protected routes, the wrong principal 403, the right one
// neither.
func TestAuthorizationMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, verifyApp := h.app("verify")
		_, allScopes := h.app("verify", "use", "cases", "identity-gateway")
		_, ven := h.venue()
		hol := h.holder(gw)
		callers := []struct {
			name  string
			token string
			kind  store.PrincipalKind
			scope []string
		}{
			{"anonymous", "", "", nil},
			{"admin", testAdminToken, store.KindAdmin, nil},
			{"department", dep, store.KindDepartment, nil},
			{"app-gateway", gw, store.KindApp, []string{"identity-gateway"}},
			{"app-verify", verifyApp, store.KindApp, []string{"verify"}},
			{"app-all", allScopes, store.KindApp, []string{"verify", "use", "cases", "identity-gateway"}},
			{"venue", ven, store.KindVenue, nil},
			{"holder", hol, store.KindHolder, nil},
		}
		// Signing out ends the holder's session: call it after every other
		// route, wherever it sits in the table.
		signOut := func(r route) bool { return r.Method == http.MethodDelete && r.Path == "/v1/me/session" }
		routes := slices.Clone(h.srv.routes)
		slices.SortStableFunc(routes, func(a, b route) int {
			switch {
			case signOut(a) == signOut(b):
				return 0
			case signOut(a):
				return 1
			}
			return -1
		})
		if !signOut(routes[len(routes)-1]) {
			t.Fatal("the sign-out route is not in the table")
		}
		for _, r := range routes {
			path := strings.NewReplacer("{id}", "x", "{code}", "x", "{kid}", "x").Replace(r.Path)
			for _, c := range callers {
				var body any
				if r.Method == http.MethodPost || r.Method == http.MethodPut {
					body = map[string]any{}
				}
				res := h.do(r.Method, path, c.token, body)
				var allowed bool
				switch {
				case r.Access.public():
					allowed = true
				case c.token == "":
					allowed = false
				default:
					for _, k := range r.Access.kinds {
						if k == c.kind && (k != store.KindApp || r.Access.scope == "" || contains(c.scope, r.Access.scope)) {
							allowed = true
						}
					}
				}
				denied := res.Status == 401 || (res.Status == 403 && strings.Contains(string(res.Body), `"code":"forbidden"`))
				switch {
				case allowed && denied:
					t.Errorf("%s %s as %s: %d, want access: %s", r.Method, r.Path, c.name, res.Status, res.Body)
				case !allowed && c.token == "" && res.Status != 401:
					t.Errorf("%s %s anonymous: %d, want 401", r.Method, r.Path, res.Status)
				case !allowed && c.token != "" && res.Status != 403:
					t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, c.name, res.Status)
				}
				if res.Status >= 500 {
					t.Errorf("%s %s as %s: %d: %s", r.Method, r.Path, c.name, res.Status, res.Body)
				}
			}
		}
	})
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestProblemsForBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		cases := []struct {
			name, method, path, token string
			body                      any
			hdr                       []string
			status                    int
			code, field               string
		}{
			{"unknown route", "GET", "/v1/nothing", "", nil, nil, 404, "route_not_found", ""},
			{"wrong method", "DELETE", "/v1/admin/departments", testAdminToken, nil, nil, 405, "method_not_allowed", ""},
			{"no token", "GET", "/v1/admin/departments", "", nil, nil, 401, "unauthenticated", ""},
			{"bad token", "GET", "/v1/admin/departments", "nope", nil, nil, 401, "invalid_token", ""},
			{"forged api key", "GET", "/v1/admin/departments", "ssk_dep_aaaaaaaaaaaaaaaa." + strings.Repeat("a", 43), nil, nil, 401, "invalid_token", ""},
			{"malformed json", "POST", "/v1/admin/departments", testAdminToken, `{"name":`, nil, 400, "malformed_json", ""},
			{"two values", "POST", "/v1/admin/departments", testAdminToken, `{} {}`, nil, 400, "malformed_json", ""},
			{"unknown field", "POST", "/v1/admin/departments", testAdminToken, `{"name":"x","bogus":1}`, nil, 422, "validation_failed", "bogus"},
			{"wrong type", "POST", "/v1/admin/departments", testAdminToken, `{"name":5}`, nil, 422, "validation_failed", "name"},
			{"bad uscc", "POST", "/v1/admin/departments", testAdminToken, map[string]any{"name": "x", "uscc": "91350100M000100Y44", "level": "省级"}, nil, 422, "validation_failed", "uscc"},
			{"bad level", "POST", "/v1/admin/departments", testAdminToken, map[string]any{"name": "x", "uscc": uscc1, "level": "galactic"}, nil, 422, "validation_failed", "level"},
			{"bad type code", "POST", "/v1/admin/departments", testAdminToken, map[string]any{"name": "x", "uscc": uscc1, "level": "省级", "certificate_types": []string{"nope"}}, nil, 422, "validation_failed", "certificate_types[0]"},
			{"uncatalogued type", "POST", "/v1/admin/departments", testAdminToken, map[string]any{"name": "x", "uscc": uscc1, "level": "省级", "certificate_types": []string{"11100000000021001C099"}}, nil, 422, "validation_failed", "certificate_types[0]"},
			{"bad app uscc", "POST", "/v1/admin/apps", testAdminToken, map[string]any{"name": "x", "uscc": "91350100m000100Y43", "scopes": []string{"verify"}}, nil, 422, "validation_failed", "uscc"},
			{"bad scope", "POST", "/v1/admin/apps", testAdminToken, map[string]any{"name": "x", "uscc": uscc1, "scopes": []string{"root"}}, nil, 422, "validation_failed", "scopes[0]"},
			{"bad area code", "POST", "/v1/admin/venues", testAdminToken, map[string]any{"name": "x", "address": "y", "area_code": "31", "owner_uscc": uscc1}, nil, 422, "validation_failed", "area_code"},
			{"bad id number", "POST", "/v1/sessions", testAdminToken, map[string]any{"kind": "person", "name": "张三", "id_number": "110105194912310021"}, nil, 422, "validation_failed", "id_number"},
			{"future birth", "POST", "/v1/sessions", testAdminToken, map[string]any{"kind": "person", "name": "张三", "id_number": futureID()}, nil, 422, "validation_failed", "id_number"},
			{"bad limit", "GET", "/v1/admin/departments?limit=0", testAdminToken, nil, nil, 422, "validation_failed", "limit"},
			{"bad cursor", "GET", "/v1/admin/departments?cursor=!!!", testAdminToken, nil, nil, 422, "validation_failed", "cursor"},
		}
		for _, c := range cases {
			res := h.do(c.method, c.path, c.token, c.body, c.hdr...)
			if res.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, res.Status, c.status, res.Body)
				continue
			}
			p := res.problem(t)
			if p.Code != c.code {
				t.Errorf("%s: code %q, want %q", c.name, p.Code, c.code)
			}
			if p.RequestID == "" || res.Header.Get("X-Request-Id") != p.RequestID {
				t.Errorf("%s: request id %q vs header %q", c.name, p.RequestID, res.Header.Get("X-Request-Id"))
			}
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
				t.Errorf("%s: errors %+v, want field %q", c.name, p.Errors, c.field)
			}
			if strings.Contains(string(res.Body), "11010519") {
				t.Errorf("%s: the problem repeats the ID number: %s", c.name, res.Body)
			}
		}
		// Wrong content type.
		req, _ := http.NewRequest("POST", h.ts.URL+"/v1/admin/departments", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		req.Header.Set("Content-Type", "text/plain")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 415 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("text/plain body: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		// Oversize body.
		big := `{"name":"` + strings.Repeat("x", int(h.cfg.BodyLimit)) + `"}`
		r := h.do("POST", "/v1/admin/departments", testAdminToken, big)
		if r.Status != 413 || r.problem(t).Code != "body_too_large" {
			t.Errorf("oversize: %d %s", r.Status, r.Body)
		}
	})
}

// futureID is a valid-looking ID number born tomorrow (relative to the
// harness clock's date, 2026-11-27).
func futureID() string {
	first := "11010520261128001"
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range first {
		sum += int(first[i]-'0') * w[i]
	}
	return first + string("10X98765432"[sum%11])
}

func TestPrincipalsAndSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		_, noGW := h.app("verify")
		hol := h.holder(gw)
		me := h.must(200, h.do("GET", "/v1/me", hol, nil))
		if me["masked_name"] != "张*" || me["kind"] != "person" || len(me["subject"].(string)) != 26 {
			t.Fatalf("me: %v", me)
		}
		// The same person gets the same pseudonymous subject.
		if again := h.must(200, h.do("GET", "/v1/me", h.holder(gw), nil)); again["subject"] != me["subject"] {
			t.Fatal("subject is not stable")
		}
		if r := h.do("POST", "/v1/sessions", noGW, map[string]any{"kind": "person", "name": "张三", "id_number": personID}); r.Status != 403 {
			t.Fatalf("app without identity-gateway minted a session: %d", r.Status)
		}
		// Enterprise holders use their USCC.
		h.must(201, h.do("POST", "/v1/sessions", testAdminToken, map[string]any{"kind": "enterprise", "name": "某某有限公司", "id_number": uscc1}))
		// Sessions expire.
		h.clock.Add(h.cfg.SessionTTL + time.Second)
		if r := h.do("GET", "/v1/me", hol, nil); r.Status != 401 {
			t.Fatalf("expired session: %d", r.Status)
		}
		// API keys are stored only as hashes: the raw key appears nowhere.
		ds := h.must(200, h.do("GET", "/v1/admin/departments", testAdminToken, nil))
		if strings.Contains(fmt.Sprint(ds), "ssk_") {
			t.Fatal("a list shows an API key")
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		body := map[string]any{"name": "市交通委", "uscc": uscc3, "level": "地市级", "certificate_types": []string{}}
		a := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, body, "Idempotency-Key", "k1"))
		b := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, body, "Idempotency-Key", "k1"))
		if a["id"] != b["id"] || a["api_key"] != b["api_key"] {
			t.Fatalf("replay differs: %v vs %v", a, b)
		}
		// The replayed key still works.
		if r := h.do("GET", "/v1/me", b["api_key"].(string), nil); r.Status != 403 {
			t.Fatalf("replayed key: %d", r.Status)
		}
		body["name"] = "别的名字"
		if r := h.do("POST", "/v1/admin/departments", testAdminToken, body, "Idempotency-Key", "k1"); r.Status != 422 || r.problem(t).Code != "idempotency_key_reused" {
			t.Fatalf("reused key: %d %s", r.Status, r.Body)
		}
		// Without the key, a second department with the same USCC conflicts.
		if r := h.do("POST", "/v1/admin/departments", testAdminToken, body); r.Status != 409 || r.problem(t).Errors[0].Field != "uscc" {
			t.Fatalf("duplicate USCC: %d %s", r.Status, r.Body)
		}
		// Concurrent retries with one key create one department.
		body = map[string]any{"name": "市卫健委", "uscc": uscc1, "level": "地市级"}
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := h.do("POST", "/v1/admin/departments", testAdminToken, body, "Idempotency-Key", "k2")
				if r.Status == 201 {
					ids[i] = r.json(t)["id"].(string)
				} else {
					t.Errorf("concurrent retry: %d %s", r.Status, r.Body)
				}
			}(i)
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent retries created different departments: %v", ids)
			}
		}
	})
}

func TestPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		for i := 0; i < 5; i++ {
			h.venue()
		}
		var seen []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			m := h.must(200, h.do("GET", "/v1/admin/venues?limit=2"+cursor, testAdminToken, nil))
			for _, it := range m["items"].([]any) {
				seen = append(seen, it.(map[string]any)["id"].(string))
			}
			nc, _ := m["next_cursor"].(string)
			if nc == "" {
				break
			}
			cursor = "&cursor=" + nc
		}
		if len(seen) != 5 || !sort.StringsAreSorted(seen) {
			t.Fatalf("pages gave %v", seen)
		}
	})
}

func TestAuditLogRecordsAndVerifies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		// What the server recorded at start (anchor and code keys, then
		// whatever it seeds), before this test does anything.
		start := len(h.must(200, h.do("GET", "/v1/admin/audit?order=asc&limit=100", testAdminToken, nil))["items"].([]any))
		depID, _ := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		h.holder(gw)
		ctx := context.Background()
		anchor, _ := h.srv.deps.Keys.Signer(ctx, store.RoleAnchor, "")
		sealer := &audit.Sealer{Store: h.st, Now: h.clock.Now, Anchor: func() audit.Signer { return anchor }}
		n, err := sealer.SealOnce(ctx)
		// Then the department, its key, the app and the session.
		if err != nil || n != start+4 {
			t.Fatalf("sealed %d, %v; want %d", n, err, start+4)
		}
		rep, err := audit.Verify(ctx, h.st, audit.Options{Anchors: map[string]*signing.PublicKey{anchor.KeyID(): anchor.Public()},
			Now: h.clock.Now(), Grace: time.Minute})
		if err != nil || !rep.OK() || rep.Entries != int64(n) || rep.Checkpoints != 1 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		list := h.must(200, h.do("GET", "/v1/admin/audit?order=asc", testAdminToken, nil))
		items := list["items"].([]any)
		var actions []string
		for _, it := range items {
			e := it.(map[string]any)
			actions = append(actions, e["action"].(string))
			if e["action"] == "department.create" && (e["object_id"] != depID || e["actor_kind"] != "admin") {
				t.Fatalf("department entry %v", e)
			}
		}
		if len(actions) != n || strings.Join(actions[:2], ",") != "key.create,key.create" ||
			strings.Join(actions[start:], ",") != "key.create,department.create,app.create,session.create" {
			t.Fatalf("actions %v", actions)
		}
		if strings.Contains(string(mustJSON(list)), personID) {
			t.Fatal("the audit log holds an ID number")
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.must(200, h.do("GET", "/healthz", "", nil))
		if m := h.must(200, h.do("GET", "/readyz", "", nil)); m["status"] != "ok" {
			t.Fatalf("readyz %v", m)
		}
		h.do("GET", "/v1/admin/departments", testAdminToken, nil)
		h.do("GET", "/v1/does-not-exist", "", nil)
		r := h.do("GET", "/metrics", "", nil)
		body := string(r.Body)
		for _, want := range []string{
			`suishen_http_requests_total{method="GET",route="/v1/admin/departments",status="200"} 1`,
			`suishen_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`suishen_http_request_duration_seconds_bucket{method="GET",route="/v1/admin/departments"`,
			`suishen_db_pool_open_connections`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
