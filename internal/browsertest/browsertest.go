// Package browsertest drives a headless Chromium (Debian's `chromium`) from
// go test through chromedp: one browser per test binary, an isolated browser
// context (own cookies and storage) per test, a phone-sized viewport, the
// vendored axe-core accessibility checker, and screenshots.
//
// A package that uses it starts the browser from TestMain:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// and each browser test asks for a tab:
//
//	ctx := browsertest.Tab(t)
//	chromedp.Do(ctx, chromedp.Navigate(url))
//
// When no Chromium is installed a browser test is skipped with a loud
// message, except under CI (CI or SUISHEN_REQUIRE_POSTGRES set), where it
// fails: CI must never pass because the browser was missing.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Phone is the viewport pages are tested and photographed at (CSS pixels).
const (
	PhoneWidth  = 390
	PhoneHeight = 844
)

// SkipMessage starts the message of a skipped browser test; CI greps for it.
const SkipMessage = "SKIPPING browser test"

var (
	mu        sync.Mutex
	extra     []chromedp.ExecAllocatorOption
	started   bool
	startErr  error
	allocStop context.CancelFunc
	browser   context.Context
	stop      context.CancelFunc
)

// Required reports whether a missing browser must fail the tests (CI).
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("SUISHEN_REQUIRE_POSTGRES") != ""
}

// ChromiumPath finds the browser: $SUISHEN_CHROMIUM, then chromium,
// chromium-browser, google-chrome-stable, google-chrome on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("SUISHEN_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium, or set SUISHEN_CHROMIUM)")
}

// AllocatorOptions are the flags the shared browser starts with: chromedp's
// headless defaults, no sandbox when running as root (containers, CI), no GPU,
// Chinese as the UI language, a phone-sized window, and extra at the end.
func AllocatorOptions(path string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts,
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.WindowSize(PhoneWidth, PhoneHeight),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return append(opts, extra...)
}

// Main runs the tests of a package and closes the shared browser afterwards.
// flags are added to the browser's command line (e.g. a fake camera).
func Main(m *testing.M, flags ...chromedp.ExecAllocatorOption) {
	mu.Lock()
	extra = flags
	mu.Unlock()
	code := m.Run()
	Close()
	os.Exit(code)
}

// Close stops the shared browser, if it was started.
func Close() {
	mu.Lock()
	defer mu.Unlock()
	if stop != nil {
		stop()
	}
	if allocStop != nil {
		allocStop()
	}
	stop, allocStop, browser, started = nil, nil, nil, false
}

// start launches the shared browser once.
func start() (context.Context, error) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return browser, startErr
	}
	started = true
	path, err := ChromiumPath()
	if err != nil {
		startErr = err
		return nil, err
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), AllocatorOptions(path, extra...)...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser, no timeout
		bcancel()
		acancel()
		startErr = fmt.Errorf("start %s: %w", path, err)
		return nil, startErr
	}
	browser, stop, allocStop = bctx, bcancel, acancel
	return browser, nil
}

// Available starts the shared browser and reports whether it runs; a test
// that cannot do without it calls Tab instead.
func Available() error {
	_, err := start()
	return err
}

// Tab opens a tab in a fresh browser context (its own cookies, storage and
// cache) sized like a phone (390×844 CSS pixels, device scale 2, mobile,
// touch) and closes it when the test ends. Without a browser it skips the
// test, or fails it when Required.
func Tab(t testing.TB) context.Context {
	t.Helper()
	b, err := start()
	if err != nil {
		if Required() {
			t.Fatalf("browser tests are required here (CI) but the browser cannot run: %v", err)
		}
		t.Skipf("%s: %v", SkipMessage, err)
	}
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, Phone()); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// Phone sets the tab's viewport to a 390×844 phone at device scale 2.
func Phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
}

// Timeout derives a context that bounds one step of a test without stopping
// the tab when it ends.
func Timeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

//go:embed vendor/axe-core/axe.min.js
var axeSource string

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID          string   `json:"id"`
	Impact      string   `json:"impact"`
	Help        string   `json:"help"`
	HelpURL     string   `json:"helpUrl"`
	Targets     []string `json:"targets"`
	FailSummary string   `json:"failureSummary"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s at %v: %s", v.ID, v.Impact, v.Help, v.Targets, v.FailSummary)
}

// Axe runs the vendored axe-core on the page loaded in ctx (its default
// rules: WCAG 2.0/2.1/2.2 A and AA plus best practices, and the rules named
// in enable, e.g. "color-contrast-enhanced" for WCAG AAA 7:1 contrast) and
// returns the serious and critical violations. It injects the script through
// the DevTools protocol, which the page's Content-Security-Policy does not
// govern, so pages need not allow it.
func Axe(ctx context.Context, enable ...string) ([]Violation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource+"\n;void 0")); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	rules := map[string]map[string]bool{}
	for _, r := range enable {
		rules[r] = map[string]bool{"enabled": true}
	}
	opts, err := json.Marshal(map[string]any{"resultTypes": []string{"violations"}, "rules": rules})
	if err != nil {
		return nil, err
	}
	run := `axe.run(document, ` + string(opts) + `).then(r => JSON.stringify(
	  r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
	    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
	    targets: v.nodes.map(n => n.target.join(' ')),
	    failureSummary: v.nodes.map(n => n.failureSummary).join(' | ')}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe-core result: %w", err)
	}
	return vs, nil
}

// Screenshot returns a PNG of the viewport as the user sees it.
func Screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, chromedp.CaptureScreenshot())
}

// SaveScreenshot writes a PNG of the viewport to path, creating its folder.
func SaveScreenshot(ctx context.Context, path string) error {
	png, err := Screenshot(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// Contrast is the lowest text contrast on a page and where it is.
type Contrast struct {
	Ratio float64 `json:"ratio"`
	Where string  `json:"where"` // the element's tag, id and text
	Color string  `json:"color"`
	Back  string  `json:"back"`
}

// MinContrast computes the WCAG contrast ratio of every visible element that
// holds text (its color against the first opaque background behind it) and
// returns the lowest. Unlike axe-core's AAA rule it holds large text to the
// same ratio, for pages that promise, say, 7:1 throughout.
func MinContrast(ctx context.Context) (Contrast, error) {
	const js = `(() => {
	  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return [255,255,255,1];
	    const p = m[1].split(',').map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
	  const lum = ([r,g,b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
	    return 0.2126*f(r) + 0.7152*f(g) + 0.0722*f(b); };
	  const back = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
	    if (c[3] >= 1) return c; } return [255,255,255,1]; };
	  let worst = {ratio: 21, where: '', color: '', back: ''};
	  for (const el of document.querySelectorAll('body *')) {
	    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
	    if (!text || el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
	    const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) continue;
	    const fg = parse(getComputedStyle(el).color), bg = back(el);
	    const a = lum(fg), b = lum(bg), ratio = (Math.max(a,b)+0.05)/(Math.min(a,b)+0.05);
	    if (ratio < worst.ratio) worst = {ratio, where: el.tagName.toLowerCase() + (el.id ? '#'+el.id : '') + ' ' + text.slice(0, 20),
	      color: getComputedStyle(el).color, back: 'rgb(' + bg.slice(0,3).join(',') + ')'};
	  }
	  return worst;
	})()`
	return chromedp.Run(ctx, chromedp.Evaluate[Contrast](js))
}
