package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
)

// People of the scan test: the holder, and others named on the holder's
// certificates.
var (
	husbandID = personID // the holder is the husband of the marriage
	wifeID    = citizenID("31010419520303002")
	motherID  = citizenID("31010419800101004")
	fatherID  = citizenID("31010419790202003")
	hiddenID  = citizenID("31010419700707001") // written into free text
	fullNames = []string{"张三", "李四娘", "王五", "赵六", "钱七"}
)

// fieldValue is a value of face field f of type t that passes the catalogue,
// written so that leaks show: identity numbers in ID fields and in free
// text, persons' full names in name fields.
func fieldValue(t issuer.CertificateType, f issuer.FieldSpec) any {
	byName := map[string]any{
		"unified_social_credit_code": uscc1, "complaint_hotline": "12315", "file_number": "310000123456",
		"unit_number": "310104001001GB00001F00010001", "social_security_number": personID, "card_number": "A12345678",
		"birth_time": "08:30", "guardian_phone": "13912345678", "husband_id_number": husbandID, "wife_id_number": wifeID,
		"mother_id_number": motherID, "father_id_number": fatherID, "name": "张三", "holder_name": "张三",
		"husband_name": "张三", "wife_name": "李四娘", "newborn_name": "张三", "mother_name": "赵六", "father_name": "王五",
		"guardian_name": "钱七", "right_holder": "张三",
	}
	if t.HolderKind == issuer.HolderEnterprise && (f.Name == "name" || f.Name == "operator_name" || f.Name == "company_name") {
		return "上海某某科技有限公司"
	}
	if f.Name == "licence_number" {
		if t.Code == issuer.TypeFoodBusinessLicence {
			return "JY13101040000012"
		}
		return "(沪)JZ安许证字〔2021〕010101"
	}
	if v, ok := byName[f.Name]; ok {
		return v
	}
	switch f.Type {
	case issuer.FieldDate:
		return "2020-01-01"
	case issuer.FieldInteger:
		return 38
	case issuer.FieldNumber:
		return 50.7
	case issuer.FieldBoolean:
		return true
	case issuer.FieldEnum:
		return f.Values[0]
	}
	if f.MaxLength == 0 || f.MaxLength >= 30 {
		return "备注 " + hiddenID + " 号" // an identity number hidden in free text
	}
	return "某某"
}

// issueEvery issues one certificate of every seeded type: person types to
// 张三 (personID), enterprise types to 上海某某科技有限公司 (uscc1).
func issueEvery(t *testing.T, h *harness) map[string]map[string]any {
	t.Helper()
	var all []string
	for _, ct := range issuer.SeedCatalogue() {
		all = append(all, ct.Code)
	}
	dep := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
		"name": "上海市大数据中心", "uscc": uscc2, "level": "省级", "certificate_types": all}))["api_key"].(string)
	out := map[string]map[string]any{}
	for i, ct := range issuer.SeedCatalogue() {
		holder := map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": personID}
		if ct.HolderKind == issuer.HolderEnterprise {
			holder = map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_type": "001", "id_number": uscc1}
		}
		body := map[string]any{"type_code": ct.Code, "number": fmt.Sprintf("SCAN-%02d", i), "holder": holder,
			"valid_from": "2024-01-01", "area_code": "310104", "fields": map[string]any{}}
		if ct.ValidityYears >= 3 {
			body["valid_until"] = "2026-12-31"
		} else {
			body["long_term"] = true
		}
		for _, f := range ct.Fields {
			body["fields"].(map[string]any)[f.Name] = fieldValue(ct, f)
		}
		out[ct.Code] = h.must(201, h.do("POST", "/v1/certificates", dep, body))
	}
	return out
}

var unmaskedID = regexp.MustCompile(`(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx]|[0-9]{15})($|[^0-9A-Za-z])`)

// scanner checks every response an app receives.
type scanner struct {
	t         *testing.T
	forbidden []string // values that must never reach the app, masked or not
	scanned   int
}

