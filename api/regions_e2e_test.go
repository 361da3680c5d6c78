package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

// regionLicence is a 营业执照 issued in area.
func regionLicence(number, area string) map[string]any {
	b := licenceBody(number)
	b["area_code"] = area
	return b
}

// verifyAt verifies through POST /v1/verify of h with app key.
func verifyAt(t *testing.T, h *harness, app string, body map[string]any) map[string]any {
	t.Helper()
	return h.must(200, h.do("POST", "/v1/verify", app, body))
}

func regionOf(m map[string]any) string {
	r, _ := m["region"].(map[string]any)
	if r == nil {
		return ""
	}
	return r["code"].(string) + " " + r["name"].(string)
}

func firstReason(m map[string]any) string {
	rs, _ := m["reasons"].([]any)
	if len(rs) == 0 {
		return ""
	}
	return rs[0].(map[string]any)["code"].(string)
}

// TestTwoRegions is the done-when test of regional mutual recognition
// (issue 15): two regions on one machine — two servers, two databases
// (SQLite for 苏州, PostgreSQL for 松江), two anchors — each registered with
// the other. A certificate and a code issued in 苏州 verify in 松江 online
// (POST /v1/verify) and offline (the verifier over 松江's bundle and the
// peer bundle as `suishen trust fetch` saves them), the signature chain
// checks with OpenSSL, a revocation in 苏州 shows in 松江 after the next
// refresh, a peer key cannot sign for 松江's area, a peer cannot endorse a
// third region, and a removed peer is no longer trusted.
func TestTwoRegions(t *testing.T) {
	ctx := context.Background()
	backends := teststore.Backends()
	a := newRegionHarness(t, backends[0].Open(t), "320500", "苏州市") // SQLite
	b := newRegionHarness(t, backends[1].Open(t), "310117", "松江区") // PostgreSQL
	c := newRegionHarness(t, backends[0].Open(t), "330400", "嘉兴市") // a third region, known to 苏州 only

	b.registerPeer(a, "320500", "苏州市")
	a.registerPeer(b, "310117", "松江区")
	a.registerPeer(c, "330400", "嘉兴市")

	// Issue in 苏州: a licence of a 苏州 area, one claiming 松江's area, and
	// one in 嘉兴.
	_, depA := a.department(uscc2)
	cert := a.must(201, a.do("POST", "/v1/certificates", depA, regionLicence("SZ-0001", "320506")))
	foreign := a.must(201, a.do("POST", "/v1/certificates", depA, regionLicence("SZ-0002", "310117")))
	_, depC := c.department(uscc3)
	certC := c.must(201, c.do("POST", "/v1/certificates", depC, regionLicence("JX-0001", "330402")))
	_, gwA := a.app("identity-gateway")
	holderA := a.holder(gwA)
	codeA := a.personalCode(holderA)

	// The background step, run directly: each fetches the other.
	for _, x := range []struct {
		h    *harness
		code string
	}{{b, "320500"}, {a, "310117"}, {a, "330400"}} {
		if err := x.h.srv.Regions().Refresh(ctx, x.code); err != nil {
			t.Fatalf("refresh %s: %v", x.code, err)
		}
	}

	_, appB := b.app("verify")
	// Online in 松江.
	got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]})
	if got["result"] != "valid" || regionOf(got) != "320500 苏州市" {
		t.Fatalf("苏州's certificate in 松江: %v", got)
	}
	got = verifyAt(t, b, appB, map[string]any{"code": codeA})
	if got["result"] != "valid" || got["kind"] != "personal" || regionOf(got) != "320500 苏州市" {
		t.Fatalf("苏州's personal code in 松江: %v", got)
	}
	// 松江's own certificates name 松江.
	_, depB := b.department(uscc2)
	home := b.must(201, b.do("POST", "/v1/certificates", depB, regionLicence("SJ-0001", "310117")))
	if got := verifyAt(t, b, appB, map[string]any{"jws": home["jws"]}); got["result"] != "valid" || regionOf(got) != "310117 松江区" {
		t.Fatalf("松江's certificate: %v", got)
	}
	// A peer key cannot sign for this region.
	if got := verifyAt(t, b, appB, map[string]any{"jws": foreign["jws"]}); got["result"] != "invalid" || firstReason(got) != verifier.ReasonKeyNotTrustedForRegion {
		t.Fatalf("苏州's key signing for 松江's area: %v", got)
	}
	// No transitive trust: 苏州 endorses 嘉兴, 松江 does not.
	if got := verifyAt(t, b, appB, map[string]any{"jws": certC["jws"]}); got["result"] != "unknown" || firstReason(got) != verifier.ReasonUnknownKey {
		t.Fatalf("嘉兴's certificate in 松江 (endorsed by 苏州 only): %v", got)
	}
	if got := verifyAt(t, a, mustApp(a), map[string]any{"jws": certC["jws"]}); got["result"] != "valid" || regionOf(got) != "330400 嘉兴市" {
		t.Fatalf("嘉兴's certificate in 苏州: %v", got)
	}

	// Offline: 松江's bundle and the peer's as `suishen trust fetch` saves
	// them, pinned to 松江's anchor only.
	dir := trustsync.DirFor(filepath.Join(t.TempDir(), "trust.jws"))
	anchorB, err := signing.ParsePublicKeyPEM([]byte(b.anchorPEM()))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := trustsync.Sync(ctx, trustsync.Client{Server: b.ts.URL, Now: b.clock.Now}, dir, anchorB, nil)
	if err != nil {
		t.Fatal(err)
	}
	peers := trustsync.SyncPeers(ctx, trustsync.Client{Server: b.ts.URL, Now: b.clock.Now}, dir, rep.Bundle, nil)
	if len(peers) != 1 || peers[0].Code != "320500" || peers[0].Err != nil {
		t.Fatalf("peers fetched: %+v", peers)
	}
	offline := func() *verifier.Federation {
		bundle, err := dir.ReadBundle()
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifier.New(bundle, anchorB, verifier.Options{Now: b.clock.Now, Lists: dir})
		if err != nil {
			t.Fatal(err)
		}
		f, _ := v.Federate(dir.PeerBundles(v.Bundle()))
		return f
	}
	if r := offline().VerifyCertificate(cert["jws"].(string)); r.Result != verifier.Valid || r.Region == nil || r.Region.Code != "320500" {
		t.Fatalf("offline in 松江: %+v", r)
	}
	if r := offline().VerifyCode(codeA); r.Result != verifier.Valid || r.Region == nil || r.Region.Code != "320500" {
		t.Fatalf("offline code in 松江: %+v", r)
	}
	if r := offline().VerifyCertificate(certC["jws"].(string)); r.Result != verifier.Unknown {
		t.Fatalf("offline, 嘉兴 through 苏州: %+v", r)
	}

	// OpenSSL checks the chain: 松江's anchor signed its bundle, which
	// names 苏州's anchor, which signed 苏州's bundle, which holds the
	// department key that signed the certificate.
	bundleB, _ := dir.ReadBundle()
	if !opensslVerifies(t, anchorB, bundleB) {
		t.Fatal("OpenSSL: 松江's bundle does not verify under 松江's anchor")
	}
	hb, err := trust.Verify(bundleB, anchorB, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := hb.Peer("320500")
	if !ok || len(hb.Peers) != 1 || hb.Region == nil || hb.Region.Code != "310117" {
		t.Fatalf("松江's bundle endorses %+v (region %+v)", hb.Peers, hb.Region)
	}
	anchorA, err := peer.AnchorKey()
	if err != nil {
		t.Fatal(err)
	}
	bundleA, err := dir.Peer("320500").ReadBundle()
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerifies(t, anchorA, bundleA) {
		t.Fatal("OpenSSL: 苏州's bundle does not verify under the anchor 松江 endorses")
	}
	ba, err := trust.Verify(bundleA, anchorA, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, err := signing.ParseJWS(cert["jws"].(string))
	if err != nil {
		t.Fatal(err)
	}
	k, ok := ba.Key(hdr.Kid)
	if !ok || k.Role != trust.RoleDepartment {
		t.Fatalf("the certificate's key %q is not a department key of 苏州's bundle", hdr.Kid)
	}
	deptA, _ := k.JWK.PublicKey()
	if !opensslVerifies(t, deptA, cert["jws"].(string)) {
		t.Fatal("OpenSSL: the certificate does not verify under 苏州's department key")
	}

	// Revoke in 苏州: 松江 answers invalid after its next refresh (online),
	// and so does the offline verifier after its next fetch.
	a.must(200, a.do("POST", "/v1/certificates/"+cert["id"].(string)+"/revoke", depA, map[string]any{"reason": "吊销"}))
	if got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]}); got["result"] != "valid" {
		t.Fatalf("before the refresh 松江 still holds the old list: %v", got)
	}
	if err := b.srv.Regions().Refresh(ctx, "320500"); err != nil {
		t.Fatal(err)
	}
	if got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]}); got["result"] != "invalid" || firstReason(got) != verifier.ReasonRevoked || regionOf(got) != "320500 苏州市" {
		t.Fatalf("after the refresh: %v", got)
	}
	trustsync.SyncPeers(ctx, trustsync.Client{Server: b.ts.URL, Now: b.clock.Now}, dir, rep.Bundle, nil)
	if r := offline().VerifyCertificate(cert["jws"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
		t.Fatalf("offline after the fetch: %+v", r)
	}

	// Removed: no longer trusted online at once, nor in the next bundle.
	b.must(204, b.do("DELETE", "/v1/admin/regions/320500", testAdminToken, nil))
	if got := verifyAt(t, b, appB, map[string]any{"code": codeA}); got["result"] != "unknown" || got["region"] != nil {
		t.Fatalf("after removal: %v", got)
	}
	hb, err = trust.Verify(string(b.do("GET", "/v1/trust", "", nil).Body), anchorB, b.clock.Now())
	if err != nil || len(hb.Peers) != 0 {
		t.Fatalf("the bundle after removal: %+v %v", hb.Peers, err)
	}
	rep, err = trustsync.Sync(ctx, trustsync.Client{Server: b.ts.URL, Now: b.clock.Now}, dir, anchorB, nil)
	if err != nil {
		t.Fatal(err)
	}
	trustsync.SyncPeers(ctx, trustsync.Client{Server: b.ts.URL, Now: b.clock.Now}, dir, rep.Bundle, nil)
	if r := offline().VerifyCode(codeA); r.Result != verifier.Unknown {
		t.Fatalf("offline after removal: %+v", r)
	}
}

