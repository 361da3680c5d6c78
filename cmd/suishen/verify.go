package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // phone photos of printed codes
	_ "image/png"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/spf13/cobra"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

// Exit statuses of `suishen verify` (product contract).
const (
	exitValid   = 0
	exitInvalid = 1
	exitUsage   = 2
	exitUnknown = 3
)

// Input bounds for verify: a code text is at most codes.MaxTextLen
// characters, a certificate JWS at most signing.MaxJWSSize bytes; image
// files are bounded in bytes and pixels before they are decoded.
const (
	maxImageFile   = 32 << 20
	maxImagePixels = 8192 * 8192
)

func usageError(format string, args ...any) error {
	return exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

func verifyCommand() *cobra.Command {
	var (
		imageFile, jwsFile, trustFile, server, anchorFile string
		asJSON                                            bool
		skew                                              time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify [CODE_TEXT | - | --image FILE.png | --jws FILE] (--trust FILE | --server URL) --anchor ANCHOR.pem",
		Short: "Verify a 随申码 code or an electronic certificate offline, against the signed trust bundle",
		Long: `Verify a 随申码 code (personal, offline, enterprise, venue or presentation) or an electronic
certificate (电子证照, the JWS of its metadata document) without asking the server: the
signature, the signing key's role and trust, the validity period and the status list
(revoked / suspended / superseded) all come from the trust bundle, whose own signature is
checked against the trust anchor's public key you pin with --anchor.

The code is given as its text (one argument, used exactly as scanned: quote it, it may
contain spaces; "-" reads it from standard input), or as an image of its QR symbol
(--image, PNG or JPEG, decoded in-process). A certificate is given as a file holding its
JWS (--jws). The trust bundle comes from a file saved by 'suishen trust fetch' (--trust)
or is fetched from a server (--server); a bundle past its expiry makes every answer
"unknown", never "valid". The status lists a code or certificate needs are read from the
directory beside the bundle file (saved there by 'suishen trust fetch'); given both
--trust and --server, a list missing there is fetched and saved; given only --server,
lists are fetched. A list that cannot be had, or that does not match the digest the
bundle pins, makes the answer "unknown".

Codes and certificates of peer regions (区域互认) that the bundle endorses verify too,
against their bundles saved by 'suishen trust fetch' beside it (or, with only --server,
relayed by the server); the answer names the region ("region: 320500 苏州市"). A peer's
keys count only for certificates of its own area; a peer whose bundle is missing or
expired gives "unknown".

Exit status:
  0  valid
  1  invalid — the reasons say why (bad_signature, expired, revoked, key_compromised, …)
  3  unknown — cannot be decided with the trust data at hand (bundle expired, key not in
     the bundle, status list missing), or the bundle could not be fetched or does not
     verify against the anchor; never reported as invalid
  2  usage error — missing or conflicting arguments, unreadable file, bad anchor key,
     no QR symbol in the image

--json prints the verification result as POST /v1/verify returns it.`,
		Example: `  # once, with network: save the bundle (the anchor comes from 'suishen keys export')
  suishen trust fetch --server https://suishen.example.gov.cn --anchor anchor.pem --out trust.jws

  # offline: a scanned code text, a QR image, a certificate
  suishen verify 'SS1:BB08Z3Q9HB8B9JQ.36N9G*12…' --trust trust.jws --anchor anchor.pem
  suishen verify --image code.png --trust trust.jws --anchor anchor.pem --json
  suishen verify --jws certificate.jws --trust trust.jws --anchor anchor.pem

  # online bundle, code on standard input
  echo "$CODE" | suishen verify - --server https://suishen.example.gov.cn --anchor anchor.pem`,
		Args: cobra.ArbitraryArgs,
		// Exit statuses 1 and 3 are results, not failures: never print the
		// usage after them (main prints a usage error's message).
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Inputs: exactly one of CODE_TEXT, --image, --jws.
			given := 0
			for _, set := range []bool{len(args) > 0, imageFile != "", jwsFile != ""} {
				if set {
					given++
				}
			}
			switch {
			case len(args) > 1:
				return usageError("one code text at a time (quote a text that contains spaces)")
			case given == 0:
				return usageError("nothing to verify: give a CODE_TEXT, --image FILE or --jws FILE")
			case given > 1:
				return usageError("give only one of CODE_TEXT, --image and --jws")
			case anchorFile == "":
				return usageError("--anchor is required: the PEM public key of the trust anchor to pin")
			case trustFile == "" && server == "":
				return usageError("give --trust FILE, --server URL, or both")
			}
			if server != "" {
				if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usageError("--server %q is not an http(s) URL", server)
				}
			}
			pemBytes, err := readLimited(anchorFile, 1<<16)
			if err != nil {
				return usageError("--anchor: %v", err)
			}
			pinned, err := signing.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return usageError("--anchor %s: %v", anchorFile, err)
			}

			// What to verify, read before any network access.
			var codeText, jws string
			switch {
			case jwsFile != "":
				b, err := readLimited(jwsFile, signing.MaxJWSSize+2)
				if err != nil {
					return usageError("--jws: %v", err)
				}
				jws = strings.TrimSpace(string(b)) // a JWS has no white space; files end in a newline
			case imageFile != "":
				if codeText, err = decodeQRFile(imageFile); err != nil {
					return usageError("--image %s: %v", imageFile, err)
				}
			case args[0] == "-":
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<16))
				if err != nil {
					return usageError("standard input: %v", err)
				}
				// Only the line ending goes: a code may end in a space.
				codeText = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			default:
				codeText = args[0]
			}

			// The bundle. A failure to get or trust it makes the answer
			// unknown, not invalid.
			var bundle string
			var lists verifier.ListSource
			client := trustsync.Client{Server: server}
			if trustFile != "" {
				dir := trustsync.DirFor(trustFile)
				if bundle, err = dir.ReadBundle(); err != nil {
					return usageError("--trust: %v", err)
				}
				lists = dir
				if server != "" {
					lists = fallbackSource{dir: dir, client: client, ctx: cmd.Context()}
				}
			} else {
				bundle, err = fetchTrust(cmd.Context(), server)
				if err != nil {
					var ee exitError
					if errors.As(err, &ee) {
						return err
					}
					return report(cmd, asJSON, unavailable(jws != "", "the trust bundle could not be fetched: "+err.Error()))
				}
				lists = client.Source(cmd.Context())
			}
			v, err := verifier.New(bundle, pinned, verifier.Options{Skew: skew, Lists: lists})
			if err != nil {
				return report(cmd, asJSON, unavailable(jws != "", "the trust bundle does not verify against the pinned anchor: "+err.Error()))
			}
			// Peer regions the bundle endorses (区域互认): their saved
			// bundles, or with only --server the ones the server relays.
			var peers []verifier.PeerBundle
			if trustFile != "" {
				peers = trustsync.DirFor(trustFile).PeerBundles(v.Bundle())
			} else {
				for _, p := range v.Bundle().Peers {
					relay := client.RelayClient(p.Code)
					if pj, _, err := relay.Bundle(cmd.Context(), ""); err == nil {
						peers = append(peers, verifier.PeerBundle{Code: p.Code, JWS: pj, Lists: relay.Source(cmd.Context())})
					}
				}
			}
			fed, _ := v.Federate(peers)
			if v.NeedsUpdate() && !v.Expired() {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: the trust bundle was due for an update at %s; fetch a fresh one with 'suishen trust fetch'\n",
					v.Bundle().NextUpdate.UTC().Format(time.RFC3339))
			}
			if jws != "" {
				return report(cmd, asJSON, fed.VerifyCertificate(jws))
			}
			return report(cmd, asJSON, fed.VerifyCode(codeText))
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
	f := cmd.Flags()
	f.StringVar(&imageFile, "image", "", "PNG or JPEG image of the code's QR symbol")
	f.StringVar(&jwsFile, "jws", "", "file holding a certificate's JWS")
	f.StringVar(&trustFile, "trust", "", "trust bundle file saved by 'suishen trust fetch'")
	f.StringVar(&server, "server", "", "fetch the trust bundle from this Suishen server instead")
	f.StringVar(&anchorFile, "anchor", "", "PEM file with the trust anchor's public key to pin (required)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.DurationVar(&skew, "skew", verifier.DefaultSkew, "clock-skew tolerance for validity periods")
	return cmd
}

