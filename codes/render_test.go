package codes

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// dataCodewordsM is the number of data codewords of QR versions 1–15 at
// level M (ISO/IEC 18004:2015 table 7; go-qrcode's table agrees).
var dataCodewordsM = []int{0, 16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627, 669}

// alnumVersionM is the smallest QR version holding n alphanumeric
// characters in one alphanumeric segment at level M: 4 mode bits, a 9-bit
// (versions 1–9) or 11-bit (10–26) count, 11 bits per pair and 6 for an odd
// last character.
func alnumVersionM(n int) int {
	for v := 1; v < len(dataCodewordsM); v++ {
		count := 9
		if v >= 10 {
			count = 11
		}
		if 4+count+n/2*11+n%2*6 <= dataCodewordsM[v]*8 {
			return v
		}
	}
	return 99
}

func TestAlphanumericCapacity(t *testing.T) {
	// The table figure: 178 characters fit 7-M, 179 do not; 154 fit 6-M.
	if alnumVersionM(QRAlphanumericCapacity7M) != 7 || alnumVersionM(QRAlphanumericCapacity7M+1) != 8 {
		t.Fatal("7-M alphanumeric capacity is not 178")
	}
	if alnumVersionM(154) != 6 || alnumVersionM(155) != 7 {
		t.Fatal("6-M alphanumeric capacity is not 154")
	}
	// go-qrcode agrees at the boundary.
	for n, want := range map[int]int{154: 6, 155: 7, 178: 7, 179: 8} {
		if v, err := QRVersion(strings.Repeat("A", n)); err != nil || v != want {
			t.Fatalf("QRVersion(%d chars) = %d, %v; want %d", n, v, err, want)
		}
	}
}

// qrRead is one gozxing reading of an image.
type qrRead struct {
	text, ec string
	err      error
}

func (r qrRead) is(text string) bool { return r.err == nil && r.text == text && r.ec == "M" }

// decodeQR reads a QR symbol from img with gozxing twice: as a camera app
// does (finder-pattern detection, then sampling), and as a pure symbol
// (PURE_BARCODE: the module grid read straight from the image). The pure
// reading proves the symbol's content; the detected one that a scanner can
// find it.
//
// gozxing's finder-pattern search is sometimes misled by a finder-like
// 1:1:3:1:1 run inside the data area of a perfectly sharp image at ≥ 4 px
// per module (it then samples a 33-module grid and fails Reed–Solomon);
// measured on 300 random personal codes: ~0.7 % of go-qrcode symbols and
// ~0.3 % of gozxing's own encoder's. Hence detection must succeed at one of
// the sizes tried, not all.
func decodeQR(t testing.TB, img image.Image) (detected, pure qrRead) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	read := func(hints map[gozxing.DecodeHintType]interface{}) qrRead {
		res, err := gzqr.NewQRCodeReader().Decode(bmp, hints)
		if err != nil {
			return qrRead{err: err}
		}
		ec, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
		return qrRead{text: res.GetText(), ec: ec}
	}
	return read(nil), read(map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
}

// TestSizes measures every kind: text length, QR version at M, and that
// go-qrcode used alphanumeric mode (its version equals the one a single
// alphanumeric segment needs). The personal code must fit version 7-M,
// in the sample, in the worst case and for random names and lifetimes.
func TestSizes(t *testing.T) {
	type row struct {
		name        string
		chars, v, n int
	}
	var rows []row
	measure := func(name, text string) int {
		t.Helper()
		if !IsQRAlphanumeric(text) {
			t.Fatalf("%s: text has non-alphanumeric characters", name)
		}
		v, err := QRVersion(text)
		if err != nil {
			t.Fatal(err)
		}
		if want := alnumVersionM(len(text)); v != want {
			t.Fatalf("%s: go-qrcode chose version %d, one alphanumeric segment needs %d", name, v, want)
		}
		rows = append(rows, row{name, len(text), v, 17 + 4*v + 2*QuietZone})
		return v
	}
	for _, g := range goldens(t) {
		measure(g.kind.String(), g.text)
	}
	s := testSigner(t, "sizes")
	worst := mustIssue(t, s, worstPersonal(t))
	if v := measure("personal (worst case)", worst); len(worst) > QRAlphanumericCapacity7M || v > 7 {
		t.Fatalf("worst-case personal code: %d characters, version %d; must fit 7-M", len(worst), v)
	}
	measure("presentation (largest)", mustIssue(t, s, maxPresentation(t)))
	measure("copy (largest)", mustIssue(t, s, maxCopy(t)))
	r := rand.New(rand.NewPCG(1, 2))
	names := []rune("张王李赵欧阳娜*·Ab")
	for i := range 300 {
		c := sampleClaims(t, Personal)
		c.Subject = make([]byte, 1+r.IntN(16))
		var nb strings.Builder
		for nb.Len() < 16 {
			nb.WriteRune(names[r.IntN(len(names))])
		}
		c.DisplayName = nb.String()
		for len(c.DisplayName) > 18 {
			c.DisplayName = c.DisplayName[:len(c.DisplayName)-1]
		}
		for !displayText(c.DisplayName) {
			c.DisplayName = c.DisplayName[:len(c.DisplayName)-1]
		}
		c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(Personal) * timeDuration(1+r.IntN(1000)) / 1000)
		text := mustIssue(t, s, c)
		v, err := QRVersion(text)
		if err != nil || v > 7 || len(text) > QRAlphanumericCapacity7M {
			t.Fatalf("random personal code %d: %d characters, version %d, %v", i, len(text), v, err)
		}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d×%d |\n", r.name, r.chars, r.v, r.n, r.n)
	}
	t.Logf("sizes (kind | characters | QR version at M | modules):\n%s", b.String())
	// docs/code-format.md must report the measured sizes.
	doc, err := os.ReadFile("../docs/code-format.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want := fmt.Sprintf("| %s | %d | %d |", r.name, r.chars, r.v)
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("docs/code-format.md lacks the size row %q", want)
		}
	}
}

