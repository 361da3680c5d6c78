package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/internal/browsertest"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/verifier"
)

// One browser for the whole test binary.
func TestMain(m *testing.M) { browsertest.Main(m) }

// browserHarness is a server on the wall clock with the shortest code TTL
// (10 s), so a test sees the page replace a code.
func browserHarness(t *testing.T, b teststore.Backend) *harness {
	h := newHarnessWith(t, b.Open(t), func(c *config.Config) { c.CodeTTL = 10 * time.Second })
	h.clock.mu.Lock()
	h.clock.real = true
	h.clock.mu.Unlock()
	return h
}

// pageFixture gives the holder a certificate, a check-in, a grant and a
// usage record, and returns the gateway key, the grant and the key of the
// department that issued the card (uscc2, the owner of the seeded 免申即享
// examples).
func pageFixture(t *testing.T, h *harness) (gw, grantID, dept string) {
	t.Helper()
	_, dep := h.department(uscc2)
	_, gw = h.app("identity-gateway")
	appID, appKey := h.app("verify", "use")
	cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("P-1")))
	hol := h.holder(gw)
	_, ven := h.venue()
	venueCode := h.must(200, h.do("GET", "/v1/venue/code", ven, nil))["code"].(string)
	h.must(201, h.do("POST", "/v1/me/checkins", hol, map[string]any{"code": venueCode}))
	g := h.must(201, h.do("POST", "/v1/me/authorizations", hol, map[string]any{"app_id": appID, "certificate_types": []string{typeIDCard},
		"purpose": "开立银行账户", "expires_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}))
	h.must(200, h.do("GET", "/v1/certificates/"+cert["id"].(string), appKey, nil)) // a use under the grant
	h.settle()                                                                     // and 免申即享's evaluation of the issued card
	return gw, g["id"].(string), dep
}

// loginURL mints a session and returns its login_url on the test server.
func (h *harness) browserLoginURL(gw string) string {
	h.t.Helper()
	return h.browserLoginURLFor(gw, "张三", personID)
}

// browserLoginURLFor is browserLoginURL for another person.
func (h *harness) browserLoginURLFor(gw, name, idNumber string) string {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "person", "name": name, "id_number": idNumber}))
	return strings.Replace(m["login_url"].(string), h.cfg.PublicURL, h.ts.URL, 1)
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, ctx, chromedp.Steps(steps...))
}

// waitJS polls a JavaScript expression until it is true (navigations in
// between are fine).
func waitJS(t *testing.T, ctx context.Context, expr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var lastErr error
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	t.Fatalf("waiting for %s: %v\npage: %s", expr, lastErr, body)
}

// screenQR decodes the QR code visible on the screen.
func screenQR(t *testing.T, ctx context.Context) string {
	t.Helper()
	shot, err := browsertest.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return decodePNG(t, shot)
}

func noSeriousViolations(t *testing.T, ctx context.Context, page string, enable ...string) {
	t.Helper()
	vs, err := browsertest.Axe(ctx, enable...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe: %s", page, v)
	}
}

// screenshotDir is where the tests leave their screenshots: the README's
// docs/screenshots with SUISHEN_UPDATE_SCREENSHOTS=1, a temporary folder
// otherwise (so that a test run leaves the work tree clean).
func screenshotDir(t *testing.T) string {
	if os.Getenv("SUISHEN_UPDATE_SCREENSHOTS") != "" {
		return filepath.Join("..", "docs", "screenshots")
	}
	return t.TempDir()
}

