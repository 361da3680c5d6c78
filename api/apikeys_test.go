package api

import (
	"testing"
	"time"
)

// TestAPIKeyRotationAndRevocation: an administrator rotates a department's,
// an app's and a venue's API key with a grace period, lists the keys with
// their last use, and revokes one — refused at once, on this node and on
// another node that had the key cached.
func TestAPIKeyRotationAndRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		other := newHarness(t, h.st) // a second node on the same database
		deptID, deptKey := h.department(uscc2)
		appID, appKey := h.app("verify")
		venueID, venueKey := h.venue()
		cases := []struct {
			segment, id, key string
			probe            func(h *harness, key string) int
		}{
			{"departments", deptID, deptKey, func(h *harness, key string) int { return h.do("GET", "/v1/certificates", key, nil).Status }},
			{"apps", appID, appKey, func(h *harness, key string) int {
				return h.do("POST", "/v1/verify", key, map[string]any{"code": "SS1:bogus"}).Status
			}},
			{"venues", venueID, venueKey, func(h *harness, key string) int { return h.do("GET", "/v1/venue/checkins", key, nil).Status }},
		}
		for _, c := range cases {
			base := "/v1/admin/" + c.segment + "/" + c.id + "/api-keys"
			works := func(h *harness, key string) bool {
				t.Helper()
				st := c.probe(h, key)
				if st >= 500 {
					t.Fatalf("%s probe answered %d", c.segment, st)
				}
				return st != 401
			}
			if !works(h, c.key) || !works(other, c.key) {
				t.Fatalf("%s: the first key does not work", c.segment)
			}
			// Rotate with an hour of grace: both keys work meanwhile.
			r1 := h.must(201, h.do("POST", base, testAdminToken, map[string]any{"grace": "1h"}, "Idempotency-Key", "rot-"+c.segment))
			again := h.must(201, h.do("POST", base, testAdminToken, map[string]any{"grace": "1h"}, "Idempotency-Key", "rot-"+c.segment))
			if again["key_id"] != r1["key_id"] || again["api_key"] != r1["api_key"] {
				t.Fatalf("%s: a retried rotation minted another key: %v %v", c.segment, r1, again)
			}
			newKey := r1["api_key"].(string)
			if !works(h, newKey) || !works(h, c.key) || !works(other, newKey) {
				t.Fatalf("%s: during the grace both keys must work", c.segment)
			}
			list := h.must(200, h.do("GET", base, testAdminToken, nil))
			items := list["items"].([]any)
			if len(items) != 2 {
				t.Fatalf("%s: %d keys listed: %v", c.segment, len(items), list)
			}
			// Keys made in the same instant list in key-ID order: find them by ID.
			first, second := items[0].(map[string]any), items[1].(map[string]any)
			if first["key_id"] == r1["key_id"] {
				first, second = second, first
			}
			if first["status"] != "expiring" || first["expires_at"] == nil || first["last_used_at"] == nil ||
				second["status"] != "active" || second["key_id"] != r1["key_id"] || second["expires_at"] != nil {
				t.Fatalf("%s: listing %v", c.segment, items)
			}
			for _, it := range items {
				for k, v := range it.(map[string]any) {
					if s, ok := v.(string); ok && (s == c.key || s == newKey) {
						t.Fatalf("%s: the listing shows a secret in %s", c.segment, k)
					}
				}
			}
			// After the grace only the new key works, on both nodes.
			h.clock.Add(time.Hour + time.Second)
			other.clock.Add(time.Hour + time.Second)
			if works(h, c.key) || works(other, c.key) {
				t.Fatalf("%s: the old key still works after its grace", c.segment)
			}
			if !works(h, newKey) {
				t.Fatalf("%s: the new key stopped", c.segment)
			}
			// Revoke the new key: refused at once on both nodes, although
			// the other node served it a moment ago.
			if !works(other, newKey) {
				t.Fatalf("%s: the other node refuses the new key", c.segment)
			}
			h.must(204, h.do("DELETE", base+"/"+r1["key_id"].(string), testAdminToken, nil))
			h.must(204, h.do("DELETE", base+"/"+r1["key_id"].(string), testAdminToken, nil)) // again: still revoked
			if works(h, newKey) || works(other, newKey) {
				t.Fatalf("%s: a revoked key still works", c.segment)
			}
			list = h.must(200, h.do("GET", base, testAdminToken, nil))
			st := map[any]any{}
			for _, it := range list["items"].([]any) {
				st[it.(map[string]any)["key_id"]] = it.(map[string]any)["status"]
			}
			if len(st) != 2 || st[r1["key_id"]] != "revoked" || !containsValue(st, "expired") {
				t.Fatalf("%s: statuses %v", c.segment, st)
			}
			// The default grace is a day; a rotation with no grace stops the
			// previous keys at once.
			r2 := h.must(201, h.do("POST", base, testAdminToken, map[string]any{}))
			r3 := h.must(201, h.do("POST", base, testAdminToken, map[string]any{}))
			if !works(h, r2["api_key"].(string)) || !works(h, r3["api_key"].(string)) {
				t.Fatalf("%s: default grace", c.segment)
			}
			if exp, _ := time.Parse(time.RFC3339, r3["previous_keys_expire_at"].(string)); !exp.Equal(h.clock.Now().Add(24 * time.Hour)) {
				t.Fatalf("%s: default grace ends %v", c.segment, r3["previous_keys_expire_at"])
			}
			r4 := h.must(201, h.do("POST", base, testAdminToken, map[string]any{"grace": "0s"}))
			if works(h, r2["api_key"].(string)) || works(h, r3["api_key"].(string)) || !works(h, r4["api_key"].(string)) {
				t.Fatalf("%s: grace 0s", c.segment)
			}
		}

		// Errors.
		for _, g := range []string{"soon", "-1h", "2161h"} {
			p := h.do("POST", "/v1/admin/apps/"+appID+"/api-keys", testAdminToken, map[string]any{"grace": g}).problem(t)
			if p.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "grace" {
				t.Fatalf("grace %q: %+v", g, p)
			}
		}
		if p := h.do("POST", "/v1/admin/apps/no-such-app/api-keys", testAdminToken, map[string]any{}).problem(t); p.Status != 404 {
			t.Fatalf("unknown app: %+v", p)
		}
		if p := h.do("GET", "/v1/admin/venues/"+deptID+"/api-keys", testAdminToken, nil).problem(t); p.Status != 404 {
			t.Fatalf("a department's id under venues: %+v", p)
		}
		// A key of another principal cannot be revoked through this one.
		keys := h.must(200, h.do("GET", "/v1/admin/departments/"+deptID+"/api-keys", testAdminToken, nil))["items"].([]any)
		deptKeyID := keys[len(keys)-1].(map[string]any)["key_id"].(string)
		if p := h.do("DELETE", "/v1/admin/apps/"+appID+"/api-keys/"+deptKeyID, testAdminToken, nil).problem(t); p.Status != 404 {
			t.Fatalf("cross-principal revoke: %+v", p)
		}
		// Only the admin manages keys.
		if r := h.do("POST", "/v1/admin/apps/"+appID+"/api-keys", appKey, map[string]any{}); r.Status != 401 && r.Status != 403 {
			t.Fatalf("an app rotating keys: %d", r.Status)
		}
		// Both actions are audited.
		audit := h.must(200, h.do("GET", "/v1/admin/audit?limit=500", testAdminToken, nil))
		seen := map[string]int{}
		for _, e := range audit["items"].([]any) {
			seen[e.(map[string]any)["action"].(string)]++
		}
		if seen["api_key.rotate"] < 12 || seen["api_key.revoke"] < 3 {
			t.Fatalf("audit: %v", seen)
		}
	})
}

func containsValue(m map[any]any, v any) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// TestSignOutEndsTheSessionOnEveryNode: a holder signs out on one node; a
// second node that served the session a moment before refuses it at once.
func TestSignOutEndsTheSessionOnEveryNode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		other := newHarness(t, h.st)
		_, gw := h.app("identity-gateway")
		tok := h.holder(gw)
		h.must(200, other.do("GET", "/v1/me", tok, nil))
		h.must(200, h.do("GET", "/v1/me", tok, nil))
		h.must(204, h.do("DELETE", "/v1/me/session", tok, nil))
		if r := other.do("GET", "/v1/me", tok, nil); r.Status != 401 {
			t.Fatalf("the other node still serves a signed-out session: %d", r.Status)
		}
	})
}
