package storetest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// Catalogue and certificate tests.

const (
	typeFood   = "11100000000021001C002" // 食品经营许可证
	typeID     = "11100000000021002F001" // 居民身份证
	issuerA    = "11310000000031001M"
	issuerB    = "11310104000031002P"
	statusList = "sl-2026-0001"
)

func certType(code, name, kind string, seeded bool) store.CertificateType {
	return store.CertificateType{
		Code: code, Name: name, HolderKind: kind, Seeded: seeded, CreatedAt: base,
		// Member order, spacing and escapes as a client might send them:
		// the store keeps the text.
		Spec: []byte(`{"code":"` + code + `",  "name":"` + name + `", "fields":[{"name":"x","label":"照面\u4fe1\u606f"}],"validity_years":5}`),
	}
}

func normCertType(ct store.CertificateType) store.CertificateType {
	ct.CreatedAt = utc(ct.CreatedAt)
	ct.Spec = nb(ct.Spec)
	return ct
}

// jws returns a compact-JWS-like text whose payload is a non-canonical
// document; it must come back exactly as stored.
func jws(id string) string {
	doc := "{\"identifier\":\"" + id + "\",  \"name\":\"食品经营许可证\",\n\t\"fields\":{\"b\":1,\"a\":\"\\u00e9\"}}\r\n"
	return "eyJhbGciOiJTTTIifQ." + base64.RawURLEncoding.EncodeToString([]byte(doc)) + ".sig-" + id
}

// cert returns a valid version-v certificate of type typ by issuer with the
// given number; serial and status index derive from slot.
func cert(typ, issuer, number string, v int, slot int64) store.Certificate {
	serial := fmt.Sprintf("2026%07d", slot)
	id := fmt.Sprintf("1.2.156.3005.2.%s.%s.%s.%03d.K", typ, issuer, serial, v)
	until := base.AddDate(5, 0, 0)
	return store.Certificate{
		ID: id, TypeCode: typ, IssuerUSCC: issuer, Serial: serial, Version: v, Number: number,
		HolderSubject: "sub-" + number, HolderKind: "enterprise", Status: "valid",
		ValidFrom: base, ValidUntil: &until, JWS: jws(id),
		KeyID: "kid-dep-1", StatusList: statusList, StatusIndex: slot * 7919 % 131072,
		IssuedAt: base.Add(time.Duration(slot) * time.Second), UpdatedAt: base.Add(time.Duration(slot) * time.Second),
	}
}

func normCert(c store.Certificate) store.Certificate {
	c.ValidFrom, c.IssuedAt, c.UpdatedAt = utc(c.ValidFrom), utc(c.IssuedAt), utc(c.UpdatedAt)
	c.ValidUntil = utcp(c.ValidUntil)
	return c
}

func checkCert(t *testing.T, got, want store.Certificate) {
	t.Helper()
	checkUTC(t, "certificate "+want.ID, got.ValidFrom, got.ValidUntil, got.IssuedAt, got.UpdatedAt)
	if got.JWS != want.JWS {
		t.Fatalf("certificate %s: the JWS is not what was stored:\n got  %q\n want %q", want.ID, got.JWS, want.JWS)
	}
	same(t, "certificate "+want.ID, normCert(got), normCert(want))
}

func certIDs(cs []store.Certificate) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func statusLists(t *testing.T, s store.Store) map[string]time.Time {
	t.Helper()
	ls, err := s.StatusLists(t.Context())
	ok(t, err, "status lists")
	m := map[string]time.Time{}
	for i, l := range ls {
		checkUTC(t, "status list "+l.ID, l.UpdatedAt)
		if i > 0 && ls[i-1].ID >= l.ID {
			t.Fatalf("status lists not in byte order of ID: %q before %q", ls[i-1].ID, l.ID)
		}
		m[l.ID] = l.UpdatedAt
	}
	return m
}

