package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
)

// TestSystemdUnit checks deploy/suishen.service with systemd's own analyser:
// it parses and verifies (with the real binary at ExecStart), and its
// sandboxing scores "OK" or better in `systemd-analyze security`.
func TestSystemdUnit(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if teststore.RequirePostgres() {
			t.Fatal("systemd-analyze is missing and CI requires this test (apt-get install systemd)")
		}
		t.Skip("SKIPPING: systemd-analyze is not installed")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "deploy", "suishen.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "ExecStart=/usr/local/bin/suishen serve"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	// verify needs ExecStart to exist: point it at the binary under test.
	path := filepath.Join(t.TempDir(), "suishen.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/suishen", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(tool, "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for suishen.service: ([0-9.]+) (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 {
		t.Fatalf("exposure %s %s, want ≤ 2.0 (OK):\n%s", m[1], m[2], out)
	}
}