// mustApp registers an app with scope verify.
func mustApp(h *harness) string {
	_, key := h.app("verify")
	return key
}

// faultPeer stands in front of a peer's node and misbehaves on demand.
type faultPeer struct {
	mu      sync.Mutex
	mode    string
	target  *harness
	other   *harness // serves its bundle for "wrong_anchor"
	expired string   // a bundle signed by the target's anchor, expired
	entered chan struct{}
	srv     *httptest.Server
}

func (f *faultPeer) set(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
	f.entered = make(chan struct{}, 1)
}

func (f *faultPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode, entered := f.mode, f.entered
	f.mu.Unlock()
	forward := func(h *harness) {
		res := h.do(r.Method, r.URL.RequestURI(), "", nil, "If-None-Match", r.Header.Get("If-None-Match"))
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
	}
	switch mode {
	case "ok":
		forward(f.target)
	case "down":
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	case "slow":
		select {
		case entered <- struct{}{}:
		default:
		}
		<-r.Context().Done() // never answers: the client's timeout ends it
	case "wrong_anchor":
		forward(f.other)
	case "expired":
		_, _ = w.Write([]byte(f.expired))
	case "oversized":
		_, _ = w.Write([]byte(strings.Repeat("A", 300<<10)))
	case "redirect":
		http.Redirect(w, r, f.target.ts.URL+r.URL.Path, http.StatusFound)
	}
}

