package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// The item of the matrix: 二手房交易登记, whose materials are the seller's
// 不动产权证书 and ID card (ex officio) and marriage certificate (grant), and
// which declares the seller's spouse as a related party with their own code.
const matrixItem = cases.ItemResaleHousing

// matrixDeptUSCC is the seeded item's responsible department.
const matrixDeptUSCC = "11310000000031004Y"

func realEstateBody(number, name, id string) map[string]any {
	return map[string]any{"type_code": issuer.TypeRealEstateCertificate, "number": number,
		"holder":     map[string]any{"kind": "person", "name": name, "id_type": "111", "id_number": id},
		"valid_from": "2019-06-01", "long_term": true, "area_code": "310104",
		"fields": map[string]any{"right_holder": name, "co_ownership": "单独所有", "location": "上海市徐汇区虹桥路1号101室",
			"unit_number": "310104001001GB00001F00010001", "right_type": "国有建设用地使用权/房屋所有权", "right_nature": "出让/市场化商品房",
			"usage": "住宅", "area": "共有宗地面积1000㎡/房屋建筑面积89.5㎡", "registration_authority": "上海市不动产登记局"}}
}

func personIDCard(number, name, id string) map[string]any {
	b := idCardBody(number)
	b["holder"] = map[string]any{"kind": "person", "name": name, "id_type": "111", "id_number": id}
	b["fields"].(map[string]any)["name"] = name
	return b
}

// auditCount counts the audit entries with this action.
func auditCount(t *testing.T, h *harness, action string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		m := h.must(200, h.do("GET", "/v1/admin/audit?limit=500&cursor="+url.QueryEscape(cursor), testAdminToken, nil))
		for _, e := range m["items"].([]any) {
			if e.(map[string]any)["action"] == action {
				n++
			}
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return n
		}
		cursor = next
	}
}

// caseRecords counts a holder's case usage records by result.
func caseRecords(t *testing.T, h *harness, holder string) (success, refused int) {
	t.Helper()
	for _, r := range usageOf(t, h, holder) {
		if r["channel"] != "case" {
			continue
		}
		switch r["result"] {
		case "success":
			success++
		case "refused":
			refused++
		}
	}
	return success, refused
}

