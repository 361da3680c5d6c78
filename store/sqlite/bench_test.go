package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/suishen/suishen/store/storetest"
)

// Run with
//
//	go test ./store/sqlite -run '^$' -bench . -benchtime 3x
//
// Figures go to docs/performance.md.

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCreateCertificates: bulk issuance, 10,000 rows (≈1.5 KB documents)
// per op through InTx + CreateCertificates (multi-row INSERTs).
func BenchmarkCreateCertificates(b *testing.B) {
	storetest.BenchCreateCertificates(b, openBench(b))
}

// BenchmarkIssueOne: single issuance from 16 × GOMAXPROCS goroutines, each
// InTx{NextCertificateNumbers(1); CreateCertificate; AppendAudit}.
func BenchmarkIssueOne(b *testing.B) {
	storetest.BenchIssueOne(b, openBench(b), 16)
}
