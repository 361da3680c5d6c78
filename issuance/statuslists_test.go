package issuance

import (
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func TestStaleList(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	fresh := store.StatusListInfo{ID: "c-3", UpdatedAt: now.Add(-time.Hour), Version: 4, SM3: "ab", KeyID: "anchor",
		SignedAt: now.Add(-time.Minute), SignedFor: now.Add(-time.Hour)}
	if why := StaleList(fresh, "anchor", now); why != "" {
		t.Fatalf("fresh list stale: %s", why)
	}
	for name, c := range map[string]struct {
		mod    func(*store.StatusListInfo)
		anchor string
		at     time.Time
	}{
		"never signed":   {func(i *store.StatusListInfo) { i.Version, i.SM3 = 0, "" }, "anchor", now},
		"changed":        {func(i *store.StatusListInfo) { i.UpdatedAt = now }, "anchor", now},
		"aged":           {func(*store.StatusListInfo) {}, "anchor", now.Add(ResignAge)},
		"anchor changed": {func(*store.StatusListInfo) {}, "new-anchor", now},
	} {
		in := fresh
		c.mod(&in)
		if why := StaleList(in, c.anchor, c.at); why != name {
			t.Errorf("%s: %q", name, why)
		}
	}
	// Lists signed together fall due at different times, all before
	// ResignAge and none before half of it.
	due := map[time.Duration]bool{}
	for _, id := range []string{"c-0", "c-1", "c-2", "c-3", "o-0", "e-0", "v-0", "c12"} {
		a := resignAge(id)
		if a <= ResignAge/2 || a > ResignAge {
			t.Fatalf("%s: re-signed at age %s", id, a)
		}
		due[a] = true
	}
	if len(due) < 6 {
		t.Fatalf("lists fall due together: %v", due)
	}
}
