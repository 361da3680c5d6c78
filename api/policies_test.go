package api

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/issuer"
)

// benefitsDept registers the stand-in owner of the seeded examples,
// authorised for 居民身份证 and 残疾人证.
func benefitsDept(h *harness) string {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
		"name": "某区民政局", "uscc": benefits.SeedDepartmentCivilAffairs, "level": "区县级",
		"certificate_types": []string{issuer.TypeResidentIDCard, issuer.TypeDisabilityCard}}))
	return m["api_key"].(string)
}

func elderID(h *harness, dept, number, birth, area, validUntil string) (certID, idNumber string) {
	h.t.Helper()
	id := citizenID(area + strings.ReplaceAll(birth, "-", "") + number[len(number)-3:])
	until := any(nil)
	long := true
	if validUntil != "" {
		until, long = validUntil, false
	}
	c := h.must(201, h.do("POST", "/v1/certificates", dept, map[string]any{
		"type_code": issuer.TypeResidentIDCard, "number": number,
		"holder":     map[string]any{"kind": "person", "name": "王老" + number[len(number)-1:], "id_type": "111", "id_number": id},
		"valid_from": "2016-01-01", "valid_until": until, "long_term": long, "area_code": area,
		"fields": map[string]any{"name": "王老" + number[len(number)-1:], "sex": "男", "ethnicity": "汉", "birth_date": birth,
			"address": "上海市某区某路1号", "issuing_authority": "上海市公安局某分局"}}))
	return c["id"].(string), id
}

// personSession mints a session for a person with this ID number.
func personSession(h *harness, idNumber string) string {
	h.t.Helper()
	_, gw := h.app("identity-gateway")
	s := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "person", "name": "王老", "id_number": idNumber}))
	return s["token"].(string)
}

// fullMatch queues a full match as the policy's department (202), waits
// for the worker, and returns the match's state from GET.
func fullMatch(h *harness, dept, policy string) map[string]any {
	h.t.Helper()
	q := h.must(202, h.do("POST", "/v1/policies/"+policy+"/match", dept, nil))
	// The answer reads the job as it is: a fast worker may have finished it.
	if q["status"] != "queued" && q["status"] != "running" && q["status"] != "done" {
		h.t.Fatalf("queued match: %v", q)
	}
	h.settle()
	m := h.must(200, h.do("GET", "/v1/policies/"+policy, dept, nil))["match"].(map[string]any)
	if m["status"] != "done" {
		h.t.Fatalf("match: %v", m)
	}
	return m
}

func entitlementStatus(h *harness, holder, policy string) string {
	h.t.Helper()
	for _, it := range h.must(200, h.do("GET", "/v1/me/entitlements", holder, nil))["items"].([]any) {
		e := it.(map[string]any)
		if e["policy"].(map[string]any)["code"] == policy {
			return e["status"].(string)
		}
	}
	return "none"
}

