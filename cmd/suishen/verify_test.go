package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
)

// verifyEnv is a directory with an anchor PEM and trust bundles, and the
// keys that signed them. Times are real: the command uses the wall clock.
type verifyEnv struct {
	dir                string
	anchor, code, dept signing.Signer
	anchorPEM, trust   string // files
	expiredTrust       string
	bundleJWS          string
	listJWS            string
	deptUSCC           string
}

func newSignerT(t *testing.T) signing.Signer {
	t.Helper()
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

func newVerifyEnv(t *testing.T) *verifyEnv {
	t.Helper()
	e := &verifyEnv{dir: t.TempDir(), anchor: newSignerT(t), code: newSignerT(t), dept: newSignerT(t),
		deptUSCC: "11310000000031001M"}
	now := time.Now().UTC().Truncate(time.Second)
	key := func(s signing.Signer, role string) trust.Key {
		k := trust.Key{JWK: signing.NewJWK(s.Public()), Role: role, NotBefore: now.Add(-time.Hour), Status: trust.StatusActive}
		k.Kid = s.KeyID()
		return k
	}
	dk := key(e.dept, trust.RoleDepartment)
	dk.DepartmentUSCC, dk.CertificateTypes = e.deptUSCC, []string{issuer.TypeResidentIDCard}
	list := issuer.NewStatusList("offline-1", issuer.MinStatusListSize)
	if err := list.Set(5, issuer.EntryRevoked); err != nil {
		t.Fatal(err)
	}
	p, err := issuer.NewStatusListPayload(list, now, now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	listJWS, err := issuer.SignStatusList(e.anchor, p)
	if err != nil {
		t.Fatal(err)
	}
	e.listJWS = listJWS
	b := trust.Bundle{Issuer: "http://test", IssuedAt: now, NextUpdate: now.Add(15 * time.Minute), ExpiresAt: now.Add(48 * time.Hour),
		Keys: []trust.Key{key(e.anchor, trust.RoleAnchor), key(e.code, trust.RoleCode), dk},
		StatusLists: []trust.StatusListRef{{ID: "offline-1", Kind: trust.ListOfflineCodes, Version: 1, SM3: trust.ListDigest(listJWS),
			URL: "http://test/v1/status-lists/offline-1"}}}
	if e.bundleJWS, err = trust.Sign(e.anchor, b); err != nil {
		t.Fatal(err)
	}
	e.trust = e.write("trust.jws", e.bundleJWS+"\n")
	// The list beside the bundle, as 'suishen trust fetch' saves it.
	if err := trustsync.DirFor(e.trust).Save(b.StatusLists[0], listJWS); err != nil {
		t.Fatal(err)
	}
	b.IssuedAt, b.NextUpdate, b.ExpiresAt = now.Add(-72*time.Hour), now.Add(-71*time.Hour), now.Add(-24*time.Hour)
	expired, err := trust.Sign(e.anchor, b)
	if err != nil {
		t.Fatal(err)
	}
	e.expiredTrust = e.write("expired.jws", expired+"\n")
	pemBytes, err := signing.MarshalPublicKeyPEM(e.anchor.Public())
	if err != nil {
		t.Fatal(err)
	}
	e.anchorPEM = e.write("anchor.pem", string(pemBytes))
	return e
}

func (e *verifyEnv) write(name, content string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		panic(err)
	}
	return p
}

func (e *verifyEnv) issue(t *testing.T, c codes.Claims) string {
	t.Helper()
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if c.Subject == nil && (c.Kind == codes.Personal || c.Kind == codes.Offline) {
		c.Subject = []byte("0123456789abcdef")
	}
	text, err := codes.Issue(e.code, c)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func (e *verifyEnv) certificate(t *testing.T) string {
	t.Helper()
	var typ issuer.CertificateType
	for _, c := range issuer.SeedCatalogue() {
		if c.Code == issuer.TypeResidentIDCard {
			typ = c
		}
	}
	from, _ := issuer.ParseDate("2021-06-01")
	until, _ := issuer.ParseDate("2041-05-31")
	id, err := ident.NewCertificateID(typ.Code, e.deptUSCC, issuer.Serial(2021, 7), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := issuer.BuildDocument(typ, "上海市公安局", e.deptUSCC, id, issuer.IssueRequest{TypeCode: typ.Code, Number: "1",
		ValidFrom: from, ValidUntil: &until, AreaCode: "310104",
		Holder: issuer.Holder{Kind: issuer.HolderPerson, Name: "张三", IDType: issuer.IDTypeCitizenID, IDNumber: "11010519491231002X"}},
		time.Now().Add(-time.Hour), "", "", 0)
	jws, err := issuer.SignDocument(e.dept, d)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// runVerify runs the verify command as main would and returns its output
// and exit status.
func runVerify(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := verifyCommand()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		errb.WriteString(ee.msg)
	default:
		code = 1 // main's default
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestVerifyCommand(t *testing.T) {
	e := newVerifyEnv(t)
	personal := e.issue(t, codes.Claims{Kind: codes.Personal, DisplayName: "张*"})
	offlineRevoked := e.issue(t, codes.Claims{Kind: codes.Offline, Generation: 2, StatusList: "offline-1", StatusIndex: 5})
	c := []byte(personal)
	if c[30] == 'A' {
		c[30] = 'B'
	} else {
		c[30] = 'A'
	}
	altered := string(c)
	cert := e.write("cert.jws", e.certificate(t)+"\n")
	badCert := e.write("bad.jws", strings.Replace(e.certificate(t), "eyJ", "eyK", 1))
	otherAnchor := newSignerT(t)
	otherPEM, _ := signing.MarshalPublicKeyPEM(otherAnchor.Public())
	otherAnchorFile := e.write("other.pem", string(otherPEM))
	png, err := codes.PNG(personal, 400)
	if err != nil {
		t.Fatal(err)
	}
	pngFile := e.write("code.png", string(png))
	notImage := e.write("not.png", "hello")
	blank := e.write("blank.png", string(blankPNG(t)))

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string // substring expected
		stderr string
	}{
		{"valid code", "", []string{personal, "--trust", e.trust, "--anchor", e.anchorPEM}, 0, "VALID personal code", ""},
		{"valid code shows the subject", "", []string{personal, "--trust", e.trust, "--anchor", e.anchorPEM}, 0, "张*", ""},
		{"altered code", "", []string{altered, "--trust", e.trust, "--anchor", e.anchorPEM}, 1, "INVALID", ""},
		{"revoked offline code", "", []string{offlineRevoked, "--trust", e.trust, "--anchor", e.anchorPEM}, 1, "revoked", ""},
		{"garbage", "", []string{"hello", "--trust", e.trust, "--anchor", e.anchorPEM}, 1, "malformed", ""},
		{"expired bundle", "", []string{personal, "--trust", e.expiredTrust, "--anchor", e.anchorPEM}, 3, "bundle_expired", ""},
		{"bundle of another anchor", "", []string{personal, "--trust", e.trust, "--anchor", otherAnchorFile}, 3, "bundle_unavailable", ""},
		{"code from stdin", personal + "\n", []string{"-", "--trust", e.trust, "--anchor", e.anchorPEM}, 0, "VALID", ""},
		{"png", "", []string{"--image", pngFile, "--trust", e.trust, "--anchor", e.anchorPEM}, 0, "VALID personal code", ""},
		{"certificate", "", []string{"--jws", cert, "--trust", e.trust, "--anchor", e.anchorPEM}, 0, "VALID certificate", ""},
		{"altered certificate", "", []string{"--jws", badCert, "--trust", e.trust, "--anchor", e.anchorPEM}, 1, "INVALID certificate", ""},
		{"missing --anchor", "", []string{personal, "--trust", e.trust}, 2, "", "--anchor"},
		{"missing trust", "", []string{personal, "--anchor", e.anchorPEM}, 2, "", "--trust"},
		{"nothing to verify", "", []string{"--trust", e.trust, "--anchor", e.anchorPEM}, 2, "", "nothing to verify"},
		{"two inputs", "", []string{personal, "--image", pngFile, "--trust", e.trust, "--anchor", e.anchorPEM}, 2, "", "only one"},
		{"two texts", "", []string{personal, personal, "--trust", e.trust, "--anchor", e.anchorPEM}, 2, "", "one code text"},
		{"unreadable trust file", "", []string{personal, "--trust", filepath.Join(e.dir, "none"), "--anchor", e.anchorPEM}, 2, "", "--trust"},
		{"unreadable anchor", "", []string{personal, "--trust", e.trust, "--anchor", filepath.Join(e.dir, "none")}, 2, "", "--anchor"},
		{"bad anchor", "", []string{personal, "--trust", e.trust, "--anchor", e.trust}, 2, "", "--anchor"},
		{"not an image", "", []string{"--image", notImage, "--trust", e.trust, "--anchor", e.anchorPEM}, 2, "", "image"},
		{"image without a code", "", []string{"--image", blank, "--trust", e.trust, "--anchor", e.anchorPEM}, 2, "", "no QR symbol"},
		{"server not a URL", "", []string{personal, "--server", "suishen.example", "--anchor", e.anchorPEM}, 2, "", "--server"},
		{"unknown flag", "", []string{personal, "--trust", e.trust, "--anchor", e.anchorPEM, "--frobnicate"}, 2, "", "frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runVerify(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", out, tc.stdout, errOut, tc.stderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		for _, tc := range []struct {
			args    []string
			code    int
			outcome verifier.Outcome
		}{
			{[]string{personal, "--json", "--trust", e.trust, "--anchor", e.anchorPEM}, 0, verifier.Valid},
			{[]string{altered, "--json", "--trust", e.trust, "--anchor", e.anchorPEM}, 1, verifier.Invalid},
			{[]string{personal, "--json", "--trust", e.expiredTrust, "--anchor", e.anchorPEM}, 3, verifier.Unknown},
		} {
			out, _, code := runVerify(t, "", tc.args...)
			var r verifier.Result
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if code != tc.code || r.Result != tc.outcome {
				t.Fatalf("exit %d result %s; want %d %s", code, r.Result, tc.code, tc.outcome)
			}
			if tc.outcome == verifier.Valid && (r.Kind != "personal" || r.Subject.Masked != "张*" || r.KeyID != e.code.KeyID()) {
				t.Fatalf("result %+v", r)
			}
		}
	})
}

// TestVerifyServer: the bundle fetched with --server; a server that cannot
// be reached makes the answer unknown (3), never invalid.
func TestVerifyServer(t *testing.T) {
	e := newVerifyEnv(t)
	personal := e.issue(t, codes.Claims{Kind: codes.Personal})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/trust" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(e.bundleJWS))
	}))
	defer srv.Close()
	if out, errOut, code := runVerify(t, "", personal, "--server", srv.URL, "--anchor", e.anchorPEM); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, url := range []string{broken.URL, closed} {
		out, errOut, code := runVerify(t, "", personal, "--server", url, "--anchor", e.anchorPEM, "--json")
		if code != 3 || !strings.Contains(out, verifier.ReasonBundleUnavailable) {
			t.Fatalf("%s: exit %d, want 3\n%s%s", url, code, out, errOut)
		}
	}
}

// TestDecodeQR: every kind rendered by codes.PNG at many sizes is read —
// including sizes where gozxing's finder-pattern detection alone fails
// (the golden personal code is such a case, docs/code-format.md §10).
func TestDecodeQR(t *testing.T) {
	golden, err := os.ReadFile("../../codes/testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, line := range strings.Split(string(golden), "\n") {
		if kind, text, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(kind, "#") {
			texts = append(texts, text)
		}
	}
	if len(texts) != len(codes.Kinds()) {
		t.Fatalf("%d golden codes", len(texts))
	}
	for _, text := range texts {
		for size := 150; size <= 700; size += 50 {
			b, err := codes.PNG(text, size)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeQR(img)
			if err != nil || got != text {
				t.Fatalf("%d px: %q, %v", size, got, err)
			}
		}
	}
}

func blankPNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 100, 100))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.SetGray(50, 50, color.Gray{})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestVerifyHelp(t *testing.T) {
	out, _, code := runVerify(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Exit status", "0  valid", "1  invalid", "3  unknown", "2  usage error", "--image", "--jws",
		"--trust", "--server", "--anchor", "--json", "suishen trust fetch"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestVerifyStatusListsBesideBundle: verify reads the lists saved beside the
// bundle; without them a revoked code is unknown, never valid; given
// --server too, a missing list is fetched by digest and saved.
func TestVerifyStatusListsBesideBundle(t *testing.T) {
	e := newVerifyEnv(t)
	revoked := e.issue(t, codes.Claims{Kind: codes.Offline, Generation: 2, StatusList: "offline-1", StatusIndex: 5})
	lists := trustsync.DirFor(e.trust).Lists
	if err := os.RemoveAll(lists); err != nil {
		t.Fatal(err)
	}
	out, _, code := runVerify(t, "", revoked, "--trust", e.trust, "--anchor", e.anchorPEM)
	if code != 3 || !strings.Contains(out, "status_list_missing") {
		t.Fatalf("without its list: exit %d\n%s", code, out)
	}
	// A list dir holding a list that is not the pinned one (e.g. an older
	// version saved under the pinned name): unknown.
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := trust.Verify(e.bundleJWS, e.anchor.Public(), time.Now())
	ref := b.StatusLists[0]
	other := issuer.NewStatusList("offline-1", issuer.MinStatusListSize)
	p, _ := issuer.NewStatusListPayload(other, time.Now(), time.Now().Add(time.Hour))
	otherJWS, _ := issuer.SignStatusList(e.anchor, p)
	e.write("trust.lists/offline-1."+ref.SM3+".jws", otherJWS+"\n")
	out, _, code = runVerify(t, "", revoked, "--trust", e.trust, "--anchor", e.anchorPEM)
	if code != 3 {
		t.Fatalf("with a list that is not the pinned one: exit %d\n%s", code, out)
	}
	if err := os.RemoveAll(lists); err != nil {
		t.Fatal(err)
	}

	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		if r.URL.Path != "/v1/status-lists/offline-1" || r.URL.Query().Get("sm3") != ref.SM3 {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(e.listJWS))
	}))
	defer srv.Close()
	out, _, code = runVerify(t, "", revoked, "--trust", e.trust, "--server", srv.URL, "--anchor", e.anchorPEM)
	if code != 1 || !strings.Contains(out, "revoked") || len(asked) != 1 {
		t.Fatalf("with --server: exit %d, asked %v\n%s", code, asked, out)
	}
	// Saved: the next run needs no server.
	srv.Close()
	out, _, code = runVerify(t, "", revoked, "--trust", e.trust, "--anchor", e.anchorPEM)
	if code != 1 || !strings.Contains(out, "revoked") {
		t.Fatalf("after the list was saved: exit %d\n%s", code, out)
	}
}