// legacyCaseApp is an app with scope cases registered before service items
// existed: an empty use list and no items.
func legacyCaseApp(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	id := "legacy-" + newID()
	now := h.clock.Now().UTC().Truncate(time.Microsecond)
	if err := h.st.CreateApp(ctx, store.App{ID: id, Name: "旧受理系统", USCC: uscc1, Scopes: []string{"cases"}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	token, keyID, hash := principal.NewAPIKey(store.KindApp)
	if err := h.st.CreateAPIKey(ctx, store.APIKey{ID: keyID, Kind: store.KindApp, PrincipalID: id, SecretHash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return token
}

// forge alters a code's last signature character: the result is a code no
// key of the bundle signed.
func forge(code string) string {
	last := code[len(code)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return code[:len(code)-1] + string(repl)
}

// TestCaseAuthorisationMatrix: every case path × {entitled system, system
// for another item, app with an empty use list, department not
// responsible} × {applicant with a valid code, code of someone else, no
// code, expired code, forged related party}. Only the entitled system with
// the applicant's valid code pulls anything; every refusal is recorded in
// the audit log and, where a holder is identifiable, in their usage records.
func TestCaseAuthorisationMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "上海市不动产登记局", "uscc": uscc2, "level": "省级",
			"certificate_types": []string{typeIDCard, issuer.TypeRealEstateCertificate, issuer.TypeMarriageCertificate}}))
		dep := m["api_key"].(string)
		_, gw := h.app("identity-gateway")
		other := citizenID("31010419800101001")
		spouse := citizenID("11010519500101001")
		h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("M-ID-1")))
		h.must(201, h.do("POST", "/v1/certificates", dep, realEstateBody("沪(2019)徐汇区不动产权第000001号", "张三", personID)))
		h.must(201, h.do("POST", "/v1/certificates", dep, personIDCard("M-ID-2", "王五", other)))
		h.must(201, h.do("POST", "/v1/certificates", dep, realEstateBody("沪(2019)徐汇区不动产权第000002号", "王五", other)))
		h.must(201, h.do("POST", "/v1/certificates", dep, personIDCard("M-ID-3", "李四", spouse)))

		_, entitled := h.caseApp(matrixItem)
		_, otherItem := h.caseApp(cases.ItemMarriage)
		empty := legacyCaseApp(t, h)
		_, wrongDept := h.department(uscc3)
		m = h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "上海市规划和自然资源局", "uscc": matrixDeptUSCC, "level": "省级", "certificate_types": []string{}}))
		responsible := m["api_key"].(string)

		zhang := func() string { return h.holderAs(gw, "person", "张三", personID) }
		wang := func() string { return h.holderAs(gw, "person", "王五", other) }
		li := func() string { return h.holderAs(gw, "person", "李四", spouse) }

		type column struct {
			name string
			body func() map[string]any
		}
		base := func(code string) map[string]any {
			b := caseBody(matrixItem, code)
			b["business_code"] = "FC2026-" + newID()[:8]
			return named(b, "person", "张三", personID)
		}
		columns := []column{
			{"valid code", func() map[string]any { return base(h.personalCode(zhang())) }},
			{"someone else's code", func() map[string]any { return base(h.personalCode(wang())) }},
			{"no code", func() map[string]any {
				b := base("")
				delete(b, "applicant_code")
				return b
			}},
			{"expired code", func() map[string]any {
				code := h.personalCode(zhang())
				h.clock.Add(2 * time.Minute)
				return base(code)
			}},
			{"forged related party", func() map[string]any {
				b := base(h.personalCode(zhang()))
				b["related"] = []any{map[string]any{"relation": cases.RelationSpouse, "code": forge(h.personalCode(li()))}}
				return b
			}},
		}
		rows := []struct {
			name  string
			token string
		}{{"entitled system", entitled}, {"system for another item", otherItem}, {"app with an empty use list", empty}, {"department not responsible", wrongDept}}

		var opened string // the case the entitled system opened
		for ri, row := range rows {
			for ci, col := range columns {
				name := row.name + " × " + col.name
				zs, zr := caseRecords(t, h, zhang())
				ws, wr := caseRecords(t, h, wang())
				refusals := auditCount(t, h, "case.refused")
				r := h.do("POST", "/v1/cases", row.token, col.body())
				zs2, zr2 := caseRecords(t, h, zhang())
				ws2, wr2 := caseRecords(t, h, wang())
				if ri == 0 && ci == 0 {
					c := h.must(201, r)
					opened = c["id"].(string)
					if zs2 == zs || c["exempted"].(float64) < 2 || len(c["prefill"].(map[string]any)) == 0 {
						t.Fatalf("%s: pulled nothing: %s", name, r.Body)
					}
					continue
				}
				if r.Status < 400 || r.Status >= 500 {
					t.Fatalf("%s: %d %s", name, r.Status, r.Body)
				}
				p := r.problem(t)
				if zs2 != zs || ws2 != ws || strings.Contains(string(r.Body), "prefill") {
					t.Fatalf("%s: something was pulled (%d→%d, %d→%d): %s", name, zs, zs2, ws, ws2, r.Body)
				}
				if auditCount(t, h, "case.refused") != refusals+1 {
					t.Fatalf("%s: refusal %s not audited", name, p.Code)
				}
				// The applicant named is identifiable: the refusal is theirs to see;
				// so is it for the holder of someone else's genuine code.
				if zr2 != zr+1 {
					t.Fatalf("%s: no refused record for the applicant (%d→%d)", name, zr, zr2)
				}
				if ci == 1 && wr2 != wr+1 {
					t.Fatalf("%s: no refused record for the code's holder (%d→%d)", name, wr, wr2)
				}
				want := map[int]string{1: "applicant_mismatch", 2: "applicant_code_refused", 3: "applicant_code_refused", 4: "related_party_refused"}[ci]
				if ri > 0 {
					want = "service_item_not_entitled"
				}
				if p.Code != want {
					t.Fatalf("%s: problem %s, want %s: %s", name, p.Code, want, r.Body)
				}
				if ri == 0 && ci == 3 && p.Errors[0].Code != "expired" {
					t.Fatalf("%s: the verifier's reason is not given: %s", name, r.Body)
				}
			}
		}

		// Reading and deciding the case, and the statistics, by each system.
		for _, row := range rows[1:] {
			refusals := auditCount(t, h, "case.refused")
			_, zr := caseRecords(t, h, zhang())
			if r := h.do("GET", "/v1/cases/"+opened, row.token, nil); r.Status != 404 || strings.Contains(string(r.Body), "prefill") {
				t.Fatalf("%s reads the case: %d %s", row.name, r.Status, r.Body)
			}
			if r := h.do("POST", "/v1/cases/"+opened+"/decision", row.token, map[string]any{"outcome": "approved"}); r.Status != 404 {
				t.Fatalf("%s decides the case: %d %s", row.name, r.Status, r.Body)
			}
			if n := auditCount(t, h, "case.refused"); n != refusals+2 {
				t.Fatalf("%s: %d refusals recorded of 2", row.name, n-refusals)
			}
			if _, zr2 := caseRecords(t, h, zhang()); zr2 != zr+2 {
				t.Fatalf("%s: the applicant sees %d of 2 refused attempts on their case", row.name, zr2-zr)
			}
			stats := h.do("GET", "/v1/stats/service-items", row.token, nil)
			switch row.name {
			case "system for another item":
				if stats.Status != 200 || strings.Contains(string(stats.Body), matrixItem) {
					t.Fatalf("%s sees the item's statistics: %s", row.name, stats.Body)
				}
			default:
				if stats.Status != 403 || stats.problem(t).Code != "service_item_not_entitled" {
					t.Fatalf("%s statistics: %d %s", row.name, stats.Status, stats.Body)
				}
			}
		}
		got := h.must(200, h.do("GET", "/v1/cases/"+opened, entitled, nil))
		if got["id"] != opened {
			t.Fatalf("the opener reads its case: %v", got)
		}
		st := h.must(200, h.do("GET", "/v1/stats/service-items", entitled, nil))["items"].([]any)
		if len(st) != 1 || st[0].(map[string]any)["service_item_code"] != matrixItem || st[0].(map[string]any)["cases"].(float64) != 1 {
			t.Fatalf("the entitled system's statistics: %v", st)
		}

		// The responsible department may open cases for its item; the entitled
		// app loses the item and with it the case.
		c := h.must(201, h.do("POST", "/v1/cases", responsible, base(h.personalCode(zhang()))))
		if c["exempted"].(float64) < 2 {
			t.Fatalf("the responsible department's case: %v", c)
		}
		h.must(200, h.do("GET", "/v1/stats/service-items", responsible, nil))
		appID := ""
		for _, a := range h.must(200, h.do("GET", "/v1/admin/apps?limit=100", testAdminToken, nil))["items"].([]any) {
			if items := a.(map[string]any)["service_items"].([]any); len(items) == 1 && items[0] == matrixItem {
				appID = a.(map[string]any)["id"].(string)
			}
		}
		h.must(200, h.do("PUT", "/v1/admin/apps/"+appID+"/service-items", testAdminToken, map[string]any{"service_items": []string{cases.ItemMarriage}}))
		if r := h.do("GET", "/v1/cases/"+opened, entitled, nil); r.Status != 403 || r.problem(t).Code != "service_item_not_entitled" {
			t.Fatalf("an app without the item reads its old case: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/v1/cases", entitled, base(h.personalCode(zhang()))); r.Status != 403 {
			t.Fatalf("an app without the item opens a case: %d %s", r.Status, r.Body)
		}
	})
}