// TestAgedCareAllowance: the seeded 高龄老人营养补贴 finds exactly the
// qualifying holders among edge cases — 80 today vs 80 tomorrow, another
// district, revoked and expired cards — offers it without an application,
// withdraws it when a holder stops qualifying (incrementally on revocation,
// by the next full match on expiry), keeps a decline, shows the department
// masked names only, and records every evaluation for the holder.
func TestAgedCareAllowance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		const policy = "EX-GAOLING-310117"
		dept := benefitsDept(h)
		// The harness clock: 2026-11-27 16:00 in Shanghai.
		_, a := elderID(h, dept, "A00000000001", "1946-11-27", "310117", "")           // 80 today
		_, b := elderID(h, dept, "B00000000002", "1946-11-28", "310117", "")           // 80 tomorrow
		_, c := elderID(h, dept, "C00000000003", "1940-01-01", "310104", "")           // another district
		dID, d := elderID(h, dept, "D00000000004", "1930-05-05", "310117", "")         // revoked later
		_, e := elderID(h, dept, "E00000000005", "1935-01-01", "310117", "")           // declines
		_, g := elderID(h, dept, "G00000000006", "1936-03-01", "310117", "2026-11-28") // expires

		// Issuing already evaluated each holder incrementally (after
		// commit, from the outbox).
		h.settle()
		want := map[string]string{"a": "offered", "b": "none", "c": "none", "d": "offered", "e": "offered", "g": "offered"}
		people := map[string]string{"a": a, "b": b, "c": c, "d": d, "e": e, "g": g}
		tokens := map[string]string{}
		login := func() {
			for k, id := range people {
				tokens[k] = personSession(h, id)
			}
		}
		login()
		check := func(stage string) {
			t.Helper()
			for k, tok := range tokens {
				if got := entitlementStatus(h, tok, policy); got != want[k] {
					t.Errorf("%s: holder %s: %s, want %s", stage, k, got, want[k])
				}
			}
		}
		check("after issuance")
		// A full match agrees with the incremental one.
		sum := fullMatch(h, dept, policy)
		if sum["holders_read"].(float64) != 6 || sum["eligible"].(float64) != 4 || sum["withdrawn"].(float64) != 0 {
			t.Fatalf("full match %v", sum)
		}
		check("after a full match")

		// Revocation withdraws at once; a decline sticks through matches.
		h.must(200, h.do("POST", "/v1/certificates/"+url.PathEscape(dID)+"/revoke", dept, map[string]any{"reason": "户籍迁出"}))
		h.settle()
		want["d"] = "withdrawn"
		var eID string
		for _, it := range h.must(200, h.do("GET", "/v1/me/entitlements", tokens["e"], nil))["items"].([]any) {
			eID = it.(map[string]any)["id"].(string)
		}
		if r := h.must(200, h.do("POST", "/v1/me/entitlements/"+eID+"/decline", tokens["e"], nil)); r["status"] != "declined" {
			t.Fatalf("decline: %v", r)
		}
		if r := h.do("POST", "/v1/me/entitlements/"+eID+"/decline", tokens["a"], nil); r.Status != 404 {
			t.Fatalf("another holder declined E's entitlement: %d", r.Status)
		}
		want["e"] = "declined"
		check("after revocation and decline")

		// B turns 80 at midnight (China Standard Time) and G's card ends
		// then: each evaluation scheduled the holder's next one for then, so
		// B is offered and G withdrawn on the day, with no full match — and
		// not a minute before.
		h.clock.Add(8*time.Hour - time.Minute) // 23:59 CST
		login()
		h.settle()
		check("one minute before B's birthday")
		h.clock.Add(time.Minute)
		h.settle()
		want["b"], want["g"] = "offered", "withdrawn"
		check("on B's birthday")
		// Two days later a full match agrees and withdraws nothing more.
		h.clock.Add(48 * time.Hour)
		login()
		sum = fullMatch(h, dept, policy)
		check("two days later")
		if sum["withdrawn"].(float64) != 0 || sum["eligible"].(float64) != 3 {
			t.Fatalf("full match two days later %v", sum)
		}
		// Thirty days after that the worker queues the next full match by
		// itself (SUISHEN_BENEFIT_REMATCH, 720h).
		before := h.must(200, h.do("GET", "/v1/policies/"+policy, dept, nil))["matched_at"]
		h.clock.Add(29 * 24 * time.Hour)
		if err := h.bm.QueueDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		h.settle()
		if pv := h.must(200, h.do("GET", "/v1/policies/"+policy, dept, nil)); pv["matched_at"] != before {
			t.Fatalf("a full match ran before the re-match period: %v", pv)
		}
		h.clock.Add(24*time.Hour + time.Minute)
		if err := h.bm.QueueDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		h.settle()
		pv := h.must(200, h.do("GET", "/v1/policies/"+policy, dept, nil))
		if m := pv["match"].(map[string]any); m["status"] != "done" || pv["matched_at"] == before {
			t.Fatalf("no periodic full match: %v (before %v)", pv, before)
		}
		login()

		// The department sees masked names and evidence, never identity numbers.
		list := h.must(200, h.do("GET", "/v1/policies/"+policy+"/entitlements?limit=2", dept, nil))
		items := list["items"].([]any)
		if len(items) != 2 || list["next_cursor"] == nil {
			t.Fatalf("page: %v", list)
		}
		all := string(h.do("GET", "/v1/policies/"+policy+"/entitlements?limit=100", dept, nil).Body)
		if strings.Contains(all, "王老1") || strings.Contains(all, "310117194611") || !strings.Contains(all, "王*") {
			t.Fatalf("the department's list leaks identity: %s", all)
		}
		// Another department learns nothing.
		_, other := h.department(uscc3)
		if r := h.do("GET", "/v1/policies/"+policy+"/entitlements", other, nil); r.Status != 404 {
			t.Fatalf("another department listed entitlements: %d", r.Status)
		}
		if r := h.do("POST", "/v1/policies/"+policy+"/match", other, nil); r.Status != 404 {
			t.Fatalf("another department ran a match: %d", r.Status)
		}

		// Every evaluation is in the holder's usage records, with the policy.
		recs := string(h.do("GET", "/v1/me/usage-records?limit=100", tokens["c"], nil).Body)
		if !strings.Contains(recs, `"channel":"benefit"`) || !strings.Contains(recs, "高龄老人营养补贴") || !strings.Contains(recs, `"result":"not_eligible"`) ||
			!strings.Contains(recs, benefits.SeedDepartmentCivilAffairs) {
			t.Fatalf("usage records of a non-qualifying holder: %s", recs)
		}
		// Public transparency: the policy and its criteria in words.
		pv = h.must(200, h.do("GET", "/v1/policies/"+policy, "", nil))
		if words := fmt.Sprint(pv["criteria_in_words"]); !strings.Contains(words, "年满80周岁") || pv["example"] != true {
			t.Fatalf("public policy %v", pv)
		}
		if l := h.must(200, h.do("GET", "/v1/policies", "", nil)); len(l["items"].([]any)) != 3 {
			t.Fatalf("public list %v", l)
		}
	})
}

