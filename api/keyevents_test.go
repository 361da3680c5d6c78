package api

import (
	"context"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/verifier"
)

// Probes are never rate-limited: a client that used up its public rate on
// another endpoint still gets its /healthz and /readyz answers.
func TestProbesNotRateLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
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

// verifierNow is a verifier holding this node's current bundle, pinned to
// the current anchor (as a scanner that re-pinned after a rotation).
func (h *harness) currentVerifier(t *testing.T) *verifier.Verifier {
	t.Helper()
	bundle := h.do("GET", "/v1/trust", "", nil)
	anchor, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(string(bundle.Body), anchor.Public(), verifier.Options{Now: h.clock.Now})
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