func testCertificateTypes(t *testing.T, s store.Store) {
	ctx := t.Context()
	food := certType(typeFood, "食品经营许可证", "enterprise", true)
	id := certType(typeID, "居民身份证", "person", false)
	ok(t, s.CreateCertificateType(ctx, food), "create food")
	ok(t, s.CreateCertificateType(ctx, id), "create id card")
	for _, want := range []store.CertificateType{food, id} {
		got, err := s.GetCertificateType(ctx, want.Code)
		ok(t, err, "get "+want.Code)
		checkUTC(t, "certificate type", got.CreatedAt)
		if !bytes.Equal(got.Spec, want.Spec) {
			t.Errorf("spec of %s: got %s, want %s as stored", want.Code, got.Spec, want.Spec)
		}
		same(t, "certificate type "+want.Code, normCertType(got), normCertType(want))
	}
	_, err := s.GetCertificateType(ctx, "11100000000021009X001")
	wantErr(t, err, store.ErrNotFound, "get missing")

	dup := certType(typeFood, "another name", "person", false)
	wantErr(t, s.CreateCertificateType(ctx, dup), store.ErrAlreadyExists, "duplicate code")
	got, err := s.GetCertificateType(ctx, typeFood)
	ok(t, err, "get after duplicate")
	same(t, "first type wins", normCertType(got), normCertType(food))

	for _, spec := range []string{`not json`, `["an","array"]`, ``} {
		bad := certType("bad-spec", "x", "person", false)
		bad.Spec = []byte(spec)
		if err := s.CreateCertificateType(ctx, bad); err == nil {
			t.Errorf("spec %q (not a JSON object) was accepted", spec)
		}
	}
	bad := certType("bad-kind", "x", "robot", false)
	if err := s.CreateCertificateType(ctx, bad); err == nil {
		t.Error("holder kind robot was accepted")
	}

	codes := []string{typeFood, typeID}
	for _, c := range shuffled(awkwardIDs) {
		ok(t, s.CreateCertificateType(ctx, certType(c, "t "+c, "person", false)), "create "+c)
		codes = append(codes, c)
	}
	list := func(after string, limit int) ([]store.CertificateType, error) {
		return s.ListCertificateTypes(ctx, after, limit)
	}
	code := func(ct store.CertificateType) string { return ct.Code }
	for _, limit := range []int{1, 4, len(codes)} {
		same(t, fmt.Sprintf("type pages of %d", limit), paginate(t, limit, list, code), byteOrder(codes))
	}
	all, err := s.ListCertificateTypes(ctx, "", 0)
	ok(t, err, "list with limit 0")
	if len(all) != len(codes) {
		t.Errorf("limit 0 gave %d types, want all %d", len(all), len(codes))
	}
	for _, ct := range all {
		if ct.Code == typeFood {
			same(t, "listed type", normCertType(ct), normCertType(food))
		}
	}
}

func testCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(typeFood, issuerA, "JY13101040012345", 1, 1)
	long := cert(typeID, issuerA, "11010519491231002X", 1, 2)
	long.HolderKind, long.ValidUntil = "person", nil // 长期
	long.ValidFrom = time.Date(2026, 1, 5, 11, 0, 0, 999, time.FixedZone("CST", 8*3600))
	for _, want := range []store.Certificate{c, long} {
		ok(t, s.CreateCertificate(ctx, want), "create "+want.ID)
		got, err := s.GetCertificate(ctx, want.ID)
		ok(t, err, "get "+want.ID)
		checkCert(t, got, want)
	}
	got, err := s.GetCertificate(ctx, long.ID)
	ok(t, err, "get long-term")
	if got.ValidUntil != nil {
		t.Errorf("long-term certificate has ValidUntil %v, want nil", got.ValidUntil)
	}
	_, err = s.GetCertificate(ctx, "1.2.156.3005.2.missing")
	wantErr(t, err, store.ErrNotFound, "get missing")

	// Versions: GetCertificateByNumber returns the highest.
	v2 := cert(typeFood, issuerA, c.Number, 2, 3)
	v2.Serial = c.Serial // a renewal keeps the serial
	v2.ID = strings.Replace(c.ID, ".001.", ".002.", 1)
	v2.PredecessorID = c.ID
	v10 := v2
	v10.Version, v10.ID, v10.StatusIndex, v10.PredecessorID = 10, strings.Replace(c.ID, ".001.", ".010.", 1), 99, v2.ID
	for _, x := range []store.Certificate{v10, v2} { // out of order
		ok(t, s.CreateCertificate(ctx, x), "create version")
	}
	got, err = s.GetCertificateByNumber(ctx, typeFood, issuerA, c.Number)
	ok(t, err, "get by number")
	checkCert(t, got, v10)
	got, err = s.GetCertificateByNumber(ctx, typeID, issuerA, long.Number)
	ok(t, err, "get by number, one version")
	checkCert(t, got, long)
	for _, k := range [][3]string{
		{typeFood, issuerA, "JY00000000000000"},
		{typeFood, issuerB, c.Number},
		{typeID, issuerA, c.Number},
	} {
		_, err = s.GetCertificateByNumber(ctx, k[0], k[1], k[2])
		wantErr(t, err, store.ErrNotFound, fmt.Sprintf("get by number %v", k))
	}

	// Inside a transaction, reads see the transaction's writes.
	in := cert(typeFood, issuerB, "JY99", 1, 4)
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateCertificate(ctx, in); err != nil {
			return err
		}
		got, err := q.GetCertificateByNumber(ctx, in.TypeCode, in.IssuerUSCC, in.Number)
		if err != nil {
			return err
		}
		if got.ID != in.ID {
			return fmt.Errorf("read own write: %s", got.ID)
		}
		return nil
	}), "InTx")
	got, err = s.GetCertificate(ctx, in.ID)
	ok(t, err, "get committed")
	checkCert(t, got, in)

	// A transaction that fails leaves neither certificate nor status list.
	other := cert(typeFood, issuerB, "JY98", 1, 5)
	other.StatusList = "sl-rolled-back"
	err = s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateCertificate(ctx, other); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "failing InTx")
	_, err = s.GetCertificate(ctx, other.ID)
	wantErr(t, err, store.ErrNotFound, "rolled-back certificate")
	if _, found := statusLists(t, s)[other.StatusList]; found {
		t.Error("a rolled-back certificate left its status list behind")
	}
}

func testCertificateUniqueKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(typeFood, issuerA, "JY1", 1, 1)
	ok(t, s.CreateCertificate(ctx, c), "create")
	for _, tc := range []struct {
		name string
		mod  func(*store.Certificate)
	}{
		{"id", func(x *store.Certificate) {}},
		{"type, issuer, number, version", func(x *store.Certificate) { x.ID += "-2" }},
		{"type, issuer, serial, version", func(x *store.Certificate) {
			x.ID, x.Number, x.StatusIndex = x.ID+"-3", "JY-other", 424242
		}},
		{"status list and index", func(x *store.Certificate) {
			x.ID, x.Number, x.Serial = x.ID+"-4", "JY-other", "20269999999"
		}},
	} {
		dup := cert(typeFood, issuerA, "JY1", 1, 1)
		dup.JWS = jws("dup")
		tc.mod(&dup)
		wantErr(t, s.CreateCertificate(ctx, dup), store.ErrAlreadyExists, "duplicate "+tc.name)
		if tc.name != "id" {
			_, err := s.GetCertificate(ctx, dup.ID)
			wantErr(t, err, store.ErrNotFound, "duplicate "+tc.name+" stored")
		}
	}
	got, err := s.GetCertificate(ctx, c.ID)
	ok(t, err, "get after duplicates")
	checkCert(t, got, c)

	// Each key alone is not a collision.
	for i, mod := range []func(*store.Certificate){
		func(x *store.Certificate) { x.Version = 2 },          // next version, same number and serial
		func(x *store.Certificate) { x.IssuerUSCC = issuerB }, // same number, other issuer
		func(x *store.Certificate) { x.TypeCode = typeID; x.HolderKind = "person" },
	} {
		x := cert(typeFood, issuerA, "JY1", 1, 1)
		mod(&x)
		x.ID = fmt.Sprintf("%s-ok%d", c.ID, i)
		x.StatusIndex = int64(1000 + i)
		ok(t, s.CreateCertificate(ctx, x), fmt.Sprintf("create variant %d", i))
	}
	// The same index in another list is another slot.
	x := cert(typeFood, issuerA, "JY2", 1, 2)
	x.StatusIndex, x.StatusList = c.StatusIndex, "sl-other"
	ok(t, s.CreateCertificate(ctx, x), "same index, other list")

	// Values outside the schema are refused.
	for name, mod := range map[string]func(*store.Certificate){
		"status":      func(x *store.Certificate) { x.Status = "expired" },
		"holder kind": func(x *store.Certificate) { x.HolderKind = "robot" },
		"version":     func(x *store.Certificate) { x.Version = 0 },
	} {
		x := cert(typeFood, issuerA, "JY-bad-"+name, 1, 50)
		mod(&x)
		if err := s.CreateCertificate(ctx, x); err == nil || errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("certificate with a bad %s: %v, want a schema error", name, err)
		}
	}
}

func testCertificateStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(typeFood, issuerA, "JY1", 1, 1)
	ok(t, s.CreateCertificate(ctx, c), "create")

	at := base.Add(24 * time.Hour)
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "valid", To: "suspended", Reason: "责令停业整顿", At: at,
	}), "suspend")
	want := c
	want.Status, want.StatusReason, want.UpdatedAt = "suspended", "责令停业整顿", at
	got, err := s.GetCertificate(ctx, c.ID)
	ok(t, err, "get suspended")
	checkCert(t, got, want)

	// The certificate is no longer valid: a second suspension conflicts and
	// changes nothing.
	err = s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "valid", To: "revoked", Reason: "x", At: at.Add(time.Hour),
	})
	wantErr(t, err, store.ErrConflict, "change from a status it is not in")
	got, err = s.GetCertificate(ctx, c.ID)
	ok(t, err, "get after conflict")
	checkCert(t, got, want)

	err = s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: "1.2.156.3005.2.missing", From: "valid", To: "revoked", At: at,
	})
	wantErr(t, err, store.ErrNotFound, "change an unknown certificate")

	// Inside InTx the conflict comes back as it is, without retries.
	calls := 0
	err = s.InTx(ctx, func(q store.Queries) error {
		calls++
		return q.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: c.ID, From: "valid", To: "revoked", At: at})
	})
	wantErr(t, err, store.ErrConflict, "conflict inside InTx")
	if calls != 1 {
		t.Errorf("fn ran %d times after ErrConflict, want 1", calls)
	}

	// Resume, then supersede: the successor is recorded, and kept by a
	// later change that names none.
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "suspended", To: "valid", At: at.Add(2 * time.Hour),
	}), "resume")
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "valid", To: "superseded", Reason: "换发", SuccessorID: "successor-id", At: at.Add(3 * time.Hour),
	}), "supersede")
	want.Status, want.StatusReason, want.SuccessorID, want.UpdatedAt = "superseded", "换发", "successor-id", at.Add(3*time.Hour)
	got, err = s.GetCertificate(ctx, c.ID)
	ok(t, err, "get superseded")
	checkCert(t, got, want)
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "superseded", To: "cancelled", Reason: "注销", At: at.Add(4 * time.Hour),
	}), "cancel")
	got, err = s.GetCertificate(ctx, c.ID)
	ok(t, err, "get cancelled")
	if got.SuccessorID != "successor-id" || got.Status != "cancelled" {
		t.Errorf("after cancelling: status %q, successor %q; want cancelled, successor kept", got.Status, got.SuccessorID)
	}
	if err := s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
		ID: c.ID, From: "cancelled", To: "expired", At: at,
	}); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("change to a status outside the schema: %v, want a schema error", err)
	}
}

// testConcurrentStatusChanges: of racing changes from the same status,
// exactly one wins and the others conflict.
func testConcurrentStatusChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(typeFood, issuerA, "JY1", 1, 1)
	ok(t, s.CreateCertificate(ctx, c), "create")
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			errs[i] = s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
				ID: c.ID, From: "valid", To: "revoked", Reason: fmt.Sprint("racer ", i), At: base.Add(time.Hour),
			})
		})
	}
	wg.Wait()
	wins, winner := 0, -1
	for i, err := range errs {
		switch {
		case err == nil:
			wins, winner = wins+1, i
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racing changes succeeded, want exactly 1", wins)
	}
	got, err := s.GetCertificate(ctx, c.ID)
	ok(t, err, "get")
	if got.Status != "revoked" || got.StatusReason != fmt.Sprint("racer ", winner) {
		t.Errorf("status %q, reason %q; want the winner's", got.Status, got.StatusReason)
	}
}

func testStatusLists(t *testing.T, s store.Store) {
	ctx := t.Context()
	if ls := statusLists(t, s); len(ls) != 0 {
		t.Fatalf("empty store has status lists %v", ls)
	}
	a := cert(typeFood, issuerA, "JY1", 1, 1)
	ok(t, s.CreateCertificate(ctx, a), "create first")
	t0 := utc(a.IssuedAt)
	same(t, "new list", statusLists(t, s), map[string]time.Time{statusList: t0})

	// Issuing more valid entries changes no bits: UpdatedAt stays.
	b := cert(typeFood, issuerA, "JY2", 1, 2)
	ok(t, s.CreateCertificate(ctx, b), "create second")
	bulk := []store.Certificate{cert(typeFood, issuerA, "JY3", 1, 3), cert(typeFood, issuerA, "JY4", 1, 4)}
	_, err := s.CreateCertificates(ctx, bulk)
	ok(t, err, "bulk into the same list")
	same(t, "after more issuance", statusLists(t, s), map[string]time.Time{statusList: t0})

	// A status change brings it to the change's time.
	t1 := base.Add(48 * time.Hour)
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: b.ID, From: "valid", To: "suspended", At: t1}), "suspend")
	same(t, "after a change", statusLists(t, s), map[string]time.Time{statusList: utc(t1)})

	// A change that does not apply bumps nothing.
	err = s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: b.ID, From: "valid", To: "revoked", At: t1.Add(time.Hour)})
	wantErr(t, err, store.ErrConflict, "conflicting change")
	same(t, "after a conflicting change", statusLists(t, s), map[string]time.Time{statusList: utc(t1)})

	// Every change moves UpdatedAt forward, also one stamped earlier (another
	// node's clock) or at the same instant: by a microsecond past the last.
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: a.ID, From: "valid", To: "revoked", At: t1.Add(-time.Minute)}), "revoke")
	same(t, "after an earlier-stamped change", statusLists(t, s), map[string]time.Time{statusList: utc(t1).Add(time.Microsecond)})
	got, err := s.GetCertificate(ctx, a.ID)
	ok(t, err, "get revoked")
	if !got.UpdatedAt.Equal(utc(t1.Add(-time.Minute))) {
		t.Errorf("certificate UpdatedAt %v, want the change's own time", got.UpdatedAt)
	}
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: b.ID, From: "suspended", To: "valid", At: t1.Add(time.Microsecond)}), "resume")
	same(t, "after a change at the same instant", statusLists(t, s), map[string]time.Time{statusList: utc(t1).Add(2 * time.Microsecond)})
	t2 := t1.Add(time.Hour)
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: b.ID, From: "valid", To: "cancelled", At: t2}), "cancel")
	same(t, "after a later change", statusLists(t, s), map[string]time.Time{statusList: utc(t2)})

	// Other lists: created by issuance, listed in byte order of ID, each
	// bumped on its own.
	want := map[string]time.Time{statusList: utc(t2)}
	for i, id := range shuffled(awkwardIDs) {
		c := cert(typeID, issuerB, "N"+id, 1, int64(100+i))
		c.HolderKind, c.StatusList = "person", id
		ok(t, s.CreateCertificate(ctx, c), "create in list "+id)
		want[id] = utc(c.IssuedAt)
		if id == "b" {
			ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: c.ID, From: "valid", To: "cancelled", At: t2}), "cancel in b")
			want[id] = utc(t2)
		}
	}
	same(t, "all lists", statusLists(t, s), want)
}

