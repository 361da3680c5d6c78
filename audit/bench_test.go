package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/store"
)

// BenchmarkVerify: `audit verify` over a sealed log of 20,000 entries with a
// checkpoint every 1,000, against a baseline that only reads the same rows
// (ListSealedAudit pages) — the ratio is what re-hashing and checking costs
// on top of reading.
//
//	TEST_DATABASE_URL=… go test ./audit -run '^$' -bench BenchmarkVerify -benchtime 5x
func BenchmarkVerify(b *testing.B) {
	const n, every = 20000, 1000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			st := be.open(b)
			anchor, pinned := newAnchorTB(b)
			now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			s := &audit.Sealer{Store: st, Now: func() time.Time { return now }, Anchor: func() audit.Signer { return signer{anchor} }}
			for i := 0; i < n; i += every {
				err := st.InTx(ctx, func(q store.Queries) error {
					for j := 0; j < every; j++ {
						if _, err := q.AppendAudit(ctx, audit.New(now, actor, "thing.create", "thing", fmt.Sprint(i+j), "rid", map[string]any{"n": i + j})); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.SealAndCheckpoint(ctx); err != nil {
					b.Fatal(err)
				}
				now = now.Add(time.Second)
			}
			b.Run("read", func(b *testing.B) {
				for b.Loop() {
					var seq int64
					for {
						page, err := st.ListSealedAudit(ctx, seq, 1000)
						if err != nil {
							b.Fatal(err)
						}
						if len(page) == 0 {
							break
						}
						seq = page[len(page)-1].Seal.Seq
					}
				}
			})
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					rep, err := audit.Verify(ctx, st, pinned(now.Add(time.Hour)))
					if err != nil || !rep.OK() || rep.Entries != n || rep.Signed != n/every {
						b.Fatalf("%+v %v", rep, err)
					}
				}
			})
		})
	}
}