func TestPNGDecodesEveryKind(t *testing.T) {
	for _, g := range goldens(t) {
		v, _ := QRVersion(g.text)
		n := 17 + 4*v + 2*QuietZone
		detected := 0
		for _, size := range []int{n * 2, n * 4, 300, 512} {
			b, err := PNG(g.text, size)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != max(size, n) || img.Bounds().Dy() != img.Bounds().Dx() {
				t.Fatalf("%s: image %v for size %d", g.kind, img.Bounds(), size)
			}
			if size%n == 0 {
				// Quiet zone: the outer 4 modules are all light.
				q := size / n * QuietZone
				for y := 0; y < size; y++ {
					for x := 0; x < size; x++ {
						inner := x >= q && x < size-q && y >= q && y < size-q
						if !inner && colorDark(img.At(x, y)) {
							t.Fatalf("%s: dark pixel in the quiet zone at %d,%d", g.kind, x, y)
						}
					}
				}
			}
			det, pure := decodeQR(t, img)
			if !pure.is(g.text) {
				t.Fatalf("%s at %d px: pure decode %q at level %q: %v", g.kind, size, pure.text, pure.ec, pure.err)
			}
			if det.is(g.text) {
				detected++
			} else if det.err == nil {
				t.Fatalf("%s at %d px: detected a different text %q", g.kind, size, det.text)
			} else {
				t.Logf("%s at %d px: gozxing finder detection failed (%v); pure decode fine", g.kind, size, det.err)
			}
			c := mustParse(t, pure.text)
			if _, err := c.Verify(goldenLookup(t)); err != nil {
				t.Fatal(err)
			}
		}
		if detected == 0 {
			t.Fatalf("%s: gozxing detected the symbol at no size", g.kind)
		}
	}
	// Tiny sizes give one pixel per module; huge sizes are refused.
	b, err := PNG(goldenText(t, Personal), 1)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := png.Decode(bytes.NewReader(b))
	if img.Bounds().Dx() != 49 {
		t.Fatalf("size 1 gave %v", img.Bounds())
	}
	if _, err := PNG(goldenText(t, Personal), MaxPNGSize+1); err == nil {
		t.Fatal("oversized PNG accepted")
	}
	if _, err := PNG("", 100); err == nil {
		t.Fatal("empty text rendered")
	}
}

func colorDark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

var runRE = regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// TestSVG: well-formed XML with a viewBox and crisp edges; its runs redraw
// exactly the QR bitmap (with quiet zone), and that drawing decodes.
func TestSVG(t *testing.T) {
	for _, g := range goldens(t) {
		b, err := SVG(g.text)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			XMLName xml.Name `xml:"svg"`
			ViewBox string   `xml:"viewBox,attr"`
			Crisp   string   `xml:"shape-rendering,attr"`
			Paths   []struct {
				Fill string `xml:"fill,attr"`
				D    string `xml:"d,attr"`
			} `xml:"path"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: SVG is not XML: %v", g.kind, err)
		}
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			if _, err := dec.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", g.kind, err)
				}
				break
			}
		}
		v, _ := QRVersion(g.text)
		n := 17 + 4*v + 2*QuietZone
		if doc.XMLName.Space != "http://www.w3.org/2000/svg" || doc.ViewBox != fmt.Sprintf("0 0 %d %d", n, n) || doc.Crisp != "crispEdges" {
			t.Fatalf("%s: svg %+v", g.kind, doc.XMLName)
		}
		if len(doc.Paths) != 2 || doc.Paths[0].Fill != "#fff" || doc.Paths[1].Fill != "#000" {
			t.Fatalf("%s: paths %+v", g.kind, doc.Paths)
		}
		// Redraw the runs at 3 px per module and decode.
		const px = 3
		img := image.NewGray(image.Rect(0, 0, n*px, n*px))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		grid := make([][]bool, n)
		for i := range grid {
			grid[i] = make([]bool, n)
		}
		d := doc.Paths[1].D
		for d != "" {
			m := runRE.FindStringSubmatch(d)
			if m == nil {
				t.Fatalf("%s: unexpected path data at %.20q", g.kind, d)
			}
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			if m[3] != m[4] || x+w > n || y >= n {
				t.Fatalf("%s: bad run %q", g.kind, m[0])
			}
			for i := x; i < x+w; i++ {
				if grid[y][i] {
					t.Fatalf("%s: overlapping runs", g.kind)
				}
				grid[y][i] = true
				for dy := range px {
					for dx := range px {
						img.Pix[(y*px+dy)*img.Stride+i*px+dx] = 0
					}
				}
			}
			d = d[len(m[0]):]
		}
		q, _ := newQR(g.text)
		bm := q.Bitmap()
		for y := range n {
			for x := range n {
				if grid[y][x] != bm[y][x] {
					t.Fatalf("%s: SVG module %d,%d differs from the bitmap", g.kind, x, y)
				}
				if (x < QuietZone || y < QuietZone || x >= n-QuietZone || y >= n-QuietZone) && grid[y][x] {
					t.Fatalf("%s: dark module in the quiet zone", g.kind)
				}
			}
		}
		if det, pure := decodeQR(t, img); !pure.is(g.text) || !det.is(g.text) {
			t.Fatalf("%s: SVG drawing decoded to %+v / %+v", g.kind, det, pure)
		}
		t.Logf("%s: SVG %d bytes", g.kind, len(b))
	}
	if _, err := SVG(""); err == nil {
		t.Fatal("empty text rendered")
	}
}