// TestRegionFaults: a peer that is down, slow, signs with the wrong anchor,
// serves an expired or oversized bundle or redirects never breaks the home
// region: every request answers normally (no 500), the held copy of the
// peer's data serves until it expires, and then the peer's certificates are
// unknown, never valid.
func TestRegionFaults(t *testing.T) {
	ctx := context.Background()
	backends := teststore.Backends()
	a := newRegionHarness(t, backends[0].Open(t), "320500", "苏州市")
	b := newHarnessWith(t, backends[1].Open(t), func(c *config.Config) {
		c.RegionCode, c.RegionName = "310117", "松江区"
		c.PeerTimeout = 300 * time.Millisecond // the slow peer is cut off by it
	})
	other := newRegionHarness(t, backends[0].Open(t), "330400", "嘉兴市")

	// An expired bundle, genuinely signed by 苏州's anchor.
	anchorSigner, err := a.srv.deps.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		t.Fatal(err)
	}
	now := a.clock.Now().UTC().Truncate(time.Second)
	expired, err := trust.Sign(anchorSigner, trust.Bundle{Issuer: a.ts.URL, IssuedAt: now.Add(-72 * time.Hour),
		NextUpdate: now.Add(-71 * time.Hour), ExpiresAt: now.Add(-time.Hour), Keys: []trust.Key{}, StatusLists: []trust.StatusListRef{}})
	if err != nil {
		t.Fatal(err)
	}
	fp := &faultPeer{target: a, other: other, expired: expired}
	fp.set("ok")
	fp.srv = httptest.NewServer(fp)
	defer fp.srv.Close()

	b.must(201, b.do("POST", "/v1/admin/regions", testAdminToken, map[string]any{
		"code": "320500", "name": "苏州市", "anchor": a.anchorPEM(), "trust_url": fp.srv.URL + "/v1/trust"}))
	_, depA := a.department(uscc2)
	cert := a.must(201, a.do("POST", "/v1/certificates", depA, regionLicence("SZ-0001", "320506")))
	_, depB := b.department(uscc2)
	home := b.must(201, b.do("POST", "/v1/certificates", depB, regionLicence("SJ-0001", "310117")))
	_, appB := b.app("verify")
	if err := b.srv.Regions().Refresh(ctx, "320500"); err != nil {
		t.Fatal(err)
	}
	healthy := func(what string, peerResult string) {
		t.Helper()
		if got := verifyAt(t, b, appB, map[string]any{"jws": home["jws"]}); got["result"] != "valid" {
			t.Fatalf("%s: 松江's own certificate: %v", what, got)
		}
		if r := b.do("GET", "/v1/trust", "", nil); r.Status != 200 {
			t.Fatalf("%s: GET /v1/trust: %d", what, r.Status)
		}
		if got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]}); got["result"] != peerResult {
			t.Fatalf("%s: 苏州's certificate: %v, want %s", what, got, peerResult)
		}
		if r := b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil); r.Status != 200 {
			t.Fatalf("%s: the region's state: %d", what, r.Status)
		}
	}
	healthy("healthy peer", "valid")

	for _, tc := range []struct{ mode, want string }{
		{"down", "503"},
		{"slow", "deadline"},
		{"wrong_anchor", "pinned anchor"},
		{"expired", "expired"},
		{"oversized", "larger than"},
		{"redirect", "302"},
	} {
		fp.set(tc.mode)
		done := make(chan error, 1)
		go func() { done <- b.srv.Regions().Refresh(ctx, "320500") }()
		if tc.mode == "slow" {
			<-fp.entered                                        // the fetch is under way, held by the peer …
			healthy("while a slow peer holds a fetch", "valid") // … and holds no request
		}
		err := <-done
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.want) {
			t.Fatalf("%s: refresh error %v, want %q", tc.mode, err, tc.want)
		}
		v := b.must(200, b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil))
		if v["state"] != "stale" || v["last_error"] == nil {
			t.Fatalf("%s: state %v", tc.mode, v)
		}
		// The held copy still serves.
		healthy(tc.mode, "valid")
	}

	// The held copy expires while the peer misbehaves: unknown, never valid.
	b.clock.Add(49 * time.Hour)
	fp.set("down")
	if err := b.srv.Regions().Refresh(ctx, "320500"); err == nil {
		t.Fatal("refresh from a down peer succeeded")
	}
	if v := b.must(200, b.do("GET", "/v1/admin/regions/320500", testAdminToken, nil)); v["state"] != "expired" {
		t.Fatalf("state after expiry: %v", v)
	}
	got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]})
	if got["result"] != "unknown" || firstReason(got) != verifier.ReasonBundleExpired || regionOf(got) != "320500 苏州市" {
		t.Fatalf("苏州's certificate with an expired copy: %v", got)
	}
	if got := verifyAt(t, b, appB, map[string]any{"jws": home["jws"]}); got["result"] != "valid" {
		t.Fatalf("松江's own certificate after the peer's copy expired: %v", got)
	}
	// The peer recovers: its fresh bundle is taken at the next refresh.
	a.clock.Add(49 * time.Hour)
	fp.set("ok")
	if err := b.srv.Regions().Refresh(ctx, "320500"); err != nil {
		t.Fatal(err)
	}
	if got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"]}); got["result"] != "valid" {
		t.Fatalf("after the peer recovered: %v", got)
	}
}

