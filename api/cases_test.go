package api

import (
	"strings"
	"testing"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/issuer"
)

// caseBody opens a case for the holder of the applicant code.
func caseBody(item, applicantCode string) map[string]any {
	return map[string]any{"service_item_code": item, "applicant_code": applicantCode,
		"org": "黄浦区婚姻登记中心", "operator": "窗口07", "business_code": "HY2026-000123", "purpose": "办理结婚登记"}
}

// named adds the applicant as the case system knows them.
func named(b map[string]any, kind, name, id string) map[string]any {
	b["applicant"] = map[string]any{"kind": kind, "name": name, "id_number": id}
	return b
}

func TestCasesEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, caseApp := h.app("cases")
		_, verifyApp := h.app("verify")
		items := h.must(200, h.do("GET", "/v1/service-items", "", nil))["items"].([]any)
		if len(items) < 5 {
			t.Fatalf("%d seeded service items", len(items))
		}
		wang := h.holderAs(gw, "person", "王五", citizenID("31010419800101001"))
		hol := h.holder(gw)
		// Every seeded item runs end to end for an applicant without certificates.
		for _, it := range items {
			m := it.(map[string]any)
			c := h.must(201, h.do("POST", "/v1/cases", caseApp, caseBody(m["code"].(string), h.personalCode(wang))))
			if c["exempted"].(float64) != 0 || int(c["total"].(float64)) != len(m["materials"].([]any)) {
				t.Fatalf("item %s without certificates: %v", m["code"], c)
			}
			for _, mat := range c["materials"].([]any) {
				if mat.(map[string]any)["status"] != "to_submit" || mat.(map[string]any)["reason"] == "" {
					t.Fatalf("material %v", mat)
				}
			}
		}

		// 张三 holds an ID card: marriage registration pulls it ex officio.
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("C-1")))
		c := h.must(201, h.do("POST", "/v1/cases", caseApp, named(caseBody(cases.ItemMarriage, h.personalCode(hol)), "person", "张三", personID)))
		var exempted []map[string]any
		for _, mat := range c["materials"].([]any) {
			m := mat.(map[string]any)
			if m["status"] == "exempted" {
				exempted = append(exempted, m)
			}
		}
		if len(exempted) != 1 || exempted[0]["certificate_id"] != cert["id"] || c["exempted"].(float64) != 1 {
			t.Fatalf("marriage case %v", c)
		}
		prefill := c["prefill"].(map[string]any)
		if prefill["applicant_sex"] != "女" || len(prefill) < 4 {
			t.Fatalf("prefill %v", prefill)
		}
		for _, p := range c["precheck"].([]any) {
			if !p.(map[string]any)["passed"].(bool) {
				t.Fatalf("precheck %v", p)
			}
		}
		// The holder sees the pull in their usage records, with its attribution.
		var pulls []map[string]any
		for _, r := range usageOf(t, h, hol) {
			if r["channel"] == "case" {
				pulls = append(pulls, r)
			}
		}
		if len(pulls) != 1 || pulls[0]["business_code"] != "HY2026-000123" || pulls[0]["item_code"] != cases.ItemMarriage || pulls[0]["certificate_id"] != cert["id"] {
			t.Fatalf("pull records %v", pulls)
		}
		// A certificate revoked after the case was opened shows as revoked.
		h.must(200, h.do("POST", "/v1/certificates/"+cert["id"].(string)+"/revoke", dep, map[string]any{"reason": "撤销"}))
		got := h.must(200, h.do("GET", "/v1/cases/"+c["id"].(string), caseApp, nil))
		found := false
		for _, mat := range got["materials"].([]any) {
			if m := mat.(map[string]any); m["certificate_id"] == cert["id"] {
				found = m["certificate_status"] == "revoked"
			}
		}
		if !found {
			t.Fatalf("case after revocation %v", got)
		}
		// Other callers do not see the case.
		if r := h.do("GET", "/v1/cases/"+c["id"].(string), verifyApp, nil); r.Status != 403 {
			t.Fatalf("app without scope cases: %d", r.Status)
		}
		_, otherCases := h.app("cases")
		if r := h.do("GET", "/v1/cases/"+c["id"].(string), otherCases, nil); r.Status != 404 {
			t.Fatalf("another case system: %d", r.Status)
		}
		// A new case now finds no valid ID card.
		c2 := h.must(201, h.do("POST", "/v1/cases", caseApp, caseBody(cases.ItemMarriage, h.personalCode(hol))))
		if c2["exempted"].(float64) != 0 {
			t.Fatalf("a revoked certificate was used: %v", c2)
		}

		// Statistics match the cases: per item, exemption and pre-fill rates.
		stats := h.must(200, h.do("GET", "/v1/stats/service-items", caseApp, nil))["items"].([]any)
		var marriage map[string]any
		for _, s := range stats {
			if s.(map[string]any)["service_item_code"] == cases.ItemMarriage {
				marriage = s.(map[string]any)
			}
		}
		if marriage == nil || marriage["cases"].(float64) != 3 || marriage["precheck_accuracy"] != nil {
			t.Fatalf("stats %v", stats)
		}
		total := float64(len(c["materials"].([]any)))
		if want := 1 / (3 * total); marriage["exemption_rate"].(float64)-want > 1e-9 || want-marriage["exemption_rate"].(float64) > 1e-9 {
			t.Fatalf("exemption rate %v, want %v", marriage["exemption_rate"], want)
		}

		// Bad input names the fault.
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"unknown item": {caseBody("nope", h.personalCode(hol)), "service_item_code"},
			"bad id":       {named(caseBody(cases.ItemMarriage, h.personalCode(hol)), "person", "张三", "110105194912310021"), "applicant.id_number"},
			"no business": {func() map[string]any {
				b := caseBody(cases.ItemMarriage, h.personalCode(hol))
				delete(b, "business_code")
				return b
			}(), "business_code"},
		} {
			r := h.do("POST", "/v1/cases", caseApp, tc.body)
			if r.Status != 422 || r.problem(t).Errors[0].Field != tc.field {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := h.do("POST", "/v1/cases", verifyApp, caseBody(cases.ItemMarriage, h.personalCode(hol))); r.Status != 403 {
			t.Fatalf("app without scope cases: %d", r.Status)
		}
		if strings.Contains(string(h.do("GET", "/v1/cases/"+c["id"].(string), caseApp, nil).Body), "110105194912310021") {
			t.Fatal("unexpected ID number in the case")
		}
	})
}