// The admin changes an app's service items; an empty or missing list, an
// unknown item, an app without scope cases are refused with 422.
func TestAppServiceItems(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		id, _ := h.caseApp(cases.ItemMarriage)
		verifyID, _ := h.app("verify")
		for name, body := range map[string]any{
			"missing": map[string]any{}, "empty": map[string]any{"service_items": []string{}},
			"unknown": map[string]any{"service_items": []string{"000000000000"}},
			"twice":   map[string]any{"service_items": []string{cases.ItemMarriage, cases.ItemMarriage}},
		} {
			r := h.do("PUT", "/v1/admin/apps/"+id+"/service-items", testAdminToken, body)
			if r.Status != 422 || !strings.HasPrefix(r.problem(t).Errors[0].Field, "service_items") {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := h.do("PUT", "/v1/admin/apps/"+verifyID+"/service-items", testAdminToken, map[string]any{"service_items": []string{cases.ItemMarriage}}); r.Status != 422 {
			t.Fatalf("app without scope cases: %d %s", r.Status, r.Body)
		}
		if r := h.do("PUT", "/v1/admin/apps/nope/service-items", testAdminToken, map[string]any{"service_items": []string{cases.ItemMarriage}}); r.Status != 404 {
			t.Fatalf("unknown app: %d %s", r.Status, r.Body)
		}
		got := h.must(200, h.do("PUT", "/v1/admin/apps/"+id+"/service-items", testAdminToken,
			map[string]any{"service_items": []string{cases.ItemMarriage, cases.ItemBirthRegistration}}))
		if fmt.Sprint(got["service_items"]) != fmt.Sprint([]any{cases.ItemMarriage, cases.ItemBirthRegistration}) {
			t.Fatalf("items %v", got["service_items"])
		}
		// Creating an app: scope cases needs items, items need scope cases.
		for name, body := range map[string]map[string]any{
			"cases without items": {"name": "x", "uscc": uscc1, "scopes": []string{"cases"}},
			"items without cases": {"name": "x", "uscc": uscc1, "scopes": []string{"verify"}, "service_items": []string{cases.ItemMarriage}},
			"unknown item":        {"name": "x", "uscc": uscc1, "scopes": []string{"cases"}, "service_items": []string{"nope"}},
		} {
			if r := h.do("POST", "/v1/admin/apps", testAdminToken, body); r.Status != 422 || r.problem(t).Errors[0].Field[:13] != "service_items" {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if auditCount(t, h, "app.set_service_items") != 1 {
			t.Fatal("the change is not audited")
		}
	})
}

// Decisions: the opener records one; pre-check accuracy compares the
// verdicts with the decisions; the statistics give the targets beside.
func TestCaseDecisionsAndTargets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, app := h.caseApp(cases.ItemMarriage)
		h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("D-1")))
		zhang := h.holder(gw)
		wang := h.holderAs(gw, "person", "王五", citizenID("31010419800101001"))
		good := h.must(201, h.do("POST", "/v1/cases", app, caseBody(cases.ItemMarriage, h.personalCode(zhang))))
		bad := h.must(201, h.do("POST", "/v1/cases", app, caseBody(cases.ItemMarriage, h.personalCode(wang))))
		filled := float64(len(good["prefill"].(map[string]any)))
		if filled < 5 {
			t.Fatalf("prefill %v", good["prefill"])
		}
		for name, body := range map[string]map[string]any{
			"no outcome":   {"notes": "x"},
			"bad outcome":  {"outcome": "maybe"},
			"long notes":   {"outcome": "approved", "notes": strings.Repeat("长", 1001)},
			"bidi notes":   {"outcome": "approved", "notes": "材料齐全\u202e"},
			"control char": {"outcome": "approved", "notes": "a\x07b"},
		} {
			if r := h.do("POST", "/v1/cases/"+good["id"].(string)+"/decision", app, body); r.Status != 422 {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		d := h.must(200, h.do("POST", "/v1/cases/"+good["id"].(string)+"/decision", app, map[string]any{"outcome": "approved", "notes": "材料齐全，准予登记"}))
		if dec := d["decision"].(map[string]any); dec["outcome"] != "approved" || dec["precheck_matched"] != true {
			t.Fatalf("decision %v", d["decision"])
		}
		if r := h.do("POST", "/v1/cases/"+good["id"].(string)+"/decision", app, map[string]any{"outcome": "rejected"}); r.Status != 409 || r.problem(t).Code != "case_decided" {
			t.Fatalf("second decision: %d %s", r.Status, r.Body)
		}
		// The pre-checks failed (no ID card found) but the officer approved.
		d = h.must(200, h.do("POST", "/v1/cases/"+bad["id"].(string)+"/decision", app, map[string]any{"outcome": "approved"}))
		if d["decision"].(map[string]any)["precheck_matched"] != false {
			t.Fatalf("decision %v", d["decision"])
		}
		if got := h.must(200, h.do("GET", "/v1/cases/"+good["id"].(string), app, nil)); got["decision"].(map[string]any)["notes"] != "材料齐全，准予登记" {
			t.Fatalf("case %v", got)
		}
		st := h.must(200, h.do("GET", "/v1/stats/service-items", app, nil))
		tg := st["targets"].(map[string]any)
		if tg["prefill_rate"] != 0.7 || tg["precheck_accuracy"] != 0.9 {
			t.Fatalf("targets %v", tg)
		}
		it := st["items"].([]any)[0].(map[string]any)
		form := float64(len(seedForm(cases.ItemMarriage)))
		if it["decided"] != 2.0 || it["precheck_accuracy"] != 0.5 || it["precheck_accuracy_target_met"] != false ||
			it["prefill_rate"] != filled/(2*form) || it["prefill_target_met"] != false {
			t.Fatalf("stats %v", it)
		}
		if auditCount(t, h, "case.decide") != 2 {
			t.Fatal("decisions are not audited")
		}
		// The administrator reads but does not decide.
		if r := h.do("POST", "/v1/cases/"+good["id"].(string)+"/decision", testAdminToken, map[string]any{"outcome": "approved"}); r.Status != 403 {
			t.Fatalf("admin decides: %d", r.Status)
		}
	})
}

