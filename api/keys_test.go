package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

func TestTrustEndpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, depKey := h.department(uscc2)
		_ = depKey
		jwks := h.must(200, h.do("GET", "/.well-known/jwks.json", "", nil))
		roles := map[string]int{}
		for _, k := range jwks["keys"].([]any) {
			m := k.(map[string]any)
			roles[m["key_role"].(string)]++
			if m["kty"] != "EC" || m["crv"] != "SM2" || m["alg"] != "SM2" || m["use"] != "sig" || m["key_status"] != "active" {
				t.Fatalf("jwk %v", m)
			}
			if m["key_role"] == "department" && (m["department_uscc"] != uscc2 || len(m["certificate_types"].([]any)) != 2) {
				t.Fatalf("department jwk %v", m)
			}
			for _, secret := range []string{"d", "sealed", "private"} {
				if _, ok := m[secret]; ok {
					t.Fatalf("jwk carries %q", secret)
				}
			}
		}
		if roles["anchor"] != 1 || roles["code"] != 1 || roles["department"] != 1 {
			t.Fatalf("roles %v", roles)
		}
		r := h.do("GET", "/v1/trust", "", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/jose" || r.Header.Get("ETag") == "" {
			t.Fatalf("trust: %d %v", r.Status, r.Header)
		}
		anchor, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
		if err != nil {
			t.Fatal(err)
		}
		b, err := trust.Verify(string(r.Body), anchor.Public(), h.clock.Now())
		if err != nil || len(b.Keys) != 3 {
			t.Fatalf("bundle: %v %d", err, len(b.Keys))
		}
		if nm := h.do("GET", "/v1/trust", "", nil, "If-None-Match", r.Header.Get("ETag")); nm.Status != 304 || len(nm.Body) != 0 {
			t.Fatalf("If-None-Match: %d", nm.Status)
		}
		if nm := h.do("GET", "/v1/trust", "", nil, "If-None-Match", `"other"`); nm.Status != 200 {
			t.Fatalf("stale If-None-Match: %d", nm.Status)
		}
	})
}

func TestKeyRotationThroughAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.department(uscc2)
		before := h.must(200, h.do("GET", "/v1/admin/keys", testAdminToken, nil))["items"].([]any)
		r := h.must(201, h.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "department", "department_uscc": uscc2}, "Idempotency-Key", "rot-1"))
		again := h.must(201, h.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "department", "department_uscc": uscc2}, "Idempotency-Key", "rot-1"))
		newKID := r["key"].(map[string]any)["kid"].(string)
		if again["key"].(map[string]any)["kid"] != newKID {
			t.Fatal("an idempotent retry rotated twice")
		}
		if r["retired"].(map[string]any)["key_status"] != "retired" {
			t.Fatalf("rotate: %v", r)
		}
		after := h.must(200, h.do("GET", "/v1/admin/keys", testAdminToken, nil))["items"].([]any)
		if len(after) != len(before)+1 {
			t.Fatalf("keys %d → %d", len(before), len(after))
		}
		for _, bad := range []map[string]any{{"role": "root"}, {"role": "department"}, {"role": "code", "department_uscc": uscc2}} {
			if res := h.do("POST", "/v1/admin/keys/rotate", testAdminToken, bad); res.Status != 422 {
				t.Fatalf("rotate %v: %d", bad, res.Status)
			}
		}
		if res := h.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "department", "department_uscc": uscc3}); res.Status != 404 {
			t.Fatalf("rotate unknown department: %d", res.Status)
		}
		// Compromise the new department key: JWKS shows it compromised at once.
		c := h.must(200, h.do("POST", "/v1/admin/keys/"+newKID+"/compromised", testAdminToken, nil))
		if c["key"].(map[string]any)["key_status"] != "compromised" || c["replacement"] == nil {
			t.Fatalf("compromise: %v", c)
		}
		if res := h.do("POST", "/v1/admin/keys/"+newKID+"/compromised", testAdminToken, nil); res.Status != 409 {
			t.Fatalf("second compromise: %d", res.Status)
		}
		if res := h.do("POST", "/v1/admin/keys/nope/compromised", testAdminToken, nil); res.Status != 404 {
			t.Fatalf("unknown kid: %d", res.Status)
		}
		jwks := h.must(200, h.do("GET", "/.well-known/jwks.json", "", nil))
		found := false
		for _, k := range jwks["keys"].([]any) {
			m := k.(map[string]any)
			if m["kid"] == newKID {
				found = m["key_status"] == "compromised"
			}
		}
		if !found {
			t.Fatal("JWKS does not show the compromised key")
		}
		// A signature by the compromised key no longer verifies for verifiers.
		r2 := h.do("GET", "/v1/trust", "", nil)
		anchor, _ := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
		b, err := trust.Verify(string(r2.Body), anchor.Public(), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		k, ok := b.Key(newKID)
		if !ok || k.Usable(h.clock.Now().Add(time.Second)) == nil {
			t.Fatalf("compromised key usable in the bundle: %+v", k)
		}
		// The JWK is a well-formed SM2 key whose thumbprint is its kid.
		pk, err := k.JWK.PublicKey()
		if err != nil || signing.Thumbprint(pk) != newKID || !strings.HasPrefix(k.Alg, "SM2") {
			t.Fatalf("jwk: %v", err)
		}
	})
}
