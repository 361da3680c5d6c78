// Command genstatus fills status lists as a city's would be — -slots
// entries (certificates and long-lived codes) in lists of
// issuer.ListEntries, a fraction -bad of them not good (suspended, revoked,
// superseded) — and measures what that costs verifiers. It is the heavy
// half of the scale measurements in docs/performance.md, run by hand, never
// by `go test` (TestGenstatusSmall runs it small).
//
// Without -db it works in memory and prints, for the current list size and,
// as the baseline in the same run, the former one (131,072 entries): the
// bundle's size with a reference to every list, one list's size, all lists'
// size (they are compressed), the time to sign them, and an offline
// verifier's memory and latency with every list loaded. -out DIR also writes
// the bundle, its lists (in the layout of `suishen trust fetch`), the anchor
// key and one certificate per list, for `suishen verify` and /usr/bin/time.
//
//	go run ./tools/genstatus -slots 100000000 -bad 0.02
//	go run ./tools/genstatus -slots 100000000 -bad 0.02 -out /tmp/scale
//
// With -db it fills a PostgreSQL database instead, for a server to publish:
// lists c-FIRST… get synthetic not-good certificate rows (nothing else: a
// good entry needs no row), and with -revoke-real the real certificates
// already in lists before FIRST get -bad of them revoked.
//
//	go run ./tools/genstatus -slots 100000000 -bad 0.02 -db "$SUISHEN_DATABASE_URL" -first 1 -revoke-real
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/sqldb"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

const (
	typeLicence = "11100000000021001C001" // 营业执照
	deptUSCC    = "11100000000013338W"
	publicURL   = "https://suishen.example.gov.cn"
)

func main() {
	slots := flag.Int64("slots", 100_000_000, "status-list slots in use (certificates and long-lived codes)")
	bad := flag.Float64("bad", 0.02, "fraction of slots not good")
	departments := flag.Int("departments", 60, "department keys in the bundle")
	out := flag.String("out", "", "write bundle, lists, anchor.pem and sample certificates here")
	db := flag.String("db", "", "PostgreSQL URL: fill this database instead of measuring in memory")
	first := flag.Int("first", 1, "with -db: the first list to fill (lists before it hold real certificates)")
	revokeReal := flag.Bool("revoke-real", false, "with -db: revoke -bad of the real certificates in lists before -first")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	rng := rand.New(rand.NewPCG(*seed, 2))
	var err error
	if *db != "" {
		err = fill(context.Background(), *db, *slots, *bad, *first, *revokeReal, rng)
	} else {
		for _, entries := range []int{issuer.ListEntries, issuer.MinStatusListSize} {
			var m measure
			m, err = measureSizes(*slots, *bad, entries, *departments, rng, *out, entries == issuer.ListEntries)
			if err != nil {
				break
			}
			m.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genstatus:", err)
		os.Exit(1)
	}
}

// badEntries returns the not-good entries of a list of size entries of
// which used are in use: a fraction bad of them, at distinct random
// indexes, with statuses in the proportions of a city's (renewals
// supersede most).
func badEntries(rng *rand.Rand, size, used int, bad float64) map[int]uint8 {
	n := int(float64(used)*bad + 0.5)
	out := make(map[int]uint8, n)
	for len(out) < n {
		i := rng.IntN(size)
		if _, dup := out[i]; dup {
			continue
		}
		switch r := rng.IntN(100); {
		case r < 10:
			out[i] = issuer.EntrySuspended
		case r < 40:
			out[i] = issuer.EntryRevoked
		default:
			out[i] = issuer.EntrySuperseded
		}
	}
	return out
}

type measure struct {
	entries, lists                int
	bundleBytes, bundleGzip       int
	listMin, listMedian, listMax  int
	listsTotal                    int64
	sign                          time.Duration
	heapBefore, heapAfter         uint64
	firstVerify, cachedVerify     time.Duration
	verifyResultsValid, revokedOK int
}

func (m measure) print(w *os.File) {
	fmt.Fprintf(w, "lists of %d entries: %d lists\n", m.entries, m.lists)
	fmt.Fprintf(w, "  bundle (JWS, references to every list, keys): %d bytes (%.1f KiB), gzip %d bytes\n",
		m.bundleBytes, float64(m.bundleBytes)/1024, m.bundleGzip)
	fmt.Fprintf(w, "  one list (JWS): median %d bytes (min %d, max %d)\n", m.listMedian, m.listMin, m.listMax)
	fmt.Fprintf(w, "  all lists (JWS, gzip inside): %d bytes (%.1f MiB)\n", m.listsTotal, float64(m.listsTotal)/(1<<20))
	fmt.Fprintf(w, "  signing every list (encode + SM2): %s (%.2f ms a list)\n", m.sign.Round(time.Millisecond),
		float64(m.sign.Microseconds())/1000/float64(m.lists))
	fmt.Fprintf(w, "  offline verifier with every list loaded: heap %.1f MiB (%.1f MiB before loading)\n",
		float64(m.heapAfter)/(1<<20), float64(m.heapBefore)/(1<<20))
	fmt.Fprintf(w, "  certificate verification: first in its list %s (digest, list signature, decompression), then %s\n",
		m.firstVerify.Round(time.Microsecond), m.cachedVerify.Round(time.Microsecond))
	fmt.Fprintf(w, "  checks: %d good certificates valid, %d revoked invalid (of %d lists)\n", m.verifyResultsValid, m.revokedOK, m.lists)
}

func newSigner() (signing.Signer, error) {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k), nil
}

