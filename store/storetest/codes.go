package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// 随申码 code, check-in, use-code, grant and usage-record tests.

const codeList = "cl-2026-0001"

// uuid7 returns a UUIDv7-shaped ID whose byte order is the order of ms.
func uuid7(ms int64, seq int) string {
	return fmt.Sprintf("%08x-%04x-7%03x-8000-%012x", ms>>16, ms&0xffff, seq&0xfff, seq)
}

func offlineCode(owner string, gen int, index int64) store.Code {
	at := base.Add(time.Duration(gen) * time.Hour)
	return store.Code{
		ID: fmt.Sprintf("offline:%s:%d", owner, gen), Kind: "offline", Owner: owner, Generation: gen,
		Text: fmt.Sprintf("SSM1.offline.%s.%d.sig", owner, gen), Status: "valid",
		StatusList: codeList, StatusIndex: index,
		IssuedAt: at, ExpiresAt: at.AddDate(1, 0, 0), UpdatedAt: at,
	}
}

func normCode(c store.Code) store.Code {
	c.IssuedAt, c.ExpiresAt, c.UpdatedAt = utc(c.IssuedAt), utc(c.ExpiresAt), utc(c.UpdatedAt)
	return c
}

func checkCode(t *testing.T, got, want store.Code) {
	t.Helper()
	checkUTC(t, "code "+want.ID, got.IssuedAt, got.ExpiresAt, got.UpdatedAt)
	same(t, "code "+want.ID, normCode(got), normCode(want))
}

func testHolders(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetHolderByRef(ctx, 1)
	wantErr(t, err, store.ErrNotFound, "holder in an empty store")

	a, err := s.HolderRef(ctx, "sub-a", "person", base)
	ok(t, err, "first use of a")
	if a < 1 {
		t.Fatalf("ref %d, want >= 1", a)
	}
	again, err := s.HolderRef(ctx, "sub-a", "enterprise", base.Add(time.Hour))
	ok(t, err, "second use of a")
	if again != a {
		t.Fatalf("second use of a gave ref %d, want %d", again, a)
	}
	b, err := s.HolderRef(ctx, "sub-b", "enterprise", base.Add(time.Minute))
	ok(t, err, "first use of b")
	if b == a {
		t.Fatalf("two subjects share ref %d", a)
	}
	var c int64
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		var err error
		c, err = q.HolderRef(ctx, "sub-c", "person", base)
		return err
	}), "holder ref in a transaction")
	if c == a || c == b {
		t.Fatalf("refs %d, %d, %d are not distinct", a, b, c)
	}

	// The first use fixes kind and creation time.
	for _, want := range []store.Holder{
		{Ref: a, Subject: "sub-a", Kind: "person", CreatedAt: utc(base)},
		{Ref: b, Subject: "sub-b", Kind: "enterprise", CreatedAt: utc(base.Add(time.Minute))},
	} {
		got, err := s.GetHolderByRef(ctx, want.Ref)
		ok(t, err, "get holder")
		checkUTC(t, "holder", got.CreatedAt)
		same(t, "holder", got, want)
	}
	_, err = s.GetHolderByRef(ctx, max(a, b, c)+1000)
	wantErr(t, err, store.ErrNotFound, "unknown ref")
	if _, err := s.HolderRef(ctx, "sub-robot", "robot", base); err == nil {
		t.Error("a holder kind outside the schema was accepted")
	}
}

// testHolderRefConcurrent: callers racing to create one holder all get the
// same ref. Several rounds, so that the racers really overlap on a pool
// whose connections are all open after the first.
func testHolderRefConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers, rounds = 8, 20
	seen := map[int64]string{}
	for round := range rounds {
		subject := fmt.Sprint("sub-racy-", round)
		refs := make([]int64, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				refs[i], errs[i] = s.HolderRef(ctx, subject, "person", base)
			})
		}
		close(start)
		wg.Wait()
		for i := range racers {
			ok(t, errs[i], fmt.Sprint(subject, " racer ", i))
			if refs[i] != refs[0] {
				t.Fatalf("%s: racers got refs %v, want one", subject, refs)
			}
		}
		if prev, dup := seen[refs[0]]; dup {
			t.Fatalf("%s and %s share ref %d", prev, subject, refs[0])
		}
		seen[refs[0]] = subject
		h, err := s.GetHolderByRef(ctx, refs[0])
		ok(t, err, "get")
		if h.Subject != subject {
			t.Fatalf("ref %d is %q, want %q", refs[0], h.Subject, subject)
		}
	}
	var wg sync.WaitGroup
	// And inside transactions, on distinct and shared subjects.
	var mu sync.Mutex
	bySubject := map[string]int64{}
	for i := range racers {
		wg.Go(func() {
			subject := fmt.Sprint("sub-tx-", i%3)
			var ref int64
			err := s.InTx(ctx, func(q store.Queries) error {
				var err error
				ref, err = q.HolderRef(ctx, subject, "person", base)
				return err
			})
			if err != nil {
				t.Errorf("racer %d in a transaction: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if prev, seen := bySubject[subject]; seen && prev != ref {
				t.Errorf("%s got refs %d and %d", subject, prev, ref)
			}
			bySubject[subject] = ref
		})
	}
	wg.Wait()
	if len(bySubject) != 3 {
		t.Fatalf("refs by subject %v, want 3", bySubject)
	}
}

func testCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.LatestCode(ctx, "offline", "sub-a")
	wantErr(t, err, store.ErrNotFound, "latest code in an empty store")

	g1 := offlineCode("sub-a", 1, 30)
	g2 := offlineCode("sub-a", 2, 10)
	ok(t, s.CreateCode(ctx, g1), "create generation 1")
	same(t, "list created with the first code", statusLists(t, s), map[string]time.Time{codeList: utc(g1.IssuedAt)})
	ok(t, s.CreateCode(ctx, g2), "create generation 2")
	same(t, "list kept by a later code", statusLists(t, s), map[string]time.Time{codeList: utc(g1.IssuedAt)})
	ent := store.Code{
		ID: "enterprise:sub-a:0", Kind: "enterprise", Owner: "sub-a", Generation: 0, Text: "SSM1.enterprise",
		Status: "valid", StatusList: "cl-ent", StatusIndex: 30,
		IssuedAt: base, ExpiresAt: base.AddDate(3, 0, 0), UpdatedAt: base,
	}
	ok(t, s.CreateCode(ctx, ent), "create an enterprise code of the same owner")
	venue := store.Code{
		ID: "venue:v-1:1", Kind: "venue", Owner: "v-1", Generation: 1, Text: "SSM1.venue",
		Status: "valid", StatusList: codeList, StatusIndex: 11,
		IssuedAt: base, ExpiresAt: base.AddDate(10, 0, 0), UpdatedAt: base,
	}
	ok(t, s.CreateCode(ctx, venue), "create a venue code")

	for _, want := range []store.Code{g1, g2, ent, venue} {
		got, err := s.GetCode(ctx, want.ID)
		ok(t, err, "get "+want.ID)
		checkCode(t, got, want)
	}
	_, err = s.GetCode(ctx, "offline:sub-a:9")
	wantErr(t, err, store.ErrNotFound, "unknown code")

	got, err := s.LatestCode(ctx, "offline", "sub-a")
	ok(t, err, "latest offline")
	checkCode(t, got, g2)
	got, err = s.LatestCode(ctx, "enterprise", "sub-a")
	ok(t, err, "latest enterprise")
	checkCode(t, got, ent)
	_, err = s.LatestCode(ctx, "offline", "sub-b")
	wantErr(t, err, store.ErrNotFound, "latest of another owner")
	_, err = s.LatestCode(ctx, "venue", "sub-a")
	wantErr(t, err, store.ErrNotFound, "latest of another kind")

	// A revoked latest generation is still the latest.
	ok(t, s.ChangeCodeStatus(ctx, g2.ID, "valid", "revoked", base.AddDate(0, 0, 1)), "revoke generation 2")
	got, err = s.LatestCode(ctx, "offline", "sub-a")
	ok(t, err, "latest after revocation")
	if got.ID != g2.ID || got.Status != "revoked" {
		t.Errorf("latest after revocation: %s %s", got.ID, got.Status)
	}
	ok(t, s.CreateCode(ctx, offlineCode("sub-a", 3, 12)), "create generation 3")
	got, err = s.LatestCode(ctx, "offline", "sub-a")
	ok(t, err, "latest of three")
	if got.Generation != 3 {
		t.Errorf("latest generation %d, want 3", got.Generation)
	}

	// Unique keys.
	dupID := offlineCode("sub-z", 1, 99)
	dupID.ID = g1.ID
	wantErr(t, s.CreateCode(ctx, dupID), store.ErrAlreadyExists, "taken ID")
	dupGen := offlineCode("sub-a", 1, 98)
	dupGen.ID = "offline:sub-a:1-again"
	wantErr(t, s.CreateCode(ctx, dupGen), store.ErrAlreadyExists, "taken generation")
	dupSlot := offlineCode("sub-y", 1, g1.StatusIndex)
	wantErr(t, s.CreateCode(ctx, dupSlot), store.ErrAlreadyExists, "taken status slot")
	otherList := offlineCode("sub-y", 1, g1.StatusIndex)
	otherList.StatusList = "cl-other"
	ok(t, s.CreateCode(ctx, otherList), "same index in another list")

	bad := offlineCode("sub-x", 1, 97)
	bad.Kind = "personal"
	if err := s.CreateCode(ctx, bad); err == nil || errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("code kind outside the schema: %v, want a schema error", err)
	}
	bad = offlineCode("sub-x", 1, 97)
	bad.Status = "suspended"
	if err := s.CreateCode(ctx, bad); err == nil {
		t.Error("code status outside the schema was accepted")
	}

	// In a transaction, created and rolled back with its list.
	rolled := offlineCode("sub-r", 1, 5)
	rolled.StatusList = "cl-rolled-back"
	err = s.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateCode(ctx, rolled); err != nil {
			return err
		}
		if _, err := q.GetCode(ctx, rolled.ID); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "rolled back")
	_, err = s.GetCode(ctx, rolled.ID)
	wantErr(t, err, store.ErrNotFound, "rolled-back code")
	if _, found := statusLists(t, s)["cl-rolled-back"]; found {
		t.Error("a rolled-back code left its status list behind")
	}
}

func testCodeStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := offlineCode("sub-a", 1, 1), offlineCode("sub-b", 1, 2)
	ok(t, s.CreateCode(ctx, a), "create a")
	ok(t, s.CreateCode(ctx, b), "create b")
	t0 := utc(a.IssuedAt)
	same(t, "new list", statusLists(t, s), map[string]time.Time{codeList: t0})

	t1 := base.Add(48 * time.Hour)
	ok(t, s.ChangeCodeStatus(ctx, a.ID, "valid", "revoked", t1), "revoke")
	want := a
	want.Status, want.UpdatedAt = "revoked", t1
	got, err := s.GetCode(ctx, a.ID)
	ok(t, err, "get revoked")
	checkCode(t, got, want)
	same(t, "list after a change", statusLists(t, s), map[string]time.Time{codeList: utc(t1)})

	// No longer valid: conflicts, changes nothing, bumps nothing.
	err = s.ChangeCodeStatus(ctx, a.ID, "valid", "revoked", t1.Add(time.Hour))
	wantErr(t, err, store.ErrConflict, "revoke twice")
	got, err = s.GetCode(ctx, a.ID)
	ok(t, err, "get after conflict")
	checkCode(t, got, want)
	same(t, "list after a conflict", statusLists(t, s), map[string]time.Time{codeList: utc(t1)})
	err = s.ChangeCodeStatus(ctx, "offline:nobody:1", "valid", "revoked", t1)
	wantErr(t, err, store.ErrNotFound, "unknown code")

	calls := 0
	err = s.InTx(ctx, func(q store.Queries) error {
		calls++
		return q.ChangeCodeStatus(ctx, a.ID, "valid", "revoked", t1)
	})
	wantErr(t, err, store.ErrConflict, "conflict inside InTx")
	if calls != 1 {
		t.Errorf("fn ran %d times after ErrConflict, want 1", calls)
	}

	// Stamped earlier than the list's last change: a microsecond past it.
	ok(t, s.ChangeCodeStatus(ctx, b.ID, "valid", "revoked", t1.Add(-time.Minute)), "revoke b")
	same(t, "list after an earlier-stamped change", statusLists(t, s), map[string]time.Time{codeList: utc(t1).Add(time.Microsecond)})
	got, err = s.GetCode(ctx, b.ID)
	ok(t, err, "get b")
	if !got.UpdatedAt.Equal(utc(t1.Add(-time.Minute))) {
		t.Errorf("code UpdatedAt %v, want the change's own time", got.UpdatedAt)
	}
	// Back to valid (a reinstated code), at a later time.
	t2 := t1.Add(time.Hour)
	ok(t, s.ChangeCodeStatus(ctx, b.ID, "revoked", "valid", t2), "reinstate b")
	same(t, "list after a later change", statusLists(t, s), map[string]time.Time{codeList: utc(t2)})
	if err := s.ChangeCodeStatus(ctx, b.ID, "valid", "suspended", t2); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("change to a status outside the schema: %v, want a schema error", err)
	}

	// Racing revocations: exactly one wins.
	c := offlineCode("sub-c", 1, 3)
	ok(t, s.CreateCode(ctx, c), "create c")
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			errs[i] = s.ChangeCodeStatus(ctx, c.ID, "valid", "revoked", t2.Add(time.Duration(i)*time.Second))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racing revocations succeeded, want exactly 1", wins)
	}
}