// citizenID completes 17 digits with their GB 11643 check character.
func citizenID(first17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range first17 {
		sum += int(first17[i]-'0') * w[i]
	}
	return first17 + string("10X98765432"[sum%11])
}

// TestBirthRegistrationUsesTheNewbornsCertificate: the 出生医学证明 is held by
// the newborn, a related holder of the case; the pull is recorded for the
// newborn, the parents' marriage certificate is matched without moving it.
func TestBirthRegistrationUsesTheNewbornsCertificate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		bc, mc := issuer.TypeBirthCertificate, issuer.TypeMarriageCertificate
		m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "上海市卫生健康委员会", "uscc": uscc3, "level": "省级", "certificate_types": []string{bc, mc, typeIDCard}}))
		dep := m["api_key"].(string)
		// The case system's use list names the birth certificate: its
		// pre-fill reaches the case, names masked by the one rule.
		caseApp := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
			"name": "一网通办", "uscc": uscc1, "scopes": []string{"cases"}, "certificate_types": []string{typeIDCard, bc, mc},
			"service_items": []string{cases.ItemBirthRegistration}}))["api_key"].(string)
		_, gw := h.app("identity-gateway")
		newborn := citizenID("31010420261101001")
		h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("B-ID")))
		h.must(201, h.do("POST", "/v1/certificates", dep, map[string]any{"type_code": mc, "number": "J310104-2020-000123",
			"holder":     map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": personID},
			"valid_from": "2020-05-20", "long_term": true, "area_code": "310104",
			"fields": map[string]any{"holder_name": "张三", "registration_date": "2020-05-20", "husband_name": "李四", "husband_nationality": "中国",
				"husband_birth_date": "1950-01-01", "husband_id_number": citizenID("11010519500101001"), "wife_name": "张三", "wife_nationality": "中国",
				"wife_birth_date": "1949-12-31", "wife_id_number": personID, "registration_authority": "上海市徐汇区民政局"}}))
		birth := h.must(201, h.do("POST", "/v1/certificates", dep, map[string]any{"type_code": bc, "number": "Q310123456",
			"holder":     map[string]any{"kind": "person", "name": "李小明", "id_type": "111", "id_number": newborn},
			"valid_from": "2026-11-01", "long_term": true, "area_code": "310104",
			"fields": map[string]any{"newborn_name": "李小明", "sex": "男", "birth_date": "2026-11-01", "gestational_weeks": 39, "birth_weight": 3300,
				"birth_length": 50.5, "birth_place": "上海市徐汇区", "birth_institution": "上海市某某医院", "mother_name": "张三",
				"mother_nationality": "中国", "mother_id_number": personID, "issuing_institution": "上海市某某医院"}}))
		mother := h.holder(gw)
		body := caseBody(cases.ItemBirthRegistration, h.personalCode(mother))
		body["related"] = []any{map[string]any{"relation": cases.RelationNewborn, "id_number": newborn}}
		c := h.must(201, h.do("POST", "/v1/cases", caseApp, body))
		status := map[string]string{}
		for _, mat := range c["materials"].([]any) {
			m := mat.(map[string]any)
			status[m["code"].(string)] = m["status"].(string)
		}
		if status["M01"] != "exempted" || status["M02"] != "exempted" || status["M03"] != "verified" || status["M04"] != "to_submit" {
			t.Fatalf("birth registration materials %v: %v", status, c)
		}
		if c["prefill"].(map[string]any)["newborn_name"] != "李**" {
			t.Fatalf("prefill %v", c["prefill"])
		}
		// The newborn's certificate was used: the record is the newborn's.
		kid := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "person", "name": "李小明", "id_number": newborn}))["token"].(string)
		var recs []map[string]any
		for _, r := range usageOf(t, h, kid) {
			if r["channel"] == "case" { // 免申即享 may record its own matching too
				recs = append(recs, r)
			}
		}
		if len(recs) != 1 || recs[0]["certificate_id"] != birth["id"] {
			t.Fatalf("newborn's usage records %v", recs)
		}
		// Without the related holder, the birth certificate is not found.
		c2 := h.must(201, h.do("POST", "/v1/cases", caseApp, caseBody(cases.ItemBirthRegistration, h.personalCode(mother))))
		for _, mat := range c2["materials"].([]any) {
			if m := mat.(map[string]any); m["code"] == "M01" && m["status"] != "to_submit" {
				t.Fatalf("birth certificate found without the newborn: %v", m)
			}
		}
		bad := caseBody(cases.ItemBirthRegistration, h.personalCode(mother))
		bad["related"] = []any{map[string]any{"relation": cases.RelationNewborn, "id_number": "310104202611010010"}}
		if r := h.do("POST", "/v1/cases", caseApp, bad); r.Status != 422 || r.problem(t).Errors[0].Field != "related[0].id_number" {
			t.Fatalf("bad related holder: %d %s", r.Status, r.Body)
		}
	})
}

