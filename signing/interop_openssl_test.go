package signing

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// OpenSSL 3 command-line interop (domain reference §4). CI has openssl; a
// machine without it fails these tests rather than skipping them.

func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not on PATH; these interop tests need OpenSSL 3: %v", err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	return string(out), err
}

func mustOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	out, err := openssl(t, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opensslVerify runs the verification command of domain reference §4.
func opensslVerify(t *testing.T, pubPEM, msg, der []byte, id string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	return openssl(t, "pkeyutl", "-verify", "-pubin",
		"-inkey", writeFile(t, dir, "pub.pem", pubPEM),
		"-rawin", "-in", writeFile(t, dir, "msg", msg),
		"-sigfile", writeFile(t, dir, "sig.der", der),
		"-digest", "sm3", "-pkeyopt", "distid:"+id)
}

func TestOpenSSLVersion(t *testing.T) {
	out := mustOpenSSL(t, "version")
	if !strings.HasPrefix(out, "OpenSSL 3.") {
		t.Fatalf("need OpenSSL 3, have %s", out)
	}
	t.Log(strings.TrimSpace(out))
}

func TestOpenSSLVerifiesOurs(t *testing.T) {
	k := newKey(t)
	pubPEM, _ := MarshalPublicKeyPEM(k.Public())
	msg := []byte("Suishen 随申码 offline code")
	sig, err := Sign(rand.Reader, k, msg)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := RawToDER(sig)
	if out, err := opensslVerify(t, pubPEM, msg, der, DefaultID); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("openssl rejects our signature: %v\n%s", err, out)
	}
	// The controls: openssl must reject a wrong ID and a changed message,
	// or the check above proves nothing.
	if out, err := opensslVerify(t, pubPEM, msg, der, "1234567812345679"); err == nil {
		t.Fatalf("openssl accepted our signature under another ID:\n%s", out)
	}
	if out, err := opensslVerify(t, pubPEM, append(msg, '!'), der, DefaultID); err == nil {
		t.Fatalf("openssl accepted our signature for another message:\n%s", out)
	}

	// The GB/T 32918.5 Annex A signature, as a further anchor.
	_, annexPub := annexAKey(t)
	annexPEM, _ := MarshalPublicKeyPEM(annexPub)
	annexDER, _ := RawToDER(append(unhex(t, annexA.r), unhex(t, annexA.s)...))
	if out, err := opensslVerify(t, annexPEM, []byte(annexA.msg), annexDER, DefaultID); err != nil {
		t.Fatalf("openssl rejects the Annex A signature: %v\n%s", err, out)
	}
}

func TestOpenSSLVerifiesOurJWS(t *testing.T) {
	k := newKey(t)
	pubPEM, _ := MarshalPublicKeyPEM(k.Public())
	for _, detached := range []bool{false, true} {
		payload := []byte(`{"kind":"personal","exp":1767225600}`)
		var compact string
		var err error
		if detached {
			compact, err = SignJWSDetached(NewSoftwareSigner("code-1", k), payload, map[string]any{"typ": "suishen-code"})
		} else {
			compact, err = SignJWS(NewSoftwareSigner("code-1", k), payload, map[string]any{"typ": "suishen-code"})
		}
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(compact, ".")
		input := parts[0] + "." + enc.EncodeToString(payload) // the JWS signing input
		der, err := RawToDER(mustDecode(t, parts[2]))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := opensslVerify(t, pubPEM, []byte(input), der, DefaultID); err != nil {
			t.Fatalf("detached=%v: openssl rejects our JWS: %v\n%s", detached, err, out)
		}
		if _, err := opensslVerify(t, pubPEM, []byte(input+"x"), der, DefaultID); err == nil {
			t.Fatalf("detached=%v: openssl accepted a changed signing input", detached)
		}
	}
}