// testStatusEntriesWithCodes: StatusEntries lists codes' revoked entries
// beside certificates' not-valid ones, each in its own lists.
func testStatusEntriesWithCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	certs := []store.Certificate{cert(typeFood, issuerA, "JY1", 1, 1), cert(typeFood, issuerA, "JY2", 1, 2)}
	for _, c := range certs {
		ok(t, s.CreateCertificate(ctx, c), "create certificate")
	}
	ok(t, s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{ID: certs[1].ID, From: "valid", To: "suspended", At: base}), "suspend")

	var codes []store.Code
	for i := range 8 {
		c := offlineCode(fmt.Sprint("sub-", i), 1, int64((8-i)*100)) // index order is not issue order
		if i%4 == 3 {
			c.StatusList = "cl-other"
		}
		ok(t, s.CreateCode(ctx, c), "create code")
		codes = append(codes, c)
	}
	entries, err := s.StatusEntries(ctx, codeList)
	ok(t, err, "entries of an all-valid code list")
	if entries == nil || len(entries) != 0 {
		t.Fatalf("all-valid code list: entries %v, want an empty list", entries)
	}
	for _, i := range []int{0, 2, 5, 3, 1} {
		ok(t, s.ChangeCodeStatus(ctx, codes[i].ID, "valid", "revoked", base.Add(time.Hour)), "revoke")
	}
	// Revoked and reinstated: valid again, so not listed.
	ok(t, s.ChangeCodeStatus(ctx, codes[1].ID, "revoked", "valid", base.Add(2*time.Hour)), "reinstate")

	entries, err = s.StatusEntries(ctx, codeList)
	ok(t, err, "code entries")
	same(t, "code entries", entries, []store.StatusEntry{
		{Index: codes[5].StatusIndex, Status: "revoked"},
		{Index: codes[2].StatusIndex, Status: "revoked"},
		{Index: codes[0].StatusIndex, Status: "revoked"},
	})
	entries, err = s.StatusEntries(ctx, "cl-other")
	ok(t, err, "other code list")
	same(t, "other code list", entries, []store.StatusEntry{{Index: codes[3].StatusIndex, Status: "revoked"}})
	entries, err = s.StatusEntries(ctx, statusList)
	ok(t, err, "certificate list")
	same(t, "certificate list", entries, []store.StatusEntry{{Index: certs[1].StatusIndex, Status: "suspended"}})
}

func checkin(id, venue, holder, source, clientID string, at time.Time) store.Checkin {
	return store.Checkin{
		ID: id, VenueID: venue, HolderSubject: holder, MaskedName: "张*", Source: source,
		CodeKind: "personal", ClientID: clientID, At: at, CreatedAt: at.Add(time.Second),
	}
}

func normCheckin(c store.Checkin) store.Checkin {
	c.At, c.CreatedAt = utc(c.At), utc(c.CreatedAt)
	return c
}