func (s *scanner) scan(what string, body []byte) {
	s.t.Helper()
	s.scanned++
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		s.t.Fatalf("%s: not JSON: %s", what, body)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			if m := unmaskedID.FindStringSubmatch(x); m != nil {
				s.t.Errorf("%s: %s carries an unmasked identity number %s", what, path, m[2])
			}
			for _, n := range fullNames {
				if strings.Contains(x, n) {
					s.t.Errorf("%s: %s carries the full name %s", what, path, n)
				}
			}
			for _, f := range s.forbidden {
				if strings.Contains(x, f) {
					s.t.Errorf("%s: %s carries %q, outside the app's use list", what, path, f)
				}
			}
		}
	}
	walk("$", v)
}

// allowedFields is the app's use list of the scan test, per type: the face
// fields it may receive.
func allowedFields(ct issuer.CertificateType, named map[string][]string) map[string]bool {
	out := map[string]bool{}
	if f, ok := named[ct.Code]; ok {
		for _, n := range f {
			out[n] = true
		}
		return out
	}
	for _, f := range ct.Fields {
		if !f.Sensitive {
			out[f.Name] = true
		}
	}
	return out
}

// TestEveryResponseAnAppReceives issues one certificate of every seeded type,
// then takes every path by which an app receives certificate data — use-code
// redemption, reads within a grant, verification of codes and certificates,
// cases for every seeded item (opened and read back) — and scans every
// response: no unmasked identity number anywhere, no full name of a person,
// no face field outside the app's field-level use list.
func TestEveryResponseAnAppReceives(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		certs := issueEvery(t, h)
		named := map[string][]string{
			issuer.TypeSocialSecurityCard:  {"name", "social_security_number", "card_number"},
			issuer.TypeMarriageCertificate: {"holder_name", "husband_id_number", "registration_date"},
		}
		var useList []any
		var personTypes, enterpriseTypes []string
		for _, ct := range issuer.SeedCatalogue() {
			if f, ok := named[ct.Code]; ok {
				useList = append(useList, map[string]any{"type_code": ct.Code, "fields": f})
			} else {
				useList = append(useList, ct.Code)
			}
			if ct.HolderKind == issuer.HolderPerson {
				personTypes = append(personTypes, ct.Code)
			} else {
				enterpriseTypes = append(enterpriseTypes, ct.Code)
			}
		}
		app := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
			"name": "某银行", "uscc": uscc1, "scopes": []string{"verify", "use", "cases"}, "certificate_types": useList,
			"service_items": seededItemCodes()}))
		appID, appKey := app["id"].(string), app["api_key"].(string)
		// The admin sees the use list as given.
		if got := mustJSON(app["certificate_types"]); !strings.Contains(string(got), `"fields":["name","social_security_number","card_number"]`) {
			t.Fatalf("use list as stored: %s", got)
		}
		_, gw := h.app("identity-gateway")
		person := h.holder(gw)
		enterprise := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_number": uscc1}))["token"].(string)

		s := &scanner{t: t, forbidden: []string{
			wifeID, ident.MaskCitizenID(wifeID), motherID, ident.MaskCitizenID(motherID), fatherID, ident.MaskCitizenID(fatherID),
			"13912345678", "视力残疾", "一级",
		}}
		checkFields := func(what string, ct issuer.CertificateType, view map[string]any) {
			t.Helper()
			allowed := allowedFields(ct, named)
			for k := range view["fields"].(map[string]any) {
				if !allowed[k] {
					t.Errorf("%s: field %s of %s is outside the app's use list", what, k, ct.Name)
				}
			}
			if len(view["fields"].(map[string]any)) == 0 {
				t.Errorf("%s: no fields at all of %s", what, ct.Name)
			}
		}
		for _, ct := range issuer.SeedCatalogue() {
			cert := certs[ct.Code]
			id := cert["id"].(string)
			tok := person
			if ct.HolderKind == issuer.HolderEnterprise {
				tok = enterprise
			}
			// 亮证: the presentation code and its use code.
			p := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/presentations", tok, map[string]any{"purpose": "开户"}))
			r := h.do("POST", "/v1/verify", appKey, map[string]any{"code": p["code"], "operator": "柜员001", "purpose": "核验"})
			s.scan("verify presentation of "+ct.Name, h.mustBody(200, r))
			r = h.do("POST", "/v1/use-codes/redeem", appKey, map[string]any{"use_code": p["use_code"], "org": "徐汇支行",
				"operator": "柜员001", "item_code": "BANK-01", "item_name": "个人开户", "business_code": "B-1", "purpose": "开立账户"})
			body := h.mustBody(200, r)
			s.scan("redeem "+ct.Name, body)
			checkFields("redeem "+ct.Name, ct, r.json(t))
			// The certificate itself, verified.
			r = h.do("POST", "/v1/verify", appKey, map[string]any{"jws": cert["jws"]})
			s.scan("verify certificate "+ct.Name, h.mustBody(200, r))
			// Read within a grant.
			types := personTypes
			if ct.HolderKind == issuer.HolderEnterprise {
				types = enterpriseTypes
			}
			h.must(201, h.do("POST", "/v1/me/authorizations", tok, map[string]any{"app_id": appID, "certificate_types": types,
				"purpose": "贷款审批", "expires_at": h.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)}))
			r = h.do("GET", "/v1/certificates/"+url.PathEscape(id)+"?purpose="+url.QueryEscape("贷款审批"), appKey, nil)
			s.scan("grant read "+ct.Name, h.mustBody(200, r))
			checkFields("grant read "+ct.Name, ct, r.json(t))
		}
		// A named sensitive field reaches the app, masked; one not named does not.
		ssc := h.must(200, h.do("GET", "/v1/certificates/"+url.PathEscape(certs[issuer.TypeSocialSecurityCard]["id"].(string)), appKey, nil))
		if got := ssc["fields"].(map[string]any)["social_security_number"]; got != "110105********002X" {
			t.Errorf("named social_security_number = %v, want it masked", got)
		}
		if got := ssc["holder"].(map[string]any); got["name"] != "张*" || got["id_number"] != "110105********002X" {
			t.Errorf("holder %v", got)
		}
		dis := h.must(200, h.do("GET", "/v1/certificates/"+url.PathEscape(certs[issuer.TypeDisabilityCard]["id"].(string)), appKey, nil))
		if f := dis["fields"].(map[string]any); f["disability_category"] != nil || f["guardian_phone"] != nil || f["address"] == nil {
			t.Errorf("disability card fields %v", f)
		}
		// The holder's own personal code, verified.
		code := h.must(200, h.do("POST", "/v1/me/codes/personal", person, nil))["code"].(string)
		s.scan("verify personal code", h.mustBody(200, h.do("POST", "/v1/verify", appKey, map[string]any{"code": code})))

		// Cases for every seeded item, as a person and as an enterprise.
		items := h.must(200, h.do("GET", "/v1/service-items?limit=100", "", nil))["items"].([]any)
		if len(items) == 0 {
			t.Fatal("no service items")
		}
		catalogue := map[string]issuer.CertificateType{}
		for _, ct := range issuer.SeedCatalogue() {
			catalogue[ct.Code] = ct
		}
		opened := 0
		for _, raw := range items {
			it := raw.(map[string]any)
			sources := map[string][2]string{}
			for _, p := range it["prefill"].([]any) {
				pm := p.(map[string]any)
				sources[pm["form_field"].(string)] = [2]string{pm["certificate_type"].(string), pm["source"].(string)}
			}
			for _, who := range [][2]string{{"person", person}, {"enterprise", enterprise}} {
				code := h.personalCode(who[1])
				if who[0] == "enterprise" {
					code = h.must(200, h.do("POST", "/v1/me/codes/enterprise", who[1], nil))["code"].(string)
				}
				r := h.do("POST", "/v1/cases", appKey, caseBody(it["code"].(string), code))
				if r.Status != 201 {
					continue // not a case this applicant can open: nothing to scan but the problem
				}
				opened++
				what := "case " + it["name"].(string) + " for a " + who[0]
				s.scan(what, r.Body)
				c := r.json(t)
				for k := range c["prefill"].(map[string]any) {
					src, ok := sources[k]
					ct := catalogue[src[0]]
					if !ok || (!strings.Contains(src[1], ".") && src[1] != "number" && src[1] != "valid_from" &&
						src[1] != "valid_until" && src[1] != "identifier" && !allowedFields(ct, named)[src[1]]) {
						t.Errorf("%s: prefill %s from %v is outside the app's use list", what, k, src)
					}
				}
				s.scan(what+" read back", h.mustBody(200, h.do("GET", "/v1/cases/"+c["id"].(string), appKey, nil)))
			}
		}
		if opened < len(items) {
			t.Fatalf("only %d cases opened for %d items", opened, len(items))
		}
		if s.scanned < 60 {
			t.Fatalf("only %d responses scanned", s.scanned)
		}
	})
}

