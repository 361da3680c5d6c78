package api

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
)

// TestDomainMetrics: after an issuance, a suspension, codes, verifications
// and a usage record, /metrics says so in domain terms, and the exposition
// passes `promtool check metrics` (Prometheus's own linter).
func TestDomainMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		_, dep := h.department(uscc2)
		_, gw := h.app("identity-gateway")
		_, app := h.app("verify")
		cert := h.must(201, h.do("POST", "/v1/certificates", dep, idCardBody("M-1")))
		h.must(200, h.do("POST", "/v1/certificates/"+cert["id"].(string)+"/suspend", dep, map[string]any{"reason": "暂扣"}))
		holder := h.holder(gw)
		code := h.must(200, h.do("POST", "/v1/me/codes/personal", holder, nil))["code"].(string)
		h.must(201, h.do("POST", "/v1/me/codes/offline", holder, nil))
		h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"code": code}))
		h.must(200, h.do("POST", "/v1/verify", app, map[string]any{"code": "SS1:NOTACODE"}))

		body := string(h.do("GET", "/metrics", "", nil).Body)
		for _, want := range []string{
			`suishen_certificates_total{action="issue",type_code="` + typeIDCard + `"} 1`,
			`suishen_certificates_total{action="suspend",type_code="` + typeIDCard + `"} 1`,
			`suishen_codes_issued_total{kind="personal"} 1`,
			`suishen_codes_issued_total{kind="offline"} 1`,
			`suishen_verifications_total{channel="verify",reason="none",result="valid"} 1`,
			`suishen_verifications_total{channel="verify",reason="malformed",result="invalid"} 1`,
			`suishen_usage_records_total{channel="verify",result="valid"} 1`,
			`suishen_signing_keys{role="anchor",status="active"} 1`,
			`suishen_signing_keys{role="department",status="active"} 1`,
			`suishen_signing_key_active_age_seconds{role="code"}`,
			`suishen_trust_bundle_age_seconds `,
			`suishen_audit_unsealed_entries `,
			`suishen_db_pool_waits_total `,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, personID) || strings.Contains(body, "张三") {
			t.Fatal("metrics carry personal data")
		}
		promtool(t, body)
	})
}

// promtool lints an exposition with Prometheus's own checker. It must run
// in CI (.ci/run installs it).
func promtool(t *testing.T, exposition string) {
	t.Helper()
	tool, err := exec.LookPath("promtool")
	if err != nil {
		if teststore.RequirePostgres() {
			t.Fatal("promtool is missing and CI requires this check (apt-get install prometheus)")
		}
		t.Skip("SKIPPING: promtool is not installed")
	}
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
