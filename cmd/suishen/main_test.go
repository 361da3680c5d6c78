package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store/teststore"
)

var binary string

// TestMain builds the real binary once; the tests run it as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "suishen-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "suishen")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer the test may read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one running `suishen serve`.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	stdout *syncBuffer
}

func run(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func startNode(t *testing.T, env []string) *node {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(append(os.Environ(), env...), "SUISHEN_ADDR="+addr, "SUISHEN_SHUTDOWN_GRACE=5s")
	n := &node{t: t, cmd: cmd, addr: addr, stderr: &syncBuffer{}, stdout: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = n.stdout, n.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.stop() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return n
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not become ready:\n%s\n%s", n.stdout, n.stderr)
	return nil
}

func (n *node) stop() {
	if n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.t.Errorf("serve exited with %v after SIGTERM:\n%s", err, n.stderr)
		}
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		n.t.Error("serve did not stop after SIGTERM")
	}
}

func (n *node) call(method, path, token string, body any) (int, map[string]any) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+n.addr+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"version", "--help"},
		{"keys", "--help"}, {"keys", "rotate", "--help"}, {"keys", "export", "--help"}, {"trust", "fetch", "--help"}, {"audit", "verify", "--help"}} {
		out, errOut, code := run(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	out, _, code := run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "suishen ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	_, errOut, code := run(t, []string{"SUISHEN_CODE_TTL=soon", "SUISHEN_DATA_DIR=" + t.TempDir()}, "serve")
	if code != 2 || !strings.Contains(errOut, "SUISHEN_CODE_TTL") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = run(t, []string{"SUISHEN_DATABASE_URL=postgres://127.0.0.1:1/x", "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY="}, "serve")
	if code != 2 || !strings.Contains(errOut, "SUISHEN_ADMIN_TOKEN") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestEmbeddedFirstStartAndRestart: the README's first command on a fresh
// data directory, then a restart that keeps everything.
func TestEmbeddedFirstStartAndRestart(t *testing.T) {
	data := t.TempDir()
	env := []string{"SUISHEN_DATA_DIR=" + data, "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}
	n := startNode(t, env)
	tokenBytes, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	if !strings.Contains(n.stderr.String(), token) {
		t.Fatal("the generated admin token was not printed")
	}
	for _, f := range []string{"admin-token", "master-key"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, st.Mode())
		}
	}
	status, dep := n.call("POST", "/v1/admin/departments", token, map[string]any{
		"name": "上海市市场监督管理局", "uscc": "11100000000013338W", "level": "省级", "certificate_types": []string{"11100000000021002F001"}})
	if status != 201 {
		t.Fatalf("create department: %d %v", status, dep)
	}
	n.stop()
	if strings.Contains(n.stdout.String(), token) || strings.Contains(n.stdout.String(), dep["api_key"].(string)) {
		t.Fatal("the log contains a secret")
	}
	// Restart: the token is not printed again and the data is still there.
	n2 := startNode(t, env)
	if strings.Contains(n2.stderr.String(), token) {
		t.Fatal("the admin token was printed again")
	}
	status, list := n2.call("GET", "/v1/admin/departments", token, nil)
	if status != 200 || len(list["items"].([]any)) != 1 {
		t.Fatalf("after restart: %d %v", status, list)
	}
	if status, _ := n2.call("GET", "/v1/admin/departments", dep["api_key"].(string), nil); status != 403 {
		t.Fatalf("department key after restart: %d", status)
	}
	anchor := exportAnchor(t, env)
	n2.stop()
	out, errOut, code := auditVerify(t, env, anchor)
	if code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %d %s %s", code, out, errOut)
	}
}