func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	path := filepath.Join(screenshotDir(t), name)
	if err := browsertest.SaveScreenshot(ctx, path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
		t.Fatalf("screenshot %s: %v", path, err)
	}
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML + document.body.innerText`))
}

// noIdentity checks that a page shows no identity number and no full name.
func noIdentity(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	text := pageText(t, ctx)
	for _, secret := range []string{personID, strings.ToLower(personID), "张三"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows %q", page, secret)
		}
	}
}

// The holder page, as a person sees it after the identity gateway sends the
// browser to its login_url: the QR on the screen decodes to a code that
// verifies offline, and is replaced by another valid code before it expires.
func TestHolderPageShowsALiveCode(t *testing.T) {
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			h := browserHarness(t, b)
			gw, _, _ := pageFixture(t, h)
			ctx := browsertest.Tab(t)
			do(t, ctx, chromedp.Navigate(h.browserLoginURL(gw)))
			waitJS(t, ctx, `location.pathname === '/me' && !!document.getElementById('qr').dataset.code && document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0`, 20*time.Second)

			first := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('qr').dataset.code`))
			if got := screenQR(t, ctx); got != first {
				t.Fatalf("the QR on the screen decodes to %q, the page shows %q", got, first)
			}
			if r := h.offline(t, first); r.Result != verifier.Valid || r.Kind != "personal" {
				t.Fatalf("the code on the screen: %+v", r)
			}
			countdown := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('countdown').textContent`))
			if !strings.Contains(countdown, "秒后自动刷新") {
				t.Fatalf("countdown %q", countdown)
			}

			// Within one TTL the page shows a new code, which verifies too.
			waitJS(t, ctx, fmt.Sprintf(`document.getElementById('qr').dataset.code !== %q && document.getElementById('qr').complete`, first), 20*time.Second)
			second := screenQR(t, ctx)
			if second == first {
				t.Fatal("the code on the screen did not change")
			}
			if r := h.offline(t, second); r.Result != verifier.Valid {
				t.Fatalf("the refreshed code: %+v", r)
			}
			noIdentity(t, ctx, "/me")
		})
	}
}

// Everything else on the holder page, its 长者专版 and the offline card:
// content, actions, accessibility, screenshots.
func TestHolderPages(t *testing.T) {
	h := browserHarness(t, teststore.Backends()[0])
	gw, grantID, dept := pageFixture(t, h)
	// A 加注件 the holder made through the API.
	tok := h.holder(gw)
	certID := h.must(200, h.do("GET", "/v1/me/certificates", tok, nil))["items"].([]any)[0].(map[string]any)["id"].(string)
	cp := h.must(201, h.do("POST", "/v1/me/certificates/"+certID+"/copies", tok, copyBody(time.Now().Add(30*24*time.Hour))))
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.Navigate(h.browserLoginURL(gw)))
	waitJS(t, ctx, `!!document.getElementById('qr').dataset.code && document.querySelectorAll('#cert-list li').length > 0 && document.querySelectorAll('#usage-list li').length > 0 && document.querySelectorAll('#grant-list li').length > 0 && document.querySelectorAll('#checkin-list li').length > 0 && document.querySelectorAll('#copy-list li').length > 0`, 20*time.Second)

	// Budget: the first visit (cold cache) transfers at most 150 KB — the
	// page, its assets, the code image and the API answers.
	weight := run(t, ctx, chromedp.Evaluate[[]int](`(() => {
	  const es = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
	  const assets = es.filter(e => e.name.includes('/assets/') || e.entryType === 'navigation');
	  const sum = l => l.reduce((s, e) => s + (e.transferSize || 0), 0);
	  return [sum(es), sum(assets), es.length];
	})()`))
	t.Logf("holder page, first visit: %d bytes transferred in %d requests (page and assets: %d bytes)", weight[0], weight[2], weight[1])
	if weight[0] > 150*1024 || weight[1] == 0 {
		t.Errorf("the holder page transferred %d bytes, budget 150 KB", weight[0])
	}

	text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"张*", "居民身份证", "有效", "徐汇区图书馆", "开立银行账户", "某银行", "证照 居民身份证", "用证记录", "授权用证", "场所登记", "免申即享 评估", "不符合条件",
		"惠民政策（免申即享）", "暂无可享受的政策", "我的加注件", "仅供某某银行上海分行办理个人贷款使用", "交给 某某银行上海分行", "用途 办理个人贷款", "有效期至", "打开打印页", "撤回"} {
		if !strings.Contains(text, want) {
			t.Errorf("/me does not show %q:\n%s", want, text)
		}
	}
	noIdentity(t, ctx, "/me")
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	noSeriousViolations(t, ctx, "/me")
	saveScreenshot(t, ctx, "me.png")

	// 亮证: a presentation code that verifies with the use code shown.
	do(t, ctx, chromedp.Click(`#cert-list button`))
	waitJS(t, ctx, `!document.getElementById('present').hidden && document.getElementById('use-code').textContent.length >= 6 && document.getElementById('present-qr').complete`, 20*time.Second)
	useCode := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('use-code').textContent`))
	presented := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('present-qr').dataset.code`))
	if r := h.offline(t, presented); r.Result != verifier.Valid || r.Kind != "presentation" || r.UseCode != useCode {
		t.Fatalf("presentation on the page: %+v (use code %q)", r, useCode)
	}
	noSeriousViolations(t, ctx, "/me (亮证)")
	do(t, ctx, chromedp.Click(`#present-close`))

	// Revoking a grant from the page revokes it.
	do(t, ctx, chromedp.Click(`#grant-list button`))
	waitJS(t, ctx, `document.querySelectorAll('#grant-list li').length === 0`, 20*time.Second)
	for _, g := range h.must(200, h.do("GET", "/v1/me/authorizations", tok, nil))["items"].([]any) {
		if g := g.(map[string]any); g["id"] == grantID && g["revoked_at"] == nil {
			t.Fatal("the grant revoked on the page is still live")
		}
	}

	// The copy's printable page opens from the list; withdrawing the copy
	// (撤回, then 确认撤回) shows it withdrawn, and it no longer verifies.
	do(t, ctx, chromedp.Click(`#copy-list a.button`))
	waitJS(t, ctx, `location.pathname === '/copies/`+cp["id"].(string)+`' && document.body.innerText.includes('仅供某某银行上海分行办理个人贷款使用') && document.getElementById('copy-qr').complete`, 20*time.Second)
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me"))
	waitJS(t, ctx, `document.querySelectorAll('#copy-list button').length === 1 && !document.getElementById('usage').hidden`, 20*time.Second)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('copies').scrollIntoView({block: 'start'})`))
	saveScreenshot(t, ctx, "me-copies.png")
	do(t, ctx, chromedp.Click(`#copy-list button`))
	waitJS(t, ctx, `document.querySelector('#copy-list button').textContent === '确认撤回'`, 20*time.Second)
	noSeriousViolations(t, ctx, "/me (确认撤回)")
	do(t, ctx, chromedp.Click(`#copy-list button`))
	waitJS(t, ctx, `document.querySelector('#copy-list li .badge').textContent === '已撤回' && document.querySelectorAll('#copy-list button, #copy-list a').length === 0 && document.getElementById('copy-list').innerText.includes('撤回于')`, 20*time.Second)
	if st := h.must(200, h.do("GET", "/v1/me/copies", tok, nil))["items"].([]any)[0].(map[string]any)["status"]; st != "withdrawn" {
		t.Fatalf("the copy withdrawn on the page is %v", st)
	}
	if r := h.offline(t, cp["code"].(string)); r.Result != verifier.Invalid || !r.HasReason(verifier.ReasonRevoked) {
		t.Fatalf("the copy withdrawn on the page, offline: %+v", r)
	}
	if r := h.do("GET", h.pagePath(cp["url"].(string)), "", nil); r.Status != 410 {
		t.Fatalf("the withdrawn copy's page: %d", r.Status)
	}
	noSeriousViolations(t, ctx, "/me (加注件已撤回)")

	// 长者专版: large type, the code and at most three large actions, no
	// countdown; the choice is remembered.
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=1"))
	waitJS(t, ctx, `document.body.classList.contains('elder') && !!document.getElementById('qr').dataset.code && document.getElementById('qr').complete`, 20*time.Second)
	size := run(t, ctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.body).fontSize)`))
	if size < 24 {
		t.Fatalf("elder body font size %v px, want ≥ 24", size)
	}
	for _, sel := range []string{"#help p", "#name"} {
		if px := run(t, ctx, chromedp.Evaluate[float64](fmt.Sprintf(`parseFloat(getComputedStyle(document.querySelector(%q)).fontSize)`, sel))); px < 24 {
			t.Errorf("elder %s font size %v px", sel, px)
		}
	}
	visible := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('button, a.button')].filter(b => b.offsetParent !== null && b.getBoundingClientRect().height >= 60).map(b => b.textContent.trim())`))
	if len(visible) == 0 || len(visible) > 3 {
		t.Fatalf("elder page large actions %v, want 1 to 3", visible)
	}
	waitJS(t, ctx, `document.getElementById('elder-benefits').dataset.loaded === '1'`, 20*time.Second)
	if shown := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById('countdown').offsetParent !== null || document.getElementById('certs').offsetParent !== null || document.getElementById('copies').offsetParent !== null || document.getElementById('benefits').offsetParent !== null || document.getElementById('elder-benefits').offsetParent !== null`)); shown {
		t.Fatal("the elder page shows a countdown, the certificate list, the copies or (with none offered) benefits")
	}
	if r := h.offline(t, screenQR(t, ctx)); r.Result != verifier.Valid {
		t.Fatalf("elder page code: %+v", r)
	}
	noIdentity(t, ctx, "/me?elder=1")
	// AAA contrast (7:1) on the elder page, large text included.
	noSeriousViolations(t, ctx, "/me?elder=1", "color-contrast-enhanced")
	if c, err := browsertest.MinContrast(ctx); err != nil || c.Ratio < 7 {
		t.Errorf("elder page: lowest text contrast %+v (%v), want ≥ 7:1", c, err)
	}
	saveScreenshot(t, ctx, "me-elder.png")
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me"))
	waitJS(t, ctx, `document.readyState === 'complete' && document.body.classList.contains('elder')`, 20*time.Second)
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=0"))
	waitJS(t, ctx, `document.readyState === 'complete' && !document.body.classList.contains('elder') && !!document.getElementById('qr').dataset.code`, 20*time.Second)

	// The offline card: printing a new one invalidates the old.
	card := func() string {
		do(t, ctx, chromedp.Navigate(h.ts.URL+"/print/offline"))
		waitJS(t, ctx, `!document.getElementById('intro').hidden`, 20*time.Second)
		do(t, ctx, chromedp.Click(`#make`))
		waitJS(t, ctx, `!!document.getElementById('card-qr').dataset.code && document.getElementById('card-qr').complete && document.getElementById('card-qr').naturalWidth > 0`, 20*time.Second)
		return run(t, ctx, chromedp.Evaluate[string](`document.getElementById('card-qr').dataset.code`))
	}
	old := card()
	if r := h.offline(t, old); r.Result != verifier.Valid || r.Kind != "offline" {
		t.Fatalf("printed offline code: %+v", r)
	}
	fresh := card()
	if got := screenQR(t, ctx); got != fresh {
		t.Fatalf("the card's QR decodes to %q, want %q", got, fresh)
	}
	if r := h.offline(t, fresh); r.Result != verifier.Valid {
		t.Fatalf("new offline code: %+v", r)
	}
	if r := h.offline(t, old); r.Result != verifier.Invalid {
		t.Fatalf("the card printed before: %+v, want invalid", r)
	}
	cardText := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('offline-card').innerText`))
	if !strings.Contains(cardText, "张*") || !strings.Contains(cardText, "第 2 版") || !strings.Contains(cardText, "打印日期") {
		t.Fatalf("card text %q", cardText)
	}
	// On paper: one A6 page (105 × 148 mm = 297.6 × 419.5 pt) with the card
	// alone.
	pdf := run(t, ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, tg, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: ptrTrue()})
		return res.Data, err
	})
	boxes := regexp.MustCompile(`/MediaBox \[0 0 (29[78](\.\d+)?) (4(19|20)(\.\d+)?)\]`).FindAll(pdf, -1)
	if pages := regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1); len(pages) != 1 || len(boxes) != 1 {
		m := regexp.MustCompile(`/MediaBox \[[^\]]*\]`).FindAll(pdf, -1)
		t.Fatalf("the printed card is not one A6 page: media boxes %q", m)
	}
	noIdentity(t, ctx, "/print/offline")
	noSeriousViolations(t, ctx, "/print/offline")
	saveScreenshot(t, ctx, "print-offline.png")
	// Sign-out ends the session: the page then says so, and the API refuses
	// the cookie.
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me"))
	// Wait for the lists too: they push the footer down as they arrive.
	waitJS(t, ctx, `!document.getElementById('foot').hidden && !document.getElementById('grants').hidden && !document.getElementById('usage').hidden && !document.getElementById('checkins').hidden`, 20*time.Second)
	do(t, ctx, chromedp.Click(`#sign-out`))
	waitJS(t, ctx, `document.getElementById('notice').textContent.includes('退出登录')`, 20*time.Second)
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me"))
	waitJS(t, ctx, `document.getElementById('notice').textContent.includes('随申办')`, 20*time.Second)

	holderPageBenefits(t, h, ctx, gw, dept)
}