func seedForm(code string) []cases.FormField {
	for _, it := range cases.SeedItems() {
		if it.Code == code {
			return it.FormFields
		}
	}
	return nil
}

func disabilityCardBody(id string) map[string]any {
	return map[string]any{"type_code": issuer.TypeDisabilityCard, "number": "31010419491231002X11",
		"holder":     map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": id},
		"valid_from": "2022-01-01", "valid_until": "2032-01-01", "area_code": "310104",
		"fields": map[string]any{"name": "张三", "sex": "女", "ethnicity": "汉", "birth_date": "1949-12-31", "address": "上海市徐汇区某路1号",
			"disability_category": "肢体残疾", "disability_level": "二级", "issuing_authority": "上海市徐汇区残疾人联合会"}}
}

func socialSecurityBody(id string) map[string]any {
	return map[string]any{"type_code": issuer.TypeSocialSecurityCard, "number": "SSC-" + id[:6],
		"holder":     map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": id},
		"valid_from": "2022-01-01", "valid_until": "2032-01-01", "area_code": "310104",
		"fields": map[string]any{"name": "张三", "social_security_number": id, "card_number": "A12345678", "card_issue_date": "2022-01-01",
			"issuing_region": "上海市"}}
}

// Use-code materials: the applicant's use code satisfies them in the case
// and is spent with it; a use code the case may not take (another type,
// someone else's) is refused, recorded, and stays usable.
func TestCaseUseCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "上海市民政局", "uscc": uscc2, "level": "省级",
			"certificate_types": []string{typeIDCard, issuer.TypeDisabilityCard, issuer.TypeSocialSecurityCard}}))
		dep := m["api_key"].(string)
		_, gw := h.app("identity-gateway")
		_, app := h.caseApp(cases.ItemDisabilitySubsidy)
		useApp := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{"name": "某银行", "uscc": uscc1,
			"scopes": []string{"use"}, "certificate_types": []string{typeIDCard}}))["api_key"].(string)
		h.must(201, h.do("POST", "/v1/certificates", dep, disabilityCardBody(personID)))
		ssc := h.must(201, h.do("POST", "/v1/certificates", dep, socialSecurityBody(personID)))
		idc := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("U-1")))
		zhang := h.holder(gw)
		present := func(holder, id string) string {
			return h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/presentations", holder, map[string]any{"purpose": "补贴申请"}))["use_code"].(string)
		}

		// Without the use code the social security card stays to submit.
		c := h.must(201, h.do("POST", "/v1/cases", app, caseBody(cases.ItemDisabilitySubsidy, h.personalCode(zhang))))
		if status(c, "M03") != "to_submit" {
			t.Fatalf("M03 without a use code: %v", c)
		}
		// A use code for the ID card (not a use-code material) is refused and stays usable.
		idUse := present(zhang, idc["id"].(string))
		body := caseBody(cases.ItemDisabilitySubsidy, h.personalCode(zhang))
		body["use_codes"] = []string{idUse}
		r := h.do("POST", "/v1/cases", app, body)
		if r.Status != 403 || r.problem(t).Code != "use_code_refused" || r.problem(t).Errors[0].Field != "use_codes[0]" {
			t.Fatalf("a use code for another type: %d %s", r.Status, r.Body)
		}
		h.must(200, h.do("POST", "/v1/use-codes/redeem", useApp, map[string]any{"use_code": idUse, "org": "某银行", "operator": "柜员001",
			"item_code": "LOAN", "item_name": "贷款", "business_code": "L-1", "purpose": "贷款审批"}))
		// Someone else's use code is refused too.
		wang := h.holderAs(gw, "person", "王五", citizenID("31010419800101001"))
		body = caseBody(cases.ItemDisabilitySubsidy, h.personalCode(wang))
		body["use_codes"] = []string{present(zhang, ssc["id"].(string))}
		if r := h.do("POST", "/v1/cases", app, body); r.Status != 403 || r.problem(t).Code != "use_code_refused" {
			t.Fatalf("someone else's use code: %d %s", r.Status, r.Body)
		}
		// The applicant's own use code for the card: exempted, pre-filled, spent.
		use := present(zhang, ssc["id"].(string))
		body = caseBody(cases.ItemDisabilitySubsidy, h.personalCode(zhang))
		body["use_codes"] = []string{use}
		c = h.must(201, h.do("POST", "/v1/cases", app, body))
		if status(c, "M03") != "exempted" || c["prefill"].(map[string]any)["social_security_card_number"] != "A12345678" {
			t.Fatalf("with the use code: %v", c)
		}
		body["applicant_code"] = h.personalCode(zhang)
		if r := h.do("POST", "/v1/cases", app, body); r.Status != 403 || r.problem(t).Code != "use_code_refused" {
			t.Fatalf("a spent use code: %d %s", r.Status, r.Body)
		}
	})
}

