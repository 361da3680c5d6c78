package api

import (
	"context"
	"testing"

	"github.com/suishen/suishen/trust"
)

// bundleRefs returns the status-list references of a node's current bundle.
func bundleRefs(t *testing.T, h *harness) map[string]trust.StatusListRef {
	t.Helper()
	r := h.do("GET", "/v1/trust", "", nil)
	if r.Status != 200 {
		t.Fatalf("GET /v1/trust: %d %s", r.Status, r.Body)
	}
	var refs []trust.StatusListRef
	if err := jsonUnmarshal(bundlePayload(t, string(r.Body))["status_lists"], &refs); err != nil {
		t.Fatal(err)
	}
	out := map[string]trust.StatusListRef{}
	for _, ref := range refs {
		out[ref.ID] = ref
	}
	return out
}

// TestAnchorRotationKeepsPinnedListsFetchable: a verifier that took node B's
// bundle just before the anchor was rotated on node A can still fetch every
// list that bundle pins, from either node, after both nodes have built their
// next bundles — each list is re-signed once for the new anchor, not once
// by each node (before: node B, still holding the old anchor as current,
// took every list signed by the new anchor for stale and signed it again,
// so the pinned forms were gone and every certificate was unknown,
// status_list_missing, until the verifier's next refresh).
func TestAnchorRotationKeepsPinnedListsFetchable(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *harness) {
		_, dep := a.department(uscc2)
		a.must(201, a.do("POST", "/v1/certificates", dep, idCardBody("P-1")))
		_, venue := a.venue()
		b.must(200, b.do("GET", "/v1/venue/code", venue, nil))
		pinned := bundleRefs(t, b)
		if len(pinned) == 0 {
			t.Fatal("no status lists in the bundle")
		}
		a.must(201, a.do("POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "anchor"}))
		afterA := bundleRefs(t, a)
		bundleRefs(t, b)
		for id, ref := range pinned {
			for _, h := range []*harness{b, a, b} {
				if r := h.do("GET", "/v1/status-lists/"+id, "", nil); r.Status != 200 {
					t.Fatalf("%s: %d", id, r.Status)
				}
				if r := h.do("GET", "/v1/status-lists/"+id+"?sm3="+ref.SM3, "", nil); r.Status != 200 {
					t.Errorf("the pinned form of %s (version %d): %d %s", id, ref.Version, r.Status, r.Body)
				}
			}
			if afterA[id].Version != ref.Version+1 {
				t.Errorf("list %s: version %d after the rotation, want %d", id, afterA[id].Version, ref.Version+1)
			}
			if l, err := a.st.GetSignedStatusList(context.Background(), id); err != nil || l.Version != afterA[id].Version {
				t.Errorf("list %s: stored version %d (%v), want %d: signed again for the same anchor", id, l.Version, err, afterA[id].Version)
			}
		}
	})
}

// TestNewListInNextBundleFromAnyNode: the bundle a verifier fetches from
// node B right after node A handed out the first certificate or code of a
// new status list references that list (before: node B checked for list
// changes at most once a second, so for up to a second its bundle lacked the
// list and the verifier answered unknown, status_list_missing, until its
// next refresh).
func TestNewListInNextBundleFromAnyNode(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *harness) {
		_, dep := a.department(uscc2)
		_, venue := a.venue()
		bundleRefs(t, b) // node B has built and checked its bundle just now
		a.must(201, a.do("POST", "/v1/certificates", dep, idCardBody("N-1")))
		a.must(200, a.do("GET", "/v1/venue/code", venue, nil))
		refs := bundleRefs(t, b)
		for _, id := range []string{"c" + typeIDCard + "-0", "v-0"} {
			if _, ok := refs[id]; !ok {
				t.Errorf("node B's bundle lacks %s, made on node A before the bundle was asked for", id)
			}
		}
	})
}