// mustBody asserts a status and returns the raw body.
func (h *harness) mustBody(status int, r resp) []byte {
	h.t.Helper()
	if r.Status != status {
		h.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r.Body
}

// problemField asserts a 422 naming field with code.
func problemField(t *testing.T, r resp, field, code string) {
	t.Helper()
	if r.Status != 422 {
		t.Fatalf("status %d, want 422 naming %s: %s", r.Status, field, r.Body)
	}
	p := r.problem(t)
	for _, e := range p.Errors {
		if e.Field == field && (code == "" || e.Code == code) {
			return
		}
	}
	t.Fatalf("422 does not name %s (%s): %s", field, code, r.Body)
}

// TestHostileApp attacks the data paths as a hostile app would.
func TestHostileApp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, rightApp := h.app("use", "verify", "cases") // its use list: 营业执照 and 居民身份证
		wrongApp := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
			"name": "某网贷平台", "uscc": uscc3, "scopes": []string{"use", "verify"}, "certificate_types": []string{typeLicence}}))["api_key"].(string)
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("H-1")))
		id := cert["id"].(string)
		hol := h.holder(gw)
		redeem := func(key, uc string, extra ...string) resp {
			body := map[string]any{"use_code": uc, "org": "营业部", "operator": "柜员001", "item_code": "I-1",
				"item_name": "开户", "business_code": "B-1", "purpose": "开户"}
			for i := 0; i+1 < len(extra); i += 2 {
				body[extra[i]] = extra[i+1]
			}
			return h.do("POST", "/v1/use-codes/redeem", key, body)
		}
		uc := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/presentations", hol, map[string]any{"purpose": "开户"}))["use_code"].(string)

		t.Run("wrong type use code is refused before it is spent", func(t *testing.T) {
			r := redeem(wrongApp, uc)
			if r.Status != 403 || r.problem(t).Code != "type_not_in_use_list" {
				t.Fatalf("wrong app: %d %s", r.Status, r.Body)
			}
			recs := usageOf(t, h, hol)
			if len(recs) != 1 || recs[0]["result"] != "refused" || recs[0]["org"] != "某网贷平台" || recs[0]["org_uscc"] != uscc3 {
				t.Fatalf("refusal not recorded for the holder: %v", recs)
			}
			// The code still works for the app the holder meant, once.
			data := h.must(200, redeem(rightApp, uc))
			if data["certificate_id"] != id {
				t.Fatalf("right app: %v", data)
			}
			if r := redeem(rightApp, uc); r.Status != 409 {
				t.Fatalf("second redemption: %d", r.Status)
			}
		})

		t.Run("org comes from the registration, not the request", func(t *testing.T) {
			uc := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/presentations", hol, map[string]any{"purpose": "开户"}))["use_code"].(string)
			h.must(200, redeem(rightApp, uc, "org", "国家安全部"))
			recs := usageOf(t, h, hol)
			last := recs[len(recs)-1]
			if last["org"] != "某银行" || last["org_uscc"] != uscc1 || last["org_unit"] != "国家安全部" {
				t.Fatalf("usage record %v", last)
			}
		})

		t.Run("bidi, control characters and 200 KB text are refused naming the field", func(t *testing.T) {
			big := strings.Repeat("操", 200<<10/3)
			for _, tc := range []struct{ field, value string }{
				{"operator", "柜员\u202e100"}, {"org", "营业部\u2066"}, {"purpose", "开户\u200f"},
				{"operator", "柜员\x07"}, {"operator", big}, {"purpose", big}, {"org", big},
			} {
				problemField(t, redeem(rightApp, "ABCDEFGHJKMN", tc.field, tc.value), tc.field, "")
			}
			problemField(t, h.do("POST", "/v1/verify", rightApp, map[string]any{"code": "x", "operator": "a\u202eb"}), "operator", "charset")
			problemField(t, h.do("GET", "/v1/certificates/"+url.PathEscape(id)+"?purpose="+url.QueryEscape("a\u2067b"), rightApp, nil), "purpose", "charset")
			cb := caseBody("000113101000", "x")
			cb["operator"] = "窗口\u202d07"
			problemField(t, h.do("POST", "/v1/cases", rightApp, cb), "operator", "charset")
			body := idCardBody("H-BIDI")
			body["holder"].(map[string]any)["name"] = "张\u202e三"
			problemField(t, h.do("POST", "/v1/certificates", dep, body), "holder.name", "charset")
			problemField(t, h.do("POST", "/v1/certificates/"+url.PathEscape(id)+"/revoke", dep, map[string]any{"reason": "x\u202ey"}), "reason", "charset")
			// Renewal needs a reason.
			problemField(t, h.do("POST", "/v1/certificates/"+url.PathEscape(id)+"/renew", dep, map[string]any{}), "reason", "required")
		})

		t.Run("use list entries are checked against the catalogue", func(t *testing.T) {
			mk := func(list ...any) resp {
				return h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{"name": "x", "uscc": uscc1, "scopes": []string{"use"}, "certificate_types": list})
			}
			problemField(t, mk(typeLicence, "11100000000021001C999"), "certificate_types[1]", "unknown")
			problemField(t, mk(map[string]any{"type_code": typeIDCard, "fields": []string{"name", "id_number"}}), "certificate_types[0].fields[1]", "unknown")
			problemField(t, mk(map[string]any{"type_code": typeIDCard, "fields": []string{}}), "certificate_types[0].fields", "required")
			problemField(t, mk(typeIDCard, map[string]any{"type_code": typeIDCard, "fields": []string{"name"}}), "certificate_types[1].type_code", "duplicate")
			problemField(t, mk(map[string]any{"type_code": typeIDCard, "fields": []string{"name"}, "all": true}), "certificate_types[0]", "")
			problemField(t, mk(42), "certificate_types[0]", "")
		})

		t.Run("guessing use codes is limited per app and per address", func(t *testing.T) {
			uc := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/presentations", hol, map[string]any{"purpose": "开户"}))["use_code"].(string)
			// The address already spent one attempt above (a spent code).
			misses := 0
			started := time.Now()
			for i := range useCodeGuessBurst + 5 {
				r := redeem(wrongApp, fmt.Sprintf("ZZZZZZZZ%04d", i))
				if r.Status == 429 {
					break
				}
				if r.Status != 404 {
					t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
				}
				misses++
			}
			// A bucket refills one token every useCodeGuessEvery of real time:
			// a slow run may earn one more guess per interval it took.
			refills := int(time.Since(started) / useCodeGuessEvery)
			if misses < useCodeGuessBurst-1 || misses > useCodeGuessBurst-1+refills {
				t.Fatalf("%d guesses answered before the limit, want %d (+%d refilled)", misses, useCodeGuessBurst-1, refills)
			}
			// The bucket is empty: even a real code is not looked at.
			if r := redeem(wrongApp, uc); r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("after %d guesses: %d %s", useCodeGuessBurst, r.Status, r.Body)
			}
			// Every app from the same address is held too (per address).
			if r := redeem(rightApp, uc); r.Status != 429 {
				t.Fatalf("another app from the same address: %d", r.Status)
			}
			// Time refills the buckets; the code was never spent.
			h.clock.Add(useCodeGuessEvery)
			if d := h.must(200, redeem(rightApp, uc)); d["certificate_id"] != id {
				t.Fatalf("after waiting: %v", d)
			}
		})
	})
}

