package matching

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// population stores n 居民身份证 certificates with realistic documents
// (unsigned: matching never verifies what the store itself holds), one per
// holder, birth dates spread over 1920–2010 and areas over three districts.
func population(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	areas := []string{"310117", "310104", "310115"}
	batch := make([]store.Certificate, 0, 1000)
	flush := func() {
		if _, err := st.CreateCertificates(ctx, batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 0; i < n; i++ {
		birth := time.Date(1920, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*7919)%(90*365))
		batch = append(batch, oneCard(tb, fmt.Sprintf("sub-%09d", i*7%n), birth.Format(time.DateOnly), areas[i%3], i))
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// oneCard is a 居民身份证 of the holder, born on birth, issued in area.
func oneCard(tb testing.TB, subject, birth, area string, i int) store.Certificate {
	tb.Helper()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := map[string]any{
		"name": "居民身份证", "identifier": fmt.Sprintf("id-%09d", i), "type_code": issuer.TypeResidentIDCard, "type_name": "居民身份证",
		"number": fmt.Sprintf("%018d", i), "version": 1, "issue_date": "2020-01-01", "valid_from": "2020-01-01", "valid_until": nil,
		"long_term": true, "area_code": area,
		"issuer":  map[string]any{"name": "上海市公安局某分局", "uscc": "11310000000000000X"},
		"holders": []any{map[string]any{"name": "张某" + strconv.Itoa(i%100), "id_type": "111", "id_number": "310117" + strings.ReplaceAll(birth, "-", "") + fmt.Sprintf("%04d", i%10000)}},
		"fields": map[string]any{"name": "张某", "sex": "男", "ethnicity": "汉", "birth_date": birth,
			"address": "上海市松江区某某路" + strconv.Itoa(i) + "号", "issuing_authority": "上海市公安局松江分局"},
	}
	payload, _ := json.Marshal(doc)
	id := fmt.Sprintf("1.2.156.3005.2.%s.11310000000000000X.%09d.001.K", issuer.TypeResidentIDCard, i)
	return store.Certificate{ID: id, TypeCode: issuer.TypeResidentIDCard, IssuerUSCC: "11310000000000000X",
		Serial: fmt.Sprintf("%09d", i), Version: 1, Number: fmt.Sprintf("%018d", i), HolderSubject: subject,
		HolderKind: "person", Status: "valid", ValidFrom: base, JWS: "eyJhbGciOiJTTTIifQ." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln",
		KeyID: "k", StatusList: "c-bench", StatusIndex: int64(i), IssuedAt: base, UpdatedAt: base}
}

func benchService(tb testing.TB, st store.Store) *Service {
	cat := map[string]issuer.CertificateType{}
	for _, t := range issuer.SeedCatalogue() {
		cat[t.Code] = t
	}
	s := &Service{Store: st, Now: func() time.Time { return time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC) },
		Type: func(_ context.Context, code string) (issuer.CertificateType, error) {
			if t, ok := cat[code]; ok {
				return t, nil
			}
			return issuer.CertificateType{}, store.ErrNotFound
		}}
	if err := s.Seed(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkFullMatch: certificates per second through a full match of the
// aged-care example (reading, deciding, offering, one usage record per holder;
// about one holder in ten qualifies), or with MATCH_ALL=1 of a policy every
// holder qualifies for (the worst case: an offer per holder). MATCH_N sets
// the population (default 20,000).
//
//	TEST_DATABASE_URL=… MATCH_N=1000000 go test ./matching -run '^$' -bench FullMatch -benchtime 1x
func BenchmarkFullMatch(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("MATCH_N")); err == nil && v > 0 {
		n = v
	}
	for _, be := range teststore.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			population(b, st, n)
			s := benchService(b, st)
			code := "EX-GAOLING-310117"
			if os.Getenv("MATCH_ALL") == "1" {
				code = "BENCH-ALL"
				p := benefits.Seed()[0].Policy
				p.Code, p.AreaCodes, p.Example = code, []string{"31"}, false
				p.Criteria = []benefits.Criterion{{CertificateType: issuer.TypeResidentIDCard, Field: "birth_date", Op: benefits.OpAgeGte, Value: json.RawMessage("16")}}
				dept := store.Department{USCC: benefits.SeedDepartmentCivilAffairs, CertificateTypes: []string{issuer.TypeResidentIDCard}}
				if _, err := s.Create(context.Background(), dept, p, audit.Actor{Kind: store.KindSystem, ID: "bench"}, ""); err != nil {
					b.Fatal(err)
				}
			}
			if a, ok := st.(interface{ Analyze(context.Context) error }); ok {
				_ = a.Analyze(context.Background())
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cpu0 := processCPU()
				sum, err := s.Match(context.Background(), code)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(sum.Read)/sum.Elapsed.Seconds(), "certs/s")
				// The matcher's own CPU (this process: user + system) per
				// certificate; the database's is not in it.
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1000/float64(sum.Read), "matcher-cpu-µs/cert")
				b.ReportMetric(float64(sum.Eligible), "eligible")
			}
		})
	}
}