// fallbackSource reads lists saved by 'suishen trust fetch' and fetches a
// missing one from the server, saving it for next time.
type fallbackSource struct {
	dir    trustsync.Dir
	client trustsync.Client
	ctx    context.Context
}

func (f fallbackSource) StatusList(ref trust.StatusListRef) (string, error) {
	if jws, err := f.dir.StatusList(ref); err == nil && trust.ListDigest(jws) == ref.SM3 {
		return jws, nil
	}
	jws, err := f.client.List(f.ctx, ref)
	if err != nil {
		return "", err
	}
	_ = f.dir.Save(ref, jws) // a cache: failing to keep it costs a fetch next time
	return jws, nil
}

// unavailable is the result when no trusted bundle could be had.
func unavailable(certificate bool, detail string) verifier.Result {
	r := verifier.Result{Result: verifier.Unknown,
		Reasons: []verifier.Reason{{Code: verifier.ReasonBundleUnavailable, Detail: detail}}}
	if certificate {
		r.Kind = verifier.KindCertificate
	}
	return r
}

// report prints r and returns the exit status as an error (nil for valid).
func report(cmd *cobra.Command, asJSON bool, r verifier.Result) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		writeHuman(out, r)
	}
	switch r.Result {
	case verifier.Valid:
		return nil
	case verifier.Invalid:
		return exitError{code: exitInvalid}
	default:
		return exitError{code: exitUnknown}
	}
}