// holderPageBenefits: a holder who qualifies for the seeded 高龄老人营养补贴
// (a 居民身份证 of someone over 80 in 310117 from uscc2, the department
// that owns the seeded examples) sees it on the 长者专版 as one large line, and on /me with
// what it gives, its status and date and its policy's 依据 and 条件; the
// evaluation is among the usage records; 放弃, then 确认放弃, declines it.
// A holder whose card was revoked sees the offer 已停止, and why.
func holderPageBenefits(t *testing.T, h *harness, ctx context.Context, gw, dept string) {
	const policy = "EX-GAOLING-310117"
	_, elder := elderID(h, dept, "M00000000001", "1940-01-01", "310117", "")
	h.settle() // the worker evaluates the issued card
	tok := personSession(h, elder)
	if st := entitlementStatus(h, tok, policy); st != "offered" {
		t.Fatalf("the elder's entitlement: %s, want offered", st)
	}

	// 长者专版 first: it shows offered entitlements only.
	do(t, ctx, chromedp.Navigate(h.browserLoginURLFor(gw, "王老", elder)))
	waitJS(t, ctx, `location.pathname === '/me' && !!document.getElementById('qr').dataset.code`, 20*time.Second)
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=1"))
	waitJS(t, ctx, `document.body.classList.contains('elder') && document.getElementById('elder-benefits').dataset.loaded === '1' && !!document.getElementById('qr').dataset.code`, 20*time.Second)
	line := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('elder-benefits').offsetParent !== null ? document.getElementById('elder-benefit-list').innerText : ''`))
	if !strings.Contains(line, "您已自动享受：高龄老人营养补贴") || !strings.Contains(line, "每月75元起") {
		t.Fatalf("the elder page's benefits: %q", line)
	}
	if px := run(t, ctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector('#elder-benefit-list li')).fontSize)`)); px < 24 {
		t.Errorf("elder benefit line font size %v px", px)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#elder-benefits button, #elder-benefits a').length`)); n != 0 {
		t.Errorf("the elder page offers %d actions on a benefit, want none", n)
	}
	noSeriousViolations(t, ctx, "/me?elder=1 (免申即享)", "color-contrast-enhanced")
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('elder-benefits').scrollIntoView({block: 'center'})`))
	saveScreenshot(t, ctx, "me-elder-benefits.png")

	// /me: the entitlement, its policy, and the evaluation's usage record.
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=0"))
	waitJS(t, ctx, `!document.body.classList.contains('elder') && document.querySelectorAll('#benefit-list li').length === 1 && document.querySelectorAll('#usage-list li').length > 0`, 20*time.Second)
	text := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('benefits').innerText + '\n' + document.getElementById('usage').innerText`))
	for _, want := range []string{"惠民政策（免申即享）", "高龄老人营养补贴（示例）", "年满80周岁的户籍老人按月发放营养补贴", "每月75元起", "可享受", "已为您办理，无需申请",
		"依据证照 居民身份证", "放弃", "免申即享 评估", "免申即享：高龄老人营养补贴（示例）", "符合条件"} {
		if !strings.Contains(text, want) {
			t.Errorf("/me (免申即享) does not show %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "暂无可享受的政策") {
		t.Error("/me shows the empty state beside an entitlement")
	}
	// The policy's public description opens in place.
	do(t, ctx, chromedp.Click(`#benefit-list summary`))
	waitJS(t, ctx, `document.querySelector('#benefit-list .policy-body').innerText.includes('依据：《上海市老年人权益保障条例》') && document.querySelector('#benefit-list .policy-body').innerText.includes('条件：')`, 20*time.Second)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('benefits').scrollIntoView({block: 'start'})`))
	noSeriousViolations(t, ctx, "/me (免申即享)")
	saveScreenshot(t, ctx, "me-benefits.png")
	if text := pageText(t, ctx); strings.Contains(text, elder) {
		t.Error("/me shows the elder's identity number")
	}

	// 放弃 asks for a second tap; the first changes nothing.
	do(t, ctx, chromedp.Click(`#benefit-list button`))
	waitJS(t, ctx, `document.querySelector('#benefit-list button').textContent === '确认放弃'`, 20*time.Second)
	if st := entitlementStatus(h, tok, policy); st != "offered" {
		t.Fatalf("after one tap on 放弃 the entitlement is %s", st)
	}
	noSeriousViolations(t, ctx, "/me (确认放弃)")
	do(t, ctx, chromedp.Click(`#benefit-list button`))
	waitJS(t, ctx, `document.querySelector('#benefit-list li .badge').textContent === '已放弃' && document.querySelectorAll('#benefit-list button').length === 0 && document.getElementById('benefit-list').innerText.includes('放弃于')`, 20*time.Second)
	if st := entitlementStatus(h, tok, policy); st != "declined" {
		t.Fatalf("the entitlement declined on the page is %s", st)
	}
	// The 长者专版 no longer lists it.
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=1"))
	waitJS(t, ctx, `document.body.classList.contains('elder') && document.getElementById('elder-benefits').dataset.loaded === '1'`, 20*time.Second)
	if shown := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById('elder-benefits').offsetParent !== null`)); shown {
		t.Error("the elder page still shows the declined benefit")
	}
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=0"))
	waitJS(t, ctx, `document.readyState === 'complete' && !document.body.classList.contains('elder')`, 20*time.Second)

	// Another elder whose card is revoked no longer qualifies: /me says
	// 已停止 and why, with nothing to decline; the 长者专版 shows nothing.
	cardID, moved := elderID(h, dept, "M00000000002", "1938-06-06", "310117", "")
	h.settle()
	h.must(200, h.do("POST", "/v1/certificates/"+url.PathEscape(cardID)+"/revoke", dept, map[string]any{"reason": "户籍迁出"}))
	h.settle()
	if st := entitlementStatus(h, personSession(h, moved), policy); st != "withdrawn" {
		t.Fatalf("the moved elder's entitlement: %s, want withdrawn", st)
	}
	do(t, ctx, chromedp.Navigate(h.browserLoginURLFor(gw, "王老", moved)))
	waitJS(t, ctx, `location.pathname === '/me' && document.querySelectorAll('#benefit-list li').length === 1`, 20*time.Second)
	withdrawn := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('benefit-list').innerText`))
	for _, want := range []string{"高龄老人营养补贴（示例）", "已停止", "您已不再符合条件"} {
		if !strings.Contains(withdrawn, want) {
			t.Errorf("/me (withdrawn) does not show %q:\n%s", want, withdrawn)
		}
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#benefit-list button').length`)); n != 0 {
		t.Errorf("a withdrawn entitlement offers %d buttons", n)
	}
	noSeriousViolations(t, ctx, "/me (已停止)")
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=1"))
	waitJS(t, ctx, `document.body.classList.contains('elder') && document.getElementById('elder-benefits').dataset.loaded === '1'`, 20*time.Second)
	if shown := run(t, ctx, chromedp.Evaluate[bool](`document.getElementById('elder-benefits').offsetParent !== null`)); shown {
		t.Error("the elder page shows a withdrawn benefit")
	}
	do(t, ctx, chromedp.Navigate(h.ts.URL+"/me?elder=0"))
	waitJS(t, ctx, `document.readyState === 'complete' && !document.body.classList.contains('elder')`, 20*time.Second)
}