// TestIncrementalAgreesWithFullMatch: after random issuance and revocation
// of 残疾人证 (each evaluated incrementally), a full match changes nothing.
func TestIncrementalAgreesWithFullMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		const policy = "EX-ZHONGCAN-31"
		dept := benefitsDept(h)
		rng := rand.New(rand.NewPCG(7, 11))
		levels := []string{"一级", "二级", "三级", "四级"}
		areas := []string{"310104", "310117", "320506"}
		var ids []string
		for i := 0; i < 24; i++ {
			holder := citizenID(fmt.Sprintf("310104%d0101%03d", 1950+i, i))
			c := h.must(201, h.do("POST", "/v1/certificates", dept, map[string]any{
				"type_code": issuer.TypeDisabilityCard, "number": fmt.Sprintf("CDPF%04d", i),
				"holder":     map[string]any{"kind": "person", "name": "李" + string(rune('甲'+i)), "id_type": "111", "id_number": holder},
				"valid_from": "2020-01-01", "valid_until": "2030-01-01", "area_code": areas[rng.IntN(len(areas))],
				"fields": map[string]any{"name": "李" + string(rune('甲'+i)), "sex": "女", "ethnicity": "汉", "birth_date": fmt.Sprintf("%d-01-01", 1950+i),
					"address": "某地", "disability_category": "肢体残疾", "disability_level": levels[rng.IntN(len(levels))], "issuing_authority": "某残联"}}))
			ids = append(ids, c["id"].(string))
		}
		for _, id := range ids {
			if rng.IntN(4) == 0 {
				h.must(200, h.do("POST", "/v1/certificates/"+url.PathEscape(id)+"/revoke", dept, map[string]any{"reason": "注销"}))
			}
		}
		snapshot := func() []string {
			var out []string
			for _, it := range h.must(200, h.do("GET", "/v1/policies/"+policy+"/entitlements?limit=100", dept, nil))["items"].([]any) {
				e := it.(map[string]any)
				out = append(out, e["id"].(string)+"="+e["status"].(string))
			}
			sort.Strings(out)
			return out
		}
		h.settle()
		before := snapshot()
		if len(before) == 0 {
			t.Fatal("no holder qualified: the test population is wrong")
		}
		sum := fullMatch(h, dept, policy)
		if after := snapshot(); strings.Join(after, ",") != strings.Join(before, ",") {
			t.Fatalf("the full match disagrees with incremental matching:\nincremental %v\nfull        %v", before, after)
		}
		if sum["withdrawn"].(float64) != 0 {
			t.Fatalf("full match withdrew %v", sum)
		}
	})
}

