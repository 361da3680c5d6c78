package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// testRegions: peer regions (区域互认) — registration, the held bundle that
// an older one never replaces, the lists, the version nodes poll, receipts.
func testRegions(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	v0, err := s.RegionsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := store.Region{Code: "320500", Name: "苏州市", AnchorPEM: "pem", TrustURL: "https://sz.example/v1/trust", CreatedAt: at, NextFetchAt: at, UpdatedAt: at}
	if err := s.CreateRegion(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRegion(ctx, r); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("again: %v", err)
	}
	v1, _ := s.RegionsVersion(ctx)
	if v1 == v0 {
		t.Fatal("the version did not change with a registration")
	}
	// A fetch: the bundle is held; an older one later never replaces it.
	replaced, err := s.RecordRegionFetch(ctx, "320500", store.RegionFetch{At: at, NextFetchAt: at.Add(time.Minute),
		BundleJWS: "new", BundleIssuedAt: at, BundleExpiresAt: at.Add(48 * time.Hour)})
	if err != nil || !replaced {
		t.Fatalf("fetch: %v %v", replaced, err)
	}
	v2, _ := s.RegionsVersion(ctx)
	if v2 == v1 {
		t.Fatal("the version did not change with a fetch")
	}
	replaced, err = s.RecordRegionFetch(ctx, "320500", store.RegionFetch{At: at, NextFetchAt: at.Add(time.Minute),
		BundleJWS: "old", BundleIssuedAt: at.Add(-time.Hour), BundleExpiresAt: at.Add(47 * time.Hour)})
	if err != nil || replaced {
		t.Fatalf("an older bundle: %v %v", replaced, err)
	}
	if _, err := s.RecordRegionFetch(ctx, "320500", store.RegionFetch{At: at, NextFetchAt: at.Add(2 * time.Minute), Err: "HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRegion(ctx, "320500")
	if err != nil || got.BundleJWS != "new" || got.LastError != "HTTP 503" || got.Failures != 1 || got.LastSuccessAt == nil ||
		!got.BundleExpiresAt.Equal(at.Add(48*time.Hour)) || !got.NextFetchAt.Equal(at.Add(2*time.Minute)) {
		t.Fatalf("held: %+v %v", got, err)
	}
	// Lists: put (replacing by id), get by digest, prune.
	for _, l := range []store.RegionList{{ID: "a", SM3: "01", JWS: "A1"}, {ID: "a", SM3: "02", JWS: "A2"}, {ID: "b", SM3: "03", JWS: "B"}} {
		if err := s.PutRegionList(ctx, "320500", l); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := s.GetRegionList(ctx, "320500", "a", "02"); err != nil || l.JWS != "A2" {
		t.Fatalf("list a: %+v %v", l, err)
	}
	if _, err := s.GetRegionList(ctx, "320500", "a", "01"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a replaced list: %v", err)
	}
	if err := s.PutRegionList(ctx, "999999", store.RegionList{ID: "x", SM3: "00", JWS: "X"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a list of no region: %v", err)
	}
	if err := s.PruneRegionLists(ctx, "320500", []string{"b"}); err != nil {
		t.Fatal(err)
	}
	if held, err := s.RegionListsHeld(ctx, "320500"); err != nil || len(held) != 1 || held["b"] != "03" {
		t.Fatalf("after prune: %v %v", held, err)
	}
	// Receipts, by region and id.
	for _, id := range []string{"r1", "r2", "r3"} {
		if err := s.AddUsageReceipt(ctx, store.UsageReceipt{ID: id, RegionCode: "320500", At: at, Org: "某银行", Channel: "verify", Result: "valid", CertificateID: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddUsageReceipt(ctx, store.UsageReceipt{ID: "r4", RegionCode: "330400", At: at, Channel: "verify", Result: "valid"}); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.ListUsageReceipts(ctx, "320500", "r1", 10); err != nil || len(rs) != 2 || rs[0].ID != "r2" || rs[0].Org != "某银行" {
		t.Fatalf("receipts: %+v %v", rs, err)
	}
	if err := s.SetReceiptsSince(ctx, "320500", "r3"); err != nil {
		t.Fatal(err)
	}
	// Removing the region removes its lists.
	if err := s.DeleteRegion(ctx, "320500"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegion(ctx, "320500"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	if held, err := s.RegionListsHeld(ctx, "320500"); err != nil || len(held) != 0 {
		t.Fatalf("lists after delete: %v %v", held, err)
	}
	if v3, _ := s.RegionsVersion(ctx); v3 != v0 {
		t.Fatalf("version after delete %q, want %q", v3, v0)
	}
}
