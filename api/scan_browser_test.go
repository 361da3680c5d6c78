package api

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/internal/browsertest"
)

// --- a camera for Chromium: a Y4M video of a code's QR image ---

// writeY4M writes a two-frame 640×480 4:2:0 Y4M video (YUV4MPEG2, the format
// Chromium's --use-file-for-fake-video-capture reads and loops) showing the
// QR code of text, black on white, centred: what a phone camera would see
// held over a printed or displayed code.
func writeY4M(t testing.TB, path, text string) {
	t.Helper()
	const w, h = 640, 480
	pngBytes, err := codes.PNG(text, 400)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	luma := bytes.Repeat([]byte{235}, w*h) // white in studio-range luma
	b := img.Bounds()
	ox, oy := (w-b.Dx())/2, (h-b.Dy())/2
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			l := (299*r + 587*g + 114*bb) / 1000 >> 8 // 0..255
			luma[(oy+y-b.Min.Y)*w+ox+x-b.Min.X] = byte(16 + l*219/255)
		}
	}
	chroma := bytes.Repeat([]byte{128}, w*h/2) // U and V planes, grey
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for range 2 {
		buf.WriteString("FRAME\n")
		buf.Write(luma)
		buf.Write(chroma)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = image.Rect // image is decoded above
}

// --- a network that can be cut ---

// cuttable serves h until cut, then drops every connection without an
// answer, as a dead network would; dropBatch makes the next batch upload
// reach the server and lose its answer on the way back.
type cuttable struct {
	h         http.Handler
	down      atomic.Bool
	dropBatch atomic.Bool
	mu        sync.Mutex
	seen      []string // requests that reached the server while down (none may)
	batches   atomic.Int32
}

func (c *cuttable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.down.Load() {
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/venue/scans/batch" {
		c.batches.Add(1)
		if c.dropBatch.CompareAndSwap(true, false) {
			c.h.ServeHTTP(httptest.NewRecorder(), r) // recorded by the server…
			panic(http.ErrAbortHandler)              // …but the answer is lost
		}
	}
	c.h.ServeHTTP(w, r)
}

// --- the browser ---

// scanBrowser starts a headless Chromium of its own (browsertest's flags)
// whose camera shows the Y4M video at camera — the fake camera is fixed when
// the browser starts — and returns a phone-sized tab.
func scanBrowser(t testing.TB, camera string) context.Context {
	t.Helper()
	path, err := browsertest.ChromiumPath()
	if err != nil {
		if browsertest.Required() {
			t.Fatalf("browser tests are required here (CI) but the browser cannot run: %v", err)
		}
		t.Skipf("%s: %v", browsertest.SkipMessage, err)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), browsertest.AllocatorOptions(path,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", camera),
	)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx, browsertest.Phone()); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline that does not stop the browser.
func step(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition in the page.
func waitFor(t testing.TB, ctx context.Context, what, cond string) {
	t.Helper()
	step(t, ctx, "wait for "+what, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))(ctx, tg)
		return err
	}))
}