// TestPolicyDefinition: a department defines a policy; the catalogue decides
// what it may say; codes are unique; only departments define policies.
func TestPolicyDefinition(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		dept := benefitsDept(h)
		body := map[string]any{"code": "JT-2026-01", "name": "困难家庭助学补贴", "legal_basis": "某区教育资助办法", "holder_kind": "person",
			"area_codes": []string{"310104"}, "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeResidentIDCard, "field": "salary", "op": "gte", "value": 1}},
			"benefit":  map[string]any{"description": "每学期补贴", "amount": "1000元"}}
		p := h.do("POST", "/v1/policies", dept, body).problem(t)
		if p.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "criteria[0].field" {
			t.Fatalf("unknown field: %+v", p)
		}
		body["criteria"] = []any{map[string]any{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "in", "value": []string{"x"}}}
		if p := h.do("POST", "/v1/policies", dept, body).problem(t); p.Status != 422 || p.Errors[0].Field != "criteria[0].op" {
			t.Fatalf("wrong operator for the field: %+v", p)
		}
		body["criteria"] = []any{map[string]any{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "lte", "value": "2010-12-31"}}
		created := h.must(201, h.do("POST", "/v1/policies", dept, body, "Idempotency-Key", "pol-1"))
		if created["code"] != "JT-2026-01" || created["status"] != "approved" || created["match"] == nil || created["example"] == true {
			t.Fatalf("created %v", created)
		}
		again := h.must(201, h.do("POST", "/v1/policies", dept, body, "Idempotency-Key", "pol-1"))
		if again["created_at"] != created["created_at"] {
			t.Fatal("a retried creation was not the first answer")
		}
		if p := h.do("POST", "/v1/policies", dept, body).problem(t); p.Status != 409 {
			t.Fatalf("duplicate code: %+v", p)
		}
		_, app := h.app("verify")
		if r := h.do("POST", "/v1/policies", app, body); r.Status != 403 {
			t.Fatalf("an app defined a policy: %d", r.Status)
		}
		if r := h.do("GET", "/v1/policies/NOPE", "", nil); r.Status != 404 {
			t.Fatalf("unknown policy: %d", r.Status)
		}
	})
}

