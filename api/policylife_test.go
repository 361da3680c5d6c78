package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// disabilityCard issues a 残疾人证 of the level to a new holder.
func disabilityCard(h *harness, dept string, i int, level string) string {
	h.t.Helper()
	holder := citizenID(fmt.Sprintf("31010419610101%03d", i))
	h.must(201, h.do("POST", "/v1/certificates", dept, map[string]any{
		"type_code": issuer.TypeDisabilityCard, "number": fmt.Sprintf("CDPF-R%d", i),
		"holder":     map[string]any{"kind": "person", "name": "孙某某", "id_type": "111", "id_number": holder},
		"valid_from": "2020-01-01", "valid_until": "2030-01-01", "area_code": "310104",
		"fields": map[string]any{"name": "孙某某", "sex": "女", "ethnicity": "汉", "birth_date": "1961-01-01",
			"address": "某地", "disability_category": "肢体残疾", "disability_level": level, "issuing_authority": "某残联"}}))
	return holder
}

func auditActions(h *harness) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, e := range h.must(200, h.do("GET", "/v1/admin/audit?limit=200", testAdminToken, nil))["items"].([]any) {
		out[e.(map[string]any)["action"].(string)]++
	}
	return out
}

// TestPolicyReject: the administrator rejects a pending policy with a
// reason. The policy never matches (not on issuance, not on demand), the
// public sees it rejected and why, and only a pending policy can be
// rejected; a rejection is final.
func TestPolicyReject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		issuing := benefitsDept(h)
		holder := disabilityCard(h, issuing, 1, "一级")
		_, hostile := h.department(uscc3)
		spy := map[string]any{"code": "SPY-R", "name": "某补贴", "legal_basis": "某办法", "holder_kind": "person", "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeDisabilityCard, "field": "disability_level", "op": "in", "value": []string{"一级", "二级"}}},
			"benefit":  map[string]any{"description": "某补贴"}}
		created := h.must(201, h.do("POST", "/v1/policies", hostile, spy))
		if created["status"] != "pending_approval" || !strings.Contains(created["status_reason"].(string), "sensitive") {
			t.Fatalf("created %v", created)
		}

		// Who may reject, and with what.
		if r := h.do("POST", "/v1/admin/policies/SPY-R/reject", hostile, map[string]any{"reason": "x"}); r.Status != 403 {
			t.Fatalf("a department rejected a policy: %d", r.Status)
		}
		for _, body := range []any{map[string]any{}, map[string]any{"reason": "   "}, map[string]any{"reason": strings.Repeat("理", 501)}} {
			if p := h.do("POST", "/v1/admin/policies/SPY-R/reject", testAdminToken, body).problem(t); p.Status != 422 || p.Errors[0].Field != "reason" {
				t.Fatalf("reject with %v: %+v", body, p)
			}
		}
		if p := h.do("POST", "/v1/admin/policies/NOPE/reject", testAdminToken, map[string]any{"reason": "x"}).problem(t); p.Status != 404 {
			t.Fatalf("rejecting an unknown policy: %+v", p)
		}
		const why = "依据不足：未附区政府批复"
		rej := h.must(200, h.do("POST", "/v1/admin/policies/SPY-R/reject", testAdminToken, map[string]any{"reason": why}))
		if rej["status"] != "rejected" || rej["status_reason"] != why || rej["status_changed_at"] == nil || rej["approved_at"] != nil {
			t.Fatalf("rejected %v", rej)
		}
		// The public read shows it rejected, and why.
		pub := h.must(200, h.do("GET", "/v1/policies/SPY-R", "", nil))
		if pub["status"] != "rejected" || pub["status_reason"] != why || pub["match"] != nil {
			t.Fatalf("public view %v", pub)
		}
		listed := false
		for _, it := range h.must(200, h.do("GET", "/v1/policies?limit=100", "", nil))["items"].([]any) {
			if p := it.(map[string]any); p["code"] == "SPY-R" {
				listed = p["status"] == "rejected" && p["status_reason"] == why
			}
		}
		if !listed {
			t.Fatal("the public list does not show the rejection")
		}
		// Its department cannot run it; it cannot be rejected again, nor
		// approved afterwards; an approved policy cannot be rejected.
		if p := h.do("POST", "/v1/policies/SPY-R/match", hostile, nil).problem(t); p.Status != 409 || p.Code != "policy_rejected" || p.Errors[0].Field != "status" {
			t.Fatalf("matching a rejected policy: %+v", p)
		}
		if p := h.do("POST", "/v1/admin/policies/SPY-R/reject", testAdminToken, map[string]any{"reason": why}).problem(t); p.Status != 409 || p.Code != "policy_not_pending" {
			t.Fatalf("rejecting twice: %+v", p)
		}
		if p := h.do("POST", "/v1/admin/policies/SPY-R/approve", testAdminToken, nil).problem(t); p.Status != 409 || p.Code != "policy_rejected" {
			t.Fatalf("approving a rejected policy: %+v", p)
		}
		if p := h.do("POST", "/v1/admin/policies/EX-ZHONGCAN-31/reject", testAdminToken, map[string]any{"reason": why}).problem(t); p.Status != 409 || p.Code != "policy_not_pending" {
			t.Fatalf("rejecting an approved policy: %+v", p)
		}
		// It never matches: a new qualifying card is evaluated under the
		// approved policies only, and nothing of the holders is read for it.
		holder2 := disabilityCard(h, issuing, 2, "二级")
		h.settle()
		if l := h.must(200, h.do("GET", "/v1/policies/SPY-R/entitlements", hostile, nil)); len(l["items"].([]any)) != 0 {
			t.Fatalf("a rejected policy matched: %v", l)
		}
		for _, id := range []string{holder, holder2} {
			recs := string(h.do("GET", "/v1/me/usage-records?limit=100", personSession(h, id), nil).Body)
			if strings.Contains(recs, "SPY-R") || !strings.Contains(recs, "EX-ZHONGCAN-31") {
				t.Fatalf("usage records: %s", recs)
			}
		}
		if a := auditActions(h); a["policy.reject"] != 1 {
			t.Fatalf("audit %v", a)
		}
	})
}

