package api

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/suishen/suishen/internal/browsertest"
	"github.com/suishen/suishen/store/teststore"
)

// TestDocsPage opens /docs in Chromium: Redoc (vendored) renders
// /openapi.json under the page's strict CSP with nothing blocked, and a
// person finds an operation with its description and a problem response.
func TestDocsPage(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(h.ts.URL+"/docs"))
	waitJS(t, ctx, `window.__suishenDocs && window.__suishenDocs.done && document.body.innerText.includes("Issue an electronic certificate")`, 60*time.Second)
	if e := run(t, ctx, chromedp.Evaluate[string](`window.__suishenDocs.error || ""`)); e != "" {
		t.Fatalf("Redoc: %s", e)
	}
	// Redoc's footer links its logo from its CDN: the CSP blocks it (no
	// request leaves), which is the one violation expected.
	for _, v := range run(t, ctx, chromedp.Evaluate[[]string](`window.__suishenDocs.violations`)) {
		if v != "img-src https://cdn.redoc.ly/redoc/logo-mini.svg" {
			t.Errorf("CSP violation: %s", v)
		}
	}
	text := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	for _, want := range []string{"Suishen API", "Idempotency-Key", "validation_failed", "证照标识"} {
		if !strings.Contains(text, want) {
			t.Errorf("/docs does not show %q", want)
		}
	}
	saveScreenshot(t, ctx, "docs.png")
}