// TestPolicyScopeHostileDepartment: a department that wants to learn who
// has a disability card (another department's type, a sensitive field)
// defines a policy over it. The policy waits for the administrator: nobody
// is read, matched or listed, a match cannot be forced, the department
// cannot approve it itself, and even the issuing department's own policy
// over a sensitive field waits. Once the administrator approves, matching
// runs in the background and the list shows masked names only.
func TestPolicyScopeHostileDepartment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		issuing := benefitsDept(h) // issues 居民身份证 and 残疾人证
		for i, level := range []string{"一级", "三级"} {
			holder := citizenID(fmt.Sprintf("31010419600101%03d", i))
			h.must(201, h.do("POST", "/v1/certificates", issuing, map[string]any{
				"type_code": issuer.TypeDisabilityCard, "number": fmt.Sprintf("CDPF-H%d", i),
				"holder":     map[string]any{"kind": "person", "name": "赵某某", "id_type": "111", "id_number": holder},
				"valid_from": "2020-01-01", "valid_until": "2030-01-01", "area_code": "310104",
				"fields": map[string]any{"name": "赵某某", "sex": "女", "ethnicity": "汉", "birth_date": "1960-01-01",
					"address": "某地", "disability_category": "肢体残疾", "disability_level": level, "issuing_authority": "某残联"}}))
		}
		h.settle()
		_, hostile := h.department(uscc3) // issues 营业执照 and 居民身份证 only
		spy := map[string]any{"code": "SPY-1", "name": "某补贴", "legal_basis": "某办法", "holder_kind": "person", "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeDisabilityCard, "field": "disability_level", "op": "in", "value": []string{"一级", "二级"}}},
			"benefit":  map[string]any{"description": "某补贴"}}
		created := h.must(201, h.do("POST", "/v1/policies", hostile, spy))
		why := fmt.Sprint(created["approval_required_because"])
		if created["status"] != "pending_approval" || !strings.Contains(why, "does not issue") || !strings.Contains(why, "sensitive") {
			t.Fatalf("a policy over another department's sensitive field: %v", created)
		}
		if m := created["match"].(map[string]any); m["status"] != "none" {
			t.Fatalf("a pending policy's match: %v", m)
		}
		h.settle()
		if l := h.must(200, h.do("GET", "/v1/policies/SPY-1/entitlements", hostile, nil)); len(l["items"].([]any)) != 0 {
			t.Fatalf("a pending policy matched: %v", l)
		}
		if p := h.do("POST", "/v1/policies/SPY-1/match", hostile, nil).problem(t); p.Status != 409 || p.Code != "policy_not_approved" {
			t.Fatalf("forcing a match of a pending policy: %+v", p)
		}
		if r := h.do("POST", "/v1/admin/policies/SPY-1/approve", hostile, nil); r.Status != 403 {
			t.Fatalf("a department approved its own policy: %d", r.Status)
		}
		// A new disability card is issued: the outbox evaluates its holder
		// under approved policies only.
		h.must(201, h.do("POST", "/v1/certificates", issuing, map[string]any{
			"type_code": issuer.TypeDisabilityCard, "number": "CDPF-H9",
			"holder":     map[string]any{"kind": "person", "name": "钱某某", "id_type": "111", "id_number": citizenID("31010419600101009")},
			"valid_from": "2020-01-01", "valid_until": "2030-01-01", "area_code": "310104",
			"fields": map[string]any{"name": "钱某某", "sex": "女", "ethnicity": "汉", "birth_date": "1960-01-01",
				"address": "某地", "disability_category": "肢体残疾", "disability_level": "二级", "issuing_authority": "某残联"}}))
		h.settle()
		if l := h.must(200, h.do("GET", "/v1/policies/SPY-1/entitlements", hostile, nil)); len(l["items"].([]any)) != 0 {
			t.Fatalf("a pending policy matched incrementally: %v", l)
		}
		// Nothing of the holders was read for it: no usage record names it.
		recs := string(h.do("GET", "/v1/me/usage-records?limit=100", personSession(h, citizenID("31010419600101009")), nil).Body)
		if strings.Contains(recs, "SPY-1") || !strings.Contains(recs, "EX-ZHONGCAN-31") {
			t.Fatalf("usage records: %s", recs)
		}
		// The public sees the pending policy and what it would read, not its match.
		pub := h.must(200, h.do("GET", "/v1/policies/SPY-1", "", nil))
		if pub["status"] != "pending_approval" || pub["match"] != nil {
			t.Fatalf("public view %v", pub)
		}

		// Its own type but a sensitive field: the issuing department waits too.
		own := map[string]any{"code": "OWN-SENSITIVE", "name": "某补贴", "legal_basis": "某办法", "holder_kind": "person", "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeDisabilityCard, "field": "disability_level", "op": "eq", "value": "三级"}},
			"benefit":  map[string]any{"description": "某补贴"}}
		if c := h.must(201, h.do("POST", "/v1/policies", issuing, own)); c["status"] != "pending_approval" {
			t.Fatalf("own type, sensitive field: %v", c)
		}
		// Its own type, non-sensitive fields: approved at once.
		plain := map[string]any{"code": "OWN-PLAIN", "name": "某补贴", "legal_basis": "某办法", "holder_kind": "person", "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "lte", "value": "1970-01-01"}},
			"benefit":  map[string]any{"description": "某补贴"}}
		if c := h.must(201, h.do("POST", "/v1/policies", hostile, plain)); c["status"] != "approved" || c["approval_required_because"] != nil {
			t.Fatalf("own type, plain field: %v", c)
		}

		// The administrator approves: the first match runs in the background.
		if r := h.do("POST", "/v1/admin/policies/NOPE/approve", testAdminToken, nil); r.Status != 404 {
			t.Fatalf("approving an unknown policy: %d", r.Status)
		}
		ap := h.must(200, h.do("POST", "/v1/admin/policies/SPY-1/approve", testAdminToken, nil))
		if ap["status"] != "approved" || ap["approved_at"] == nil {
			t.Fatalf("approved: %v", ap)
		}
		h.settle()
		m := h.must(200, h.do("GET", "/v1/policies/SPY-1", hostile, nil))["match"].(map[string]any)
		if m["status"] != "done" || m["holders_read"].(float64) != 3 || m["eligible"].(float64) != 2 {
			t.Fatalf("the approved policy's match: %v", m)
		}
		list := string(h.do("GET", "/v1/policies/SPY-1/entitlements", hostile, nil).Body)
		if strings.Contains(list, "赵某某") || strings.Contains(list, "钱某某") || strings.Contains(list, "310104196001") || !strings.Contains(list, "钱*") {
			t.Fatalf("the list after approval: %s", list)
		}
		// The evidence names certificates the department cannot open, and
		// nothing in an entitlement names the holder.
		for _, it := range h.must(200, h.do("GET", "/v1/policies/SPY-1/entitlements", hostile, nil))["items"].([]any) {
			e := it.(map[string]any)
			for k := range e {
				if k != "id" && k != "policy" && k != "status" && k != "masked_name" && k != "evidence" && k != "at" {
					t.Fatalf("an entitlement carries %q: %v", k, e)
				}
			}
			ev := e["evidence"].([]any)[0].(map[string]any)["certificate_id"].(string)
			if r := h.do("GET", "/v1/certificates/"+url.PathEscape(ev), hostile, nil); r.Status != 404 {
				t.Fatalf("the department opened the evidence %s: %d", ev, r.Status)
			}
		}
		found := false
		for _, e := range h.must(200, h.do("GET", "/v1/admin/audit?limit=50", testAdminToken, nil))["items"].([]any) {
			if e.(map[string]any)["action"] == "policy.approve" {
				found = true
			}
		}
		if !found {
			t.Fatal("the approval is not in the audit log")
		}
	})
}

