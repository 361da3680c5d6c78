package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

func licenceBody(number string) map[string]any {
	return map[string]any{
		"type_code": typeLicence, "number": number,
		"holder":     map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_type": "001", "id_number": uscc1},
		"valid_from": "2024-03-01", "long_term": true, "area_code": "310104",
		"fields": map[string]any{
			"name": "上海某某科技有限公司", "entity_type": "有限责任公司（自然人投资或控股）", "legal_representative": "张三",
			"registered_capital": "100万元人民币", "establishment_date": "2024-03-01", "domicile": "上海市徐汇区虹桥路1号",
			"business_scope": "技术开发、技术咨询", "registration_authority": "上海市徐汇区市场监督管理局",
		},
	}
}

func idCardBody(number string) map[string]any {
	return map[string]any{
		"type_code": typeIDCard, "number": number,
		"holder":     map[string]any{"kind": "person", "name": "张三", "id_type": "111", "id_number": personID},
		"valid_from": "2020-01-01", "valid_until": "2040-01-01", "area_code": "310104",
		"fields": map[string]any{"name": "张三", "sex": "女", "ethnicity": "汉", "birth_date": "1949-12-31",
			"address": "北京市朝阳区某街道1号", "issuing_authority": "北京市公安局朝阳分局"},
	}
}

// opensslVerifies checks a JWS with the OpenSSL command line and a PEM key.
func opensslVerifies(t *testing.T, pub *signing.PublicKey, jws string) bool {
	t.Helper()
	i := strings.LastIndexByte(jws, '.')
	raw, err := base64.RawURLEncoding.DecodeString(jws[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := signing.RawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := signing.MarshalPublicKeyPEM(pub)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pub.pem"), pem, 0o600)
	os.WriteFile(filepath.Join(dir, "msg"), []byte(jws[:i]), 0o600)
	os.WriteFile(filepath.Join(dir, "sig.der"), der, 0o600)
	cmd := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg",
		"-sigfile", "sig.der", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "Signature Verified Successfully")
}

func TestCatalogue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		list := h.must(200, h.do("GET", "/v1/certificate-types?limit=500", "", nil))
		items := list["items"].([]any)
		if len(items) < 10 {
			t.Fatalf("%d seeded types", len(items))
		}
		one := h.must(200, h.do("GET", "/v1/certificate-types/"+typeLicence, "", nil))
		if one["name"] != "营业执照" || one["holder_kind"] != "enterprise" || len(one["fields"].([]any)) < 5 {
			t.Fatalf("type %v", one)
		}
		if r := h.do("GET", "/v1/certificate-types/nope", "", nil); r.Status != 404 {
			t.Fatalf("unknown type: %d", r.Status)
		}
		// An admin adds a type; a bad one names its faults.
		newType := map[string]any{"code": "11100000000021001C099", "name": "测试许可证", "defining_authority": "国家市场监督管理总局",
			"defining_authority_uscc": "11100000000021001C", "defining_authority_level": "国家级", "holder_kind": "enterprise",
			"validity_years": 3, "long_term": false, "issuing_level": "地市级", "related_items": []any{},
			"fields": []any{map[string]any{"name": "scope", "label": "范围", "type": "string", "required": true, "max_length": 50}}}
		h.must(201, h.do("POST", "/v1/admin/certificate-types", testAdminToken, newType))
		if r := h.do("POST", "/v1/admin/certificate-types", testAdminToken, newType); r.Status != 409 {
			t.Fatalf("duplicate type: %d", r.Status)
		}
		newType["code"] = "11100000000021001C0X9"
		if r := h.do("POST", "/v1/admin/certificate-types", testAdminToken, newType); r.Status != 422 {
			t.Fatalf("bad type: %d %s", r.Status, r.Body)
		}
	})
}

func TestIssueAndLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, other := h.department(uscc3)
		_, gw := h.app("identity-gateway")
		ctx := context.Background()

		// Issue an ID card to 张三, idempotently.
		a := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("110105194912310021"), "Idempotency-Key", "i1"))
		b := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("110105194912310021"), "Idempotency-Key", "i1"))
		if a["id"] != b["id"] || a["jws"] != b["jws"] {
			t.Fatal("idempotent retry issued again")
		}
		id := a["id"].(string)
		cid, err := ident.ParseCertificateID(id)
		if err != nil || cid.IssuerCode != uscc2 || cid.TypeCode != typeIDCard || cid.Version != "001" {
			t.Fatalf("identifier %s: %v", id, err)
		}
		if a["status"] != "valid" || a["version"].(float64) != 1 {
			t.Fatalf("issued %v", a)
		}
		// The JWS verifies with OpenSSL against the department key in the JWKS.
		jwks := h.must(200, h.do("GET", "/.well-known/jwks.json", "", nil))
		var deptKey *signing.PublicKey
		for _, k := range jwks["keys"].([]any) {
			m := k.(map[string]any)
			if m["kid"] == a["key_id"] && m["key_role"] == "department" && m["department_uscc"] == uscc2 {
				jwk := signing.JWK{Kty: "EC", Crv: "SM2", X: m["x"].(string), Y: m["y"].(string)}
				deptKey, _ = jwk.PublicKey()
			}
		}
		if deptKey == nil {
			t.Fatal("the signing key is not in the JWKS as the department's")
		}
		if !opensslVerifies(t, deptKey, a["jws"].(string)) {
			t.Fatal("OpenSSL does not verify the certificate")
		}
		doc, err := issuer.VerifyDocument(a["jws"].(string), func(string) (*signing.PublicKey, error) { return deptKey, nil })
		if err != nil || doc.Identifier != id || doc.Holders[0].IDNumber != personID {
			t.Fatalf("document: %v %+v", err, doc)
		}
		// Same number again: conflict naming the field.
		if r := h.do("POST", "/v1/certificates", dep, idCardBody("110105194912310021")); r.Status != 409 || r.problem(t).Errors[0].Field != "number" {
			t.Fatalf("duplicate number: %d %s", r.Status, r.Body)
		}
		// Bad input is named field by field.
		bad := idCardBody("x")
		bad["holder"].(map[string]any)["id_number"] = "110105194912310021"
		bad["fields"].(map[string]any)["sex"] = "其他"
		bad["fields"].(map[string]any)["colour"] = "red"
		r := h.do("POST", "/v1/certificates", dep, bad)
		p := r.problem(t)
		fields := map[string]bool{}
		for _, e := range p.Errors {
			fields[e.Field] = true
		}
		if r.Status != 422 || !fields["holder.id_number"] || !fields["fields.sex"] || !fields["fields.colour"] {
			t.Fatalf("bad request: %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "110105194912310021") {
			t.Fatal("the problem repeats the ID number")
		}
		// Unknown type, unauthorised type.
		u := idCardBody("y")
		u["type_code"] = "11100000000021001C098"
		if r := h.do("POST", "/v1/certificates", dep, u); r.Status != 422 || r.problem(t).Errors[0].Field != "type_code" {
			t.Fatalf("unknown type: %d %s", r.Status, r.Body)
		}
		u["type_code"] = "11100000000021002F002" // 驾驶证: not authorised
		if r := h.do("POST", "/v1/certificates", dep, u); r.Status != 403 {
			t.Fatalf("unauthorised type: %d %s", r.Status, r.Body)
		}

		// Who may read it: the issuer and the holder; anyone else 404.
		h.must(200, h.do("GET", "/v1/certificates/"+id, dep, nil))
		if r := h.do("GET", "/v1/certificates/"+id, other, nil); r.Status != 404 {
			t.Fatalf("other department: %d", r.Status)
		}
		holder := h.holder(gw)
		h.must(200, h.do("GET", "/v1/certificates/"+id, holder, nil))
		mine := h.must(200, h.do("GET", "/v1/me/certificates", holder, nil))
		if len(mine["items"].([]any)) != 1 {
			t.Fatalf("my certificates %v", mine)
		}
		// Public status, without personal data.
		st := h.must(200, h.do("GET", "/v1/certificates/"+id+"/status", "", nil))
		if st["status"] != "valid" || strings.Contains(fmt.Sprint(st), "张") {
			t.Fatalf("status %v", st)
		}

		// Lifecycle: only the issuer; illegal transitions are 409.
		if r := h.do("POST", "/v1/certificates/"+id+"/suspend", other, map[string]any{"reason": "x"}); r.Status != 404 {
			t.Fatalf("other department suspends: %d", r.Status)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/suspend", dep, map[string]any{"reason": "涉嫌违法，暂扣"}))
		if st := h.must(200, h.do("GET", "/v1/certificates/"+id+"/status", "", nil)); st["status"] != "suspended" {
			t.Fatalf("after suspend %v", st)
		}
		// The status list in the trust bundle shows it at once.
		anchor, _ := h.srv.deps.Keys.Signer(ctx, store.RoleAnchor, "")
		bundle, err := trust.Verify(string(h.do("GET", "/v1/trust", "", nil).Body), anchor.Public(), h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := listEntry(t, h, bundle, anchor.Public(), doc.StatusList); got != 1 {
			t.Fatalf("status list entry %d, want 1 (suspended)", got)
		}
		if r := h.do("POST", "/v1/certificates/"+id+"/suspend", dep, map[string]any{"reason": "again"}); r.Status != 409 {
			t.Fatalf("suspend twice: %d", r.Status)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/resume", dep, map[string]any{}))

		// Renew: version 2, linked; the old one superseded.
		n := h.must(201, h.do("POST", "/v1/certificates/"+id+"/renew", dep, map[string]any{"reason": "换领", "valid_from": "2025-01-01", "valid_until": "2045-01-01"}))
		nid := n["id"].(string)
		ncid, _ := ident.ParseCertificateID(nid)
		if ncid.Version != "002" || ncid.Serial != cid.Serial || n["predecessor"] != id {
			t.Fatalf("renewed %v", n)
		}
		old := h.must(200, h.do("GET", "/v1/certificates/"+id, dep, nil))
		if old["status"] != "superseded" || old["successor"] != nid {
			t.Fatalf("predecessor %v", old)
		}
		if !opensslVerifies(t, deptKey, n["jws"].(string)) {
			t.Fatal("OpenSSL does not verify the renewed certificate")
		}
		h.must(200, h.do("POST", "/v1/certificates/"+nid+"/revoke", dep, map[string]any{"reason": "吊销"}))
		if r := h.do("POST", "/v1/certificates/"+nid+"/resume", dep, map[string]any{}); r.Status != 409 {
			t.Fatalf("resume a revoked certificate: %d", r.Status)
		}
		bundle, _ = trust.Verify(string(h.do("GET", "/v1/trust", "", nil).Body), anchor.Public(), h.clock.Now())
		ndoc, _ := issuer.VerifyDocument(n["jws"].(string), func(string) (*signing.PublicKey, error) { return deptKey, nil })
		if got := listEntry(t, h, bundle, anchor.Public(), ndoc.StatusList); got != 2 {
			t.Fatalf("revoked entry %d", got)
		}
		if got := listEntry(t, h, bundle, anchor.Public(), doc.StatusList); got != 3 {
			t.Fatalf("superseded entry %d", got)
		}
		// The signed status list is also served on its own.
		lr := h.do("GET", "/v1/status-lists/"+doc.StatusList.ID, "", nil)
		if lr.Status != 200 || lr.Header.Get("Content-Type") != "application/jose" {
			t.Fatalf("status list: %d", lr.Status)
		}
	})
}

// listEntry fetches the status list the bundle references, as a verifier
// would (by the digest the bundle pins), and returns the entry.
func listEntry(t *testing.T, h *harness, b trust.Bundle, anchor *signing.PublicKey, ref issuer.StatusRef) uint8 {
	t.Helper()
	for _, l := range b.StatusLists {
		if l.ID != ref.ID {
			continue
		}
		if !strings.HasSuffix(l.URL, "/v1/status-lists/"+l.ID) || l.Kind != trust.ListCertificates {
			t.Fatalf("reference %+v", l)
		}
		r := h.do("GET", "/v1/status-lists/"+l.ID+"?sm3="+l.SM3, "", nil)
		if r.Status != 200 || trust.ListDigest(string(r.Body)) != l.SM3 {
			t.Fatalf("status list %s by digest: %d", l.ID, r.Status)
		}
		_, list, err := issuer.VerifyStatusList(string(r.Body), func(string) (*signing.PublicKey, error) { return anchor, nil })
		if err != nil {
			t.Fatal(err)
		}
		return list.Get(ref.Index)
	}
	t.Fatalf("status list %s not in the bundle", ref.ID)
	return 0
}

func TestBatchIssue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		items := []any{licenceBody("B-1"), licenceBody("B-2"), map[string]any{"type_code": typeLicence}, licenceBody("B-1")}
		bad := licenceBody("B-3")
		bad["holder"].(map[string]any)["id_number"] = "91350100M000100Y44"
		items = append(items, bad)
		res := h.must(200, h.do("POST", "/v1/certificates/batch", dep, map[string]any{"items": items}))
		got := []string{}
		for _, it := range res["items"].([]any) {
			got = append(got, fmt.Sprint(it.(map[string]any)["status"]))
		}
		if strings.Join(got, ",") != "201,201,422,409,422" || res["created"].(float64) != 2 {
			t.Fatalf("batch results %v: %v", got, res)
		}
		third := res["items"].([]any)[4].(map[string]any)
		if !strings.HasPrefix(third["errors"].([]any)[0].(map[string]any)["field"].(string), "items[4].holder.id_number") {
			t.Fatalf("bad item errors %v", third)
		}
		// Re-running the same batch issues nothing twice.
		again := h.must(200, h.do("POST", "/v1/certificates/batch", dep, map[string]any{"items": items[:2]}))
		if again["created"].(float64) != 0 {
			t.Fatalf("re-run created %v", again)
		}
		if r := h.do("POST", "/v1/certificates/batch", dep, map[string]any{"items": []any{}}); r.Status != 422 {
			t.Fatalf("empty batch: %d", r.Status)
		}
		list := h.must(200, h.do("GET", "/v1/certificates?limit=1", dep, nil))
		if list["next_cursor"] == nil {
			t.Fatal("no next page")
		}
	})
}

