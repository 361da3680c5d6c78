package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// newRegionHarness is a node of region code (name).
func newRegionHarness(t testing.TB, st store.Store, code, name string) *harness {
	return newHarnessWith(t, st, func(c *config.Config) { c.RegionCode, c.RegionName = code, name })
}

// anchorPEM is the node's trust anchor public key in PEM.
func (h *harness) anchorPEM() string {
	h.t.Helper()
	k, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := signing.MarshalPublicKeyPEM(k.Public())
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// registerPeer registers peer as a peer region of h.
func (h *harness) registerPeer(peer *harness, code, name string) map[string]any {
	h.t.Helper()
	return h.must(201, h.do("POST", "/v1/admin/regions", testAdminToken, map[string]any{
		"code": code, "name": name, "anchor": peer.anchorPEM(), "trust_url": peer.ts.URL + "/v1/trust"}))
}

// TestRegionAdmin: peers are registered, validated, listed, fetched in the
// background step (called directly here), shown with their state, relayed,
// and removed.
func TestRegionAdmin(t *testing.T) {
	backends := teststore.Backends()
	a := newRegionHarness(t, backends[0].Open(t), "320500", "苏州市") // SQLite
	b := newRegionHarness(t, backends[1].Open(t), "310117", "松江区") // PostgreSQL

	// Validation: each field at fault, never a 500.
	for _, tc := range []struct {
		body  map[string]any
		field string
		code  string
	}{
		{map[string]any{"code": "3205", "name": "x", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}, "code", "area_code"},
		{map[string]any{"code": "990000", "name": "x", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}, "code", "area_code"},
		{map[string]any{"code": "310000", "name": "x", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}, "code", "overlaps_home_region"},
		{map[string]any{"code": "310117", "name": "x", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}, "code", "overlaps_home_region"},
		{map[string]any{"code": "320500", "name": "", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}, "name", "required"},
		{map[string]any{"code": "320500", "name": "x", "anchor": "not a key", "trust_url": a.ts.URL}, "anchor", "format"},
		{map[string]any{"code": "320500", "name": "x", "anchor": b.anchorPEM(), "trust_url": a.ts.URL}, "anchor", "own_anchor"},
		{map[string]any{"code": "320500", "name": "x", "anchor": a.anchorPEM(), "trust_url": "ftp://x/"}, "trust_url", "format"},
		{map[string]any{"code": "320500", "name": "x", "anchor": a.anchorPEM(), "trust_url": "https://u:p@x/v1/trust"}, "trust_url", "format"},
	} {
		r := b.do("POST", "/v1/admin/regions", testAdminToken, tc.body)
		if r.Status != 422 {
			t.Fatalf("%v: status %d: %s", tc.body, r.Status, r.Body)
		}
		p := r.problem(t)
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == tc.field && e.Code == tc.code
		}
		if !found {
			t.Fatalf("%v: want %s/%s in %s", tc.body, tc.field, tc.code, r.Body)
		}
	}
	// Only the admin.
	if r := b.do("POST", "/v1/admin/regions", "", map[string]any{}); r.Status != 401 {
		t.Fatalf("anonymous: %d", r.Status)
	}

	got := b.registerPeer(a, "320500", "苏州市")
	if got["state"] != "pending" || got["anchor_kid"] == "" || got["code"] != "320500" {
		t.Fatalf("created: %v", got)
	}
	if r := b.do("POST", "/v1/admin/regions", testAdminToken, map[string]any{"code": "320500", "name": "苏州市", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}); r.Status != 409 {
		t.Fatalf("again: %d %s", r.Status, r.Body)
	}
	if r := b.do("POST", "/v1/admin/regions", testAdminToken, map[string]any{"code": "320000", "name": "江苏省", "anchor": a.anchorPEM(), "trust_url": a.ts.URL}); r.Status != 409 || r.problem(t).Code != "region_overlap" {
		t.Fatalf("overlapping peer: %d %s", r.Status, r.Body)
	}
	// Nothing held yet: the relay has nothing.
	if r := b.do("GET", "/v1/regions/320500/trust", "", nil); r.Status != 404 {
		t.Fatalf("relay before a fetch: %d", r.Status)
	}

	// The background step, run directly.
	if err := b.srv.Regions().Refresh(context.Background(), "320500"); err != nil {
		t.Fatal(err)
	}
	v := b.must(200, b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil))
	if v["state"] != "current" || v["last_success_at"] == nil || v["bundle_expires_at"] == nil || v["last_error"] != nil {
		t.Fatalf("after a fetch: %v", v)
	}
	// The relay serves the peer's bundle as the peer does, with its ETag.
	peerBundle := a.do("GET", "/v1/trust", "", nil)
	relayed := b.do("GET", "/v1/regions/320500/trust", "", nil)
	if relayed.Status != 200 || string(relayed.Body) != string(peerBundle.Body) {
		t.Fatalf("relay: %d", relayed.Status)
	}
	if r := b.do("GET", "/v1/regions/320500/trust", "", nil, "If-None-Match", relayed.Header.Get("ETag")); r.Status != 304 {
		t.Fatalf("relay with If-None-Match: %d", r.Status)
	}

	list := b.must(200, b.do("GET", "/v1/admin/regions?limit=1", testAdminToken, nil))
	if items := list["items"].([]any); len(items) != 1 || list["next_cursor"] != nil {
		t.Fatalf("list: %v", list)
	}

	// A peer that goes down: the held copy stays, the state says stale.
	a.ts.Close()
	if err := b.srv.Regions().Refresh(context.Background(), "320500"); err == nil {
		t.Fatal("a refresh from a closed server succeeded")
	}
	v = b.must(200, b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil))
	if v["state"] != "stale" || v["last_error"] == nil || v["failures"].(float64) != 1 {
		t.Fatalf("after a failed fetch: %v", v)
	}
	if r := b.do("GET", "/v1/regions/320500/trust", "", nil); r.Status != 200 {
		t.Fatalf("relay after a failed fetch: %d", r.Status)
	}

	b.must(204, b.do("DELETE", "/v1/admin/regions/320500", testAdminToken, nil))
	if r := b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil); r.Status != 404 {
		t.Fatalf("after delete: %d", r.Status)
	}
	if r := b.do("DELETE", "/v1/admin/regions/320500", testAdminToken, nil); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}
	if r := b.do("GET", "/v1/regions/320500/trust", "", nil); r.Status != 404 {
		t.Fatalf("relay after delete: %d", r.Status)
	}
}

// TestRegionNoRedirect: a peer URL that redirects is not followed.
func TestRegionNoRedirect(t *testing.T) {
	backends := teststore.Backends()
	a := newRegionHarness(t, backends[0].Open(t), "320500", "苏州市")
	b := newRegionHarness(t, backends[0].Open(t), "310117", "松江区")
	hits := 0
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, a.ts.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirect.Close()
	b.must(201, b.do("POST", "/v1/admin/regions", testAdminToken, map[string]any{
		"code": "320500", "name": "苏州市", "anchor": a.anchorPEM(), "trust_url": redirect.URL + "/v1/trust"}))
	err := b.srv.Regions().Refresh(context.Background(), "320500")
	if err == nil || !strings.Contains(err.Error(), "302") || hits != 1 {
		t.Fatalf("redirect: %v (hits %d)", err, hits)
	}
	v := b.must(200, b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil))
	if v["state"] != "expired" || !strings.Contains(v["last_error"].(string), "302") {
		t.Fatalf("state: %v", v)
	}
}