// flakyMatchStore fails the next fail full-match page reads (an injected
// database failure in the middle of a match).
type flakyMatchStore struct {
	store.Store
	fail atomic.Int64
}

func (f *flakyMatchStore) ValidCertificatesByType(ctx context.Context, typeCode, afterHolder, afterID string, limit int, arena *store.Arena) ([]store.MatchCertificate, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("injected failure")
	}
	f.fail.Store(0)
	return f.Store.ValidCertificatesByType(ctx, typeCode, afterHolder, afterID, limit, arena)
}

// TestPolicyMatchRetry: a failed full match is retried by the background
// worker after 1, 2, 4 … minutes (capped at an hour) on the domain clock,
// visibly in the policy's match status; a retry that succeeds finishes the
// match; after 8 failed runs it stays failed and says so until requested
// again.
func TestPolicyMatchRetry(t *testing.T) {
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			flaky := &flakyMatchStore{Store: b.Open(t)}
			h := newHarness(t, flaky)
			const policy = "EX-GAOLING-310117"
			dept := benefitsDept(h)
			_, a := elderID(h, dept, "A00000000001", "1940-01-01", "310117", "")
			h.settle()
			match := func() map[string]any {
				t.Helper()
				return h.must(200, h.do("GET", "/v1/policies/"+policy, dept, nil))["match"].(map[string]any)
			}
			retryIn := func(m map[string]any) time.Duration {
				t.Helper()
				at, err := time.Parse(time.RFC3339Nano, m["next_retry_at"].(string))
				if err != nil {
					t.Fatal(err)
				}
				return at.Sub(h.clock.Now())
			}

			flaky.fail.Store(2)
			h.must(202, h.do("POST", "/v1/policies/"+policy+"/match", dept, nil))
			h.settle()
			m := match()
			if m["status"] != "failed" || m["failed_attempts"].(float64) != 1 || m["next_retry_at"] == nil ||
				!strings.Contains(m["error"].(string), "retried automatically") || retryIn(m) != time.Minute {
				t.Fatalf("after the first failure: %v", m)
			}
			if pub := h.must(200, h.do("GET", "/v1/policies/"+policy, "", nil)); pub["match"] != nil {
				t.Fatalf("the public sees the match: %v", pub)
			}
			// Not due yet: nothing runs.
			h.clock.Add(59 * time.Second)
			h.settle()
			if m = match(); m["failed_attempts"].(float64) != 1 {
				t.Fatalf("retried early: %v", m)
			}
			h.clock.Add(time.Second)
			h.settle()
			if m = match(); m["status"] != "failed" || m["failed_attempts"].(float64) != 2 || retryIn(m) != 2*time.Minute {
				t.Fatalf("after the second failure: %v", m)
			}
			h.clock.Add(2 * time.Minute)
			h.settle()
			if m = match(); m["status"] != "done" || m["failed_attempts"].(float64) != 2 || m["next_retry_at"] != nil ||
				m["holders_read"].(float64) != 1 || m["eligible"].(float64) != 1 || m["error"] != nil {
				t.Fatalf("after the retry that succeeded: %v", m)
			}
			if got := entitlementStatus(h, personSession(h, a), policy); got != "offered" {
				t.Fatalf("entitlement %s", got)
			}

			// A match that keeps failing: 1, 2, 4, 8, 16, 32, 60 minutes,
			// then it gives up.
			flaky.fail.Store(1 << 40)
			h.must(202, h.do("POST", "/v1/policies/"+policy+"/match", dept, nil))
			var delays []string
			for i := 0; ; i++ {
				h.settle()
				m = match()
				if m["status"] != "failed" || int(m["failed_attempts"].(float64)) != i+1 {
					t.Fatalf("failure %d: %v", i+1, m)
				}
				if m["next_retry_at"] == nil || i > 10 {
					break
				}
				d := retryIn(m)
				delays = append(delays, d.String())
				h.clock.Add(d)
			}
			if got := strings.Join(delays, " "); got != "1m0s 2m0s 4m0s 8m0s 16m0s 32m0s 1h0m0s" {
				t.Fatalf("backoff %s", got)
			}
			if m["failed_attempts"].(float64) != 8 || !strings.Contains(m["error"].(string), "no longer retried") {
				t.Fatalf("gave up: %v", m)
			}
			h.clock.Add(24 * time.Hour)
			h.settle()
			if m = match(); m["failed_attempts"].(float64) != 8 || m["status"] != "failed" {
				t.Fatalf("retried after giving up: %v", m)
			}
			// A new request starts afresh.
			flaky.fail.Store(0)
			if q := h.must(202, h.do("POST", "/v1/policies/"+policy+"/match", dept, nil)); q["failed_attempts"].(float64) != 0 && q["status"] != "done" {
				t.Fatalf("requested again: %v", q)
			}
			h.settle()
			if m = match(); m["status"] != "done" || m["failed_attempts"].(float64) != 0 {
				t.Fatalf("after a new request: %v", m)
			}
		})
	}
}

