package api

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

func (h *harness) verifyApp() string {
	_, key := h.app("verify")
	return key
}

func (h *harness) anchorKey(t *testing.T) *signing.PublicKey {
	t.Helper()
	a, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		t.Fatal(err)
	}
	return a.Public()
}

// bundlePayload returns the current bundle's payload as raw JSON members.
func bundlePayload(t *testing.T, jws string) map[string]json.RawMessage {
	t.Helper()
	_, payload, err := signing.ParseJWS(jws)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStatusListsByReference: the bundle references the lists (id, kind,
// version, sm3, url) instead of carrying them; GET /v1/status-lists/{id}
// serves each with an ETag, 304 on If-None-Match, and by digest the form a
// slightly older bundle pins; trustsync fetches only what changed.
func TestStatusListsByReference(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		c1 := h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("R-1")))
		c2 := h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("R-2")))
		bundleJWS := string(h.do("GET", "/v1/trust", "", nil).Body)
		if raw := bundlePayload(t, bundleJWS)["status_lists"]; strings.Contains(string(raw), "encoded_list") || strings.Contains(string(raw), `"list"`) {
			t.Fatalf("the bundle carries list contents: %s", raw)
		}
		b, err := trust.Verify(bundleJWS, h.anchorKey(t), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(b.StatusLists) != 1 {
			t.Fatalf("lists %+v", b.StatusLists)
		}
		ref := b.StatusLists[0]
		if ref.Kind != trust.ListCertificates || ref.Version != 1 || len(ref.SM3) != 64 || ref.URL != h.cfg.PublicURL+"/v1/status-lists/"+ref.ID {
			t.Fatalf("reference %+v", ref)
		}

		// The list: ETag, 304, cache headers, lookup by digest.
		r := h.do("GET", "/v1/status-lists/"+ref.ID, "", nil)
		if r.Status != 200 || r.Header.Get("ETag") != `"`+ref.SM3+`"` || trust.ListDigest(string(r.Body)) != ref.SM3 ||
			!strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("list: %d %v", r.Status, r.Header)
		}
		if r := h.do("GET", "/v1/status-lists/"+ref.ID, "", nil, "If-None-Match", `"`+ref.SM3+`"`); r.Status != 304 || len(r.Body) != 0 {
			t.Fatalf("If-None-Match: %d", r.Status)
		}
		if r := h.do("GET", "/v1/status-lists/"+ref.ID+"?sm3="+ref.SM3, "", nil); r.Status != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("by digest: %d %v", r.Status, r.Header)
		}
		for q, want := range map[string]int{"?sm3=" + strings.Repeat("0", 64): 404, "?sm3=XYZ": 400, "?sm3=" + strings.ToUpper(ref.SM3): 400} {
			if r := h.do("GET", "/v1/status-lists/"+ref.ID+q, "", nil); r.Status != want {
				t.Fatalf("%s: %d, want %d", q, r.Status, want)
			}
		}
		if p := h.do("GET", "/v1/status-lists/"+ref.ID+"?sm3="+strings.Repeat("0", 64), "", nil).problem(t); p.Code != "status_list_version_gone" {
			t.Fatalf("problem %+v", p)
		}
		if r := h.do("GET", "/v1/status-lists/nope", "", nil); r.Status != 404 {
			t.Fatalf("unknown list: %d", r.Status)
		}

		// trust fetch's library: the first sync fetches the list, the
		// second nothing (304 for the bundle, the list held).
		dir := trustsync.DirFor(filepath.Join(t.TempDir(), "trust.jws"))
		cl := trustsync.Client{Server: h.ts.URL, Now: h.clock.Now}
		rep, err := trustsync.Sync(context.Background(), cl, dir, h.anchorKey(t), nil)
		if err != nil || !rep.BundleChanged || rep.Fetched != 1 || rep.Kept != 0 {
			t.Fatalf("first sync %+v %v", rep, err)
		}
		rep, err = trustsync.Sync(context.Background(), cl, dir, h.anchorKey(t), nil)
		if err != nil || rep.BundleChanged || rep.Fetched != 0 || rep.Kept != 1 {
			t.Fatalf("second sync %+v %v", rep, err)
		}

		// A revocation: a new version of the list, a new bundle; the old
		// form is still served by its digest.
		h.must(200, h.do("POST", "/v1/certificates/"+c1["id"].(string)+"/revoke", dep, map[string]any{"reason": "吊销"}))
		nb, err := trust.Verify(string(h.do("GET", "/v1/trust", "", nil).Body), h.anchorKey(t), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		nref, _ := nb.StatusList(ref.ID)
		if nref.Version != 2 || nref.SM3 == ref.SM3 {
			t.Fatalf("after a revocation: %+v (was %+v)", nref, ref)
		}
		if r := h.do("GET", "/v1/status-lists/"+ref.ID+"?sm3="+ref.SM3, "", nil); r.Status != 200 || trust.ListDigest(string(r.Body)) != ref.SM3 {
			t.Fatalf("previous form by digest: %d", r.Status)
		}
		rep, err = trustsync.Sync(context.Background(), cl, dir, h.anchorKey(t), nil)
		if err != nil || !rep.BundleChanged || rep.Fetched != 1 || rep.Removed != 1 {
			t.Fatalf("sync after a revocation %+v %v", rep, err)
		}

		// An offline verifier over what was saved: revoked is invalid,
		// the other valid.
		saved, err := dir.ReadBundle()
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(saved, h.anchorKey(t), verifier.Options{Now: h.clock.Now, Lists: dir})
		if err != nil {
			t.Fatal(err)
		}
		if r := v.VerifyCertificate(c1["jws"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("revoked: %+v", r)
		}
		if r := v.VerifyCertificate(c2["jws"].(string)); r.Result != verifier.Valid {
			t.Fatalf("good: %+v", r)
		}
		// The same verifier with the bundle that still pins the list of
		// before the revocation, served by the store: consistent with
		// that bundle (valid), never a mismatch.
		old, err := verifier.New(bundleJWS, h.anchorKey(t), verifier.Options{Now: h.clock.Now, Lists: h.srv.lists})
		if err != nil {
			t.Fatal(err)
		}
		if r := old.VerifyCertificate(c1["jws"].(string)); r.Result != verifier.Valid {
			t.Fatalf("older bundle: %+v", r)
		}
		// Online: revoked.
		if r := h.must(200, h.do("POST", "/v1/verify", h.verifyApp(), map[string]any{"jws": c1["jws"]})); r["result"] != "invalid" {
			t.Fatalf("online: %v", r)
		}
	})
}