// TestFailedVerificationsAreRecorded: a holder sees the uses of their codes
// and certificates that failed — expired, revoked — as well as the valid
// ones; forged input is never attributed to anyone.
func TestFailedVerificationsAreRecorded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, app := h.app("verify")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("F-1")))
		hol := h.holder(gw)
		code := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)
		h.clock.Add(h.cfg.CodeTTL + h.cfg.ClockSkew + time.Minute)
		if r := h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"code": code, "org": "徐汇支行"})); r["result"] != "invalid" {
			t.Fatalf("expired code: %v", r)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+url.PathEscape(cert["id"].(string))+"/revoke", dep, map[string]any{"reason": "证件作废"}))
		if r := h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"jws": cert["jws"]})); r["result"] != "invalid" {
			t.Fatalf("revoked certificate: %v", r)
		}
		// A certificate signed with a key since reported compromised.
		cert2 := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("F-2")))
		h.must(200, h.do("POST", "/v1/admin/keys/"+cert2["key_id"].(string)+"/compromised", testAdminToken, nil))
		if r := h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"jws": cert2["jws"]})); r["result"] != "invalid" ||
			!strings.Contains(string(mustJSON(r["reasons"])), "key_compromised") {
			t.Fatalf("certificate under a compromised key: %v", r)
		}
		jws := cert["jws"].(string)
		forged := jws[:len(jws)-6] + map[bool]string{true: "AAAAAA", false: "BBBBBB"}[!strings.HasSuffix(jws, "AAAAAA")]
		h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"jws": forged}))
		recs := usageOf(t, h, hol)
		if len(recs) != 3 {
			t.Fatalf("usage records %v", recs)
		}
		var details, reasons []string
		for _, r := range recs {
			if r["result"] != "invalid" || r["channel"] != "verify" || r["org"] != "某银行" {
				t.Fatalf("record %v", r)
			}
			details = append(details, fmt.Sprint(r["org_unit"]))
			reasons = append(reasons, fmt.Sprint(r["detail"]))
		}
		slices.Sort(reasons)
		if strings.Join(reasons, ",") != "expired,key_compromised,revoked" {
			t.Fatalf("reasons recorded %v", reasons)
		}
		if !slices.Contains(details, "徐汇支行") {
			t.Fatalf("org_unit not recorded: %v", recs)
		}
	})
}