func testStatusEntries(t *testing.T, s store.Store) {
	ctx := t.Context()
	var cs []store.Certificate
	for i := range 12 {
		c := cert(typeFood, issuerA, fmt.Sprint("JY", i), 1, int64(i+1))
		c.StatusIndex = int64((12 - i) * 1000) // index order is not issue order
		if i%4 == 3 {
			c.StatusList = "sl-other"
		}
		cs = append(cs, c)
	}
	_, err := s.CreateCertificates(ctx, cs)
	ok(t, err, "create")
	entries, err := s.StatusEntries(ctx, statusList)
	ok(t, err, "entries of an all-valid list")
	if entries == nil || len(entries) != 0 {
		t.Fatalf("all-valid list: entries %v, want an empty list", entries)
	}

	at := base.Add(time.Hour)
	for i, to := range map[int]string{0: "suspended", 2: "revoked", 5: "cancelled", 6: "superseded", 3: "revoked"} {
		ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: cs[i].ID, From: "valid", To: to, At: at}), "change")
	}
	// Suspended and then resumed: valid again, so not listed.
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: cs[1].ID, From: "valid", To: "suspended", At: at}), "suspend")
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: cs[1].ID, From: "suspended", To: "valid", At: at}), "resume")

	entries, err = s.StatusEntries(ctx, statusList)
	ok(t, err, "entries")
	same(t, "entries", entries, []store.StatusEntry{
		{Index: cs[6].StatusIndex, Status: "superseded"},
		{Index: cs[5].StatusIndex, Status: "cancelled"},
		{Index: cs[2].StatusIndex, Status: "revoked"},
		{Index: cs[0].StatusIndex, Status: "suspended"},
	})
	entries, err = s.StatusEntries(ctx, "sl-other")
	ok(t, err, "entries of the other list")
	same(t, "other list", entries, []store.StatusEntry{{Index: cs[3].StatusIndex, Status: "revoked"}})
	entries, err = s.StatusEntries(ctx, "sl-unknown")
	ok(t, err, "entries of an unknown list")
	if len(entries) != 0 {
		t.Errorf("unknown list has entries %v", entries)
	}
}

