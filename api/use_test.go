package api

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func usageOf(t *testing.T, h *harness, holder string) []map[string]any {
	t.Helper()
	m := h.must(200, h.do("GET", "/v1/me/usage-records?limit=500", holder, nil))
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		// 免申即享 evaluations (channel benefit) follow every issuance; the
		// tests using this helper count the uses of their own channels
		// (policies_test checks the benefit records).
		if it.(map[string]any)["channel"] == "benefit" {
			continue
		}
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestVerifyAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, verifyApp := h.app("verify")
		_, useApp := h.app("use")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("V-1")))
		hol := h.holder(gw)
		code := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)

		r := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": code, "operator": "柜员001", "purpose": "身份核验"}))
		if r["result"] != "valid" || r["kind"] != "personal" || r["subject"].(map[string]any)["masked"] != "张*" {
			t.Fatalf("verify code: %v", r)
		}
		c := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"jws": cert["jws"]}))
		if c["result"] != "valid" || c["kind"] != "certificate" || c["certificate_id"] != cert["id"] {
			t.Fatalf("verify certificate: %v", c)
		}
		// An altered certificate is invalid with the reason; never a 500.
		jws := cert["jws"].(string)
		bad := jws[:len(jws)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(jws, "AAAA")]
		if b := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"jws": bad})); b["result"] != "invalid" || len(b["reasons"].([]any)) == 0 {
			t.Fatalf("altered certificate: %v", b)
		}
		if b := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": "SS1:GARBAGE"})); b["result"] == "valid" {
			t.Fatalf("garbage: %v", b)
		}
		if r := h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": code, "jws": jws}); r.Status != 422 {
			t.Fatalf("both code and jws: %d", r.Status)
		}
		if r := h.do("POST", "/v1/verify", useApp, map[string]any{"code": code}); r.Status != 403 {
			t.Fatalf("app without scope verify: %d", r.Status)
		}
		// The holder sees both verifications.
		recs := usageOf(t, h, hol)
		if len(recs) != 2 || recs[0]["channel"] != "verify" || recs[0]["org"] != "某银行" || recs[0]["operator"] != "柜员001" {
			t.Fatalf("usage records %v", recs)
		}
	})
}

func TestUseCodeRedemption(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, useApp := h.app("use") // its use list: 营业执照 and 居民身份证 (harness)
		m := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
			"name": "某酒店", "uscc": uscc1, "scopes": []string{"use"}, "certificate_types": []string{typeLicence}}))
		narrowApp := m["api_key"].(string)
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("U-1")))
		hol := h.holder(gw)
		present := func() string {
			p := h.must(201, h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/presentations", hol, map[string]any{"purpose": "入住登记"}))
			return p["use_code"].(string)
		}
		body := func(uc string) map[string]any {
			return map[string]any{"use_code": uc, "org": "某银行股份有限公司", "operator": "柜员001", "item_code": "310000000000000001",
				"item_name": "个人开户", "business_code": "B2026-0001", "purpose": "开立个人账户"}
		}
		uc := present()
		data := h.must(200, h.do("POST", "/v1/use-codes/redeem", useApp, body(uc)))
		if data["certificate_id"] != cert["id"] || data["type_name"] != "居民身份证" || data["holder"].(map[string]any)["name"] != "张*" {
			t.Fatalf("redeemed %v", data)
		}
		if strings.Contains(fmt.Sprint(data), personID) {
			t.Fatal("the app received the ID number")
		}
		// A use code works once.
		if r := h.do("POST", "/v1/use-codes/redeem", useApp, body(uc)); r.Status != 409 {
			t.Fatalf("second redemption: %d", r.Status)
		}
		// Missing attribution is named.
		b := body(present())
		delete(b, "business_code")
		if r := h.do("POST", "/v1/use-codes/redeem", useApp, b); r.Status != 422 || r.problem(t).Errors[0].Field != "business_code" {
			t.Fatalf("missing business_code: %d %s", r.Status, r.Body)
		}
		// An app whose use list lacks the type is refused, and that is recorded.
		if r := h.do("POST", "/v1/use-codes/redeem", narrowApp, body(present())); r.Status != 403 {
			t.Fatalf("type outside the use list: %d %s", r.Status, r.Body)
		}
		// Expired.
		uc2 := present()
		h.clock.Add(10 * time.Minute)
		if r := h.do("POST", "/v1/use-codes/redeem", useApp, body(uc2)); r.Status != 409 {
			t.Fatalf("expired use code: %d", r.Status)
		}
		if r := h.do("POST", "/v1/use-codes/redeem", useApp, body("ZZZZZZZZZZZZ")); r.Status != 404 {
			t.Fatalf("unknown use code: %d", r.Status)
		}
		results := []string{}
		for _, r := range usageOf(t, h, hol) {
			if r["channel"] == "use_code" {
				results = append(results, r["result"].(string))
				if r["business_code"] != "B2026-0001" || r["item_name"] != "个人开户" {
					t.Fatalf("record lacks attribution: %v", r)
				}
			}
		}
		if strings.Join(results, ",") != "success,refused" {
			t.Fatalf("use-code records %v", results)
		}
	})
}

