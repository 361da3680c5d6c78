package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/verifier"
)

// Probes are never rate-limited: a client that used up its public rate on
// another endpoint still gets its /healthz and /readyz answers.
func TestProbesNotRateLimited(t *testing.T) {
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			// One request a second (burst 2): the limiter follows the wall
			// clock, and even a slow machine outruns that rate.
			h := newHarnessWith(t, b.Open(t), func(c *config.Config) { c.PublicRate = 1 })
			limited := false
			for i := 0; i < 4*h.cfg.PublicRate+10 && !limited; i++ {
				limited = h.do("GET", "/v1/certificate-types?limit=1", "", nil).Status == 429
			}
			if !limited {
				t.Fatal("the public endpoint was never rate-limited; the test cannot show anything")
			}
			for i := 0; i < 4*h.cfg.PublicRate+10; i++ {
				for _, p := range []string{"/healthz", "/readyz"} {
					if r := h.do("GET", p, "", nil); r.Status != 200 {
						t.Fatalf("%s answered %d after the client was rate-limited: %s", p, r.Status, r.Body)
					}
				}
			}
		})
	}
}

// verifierNow is a verifier holding this node's current bundle, pinned to
// the current anchor (as a scanner that re-pinned after a rotation).
func (h *harness) currentVerifier(t *testing.T) *verifier.Verifier {
	t.Helper()
	bundle := h.do("GET", "/v1/trust", "", nil)
	anchor, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(string(bundle.Body), anchor.Public(), verifier.Options{Now: h.clock.Now, Lists: h.listSource(t)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (h *harness) activeKID(t *testing.T, role store.KeyRole, uscc string) string {
	t.Helper()
	s, err := h.srv.deps.Keys.Signer(context.Background(), role, uscc)
	if err != nil {
		t.Fatal(err)
	}
	return s.KeyID()
}

// After the anchor is rotated and the old one compromised, certificates
// still verify at once: the status lists are re-signed by the new anchor
// (before, the cached lists signed by the compromised anchor made every
// certificate "unknown" for up to 4.8 h).
func TestAnchorCompromiseResignsStatusLists(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("A-1")))
		jws := cert["jws"].(string)
		if r := h.currentVerifier(t).VerifyCertificate(jws); r.Result != verifier.Valid {
			t.Fatalf("before: %+v", r)
		}
		old := h.activeKID(t, store.RoleAnchor, "")
		h.must(201, h.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "anchor"}))
		h.clock.Add(time.Minute)
		if r := h.currentVerifier(t).VerifyCertificate(jws); r.Result != verifier.Valid {
			t.Fatalf("after rotation: %+v", r)
		}
		h.must(200, h.do("POST", "/v1/admin/keys/"+old+"/compromised", testAdminToken, nil))
		h.clock.Add(time.Minute)
		if r := h.currentVerifier(t).VerifyCertificate(jws); r.Result != verifier.Valid {
			t.Fatalf("after the old anchor's compromise: %+v", r)
		}
		// And the online verifier agrees.
		_, app := h.app("verify")
		if v := h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"jws": jws})); v["result"] != "valid" {
			t.Fatalf("online: %v", v)
		}
	})
}

// Changing a department's types never changes the verdict on certificates
// issued while a type was authorised (before: invalid
// key_not_trusted_for_type); an empty or missing list is a 422, not a wipe.
func TestDepartmentTypeChangesKeepVerdicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		id, dep := h.department(uscc2)
		_, app := h.app("verify")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("T-1")))
		jws := cert["jws"].(string)
		path := "/v1/admin/departments/" + id + "/certificate-types"
		for _, body := range []any{map[string]any{"certificate_types": []string{}}, map[string]any{}, map[string]any{"certificate_types": nil}} {
			r := h.do("PUT", path, testAdminToken, body)
			if p := r.problem(t); r.Status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "certificate_types" {
				t.Fatalf("PUT %v: %d %s", body, r.Status, r.Body)
			}
		}
		h.clock.Add(time.Minute)
		h.must(200, h.do("PUT", path, testAdminToken, map[string]any{"certificate_types": []string{typeLicence}}))
		h.clock.Add(time.Minute)
		if r := h.currentVerifier(t).VerifyCertificate(jws); r.Result != verifier.Valid {
			t.Fatalf("a certificate issued while its type was authorised, after the type was withdrawn: %+v", r)
		}
		if v := h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"jws": jws})); v["result"] != "valid" {
			t.Fatalf("online: %v", v)
		}
		if r := h.do("POST", "/v1/certificates", dep, idCardBody("T-2")); r.Status != 403 {
			t.Fatalf("issuing a withdrawn type: %d %s", r.Status, r.Body)
		}
		// The JWKS carries the periods verifiers judge by.
		found := false
		for _, k := range h.must(200, h.do("GET", "/.well-known/jwks.json", "", nil))["keys"].([]any) {
			m := k.(map[string]any)
			if m["key_role"] != "department" {
				continue
			}
			for _, p := range m["certificate_type_periods"].([]any) {
				pm := p.(map[string]any)
				if pm["type_code"] == typeIDCard && pm["until"] != nil {
					found = true
				}
			}
		}
		if !found {
			t.Fatal("the JWKS does not show the ended period")
		}
		// Re-authorised: new certificates verify, and so does the old one.
		h.clock.Add(time.Minute)
		h.must(200, h.do("PUT", path, testAdminToken, map[string]any{"certificate_types": []string{typeLicence, typeIDCard}}))
		c2 := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("T-3")))
		v := h.currentVerifier(t)
		for _, j := range []string{jws, c2["jws"].(string)} {
			if r := v.VerifyCertificate(j); r.Result != verifier.Valid {
				t.Fatalf("after re-authorisation: %+v", r)
			}
		}
	})
}