func testNextCertificateNumbers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, n := range []int{0, -1} {
		if _, err := s.NextCertificateNumbers(ctx, n); err == nil {
			t.Errorf("NextCertificateNumbers(%d) succeeded", n)
		}
	}
	a, err := s.NextCertificateNumbers(ctx, 1)
	ok(t, err, "first")
	if a < 1 {
		t.Fatalf("first number %d, want at least 1", a)
	}
	b, err := s.NextCertificateNumbers(ctx, 10_000)
	ok(t, err, "10,000 at once")
	c, err := s.NextCertificateNumbers(ctx, 1)
	ok(t, err, "after 10,000")
	if b <= a || c < b+10_000 {
		t.Fatalf("reservations 1@%d, 10000@%d, 1@%d overlap or go back", a, b, c)
	}

	// A reservation in a transaction that rolls back may be lost or given
	// out again, but never moves the counter back below committed ones.
	err = s.InTx(ctx, func(q store.Queries) error {
		if _, err := q.NextCertificateNumbers(ctx, 5); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "rolled back")
	d, err := s.NextCertificateNumbers(ctx, 1)
	ok(t, err, "after rollback")
	if d <= c {
		t.Fatalf("after a rollback: %d, not after the committed %d", d, c)
	}

	// Racing callers, in and out of transactions, get disjoint ranges, each
	// caller's later than its earlier ones.
	type rng struct{ first, n int64 }
	const callers, perCaller = 8, 25
	got := make([][]rng, callers)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for w := range callers {
		wg.Go(func() {
			for i := range perCaller {
				n := 1 + (w*perCaller+i)*7%50
				var first int64
				var err error
				if i%2 == 0 {
					first, err = s.NextCertificateNumbers(ctx, n)
				} else {
					err = s.InTx(ctx, func(q store.Queries) error {
						var err error
						first, err = q.NextCertificateNumbers(ctx, n)
						return err
					})
				}
				if err != nil {
					errs <- fmt.Errorf("caller %d: %w", w, err)
					return
				}
				got[w] = append(got[w], rng{first, int64(n)})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []rng
	for w, rs := range got {
		for i := 1; i < len(rs); i++ {
			if rs[i].first < rs[i-1].first+rs[i-1].n {
				t.Errorf("caller %d: range %v after %v", w, rs[i], rs[i-1])
			}
		}
		all = append(all, rs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].first < all[j].first })
	if all[0].first <= d {
		t.Errorf("racing reservation %v not after the earlier %d", all[0], d)
	}
	for i := 1; i < len(all); i++ {
		if all[i].first < all[i-1].first+all[i-1].n {
			t.Fatalf("ranges overlap: %v and %v", all[i-1], all[i])
		}
	}
}

func testCreateCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids, err := s.CreateCertificates(ctx, nil)
	ok(t, err, "empty batch")
	if len(ids) != 0 {
		t.Fatalf("empty batch inserted %v", ids)
	}

	stored := cert(typeFood, issuerA, "JY1", 1, 1)
	ok(t, s.CreateCertificate(ctx, stored), "create")
	t0 := utc(stored.IssuedAt)

	newList := "sl-new"
	fresh := []store.Certificate{
		cert(typeFood, issuerA, "JY2", 1, 2),
		cert(typeFood, issuerA, "JY3", 1, 3),
		cert(typeFood, issuerB, "JY4", 1, 4),
		cert(typeFood, issuerB, "JY5", 1, 5),
	}
	fresh[1].ValidUntil = nil
	fresh[2].StatusList, fresh[3].StatusList = newList, newList
	fresh[3].IssuedAt = fresh[2].IssuedAt.Add(-time.Hour) // the list's earliest issuance
	sameID := stored
	sameID.JWS = jws("replaced")
	sameNumber := cert(typeFood, issuerA, "JY1", 1, 6) // another ID, serial and slot
	inBatchDup := fresh[0]
	inBatchDup.JWS = jws("second")
	batch := []store.Certificate{sameID, fresh[0], fresh[1], sameNumber, fresh[2], inBatchDup, fresh[3]}

	ids, err = s.CreateCertificates(ctx, batch)
	ok(t, err, "batch")
	same(t, "inserted IDs", ids, certIDs(fresh))
	for _, want := range append(fresh, stored) {
		got, err := s.GetCertificate(ctx, want.ID)
		ok(t, err, "get "+want.ID)
		checkCert(t, got, want)
	}
	_, err = s.GetCertificate(ctx, sameNumber.ID)
	wantErr(t, err, store.ErrNotFound, "row with a taken number")
	same(t, "status lists", statusLists(t, s), map[string]time.Time{statusList: t0, newList: utc(fresh[3].IssuedAt)})

	// Again: nothing new.
	ids, err = s.CreateCertificates(ctx, batch)
	ok(t, err, "batch again")
	if len(ids) != 0 {
		t.Fatalf("second run inserted %v", ids)
	}

	// Twice in one transaction, and a rolled-back batch.
	more := []store.Certificate{cert(typeID, issuerA, "N1", 1, 10), cert(typeID, issuerA, "N2", 1, 11)}
	for i := range more {
		more[i].HolderKind = "person"
	}
	var got1, got2 []string
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		var err error
		if got1, err = q.CreateCertificates(ctx, more[:1]); err != nil {
			return err
		}
		got2, err = q.CreateCertificates(ctx, more)
		return err
	}), "two batches in one transaction")
	same(t, "first batch", got1, certIDs(more[:1]))
	same(t, "second batch", got2, certIDs(more[1:]))
	rolled := cert(typeID, issuerA, "N3", 1, 12)
	rolled.HolderKind, rolled.StatusList = "person", "sl-rolled-back"
	err = s.InTx(ctx, func(q store.Queries) error {
		if _, err := q.CreateCertificates(ctx, []store.Certificate{rolled}); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "rolled back")
	_, err = s.GetCertificate(ctx, rolled.ID)
	wantErr(t, err, store.ErrNotFound, "rolled-back row")
	if _, found := statusLists(t, s)["sl-rolled-back"]; found {
		t.Error("a rolled-back batch left its status list behind")
	}

	// A row the schema refuses fails the whole batch.
	bad := cert(typeID, issuerA, "N4", 1, 13)
	bad.HolderKind = "robot"
	good := cert(typeID, issuerA, "N5", 1, 14)
	good.HolderKind = "person"
	if _, err := s.CreateCertificates(ctx, []store.Certificate{good, bad}); err == nil {
		t.Error("a batch with a bad row succeeded")
	}
	_, err = s.GetCertificate(ctx, good.ID)
	wantErr(t, err, store.ErrNotFound, "good row of a failed batch")
}

func testCreateManyCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 5000
	first, err := s.NextCertificateNumbers(ctx, n)
	ok(t, err, "reserve")
	cs := make([]store.Certificate, n)
	for i := range cs {
		cs[i] = cert(typeFood, issuerA, fmt.Sprint("JY", first+int64(i)), 1, first+int64(i))
		cs[i].StatusIndex = first + int64(i)
		cs[i].StatusList = fmt.Sprintf("sl-%d", i%3)
	}
	// 100 of them already stored.
	_, err = s.CreateCertificates(ctx, cs[1000:1100])
	ok(t, err, "first 100")
	ids, err := s.CreateCertificates(ctx, cs)
	ok(t, err, "5,000 at once")
	want := append(certIDs(cs[:1000]), certIDs(cs[1100:])...)
	if !slices.Equal(ids, want) {
		t.Fatalf("inserted %d IDs, want %d (all but the 100 stored, in order)", len(ids), len(want))
	}
	all := paginate(t, 1000, func(after string, limit int) ([]store.Certificate, error) {
		return s.ListCertificates(ctx, store.CertificateFilter{}, after, limit)
	}, func(c store.Certificate) string { return c.ID })
	if len(all) != n {
		t.Fatalf("%d certificates stored, want %d", len(all), n)
	}
	for _, i := range []int{0, 1099, 2500, n - 1} {
		got, err := s.GetCertificate(ctx, cs[i].ID)
		ok(t, err, "get")
		checkCert(t, got, cs[i])
	}
	if ls := statusLists(t, s); len(ls) != 3 {
		t.Errorf("status lists %v, want 3", ls)
	}
}

func testListCertificates(t *testing.T, s store.Store) {
	ctx := t.Context()
	var cs []store.Certificate
	for i, id := range shuffled(awkwardIDs) {
		for j, typ := range []string{typeFood, typeID} {
			issuer := []string{issuerA, issuerB}[i%2]
			c := cert(typ, issuer, fmt.Sprintf("N%d-%d", i, j), 1, int64(2*i+j+1))
			c.ID = id + "-" + typ
			c.HolderSubject = []string{"sub-zhang", "sub-li", "sub-wang"}[i%3]
			cs = append(cs, c)
		}
	}
	_, err := s.CreateCertificates(ctx, cs)
	ok(t, err, "create")

	for _, f := range []store.CertificateFilter{
		{},
		{HolderSubject: "sub-zhang"},
		{HolderSubject: "sub-li", TypeCode: typeID},
		{IssuerUSCC: issuerB},
		{IssuerUSCC: issuerA, TypeCode: typeFood},
		{TypeCode: typeID},
		{HolderSubject: "sub-wang", IssuerUSCC: issuerA, TypeCode: typeFood},
		{HolderSubject: "sub-nobody"},
	} {
		var want []string
		byID := map[string]store.Certificate{}
		for _, c := range cs {
			if (f.HolderSubject == "" || c.HolderSubject == f.HolderSubject) &&
				(f.IssuerUSCC == "" || c.IssuerUSCC == f.IssuerUSCC) &&
				(f.TypeCode == "" || c.TypeCode == f.TypeCode) {
				want = append(want, c.ID)
				byID[c.ID] = c
			}
		}
		want = byteOrder(want)
		if want == nil {
			want = []string{}
		}
		for _, limit := range []int{1, 3, 100} {
			var seen []store.Certificate
			got := paginate(t, limit, func(after string, limit int) ([]store.Certificate, error) {
				page, err := s.ListCertificates(ctx, f, after, limit)
				seen = append(seen, page...)
				return page, err
			}, func(c store.Certificate) string { return c.ID })
			if got == nil {
				got = []string{}
			}
			same(t, fmt.Sprintf("filter %+v, pages of %d", f, limit), got, want)
			for _, c := range seen {
				checkCert(t, c, byID[c.ID])
			}
		}
	}
	all, err := s.ListCertificates(ctx, store.CertificateFilter{}, "", 0)
	ok(t, err, "limit 0")
	if len(all) != len(cs) {
		t.Errorf("limit 0 gave %d certificates, want the default page (all %d)", len(all), len(cs))
	}
}