// TestManyStatusLists: more lists than fitted in 1 MiB when the bundle
// carried them (~1,300) — the bundle, verification and fetching still work,
// nothing answers 500.
func TestManyStatusLists(t *testing.T) {
	if testing.Short() {
		t.Skip("signs 1,500 lists")
	}
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		_, dep := h.department(uscc2)
		c := h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("M-1")))
		var rec store.Certificate
		rec, err := h.st.GetCertificate(ctx, c["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		const lists = 1500
		now := h.clock.Now().UTC().Truncate(time.Microsecond)
		// Set up in one transaction (the setup, not what is tested).
		if err := h.st.InTx(ctx, func(q store.Queries) error {
			for i := range lists {
				x := rec
				x.ID = rec.ID[:len(rec.ID)-5] + "X" + strings.Repeat("0", 4-len(strconv.Itoa(i))) + strconv.Itoa(i)
				x.Number, x.Serial = "M-X"+strconv.Itoa(i), "X"+strconv.Itoa(i)
				x.StatusList, x.StatusIndex, x.IssuedAt, x.UpdatedAt = "c-"+strconv.Itoa(1000+i), 1, now, now
				if err := q.CreateCertificate(ctx, x); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// The first build signs 1,500 lists; on a loaded machine (CI under
		// -race) that can outlast the request deadline. Each signed list is
		// stored as it is made, so a client's retry continues the work.
		r := h.do("GET", "/v1/trust", "", nil)
		for try := 0; r.Status == 503 && try < 10; try++ {
			r = h.do("GET", "/v1/trust", "", nil)
		}
		if r.Status != 200 {
			t.Fatalf("bundle: %d %s", r.Status, r.Body)
		}
		b, err := trust.Verify(string(r.Body), h.anchorKey(t), h.clock.Now())
		if err != nil || len(b.StatusLists) != lists+1 {
			t.Fatalf("bundle: %d lists, %v", len(b.StatusLists), err)
		}
		t.Logf("bundle with %d list references: %d bytes", len(b.StatusLists), len(r.Body))
		if len(r.Body) >= signing.MaxJWSSize/2 {
			t.Fatalf("bundle of %d bytes", len(r.Body))
		}
		if r := h.must(200, h.do("POST", "/v1/verify", h.verifyApp(), map[string]any{"jws": c["jws"]})); r["result"] != "valid" {
			t.Fatalf("online: %v", r)
		}
		if r := h.do("GET", "/v1/status-lists/c-2499", "", nil); r.Status != 200 {
			t.Fatalf("a list: %d %s", r.Status, r.Body)
		}
	})
}

// TestAgedListsResignedGradually: lists that only aged are re-signed at
// most issuance.MaxAgedResigns per bundle, the others keep their (still
// valid) signed form until the next bundle; a changed list is re-signed at
// once whatever the budget.
func TestAgedListsResignedGradually(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		_, dep := h.department(uscc2)
		c := h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("A-1")))
		rec, err := h.st.GetCertificate(ctx, c["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		const lists = issuance.MaxAgedResigns + 4
		now := h.clock.Now().UTC().Truncate(time.Microsecond)
		for i := range lists {
			x := rec
			x.ID = rec.ID[:len(rec.ID)-5] + fmt.Sprintf("A%04d", i)
			x.Number, x.Serial = "A-X"+strconv.Itoa(i), "A"+strconv.Itoa(i)
			x.StatusList, x.StatusIndex, x.IssuedAt, x.UpdatedAt = "c-"+strconv.Itoa(100+i), 1, now, now
			if err := h.st.InTx(ctx, func(q store.Queries) error { return q.CreateCertificate(ctx, x) }); err != nil {
				t.Fatal(err)
			}
		}
		versions := func() map[int64]int {
			b, err := trust.Verify(string(h.do("GET", "/v1/trust", "", nil).Body), h.anchorKey(t), h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]int{}
			for _, r := range b.StatusLists {
				out[r.Version]++
			}
			return out
		}
		if v := versions(); v[1] != lists+1 {
			t.Fatalf("first bundle: versions %v", v)
		}
		h.clock.Add(issuance.ResignAge + time.Minute)
		if v := versions(); v[2] != issuance.MaxAgedResigns || v[1] != lists+1-issuance.MaxAgedResigns {
			t.Fatalf("aged: versions %v", v)
		}
		// A revocation in a list still waiting: signed at once.
		h.must(200, h.do("POST", "/v1/certificates/"+c["id"].(string)+"/revoke", dep, map[string]any{"reason": "吊销"}))
		b, err := trust.Verify(string(h.do("GET", "/v1/trust", "", nil).Body), h.anchorKey(t), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := b.StatusList(rec.StatusList); r.Version < 2 {
			t.Fatalf("the changed list was not re-signed: %+v", r)
		}
		h.clock.Add(11 * time.Minute) // the next bundle (keyring.Refresh)
		if v := versions(); v[1] != 0 {
			t.Fatalf("after the next bundle: versions %v", v)
		}
	})
}

// TestListsPartitionedByType: each certificate type fills lists of its
// own (single and batch issuance alike), so a verifier that checks only
// one type fetches only that type's list.
func TestListsPartitionedByType(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		lic := h.must(201, h.do("POST", "/v1/certificates", dep, licenceBody("P-1")))
		idc := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("P-2")))
		batch := h.must(200, h.do("POST", "/v1/certificates/batch", dep, map[string]any{"items": []any{licenceBody("P-3"), idCardBody("P-4")}}))
		listOf := func(jws string) string {
			_, payload, err := signing.ParseJWS(jws)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				StatusList struct{ ID string } `json:"status_list"`
			}
			if err := json.Unmarshal(payload, &doc); err != nil || doc.StatusList.ID == "" {
				t.Fatalf("document %s: %v", payload, err)
			}
			return doc.StatusList.ID
		}
		if got := listOf(lic["jws"].(string)); got != "c"+typeLicence+"-0" {
			t.Fatalf("licence in list %q", got)
		}
		if got := listOf(idc["jws"].(string)); got != "c"+typeIDCard+"-0" {
			t.Fatalf("ID card in list %q", got)
		}
		for _, it := range batch["items"].([]any) {
			r := it.(map[string]any)
			c := h.must(200, h.do("GET", "/v1/certificates/"+r["id"].(string), dep, nil))
			if want := "c" + c["type_code"].(string) + "-0"; listOf(c["jws"].(string)) != want {
				t.Fatalf("batch item %v not in %s", r, want)
			}
		}
		// A verifier of licences fetches the licence list only.
		asked := map[string]int{}
		src := h.listSource(t)
		v, err := verifier.New(string(h.do("GET", "/v1/trust", "", nil).Body), h.anchorKey(t), verifier.Options{Now: h.clock.Now,
			Lists: verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) { asked[ref.ID]++; return src.StatusList(ref) })})
		if err != nil {
			t.Fatal(err)
		}
		if r := v.VerifyCertificate(lic["jws"].(string)); r.Result != verifier.Valid {
			t.Fatalf("%+v", r)
		}
		if len(asked) != 1 || asked["c"+typeLicence+"-0"] != 1 {
			t.Fatalf("asked %v", asked)
		}
	})
}