// twoNodes starts two API servers on one database, each with its own key
// ring, bundle and caches (as two nodes behind a load balancer). Like
// forEachBackend, the test is parallel and so are its backends.
func twoNodes(t *testing.T, f func(t *testing.T, a, b *harness)) {
	t.Parallel()
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			st := be.Open(t)
			a := newHarness(t, st)
			b := newHarness(t, st)
			f(t, a, b)
		})
	}
}

// A compromise made on one node is effective on the other before it signs
// again with that key (before: it kept signing for up to its 5 s reload
// interval).
func TestCompromiseFailsClosedAcrossNodes(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *harness) {
		_, dep := a.department(uscc2)
		_, venue := a.venue()
		_, gw := a.app("identity-gateway")
		holder := a.holder(gw)
		first := b.must(201, b.do("POST", "/v1/certificates", dep, idCardBody("N-1")))
		b.must(200, b.do("GET", "/v1/venue/code", venue, nil))
		b.must(201, b.do("POST", "/v1/me/codes/offline", holder, nil))
		depKID := first["key_id"].(string)
		codeKID := a.activeKID(t, store.RoleCode, "")

		a.must(200, a.do("POST", "/v1/admin/keys/"+depKID+"/compromised", testAdminToken, nil))
		a.must(200, a.do("POST", "/v1/admin/keys/"+codeKID+"/compromised", testAdminToken, nil))

		// Node b has not reloaded its keys; it must not sign with them.
		next := b.must(201, b.do("POST", "/v1/certificates", dep, idCardBody("N-2")))
		if next["key_id"] == depKID {
			t.Fatal("node b signed a certificate with a department key compromised on node a")
		}
		a.clock.Add(2 * time.Second) // node a looks for new status lists at most once a second
		v := a.currentVerifier(t)
		if r := v.VerifyCertificate(next["jws"].(string)); r.Result != verifier.Valid {
			t.Fatalf("certificate from node b: %+v", r)
		}
		if r := v.VerifyCertificate(first["jws"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonKeyCompromised) {
			t.Fatalf("certificate signed by the compromised key: %+v", r)
		}
		for _, c := range []struct {
			what string
			r    resp
		}{
			{"venue code", b.do("GET", "/v1/venue/code", venue, nil)},
			{"personal code", b.do("POST", "/v1/me/codes/personal", holder, nil)},
			{"offline code", b.do("POST", "/v1/me/codes/offline", holder, nil)},
		} {
			m := b.must(c.r.Status, c.r)
			if c.r.Status/100 != 2 {
				t.Fatalf("%s: %d %s", c.what, c.r.Status, c.r.Body)
			}
			if r := v.VerifyCode(m["code"].(string)); r.Result != verifier.Valid {
				t.Fatalf("%s from node b after the code key's compromise: %+v", c.what, r)
			}
		}
		// Node b's own bundle says so too.
		if r := b.currentVerifier(t).VerifyCertificate(first["jws"].(string)); r.Result != verifier.Invalid {
			t.Fatalf("node b's bundle: %+v", r)
		}
	})
}

