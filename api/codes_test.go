package api

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// offline verifies a code the way a scanner holding the current bundle
// would, with nothing but the bundle and the anchor key.
func (h *harness) offline(t *testing.T, text string) verifier.Result {
	t.Helper()
	bundle := h.do("GET", "/v1/trust", "", nil)
	anchor, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(string(bundle.Body), anchor.Public(), verifier.Options{Now: h.clock.Now, Lists: h.listSource(t)})
	if err != nil {
		t.Fatal(err)
	}
	return v.VerifyCode(text)
}

// listSource fetches status lists from the server as a remote verifier
// does: by the digest the bundle pins.
func (h *harness) listSource(t *testing.T) verifier.ListSource {
	return verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) {
		r := h.do("GET", "/v1/status-lists/"+ref.ID+"?sm3="+ref.SM3, "", nil)
		if r.Status != 200 {
			return "", fmt.Errorf("status list %s: HTTP %d", ref.ID, r.Status)
		}
		return string(r.Body), nil
	})
}

func decodePNG(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, hints := range []map[gozxing.DecodeHintType]interface{}{nil, {gozxing.DecodeHintType_PURE_BARCODE: true}} {
		if res, err := gzqr.NewQRCodeReader().Decode(bmp, hints); err == nil {
			return res.GetText()
		}
	}
	t.Fatal("no QR code found in the PNG")
	return ""
}

func TestPersonalCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		m := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))
		text := m["code"].(string)
		if m["kind"] != "personal" || !strings.HasPrefix(text, codes.Prefix) {
			t.Fatalf("personal code %v", m)
		}
		if strings.Contains(text, "11010519") {
			t.Fatal("the code carries the ID number")
		}
		if v, _ := codes.QRVersion(text); v > 7 {
			t.Fatalf("personal code needs QR version %d", v)
		}
		r := h.offline(t, text)
		if r.Result != verifier.Valid || r.Kind != "personal" || r.Subject.Masked != "张*" {
			t.Fatalf("offline verification: %+v", r)
		}
		// Two codes of one holder are not linkable: different subjects.
		m2 := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))
		p1, _ := codes.Parse(text)
		p2, _ := codes.Parse(m2["code"].(string))
		if bytes.Equal(p1.Subject, p2.Subject) {
			t.Fatal("two personal codes share a subject")
		}
		// The QR image, decoded by a real QR decoder, is the code text.
		img := h.do("POST", "/v1/me/codes/personal", hol, nil, "Accept", "image/png")
		if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("png: %d %s", img.Status, img.Header.Get("Content-Type"))
		}
		if got := decodePNG(t, img.Body); got != img.Header.Get("Suishen-Code") {
			t.Fatalf("decoded %q, header %q", got, img.Header.Get("Suishen-Code"))
		}
		svg := h.do("POST", "/v1/me/codes/personal", hol, nil, "Accept", "image/svg+xml")
		if svg.Status != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" || xml.Unmarshal(svg.Body, new(struct{})) != nil {
			t.Fatalf("svg: %d", svg.Status)
		}
		// It expires with the configured lifetime (plus skew).
		h.clock.Add(h.cfg.CodeTTL + time.Minute)
		if r := h.offline(t, text); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonExpired) {
			t.Fatalf("expired code: %+v", r)
		}
	})
}

func TestOfflineAndEnterpriseCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		first := h.must(201, h.do("POST", "/v1/me/codes/offline", hol, nil))
		if r := h.offline(t, first["code"].(string)); r.Result != verifier.Valid || r.Kind != "offline" {
			t.Fatalf("offline code: %+v", r)
		}
		second := h.must(201, h.do("POST", "/v1/me/codes/offline", hol, nil))
		if second["generation"].(float64) != 2 {
			t.Fatalf("second %v", second)
		}
		// Only the latest generation is valid, offline too (status list).
		if r := h.offline(t, first["code"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("previous offline code: %+v", r)
		}
		if r := h.offline(t, second["code"].(string)); r.Result != verifier.Valid {
			t.Fatalf("latest offline code: %+v", r)
		}
		// A person has no enterprise code; an enterprise's is static.
		if r := h.do("POST", "/v1/me/codes/enterprise", hol, nil); r.Status != 403 {
			t.Fatalf("person asks for an enterprise code: %d", r.Status)
		}
		ent := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_number": uscc1}))["token"].(string)
		e1 := h.must(200, h.do("POST", "/v1/me/codes/enterprise", ent, nil))
		e2 := h.must(200, h.do("POST", "/v1/me/codes/enterprise", ent, nil))
		if e1["code"] != e2["code"] {
			t.Fatal("the enterprise code is not static")
		}
		if r := h.offline(t, e1["code"].(string)); r.Result != verifier.Valid || r.Kind != "enterprise" {
			t.Fatalf("enterprise code: %+v", r)
		}
		// Revoked: offline verifiers see it in the next bundle; a new one is issued.
		if r := h.do("DELETE", "/v1/me/codes/enterprise", ent, nil); r.Status != 204 {
			t.Fatalf("revoke enterprise code: %d", r.Status)
		}
		if r := h.offline(t, e1["code"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
			t.Fatalf("revoked enterprise code: %+v", r)
		}
		e3 := h.must(200, h.do("POST", "/v1/me/codes/enterprise", ent, nil))
		if e3["code"] == e1["code"] || e3["generation"].(float64) != 2 {
			t.Fatalf("after revocation %v", e3)
		}
		if r := h.do("DELETE", "/v1/me/codes/enterprise", hol, nil); r.Status != 403 {
			t.Fatalf("a person revokes an enterprise code: %d", r.Status)
		}
	})
}

