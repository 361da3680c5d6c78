package api

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/suishen/suishen/internal/browsertest"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/verifier"
)

// The printable page of an annotated copy, in a browser: it renders under
// the site's CSP, the QR on the screen decodes to the copy code, which
// verifies offline, the annotation is across the page, it prints on one A4
// page, and axe-core finds no serious violation.
func TestCopyPageInBrowser(t *testing.T) {
	h := browserHarness(t, teststore.Backends()[0])
	_, dep := h.department(uscc2)
	_, gw := h.app("identity-gateway")
	cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("CPB-1")))
	hol := h.holder(gw)
	cp := h.must(201, h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/copies", hol, copyBody(time.Now().Add(7*24*time.Hour))))
	code := cp["code"].(string)

	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.Navigate(h.ts.URL+h.pagePath(cp["url"].(string))))
	waitJS(t, ctx, `document.getElementById('copy-qr').complete && document.getElementById('copy-qr').naturalWidth > 0`, 20*time.Second)
	text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"仅供某某银行上海分行办理个人贷款使用", "某某银行上海分行", "办理个人贷款", "张*", "居民身份证", "性别", "发证机构"} {
		if !strings.Contains(text, want) {
			t.Errorf("the copy page does not show %q:\n%s", want, text)
		}
	}
	noIdentity(t, ctx, "/copies/{id}")
	// The watermark is drawn across the page: it covers most of the sheet.
	cover := run(t, ctx, chromedp.Evaluate[[]float64](`(() => {
	  const w = document.querySelector('.watermark').getBoundingClientRect();
	  const p = document.querySelector('.watermark p');
	  return [w.width, w.height, innerWidth, innerHeight, getComputedStyle(p, '::before').content.length];
	})()`))
	if cover[0] < cover[2]*0.9 || cover[1] < cover[3]*0.9 || cover[4] < 10 {
		t.Errorf("the watermark: %v", cover)
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('copy-qr').scrollIntoView({block: 'center'})`))
	if got := screenQR(t, ctx); got != code {
		t.Fatalf("the QR on the screen decodes to %q, want the copy code", got)
	}
	if r := h.offline(t, code); r.Result != verifier.Valid || r.Kind != "copy" {
		t.Fatalf("the copy code: %+v", r)
	}
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	noSeriousViolations(t, ctx, "/copies/{id}")
	saveScreenshot(t, ctx, "copy.png")

	// On paper: one A4 page (595 × 842 pt).
	pdf := run(t, ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, tg, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: ptrTrue(), PrintBackground: ptrTrue()})
		return res.Data, err
	})
	boxes := regexp.MustCompile(`/MediaBox \[0 0 (59[45](\.\d+)?) (84[12](\.\d+)?)\]`).FindAll(pdf, -1)
	if pages := regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1); len(pages) != 1 || len(boxes) != 1 {
		t.Fatalf("the printed copy is not one A4 page: %d pages, media boxes %q", len(pages), regexp.MustCompile(`/MediaBox \[[^\]]*\]`).FindAll(pdf, -1))
	}
}

// The scanner page reads a copy code with the camera, verifies it in the
// page, and says in Chinese whom the copy is for and why; once the holder
// withdraws the copy, the scanner (the WASM verifier with the published
// status lists) finds it invalid.
func TestScanShowsCopy(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	_, base := scanHarness(t, h)
	_, dep := h.department(uscc2)
	_, gw := h.app("identity-gateway")
	cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("CPS-1")))
	hol := h.holder(gw)
	cp := h.must(201, h.do("POST", "/v1/me/certificates/"+cert["id"].(string)+"/copies", hol, copyBody(time.Now().Add(7*24*time.Hour))))

	cam := filepath.Join(t.TempDir(), "camera.y4m")
	writeY4M(t, cam, cp["code"].(string))
	ctx := scanBrowser(t, cam)
	step(t, ctx, "open /scan", chromedp.Navigate(base+"/scan"))
	waitFor(t, ctx, "the verifier and the trust bundle", `document.body.dataset.ready === "1"`)
	step(t, ctx, "start the camera", chromedp.Click("#camera-start"))
	waitFor(t, ctx, "a result", `document.getElementById("result").dataset.result`)
	if r, subject, kind, reasons := resultOf(t, ctx); r != "valid" || subject != "张*" || kind != "加注件（证照复印件）" {
		t.Fatalf("copy code: %q %q %q %q", r, subject, kind, reasons)
	}
	got := eval[map[string]string](t, ctx, `({hidden: String(document.getElementById("copy").hidden),
		annotation: document.getElementById("copy-annotation").textContent, recipient: document.getElementById("copy-recipient").textContent,
		purpose: document.getElementById("copy-purpose").textContent, expires: document.getElementById("copy-expires").textContent,
		labels: [...document.querySelectorAll("#copy dt")].map(d => d.textContent).join(",")})`)
	if got["hidden"] != "false" || got["annotation"] != "仅供某某银行上海分行办理个人贷款使用" || !strings.Contains(got["recipient"], "某某银行上海分行") ||
		!strings.Contains(got["recipient"], copyRecipientUSCC) || got["purpose"] != "办理个人贷款" || got["expires"] == "" || got["labels"] != "加注,仅供,用途,有效期至" {
		t.Fatalf("the copy on /scan: %v", got)
	}
	noSeriousViolations(t, ctx, "/scan showing a copy")
	noIdentity(t, ctx, "/scan showing a copy")

	// Withdrawn by its holder: after a reload (a fresh trust bundle and
	// status lists) the scanner finds it invalid, offline, and says why.
	h.must(204, h.do("DELETE", "/v1/me/copies/"+cp["id"].(string), hol, nil))
	step(t, ctx, "reload", chromedp.Reload())
	waitFor(t, ctx, "the verifier and the fresh trust bundle", `document.body.dataset.ready === "1"`)
	step(t, ctx, "type the withdrawn copy's code", chromedp.SendKeys("#code-input", cp["code"].(string)), chromedp.Click(`#manual-form button`))
	waitFor(t, ctx, "invalid", `document.getElementById("result").dataset.result === "invalid"`)
	if r, _, kind, reasons := resultOf(t, ctx); r != "invalid" || kind != "加注件（证照复印件）" || !strings.Contains(reasons, "revoked:已失效：加注件已被撤回") {
		t.Fatalf("withdrawn copy on /scan: %q %q %q", r, kind, reasons)
	}
}
