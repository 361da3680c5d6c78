package api

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
)

// requireTool skips a test whose external tool is missing, except in CI
// (CI or SUISHEN_REQUIRE_POSTGRES set), where it fails: .ci/run installs it.
func requireTool(t *testing.T, path, install string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if os.Getenv("CI") != "" || os.Getenv("SUISHEN_REQUIRE_POSTGRES") != "" {
		t.Fatalf("%s is missing; run %s", path, install)
	}
	t.Skipf("SKIPPING: %s is missing; run %s", path, install)
}

// TestOpenAPILint lints /openapi.json with the pinned Redocly CLI and its
// recommended rules: no errors (warnings are printed).
func TestOpenAPILint(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".tools/redocly/node_modules/.bin/redocly")
	requireTool(t, bin, "tools/redocly/install.sh")
	h := newHarness(t, teststore.Backends()[0].Open(t))
	doc := h.must(200, h.do("GET", "/openapi.json", "", nil))
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lint", "--config", filepath.Join(root, "tools/redocly/redocly.yaml"), "--format", "stylish", file)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	text := string(out)
	var findings []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, " error ") || strings.Contains(l, " warning ") {
			findings = append(findings, strings.TrimSpace(l))
		}
	}
	for _, f := range findings {
		t.Log(f)
	}
	if err != nil || strings.Contains(text, " error ") {
		t.Fatalf("redocly lint found errors (exit %v):\n%s", err, text)
	}
	if !strings.Contains(text, "valid") {
		t.Fatalf("redocly lint printed no verdict:\n%s", text)
	}
}