// A login URL works once: opened a second time (in another browser) it signs
// nobody in.
func TestLoginURLOnceInBrowser(t *testing.T) {
	h := browserHarness(t, teststore.Backends()[0])
	_, gw := h.app("identity-gateway")
	u := h.browserLoginURL(gw)
	a := browsertest.Tab(t)
	do(t, a, chromedp.Navigate(u))
	waitJS(t, a, `!!document.getElementById('qr').dataset.code`, 20*time.Second)
	b := browsertest.Tab(t)
	do(t, b, chromedp.Navigate(u))
	waitJS(t, b, `document.getElementById('notice').textContent.includes('无效或已过期')`, 20*time.Second)
	if run(t, b, chromedp.Evaluate[bool](`!!document.getElementById('qr').dataset.code`)) {
		t.Fatal("a used login URL signed a second browser in")
	}
	noSeriousViolations(t, b, "/me (signed out)")
}

// A page of another origin that posts to the API with the holder's cookies
// (same site, other port: the browser sends SameSite=Strict cookies) is
// refused, and nothing changes.
func TestCrossSitePostRefusedInBrowser(t *testing.T) {
	h := browserHarness(t, teststore.Backends()[0])
	_, gw := h.app("identity-gateway")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>x</title><body><form id="f" method="post" action="%s/v1/me/codes/offline" enctype="text/plain"><input name="x" value="y"></form></body></html>`, h.ts.URL)
	}))
	defer evil.Close()
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.Navigate(h.browserLoginURL(gw)))
	waitJS(t, ctx, `!!document.getElementById('qr').dataset.code`, 20*time.Second)
	do(t, ctx, chromedp.Navigate(evil.URL))
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('f').submit()`))
	waitJS(t, ctx, `location.pathname === '/v1/me/codes/offline' && document.readyState === 'complete'`, 20*time.Second)
	body := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(body, `"status":403`) || !strings.Contains(body, "cross_site") {
		t.Fatalf("cross-site POST answered: %s", body)
	}
	// No offline code was issued.
	tok := h.holder(gw)
	oc := h.must(201, h.do("POST", "/v1/me/codes/offline", tok, nil))
	if g := oc["generation"]; g != float64(1) {
		t.Fatalf("after the refused cross-site POST the next offline code is generation %v, want 1", g)
	}
}

// An enterprise holder's page shows its enterprise code.
func TestEnterpriseHolderPage(t *testing.T) {
	h := browserHarness(t, teststore.Backends()[0])
	_, gw := h.app("identity-gateway")
	m := h.must(201, h.do("POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_number": uscc1}))
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.Navigate(strings.Replace(m["login_url"].(string), h.cfg.PublicURL, h.ts.URL, 1)))
	waitJS(t, ctx, `!!document.getElementById('qr').dataset.code && document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0`, 20*time.Second)
	title := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('code-title').textContent + ' ' + document.getElementById('kind').textContent`))
	if !strings.Contains(title, "企业码") || !strings.Contains(title, "企业") {
		t.Fatalf("enterprise page title %q", title)
	}
	if r := h.offline(t, screenQR(t, ctx)); r.Result != verifier.Valid || r.Kind != "enterprise" {
		t.Fatalf("the enterprise code on the screen: %+v", r)
	}
	if text := pageText(t, ctx); strings.Contains(text, uscc1) || strings.Contains(text, "上海某某科技有限公司") {
		t.Fatal("the enterprise page shows the full name or the USCC")
	}
	noSeriousViolations(t, ctx, "/me (enterprise)")
}

func ptrTrue() *bool { v := true; return &v }