// TestPolicyApprovalFollowsDepartmentTypes: when the administrator removes
// a certificate type from a department, its approved policies that read
// that type go back to pending_approval (audited, with the reason): they
// stop matching — no full match, no incremental evaluation, their open
// offers neither renewed nor withdrawn — and policies over its other types
// carry on. Giving the type back approves nothing; the administrator's
// approval resumes the policy with a full match.
func TestPolicyApprovalFollowsDepartmentTypes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		civil := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "某区民政局", "uscc": "11100000000013338W", "level": "区县级",
			"certificate_types": []string{issuer.TypeResidentIDCard, issuer.TypeDisabilityCard}}))
		dept, deptID := civil["api_key"].(string), civil["id"].(string)
		own := map[string]any{"code": "OWN-ELDER", "name": "老年人交通补贴", "legal_basis": "某办法", "holder_kind": "person", "valid_from": "2026-01-01",
			"criteria": []any{map[string]any{"certificate_type": issuer.TypeResidentIDCard, "field": "birth_date", "op": "lte", "value": "1956-12-31"}},
			"benefit":  map[string]any{"description": "交通补贴"}}
		if c := h.must(201, h.do("POST", "/v1/policies", dept, own)); c["status"] != "approved" {
			t.Fatalf("created %v", c)
		}
		_, a := elderID(h, dept, "A00000000001", "1950-01-01", "310117", "")
		disabled := disabilityCard(h, dept, 1, "一级")
		h.settle()
		tokA := personSession(h, a)
		if got := entitlementStatus(h, tokA, "OWN-ELDER"); got != "offered" {
			t.Fatalf("before: %s", got)
		}
		records := func(tok, policy string) int {
			t.Helper()
			return strings.Count(string(h.do("GET", "/v1/me/usage-records?limit=100", tok, nil).Body), `"item_code":"`+policy+`"`)
		}
		beforeA := records(tokA, "OWN-ELDER")
		if beforeA == 0 {
			t.Fatal("no usage record of the evaluation")
		}

		// The administrator removes 居民身份证 from the department.
		d := h.must(200, h.do("PUT", "/v1/admin/departments/"+deptID+"/certificate-types", testAdminToken,
			map[string]any{"certificate_types": []string{issuer.TypeDisabilityCard}}))
		if fmt.Sprint(d["certificate_types"]) != "["+issuer.TypeDisabilityCard+"]" {
			t.Fatalf("department %v", d)
		}
		for _, code := range []string{"OWN-ELDER", "EX-GAOLING-310117"} {
			p := h.must(200, h.do("GET", "/v1/policies/"+code, "", nil))
			if p["status"] != "pending_approval" || !strings.Contains(p["status_reason"].(string), issuer.TypeResidentIDCard) ||
				!strings.Contains(p["status_reason"].(string), "may no longer issue") || p["approved_at"] != nil {
				t.Fatalf("%s after the type was removed: %v", code, p)
			}
		}
		if p := h.must(200, h.do("GET", "/v1/policies/EX-ZHONGCAN-31", "", nil)); p["status"] != "approved" {
			t.Fatalf("a policy over a kept type: %v", p)
		}
		if a := auditActions(h); a["policy.approval_withdrawn"] != 2 {
			t.Fatalf("audit %v", a)
		}
		// It stops matching: no full match on demand …
		if p := h.do("POST", "/v1/policies/OWN-ELDER/match", dept, nil).problem(t); p.Status != 409 || p.Code != "policy_not_approved" {
			t.Fatalf("matching a policy sent back: %+v", p)
		}
		// … and no incremental evaluation: another department issues a
		// qualifying card to a new holder and a new card to A.
		_, other := h.department(uscc3)
		_, c := elderID(h, other, "C00000000003", "1948-01-01", "310117", "")
		elderID(h, other, "Z00000000001", "1950-01-01", "310117", "")
		disabilityCard(h, dept, 2, "二级")
		h.settle()
		tokC := personSession(h, c)
		if got := entitlementStatus(h, tokC, "OWN-ELDER"); got != "none" {
			t.Fatalf("a policy sent back matched a new holder: %s", got)
		}
		// A's open offer is neither renewed (no evaluation read A for it)
		// nor withdrawn.
		if got := entitlementStatus(h, tokA, "OWN-ELDER"); got != "offered" || records(tokA, "OWN-ELDER") != beforeA {
			t.Fatalf("A's offer: %s, %d records (before %d)", got, records(tokA, "OWN-ELDER"), beforeA)
		}
		// The policy over the kept type carries on.
		if got := entitlementStatus(h, personSession(h, disabled), "EX-ZHONGCAN-31"); got != "offered" {
			t.Fatalf("the kept policy: %s", got)
		}
		// Giving the type back approves nothing by itself.
		h.clock.Add(time.Minute) // a type's authorisation periods are keyed by their start
		h.must(200, h.do("PUT", "/v1/admin/departments/"+deptID+"/certificate-types", testAdminToken,
			map[string]any{"certificate_types": []string{issuer.TypeResidentIDCard, issuer.TypeDisabilityCard}}))
		h.settle()
		if p := h.must(200, h.do("GET", "/v1/policies/OWN-ELDER", dept, nil)); p["status"] != "pending_approval" {
			t.Fatalf("after the type came back: %v", p)
		}
		// The administrator's approval resumes it with a full match.
		ap := h.must(200, h.do("POST", "/v1/admin/policies/OWN-ELDER/approve", testAdminToken, nil))
		if ap["status"] != "approved" || ap["status_reason"] != "" || ap["approved_at"] == nil {
			t.Fatalf("approved again: %v", ap)
		}
		h.settle()
		m := h.must(200, h.do("GET", "/v1/policies/OWN-ELDER", dept, nil))["match"].(map[string]any)
		if m["status"] != "done" || m["eligible"].(float64) != 2 {
			t.Fatalf("the resumed policy's match: %v", m)
		}
		if got := entitlementStatus(h, tokC, "OWN-ELDER"); got != "offered" {
			t.Fatalf("C after re-approval: %s", got)
		}
		if records(tokA, "OWN-ELDER") <= beforeA {
			t.Fatal("A was not evaluated again after re-approval")
		}
	})
}