func writeHuman(w io.Writer, r verifier.Result) {
	what := "code"
	switch {
	case r.Kind == verifier.KindCertificate:
		what = "certificate"
	case r.Kind != "":
		what = r.Kind + " code"
	}
	switch r.Result {
	case verifier.Valid:
		fmt.Fprintf(w, "VALID %s\n", what)
	case verifier.Invalid:
		fmt.Fprintf(w, "INVALID %s\n", what)
	default:
		fmt.Fprintf(w, "UNKNOWN %s: cannot be decided with this trust data\n", what)
	}
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-15s %s\n", label+":", value)
		}
	}
	for _, x := range r.Reasons {
		line("reason", x.Code+" — "+x.Detail)
	}
	line("subject", r.Subject.Masked)
	line("certificate", r.CertificateID)
	line("type", r.TypeCode)
	line("venue", r.VenueID)
	line("use code", r.UseCode)
	if r.Generation != 0 {
		line("generation", fmt.Sprint(r.Generation))
	}
	if r.Copy != nil { // signed text without control or format characters (codes §5)
		line("annotation", r.Copy.Annotation)
		line("recipient", r.Copy.RecipientOrg+" ("+r.Copy.RecipientUSCC+")")
		line("purpose", r.Copy.Purpose)
	}
	if r.Region != nil {
		line("region", strings.TrimSpace(r.Region.Code+" "+r.Region.Name))
	}
	line("issuer", r.Issuer)
	if r.KeyID != r.Issuer {
		line("key", r.KeyID)
	}
	if !r.IssuedAt.IsZero() {
		line("issued", r.IssuedAt.UTC().Format(time.RFC3339))
	}
	switch {
	case !r.ExpiresAt.IsZero():
		line("expires", r.ExpiresAt.UTC().Format(time.RFC3339))
	case r.Kind == verifier.KindCertificate && r.Issuer != "":
		line("expires", "never (long-term)")
	}
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// decodeQRFile reads the QR symbol in an image file.
func decodeQRFile(path string) (string, error) {
	b, err := readLimited(path, maxImageFile)
	if err != nil {
		return "", err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return "", fmt.Errorf("image of %d×%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	return decodeQR(img)
}

// decodeQR reads a QR symbol with gozxing. Its finder-pattern search is
// occasionally misled by a finder-like run inside the data area of a
// perfectly sharp synthetic image (docs/code-format.md §10), so when the
// normal reading fails it tries the image as a pure symbol (PURE_BARCODE,
// the module grid read straight off the image) and then at a few other
// scales and with a wider quiet zone.
func decodeQR(img image.Image) (string, error) {
	gray := toGray(img)
	candidates := []*image.Gray{gray, pad(gray)}
	for _, s := range []float64{0.5, 0.75, 1.0 / 3, 1.5} {
		if c := scale(gray, s); c != nil {
			candidates = append(candidates, c)
		}
	}
	hints := []map[gozxing.DecodeHintType]interface{}{
		{gozxing.DecodeHintType_TRY_HARDER: true},
		{gozxing.DecodeHintType_PURE_BARCODE: true},
	}
	var last error
	for _, c := range candidates {
		bmp, err := gozxing.NewBinaryBitmapFromImage(c)
		if err != nil {
			last = err
			continue
		}
		for _, h := range hints {
			res, err := gzqr.NewQRCodeReader().Decode(bmp, h)
			if err == nil {
				return res.GetText(), nil
			}
			last = err
		}
	}
	return "", fmt.Errorf("no QR symbol could be read (%v)", last)
}

// toGray converts img to a gray image whose bounds start at (0, 0).
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok && g.Rect.Min == (image.Point{}) {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.SetGray(x, y, color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray))
		}
	}
	return g
}

// pad surrounds g (bounds at (0, 0)) with a white border of a tenth of its
// size, for images cropped to the symbol.
func pad(g *image.Gray) *image.Gray {
	b := g.Bounds()
	m := max(b.Dx(), b.Dy())/10 + 4
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*m, b.Dy()+2*m))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[(y+m)*out.Stride+m:], g.Pix[y*g.Stride:][:b.Dx()])
	}
	return out
}

// scale resamples g (bounds at (0, 0)) by factor s, averaging the source pixels each output
// pixel covers; nil when the result would be tiny or huge.
func scale(g *image.Gray, s float64) *image.Gray {
	b := g.Bounds()
	w, h := int(float64(b.Dx())*s), int(float64(b.Dy())*s)
	if w < 21 || h < 21 || w*h > maxImagePixels {
		return nil
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0 := int(float64(y) / s)
		y1 := max(int(float64(y+1)/s), y0+1)
		for x := 0; x < w; x++ {
			x0 := int(float64(x) / s)
			x1 := max(int(float64(x+1)/s), x0+1)
			sum, n := 0, 0
			for sy := y0; sy < y1 && sy < b.Dy(); sy++ {
				row := g.Pix[sy*g.Stride:]
				for sx := x0; sx < x1 && sx < b.Dx(); sx++ {
					sum += int(row[sx])
					n++
				}
			}
			if n > 0 {
				out.Pix[y*out.Stride+x] = uint8(sum / n)
			}
		}
	}
	return out
}