func status(c map[string]any, material string) string {
	for _, m := range c["materials"].([]any) {
		if m.(map[string]any)["code"] == material {
			return m.(map[string]any)["status"].(string)
		}
	}
	return ""
}

// Related parties: an adult by their own code (whose certificates of the
// relation's types only are read), a minor only through a birth
// certificate naming the applicant; undeclared relations are refused.
func TestCaseRelatedParties(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		bc, mc := issuer.TypeBirthCertificate, issuer.TypeMarriageCertificate
		m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "上海市卫生健康委员会", "uscc": uscc3, "level": "省级", "certificate_types": []string{bc, mc, typeIDCard}}))
		dep := m["api_key"].(string)
		_, gw := h.app("identity-gateway")
		_, app := h.caseApp(cases.ItemBirthRegistration, cases.ItemResaleHousing, cases.ItemMarriage)
		child := citizenID("31010420261101001")
		stranger := citizenID("31010420261101002")
		birth := func(number, id, motherID string) {
			h.must(201, h.do("POST", "/v1/certificates", dep, map[string]any{"type_code": bc, "number": number,
				"holder":     map[string]any{"kind": "person", "name": "李小明", "id_type": "111", "id_number": id},
				"valid_from": "2026-11-01", "long_term": true, "area_code": "310104",
				"fields": map[string]any{"newborn_name": "李小明", "sex": "男", "birth_date": "2026-11-01", "gestational_weeks": 39, "birth_weight": 3300,
					"birth_length": 50.5, "birth_place": "上海市徐汇区", "birth_institution": "上海市某某医院", "mother_name": "某某",
					"mother_nationality": "中国", "mother_id_number": motherID, "issuing_institution": "上海市某某医院"}}))
		}
		birth("Q310000001", child, personID)
		birth("Q310000002", stranger, citizenID("11010519500101001"))
		zhang := h.holder(gw)
		withRelated := func(item string, rel ...map[string]any) map[string]any {
			b := caseBody(item, h.personalCode(zhang))
			var l []any
			for _, r := range rel {
				l = append(l, r)
			}
			b["related"] = l
			return b
		}
		// The applicant's own child: linked.
		c := h.must(201, h.do("POST", "/v1/cases", app, withRelated(cases.ItemBirthRegistration, map[string]any{"relation": cases.RelationNewborn, "id_number": child})))
		if status(c, "M01") != "exempted" {
			t.Fatalf("own child: %v", c)
		}
		// A stranger's child: refused, recorded for the child.
		refusals := auditCount(t, h, "case.refused")
		r := h.do("POST", "/v1/cases", app, withRelated(cases.ItemBirthRegistration, map[string]any{"relation": cases.RelationNewborn, "id_number": stranger}))
		if r.Status != 403 || r.problem(t).Errors[0].Code != "not_linked" || auditCount(t, h, "case.refused") != refusals+1 {
			t.Fatalf("a stranger's child: %d %s", r.Status, r.Body)
		}
		kid := h.holderAs(gw, "person", "李小明", stranger)
		if s, rf := caseRecords(t, h, kid); s != 0 || rf != 1 {
			t.Fatalf("the stranger's child's records: %d success, %d refused", s, rf)
		}
		// A minor's relation takes an ID number, an adult's a code; undeclared relations are refused.
		li := h.holderAs(gw, "person", "李四", citizenID("11010519500101001"))
		for name, tc := range map[string]struct {
			item  string
			rel   map[string]any
			field string
		}{
			"minor by code":      {cases.ItemBirthRegistration, map[string]any{"relation": cases.RelationNewborn, "code": h.personalCode(li)}, "related[0].id_number"},
			"adult by id":        {cases.ItemResaleHousing, map[string]any{"relation": cases.RelationSpouse, "id_number": stranger}, "related[0].code"},
			"undeclared":         {cases.ItemMarriage, map[string]any{"relation": cases.RelationSpouse, "code": h.personalCode(li)}, "related[0].relation"},
			"applicant as adult": {cases.ItemResaleHousing, map[string]any{"relation": cases.RelationSpouse, "code": h.personalCode(zhang)}, "related[0].code"},
		} {
			r := h.do("POST", "/v1/cases", app, withRelated(tc.item, tc.rel))
			if r.Status != 422 || r.problem(t).Errors[0].Field != tc.field {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		// The spouse presents their own code: their marriage certificate is a
		// candidate (grant-mode: to submit without their grant), their ID card is never read.
		h.must(201, h.do("POST", "/v1/certificates", dep, personIDCard("R-ID", "李四", citizenID("11010519500101001"))))
		c = h.must(201, h.do("POST", "/v1/cases", app, withRelated(cases.ItemResaleHousing, map[string]any{"relation": cases.RelationSpouse, "code": h.personalCode(li)})))
		if status(c, "M02") != "to_submit" {
			t.Fatalf("the spouse's ID card was used for the seller's: %v", c)
		}
		if s, _ := caseRecords(t, h, li); s != 0 {
			t.Fatalf("the spouse's certificates were pulled: %d", s)
		}
	})
}

