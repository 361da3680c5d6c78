package api

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/verifier"
)

// BenchmarkScanVerify compares verifying a personal code in the /scan page
// (package verifier as WebAssembly in Chromium) with the same verification
// in native Go, in one run:
//
//	go test ./api -run '^$' -bench ScanVerify -count 3
func BenchmarkScanVerify(b *testing.B) {
	h := newHarness(b, teststore.SQLite(b))
	_, base := scanHarness(b, h)
	_, gw := h.app("identity-gateway")
	code := h.must(200, h.do("POST", "/v1/me/codes/personal", h.holder(gw), nil))["code"].(string)
	bundle := string(h.do("GET", "/v1/trust", "", nil).Body)
	anchor, err := h.srv.deps.Keys.Signer(context.Background(), store.RoleAnchor, "")
	if err != nil {
		b.Fatal(err)
	}

	b.Run("native", func(b *testing.B) {
		v, err := verifier.New(bundle, anchor.Public(), verifier.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			if r := v.VerifyCode(code); r.Result != verifier.Valid {
				b.Fatal(r)
			}
		}
	})

	b.Run("wasm", func(b *testing.B) {
		cam := filepath.Join(b.TempDir(), "camera.y4m")
		writeY4M(b, cam, code)
		ctx := scanBrowser(b, cam)
		step(b, ctx, "open /scan", chromedp.Navigate(base+"/scan"))
		waitFor(b, ctx, "the verifier", `document.body.dataset.ready === "1"`)
		js := fmt.Sprintf(`(() => { let ok = 0; for (let i = 0; i < %d; i++) {
			if (JSON.parse(suishenVerifier.verify(%q, "")).result === "valid") ok++; } return ok; })()`, b.N, code)
		b.ResetTimer()
		ok := eval[int](b, ctx, js)
		b.StopTimer()
		if ok != b.N {
			b.Fatalf("%d of %d valid", ok, b.N)
		}
	})
}
