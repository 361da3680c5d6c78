package codes_test

// An independent verifier written from docs/code-format.md alone: its own
// Base45 decoder and field reader, and signing.Verify for SM2. It must
// accept exactly what the package accepts for the golden codes and agree on
// every claim — proof that the document describes the bytes.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/signing"
)

// docCode is what the document says a verifier learns from a code.
type docCode struct {
	kind             byte
	hint             []byte
	issued, expires  time.Time
	subject          []byte
	name             string
	generation       uint32
	list             string
	index            uint32
	venue, cert, use string
	uscc, org, why   string // a copy's recipient and purpose
	signed, sig      []byte
}

// §2: Base45, RFC 9285.
func docBase45(s string) ([]byte, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	val := func(c byte) (int, error) {
		i := strings.IndexByte(alphabet, c)
		if i < 0 {
			return 0, errors.New("not base45")
		}
		return i, nil
	}
	if len(s)%3 == 1 {
		return nil, errors.New("length")
	}
	var out []byte
	for i := 0; i < len(s); i += 3 {
		if i+2 == len(s) {
			c, err1 := val(s[i])
			d, err2 := val(s[i+1])
			if err1 != nil || err2 != nil || c+45*d > 255 {
				return nil, errors.New("pair")
			}
			return append(out, byte(c+45*d)), nil
		}
		c, err1 := val(s[i])
		d, err2 := val(s[i+1])
		e, err3 := val(s[i+2])
		n := c + 45*d + 2025*e
		if err1 != nil || err2 != nil || err3 != nil || n > 65535 {
			return nil, errors.New("triple")
		}
		out = append(out, byte(n/256), byte(n%256))
	}
	return out, nil
}

// docParse follows §3–§4 of the document.
func docParse(text string) (*docCode, error) {
	body, ok := strings.CutPrefix(text, "SS1:")
	if !ok {
		return nil, errors.New("prefix")
	}
	raw, err := docBase45(body)
	if err != nil {
		return nil, err
	}
	if len(raw) < 65 {
		return nil, errors.New("short")
	}
	claims, sig := raw[:len(raw)-64], raw[len(raw)-64:]
	d := &docCode{signed: append([]byte("SSC1"), claims...), sig: sig}
	p := 0
	fail := false
	next := func(n int) []byte {
		if fail || p+n > len(claims) {
			fail = true
			return nil
		}
		p += n
		return claims[p-n : p]
	}
	u8 := func() int {
		b := next(1)
		if b == nil {
			return 0
		}
		return int(b[0])
	}
	varint := func() uint32 {
		var v uint64
		for i := 0; i < 5; i++ {
			b := u8()
			v |= uint64(b&0x7f) << (7 * i)
			if b < 0x80 {
				if (i > 0 && b == 0) || v > 0xffffffff {
					fail = true
				}
				return uint32(v)
			}
		}
		fail = true
		return 0
	}
	str := func() []byte { return next(u8()) }
	epoch := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	d.kind = byte(u8())
	d.hint = next(8)
	iat := next(4)
	if iat == nil {
		return nil, errors.New("short")
	}
	life := varint()
	d.issued = epoch.Add(time.Duration(binary.BigEndian.Uint32(iat)) * time.Second)
	d.expires = d.issued.Add(time.Duration(life) * time.Second)
	d.subject = str()
	d.name = string(str())
	switch d.kind {
	case 1:
	case 2:
		d.generation = varint()
		d.list, d.index = string(str()), varint()
	case 3:
		d.list, d.index = string(str()), varint()
	case 4:
		d.venue = string(str())
		d.list, d.index = string(str()), varint()
	case 5:
		l := u8()
		d.cert = string(next(l & 0x7f))
		if l&0x80 != 0 {
			d.cert = "1.2.156.3005.2." + d.cert
		}
		d.use = string(str())
		if d.list = string(str()); d.list != "" {
			d.index = varint()
		}
	case 6: // copy: certificate string, status list and index, 18-byte USCC, recipient, purpose
		l := u8()
		d.cert = string(next(l & 0x7f))
		if l&0x80 != 0 {
			d.cert = "1.2.156.3005.2." + d.cert
		}
		d.list, d.index = string(str()), varint()
		d.uscc = string(next(18))
		d.org, d.why = string(str()), string(str())
		if d.list == "" || d.org == "" || d.why == "" || !utf8.ValidString(d.org) || !utf8.ValidString(d.why) {
			return nil, errors.New("copy fields")
		}
	default:
		return nil, errors.New("kind")
	}
	if fail || p != len(claims) || !utf8.ValidString(d.name) || life == 0 {
		return nil, errors.New("layout")
	}
	return d, nil
}