// A code from another Suishen (a foreign trust domain) names nobody here:
// the case is refused with the verifier's reason, and nothing is pulled.
func TestCaseForeignApplicantCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		foreign := newHarness(t, teststore.SQLite(t))
		_, fgw := foreign.app("identity-gateway")
		code := foreign.personalCode(foreign.holder(fgw))
		_, dep := h.department(uscc2)
		h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("F-1")))
		_, app := h.caseApp(cases.ItemMarriage)
		refusals := auditCount(t, h, "case.refused")
		r := h.do("POST", "/v1/cases", app, caseBody(cases.ItemMarriage, code))
		if r.Status != 422 || r.problem(t).Code != "applicant_code_refused" || r.problem(t).Errors[0].Code != "unknown_key" {
			t.Fatalf("a foreign code: %d %s", r.Status, r.Body)
		}
		if auditCount(t, h, "case.refused") != refusals+1 {
			t.Fatal("the refusal is not audited")
		}
		_, gw := h.app("identity-gateway")
		if s, _ := caseRecords(t, h, h.holder(gw)); s != 0 {
			t.Fatal("something was pulled")
		}
	})
}

// Seeded items stored by an earlier release are brought up to date on
// start; an administrator's item is left alone.
func TestSeededItemsAreUpdated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		old := `{"code":"` + cases.ItemEnterpriseSetup + `","name":"企业设立登记","materials":[],"prefill":[],"prechecks":[]}`
		if err := h.st.InTx(ctx, func(q store.Queries) error {
			_, err := q.ReplaceSeededServiceItem(ctx, store.ServiceItem{Code: cases.ItemEnterpriseSetup, Name: "企业设立登记", Spec: []byte(old)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := h.must(200, h.do("GET", "/v1/service-items/"+cases.ItemEnterpriseSetup, "", nil)); len(got["materials"].([]any)) != 0 {
			t.Fatalf("the old definition was not stored: %v", got)
		}
		if err := h.srv.deps.Cases.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		got := h.must(200, h.do("GET", "/v1/service-items/"+cases.ItemEnterpriseSetup, "", nil))
		if len(got["form_fields"].([]any)) != len(seedForm(cases.ItemEnterpriseSetup)) || len(got["materials"].([]any)) != 5 {
			t.Fatalf("the seeded item was not updated: %v", got)
		}
	})
}