func trustKey(s signing.Signer, role string, now time.Time) trust.Key {
	k := trust.Key{JWK: signing.NewJWK(s.Public()), Role: role, NotBefore: now.Add(-24 * time.Hour), Status: trust.StatusActive}
	k.Kid, k.Use, k.Alg = s.KeyID(), "sig", signing.AlgSM2
	return k
}

func listID(entries, k int) string {
	if entries == issuer.ListEntries {
		return "c-" + strconv.Itoa(k)
	}
	return "c" + strconv.Itoa(k)
}

func measureSizes(slots int64, bad float64, entries, departments int, rng *rand.Rand, out string, write bool) (measure, error) {
	m := measure{entries: entries, lists: int((slots + int64(entries) - 1) / int64(entries))}
	now := time.Now().UTC().Truncate(time.Second)
	anchor, err := newSigner()
	if err != nil {
		return m, err
	}
	dept, err := newSigner()
	if err != nil {
		return m, err
	}
	keys := []trust.Key{trustKey(anchor, trust.RoleAnchor, now)}
	for range 2 { // the code key and its predecessor in overlap
		s, err := newSigner()
		if err != nil {
			return m, err
		}
		keys = append(keys, trustKey(s, trust.RoleCode, now))
	}
	for i := range departments {
		s := dept
		if i > 0 {
			if s, err = newSigner(); err != nil {
				return m, err
			}
		}
		k := trustKey(s, trust.RoleDepartment, now)
		k.DepartmentUSCC = deptUSCC
		k.CertificateTypes = []string{typeLicence, "11100000000021002F001", "11310000000031001M001"}
		keys = append(keys, k)
	}

	// The lists; for each, one good and one revoked entry to verify.
	lists := verifier.Lists{}
	refs := make([]trust.StatusListRef, 0, m.lists)
	good := make([]int, m.lists)
	revoked := make([]int, m.lists)
	var sizes []int
	for k := range m.lists {
		used := entries
		if rest := slots - int64(k)*int64(entries); rest < int64(entries) {
			used = int(rest)
		}
		l := issuer.NewStatusList(listID(entries, k), entries)
		revoked[k] = -1
		for i, v := range badEntries(rng, entries, used, bad) {
			if err := l.Set(i, v); err != nil {
				return m, err
			}
			if v == issuer.EntryRevoked && revoked[k] < 0 {
				revoked[k] = i
			}
		}
		for good[k] = rng.IntN(entries); l.Get(good[k]) != issuer.EntryGood; good[k] = rng.IntN(entries) {
		}
		start := time.Now()
		p, err := issuer.NewStatusListPayload(l, now, now.Add(48*time.Hour))
		if err != nil {
			return m, err
		}
		jws, err := issuer.SignStatusList(anchor, p)
		if err != nil {
			return m, err
		}
		m.sign += time.Since(start)
		lists[l.ID] = jws
		sizes = append(sizes, len(jws))
		m.listsTotal += int64(len(jws))
		refs = append(refs, trust.StatusListRef{ID: l.ID, Kind: trust.ListCertificates, Version: 1, SM3: trust.ListDigest(jws),
			URL: publicURL + "/v1/status-lists/" + l.ID})
	}
	slices.Sort(sizes)
	m.listMin, m.listMedian, m.listMax = sizes[0], sizes[len(sizes)/2], sizes[len(sizes)-1]
	b := trust.Bundle{Issuer: publicURL, IssuedAt: now, NextUpdate: now.Add(15 * time.Minute), ExpiresAt: now.Add(48 * time.Hour),
		Keys: keys, StatusLists: refs}
	bundle, err := trust.Sign(anchor, b)
	if err != nil {
		return m, err
	}
	m.bundleBytes = len(bundle)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(bundle))
	zw.Close()
	m.bundleGzip = gz.Len()

	// Certificates pointing into each list.
	var typ issuer.CertificateType
	for _, t := range issuer.SeedCatalogue() {
		if t.Code == typeLicence {
			typ = t
		}
	}
	cert := func(k, index, serial int) (string, error) {
		id, err := ident.NewCertificateID(typ.Code, deptUSCC, issuer.Serial(2026, int64(serial)), 1)
		if err != nil {
			return "", err
		}
		first17 := fmt.Sprintf("91310104MA%07d", serial%10000000)
		check, _ := ident.USCCCheckChar(first17)
		req := issuer.IssueRequest{TypeCode: typ.Code, Number: "G" + strconv.Itoa(serial), LongTerm: true, AreaCode: "310104",
			ValidFrom: now.Add(-48 * time.Hour), Holder: issuer.Holder{Kind: issuer.HolderEnterprise, Name: "上海样例科技有限公司",
				IDType: issuer.IDTypeUSCC, IDNumber: first17 + string(check)},
			Fields: map[string]any{"name": "上海样例科技有限公司", "entity_type": "有限责任公司（自然人投资或控股）", "legal_representative": "王五",
				"registered_capital": "100万元人民币", "establishment_date": "2020-05-01", "domicile": "上海市徐汇区虹桥路1号",
				"business_scope": "技术开发", "registration_authority": "上海市徐汇区市场监督管理局"}}
		if errs := issuer.ValidateRequest(typ, req, now); len(errs) > 0 {
			return "", fmt.Errorf("sample certificate: %v", errs[0])
		}
		d := issuer.BuildDocument(typ, "上海市市场监督管理局", deptUSCC, id, req, now.Add(-time.Hour), "", listID(entries, k), index)
		return issuer.SignDocument(dept, d)
	}
	goodCerts := make([]string, m.lists)
	revokedCerts := make([]string, m.lists)
	for k := range m.lists {
		if goodCerts[k], err = cert(k, good[k], 2*k+1); err != nil {
			return m, err
		}
		if revoked[k] >= 0 {
			if revokedCerts[k], err = cert(k, revoked[k], 2*k+2); err != nil {
				return m, err
			}
		}
	}

	// The offline verifier: memory with every list loaded, latency of the
	// first certificate of a list and of the next ones.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapBefore = ms.HeapAlloc
	v, err := verifier.New(bundle, anchor.Public(), verifier.Options{Lists: lists})
	if err != nil {
		return m, err
	}
	var firsts, cached []time.Duration
	for k := range m.lists {
		start := time.Now()
		r := v.VerifyCertificate(goodCerts[k])
		firsts = append(firsts, time.Since(start))
		if r.Result == verifier.Valid {
			m.verifyResultsValid++
		}
		start = time.Now()
		v.VerifyCertificate(goodCerts[k])
		cached = append(cached, time.Since(start))
		if revokedCerts[k] != "" && v.VerifyCertificate(revokedCerts[k]).HasReason(verifier.ReasonRevoked) {
			m.revokedOK++
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	m.heapAfter = ms.HeapAlloc
	runtime.KeepAlive(v)
	slices.Sort(firsts)
	slices.Sort(cached)
	m.firstVerify, m.cachedVerify = firsts[len(firsts)/2], cached[len(cached)/2]

	if out != "" && write {
		if err := writeOut(out, bundle, anchor, b, lists, goodCerts[0], revokedCerts[0]); err != nil {
			return m, err
		}
	}
	return m, nil
}

// writeOut writes the layout of `suishen trust fetch --out DIR/trust.jws`,
// the anchor key and two sample certificates.
func writeOut(dir, bundle string, anchor signing.Signer, b trust.Bundle, lists verifier.Lists, good, revoked string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d := trustsync.DirFor(filepath.Join(dir, "trust.jws"))
	for _, ref := range b.StatusLists {
		if err := d.Save(ref, lists[ref.ID]); err != nil {
			return err
		}
	}
	pemBytes, err := signing.MarshalPublicKeyPEM(anchor.Public())
	if err != nil {
		return err
	}
	for name, content := range map[string]string{"trust.jws": bundle + "\n", "anchor.pem": string(pemBytes),
		"good.jws": good + "\n", "revoked.jws": revoked + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fill writes synthetic not-good certificate rows into lists c-first…
// of a migrated PostgreSQL database, and optionally revokes a fraction of
// the real certificates in the lists before.
func fill(ctx context.Context, url string, slots int64, bad float64, first int, revokeReal bool, rng *rand.Rand) error {
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	pool := st.Pool()
	now := time.Now().UTC().Truncate(time.Microsecond)
	lists := int((slots + issuer.ListEntries - 1) / issuer.ListEntries)
	start := time.Now()
	var rows int64
	for k := first; k < lists; k++ {
		used := issuer.ListEntries
		if rest := slots - int64(k)*issuer.ListEntries; rest < issuer.ListEntries {
			used = int(rest)
		}
		id := "c-" + strconv.Itoa(k)
		entries := badEntries(rng, issuer.ListEntries, used, bad)
		certs := make([]store.Certificate, 0, len(entries))
		for i, v := range entries {
			status := map[uint8]string{issuer.EntrySuspended: "suspended", issuer.EntryRevoked: "revoked", issuer.EntrySuperseded: "superseded"}[v]
			n := "S" + strconv.Itoa(k) + "-" + strconv.Itoa(i)
			certs = append(certs, store.Certificate{ID: "synthetic." + n, TypeCode: typeLicence, IssuerUSCC: "SYNTHETIC",
				Serial: n, Version: 1, Number: n, HolderSubject: "synthetic", HolderKind: "enterprise", Status: status,
				ValidFrom: now, JWS: "synthetic", KeyID: "synthetic", StatusList: id, StatusIndex: int64(i), IssuedAt: now, UpdatedAt: now})
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO status_lists (id, created_at, updated_at) VALUES ($1, $2, $2)
				ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at`, id, now); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"certificates"}, sqldb.CertificateColumns,
				pgx.CopyFromSlice(len(certs), func(i int) ([]any, error) { return sqldb.CertificateValues(certs[i]), nil }))
			return err
		})
		if err != nil {
			return fmt.Errorf("list %s: %w", id, err)
		}
		rows += int64(len(certs))
		fmt.Fprintf(os.Stderr, "\rlist %s: %d not-good rows so far, %s", id, rows, time.Since(start).Round(time.Second))
	}
	fmt.Fprintln(os.Stderr)
	if revokeReal {
		tag, err := pool.Exec(ctx, `UPDATE certificates SET status = 'revoked', status_reason = 'genstatus', updated_at = $2
			WHERE issuer_uscc <> 'SYNTHETIC' AND status = 'valid' AND random() < $1`, bad, now)
		if err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, `UPDATE status_lists SET updated_at = $1 WHERE id IN
			(SELECT DISTINCT status_list FROM certificates WHERE status_reason = 'genstatus')`, now); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "revoked %d real certificates\n", tag.RowsAffected())
	}
	if _, err := pool.Exec(ctx, `ANALYZE certificates, status_lists`); err != nil {
		return err
	}
	fmt.Printf("filled lists c-%d…c-%d: %d synthetic not-good rows in %s\n", first, lists-1, rows, time.Since(start).Round(time.Second))
	return nil
}
