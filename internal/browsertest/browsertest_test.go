package browsertest

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) { Main(m) }

const goodPage = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>好</title>
<meta name="viewport" content="width=device-width"></head><body><main><h1>你好</h1><p>正文</p></main></body></html>`

// #767676 on white is 4.54:1.
const greyPage = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>灰</title>
<style>p { color: #767676; background: #fff; }</style></head><body><main><h1>灰</h1><p>浅灰色的正文</p></main></body></html>`

// An image without a text alternative is a critical axe violation (image-alt).
const badPage = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>坏</title></head>
<body><main><h1>坏</h1><img src="/x.png"></main></body></html>`

func TestAxeFindsViolationsAndPassesCleanPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page's CSP forbids every script: axe must still run.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'none'")
		if r.URL.Path == "/grey" {
			_, _ = w.Write([]byte(greyPage))
			return
		}
		if r.URL.Path == "/bad" {
			_, _ = w.Write([]byte(badPage))
			return
		}
		_, _ = w.Write([]byte(goodPage))
	}))
	defer srv.Close()
	ctx := Tab(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	vs, err := Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vs {
		found = found || v.ID == "image-alt"
	}
	if !found {
		t.Fatalf("axe did not report the image without alt text: %v", vs)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	vs, err = Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Fatalf("clean page: %v", vs)
	}

	// Grey on white passes AA (4.5:1) but not AAA (7:1): the enhanced rule,
	// when enabled, finds it.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/grey")); err != nil {
		t.Fatal(err)
	}
	if vs, err := Axe(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("grey text, default rules: %v %v", vs, err)
	}
	vs, err = Axe(ctx, "color-contrast-enhanced")
	if err != nil || len(vs) != 1 || vs[0].ID != "color-contrast-enhanced" {
		t.Fatalf("grey text, AAA contrast: %v %v", vs, err)
	}

	c, err := MinContrast(ctx)
	if err != nil || c.Ratio > 4.6 || c.Ratio < 4.5 || !strings.Contains(c.Where, "浅灰色") {
		t.Fatalf("lowest contrast on the grey page: %+v %v", c, err)
	}

	shot, err := Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// A phone at device scale 2.
	if b := img.Bounds(); b.Dx() != 2*PhoneWidth || b.Dy() != 2*PhoneHeight {
		t.Fatalf("screenshot is %v, want %dx%d", b, 2*PhoneWidth, 2*PhoneHeight)
	}
}

func TestTabsDoNotShareCookies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "c", Value: "1", Path: "/"})
		}
		w.Header().Set("Content-Type", "text/plain")
		c, _ := r.Cookie("c")
		if c != nil {
			_, _ = w.Write([]byte("cookie"))
		} else {
			_, _ = w.Write([]byte("none"))
		}
	}))
	defer srv.Close()
	a := Tab(t)
	if err := chromedp.Do(a, chromedp.Navigate(srv.URL+"/set"), chromedp.Navigate(srv.URL+"/get")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(a, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(got, "cookie") {
		t.Fatalf("first tab: %q %v", got, err)
	}
	b := Tab(t)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/get")); err != nil {
		t.Fatal(err)
	}
	got, err = chromedp.Run(b, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(got, "none") {
		t.Fatalf("second tab saw the first tab's cookie: %q %v", got, err)
	}
}