// offline emulates a lost network in the browser (the page and its service
// worker) and cuts the server off; online restores both.
func offline(t *testing.T, ctx context.Context, c *cuttable, off bool) {
	t.Helper()
	c.down.Store(off)
	step(t, ctx, fmt.Sprintf("network offline=%v", off), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		yes := true
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &yes,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// scanHarness is a server on real time (the browser's clock is the real
// one) behind a cuttable network.
func scanHarness(t testing.TB, h *harness) (*cuttable, string) {
	t.Helper()
	h.clock.mu.Lock()
	h.clock.t = time.Now()
	h.clock.mu.Unlock()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // follow the real clock
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				h.clock.mu.Lock()
				h.clock.t = now
				h.clock.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	h.srv.deps.Codes.CodeTTL = 10 * time.Minute // a personal code outlives the test
	c := &cuttable{h: h.srv.Handler()}
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	return c, ts.URL
}

func resultOf(t *testing.T, ctx context.Context) (result, subject, kind, reasons string) {
	t.Helper()
	m := eval[map[string]string](t, ctx, `({result: document.getElementById("result").dataset.result || "",
		subject: document.getElementById("subject").textContent, kind: document.getElementById("kind").textContent,
		reasons: [...document.querySelectorAll("#reasons li")].map(li => li.dataset.code + ":" + li.textContent).join("|")})`)
	return m["result"], m["subject"], m["kind"], m["reasons"]
}

// TestScanCameraOffline: the scanner fed by Chromium's fake camera shows a
// valid personal code as valid and a revoked (superseded) offline code as
// invalid — with the network cut after the page loaded, and again after a
// reload with no network at all (the service worker serves the page, the
// verifier and the trust bundle).
func TestScanCameraOffline(t *testing.T) {
	forEachBackendSerial(t, func(t *testing.T, h *harness) {
		c, base := scanHarness(t, h)
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		personal := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)
		old := h.must(201, h.do("POST", "/v1/me/codes/offline", hol, nil))["code"].(string)
		h.must(201, h.do("POST", "/v1/me/codes/offline", hol, nil)) // prints a new one: the old is revoked

		cam := filepath.Join(t.TempDir(), "camera.y4m")
		writeY4M(t, cam, personal)
		ctx := scanBrowser(t, cam)
		step(t, ctx, "open /scan", chromedp.Navigate(base+"/scan"))
		waitFor(t, ctx, "the verifier and the trust bundle", `document.body.dataset.ready === "1"`)
		waitFor(t, ctx, "the service worker", `navigator.serviceWorker.controller !== null`)
		noSeriousViolations(t, ctx, "/scan")

		offline(t, ctx, c, true)
		step(t, ctx, "start the camera", chromedp.Click("#camera-start"))
		waitFor(t, ctx, "a result", `document.getElementById("result").dataset.result`)
		if r, subject, kind, reasons := resultOf(t, ctx); r != "valid" || subject != "张*" || kind != "个人随申码" {
			t.Fatalf("personal code offline: %q %q %q %q", r, subject, kind, reasons)
		}
		screenshot(t, ctx, "scan-valid")
		noSeriousViolations(t, ctx, "/scan showing a valid result")

		noIdentity(t, ctx, "/scan")

		// A forged code — one character changed — is invalid, in words.
		forged := []byte(personal)
		if forged[20] == 'A' {
			forged[20] = 'B'
		} else {
			forged[20] = 'A'
		}
		step(t, ctx, "type a forged code", chromedp.SendKeys("#code-input", string(forged)), chromedp.Click(`#manual-form button`))
		waitFor(t, ctx, "invalid", `document.getElementById("result").dataset.result === "invalid"`)
		if r, subject, _, reasons := resultOf(t, ctx); r != "invalid" || subject != "" || !strings.Contains(reasons, ":签名不正确") && !strings.Contains(reasons, "malformed:") {
			t.Fatalf("forged code: %q %q %q", r, subject, reasons)
		}
		eval[any](t, ctx, `document.getElementById("code-input").value = ""`)

		// Typed in, still offline: the revoked offline code is invalid, with the reason in words.
		step(t, ctx, "type the old offline code", chromedp.SendKeys("#code-input", old), chromedp.Click(`#manual-form button`))
		waitFor(t, ctx, "invalid", `document.getElementById("result").dataset.result === "invalid"`)
		if r, _, kind, reasons := resultOf(t, ctx); r != "invalid" || kind != "离线码" || !strings.Contains(reasons, "revoked:已吊销") {
			t.Fatalf("revoked offline code typed in: %q %q %q", r, kind, reasons)
		}

		// A reload with no network: everything comes from the service worker.
		step(t, ctx, "reload offline", chromedp.Reload())
		waitFor(t, ctx, "the page from the service worker", `document.body.dataset.ready === "1"`)
		if s := eval[string](t, ctx, `document.getElementById("trust-status").textContent`); !strings.Contains(s, "离线") {
			t.Errorf("trust status offline: %q", s)
		}
		step(t, ctx, "start the camera", chromedp.Click("#camera-start"))
		waitFor(t, ctx, "valid after an offline reload", `document.getElementById("result").dataset.result === "valid"`)
		// The revoked offline code needs its status list: kept by the service worker too.
		step(t, ctx, "type the old offline code after the reload", chromedp.SendKeys("#code-input", old), chromedp.Click(`#manual-form button`))
		waitFor(t, ctx, "invalid after an offline reload", `document.getElementById("result").dataset.result === "invalid"`)
		if r, _, _, reasons := resultOf(t, ctx); r != "invalid" || !strings.Contains(reasons, "revoked:") {
			t.Fatalf("revoked offline code after an offline reload: %q %q", r, reasons)
		}

		c.mu.Lock()
		t.Logf("requests refused while offline: %v", c.seen)
		c.mu.Unlock()

		// The camera shows the revoked offline code: invalid, still offline.
		cam2 := filepath.Join(t.TempDir(), "camera.y4m")
		writeY4M(t, cam2, old)
		ctx2 := scanBrowser(t, cam2)
		c.down.Store(false)
		step(t, ctx2, "open /scan", chromedp.Navigate(base+"/scan"))
		waitFor(t, ctx2, "the verifier and the trust bundle", `document.body.dataset.ready === "1"`)
		offline(t, ctx2, c, true)
		step(t, ctx2, "start the camera", chromedp.Click("#camera-start"))
		waitFor(t, ctx2, "a result", `document.getElementById("result").dataset.result`)
		if r, subject, kind, reasons := resultOf(t, ctx2); r != "invalid" || subject != "张*" || kind != "离线码" || !strings.Contains(reasons, "revoked:") {
			t.Fatalf("revoked offline code on camera: %q %q %q %q", r, subject, kind, reasons)
		}
		screenshot(t, ctx2, "scan-invalid")
		noSeriousViolations(t, ctx2, "/scan showing an invalid result")
	})
}

// screenshot saves what the phone shows, from the top (saveScreenshot: to
// docs/screenshots with SUISHEN_UPDATE_SCREENSHOTS=1).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Evaluate[any](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, sctx, name+".png")
}