// TestStatusCannotBeWalked: new identifiers carry an opaque serial; walking
// the serials around issued ones (with correct check characters) finds
// nothing, and an address that keeps asking is slowed to the documented rate.
func TestStatusCannotBeWalked(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		var ids []ident.CertificateID
		for i := range 5 {
			c := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody(fmt.Sprintf("W-%d", i))))
			id, err := ident.ParseCertificateID(c["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if len(id.Serial) != issuer.OpaqueSerialLen {
				t.Fatalf("serial %s", id.Serial)
			}
			ids = append(ids, id)
		}
		found := 0
		tried := 0
		issued := map[string]bool{}
		for _, id := range ids {
			issued[id.String()] = true
		}
		for _, id := range ids[:2] {
			var n int64
			fmt.Sscan(id.Serial[4:], &n)
			for d := int64(-12); d <= 12; d++ {
				if d == 0 {
					continue
				}
				probe, err := ident.NewCertificateID(id.TypeCode, id.IssuerCode, fmt.Sprintf("%s%012d", id.Serial[:4], n+d), 1)
				if err != nil {
					t.Fatal(err)
				}
				tried++
				r := h.do("GET", "/v1/certificates/"+url.PathEscape(probe.String())+"/status", "", nil)
				if r.Status == 200 {
					found++
				} else if r.Status != 404 {
					t.Fatalf("probe %s: %d %s", probe, r.Status, r.Body)
				}
			}
		}
		if found != 0 {
			t.Fatalf("walking %d neighbouring serials found %d certificates", tried, found)
		}
		// The issued ones answer; then the address is held to the limit.
		for id := range issued {
			h.must(200, h.do("GET", "/v1/certificates/"+url.PathEscape(id)+"/status", "", nil))
		}
		limited := false
		for range statusBurst {
			if r := h.do("GET", "/v1/certificates/"+url.PathEscape(ids[0].String())+"/status", "", nil); r.Status == 429 {
				limited = true
				if r.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
				break
			}
		}
		if !limited {
			t.Fatalf("%d status lookups from one address were never limited", tried+len(issued)+statusBurst)
		}
		h.clock.Add(statusEvery)
		h.must(200, h.do("GET", "/v1/certificates/"+url.PathEscape(ids[0].String())+"/status", "", nil))
	})
}