func TestOpenSSLKeysAndSignatures(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.pem")
	pubPath := filepath.Join(dir, "pub.pem")
	sec1Path := filepath.Join(dir, "sec1.pem")
	msgPath := writeFile(t, dir, "msg", []byte("signed by openssl"))
	sigPath := filepath.Join(dir, "sig.der")

	mustOpenSSL(t, "genpkey", "-algorithm", "SM2", "-out", keyPath)
	mustOpenSSL(t, "pkey", "-in", keyPath, "-pubout", "-out", pubPath)
	mustOpenSSL(t, "ec", "-in", keyPath, "-out", sec1Path)
	mustOpenSSL(t, "pkeyutl", "-sign", "-inkey", keyPath, "-rawin", "-in", msgPath,
		"-out", sigPath, "-digest", "sm3", "-pkeyopt", "distid:"+DefaultID)

	priv, err := ParsePrivateKeyPEM(readFile(t, keyPath))
	if err != nil {
		t.Fatalf("openssl PKCS#8 private key: %v", err)
	}
	pub, err := ParsePublicKeyPEM(readFile(t, pubPath))
	if err != nil {
		t.Fatalf("openssl public key: %v", err)
	}
	if !priv.Public().Equal(pub) {
		t.Fatal("openssl private and public PEMs give different keys")
	}
	sec1, err := ParsePrivateKeyPEM(readFile(t, sec1Path))
	if err != nil {
		t.Fatalf("openssl SEC 1 private key (%s): %v", bytes.SplitN(readFile(t, sec1Path), []byte("\n"), 2)[0], err)
	}
	if !sec1.Equal(priv) {
		t.Fatal("openssl SEC 1 and PKCS#8 give different keys")
	}

	raw, err := DERToRaw(readFile(t, sigPath))
	if err != nil {
		t.Fatalf("openssl signature: %v", err)
	}
	if !Verify(pub, []byte("signed by openssl"), raw) {
		t.Fatal("we reject openssl's signature")
	}
	if Verify(pub, []byte("signed by openssl."), raw) {
		t.Fatal("we accept openssl's signature for another message")
	}

	// What we write, openssl reads to the same bytes it writes itself.
	ourPriv, _ := MarshalPrivateKeyPEM(priv)
	if !bytes.Equal(ourPriv, readFile(t, keyPath)) {
		t.Errorf("our PKCS#8 PEM differs from openssl's:\nours\n%s\nopenssl\n%s", ourPriv, readFile(t, keyPath))
	}
	ourPub, _ := MarshalPublicKeyPEM(pub)
	if !bytes.Equal(ourPub, readFile(t, pubPath)) {
		t.Errorf("our public PEM differs from openssl's:\nours\n%s\nopenssl\n%s", ourPub, readFile(t, pubPath))
	}

	// openssl signs with a key we generated and wrote.
	k := newKey(t)
	ourKeyPath := writeFile(t, dir, "ours.pem", must(MarshalPrivateKeyPEM(k)))
	mustOpenSSL(t, "pkey", "-in", ourKeyPath, "-check", "-noout")
	pubOut := mustOpenSSL(t, "pkey", "-in", ourKeyPath, "-pubout")
	if want := string(must(MarshalPublicKeyPEM(k.Public()))); pubOut != want {
		t.Errorf("openssl derives another public key from our private PEM:\n%s\nwant\n%s", pubOut, want)
	}
	mustOpenSSL(t, "pkeyutl", "-sign", "-inkey", ourKeyPath, "-rawin", "-in", msgPath,
		"-out", sigPath, "-digest", "sm3", "-pkeyopt", "distid:"+DefaultID)
	raw, err = DERToRaw(readFile(t, sigPath))
	if err != nil || !Verify(k.Public(), []byte("signed by openssl"), raw) {
		t.Fatalf("openssl signature with our key: %v", err)
	}
}

func TestOpenSSLDigests(t *testing.T) {
	dir := t.TempDir()
	msg := []byte(strings.Repeat("abcd", 16))
	out := mustOpenSSL(t, "dgst", "-sm3", "-r", writeFile(t, dir, "m", msg))
	sum := SM3(msg)
	if !strings.HasPrefix(out, hexString(sum[:])) {
		t.Fatalf("openssl SM3 = %s, ours %x", out, sum)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
