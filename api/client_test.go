package api

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// callerProgram drives the generated client (package main beside it)
// against the server at SUISHEN_URL: register a department and an app,
// issue a certificate, verify its JWS, read its status, and see a 409 as a
// typed problem. It prints one JSON line of what it saw.
const callerProgram = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

func bearer(tok string) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := NewClientWithResponses(os.Getenv("SUISHEN_URL"))
	if err != nil {
		fail("client: %v", err)
	}
	admin := bearer(os.Getenv("SUISHEN_ADMIN"))
	key := "client-test-1"

	dep, err := c.PostV1AdminDepartmentsWithResponse(ctx, &PostV1AdminDepartmentsParams{IdempotencyKey: &key}, PostV1AdminDepartmentsJSONRequestBody{
		Name: "市市场监督管理局", Uscc: "11100000000013338W", Level: DepartmentRequestLevel("地市级"),
		CertificateTypes: []string{"11100000000021001C001"}}, admin)
	if err != nil || dep.JSON201 == nil {
		fail("department: %v %d %s", err, dep.StatusCode(), dep.Body)
	}
	app, err := c.PostV1AdminAppsWithResponse(ctx, &PostV1AdminAppsParams{}, PostV1AdminAppsJSONRequestBody{
		Name: "某银行", Uscc: "91350100M000100Y43", Scopes: []AppRequestScopes{AppRequestScopes("verify")},
		CertificateTypes: []interface{}{"11100000000021001C001"}}, admin)
	if err != nil || app.JSON201 == nil {
		fail("app: %v %d %s", err, app.StatusCode(), app.Body)
	}

	long := true
	body := PostV1CertificatesJSONRequestBody{
		TypeCode: "11100000000021001C001", Number: "G-1", AreaCode: "310104", LongTerm: &long,
		ValidFrom: openapi_types.Date{Time: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		Holder: HolderBody{Kind: HolderBodyKind("enterprise"), Name: "上海某某科技有限公司", IdType: HolderBodyIdType("001"), IdNumber: "91350100M000100Y43"},
		Fields: map[string]interface{}{
			"name": "上海某某科技有限公司", "entity_type": "有限责任公司（自然人投资或控股）", "legal_representative": "张三",
			"registered_capital": "100万元人民币", "establishment_date": "2024-03-01", "domicile": "上海市徐汇区虹桥路1号",
			"business_scope": "技术开发、技术咨询", "registration_authority": "上海市徐汇区市场监督管理局",
		},
	}
	cert, err := c.PostV1CertificatesWithResponse(ctx, &PostV1CertificatesParams{}, body, bearer(dep.JSON201.ApiKey))
	if err != nil || cert.JSON201 == nil {
		fail("issue: %v %d %s", err, cert.StatusCode(), cert.Body)
	}
	again, err := c.PostV1CertificatesWithResponse(ctx, &PostV1CertificatesParams{}, body, bearer(dep.JSON201.ApiKey))
	if err != nil || again.ApplicationproblemJSON409 == nil {
		fail("issue again: %v %d %s", err, again.StatusCode(), again.Body)
	}

	jws := cert.JSON201.Jws
	ver, err := c.PostV1VerifyWithResponse(ctx, PostV1VerifyJSONRequestBody{Jws: &jws}, bearer(app.JSON201.ApiKey))
	if err != nil || ver.JSON200 == nil {
		fail("verify: %v %d %s", err, ver.StatusCode(), ver.Body)
	}
	st, err := c.GetV1CertificatesIdStatusWithResponse(ctx, cert.JSON201.Id)
	if err != nil || st.JSON200 == nil {
		fail("status: %v %d %s", err, st.StatusCode(), st.Body)
	}
	out, _ := json.Marshal(map[string]any{
		"certificate_id":     cert.JSON201.Id,
		"document_identifier": cert.JSON201.Document.Identifier,
		"document_holder":    cert.JSON201.Document.Holders[0].Name,
		"conflict_code":      again.ApplicationproblemJSON409.Code,
		"verify_result":      string(ver.JSON200.Result),
		"verify_kind":        string(ver.JSON200.Kind),
		"status":             string(st.JSON200.Status),
	})
	fmt.Println(string(out))
}
`

// TestGeneratedClient generates a Go client from this server's
// /openapi.json with oapi-codegen (an independent generator, pinned by the
// tool directive in go.mod), builds it with a small program, and lets that
// program call the real server on both backends: it registers a department
// and an app, issues a certificate, sees the duplicate as a typed 409
// problem, verifies the certificate and reads its status.
func TestGeneratedClient(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING the generated-client test in -short mode (it builds a program)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, h *harness) {
		raw, err := json.Marshal(h.must(200, h.do("GET", "/openapi.json", "", nil)))
		if err != nil {
			t.Fatal(err)
		}
		// The program lives inside the module (so it builds with the
		// module's pinned dependencies) in a testdata directory that
		// ./... ignores; it is removed afterwards.
		base := filepath.Join(root, "internal", "apiclient", "testdata")
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
		dir, err := os.MkdirTemp(base, "run-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		spec := filepath.Join(dir, "openapi.json")
		cfg, err := os.ReadFile(filepath.Join(root, "internal", "apiclient", "oapi-codegen.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string][]byte{
			"openapi.json":      raw,
			"oapi-codegen.yaml": []byte(strings.Replace(string(cfg), "package: client", "package: main", 1)),
			"main.go":           []byte(callerProgram),
		} {
			if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gen := exec.Command("go", "tool", "oapi-codegen", "-config", filepath.Join(dir, "oapi-codegen.yaml"), "-o", filepath.Join(dir, "client.gen.go"), spec)
		gen.Dir = root
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("oapi-codegen: %v\n%s", err, out)
		}
		rel, _ := filepath.Rel(root, dir)
		run := exec.Command("go", "run", "./"+filepath.ToSlash(rel))
		run.Dir = root
		run.Env = append(os.Environ(), "SUISHEN_URL="+h.ts.URL, "SUISHEN_ADMIN="+testAdminToken)
		start := time.Now()
		out, err := run.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("generated client program: %v\n%s%s", err, out, stderr)
		}
		t.Logf("generated client: built and ran in %s", time.Since(start).Round(time.Second))
		var got map[string]string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("program output %q: %v", out, err)
		}
		if got["certificate_id"] == "" || got["document_identifier"] != got["certificate_id"] || got["document_holder"] != "上海某某科技有限公司" ||
			got["conflict_code"] != "already_exists" || got["verify_result"] != "valid" || got["verify_kind"] != "certificate" || got["status"] != "valid" {
			t.Fatalf("the generated client saw %v", got)
		}
	})
}