// TestScanVenueQueue: a venue signs in on /scan with its API key; scans made
// while the network is down are queued on the device and reach the server
// once it returns — exactly once, even when the first upload's answer is
// lost and the page sends the same scans again.
func TestScanVenueQueue(t *testing.T) {
	forEachBackendSerial(t, func(t *testing.T, h *harness) {
		c, base := scanHarness(t, h)
		_, gw := h.app("identity-gateway")
		hol := h.holder(gw)
		_, ven := h.venue()
		personal := h.must(200, h.do("POST", "/v1/me/codes/personal", hol, nil))["code"].(string)

		cam := filepath.Join(t.TempDir(), "camera.y4m")
		writeY4M(t, cam, personal)
		ctx := scanBrowser(t, cam)
		step(t, ctx, "open /scan", chromedp.Navigate(base+"/scan"))
		waitFor(t, ctx, "the verifier and the trust bundle", `document.body.dataset.ready === "1"`)
		// Printed after the page loaded: its status list is not in the page's bundle.
		printed := h.must(201, h.do("POST", "/v1/me/codes/offline", hol, nil))["code"].(string)

		// A wrong key is refused, and nothing is stored.
		step(t, ctx, "sign in with a wrong key", chromedp.SendKeys("#venue-key", "ssk_ven_AAAAAAAAAAAAAAAA."+strings.Repeat("x", 43)), chromedp.Click("#venue-login button"))
		waitFor(t, ctx, "the refusal", `document.getElementById("venue-error").textContent !== ""`)
		if s := eval[string](t, ctx, `document.getElementById("venue-error").textContent + "|" + (localStorage.getItem("suishen.scan.venue") || "")`); s != "密钥不正确或已失效|" {
			t.Fatalf("wrong key: %q", s)
		}
		eval[any](t, ctx, `document.getElementById("venue-key").value = ""`)
		step(t, ctx, "sign in", chromedp.SendKeys("#venue-key", ven), chromedp.Click("#venue-login button"))
		waitFor(t, ctx, "signed in", `!document.getElementById("venue-info").hidden`)
		if name := eval[string](t, ctx, `document.getElementById("venue-name").textContent`); name != "徐汇区图书馆" {
			t.Fatalf("venue name: %q", name)
		}

		offline(t, ctx, c, true)
		step(t, ctx, "start the camera", chromedp.Click("#camera-start"))
		waitFor(t, ctx, "valid", `document.getElementById("result").dataset.result === "valid"`)
		waitFor(t, ctx, "one queued scan", `document.getElementById("queue-count").textContent === "1"`)
		time.Sleep(2 * time.Second) // the code stays in front of the camera: still one scan
		step(t, ctx, "type the offline code", chromedp.SendKeys("#code-input", printed), chromedp.Click(`#manual-form button`))
		waitFor(t, ctx, "two queued scans", `document.getElementById("queue-count").textContent === "2"`)
		// Offline, the page cannot know whether the new code was revoked: unknown, in words — and
		// queued, for the server to judge.
		if r, _, kind, reasons := resultOf(t, ctx); r != "unknown" || kind != "离线码" || !strings.Contains(reasons, "status_list_missing:缺少状态数据") {
			t.Fatalf("offline code newer than the page's bundle, offline: %q %q %q", r, kind, reasons)
		}
		waitFor(t, ctx, "the offline note", `document.getElementById("upload-status").textContent.includes("离线")`)
		screenshot(t, ctx, "scan-venue-offline")
		noSeriousViolations(t, ctx, "/scan signed in as a venue")
		if got := h.must(200, h.do("GET", "/v1/venue/checkins", ven, nil))["items"].([]any); len(got) != 0 {
			t.Fatalf("scans reached the server while offline: %v", got)
		}

		c.dropBatch.Store(true) // the first upload is recorded but its answer is lost
		offline(t, ctx, c, false)
		waitFor(t, ctx, "the queue to empty", `document.getElementById("queue-count").textContent === "0"`)
		if n := c.batches.Load(); n < 2 {
			t.Fatalf("%d batch uploads; the lost answer must have caused a second", n)
		}
		items := h.must(200, h.do("GET", "/v1/venue/checkins", ven, nil))["items"].([]any)
		ids := map[string]bool{}
		kinds := map[string]int{}
		for _, it := range items {
			m := it.(map[string]any)
			ids[m["client_id"].(string)] = true
			kinds[m["code_kind"].(string)]++
			if m["source"] != "venue_upload" || m["masked_name"] != "张*" {
				t.Errorf("check-in: %v", m)
			}
		}
		if len(items) != 2 || len(ids) != 2 || kinds["personal"] != 1 || kinds["offline"] != 1 {
			t.Fatalf("want exactly the two scans, once each: %v", items)
		}
		if q := eval[string](t, ctx, `Object.keys(localStorage).filter(k => k.startsWith("suishen.scan.queue.")).join(",")`); q != "" {
			t.Fatalf("queue left on the device: %s", q)
		}
		// Nothing is uploaded again later.
		n := c.batches.Load()
		time.Sleep(6 * time.Second)
		if c.batches.Load() != n {
			t.Fatalf("uploads went on after the queue emptied")
		}

		// Signed out and online, the same code: the page fetches the newer bundle and its list.
		step(t, ctx, "sign out", chromedp.Click("#venue-logout"))
		eval[any](t, ctx, `document.getElementById("code-input").value = ""`)
		step(t, ctx, "type the offline code again", chromedp.SendKeys("#code-input", printed), chromedp.Click(`#manual-form button`))
		waitFor(t, ctx, "valid with the fresh bundle", `document.getElementById("result").dataset.result === "valid"`)
		if s := eval[string](t, ctx, `localStorage.getItem("suishen.scan.venue") || ""`); s != "" {
			t.Fatalf("the venue key stayed after signing out")
		}
	})
}
