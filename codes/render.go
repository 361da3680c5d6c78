package codes

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"sync"

	qrcode "github.com/skip2/go-qrcode"
)

// Rendering. Every symbol is error-correction level M (go-qrcode's
// qrcode.Medium; its "High" is level Q) with the standard 4-module quiet
// zone. go-qrcode picks the smallest version and splits the text into
// numeric / alphanumeric / byte segments by character class; a code text
// uses only QR alphanumeric characters (Base45 and the "SS1:" prefix), so it
// is never encoded in byte mode.

// QuietZone is the light border, in modules, around every rendered symbol.
const QuietZone = 4

// MaxPNGSize is the largest PNG width/height PNG accepts, in pixels.
const MaxPNGSize = 4096

func newQR(text string) (*qrcode.QRCode, error) {
	if text == "" {
		return nil, errors.New("codes: nothing to render")
	}
	if len(text) > 2*MaxTextLen {
		return nil, errors.New("codes: text too long to render")
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	q.DisableBorder = false
	return q, nil
}

// QRVersion returns the QR version (1–40) that PNG and SVG use for text at
// level M.
func QRVersion(text string) (int, error) {
	q, err := newQR(text)
	if err != nil {
		return 0, err
	}
	return q.VersionNumber, nil
}

// IsQRAlphanumeric reports whether every character of s is in the QR
// alphanumeric set 0-9 A-Z space $ % * + - . / : — true of every code text.
func IsQRAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if base45Value[s[i]] == 0xff {
			return false
		}
	}
	return true
}

// PNG renders text as a black-on-white QR symbol (level M, 4-module quiet
// zone) in a size×size PNG. Each module is the same whole number of pixels
// (⌊size / modules⌋); left-over pixels widen the quiet zone evenly. A size
// smaller than the symbol's module count (including the quiet zone) yields
// one pixel per module instead; a size above MaxPNGSize is an error.
func PNG(text string, size int) ([]byte, error) {
	if size > MaxPNGSize {
		return nil, errors.New("codes: PNG size above " + strconv.Itoa(MaxPNGSize))
	}
	q, err := newQR(text)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	n := len(bm)
	scale := max(size/n, 1)
	side := max(size, n*scale)
	off := (side - n*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y, row := range bm {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range scale {
				p := img.PixOffset(off+x*scale, off+y*scale+dy)
				for dx := range scale {
					img.Pix[p+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pngEncoder reuses its compressor between images: a fresh flate writer
// costs more than encoding a QR image.
var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngPool{}}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}
func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// SVG renders text as a QR symbol (level M, 4-module quiet zone) in a
// compact SVG: a white background and one <path> whose subpaths are the
// horizontal runs of dark modules, one user unit per module, with
// viewBox="0 0 N N" (N = modules including the quiet zone) and
// shape-rendering="crispEdges". It scales to any size without blurring.
func SVG(text string) ([]byte, error) {
	q, err := newQR(text)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	n := strconv.Itoa(len(bm))
	b := make([]byte, 0, 4096)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `...)
	b = append(b, n...)
	b = append(b, ' ')
	b = append(b, n...)
	b = append(b, `" shape-rendering="crispEdges"><path fill="#fff" d="M0 0h`...)
	b = append(b, n...)
	b = append(b, 'v')
	b = append(b, n...)
	b = append(b, `H0z"/><path fill="#000" d="`...)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			w := 1
			for x+w < len(row) && row[x+w] {
				w++
			}
			// M x y h w v1 h -w z : a w×1 rectangle.
			b = append(b, 'M')
			b = strconv.AppendInt(b, int64(x), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y), 10)
			b = append(b, 'h')
			b = strconv.AppendInt(b, int64(w), 10)
			b = append(b, "v1h-"...)
			b = strconv.AppendInt(b, int64(w), 10)
			b = append(b, 'z')
			x += w
		}
	}
	b = append(b, `"/></svg>`...)
	return b, nil
}