// BenchmarkIncremental: the latency one issuance adds (OnCertificate for
// the holder), as percentiles over b.N holders of a populated store.
func BenchmarkIncremental(b *testing.B) {
	for _, be := range teststore.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			population(b, st, 20000)
			s := benchService(b, st)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := s.OnCertificate(ctx, fmt.Sprintf("sub-%09d", i%20000), issuer.TypeResidentIDCard); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkIssuanceOutbox: what the outbox adds to an issuing transaction.
// Three forms, rotated (so that load on the machine falls on all alike),
// b.N transactions each, one at a time: the certificate alone
// (CreateCertificate), the certificate then its outbox event in a second
// statement (as issuance did before commit ed9a6e0), and both in one
// statement as issuance stores them now (IssueCertificate). It reports each
// form's p50 and p99 and the median of the per-round differences from the
// certificate alone.
//
//	TEST_DATABASE_URL=… go test ./matching -run '^$' -bench IssuanceOutbox -benchtime 3000x
func BenchmarkIssuanceOutbox(b *testing.B) {
	for _, be := range teststore.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			population(b, st, 2000)
			ctx := context.Background()
			pct := func(lat []time.Duration, p int) float64 {
				l := append([]time.Duration(nil), lat...)
				sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
				return float64(l[len(l)*p/100].Microseconds())
			}
			n := 100000
			var lat [3][]time.Duration
			one := func(form int) {
				n++
				c := oneCard(b, fmt.Sprintf("sub-x%09d", n), "1950-01-01", "310117", n)
				ev := store.BenefitEvent{HolderSubject: c.HolderSubject, TypeCode: c.TypeCode, CreatedAt: c.IssuedAt}
				t0 := time.Now()
				if err := st.InTx(ctx, func(q store.Queries) error {
					switch form {
					case 0:
						return q.CreateCertificate(ctx, c)
					case 1:
						if err := q.CreateCertificate(ctx, c); err != nil {
							return err
						}
						return q.AddBenefitEvents(ctx, []store.BenefitEvent{ev})
					}
					return q.IssueCertificate(ctx, c, ev)
				}); err != nil {
					b.Fatal(err)
				}
				lat[form] = append(lat[form], time.Since(t0))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := 0; k < 3; k++ {
					one((i + k) % 3)
				}
			}
			b.StopTimer()
			diff := func(form int) float64 {
				d := make([]time.Duration, b.N)
				for i := range d {
					d[i] = lat[form][i] - lat[0][i]
				}
				sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
				return float64(d[len(d)/2].Microseconds())
			}
			for form, name := range []string{"plain", "two-stmt", "one-stmt"} {
				b.ReportMetric(pct(lat[form], 50), name+"-p50-µs")
				b.ReportMetric(pct(lat[form], 99), name+"-p99-µs")
			}
			b.ReportMetric(diff(1), "two-stmt-added-p50-µs")
			b.ReportMetric(diff(2), "one-stmt-added-p50-µs")
		})
	}
}

// processCPU is the CPU time this process has used (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
