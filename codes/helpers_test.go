package codes

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt with freshly signed codes")

// testKey derives a fixed private key from seed: d = SM3(seed).
func testKey(t testing.TB, seed string) *signing.PrivateKey {
	t.Helper()
	d := signing.SM3([]byte(seed))
	k, err := signing.PrivateKeyFromBytes(d[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testSigner(t testing.TB, seed string) signing.Signer {
	k := testKey(t, seed)
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

// goldenSeed is the seed of the fixed key that signed testdata/golden.txt
// and the worked example in docs/code-format.md.
const goldenSeed = "suishen codes golden key"

// subjectKey is a fixed subject key for tests.
var subjectKey = []byte("0123456789abcdef0123456789abcdef")

// fixedReader returns an endless deterministic byte stream.
type fixedReader struct{ b byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		r.b = r.b*31 + 7
		p[i] = r.b
	}
	return len(p), nil
}

var goldenIssued = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

// sampleClaims returns realistic claims of kind k issued at goldenIssued.
func sampleClaims(t testing.TB, k Kind) Claims {
	t.Helper()
	subj, err := NewSubject(subjectKey, 42, &fixedReader{b: byte(k)})
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{Kind: k, IssuedAt: goldenIssued, ExpiresAt: goldenIssued.Add(DefaultLifetime(k)), Subject: subj}
	switch k {
	case Personal:
		c.DisplayName = "张*"
	case Offline:
		c.DisplayName = "李*"
		c.Generation = 3
		c.StatusList = "offline-1"
		c.StatusIndex = 123456
	case Enterprise:
		c.DisplayName = "上海某某科技有限公司"
		c.StatusList = "enterprise-1"
		c.StatusIndex = 4242
	case Venue:
		c.Subject = nil
		c.DisplayName = "徐汇区行政服务中心"
		c.VenueID = "7f3c9a2e-1b4d-4e8a-9c61-2d5f8b7a0e13"
		c.StatusList = "venue-1"
		c.StatusIndex = 9001
	case Presentation:
		c.DisplayName = "张*"
		c.CertificateID = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
		c.UseCode, err = NewUseCode(&fixedReader{b: 99})
		if err != nil {
			t.Fatal(err)
		}
		c.StatusList = "certificates-1"
		c.StatusIndex = 77
	case Copy:
		c.DisplayName = "张*"
		c.CertificateID = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
		c.StatusList = "c11100000000013338W032-0"
		c.StatusIndex = 77
		c.RecipientUSCC = "91310000MA1K4C2X5R"
		c.RecipientOrg = "某某银行上海分行"
		c.Purpose = "办理个人贷款"
	}
	return c
}

// maxCopy has every copy field at its bound: as long as the longest
// presentation code.
func maxCopy(t testing.TB) Claims {
	c := sampleClaims(t, Copy)
	c.Subject = bytes.Repeat([]byte{0xa5}, 16)
	c.DisplayName = "阿卜杜热合曼" // 18 bytes
	c.CertificateID = CertificateIDRoot + strings.Repeat("A", maxCopyCert)
	c.StatusList = strings.Repeat("s", maxCopyList)
	c.StatusIndex = 1<<32 - 1
	c.RecipientOrg = strings.Repeat("行", maxRecipient/3)
	c.Purpose = strings.Repeat("用", maxPurpose/3)
	c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(Copy))
	return c
}

// worstPersonal has every personal field at its bound.
func worstPersonal(t testing.TB) Claims {
	c := sampleClaims(t, Personal)
	c.DisplayName = "阿卜杜热合曼" // 6 × 3 bytes = 18
	c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(Personal))
	return c
}

// maxPresentation has every presentation field at its bound: the longest
// valid code.
func maxPresentation(t testing.TB) Claims {
	c := sampleClaims(t, Presentation)
	c.Subject = bytes.Repeat([]byte{0xa5}, 32)
	c.DisplayName = strings.Repeat("名", 21) + "x" // 64 bytes
	c.CertificateID = CertificateIDRoot + strings.Repeat("A", maxCertStored)
	c.UseCode = strings.Repeat("Z", maxUseCode)
	c.StatusList = strings.Repeat("s", maxStatusList)
	c.StatusIndex = 1<<32 - 1
	c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(Presentation))
	return c
}

type golden struct {
	kind Kind
	text string
}

var (
	goldenOnce sync.Once
	goldenList []golden
	goldenErr  error
)

// goldens returns the codes of testdata/golden.txt: one per kind, signed by
// the golden key. They never change unless -update is given, so every
// process (fuzz workers included) sees the same set.
func goldens(t testing.TB) []golden {
	t.Helper()
	goldenOnce.Do(func() {
		f, err := os.Open("testdata/golden.txt")
		if err != nil {
			goldenErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, text, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			k, err := ParseKind(name)
			if err != nil {
				goldenErr = err
				return
			}
			goldenList = append(goldenList, golden{k, text})
		}
		goldenErr = sc.Err()
	})
	if goldenErr != nil {
		t.Fatal(goldenErr)
	}
	if len(goldenList) != len(Kinds()) {
		t.Fatalf("testdata/golden.txt has %d codes, want one per kind", len(goldenList))
	}
	return goldenList
}

func goldenText(t testing.TB, k Kind) string {
	for _, g := range goldens(t) {
		if g.kind == k {
			return g.text
		}
	}
	t.Fatalf("no golden %s code", k)
	return ""
}

func isGolden(t testing.TB, text string) bool {
	for _, g := range goldens(t) {
		if g.text == text {
			return true
		}
	}
	return false
}

func goldenLookup(t testing.TB) func([]byte) []*signing.PublicKey {
	return KeysByHint(testKey(t, goldenSeed).Public())
}

func mustIssue(t testing.TB, s signing.Signer, c Claims) string {
	t.Helper()
	text, err := Issue(s, c)
	if err != nil {
		t.Fatalf("Issue(%s): %v", c.Kind, err)
	}
	return text
}

func mustParse(t testing.TB, text string) *Code {
	t.Helper()
	c, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func wantReason(t testing.TB, err error, reason string) {
	t.Helper()
	if got := Reason(err); got != reason {
		t.Fatalf("error %v: reason %q, want %q", err, got, reason)
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func timeDuration(n int) time.Duration { return time.Duration(n) }