func TestConcurrentIssuance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		var wg sync.WaitGroup
		ids := make(chan string, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := h.do("POST", "/v1/certificates", dep, licenceBody(fmt.Sprintf("C-%d", i)))
				if r.Status != 201 {
					t.Errorf("issue %d: %d %s", i, r.Status, r.Body)
					return
				}
				ids <- r.json(t)["id"].(string)
			}(i)
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			if seen[id] {
				t.Fatalf("identifier %s issued twice", id)
			}
			seen[id] = true
			if _, err := ident.ParseCertificateID(id); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 40 {
			t.Fatalf("%d issued", len(seen))
		}
	})
}

func TestDepartmentTypesChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		depID, dep := h.department(uscc2)
		driving := "11100000000021002F002" // 机动车驾驶证
		body := idCardBody("D-1")
		body["type_code"], body["valid_until"] = driving, "2030-01-01"
		body["fields"] = map[string]any{"name": "张三", "sex": "女", "nationality": "中国", "address": "北京市朝阳区某街道1号",
			"birth_date": "1949-12-31", "first_issue_date": "2000-01-01", "vehicle_class": "C1", "issuing_authority": "北京市公安局公安交通管理局"}
		if r := h.do("POST", "/v1/certificates", dep, body); r.Status != 403 {
			t.Fatalf("before authorisation: %d %s", r.Status, r.Body)
		}
		d := h.must(200, h.do("PUT", "/v1/admin/departments/"+depID+"/certificate-types", testAdminToken,
			map[string]any{"certificate_types": []string{typeIDCard, driving}}))
		if len(d["certificate_types"].([]any)) != 2 {
			t.Fatalf("department %v", d)
		}
		h.must(201, h.do("POST", "/v1/certificates", dep, body))
		// The department key in the JWKS lists the new types at once.
		jwks := h.must(200, h.do("GET", "/.well-known/jwks.json", "", nil))
		for _, k := range jwks["keys"].([]any) {
			m := k.(map[string]any)
			if m["key_role"] == "department" && fmt.Sprint(m["certificate_types"]) != fmt.Sprint([]any{typeIDCard, driving}) {
				t.Fatalf("jwks types %v", m["certificate_types"])
			}
		}
		// The licence type was dropped: no longer issuable.
		if r := h.do("POST", "/v1/certificates", dep, licenceBody("L-1")); r.Status != 403 {
			t.Fatalf("dropped type: %d", r.Status)
		}
		if r := h.do("PUT", "/v1/admin/departments/"+depID+"/certificate-types", testAdminToken, map[string]any{"certificate_types": []string{"11100000000021001C099"}}); r.Status != 422 {
			t.Fatalf("uncatalogued type: %d", r.Status)
		}
		if r := h.do("PUT", "/v1/admin/departments/nope/certificate-types", testAdminToken, map[string]any{"certificate_types": []string{typeIDCard}}); r.Status != 404 {
			t.Fatalf("unknown department: %d", r.Status)
		}
	})
}
