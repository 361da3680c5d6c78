package postgres

import (
	"testing"

	"github.com/suishen/suishen/store/storetest"
)

// Run with TEST_DATABASE_URL set, e.g.
//
//	go test ./store/postgres -run '^$' -bench . -benchtime 3x
//
// Figures go to docs/performance.md.

// BenchmarkCreateCertificates: bulk issuance, 10,000 rows (≈1.5 KB documents)
// per op through InTx + CreateCertificates (COPY into a staging table).
func BenchmarkCreateCertificates(b *testing.B) {
	storetest.BenchCreateCertificates(b, openSchema(b, true))
}

// BenchmarkIssueOne: single issuance from 16 × GOMAXPROCS goroutines, each
// InTx{NextCertificateNumbers(1); CreateCertificate; AppendAudit}, on a pool
// of 10 connections.
func BenchmarkIssueOne(b *testing.B) {
	storetest.BenchIssueOne(b, openSchema(b, true), 16)
}