// TestSensitiveFieldsInTheCatalogue: the catalogue shows which fields are
// sensitive; an administrator's type may mark its own; a bare use-list entry
// withholds them and a field-level entry names them; a database seeded by an
// earlier release learns the flags when the node starts.
func TestSensitiveFieldsInTheCatalogue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ssc := h.must(200, h.do("GET", "/v1/certificate-types/"+issuer.TypeSocialSecurityCard, "", nil))
		for _, f := range ssc["fields"].([]any) {
			fm := f.(map[string]any)
			if want := fm["name"] == "social_security_number"; (fm["sensitive"] == true) != want {
				t.Fatalf("社会保障卡 field %v", fm)
			}
		}
		code := "11100000000021001C098"
		h.must(201, h.do("POST", "/v1/admin/certificate-types", testAdminToken, map[string]any{"code": code, "name": "健康证明",
			"defining_authority": "国家市场监督管理总局", "defining_authority_uscc": "11100000000021001C", "defining_authority_level": "国家级",
			"holder_kind": "person", "validity_years": 1, "long_term": false, "issuing_level": "地市级", "related_items": []any{},
			"fields": []any{
				map[string]any{"name": "name", "label": "姓名", "type": "string", "required": true, "max_length": 50},
				map[string]any{"name": "diagnosis", "label": "体检结论", "type": "string", "required": true, "max_length": 50, "sensitive": true},
			}}))
		dep := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
			"name": "某疾控中心", "uscc": uscc3, "level": "地市级", "certificate_types": []string{code}}))["api_key"].(string)
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, map[string]any{"type_code": code, "number": "JK-1",
			"holder":     map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": personID},
			"valid_from": "2026-06-01", "valid_until": "2027-05-31", "area_code": "310104",
			"fields": map[string]any{"name": "张三", "diagnosis": "合格"}}))
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		read := func(useList ...any) map[string]any {
			app := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
				"name": "某餐饮集团", "uscc": uscc1, "scopes": []string{"use"}, "certificate_types": useList}))
			h.must(201, h.do("POST", "/v1/me/authorizations", hol, map[string]any{"app_id": app["id"], "certificate_types": []string{code},
				"purpose": "入职体检", "expires_at": h.clock.Now().Add(time.Hour).Format(time.RFC3339)}))
			return h.must(200, h.do("GET", "/v1/certificates/"+url.PathEscape(cert["id"].(string)), app["api_key"].(string), nil))["fields"].(map[string]any)
		}
		if f := read(code); f["diagnosis"] != nil || f["name"] != "张*" {
			t.Fatalf("bare entry: %v", f)
		}
		if f := read(map[string]any{"type_code": code, "fields": []string{"diagnosis"}}); f["diagnosis"] != "合格" || len(f) != 1 {
			t.Fatalf("field-level entry: %v", f)
		}

		// A database from an earlier release: the seeded spec without the flags.
		old := issuer.SeedCatalogue()
		for _, ct := range old {
			if ct.Code != issuer.TypeSocialSecurityCard {
				continue
			}
			for i := range ct.Fields {
				ct.Fields[i].Sensitive = false
			}
			spec, _ := json.Marshal(ct)
			if err := h.st.UpdateSeededCertificateType(t.Context(), ct.Code, spec); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.srv.deps.Issuance.Seed(t.Context()); err != nil {
			t.Fatal(err)
		}
		st, err := h.st.GetCertificateType(t.Context(), issuer.TypeSocialSecurityCard)
		if err != nil || !strings.Contains(string(st.Spec), `"sensitive":true`) {
			t.Fatalf("seeded spec after start: %s %v", st.Spec, err)
		}
	})
}