func TestCheckinsAndVenueScans(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		_, ven := h.venue()
		vc := h.must(200, h.do("GET", "/v1/venue/code", ven, nil))
		if again := h.must(200, h.do("GET", "/v1/venue/code", ven, nil)); again["code"] != vc["code"] {
			t.Fatal("the venue code is not static")
		}
		png := h.do("GET", "/v1/venue/code", ven, nil, "Accept", "image/png")
		if decodePNG(t, png.Body) != vc["code"] {
			t.Fatal("the venue code PNG decodes to another text")
		}
		// The holder scans the venue code.
		ci := h.must(201, h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": vc["code"]}))
		if ci["venue"].(map[string]any)["name"] != "徐汇区图书馆" {
			t.Fatalf("check-in %v", ci)
		}
		mine := h.must(200, h.do("GET", "/v1/me/checkins", hol, nil))
		if len(mine["items"].([]any)) != 1 {
			t.Fatalf("my check-ins %v", mine)
		}
		// Wrong kind, altered, oversized.
		pc := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)
		if r := h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": pc}); r.Status != 422 || r.problem(t).Code != "wrong_kind" {
			t.Fatalf("personal code as a venue code: %d %s", r.Status, r.Body)
		}
		alt := []byte(vc["code"].(string))
		alt[len(alt)-3] = map[bool]byte{true: 'A', false: 'B'}[alt[len(alt)-3] != 'A']
		if r := h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": string(alt)}); r.Status != 422 {
			t.Fatalf("altered venue code: %d %s", r.Status, r.Body)
		}
		if r := h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": strings.Repeat("A", 5000)}); r.Status != 422 {
			t.Fatalf("oversized: %d", r.Status)
		}
		// The venue scans the holder's personal code.
		sc := h.must(200, h.do("POST", "/v1/venue/scans", ven, map[string]any{"code": pc}))
		if sc["result"] != "valid" || sc["scan"].(map[string]any)["masked_name"] != "张*" {
			t.Fatalf("scan %v", sc)
		}
		bad := h.must(200, h.do("POST", "/v1/venue/scans", ven, map[string]any{"code": string(alt)}))
		if bad["result"] == "valid" || bad["scan"] != nil {
			t.Fatalf("altered scan %v", bad)
		}
		if r := h.do("POST", "/v1/venue/scans", ven, map[string]any{"code": vc["code"]}); r.Status != 422 {
			t.Fatalf("venue code scanned as a person: %d", r.Status)
		}
		// Offline uploads are idempotent.
		at := h.clock.Now().Add(-10 * time.Second).Format(time.RFC3339)
		batch := map[string]any{"items": []any{
			map[string]any{"id": "dev1-0001", "code": pc, "scanned_at": at},
			map[string]any{"id": "dev1-0002", "code": string(alt), "scanned_at": at},
		}}
		up := h.must(200, h.do("POST", "/v1/venue/scans/batch", ven, batch))
		if up["recorded"].(float64) != 1 || up["items"].([]any)[1].(map[string]any)["status"] != "rejected" {
			t.Fatalf("upload %v", up)
		}
		again := h.must(200, h.do("POST", "/v1/venue/scans/batch", ven, batch))
		if again["recorded"].(float64) != 0 || again["items"].([]any)[0].(map[string]any)["status"] != "duplicate" {
			t.Fatalf("re-upload %v", again)
		}
		// A revoked venue code no longer checks anyone in.
		if r := h.do("DELETE", "/v1/venue/code", ven, nil); r.Status != 204 {
			t.Fatalf("revoke venue code: %d", r.Status)
		}
		if r := h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": vc["code"]}); r.Status != 422 || r.problem(t).Errors[0].Code != "revoked" {
			t.Fatalf("check-in with a revoked venue code: %d %s", r.Status, r.Body)
		}
		if nv := h.must(200, h.do("GET", "/v1/venue/code", ven, nil)); nv["code"] == vc["code"] {
			t.Fatal("no new venue code after revocation")
		}
		visitors := h.must(200, h.do("GET", "/v1/venue/checkins", ven, nil))
		items := visitors["items"].([]any)
		if len(items) != 3 {
			t.Fatalf("visitors %v", visitors)
		}
		if strings.Contains(fmt.Sprint(visitors), "张三") || strings.Contains(fmt.Sprint(visitors), personID) {
			t.Fatal("the venue sees personal data")
		}
	})
}

func TestPresentation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("P-1")))
		hol := h.holder(gw)
		p := h.must(201, h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/presentations", hol, map[string]any{"purpose": "办理银行开户"}))
		if len(p["use_code"].(string)) < 6 {
			t.Fatalf("presentation %v", p)
		}
		r := h.offline(t, p["code"].(string))
		if r.Result != verifier.Valid || r.Kind != "presentation" || r.CertificateID != cert["id"] || r.UseCode != p["use_code"] {
			t.Fatalf("presentation code: %+v", r)
		}
		// Someone else's certificate is not found.
		ent := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "某公司", "id_number": uscc1}))["token"].(string)
		if r := h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/presentations", ent, map[string]any{"purpose": "x"}); r.Status != 404 {
			t.Fatalf("someone else's certificate: %d", r.Status)
		}
		// A revoked one cannot be shown.
		h.must(200, h.do("POST", "/v1/certificates/"+cert["id"].(string)+"/revoke", dep, map[string]any{"reason": "撤销"}))
		if r := h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/presentations", hol, map[string]any{"purpose": "x"}); r.Status != 409 {
			t.Fatalf("present a revoked certificate: %d %s", r.Status, r.Body)
		}
		// After revocation the earlier presentation no longer verifies.
		if r := h.offline(t, p["code"].(string)); r.Result != verifier.Invalid {
			t.Fatalf("presentation of a revoked certificate: %+v", r)
		}
	})
}