// testConcurrentIssuance runs issuance as the issuer does it, many at once:
// reserve a number, store the certificate, append the audit entry. All must
// commit, with distinct numbers, in one shared (and, at first, new) list.
func testConcurrentIssuance(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, perWorker = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	numbers := map[int64]bool{}
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				var n int64
				err := s.InTx(ctx, func(q store.Queries) error {
					var err error
					if n, err = q.NextCertificateNumbers(ctx, 1); err != nil {
						return err
					}
					c := cert(typeFood, issuerA, fmt.Sprintf("JY-%d-%d", w, i), 1, n)
					c.StatusIndex = n
					if err := q.CreateCertificate(ctx, c); err != nil {
						return err
					}
					_, err = q.AppendAudit(ctx, entry("certificate.issue", base, `{"id":"`+c.ID+`"}`))
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				mu.Lock()
				if numbers[n] {
					errs <- fmt.Errorf("number %d used twice", n)
				}
				numbers[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cs, err := s.ListCertificates(ctx, store.CertificateFilter{IssuerUSCC: issuerA}, "", 1000)
	ok(t, err, "list")
	es, err := s.ListAudit(ctx, 0, 1000)
	ok(t, err, "audit")
	if len(cs) != workers*perWorker || len(es) != workers*perWorker {
		t.Fatalf("%d certificates and %d audit entries, want %d each", len(cs), len(es), workers*perWorker)
	}
	if ls := statusLists(t, s); len(ls) != 1 {
		t.Errorf("status lists %v, want the one", ls)
	}
}

func testIssuedNumbers(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1 := cert(typeFood, issuerA, "N1", 1, 901)
	a2 := cert(typeFood, issuerA, "N1", 2, 902)
	a2.Serial, a2.ID = a1.Serial, a1.ID[:len(a1.ID)-5]+"002.K"
	b := cert(typeFood, issuerB, "N2", 1, 903)
	for _, c := range []store.Certificate{a1, a2, b} {
		ok(t, s.CreateCertificate(ctx, c), "create "+c.ID)
	}
	numbers := []string{"N1", "N2", "N3"}
	for i := 0; i < 450; i++ {
		numbers = append(numbers, fmt.Sprintf("X%d", i))
	}
	got, err := s.IssuedNumbers(ctx, typeFood, issuerA, numbers)
	ok(t, err, "issued numbers")
	same(t, "issued numbers", got, map[string]string{"N1": a2.ID})
	got, err = s.IssuedNumbers(ctx, typeFood, issuerB, []string{"N2"})
	ok(t, err, "issued numbers B")
	same(t, "issued numbers B", got, map[string]string{"N2": b.ID})
}

// testIssueCertificate: the certificate, its new status list and its outbox
// event go in together (PostgreSQL: one statement); a taken key stores
// nothing, the event included.
func testIssueCertificate(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert("11100000000021001C001", "11100000000013338W", "ISSUE-1", 1, 4242)
	c.StatusList = "c-issue-test"
	e := store.BenefitEvent{HolderSubject: c.HolderSubject, TypeCode: c.TypeCode, CreatedAt: base}
	ok(t, s.IssueCertificate(ctx, c, e), "issue")
	got, err := s.GetCertificate(ctx, c.ID)
	ok(t, err, "get")
	checkCert(t, got, normCert(c))
	lists, err := s.StatusLists(ctx)
	ok(t, err, "status lists")
	found := false
	for _, l := range lists {
		found = found || l.ID == "c-issue-test"
	}
	if !found {
		t.Fatalf("the certificate's new status list was not added: %+v", lists)
	}
	dup := c
	dup.ID += "X"
	wantErr(t, s.IssueCertificate(ctx, dup, e), store.ErrAlreadyExists, "same number again")
	var evs []store.BenefitEvent
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		var err error
		evs, err = q.ClaimBenefitEvents(ctx, base.Add(time.Hour), 10)
		return err
	}), "claim")
	if len(evs) != 1 || evs[0].HolderSubject != c.HolderSubject || evs[0].TypeCode != c.TypeCode || !evs[0].CreatedAt.Equal(utc(base)) {
		t.Fatalf("outbox after one issuance and one refused: %+v", evs)
	}
}
