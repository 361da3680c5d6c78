package matching

import (
	"context"
	"testing"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// TestFullMatchPagesByWholeHolders: with pages far smaller than some
// holders' certificate counts, a full match reads every holder exactly once
// and agrees with evaluating each holder alone.
func TestFullMatchPagesByWholeHolders(t *testing.T) {
	for _, be := range teststore.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := be.Open(t)
			population(t, st, 60)
			// Give some holders more certificates of the same type: 5 more
			// for sub-000000007, 3 more for sub-000000014.
			ctx := context.Background()
			extra := 0
			for _, sub := range []struct {
				subject string
				n       int
			}{{"sub-000000007", 5}, {"sub-000000014", 3}} {
				certs, err := st.ValidCertificatesOf(ctx, []string{sub.subject}, []string{"11100000000021002F001"})
				if err != nil || len(certs) != 1 {
					t.Fatalf("%s: %v %d", sub.subject, err, len(certs))
				}
				orig, err := st.GetCertificate(ctx, certs[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < sub.n; i++ {
					c := orig
					c.ID = orig.ID + string(rune('a'+i))
					c.Serial = orig.Serial + string(rune('A'+i))
					c.Number = orig.Number + string(rune('A'+i))
					c.StatusIndex = int64(1000 + extra)
					extra++
					if err := st.CreateCertificate(ctx, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			s := benchService(t, st)
			s.Batch = 2 // pages of 4 certificates
			sum, err := s.Match(ctx, "EX-GAOLING-310117")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Read != 60 {
				t.Fatalf("read %d holders, want 60: %+v", sum.Read, sum)
			}
			// Each holder has exactly one usage record from this match.
			for _, sub := range []string{"sub-000000007", "sub-000000014", "sub-000000000", "sub-000000059"} {
				recs, err := st.ListUsageRecords(ctx, sub, "", 10)
				if err != nil || len(recs) != 1 {
					t.Fatalf("%s: %d records (%v)", sub, len(recs), err)
				}
			}
			// The same verdicts one holder at a time.
			eligible := 0
			for i := 0; i < 60; i++ {
				sub := subjectOf(i)
				if err := s.OnCertificate(ctx, sub, "11100000000021002F001"); err != nil {
					t.Fatal(err)
				}
				if e, err := st.GetEntitlementFor(ctx, "EX-GAOLING-310117", sub); err == nil && e.Status == store.EntitlementOffered {
					eligible++
				}
			}
			if eligible != sum.Eligible || eligible == 0 {
				t.Fatalf("one at a time %d eligible, full match %d", eligible, sum.Eligible)
			}
		})
	}
}

func subjectOf(i int) string {
	const digits = "0123456789"
	b := []byte("sub-000000000")
	for p := len(b) - 1; i > 0; p-- {
		b[p] = digits[i%10]
		i /= 10
	}
	return string(b)
}