// TestOperatorCommands runs the key and trust commands against both
// backends: rotate, export the anchor, fetch and verify the bundle.
func TestOperatorCommands(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			env := []string{"SUISHEN_ADMIN_TOKEN=operator-token-0123456789abcdef0123", "SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff",
				"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_DATABASE_URL="}
			if backend == "postgres" {
				env[3] = "SUISHEN_DATABASE_URL=" + teststore.PostgresURL(t)
			}
			out, errOut, code := run(t, env, "migrate")
			if code != 0 || !strings.Contains(out, backend+" schema at version") {
				t.Fatalf("migrate: %d %s %s", code, out, errOut)
			}
			n := startNode(t, env)
			pem, _, code := run(t, env, "keys", "export")
			if code != 0 || !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----") {
				t.Fatalf("export: %d %s", code, pem)
			}
			dir := t.TempDir()
			anchor := filepath.Join(dir, "anchor.pem")
			os.WriteFile(anchor, []byte(pem), 0o644)
			bundle := filepath.Join(dir, "trust.jws")
			out, errOut, code = run(t, env, "trust", "fetch", "--server", "http://"+n.addr, "--anchor", anchor, "--out", bundle)
			if code != 0 || !strings.Contains(out, "saved trust bundle") {
				t.Fatalf("trust fetch: %d %s %s", code, out, errOut)
			}
			// A wrong pin is refused.
			other := filepath.Join(dir, "other.pem")
			os.WriteFile(other, otherPEM(t), 0o644)
			if _, _, code := run(t, env, "trust", "fetch", "--server", "http://"+n.addr, "--anchor", other, "--out", bundle); code != 1 {
				t.Fatalf("wrong anchor accepted: exit %d", code)
			}
			out, _, code = run(t, env, "keys", "rotate", "code")
			if code != 0 || !strings.Contains(out, "retired") {
				t.Fatalf("rotate: %d %s", code, out)
			}
			if _, _, code := run(t, env, "keys", "rotate", "planet"); code != 2 {
				t.Fatalf("bad role: exit %d", code)
			}
			out, _, _ = run(t, env, "keys", "list")
			sc := bufio.NewScanner(strings.NewReader(out))
			retired := 0
			for sc.Scan() {
				if strings.Contains(sc.Text(), " retired ") {
					retired++
				}
			}
			if retired != 1 {
				t.Fatalf("keys list:\n%s", out)
			}
			// The server picks up the CLI's rotation within its reload interval.
			deadline := time.Now().Add(15 * time.Second)
			for {
				_, jwks := n.call("GET", "/.well-known/jwks.json", "", nil)
				if strings.Count(fmt.Sprint(jwks), "retired") == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("server did not pick up the rotation: %v", jwks)
				}
				time.Sleep(200 * time.Millisecond)
			}
			n.stop()
			// Pinned before the rotation of the code key; the anchor is unchanged.
			if out, _, code := auditVerify(t, env, anchor); code != 0 {
				t.Fatalf("audit verify: %s", out)
			}
		})
	}
}