func TestAdminAddsServiceItem(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		item := map[string]any{"code": "310104-TEST-01", "name": "个体工商户设立登记", "department": "徐汇区市场监督管理局", "department_uscc": uscc3,
			"materials": []any{
				map[string]any{"code": "M01", "name": "经营者身份证明", "certificate_types": []string{typeIDCard}, "fields": []string{"name"},
					"pull": "ex_officio", "legal_basis": "《上海市优化营商环境条例》第三十一条", "verify_only": true},
				map[string]any{"code": "M02", "name": "个体工商户设立登记申请书", "certificate_types": []string{}, "fields": []string{}, "pull": "", "verify_only": false},
			},
			"prefill": []any{}, "prechecks": []any{}}
		h.must(201, h.do("POST", "/v1/admin/service-items", testAdminToken, item))
		got := h.must(200, h.do("GET", "/v1/service-items/310104-TEST-01", "", nil))
		if got["name"] != "个体工商户设立登记" || len(got["materials"].([]any)) != 2 {
			t.Fatalf("item %v", got)
		}
		if r := h.do("POST", "/v1/admin/service-items", testAdminToken, item); r.Status != 409 {
			t.Fatalf("duplicate item: %d", r.Status)
		}
		item["code"] = "310104-TEST-02"
		item["materials"].([]any)[0].(map[string]any)["certificate_types"] = []string{"11100000000021001C099"}
		r := h.do("POST", "/v1/admin/service-items", testAdminToken, item)
		if r.Status != 422 || len(r.problem(t).Errors) == 0 {
			t.Fatalf("item with an unknown type: %d %s", r.Status, r.Body)
		}
		if r := h.do("GET", "/v1/service-items/nope", "", nil); r.Status != 404 {
			t.Fatalf("unknown item: %d", r.Status)
		}
	})
}