func TestGrants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		appID, useApp := h.app("use")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("G-1")))
		id := cert["id"].(string)
		hol := h.holder(gw)
		// Without a grant: 404, and the refusal is recorded.
		if r := h.do("GET", "/v1/certificates/"+id, useApp, nil); r.Status != 404 {
			t.Fatalf("no grant: %d", r.Status)
		}
		exp := h.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		g := h.must(201, h.do("POST", "/v1/me/authorizations", hol, map[string]any{"app_id": appID, "certificate_types": []string{typeIDCard},
			"purpose": "办理信用卡", "expires_at": exp}))
		list := h.must(200, h.do("GET", "/v1/me/authorizations", hol, nil))
		if len(list["items"].([]any)) != 1 {
			t.Fatalf("grants %v", list)
		}
		data := h.must(200, h.do("GET", "/v1/certificates/"+id+"?operator=审核员&purpose=办理信用卡", useApp, nil))
		if data["type_code"] != typeIDCard || strings.Contains(fmt.Sprint(data), personID) {
			t.Fatalf("granted read %v", data)
		}
		// Bad grants are named.
		if r := h.do("POST", "/v1/me/authorizations", hol, map[string]any{"app_id": "nope", "certificate_types": []string{typeIDCard}, "purpose": "x", "expires_at": exp}); r.Status != 422 {
			t.Fatalf("unknown app: %d", r.Status)
		}
		if r := h.do("POST", "/v1/me/authorizations", hol, map[string]any{"app_id": appID, "certificate_types": []string{typeIDCard}, "purpose": "x", "expires_at": "2020-01-01T00:00:00Z"}); r.Status != 422 {
			t.Fatalf("past expiry: %d", r.Status)
		}
		// Revoked: 404 again.
		if r := h.do("DELETE", "/v1/me/authorizations/"+g["id"].(string), hol, nil); r.Status != 204 {
			t.Fatalf("revoke: %d", r.Status)
		}
		if r := h.do("GET", "/v1/certificates/"+id, useApp, nil); r.Status != 404 {
			t.Fatalf("after revocation: %d", r.Status)
		}
		results := []string{}
		for _, r := range usageOf(t, h, hol) {
			if r["channel"] == "grant" {
				results = append(results, r["result"].(string))
			}
		}
		if strings.Join(results, ",") != "refused,success,refused" {
			t.Fatalf("grant records %v", results)
		}
		// Another holder cannot revoke it.
		other := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "某公司", "id_number": uscc1}))["token"].(string)
		if r := h.do("DELETE", "/v1/me/authorizations/"+g["id"].(string), other, nil); r.Status != 404 {
			t.Fatalf("someone else's grant: %d", r.Status)
		}
	})
}

// TestConcurrentVerificationsAreAllRecorded: usage records are written with
// group commit; every one of a burst of verifications is recorded.
func TestConcurrentVerificationsAreAllRecorded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		_, verifyApp := h.app("verify")
		hol := h.holder(gw)
		code := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)
		const n = 60
		errs := make(chan string, n)
		for i := 0; i < n; i++ {
			go func() {
				r := h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": code})
				errs <- fmt.Sprint(r.Status)
			}()
		}
		for i := 0; i < n; i++ {
			if s := <-errs; s != "200" {
				t.Fatalf("verify: %s", s)
			}
		}
		if got := len(usageOf(t, h, hol)); got != n {
			t.Fatalf("%d usage records for %d verifications", got, n)
		}
	})
}