// otherPEM is an SM2 public key that is not the anchor.
func otherPEM(t *testing.T) []byte {
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := signing.MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

// TestImport issues certificates in bulk through the CLI on both backends:
// bad rows are reported with their line numbers, a re-run issues nothing
// twice, and the server sees the imported certificates.
func TestImport(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			token := "operator-token-0123456789abcdef0123"
			env := []string{"SUISHEN_ADMIN_TOKEN=" + token, "SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff",
				"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_DATABASE_URL="}
			if backend == "postgres" {
				env[3] = "SUISHEN_DATABASE_URL=" + teststore.PostgresURL(t)
			}
			n := startNode(t, env)
			status, dep := n.call("POST", "/v1/admin/departments", token, map[string]any{"name": "徐汇区市场监督管理局",
				"uscc": "11100000000013338W", "level": "区县级", "certificate_types": []string{"11100000000021001C001"}})
			if status != 201 {
				t.Fatalf("department: %d", status)
			}
			dir := t.TempDir()
			gen := exec.Command("go", "run", "../../tools/gencerts", "-n", "2500")
			csvData, err := gen.Output()
			if err != nil {
				t.Fatal(err)
			}
			// Break two rows: line 11 gets a wrong USCC check character, line 21
			// is not CSV at all.
			lines := strings.Split(strings.TrimRight(string(csvData), "\n"), "\n")
			cols := strings.SplitN(lines[10], ",", 7)
			last := cols[5][17]
			cols[5] = cols[5][:17] + map[bool]string{true: "1", false: "0"}[last == '0']
			lines[10] = strings.Join(cols, ",")
			lines[20] = "only,three,columns"
			file := filepath.Join(dir, "licences.csv")
			os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
			report := filepath.Join(dir, "errors.csv")
			out, errOut, code := run(t, env, "import", "--department", "11100000000013338W", "--report", report, "--batch", "700", file)
			if code != 1 || !strings.Contains(out, "imported 2498 certificates") || !strings.Contains(out, "2 rows rejected") {
				t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
			}
			rep, _ := os.ReadFile(report)
			if !strings.Contains(string(rep), "11,holder.id_number,check_character") || !strings.Contains(string(rep), "21,") {
				t.Fatalf("report:\n%s", rep)
			}
			// Re-running issues nothing twice.
			out, _, _ = run(t, env, "import", "--department", "11100000000013338W", "--quiet", file)
			if !strings.Contains(out, "imported 0 certificates") || !strings.Contains(out, "2498 duplicates skipped") {
				t.Fatalf("re-run: %s", out)
			}
			// The server lists them, and each one's status is public.
			status, page := n.call("GET", "/v1/certificates?limit=500", dep["api_key"].(string), nil)
			if status != 200 || len(page["items"].([]any)) != 500 || page["next_cursor"] == nil {
				t.Fatalf("list: %d", status)
			}
			if _, _, code := run(t, env, "import", file); code != 2 {
				t.Fatalf("missing --department: exit %d", code)
			}
			if out, _, code := auditVerify(t, env, exportAnchor(t, env)); code != 0 {
				t.Fatalf("audit verify after import: %s", out)
			}
		})
	}
}

// TestREADMEWalkthrough runs the README's walkthrough blocks as a new user
// would paste them (with this test's binary for `go run ./cmd/suishen` and
// this test's address for the server), so the README cannot drift from the
// code.
func TestREADMEWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to run the README")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(string(readme), "\n") {
		switch {
		case line == "```sh":
			in, cur = true, nil
		case line == "```" && in:
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	// Block 0 is the two commands, the last two are PostgreSQL and tests; the
	// walkthrough and the OpenSSL check are the ones in between.
	var script string
	for _, b := range blocks {
		if strings.Contains(b, "export S=") || strings.Contains(b, "openssl pkeyutl") {
			script += b + "\n"
		}
	}
	if !strings.Contains(script, "/v1/certificates") || !strings.Contains(script, "openssl pkeyutl") {
		t.Fatalf("walkthrough blocks not found in the README")
	}
	dir := t.TempDir()
	env := []string{"SUISHEN_DATA_DIR=" + filepath.Join(dir, "data"), "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}
	n := startNode(t, env)
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", "http://"+n.addr)
	script = strings.ReplaceAll(script, "go run ./cmd/suishen", binary)
	// A new user pastes it twice on the same data directory: the second
	// paste must work as well (idempotency keys, no duplicates refused).
	for paste := 1; paste <= 2; paste++ {
		cmd := exec.Command("bash", "-eu", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("paste %d of the README walkthrough failed: %v\n%s", paste, err, out)
		}
		checkWalkthroughOutput(t, paste, out)
	}
}

func checkWalkthroughOutput(t *testing.T, paste int, out []byte) {
	t.Helper()
	for _, want := range []string{`"status":"ok"`, `"code":"validation_failed"`, `"masked_name":"张*"`, "1.2.156.3005.2.11100000000021001C001.",
		`"status":"suspended"`, "VALID personal code", `"result":"valid"`, `"channel":"verify"`, `"status":"exempted"`, `"code":"service_item_not_entitled"`, "saved trust bundle", "audit log intact", "EX-GAOLING-310117", "Signature Verified Successfully", `"openapi": "3.1.0"`, "Open in a browser: http://", "/login/slt_", "/scan: 200 text/html",
		"仅供某银行上海分行办理开户使用", "copy page: 200 text/html", "VALID copy code"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("paste %d: the walkthrough output lacks %q", paste, want)
		}
	}
	if t.Failed() {
		t.Fatalf("paste %d output:\n%s", paste, out)
	}
}