// TestRegionUsageReceipts: uses in 松江 of 苏州's certificate and code are
// kept as receipts; 苏州 fetches them with a request its anchor signed and
// shows them in the holder's usage records (用证记录) with the region.
func TestRegionUsageReceipts(t *testing.T) {
	ctx := context.Background()
	backends := teststore.Backends()
	a := newRegionHarness(t, backends[0].Open(t), "320500", "苏州市")
	b := newRegionHarness(t, backends[1].Open(t), "310117", "松江区")
	c := newRegionHarness(t, backends[0].Open(t), "330400", "嘉兴市")
	b.registerPeer(a, "320500", "苏州市")
	a.registerPeer(b, "310117", "松江区")

	_, depA := a.department(uscc2)
	body := idCardBody("320506194912310021")
	body["area_code"] = "320506"
	cert := a.must(201, a.do("POST", "/v1/certificates", depA, body))
	_, gwA := a.app("identity-gateway")
	holderA := a.holder(gwA) // 张三, the certificate's holder
	codeA := a.personalCode(holderA)
	for _, x := range []struct {
		h    *harness
		code string
	}{{b, "320500"}, {a, "310117"}} {
		if err := x.h.srv.Regions().Refresh(ctx, x.code); err != nil {
			t.Fatal(err)
		}
	}

	// Uses in 松江: an app verifies the certificate and the code; a venue
	// scans the code.
	_, appB := b.app("verify")
	if got := verifyAt(t, b, appB, map[string]any{"jws": cert["jws"], "operator": "柜员001", "purpose": "开户核验"}); got["result"] != "valid" {
		t.Fatalf("certificate: %v", got)
	}
	if got := verifyAt(t, b, appB, map[string]any{"code": codeA, "purpose": "身份核验"}); got["result"] != "valid" {
		t.Fatalf("code: %v", got)
	}
	_, venueB := b.venue()
	scan := b.must(200, b.do("POST", "/v1/venue/scans", venueB, map[string]any{"code": codeA}))
	if scan["scan"] == nil || regionOf(scan) != "320500 苏州市" {
		t.Fatalf("scan: %v", scan)
	}
	visitors := b.must(200, b.do("GET", "/v1/venue/checkins", venueB, nil))["items"].([]any)
	if len(visitors) != 1 || visitors[0].(map[string]any)["region"] == nil || visitors[0].(map[string]any)["masked_name"] != "张*" {
		t.Fatalf("venue list: %v", visitors)
	}

	// 两个免于提交 in 松江 with 苏州's ID card, handed over as its JWS: the
	// material is exempted, with the region.
	_, gwB := b.app("identity-gateway")
	_, caseB := b.app("cases")
	holderB := b.holder(gwB) // the same 张三, known in 松江 too
	body = named(caseBody(cases.ItemMarriage, b.personalCode(holderB)), "person", "张三", personID)
	body["certificates"] = []string{cert["jws"].(string)}
	kase := b.must(201, b.do("POST", "/v1/cases", caseB, body))
	var fromPeer map[string]any
	for _, m := range kase["materials"].([]any) {
		if mm := m.(map[string]any); mm["region"] == "320500" {
			fromPeer = mm
		}
	}
	if fromPeer == nil || fromPeer["status"] != "exempted" || fromPeer["certificate_id"] != cert["id"] {
		t.Fatalf("case with a handed-over peer certificate: %v", kase)
	}
	// Someone else's certificate is refused, naming the field.
	other := idCardBody("320506195001010011")
	other["area_code"] = "320506"
	other["holder"] = map[string]any{"kind": "person", "name": "王五", "id_type": "111", "id_number": citizenID("32050619500101001")}
	otherCert := a.must(201, a.do("POST", "/v1/certificates", depA, other))
	body = named(caseBody(cases.ItemMarriage, b.personalCode(holderB)), "person", "张三", personID)
	body["certificates"] = []string{otherCert["jws"].(string)}
	if r := b.do("POST", "/v1/cases", caseB, body); r.Status != 422 || !strings.Contains(string(r.Body), "not_applicant") {
		t.Fatalf("someone else's certificate: %d %s", r.Status, r.Body)
	}

	// Only a registered peer, by its anchor, gets them.
	if r := b.do("GET", "/v1/regions/usage-receipts", "", nil); r.Status != 403 || r.problem(t).Code != "region_request_invalid" {
		t.Fatalf("without a request token: %d %s", r.Status, r.Body)
	}
	c.srv.deps.Regions.Region = "330400"
	if _, err := c.srv.Regions().PullReceipts(ctx, "310117"); err == nil {
		t.Fatal("an unregistered region pulled receipts") // 嘉兴 has not even registered 松江
	}

	// 苏州 fetches them and shows them to 张三 with the region.
	n, err := a.srv.Regions().PullReceipts(ctx, "310117")
	if err != nil || n != 4 {
		t.Fatalf("pulled %d: %v", n, err)
	}
	if n, err := a.srv.Regions().PullReceipts(ctx, "310117"); err != nil || n != 0 {
		t.Fatalf("pulled again %d: %v", n, err)
	}
	recs := a.must(200, a.do("GET", "/v1/me/usage-records", holderA, nil))["items"].([]any)
	byChannel := map[string]map[string]any{}
	for _, x := range recs {
		m := x.(map[string]any)
		if m["region"] != nil {
			kind, _ := m["code_kind"].(string)
			byChannel[m["channel"].(string)+"/"+kind] = m
		}
	}
	certUse, codeUse, scanUse, caseUse := byChannel["verify/"], byChannel["verify/personal"], byChannel["venue_scan/personal"], byChannel["case/"]
	if certUse == nil || codeUse == nil || scanUse == nil || caseUse == nil || len(byChannel) != 4 {
		t.Fatalf("usage records with a region: %v", recs)
	}
	if regionOf(certUse) != "310117 松江区" || certUse["certificate_id"] != cert["id"] || certUse["org"] != "某银行" ||
		certUse["operator"] != "柜员001" || certUse["purpose"] != "开户核验" || certUse["result"] != "valid" {
		t.Fatalf("the certificate's use: %v", certUse)
	}
	if scanUse["org"] != "徐汇区图书馆" || scanUse["result"] != "success" {
		t.Fatalf("the scan: %v", scanUse)
	}
	if caseUse["item_code"] != cases.ItemMarriage || caseUse["business_code"] != "HY2026-000123" || caseUse["certificate_id"] != cert["id"] {
		t.Fatalf("the case: %v", caseUse)
	}
}