// Stored static codes follow their key: a venue's or enterprise's code is
// signed again when the code key is rotated or compromised, and never
// outlives the time a retired code key keeps verifying (before: the stored
// 10-year code was handed out unchanged — invalid after a compromise,
// unknown 181 days after a rotation).
func TestStaticCodesFollowTheirKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, venue := h.venue()
		_, gw := h.app("identity-gateway")
		ent := func() string { // sessions are short-lived; the clock jumps
			return h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_number": uscc1}))["token"].(string)
		}
		get := func(what string) (string, map[string]any) {
			t.Helper()
			var m map[string]any
			if what == "venue" {
				m = h.must(200, h.do("GET", "/v1/venue/code", venue, nil))
			} else {
				m = h.must(200, h.do("POST", "/v1/me/codes/enterprise", ent(), nil))
			}
			exp, err := time.Parse(time.RFC3339, m["expires_at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if life := exp.Sub(h.clock.Now()); life > keyring.Retention[store.RoleCode] {
				t.Fatalf("%s code lives %s, longer than a retired code key verifies (%s)", what, life, keyring.Retention[store.RoleCode])
			}
			if r := h.currentVerifier(t).VerifyCode(m["code"].(string)); r.Result != verifier.Valid {
				t.Fatalf("%s code: %+v", what, r)
			}
			return m["code"].(string), m
		}
		for _, what := range []string{"venue", "enterprise"} {
			before, m0 := get(what)
			again, _ := get(what)
			if again != before {
				t.Fatalf("%s code changed without a key event", what)
			}
			h.must(201, h.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "code"}))
			rotated, m1 := get(what)
			if rotated == before || m1["generation"] != m0["generation"] {
				t.Fatalf("%s code after rotation: same text %v, generation %v → %v", what, rotated == before, m0["generation"], m1["generation"])
			}
			// Long after the old key left trust, the code handed out verifies.
			h.clock.Add(200 * 24 * time.Hour)
			get(what)
			kid := h.activeKID(t, store.RoleCode, "")
			h.must(200, h.do("POST", "/v1/admin/keys/"+kid+"/compromised", testAdminToken, nil))
			after, _ := get(what)
			if r := h.currentVerifier(t).VerifyCode(before); r.Result == verifier.Valid {
				t.Fatalf("the first %s code is still valid: %+v", what, r)
			}
			_ = after
		}
	})
}

// After a department key's compromise the public status and the wallet say
// what verifiers say (before: "valid"), and the department gets the list of
// certificates to re-issue; renewing one takes it off the list.
func TestCompromiseShowsInStatusWalletAndReissueList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, other := h.department(uscc3)
		_, gw := h.app("identity-gateway")
		holder := h.holder(gw)
		var ids []string
		for _, n := range []string{"R-1", "R-2", "R-3"} {
			ids = append(ids, h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody(n)))["id"].(string))
		}
		h.must(201, h.do("POST", "/v1/certificates", other, idCardBody("O-1")))
		st := h.must(200, h.do("GET", "/v1/certificates/"+ids[0]+"/status", "", nil))
		if st["status"] != "valid" || st["verify_result"] != "valid" {
			t.Fatalf("status before: %v", st)
		}
		if l := h.must(200, h.do("GET", "/v1/certificates/to-reissue", dep, nil))["items"].([]any); len(l) != 0 {
			t.Fatalf("to re-issue before any compromise: %v", l)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+ids[2]+"/revoke", dep, map[string]any{"reason": "错误签发"}))
		kid := h.activeKID(t, store.RoleDepartment, uscc2)
		h.must(200, h.do("POST", "/v1/admin/keys/"+kid+"/compromised", testAdminToken, nil))

		want := h.currentVerifier(t).VerifyCertificate(h.must(200, h.do("GET", "/v1/certificates/"+ids[0], dep, nil))["jws"].(string))
		if want.Result != verifier.Invalid {
			t.Fatalf("verifier: %+v", want)
		}
		st = h.must(200, h.do("GET", "/v1/certificates/"+ids[0]+"/status", "", nil))
		if st["verify_result"] != "invalid" || !hasReason(st, verifier.ReasonKeyCompromised) {
			t.Fatalf("public status after compromise: %v", st)
		}
		for _, it := range h.must(200, h.do("GET", "/v1/me/certificates", holder, nil))["items"].([]any) {
			m := it.(map[string]any)
			wantResult := "invalid"
			if m["issuer_uscc"] == uscc3 {
				wantResult = "valid"
			}
			if m["verify_result"] != wantResult {
				t.Fatalf("wallet entry %v: verify_result %v, want %s", m["id"], m["verify_result"], wantResult)
			}
		}
		// Paginated; the revoked one is not in effect; the other department sees none.
		p1 := h.must(200, h.do("GET", "/v1/certificates/to-reissue?limit=1", dep, nil))
		if len(p1["items"].([]any)) != 1 || p1["next_cursor"] == nil {
			t.Fatalf("page 1: %v", p1)
		}
		p2 := h.must(200, h.do("GET", "/v1/certificates/to-reissue?limit=1&cursor="+p1["next_cursor"].(string), dep, nil))
		got := []any{p1["items"].([]any)[0].(map[string]any)["id"], p2["items"].([]any)[0].(map[string]any)["id"]}
		if len(p2["items"].([]any)) != 1 || got[0] == got[1] || got[0] == ids[2] || got[1] == ids[2] {
			t.Fatalf("to re-issue: %v then %v", p1, p2)
		}
		if l := h.must(200, h.do("GET", "/v1/certificates/to-reissue", other, nil))["items"].([]any); len(l) != 0 {
			t.Fatalf("another department's list: %v", l)
		}
		if r := h.do("GET", "/v1/certificates/to-reissue", holder, nil); r.Status != 403 {
			t.Fatalf("a holder asks for the list: %d", r.Status)
		}
		if r := h.do("GET", "/v1/certificates/to-reissue?limit=0", dep, nil); r.Status != 422 {
			t.Fatalf("limit=0: %d", r.Status)
		}
		renewed := h.must(201, h.do("POST", "/v1/certificates/"+ids[0]+"/renew", dep, map[string]any{"reason": "密钥泄露后重签"}))
		if r := h.currentVerifier(t).VerifyCertificate(renewed["jws"].(string)); r.Result != verifier.Valid {
			t.Fatalf("renewed: %+v", r)
		}
		left := h.must(200, h.do("GET", "/v1/certificates/to-reissue", dep, nil))["items"].([]any)
		if len(left) != 1 || left[0].(map[string]any)["id"] != ids[1] {
			t.Fatalf("after renewing one: %v", left)
		}
	})
}