// §6: the key hint is the first 8 bytes of the decoded SM3 JWK thumbprint.
func docHint(pub *signing.PublicKey) []byte {
	tp, err := base64.RawURLEncoding.DecodeString(signing.Thumbprint(pub))
	if err != nil {
		panic(err)
	}
	return tp[:8]
}

func TestIndependentVerifierFromDoc(t *testing.T) {
	d := signing.SM3([]byte("suishen codes golden key"))
	key, err := signing.PrivateKeyFromBytes(d[:])
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public()
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kindName, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.HasPrefix(kindName, "#") {
			continue
		}
		n++
		dc, err := docParse(text)
		if err != nil {
			t.Fatalf("%s: independent parse: %v", kindName, err)
		}
		// §7: SM2, default ID, over "SSC1" ‖ claims, raw r‖s.
		if !bytes.Equal(dc.hint, docHint(pub)) {
			t.Fatalf("%s: hint %x, key's %x", kindName, dc.hint, docHint(pub))
		}
		if !signing.Verify(pub, dc.signed, dc.sig) {
			t.Fatalf("%s: independent SM2 verification failed", kindName)
		}
		if signing.Verify(pub, dc.signed[4:], dc.sig) {
			t.Fatalf("%s: signature verifies without the domain tag", kindName)
		}
		// The same message also verifies with the explicit default ID.
		if !signing.VerifyWithID(pub, []byte("1234567812345678"), dc.signed, dc.sig) {
			t.Fatalf("%s: not the default ID", kindName)
		}

		// Agreement with the package on every claim.
		c, err := codes.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind.String() != kindName || byte(c.Kind) != dc.kind {
			t.Fatalf("%s: kind %d", kindName, dc.kind)
		}
		same := c.IssuedAt.Equal(dc.issued) && c.ExpiresAt.Equal(dc.expires) &&
			bytes.Equal(c.Subject, dc.subject) && c.DisplayName == dc.name &&
			c.Generation == dc.generation && c.StatusList == dc.list && c.StatusIndex == dc.index &&
			c.VenueID == dc.venue && c.CertificateID == dc.cert && c.UseCode == dc.use &&
			c.RecipientUSCC == dc.uscc && c.RecipientOrg == dc.org && c.Purpose == dc.why &&
			bytes.Equal(c.Signed, dc.signed) && bytes.Equal(c.Signature, dc.sig) && bytes.Equal(c.KeyHint, dc.hint)
		if !same {
			t.Fatalf("%s: package %+v, document %+v", kindName, c.Claims, dc)
		}
		if dc.kind == 6 && c.Annotation() != "仅供"+dc.org+dc.why+"使用" {
			t.Fatalf("copy annotation %q", c.Annotation())
		}
		// OpenSSL, a second SM2 implementation, verifies the copy code
		// (the kind added last) from the document's recipe (§7).
		if dc.kind == 6 {
			if !opensslVerifiesRaw(t, pub, dc.signed, dc.sig) {
				t.Fatal("OpenSSL does not verify the copy code")
			}
			bad := bytes.Clone(dc.signed)
			bad[len(bad)-1] ^= 1
			if opensslVerifiesRaw(t, pub, bad, dc.sig) {
				t.Fatal("OpenSSL verifies an altered copy code")
			}
		}
		// A flipped claim byte fails the independent check too.
		bad := bytes.Clone(dc.signed)
		bad[len(bad)-1] ^= 1
		if signing.Verify(pub, bad, dc.sig) {
			t.Fatal("altered message verifies")
		}
	}
	if n != len(codes.Kinds()) {
		t.Fatalf("%d golden codes", n)
	}
}