func testCheckins(t *testing.T, s store.Store) {
	ctx := t.Context()
	ins := []store.Checkin{
		checkin(uuid7(1, 1), "v-1", "sub-a", "holder_scan", "", base),
		checkin(uuid7(2, 2), "v-1", "sub-b", "venue_scan", "", base.Add(time.Minute)),
		checkin(uuid7(3, 3), "v-1", "sub-a", "venue_upload", "rec-1", base.Add(-time.Hour)),
		checkin(uuid7(4, 4), "v-2", "sub-a", "venue_upload", "rec-1", base.Add(2*time.Minute)), // same client ID, other venue
		checkin(uuid7(5, 5), "v-1", "sub-a", "holder_scan", "", base.Add(3*time.Minute)),       // a second "" at v-1
	}
	for _, c := range ins {
		ok(t, s.AddCheckin(ctx, c), "add "+c.ID)
	}
	norm := func(cs []store.Checkin) []store.Checkin {
		out := make([]store.Checkin, len(cs))
		for i, c := range cs {
			checkUTC(t, "check-in "+c.ID, c.At, c.CreatedAt)
			out[i] = normCheckin(c)
		}
		return out
	}
	got, err := s.ListCheckinsByHolder(ctx, "sub-a", "", 0)
	ok(t, err, "by holder a")
	same(t, "by holder a", norm(got), norm([]store.Checkin{ins[0], ins[2], ins[3], ins[4]}))
	got, err = s.ListCheckinsByVenue(ctx, "v-1", "", 0)
	ok(t, err, "by venue 1")
	same(t, "by venue 1", norm(got), norm([]store.Checkin{ins[0], ins[1], ins[2], ins[4]}))
	got, err = s.ListCheckinsByVenue(ctx, "v-2", ins[3].ID, 0)
	ok(t, err, "by venue 2 after its only check-in")
	if got == nil || len(got) != 0 {
		t.Fatalf("after the last: %v, want an empty list", got)
	}
	got, err = s.ListCheckinsByHolder(ctx, "sub-nobody", "", 0)
	ok(t, err, "unknown holder")
	if got == nil || len(got) != 0 {
		t.Fatalf("unknown holder: %v, want an empty list", got)
	}

	// An upload again (another ID, same venue and client ID) is refused and
	// stores nothing; so is a taken ID.
	again := checkin(uuid7(6, 6), "v-1", "sub-a", "venue_upload", "rec-1", base)
	wantErr(t, s.AddCheckin(ctx, again), store.ErrAlreadyExists, "upload again")
	dupID := checkin(ins[0].ID, "v-3", "sub-c", "holder_scan", "", base)
	wantErr(t, s.AddCheckin(ctx, dupID), store.ErrAlreadyExists, "taken ID")
	err = s.InTx(ctx, func(q store.Queries) error { return q.AddCheckin(ctx, again) })
	wantErr(t, err, store.ErrAlreadyExists, "upload again in a transaction")
	got, err = s.ListCheckinsByVenue(ctx, "v-1", "", 0)
	ok(t, err, "by venue 1 after refusals")
	if len(got) != 4 {
		t.Fatalf("venue 1 has %d check-ins after refused uploads, want 4", len(got))
	}
	bad := checkin(uuid7(7, 7), "v-1", "sub-a", "teleport", "", base)
	if err := s.AddCheckin(ctx, bad); err == nil {
		t.Error("a source outside the schema was accepted")
	}

	// Pagination, in byte order of ID whatever the insertion order.
	var ids []string
	for i := range 11 {
		ids = append(ids, uuid7(int64(1000+i*37), i))
	}
	for i, id := range shuffled(ids) {
		ok(t, s.AddCheckin(ctx, checkin(id, "v-page", fmt.Sprint("sub-p", i%2), "venue_upload", "c-"+id, base)), "add")
	}
	for _, limit := range []int{1, 3, 11, 20} {
		same(t, fmt.Sprint("venue pages of ", limit),
			paginate(t, limit, func(after string, limit int) ([]store.Checkin, error) {
				return s.ListCheckinsByVenue(ctx, "v-page", after, limit)
			}, func(c store.Checkin) string { return c.ID }), byteOrder(ids))
	}
	var holderIDs []string
	for _, sub := range []string{"sub-p0", "sub-p1"} {
		holderIDs = append(holderIDs, paginate(t, 2, func(after string, limit int) ([]store.Checkin, error) {
			return s.ListCheckinsByHolder(ctx, sub, after, limit)
		}, func(c store.Checkin) string { return c.ID })...)
	}
	same(t, "holder pages", byteOrder(holderIDs), byteOrder(ids))
}

func useCode(seed byte, expires time.Time) store.UseCode {
	return store.UseCode{
		Hash: hash(seed), CertificateID: fmt.Sprint("cert-", seed), HolderSubject: "sub-a",
		Purpose: "办理营业执照变更", CreatedAt: base, ExpiresAt: expires,
	}
}

func normUseCode(u store.UseCode) store.UseCode {
	u.Hash = nb(u.Hash)
	u.CreatedAt, u.ExpiresAt, u.UsedAt = utc(u.CreatedAt), utc(u.ExpiresAt), utcp(u.UsedAt)
	return u
}

func testUseCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	expires := base.Add(5 * time.Minute)
	u := useCode(1, expires)
	ok(t, s.CreateUseCode(ctx, u), "create")
	wantErr(t, s.CreateUseCode(ctx, useCode(1, expires)), store.ErrAlreadyExists, "taken hash")

	now := base.Add(time.Minute)
	got, err := s.RedeemUseCode(ctx, hash(1), "app-1", now)
	ok(t, err, "redeem")
	want := u
	want.UsedAt, want.UsedBy = &now, "app-1"
	checkUTC(t, "use code", got.CreatedAt, got.ExpiresAt, got.UsedAt)
	same(t, "redeemed", normUseCode(got), normUseCode(want))

	_, err = s.RedeemUseCode(ctx, hash(1), "app-2", now.Add(time.Second))
	wantErr(t, err, store.ErrConflict, "redeem twice")
	_, err = s.RedeemUseCode(ctx, hash(99), "app-1", now)
	wantErr(t, err, store.ErrNotFound, "unknown use code")
	_, err = s.RedeemUseCode(ctx, nil, "app-1", now)
	wantErr(t, err, store.ErrNotFound, "empty hash")

	// Expired once now >= ExpiresAt.
	ok(t, s.CreateUseCode(ctx, useCode(2, expires)), "create 2")
	_, err = s.RedeemUseCode(ctx, hash(2), "app-1", expires)
	wantErr(t, err, store.ErrConflict, "redeem at expiry")
	_, err = s.RedeemUseCode(ctx, hash(2), "app-1", expires.Add(time.Hour))
	wantErr(t, err, store.ErrConflict, "redeem after expiry")
	got, err = s.RedeemUseCode(ctx, hash(2), "app-1", expires.Add(-time.Microsecond))
	ok(t, err, "redeem just before expiry")
	if got.UsedAt == nil || got.UsedBy != "app-1" {
		t.Fatalf("redeemed just before expiry: %+v", got)
	}

	// A rolled-back redemption leaves the code unused.
	ok(t, s.CreateUseCode(ctx, useCode(3, expires)), "create 3")
	err = s.InTx(ctx, func(q store.Queries) error {
		if _, err := q.RedeemUseCode(ctx, hash(3), "app-1", now); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, err, errBoom, "rolled back")

	// Racing redemptions: exactly one wins.
	const racers = 6
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { _, errs[i] = s.RedeemUseCode(ctx, hash(3), fmt.Sprint("app-", i), now) })
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racing redemptions succeeded, want exactly 1", wins)
	}
}

func grant(id, holder, app string, types []string, created, expires time.Time) store.Grant {
	return store.Grant{
		ID: id, HolderSubject: holder, AppID: app, CertificateTypes: types, Purpose: "贷款审批",
		CreatedAt: created, ExpiresAt: expires,
	}
}

func normGrant(g store.Grant) store.Grant {
	g.CertificateTypes = ns(g.CertificateTypes)
	g.CreatedAt, g.ExpiresAt, g.RevokedAt = utc(g.CreatedAt), utc(g.ExpiresAt), utcp(g.RevokedAt)
	return g
}

func checkGrant(t *testing.T, got, want store.Grant) {
	t.Helper()
	checkUTC(t, "grant "+want.ID, got.CreatedAt, got.ExpiresAt, got.RevokedAt)
	same(t, "grant "+want.ID, normGrant(got), normGrant(want))
}

func testGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	until := base.AddDate(0, 1, 0)
	typeFoodPrefix := typeFood[:len(typeFood)-1] // a prefix of another type's code
	g1 := grant(uuid7(1, 1), "sub-a", "app-1", []string{typeFood, typeID}, base, until)
	g2 := grant(uuid7(2, 2), "sub-a", "app-1", []string{typeFood}, base.Add(time.Hour), until)
	empty := grant(uuid7(3, 3), "sub-a", "app-2", nil, base, until)
	revokedAt := base.Add(time.Minute)
	revoked := grant(uuid7(4, 4), "sub-b", "app-1", []string{typeFood}, base.Add(2*time.Hour), until)
	revoked.RevokedAt = &revokedAt
	for _, g := range []store.Grant{g1, g2, empty, revoked} {
		ok(t, s.CreateGrant(ctx, g), "create "+g.ID)
	}
	wantErr(t, s.CreateGrant(ctx, g1), store.ErrAlreadyExists, "taken ID")
	for _, want := range []store.Grant{g1, g2, empty, revoked} {
		got, err := s.GetGrant(ctx, want.ID)
		ok(t, err, "get "+want.ID)
		checkGrant(t, got, want)
	}
	_, err := s.GetGrant(ctx, "grant-unknown")
	wantErr(t, err, store.ErrNotFound, "unknown grant")
	gs, err := s.ListGrants(ctx, "sub-a", "", 0)
	ok(t, err, "list a")
	if len(gs) != 3 {
		t.Fatalf("holder a has %d grants, want 3", len(gs))
	}
	for i, want := range []store.Grant{g1, g2, empty} {
		checkGrant(t, gs[i], want)
	}

	active := func(subject, app, typ string, now time.Time) (store.Grant, error) {
		return s.ActiveGrant(ctx, subject, app, typ, now)
	}
	// The newest covering grant wins; an older one covers what it lacks.
	got, err := active("sub-a", "app-1", typeFood, base.Add(2*time.Hour))
	ok(t, err, "active food")
	checkGrant(t, got, g2)
	got, err = active("sub-a", "app-1", typeID, base.Add(2*time.Hour))
	ok(t, err, "active id card")
	checkGrant(t, got, g1)
	for _, c := range []struct {
		what, subject, app, typ string
		now                     time.Time
	}{
		{"type not granted", "sub-a", "app-2", typeFood, base},
		{"prefix of a granted type", "sub-a", "app-1", typeFoodPrefix, base},
		{"another app", "sub-a", "app-3", typeFood, base},
		{"another holder", "sub-c", "app-1", typeFood, base},
		{"revoked", "sub-b", "app-1", typeFood, base},
		{"at expiry", "sub-a", "app-1", typeFood, until},
		{"after expiry", "sub-a", "app-1", typeFood, until.Add(time.Hour)},
	} {
		_, err := active(c.subject, c.app, c.typ, c.now)
		wantErr(t, err, store.ErrNotFound, c.what)
	}
	got, err = active("sub-a", "app-1", typeFood, until.Add(-time.Microsecond))
	ok(t, err, "just before expiry")
	checkGrant(t, got, g2)

	// Revoking: once; the newest goes, the older one takes over.
	at := base.Add(3 * time.Hour)
	ok(t, s.RevokeGrant(ctx, g2.ID, at), "revoke g2")
	want := g2
	want.RevokedAt = &at
	got, err = s.GetGrant(ctx, g2.ID)
	ok(t, err, "get revoked")
	checkGrant(t, got, want)
	wantErr(t, s.RevokeGrant(ctx, g2.ID, at.Add(time.Hour)), store.ErrConflict, "revoke twice")
	got, err = s.GetGrant(ctx, g2.ID)
	ok(t, err, "get after revoking twice")
	checkGrant(t, got, want)
	wantErr(t, s.RevokeGrant(ctx, "grant-unknown", at), store.ErrNotFound, "revoke unknown")
	got, err = active("sub-a", "app-1", typeFood, at)
	ok(t, err, "active after revoking the newest")
	checkGrant(t, got, g1)
	ok(t, s.InTx(ctx, func(q store.Queries) error { return q.RevokeGrant(ctx, g1.ID, at) }), "revoke g1 in a transaction")
	_, err = active("sub-a", "app-1", typeFood, at)
	wantErr(t, err, store.ErrNotFound, "all revoked")

	// Pagination.
	var ids []string
	for i := range 9 {
		ids = append(ids, uuid7(int64(500+i), 100+i))
	}
	for _, id := range shuffled(ids) {
		ok(t, s.CreateGrant(ctx, grant(id, "sub-page", "app-1", []string{typeFood}, base, until)), "create")
	}
	for _, limit := range []int{1, 2, 9, 10} {
		same(t, fmt.Sprint("grant pages of ", limit),
			paginate(t, limit, func(after string, limit int) ([]store.Grant, error) {
				return s.ListGrants(ctx, "sub-page", after, limit)
			}, func(g store.Grant) string { return g.ID }), byteOrder(ids))
	}
}

func usageRecord(id, holder string, at time.Time) store.UsageRecord {
	return store.UsageRecord{
		ID: id, HolderSubject: holder, At: at, Org: "上海银行", OrgUSCC: "913100001322078102",
		Operator: "柜员 007", ItemCode: "310000-000201-001", ItemName: "个人贷款", BusinessCode: "BIZ-" + id,
		Purpose: "贷款审批", CertificateID: "cert-1", CodeKind: "presentation", Channel: "use_code",
		Result: "success", AppID: "app-1", Detail: `{"fields":["name"]}`, OrgUnit: "徐汇支行营业部",
	}
}

func testUsageRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	raw, isRaw := s.(RawExecer)
	if !isRaw {
		t.Fatalf("%T does not implement storetest.RawExecer", s)
	}
	r1 := usageRecord(uuid7(1, 1), "sub-a", base)
	r2 := usageRecord(uuid7(2, 2), "sub-a", base.Add(time.Minute))
	r2.Result, r2.Channel, r2.CertificateID, r2.Detail = "refused", "grant", "", ""
	r3 := usageRecord(uuid7(3, 3), "sub-b", base)
	for _, r := range []store.UsageRecord{r2, r1, r3} {
		ok(t, s.AddUsageRecord(ctx, r), "add "+r.ID)
	}
	wantErr(t, s.AddUsageRecord(ctx, r1), store.ErrAlreadyExists, "taken ID")
	norm := func(rs []store.UsageRecord) []store.UsageRecord {
		out := make([]store.UsageRecord, len(rs))
		for i, r := range rs {
			checkUTC(t, "usage record "+r.ID, r.At)
			r.At = utc(r.At)
			out[i] = r
		}
		return out
	}
	got, err := s.ListUsageRecords(ctx, "sub-a", "", 0)
	ok(t, err, "list a")
	same(t, "records of a", norm(got), norm([]store.UsageRecord{r1, r2}))
	got, err = s.ListUsageRecords(ctx, "sub-a", r1.ID, 0)
	ok(t, err, "list a after r1")
	same(t, "records of a after r1", norm(got), norm([]store.UsageRecord{r2}))

	for _, stmt := range []string{
		`UPDATE usage_records SET result = 'success'`,
		`UPDATE usage_records SET detail = detail`,
		`DELETE FROM usage_records`,
	} {
		err := raw.RawExec(ctx, stmt)
		if err == nil {
			t.Errorf("%s: succeeded on an append-only table", stmt)
			continue
		}
		if !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: failed, but not because of the append-only trigger: %v", stmt, err)
		}
	}
	got, err = s.ListUsageRecords(ctx, "sub-a", "", 0)
	ok(t, err, "list a after tampering attempts")
	same(t, "records of a after tampering attempts", norm(got), norm([]store.UsageRecord{r1, r2}))

	// Appended in a transaction; pagination.
	var ids []string
	for i := range 10 {
		ids = append(ids, uuid7(int64(700+i*3), 200+i))
	}
	ok(t, s.InTx(ctx, func(q store.Queries) error {
		for _, id := range shuffled(ids) {
			if err := q.AddUsageRecord(ctx, usageRecord(id, "sub-page", base)); err != nil {
				return err
			}
		}
		return nil
	}), "add in a transaction")
	for _, limit := range []int{1, 4, 10, 11} {
		same(t, fmt.Sprint("record pages of ", limit),
			paginate(t, limit, func(after string, limit int) ([]store.UsageRecord, error) {
				return s.ListUsageRecords(ctx, "sub-page", after, limit)
			}, func(r store.UsageRecord) string { return r.ID }), byteOrder(ids))
	}
}

// testCodeTimes: times and NULLs of every new record survive a round trip.
func testCodeTimes(t *testing.T, s store.Store) {
	ctx := t.Context()
	shanghai := time.FixedZone("CST", 8*3600)
	local := base.In(shanghai)
	c := offlineCode("sub-t", 1, 1)
	c.IssuedAt, c.ExpiresAt, c.UpdatedAt = local, local.Add(time.Nanosecond), local.Add(999*time.Nanosecond)
	ok(t, s.CreateCode(ctx, c), "create code")
	got, err := s.GetCode(ctx, c.ID)
	ok(t, err, "get code")
	checkCode(t, got, c)

	g := grant(uuid7(1, 1), "sub-t", "app-1", []string{typeFood}, local, local.AddDate(0, 0, 1))
	ok(t, s.CreateGrant(ctx, g), "create grant")
	gg, err := s.GetGrant(ctx, g.ID)
	ok(t, err, "get grant")
	checkGrant(t, gg, g)
	if gg.RevokedAt != nil {
		t.Fatalf("RevokedAt %v, want nil", gg.RevokedAt)
	}

	used := local.Add(time.Second)
	u := useCode(7, local.Add(time.Hour))
	u.CreatedAt = local
	ok(t, s.CreateUseCode(ctx, u), "create use code")
	ru, err := s.RedeemUseCode(ctx, u.Hash, "app-1", used)
	ok(t, err, "redeem")
	if !bytes.Equal(ru.Hash, u.Hash) || ru.UsedAt == nil || !ru.UsedAt.Equal(utc(used)) {
		t.Fatalf("redeemed %+v", ru)
	}
	checkUTC(t, "use code", ru.CreatedAt, ru.ExpiresAt, ru.UsedAt)
}
