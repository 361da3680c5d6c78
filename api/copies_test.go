package api

import (
	"context"
	"encoding/base64"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

const copyRecipientUSCC = uscc1 // any valid unified social credit code

func copyBody(expires time.Time) map[string]any {
	return map[string]any{"purpose": "办理个人贷款", "recipient_org": "某某银行上海分行", "recipient_uscc": copyRecipientUSCC,
		"expires_at": expires.UTC().Format(time.RFC3339)}
}

// opensslVerifiesCode checks a code's SM2 signature with the OpenSSL
// command line, as docs/code-format.md §7 prescribes.
func opensslVerifiesCode(t *testing.T, pub *signing.PublicKey, text string) bool {
	t.Helper()
	c, err := codes.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	der, err := signing.RawToDER(c.Signature)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := signing.MarshalPublicKeyPEM(pub)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"pub.pem": pem, "msg": c.Signed, "sig.der": der} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg",
		"-sigfile", "sig.der", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "Signature Verified Successfully")
}

// pagePath turns a copy's url into a path on the test server.
func (h *harness) pagePath(url string) string { return strings.TrimPrefix(url, h.cfg.PublicURL) }

var qrDataURL = regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9+/=&#;]+)"`)

func TestHolderCopies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, verifyApp := h.app("verify")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("CP-1")))
		id := cert["id"].(string)
		hol := h.holder(gw)
		exp := h.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
		cp := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, copyBody(exp)))
		code := cp["code"].(string)
		if cp["annotation"] != "仅供某某银行上海分行办理个人贷款使用" || cp["certificate_id"] != id || cp["expires_at"] != exp.Format(time.RFC3339) ||
			!strings.HasPrefix(cp["url"].(string), h.cfg.PublicURL+"/copies/"+cp["id"].(string)+"?k=") {
			t.Fatalf("copy %v", cp)
		}

		// Offline: valid, for whom and what.
		r := h.offline(t, code)
		if r.Result != verifier.Valid || r.Kind != "copy" || r.CertificateID != id || r.Copy == nil || r.Subject.Masked != "张*" ||
			r.Copy.RecipientOrg != "某某银行上海分行" || r.Copy.RecipientUSCC != copyRecipientUSCC || r.Copy.Purpose != "办理个人贷款" || !r.ExpiresAt.Equal(exp) {
			t.Fatalf("offline: %+v", r)
		}
		// OpenSSL verifies the signature with the code key of the JWKS.
		codeKey, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleCode, "")
		if err != nil {
			t.Fatal(err)
		}
		if !opensslVerifiesCode(t, codeKey.Public(), code) {
			t.Fatal("OpenSSL does not verify the copy code")
		}
		// Online: /v1/verify shows it too, and the holder sees the use.
		on := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": code, "purpose": "贷款材料核验"}))
		if on["result"] != "valid" || on["kind"] != "copy" || on["copy"].(map[string]any)["annotation"] != "仅供某某银行上海分行办理个人贷款使用" ||
			on["copy"].(map[string]any)["recipient_uscc"] != copyRecipientUSCC {
			t.Fatalf("online: %v", on)
		}
		made, verified := 0, 0
		for _, u := range usageOf(t, h, hol) {
			switch {
			case u["channel"] == "copy" && u["org"] == "某某银行上海分行" && u["org_uscc"] == copyRecipientUSCC && u["certificate_id"] == id && u["code_kind"] == "copy":
				made++
			case u["channel"] == "verify" && u["code_kind"] == "copy":
				verified++
			}
		}
		if made != 1 || verified != 1 {
			t.Fatalf("usage records: %d made, %d verified: %v", made, verified, usageOf(t, h, hol))
		}

		// The printable page: the face, masked, the annotation, the QR of
		// the code, the department; a wrong or missing key is not found.
		page := h.do("GET", h.pagePath(cp["url"].(string)), "", nil)
		body := string(page.Body)
		if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'none'") || page.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("page: %d %v", page.Status, page.Header)
		}
		for _, want := range []string{"仅供某某银行上海分行办理个人贷款使用", "某某银行上海分行", copyRecipientUSCC, "办理个人贷款", "张*", "110105********002X",
			"性别", "女", "居民身份证", id, `class="watermark"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		for _, leak := range []string{personID, "张三"} {
			if strings.Contains(body, leak) {
				t.Errorf("page shows %q", leak)
			}
		}
		m := qrDataURL.FindStringSubmatch(body)
		if m == nil {
			i := strings.Index(body, "<img")
			t.Fatal("page has no QR image: " + body[i:min(i+200, len(body))])
		}
		png, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if got := decodePNG(t, png); got != code {
			t.Fatalf("the page's QR holds %q", got)
		}
		for _, bad := range []string{"/copies/" + cp["id"].(string), "/copies/" + cp["id"].(string) + "?k=AAAAAAAAAAAAAAAAAAAAAA",
			"/copies/nope?k=" + h.srv.copyKey("nope")} {
			if r := h.do("GET", bad, "", nil); r.Status != 404 {
				t.Fatalf("%s: %d", bad, r.Status)
			}
		}

		// The holder's list.
		list := h.must(200, h.do("GET", "/v1/me/copies", hol, nil))["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["url"] != cp["url"] || list[0].(map[string]any)["purpose"] != "办理个人贷款" {
			t.Fatalf("list %v", list)
		}

		// Bad input names each field.
		badCases := []struct {
			edit  func(map[string]any)
			field string
		}{
			{func(b map[string]any) { b["purpose"] = "" }, "purpose"},
			{func(b map[string]any) { b["purpose"] = "办理贷款使用" }, "purpose"},
			{func(b map[string]any) { b["purpose"] = strings.Repeat("用", 17) }, "purpose"},
			{func(b map[string]any) { b["recipient_org"] = "某银行\u202e" }, "recipient_org"},
			{func(b map[string]any) { b["recipient_org"] = strings.Repeat("行", 25) }, "recipient_org"},
			{func(b map[string]any) { b["recipient_org"] = "某银行\n分行" }, "recipient_org"},
			{func(b map[string]any) { b["recipient_uscc"] = "91350100M000100Y44" }, "recipient_uscc"},
			{func(b map[string]any) { b["expires_at"] = "tomorrow" }, "expires_at"},
			{func(b map[string]any) { b["expires_at"] = h.clock.Now().Add(-time.Hour).Format(time.RFC3339) }, "expires_at"},
			{func(b map[string]any) { b["expires_at"] = h.clock.Now().Add(181 * 24 * time.Hour).Format(time.RFC3339) }, "expires_at"},
			{func(b map[string]any) { b["certificate_id"] = "other" }, "certificate_id"},
		}
		for i, bc := range badCases {
			b := copyBody(exp)
			bc.edit(b)
			r := h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, b)
			if r.Status != 422 || r.problem(t).Errors[0].Field != bc.field {
				t.Errorf("bad case %d: %d %s", i, r.Status, r.Body)
			}
		}
		// Not after the certificate's own validity.
		short := idCardBody("CP-2")
		short["valid_until"] = "2027-01-10"
		sc := h.must(201, h.do("POST", "/v1/certificates", dep, short))
		if r := h.do("POST", "/v1/me/certificates/"+sc["id"].(string)+"/copies", hol, copyBody(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))); r.Status != 422 || r.problem(t).Errors[0].Code != "after_certificate" {
			t.Fatalf("copy beyond the certificate: %d %s", r.Status, r.Body)
		}
		// The certificate is valid through its valid_until day in China
		// Standard Time: a copy may last until its end, not a second more.
		if r := h.do("POST", "/v1/me/certificates/"+sc["id"].(string)+"/copies", hol, copyBody(time.Date(2027, 1, 10, 16, 0, 1, 0, time.UTC))); r.Status != 422 {
			t.Fatalf("a second past the certificate: %d %s", r.Status, r.Body)
		}
		last := h.must(201, h.do("POST", "/v1/me/certificates/"+sc["id"].(string)+"/copies", hol, copyBody(time.Date(2027, 1, 10, 16, 0, 0, 0, time.UTC))))
		if r := h.offline(t, last["code"].(string)); r.Result != verifier.Valid || !r.ExpiresAt.Equal(time.Date(2027, 1, 10, 16, 0, 0, 0, time.UTC)) {
			t.Fatalf("a copy until the certificate's end: %+v", r)
		}
		// Someone else's certificate is not found; nor is an unknown one.
		ent := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "某公司", "id_number": uscc1}))["token"].(string)
		if r := h.do("POST", "/v1/me/certificates/"+id+"/copies", ent, copyBody(exp)); r.Status != 404 {
			t.Fatalf("someone else's certificate: %d", r.Status)
		}
		if r := h.do("POST", "/v1/me/certificates/nope/copies", hol, copyBody(exp)); r.Status != 404 {
			t.Fatalf("unknown certificate: %d", r.Status)
		}

		// Expiry: a short copy stops verifying, and its page shows nothing.
		brief := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, copyBody(h.clock.Now().Add(2*time.Minute))))
		h.clock.Add(3 * time.Minute)
		if r := h.offline(t, brief["code"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonExpired) {
			t.Fatalf("expired copy: %+v", r)
		}
		if r := h.do("GET", h.pagePath(brief["url"].(string)), "", nil); r.Status != 410 || strings.Contains(string(r.Body), "110105") {
			t.Fatalf("expired copy's page: %d", r.Status)
		}

		// Revocation: the copy no longer verifies, its page shows nothing,
		// and no new copy can be made.
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/revoke", dep, map[string]any{"reason": "撤销"}))
		if r := h.offline(t, code); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("copy of a revoked certificate: %+v", r)
		}
		if r := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": code})); r["result"] != "invalid" {
			t.Fatalf("online, revoked: %v", r)
		}
		if r := h.do("GET", h.pagePath(cp["url"].(string)), "", nil); r.Status != 410 || strings.Contains(string(r.Body), "性别") {
			t.Fatalf("revoked copy's page: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, copyBody(exp)); r.Status != 409 {
			t.Fatalf("copy of a revoked certificate: %d", r.Status)
		}
	})
}

func TestCaseCopies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, caseApp := h.app("cases")
		_, otherCaseApp := h.app("cases")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("CC-1")))
		other := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("CC-2")))
		hol := h.holder(gw)
		c := h.must(201, h.do("POST", "/v1/cases", caseApp, named(caseBody(cases.ItemMarriage, h.personalCode(hol)), "person", "张三", personID)))
		caseID := c["id"].(string)
		exempted := ""
		for _, mat := range c["materials"].([]any) {
			if m := mat.(map[string]any); m["status"] == "exempted" {
				exempted = m["certificate_id"].(string)
			}
		}
		if exempted != cert["id"] && exempted != other["id"] {
			t.Fatalf("case %v", c)
		}
		notInCase := other["id"].(string)
		if exempted == notInCase {
			notInCase = cert["id"].(string)
		}
		exp := h.clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
		body := copyBody(exp)
		body["certificate_id"] = exempted
		cp := h.must(201, h.do("POST", "/v1/cases/"+caseID+"/copies", caseApp, body))
		if r := h.offline(t, cp["code"].(string)); r.Result != verifier.Valid || r.CertificateID != exempted || r.Copy == nil {
			t.Fatalf("case copy offline: %+v", r)
		}
		// The holder sees it, attributed to the case.
		found := false
		for _, u := range usageOf(t, h, hol) {
			if u["channel"] == "copy" && u["business_code"] == "HY2026-000123" && u["certificate_id"] == exempted {
				found = true
			}
		}
		list := h.must(200, h.do("GET", "/v1/me/copies", hol, nil))["items"].([]any)
		if !found || len(list) != 1 || list[0].(map[string]any)["case_id"] != caseID {
			t.Fatalf("holder's view: %v %v", found, list)
		}
		// A certificate that is not an exempted material is refused (and
		// recorded); another case system does not find the case; a
		// certificate id is required.
		body["certificate_id"] = notInCase
		if r := h.do("POST", "/v1/cases/"+caseID+"/copies", caseApp, body); r.Status != 403 || r.problem(t).Errors[0].Field != "certificate_id" {
			t.Fatalf("not a material: %d %s", r.Status, r.Body)
		}
		refused := false
		for _, u := range usageOf(t, h, hol) {
			refused = refused || u["result"] == "refused" && u["detail"] != nil && strings.Contains(u["detail"].(string), reasonNotMaterial)
		}
		if !refused {
			t.Fatalf("the refusal is not in the holder's usage records: %v", usageOf(t, h, hol))
		}
		body["certificate_id"] = exempted
		if r := h.do("POST", "/v1/cases/"+caseID+"/copies", otherCaseApp, body); r.Status != 404 {
			t.Fatalf("another case system: %d", r.Status)
		}
		delete(body, "certificate_id")
		if r := h.do("POST", "/v1/cases/"+caseID+"/copies", caseApp, body); r.Status != 422 || r.problem(t).Errors[0].Field != "certificate_id" {
			t.Fatalf("no certificate: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/v1/cases/nope/copies", caseApp, body); r.Status != 422 && r.Status != 404 {
			t.Fatalf("unknown case: %d", r.Status)
		}
	})
}

// Withdrawing a copy (DELETE /v1/me/copies/{id}): the copy has its own
// status entry, so withdrawal stops it online and offline while the
// holder's other copies of the same certificate still verify; the
// certificate's suspension, resumption, revocation and renewal reach every
// unwithdrawn copy offline; another holder cannot withdraw it.
func TestWithdrawCopies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, verifyApp := h.app("verify")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("WD-1")))
		id := cert["id"].(string)
		hol := h.holder(gw)
		exp := h.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
		a := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, copyBody(exp)))
		b := h.must(201, h.do("POST", "/v1/me/certificates/"+id+"/copies", hol, copyBody(exp)))
		codeA, codeB := a["code"].(string), b["code"].(string)
		stored, err := h.srv.store.GetCertificate(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		pa, err := codes.Parse(codeA)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(pa.StatusList, "a-") || pa.StatusList == stored.StatusList {
			t.Fatalf("the copy's status entry %s/%d is not its own (the certificate's: %s/%d)", pa.StatusList, pa.StatusIndex, stored.StatusList, stored.StatusIndex)
		}
		for _, code := range []string{codeA, codeB} {
			if r := h.offline(t, code); r.Result != verifier.Valid {
				t.Fatalf("a new copy offline: %+v", r)
			}
		}
		// The bundle names the copies list with its kind.
		if ref, ok := bundleRefs(t, h)[pa.StatusList]; !ok || ref.Kind != trust.ListCopies {
			t.Fatalf("the trust bundle does not reference list %s of kind copies", pa.StatusList)
		}

		// Another holder, or an unknown copy: not found, nothing changes.
		other := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "某公司", "id_number": uscc1}))["token"].(string)
		if r := h.do("DELETE", "/v1/me/copies/"+a["id"].(string), other, nil); r.Status != 404 {
			t.Fatalf("another holder withdraws: %d %s", r.Status, r.Body)
		}
		if r := h.do("DELETE", "/v1/me/copies/nope", hol, nil); r.Status != 404 {
			t.Fatalf("unknown copy: %d", r.Status)
		}
		if r := h.offline(t, codeA); r.Result != verifier.Valid {
			t.Fatalf("after another holder's attempt: %+v", r)
		}

		// The holder withdraws A, twice (idempotent).
		h.must(204, h.do("DELETE", "/v1/me/copies/"+a["id"].(string), hol, nil))
		h.must(204, h.do("DELETE", "/v1/me/copies/"+a["id"].(string), hol, nil))
		if r := h.offline(t, codeA); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("withdrawn copy offline: %+v", r)
		}
		if r := h.offline(t, codeB); r.Result != verifier.Valid {
			t.Fatalf("the other copy after A's withdrawal: %+v", r)
		}
		on := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": codeA}))
		if on["result"] != "invalid" || !strings.Contains(string(h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": codeA}).Body), `"code":"withdrawn"`) {
			t.Fatalf("withdrawn copy online: %v", on)
		}
		if r := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": codeB})); r["result"] != "valid" {
			t.Fatalf("the other copy online: %v", r)
		}
		if r := h.do("GET", h.pagePath(a["url"].(string)), "", nil); r.Status != 410 || !strings.Contains(string(r.Body), "撤回") || strings.Contains(string(r.Body), "性别") {
			t.Fatalf("withdrawn copy's page: %d %s", r.Status, r.Body)
		}
		if r := h.do("GET", h.pagePath(b["url"].(string)), "", nil); r.Status != 200 {
			t.Fatalf("the other copy's page: %d", r.Status)
		}
		statuses := func() map[string]string {
			out := map[string]string{}
			for _, it := range h.must(200, h.do("GET", "/v1/me/copies", hol, nil))["items"].([]any) {
				it := it.(map[string]any)
				out[it["id"].(string)] = it["status"].(string)
				if (it["status"] == "withdrawn") != (it["withdrawn_at"] != nil) || (it["withdrawable"] == true && it["status"] != "valid" && it["status"] != "certificate_not_valid") {
					t.Fatalf("copy view %v", it)
				}
			}
			return out
		}
		if st := statuses(); st[a["id"].(string)] != "withdrawn" || st[b["id"].(string)] != "valid" {
			t.Fatalf("statuses %v", st)
		}
		// Recorded for the holder and in the audit log.
		withdrawn := 0
		for _, u := range usageOf(t, h, hol) {
			if u["channel"] == "copy" && u["result"] == "withdrawn" && u["org"] == "某某银行上海分行" && u["certificate_id"] == id {
				withdrawn++
			}
		}
		if withdrawn != 1 {
			t.Fatalf("%d withdrawal usage records, want 1", withdrawn)
		}
		entries, err := h.srv.store.ListAudit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		audited := 0
		for _, e := range entries {
			if e.Action == "copy.withdraw" && e.ObjectID == a["id"].(string) {
				audited++
			}
		}
		if audited != 1 {
			t.Fatalf("%d audit entries copy.withdraw, want 1", audited)
		}

		// Suspension stops B; resumption makes it valid again, A stays
		// withdrawn.
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/suspend", dep, map[string]any{"reason": "暂扣"}))
		if r := h.offline(t, codeB); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonSuspended) {
			t.Fatalf("copy of a suspended certificate offline: %+v", r)
		}
		if st := statuses(); st[b["id"].(string)] != "certificate_not_valid" {
			t.Fatalf("statuses while suspended %v", st)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/resume", dep, map[string]any{"reason": "恢复"}))
		if r := h.offline(t, codeB); r.Result != verifier.Valid {
			t.Fatalf("copy after resumption offline: %+v", r)
		}
		if r := h.offline(t, codeA); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("withdrawn copy after resumption: %+v", r)
		}
		if r := h.do("GET", h.pagePath(a["url"].(string)), "", nil); r.Status != 410 {
			t.Fatalf("withdrawn copy's page after resumption: %d", r.Status)
		}

		// Revocation after the copy was made stops it offline.
		h.must(200, h.do("POST", "/v1/certificates/"+id+"/revoke", dep, map[string]any{"reason": "撤销"}))
		if r := h.offline(t, codeB); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("copy of a revoked certificate offline: %+v", r)
		}
		if r := h.must(200, h.do("POST", "/v1/verify", verifyApp, map[string]any{"code": codeB})); r["result"] != "invalid" {
			t.Fatalf("copy of a revoked certificate online: %v", r)
		}
		// Withdrawing a copy of a revoked certificate still works.
		h.must(204, h.do("DELETE", "/v1/me/copies/"+b["id"].(string), hol, nil))

		// Renewal supersedes the copies of the old version.
		c2 := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("WD-2")))
		d := h.must(201, h.do("POST", "/v1/me/certificates/"+c2["id"].(string)+"/copies", hol, copyBody(exp)))
		h.must(201, h.do("POST", "/v1/certificates/"+c2["id"].(string)+"/renew", dep, map[string]any{"reason": "换领"}))
		if r := h.offline(t, d["code"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonSuperseded) {
			t.Fatalf("copy of a renewed certificate offline: %+v", r)
		}

		// A copy made before copies had their own entry (its code refers
		// to the certificate's) cannot be withdrawn, and still follows its
		// certificate.
		c3 := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("WD-3")))
		cert3, err := h.srv.store.GetCertificate(ctx, c3["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		text, _, at, err := h.srv.deps.Codes.SignCopy(ctx, cert3, codeservice.CopyClaims{DisplayName: "张*", RecipientOrg: "某某银行上海分行",
			RecipientUSCC: copyRecipientUSCC, Purpose: "办理个人贷款", ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		legacy := store.Copy{ID: newID(), CertificateID: cert3.ID, HolderSubject: cert3.HolderSubject, RecipientOrg: "某某银行上海分行",
			RecipientUSCC: copyRecipientUSCC, Purpose: "办理个人贷款", Code: text, CreatedBy: "holder:" + cert3.HolderSubject, CreatedAt: at, ExpiresAt: exp}
		if err := h.srv.store.CreateCopy(ctx, legacy); err != nil {
			t.Fatal(err)
		}
		if r := h.do("DELETE", "/v1/me/copies/"+legacy.ID, hol, nil); r.Status != 409 || r.problem(t).Code != "copy_not_withdrawable" {
			t.Fatalf("withdrawing a copy without its own entry: %d %s", r.Status, r.Body)
		}
		if st := statuses(); st[legacy.ID] != "valid" {
			t.Fatalf("legacy copy status %v", st)
		}
		if r := h.offline(t, text); r.Result != verifier.Valid {
			t.Fatalf("legacy copy offline: %+v", r)
		}
		h.must(200, h.do("POST", "/v1/certificates/"+cert3.ID+"/revoke", dep, map[string]any{"reason": "撤销"}))
		if r := h.offline(t, text); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("legacy copy of a revoked certificate: %+v", r)
		}
		if st := statuses(); st[legacy.ID] != "certificate_not_valid" {
			t.Fatalf("legacy copy status after revocation %v", st)
		}
	})
}