// TestPayeeIdentity: identity leaves 免申即享 only where the policy's legal
// basis provides for it (payee_identity), only after the administrator
// approved that, only to the policy's own department, one offered
// entitlement at a time, with a stated purpose — and the holder sees every
// such read. Attacked as a department without that basis, as another
// department, with another policy's entitlement, after a decline, and as
// the holder.
func TestPayeeIdentity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		dept := benefitsDept(h)
		pol := map[string]any{"code": "PAY-80", "name": "高龄津贴发放（测试）", "legal_basis": "《某区高龄津贴发放办法》第五条：按身份证号码发放至社保卡",
			"holder_kind": "person", "area_codes": []string{"310117"}, "valid_from": "2026-01-01", "payee_identity": true,
			"criteria": []map[string]any{{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "age_gte", "value": 80}},
			"benefit":  map[string]any{"description": "按月发放"}}
		created := h.must(201, h.do("POST", "/v1/policies", dept, pol))
		if created["status"] != "pending_approval" || !strings.Contains(fmt.Sprint(created["approval_required_because"]), "payee_identity") {
			t.Fatalf("a policy reading identity for payment was not held for approval: %v", created)
		}
		_, a := elderID(h, dept, "A00000000001", "1940-03-03", "310117", "")
		_, b := elderID(h, dept, "B00000000002", "1941-04-04", "310117", "")
		h.settle()
		purpose := map[string]any{"purpose": "2026年12月发放"}
		payee := func(token, policy, id string, body any) resp {
			return h.do("POST", "/v1/policies/"+policy+"/entitlements/"+id+"/payee", token, body)
		}
		if r := payee(dept, "PAY-80", "x", purpose); r.Status != 409 || !strings.Contains(string(r.Body), "policy_not_approved") {
			t.Fatalf("before approval: %d %s", r.Status, r.Body)
		}
		h.must(200, h.do("POST", "/v1/admin/policies/PAY-80/approve", testAdminToken, nil))
		h.settle()
		if ents := h.must(200, h.do("GET", "/v1/policies/PAY-80/entitlements", dept, nil))["items"].([]any); len(ents) != 2 ||
			strings.Contains(fmt.Sprint(ents), a) {
			t.Fatalf("entitlements %v", ents)
		}
		ta, tb := personSession(h, a), personSession(h, b)
		idOf := func(tok string) string {
			for _, it := range h.must(200, h.do("GET", "/v1/me/entitlements", tok, nil))["items"].([]any) {
				if e := it.(map[string]any); e["policy"].(map[string]any)["code"] == "PAY-80" {
					return e["id"].(string)
				}
			}
			t.Fatal("no entitlement")
			return ""
		}
		ea, eb := idOf(ta), idOf(tb)

		// The department pays A: name and number, not cached, recorded.
		r := payee(dept, "PAY-80", ea, purpose)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("payee: %d %s", r.Status, r.Body)
		}
		got := h.must(200, r)
		if got["id_number"] != a || got["id_type"] != "111" || !strings.HasPrefix(got["name"].(string), "王老") || got["entitlement_id"] != ea {
			t.Fatalf("payee %v", got)
		}
		recs := string(h.do("GET", "/v1/me/usage-records?limit=100", ta, nil).Body)
		if !strings.Contains(recs, `"result":"identity_disclosed"`) || !strings.Contains(recs, "免申即享发放：2026年12月发放") {
			t.Fatalf("A does not see the identity read: %s", recs)
		}
		if strings.Contains(string(h.do("GET", "/v1/me/usage-records?limit=100", tb, nil).Body), "identity_disclosed") {
			t.Fatal("B sees a read of A's identity")
		}

		// Hostile requests learn nothing.
		if r := payee(dept, "PAY-80", ea, map[string]any{"purpose": ""}); r.Status != 422 {
			t.Fatalf("no purpose: %d", r.Status)
		}
		_, other := h.department(uscc3)
		if r := payee(other, "PAY-80", ea, purpose); r.Status != 404 {
			t.Fatalf("another department: %d %s", r.Status, r.Body)
		}
		if r := payee(ta, "PAY-80", ea, purpose); r.Status != 403 && r.Status != 401 {
			t.Fatalf("the holder: %d", r.Status)
		}
		// The seeded aged-care example has no payee_identity: its
		// entitlements never disclose identity, even to their department.
		var seededA string
		for _, it := range h.must(200, h.do("GET", "/v1/me/entitlements", ta, nil))["items"].([]any) {
			if e := it.(map[string]any); e["policy"].(map[string]any)["code"] == "EX-GAOLING-310117" {
				seededA = e["id"].(string)
			}
		}
		if r := payee(dept, "EX-GAOLING-310117", seededA, purpose); r.Status != 403 || !strings.Contains(string(r.Body), "payee_identity_not_provided") {
			t.Fatalf("a policy without payee_identity: %d %s", r.Status, r.Body)
		}
		// Another policy's entitlement through this policy's path.
		if r := payee(dept, "PAY-80", seededA, purpose); r.Status != 404 {
			t.Fatalf("another policy's entitlement: %d %s", r.Status, r.Body)
		}
		// A declined entitlement is not paid, so its identity is not read.
		h.must(200, h.do("POST", "/v1/me/entitlements/"+eb+"/decline", tb, nil))
		if r := payee(dept, "PAY-80", eb, purpose); r.Status != 409 || !strings.Contains(string(r.Body), "entitlement_not_offered") {
			t.Fatalf("declined: %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(h.do("GET", "/v1/me/usage-records?limit=100", tb, nil).Body), "identity_disclosed") {
			t.Fatal("a refused read was recorded as a disclosure")
		}
	})
}