// TestDocWorkedExample: the example in docs/code-format.md §12 is the
// golden personal code, its hex is its Base45 decoding, and the public key
// printed there verifies it.
func TestDocWorkedExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/code-format.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "<!-- example:begin -->")
	j := strings.Index(s, "<!-- example:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/code-format.md has no example block")
	}
	ex := s[i:j]
	field := func(name string) string {
		k := strings.Index(ex, name+": ")
		if k < 0 {
			t.Fatalf("example lacks %q", name)
		}
		line := ex[k+len(name)+2:]
		line = line[:strings.IndexByte(line, '\n')]
		return strings.Trim(line, "` ")
	}
	text := field("text")
	c, err := codes.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != codes.Personal {
		t.Fatal(c.Kind)
	}
	raw, err := docBase45(strings.TrimPrefix(text, "SS1:"))
	if err != nil {
		t.Fatal(err)
	}
	// The hex is given field by field, separated by spaces and line breaks.
	k := strings.Index(ex, "```hex\n")
	if k < 0 {
		t.Fatal("example lacks the hex block")
	}
	hexBlock := ex[k+7:]
	hexBlock = hexBlock[:strings.Index(hexBlock, "```")]
	var hexDigits strings.Builder
	for _, line := range strings.Split(hexBlock, "\n") {
		line, _, _ = strings.Cut(line, "#")
		hexDigits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	if got := hexDigits.String(); got != hexOf(raw) {
		t.Fatalf("doc hex\n%s\nis not the decoding\n%s", got, hexOf(raw))
	}
	pubBytes, err := hexDecode(field("public key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signing.PublicKeyFromBytes(pubBytes)
	if err != nil {
		t.Fatal(err)
	}
	if signing.Thumbprint(pub) != field("thumbprint (kid)") {
		t.Fatal("thumbprint in the example")
	}
	if hexOf(docHint(pub)) != field("key hint") {
		t.Fatal("key hint in the example")
	}
	if !signing.Verify(pub, append([]byte("SSC1"), raw[:len(raw)-64]...), raw[len(raw)-64:]) {
		t.Fatal("the example does not verify under its public key")
	}
	if field("signed bytes") != hexOf(c.Signed) {
		t.Fatal("signed bytes in the example")
	}
	if ref, err := codes.OpenSubject([]byte("0123456789abcdef0123456789abcdef"), c.Subject); err != nil || ref != 42 {
		t.Fatalf("example subject opens to %d, %v", ref, err)
	}
}

// opensslVerifiesRaw checks a raw r‖s SM2 signature of msg with the
// OpenSSL command line (default ID, SM3), as §7 prescribes.
func opensslVerifiesRaw(t *testing.T, pub *signing.PublicKey, msg, sig []byte) bool {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not installed; it is the independent SM2 verifier of this test")
	}
	der, err := signing.RawToDER(sig)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := signing.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"pub.pem": pem, "msg": msg, "sig.der": der} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg",
		"-sigfile", "sig.der", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "Signature Verified Successfully")
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func hexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd hex")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | byte(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | byte(c-'a'+10)
			default:
				return nil, errors.New("hex")
			}
		}
		out[i] = v
	}
	return out, nil
}

// TestDocCopyExample: the copy example in docs/code-format.md §12a is the
// golden copy code, its hex is its Base45 decoding, and its annotation is
// the package's.
func TestDocCopyExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/code-format.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "<!-- copy-example:begin -->")
	j := strings.Index(s, "<!-- copy-example:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/code-format.md has no copy example block")
	}
	ex := s[i:j]
	field := func(name string) string {
		k := strings.Index(ex, name+": ")
		if k < 0 {
			t.Fatalf("example lacks %q", name)
		}
		line := ex[k+len(name)+2:]
		return strings.Trim(line[:strings.IndexByte(line, '\n')], "` ")
	}
	text := field("text")
	golden, err := os.ReadFile("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(golden), "copy\t"+text+"\n") {
		t.Fatal("the example is not the golden copy code")
	}
	c, err := codes.Parse(text)
	if err != nil || c.Kind != codes.Copy {
		t.Fatal(err)
	}
	if c.Annotation() != field("annotation") {
		t.Fatalf("annotation %q", c.Annotation())
	}
	raw, err := docBase45(strings.TrimPrefix(text, "SS1:"))
	if err != nil {
		t.Fatal(err)
	}
	k := strings.Index(ex, "```hex\n")
	hexBlock := ex[k+7:]
	hexBlock = hexBlock[:strings.Index(hexBlock, "```")]
	var hexDigits strings.Builder
	for _, line := range strings.Split(hexBlock, "\n") {
		line, _, _ = strings.Cut(line, "#")
		hexDigits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	if got := hexDigits.String(); got != hexOf(raw) {
		t.Fatalf("doc hex\n%s\nis not the decoding\n%s", got, hexOf(raw))
	}
}
