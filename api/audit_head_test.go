package api

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// TestTrustBundleCarriesAuditHead: GET /v1/trust, verified against the
// anchor, carries the audit chain's head — the newest sealed entry's
// sequence number, chain hash and time — and a re-signed bundle follows the
// chain as it grows.
func TestTrustBundleCarriesAuditHead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		anchor, err := h.srv.deps.Keys.Signer(ctx, store.RoleAnchor, "")
		if err != nil {
			t.Fatal(err)
		}
		fetch := func() trust.Bundle {
			t.Helper()
			r := h.do("GET", "/v1/trust", "", nil)
			if r.Status != 200 {
				t.Fatalf("GET /v1/trust: %d %s", r.Status, r.Body)
			}
			b, err := trust.Verify(string(r.Body), anchor.Public(), h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		sealer := &audit.Sealer{Store: h.st, Now: h.clock.Now, Anchor: func() audit.Signer { return anchor }}
		if _, err := sealer.SealOnce(ctx); err != nil {
			t.Fatal(err)
		}
		b := fetch()
		want, ok, err := audit.CurrentHead(ctx, h.st)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if b.AuditHead == nil || b.AuditHead.Seq != want.Seq || b.AuditHead.SM3 != hex.EncodeToString(want.Hash) || !b.AuditHead.At.Equal(want.At) {
			t.Fatalf("audit_head %+v, chain head %d %x %s", b.AuditHead, want.Seq, want.Hash, want.At)
		}
		// A new department changes the keys, so the bundle is re-signed with
		// the grown head.
		h.department(uscc2)
		if _, err := sealer.SealOnce(ctx); err != nil {
			t.Fatal(err)
		}
		b2 := fetch()
		if b2.AuditHead == nil || b2.AuditHead.Seq <= b.AuditHead.Seq {
			t.Fatalf("audit_head did not follow the chain: %+v then %+v", b.AuditHead, b2.AuditHead)
		}
	})
}