// TestPolicyPeriod: a policy offers nothing before its first day, offers to
// everyone who qualifies on that day without anyone asking for a match, and
// withdraws its open offers the day after its last.
func TestPolicyPeriod(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		dept := benefitsDept(h)
		// The harness clock: 2026-11-27 16:00 in Shanghai.
		h.must(201, h.do("POST", "/v1/policies", dept, map[string]any{"code": "WINTER-26", "name": "冬季取暖补贴（测试）",
			"legal_basis": "某区冬季取暖补贴办法", "holder_kind": "person", "area_codes": []string{"310117"},
			"valid_from": "2026-11-29", "valid_until": "2026-11-30",
			"criteria": []map[string]any{{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "age_gte", "value": 80}},
			"benefit":  map[string]any{"description": "一次性发放"}}))
		_, a := elderID(h, dept, "A00000000001", "1940-03-03", "310117", "")
		h.settle()
		queue := func() {
			t.Helper()
			if err := h.bm.QueueDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			h.settle()
		}
		status := func(stage, want string) {
			t.Helper()
			if got := entitlementStatus(h, personSession(h, a), "WINTER-26"); got != want {
				t.Fatalf("%s: %s, want %s", stage, got, want)
			}
		}
		status("before its first day", "none")
		h.clock.Add(32*time.Hour - time.Minute) // 2026-11-28 23:59
		queue()
		status("a minute before its first day", "none")
		h.clock.Add(2 * time.Minute) // 2026-11-29 00:01
		queue()
		status("on its first day", "offered")
		h.clock.Add(36 * time.Hour) // 2026-11-30 12:01, its last day
		queue()
		status("on its last day", "offered")
		h.clock.Add(12 * time.Hour) // 2026-12-01 00:01
		queue()
		status("the day after its last", "withdrawn")
		m := h.must(200, h.do("GET", "/v1/policies/WINTER-26", dept, nil))
		if mv := m["match"].(map[string]any); mv["holders_read"].(float64) != 0 || mv["withdrawn"].(float64) != 1 {
			t.Fatalf("the closing match read holders or withdrew the wrong number: %v", mv)
		}
		// Once closed, the worker leaves it alone.
		before := m["matched_at"]
		h.clock.Add(40 * 24 * time.Hour)
		queue()
		if after := h.must(200, h.do("GET", "/v1/policies/WINTER-26", dept, nil))["matched_at"]; after != before {
			t.Fatalf("an ended policy was matched again: %v → %v", before, after)
		}
	})
}