func hasReason(m map[string]any, code string) bool {
	rs, _ := m["reasons"].([]any)
	for _, r := range rs {
		if r.(map[string]any)["code"] == code {
			return true
		}
	}
	return false
}

// statusRecorder remembers the status the server wrote for each request,
// by Idempotency-Key, whether or not the client was still there to read it.
type statusRecorder struct {
	mu       sync.Mutex
	status   map[string]int
	inflight atomic.Int64
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int)        { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (sr *statusRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr.inflight.Add(1)
		defer sr.inflight.Add(-1)
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		sr.mu.Lock()
		sr.status[r.Header.Get("Idempotency-Key")] = sw.status
		sr.mu.Unlock()
	})
}

// settle waits until no request has been in flight for a while.
func (sr *statusRecorder) settle() {
	quiet := 0
	for deadline := time.Now().Add(30 * time.Second); quiet < 20 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if sr.inflight.Load() == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// Under concurrent load with clients that disconnect at random moments, a
// request whose transaction committed answered its success (before: 500
// "commit: context canceled", the commit running on the request's
// context), no request answers 500 (a client that went away is a 499), and
// a retry with the same Idempotency-Key finds every certificate once.
func TestClientDisconnectsUnderLoad(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		rec := &statusRecorder{status: map[string]int{}}
		ts := httptest.NewServer(rec.wrap(h.srv.Handler()))
		defer ts.Close()
		const n, workers = 48, 6
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+rand.IntN(40))*time.Millisecond)
					req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/certificates", bytes.NewReader(mustJSON(idCardBody(fmt.Sprintf("D-%d", i)))))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+dep)
					req.Header.Set("Idempotency-Key", fmt.Sprintf("disc-%d", i))
					if res, err := ts.Client().Do(req); err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
					cancel()
				}
			})
		}
		wg.Wait()
		rec.settle()
		committed := h.must(200, h.do("GET", "/v1/certificates?limit=100", dep, nil))["items"].([]any)
		for _, c := range committed {
			num := c.(map[string]any)["number"].(string)
			if st := rec.status["disc-"+strings.TrimPrefix(num, "D-")]; st != 201 {
				t.Errorf("certificate %s was committed, but its request answered %d", num, st)
			}
		}
		for key, st := range rec.status {
			// 500 is a server failure; a 503 for a client that left while
			// its statement ran (the driver reports the cancelled query as
			// an unavailable database) is not, and nothing was committed.
			if st == 500 {
				t.Errorf("request %s answered %d", key, st)
			}
		}
		// The retries: every number issued exactly once.
		for i := range n {
			r := h.do("POST", "/v1/certificates", dep, idCardBody(fmt.Sprintf("D-%d", i)), "Idempotency-Key", fmt.Sprintf("disc-%d", i))
			if r.Status != 201 {
				t.Fatalf("retry %d: %d %s", i, r.Status, r.Body)
			}
		}
		if list := h.must(200, h.do("GET", "/v1/certificates?limit=100", dep, nil))["items"].([]any); len(list) != n {
			t.Fatalf("%d certificates stored for %d numbers", len(list), n)
		}
	})
}
