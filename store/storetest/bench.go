package storetest

import (
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// Benchmarks shared by the backends, so that both run the same workload.

// BenchCertificate returns a certificate numbered n shaped like a real one:
// a document of about 1.5 KB and a compact JWS over it (header, payload and
// signature base64url-encoded, as the issuer stores it).
func BenchCertificate(n int64) store.Certificate {
	serial := fmt.Sprintf("2026%07d", n)
	id := fmt.Sprintf("1.2.156.3005.2.%s.%s.%s.001.K", typeFood, issuerA, serial)
	number := fmt.Sprintf("JY1310104%07d", n)
	var doc strings.Builder
	doc.WriteString(`{"name":"食品经营许可证","identifier":"` + id + `","type_code":"` + typeFood +
		`","type_name":"食品经营许可证","number":"` + number + `","version":1,` +
		`"issuer":{"name":"上海市徐汇区市场监督管理局","uscc":"` + issuerA + `"},` +
		`"defining_authority":{"name":"国家市场监督管理总局","uscc":"11100000000021001C"},` +
		`"issue_date":"2026-03-01","valid_from":"2026-03-01","valid_until":"2031-02-28","long_term":false,"area_code":"310104",` +
		`"holders":[{"name":"上海某某餐饮管理有限公司","id_type":"001","id_number":"91350100M000100Y43"}],` +
		`"related_items":[{"code":"310000000000000000000000000000001","name":"食品经营许可"}],` +
		`"fields":{"business_scope":"预包装食品销售（含冷藏冷冻食品），散装食品销售（不含冷藏冷冻食品），热食类食品制售，冷食类食品制售，生食类食品制售，糕点类食品制售（含裱花蛋糕），自制饮品制售（不含自酿酒）",` +
		`"legal_representative":"张三","licence_number":"` + number + `","main_business":"餐饮服务经营者（中型餐馆）",` +
		`"operator_name":"上海某某餐饮管理有限公司","premises":"上海市徐汇区漕溪北路某某号某某室","residence":"上海市徐汇区漕溪北路某某号某某室",` +
		`"supervisor":"徐汇区市场监督管理局","complaint_phone":"12315"},`)
	for doc.Len() < 1450 {
		doc.WriteString(`"note":"` + strings.Repeat("x", 32) + `",`)
	}
	doc.WriteString(`"status_list":{"id":"sl-bench","index":` + fmt.Sprint(n) + `},"issued_at":"2026-03-01T01:30:00Z"}`)
	enc := base64.RawURLEncoding
	jws := enc.EncodeToString([]byte(`{"alg":"SM2","kid":"kid-dep-1","typ":"suishen-certificate+json"}`)) + "." +
		enc.EncodeToString([]byte(doc.String())) + "." + enc.EncodeToString([]byte(strings.Repeat("\x5a", 64)))
	until := base.AddDate(5, 0, 0)
	return store.Certificate{
		ID: id, TypeCode: typeFood, IssuerUSCC: issuerA, Serial: serial, Version: 1, Number: number,
		HolderSubject: fmt.Sprintf("sub-%016x", uint64(n)*0x9e3779b97f4a7c15), HolderKind: "enterprise", Status: "valid",
		ValidFrom: base, ValidUntil: &until, JWS: jws, KeyID: "kid-dep-1",
		StatusList: fmt.Sprintf("sl-bench-%d", n/131072), StatusIndex: n % 131072,
		IssuedAt: base, UpdatedAt: base,
	}
}

// BenchCreateCertificates measures bulk issuance: each op reserves 10,000
// numbers and stores 10,000 certificates with one CreateCertificates call in
// InTx (building them is not timed). It reports rows/s.
func BenchCreateCertificates(b *testing.B, s store.Store) {
	ctx := b.Context()
	const rows = 10_000
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		first, err := s.NextCertificateNumbers(ctx, rows)
		if err != nil {
			b.Fatal(err)
		}
		cs := make([]store.Certificate, rows)
		for i := range cs {
			cs[i] = BenchCertificate(first + int64(i))
		}
		b.StartTimer()
		var ids []string
		err = s.InTx(ctx, func(q store.Queries) error {
			var err error
			ids, err = q.CreateCertificates(ctx, cs)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) != rows {
			b.Fatalf("inserted %d rows, want %d", len(ids), rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchIssueOne measures single issuance as the issuer does it, from many
// goroutines at once (b.SetParallelism(parallelism) × GOMAXPROCS): InTx{
// NextCertificateNumbers(1); CreateCertificate; AppendAudit }. A warm-up
// round (as many issuances as goroutines, at once) opens the pool's
// connections and creates the status list before the clock starts, so that
// short runs (-benchtime 3x) measure the steady state too. It reports
// issuances/s and the transaction retries per issuance.
func BenchIssueOne(b *testing.B, s store.Store, parallelism int) {
	ctx := b.Context()
	var attempts atomic.Int64
	issue := func() error {
		return s.InTx(ctx, func(q store.Queries) error {
			attempts.Add(1)
			n, err := q.NextCertificateNumbers(ctx, 1)
			if err != nil {
				return err
			}
			c := BenchCertificate(n)
			c.IssuedAt, c.UpdatedAt = time.Now(), time.Now()
			if err := q.CreateCertificate(ctx, c); err != nil {
				return err
			}
			_, err = q.AppendAudit(ctx, store.AuditEntry{
				At: c.IssuedAt, ActorKind: store.KindDepartment, ActorID: "dep-1", Action: "certificate.issue",
				ObjectType: "certificate", ObjectID: c.ID, RequestID: "req", Details: []byte(`{"type_code":"` + c.TypeCode + `"}`),
			})
			return err
		})
	}
	var warm sync.WaitGroup
	for range parallelism * runtime.GOMAXPROCS(0) {
		warm.Go(func() {
			if err := issue(); err != nil {
				b.Error(err)
			}
		})
	}
	warm.Wait()
	attempts.Store(0)
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := issue(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issues/s")
	b.ReportMetric(float64(attempts.Load()-int64(b.N))/float64(b.N), "retries/op")
}
