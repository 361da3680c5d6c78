package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

// TestReadOnlyCommandsCreateNothing: pointed at a directory with no
// database, the commands that only read refuse with exit 2 and create no
// directory, database or secret — they used to create a new database and
// export its brand-new anchor, the wrong key to pin.
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	env := []string{"SUISHEN_DATA_DIR=" + data, "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}
	pin := filepath.Join(t.TempDir(), "anchor.pem") // outside root
	if err := os.WriteFile(pin, otherPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"keys", "list"}, {"keys", "export"}, {"audit", "verify", "--anchor", pin}, {"backup", "--out", filepath.Join(root, "b.db")}} {
		out, errOut, code := run(t, env, args...)
		if code != 2 || !strings.Contains(errOut, "no database at "+filepath.Join(data, "suishen.db")) || !strings.Contains(errOut, "SUISHEN_DATA_DIR") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		if out != "" {
			t.Errorf("%v printed %q", args, out)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("read-only commands created %v", entries)
	}

	// PostgreSQL: a database without Suishen's schema is not silently given one.
	pg := teststore.PostgresURL(t)
	penv := []string{"SUISHEN_DATABASE_URL=" + pg, "SUISHEN_ADMIN_TOKEN=" + strings.Repeat("t", 40), "SUISHEN_MASTER_KEY=" + strings.Repeat("ab", 16)}
	for _, args := range [][]string{{"keys", "list"}, {"keys", "export"}, {"audit", "verify", "--anchor", pin}} {
		_, errOut, code := run(t, penv, args...)
		if code != 2 || !strings.Contains(errOut, "no Suishen schema") {
			t.Errorf("PostgreSQL %v: exit %d, stderr %q", args, code, errOut)
		}
	}
	// After migrate, the same commands work.
	if _, errOut, code := run(t, penv, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	if out, errOut, code := run(t, penv, "keys", "list"); code != 0 || !strings.Contains(out, "anchor") {
		t.Fatalf("keys list after migrate: %d %q %q", code, out, errOut)
	}
}

// TestUsageErrorsExitTwo: every usage error of every command exits 2 with a
// usage hint, whether the command or the command-line parser found it.
func TestUsageErrorsExitTwo(t *testing.T) {
	env := []string{"SUISHEN_DATA_DIR=" + t.TempDir()}
	for _, args := range [][]string{
		{"bogus"}, {"keys", "bogus"}, {"keys", "list", "--bogus"}, {"keys", "rotate"}, {"keys", "list", "extra"},
		{"keys", "list", "--addr", "127.0.0.1:1"}, // flags only where they mean something
		{"audit", "verify", "extra"}, {"audit", "bogus"}, {"trust", "bogus"}, {"trust", "fetch", "--bogus"},
		{"import"}, {"import", "--bogus", "x"}, {"verify", "--bogus"}, {"serve", "extra"}, {"migrate", "--bogus"},
		{"version", "extra"}, {"backup"}, {"serve", "--addr"},
	} {
		_, errOut, code := run(t, env, args...)
		if code != 2 || !strings.Contains(errOut, "suishen:") || !(strings.Contains(errOut, "Usage") || strings.Contains(errOut, "--help")) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	// A group alone prints its help and succeeds.
	if out, _, code := run(t, env, "keys"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("keys alone: %d %q", code, out)
	}
}

// TestServeOnBusyPortGeneratesNoSecret: a start that cannot listen fails
// before it generates (and prints) an admin token or a master key.
func TestServeOnBusyPortGeneratesNoSecret(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := filepath.Join(t.TempDir(), "data")
	_, errOut, code := run(t, []string{"SUISHEN_DATA_DIR=" + data, "SUISHEN_ADDR=" + l.Addr().String(),
		"SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}, "serve")
	if code == 0 || !strings.Contains(errOut, "listen on "+l.Addr().String()) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, "admin token") {
		t.Fatalf("a failed start printed an admin token: %q", errOut)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a failed start created %s (%v)", data, err)
	}
}

// TestBackupWhileServingAndRestore: a backup taken while the server keeps
// writing restores into a server that has everything the backup saw, with an
// intact audit log.
func TestBackupWhileServingAndRestore(t *testing.T) {
	data := t.TempDir()
	env := []string{"SUISHEN_DATA_DIR=" + data, "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}
	n := startNode(t, env)
	tokenBytes, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	if st, _ := n.call("POST", "/v1/admin/departments", token, map[string]any{
		"name": "上海市市场监督管理局", "uscc": "11100000000013338W", "level": "省级", "certificate_types": []string{"11100000000021002F001"}}); st != 201 {
		t.Fatalf("department: %d", st)
	}
	// Keep writing while the backup runs.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load() && i < 2000; i++ {
			st, _ := n.call("POST", "/v1/admin/apps", token, map[string]any{"name": fmt.Sprintf("app %d", i), "uscc": "91350100M000100Y43",
				"scopes": []string{"verify"}, "certificate_types": []string{}})
			if st == 201 {
				written.Add(1)
			}
		}
	}()
	backup := filepath.Join(t.TempDir(), "suishen-backup.db")
	out, errOut, code := run(t, env, "backup", "--out", backup)
	stop.Store(true)
	wg.Wait()
	if code != 0 || !strings.Contains(out, backup) {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, fi)
	}
	if _, errOut, code := run(t, env, "backup", "--out", backup); code != 2 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("backup over an existing file: %d %q", code, errOut)
	}
	n.stop()

	// Restore into a fresh data directory with the same secrets.
	restored := t.TempDir()
	for _, f := range []string{"admin-token", "master-key"} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(restored, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "suishen.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	renv := []string{"SUISHEN_DATA_DIR=" + restored, "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL="}
	if out, errOut, code := auditVerify(t, renv, exportAnchor(t, renv)); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on the restored copy: %d %q %q", code, out, errOut)
	}
	r := startNode(t, renv)
	st, deps := r.call("GET", "/v1/admin/departments", token, nil)
	if st != 200 || len(deps["items"].([]any)) != 1 {
		t.Fatalf("departments after restore: %d %v", st, deps)
	}
	st, apps := r.call("GET", "/v1/admin/apps?limit=1", token, nil)
	if st != 200 {
		t.Fatalf("apps after restore: %d %v", st, apps)
	}
	// The restored server can still sign: its sealed keys opened with the master key.
	if st, body := r.call("GET", "/v1/trust", "", nil); st != 200 {
		t.Fatalf("trust bundle after restore: %d %v", st, body)
	}
	t.Logf("backup taken while %d apps were written", written.Load())
}

// TestMetricsOnSeparateListener: with SUISHEN_METRICS_ADDR the metrics are
// served there (Go, process, HTTP and domain series, clean for promtool) and
// no longer on the public listener.
func TestMetricsOnSeparateListener(t *testing.T) {
	maddr := freeAddr(t)
	n := startNode(t, []string{"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL=",
		"SUISHEN_METRICS_ADDR=" + maddr})
	if st, _ := n.call("GET", "/metrics", "", nil); st != 404 {
		t.Fatalf("/metrics on the public listener: %d", st)
	}
	res, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes", "suishen_http_requests_total", "suishen_signing_keys"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	tool, err := exec.LookPath("promtool")
	if err != nil {
		if teststore.RequirePostgres() {
			t.Fatal("promtool is missing and CI requires this check")
		}
		t.Skip("SKIPPING: promtool is not installed")
	}
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	if _, errOut, code := run(t, []string{"SUISHEN_METRICS_ADDR=nonsense", "SUISHEN_DATA_DIR=" + t.TempDir()}, "serve"); code != 2 || !strings.Contains(errOut, "SUISHEN_METRICS_ADDR") {
		t.Fatalf("bad SUISHEN_METRICS_ADDR: %d %q", code, errOut)
	}
	// The profiler is off unless asked for, and only ever on this listener.
	if res, err := http.Get("http://" + maddr + "/debug/pprof/"); err != nil || res.StatusCode != 404 {
		t.Fatalf("/debug/pprof/ without SUISHEN_PPROF: %v %v", res, err)
	}
	if _, errOut, code := run(t, []string{"SUISHEN_PPROF=true", "SUISHEN_METRICS_ADDR=", "SUISHEN_DATA_DIR=" + t.TempDir()}, "serve"); code != 2 || !strings.Contains(errOut, "SUISHEN_PPROF") {
		t.Fatalf("SUISHEN_PPROF without a metrics listener: %d %q", code, errOut)
	}
}

// TestPprofOnTheMetricsListener: SUISHEN_PPROF=true serves Go's profiler
// beside /metrics on the operator's listener, and never on the public one.
func TestPprofOnTheMetricsListener(t *testing.T) {
	maddr := freeAddr(t)
	n := startNode(t, []string{"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL=",
		"SUISHEN_METRICS_ADDR=" + maddr, "SUISHEN_PPROF=true"})
	if st, _ := n.call("GET", "/debug/pprof/", "", nil); st != 404 {
		t.Fatalf("the profiler on the public listener: %d", st)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/metrics"} {
		res, err := http.Get("http://" + maddr + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s on the metrics listener: %d", path, res.StatusCode)
		}
	}
}

// TestImportTellsWhatWasRejected: rejected rows are always summarised on
// stderr in line order (first 20), the report holds only rejected rows
// unless duplicates are asked for, a wrong header or an empty file is a
// rejected file (exit 1) and never "0 rows rejected" with success, and no
// progress bar is drawn into a pipe.
func TestImportTellsWhatWasRejected(t *testing.T) {
	token := "operator-token-0123456789abcdef0123"
	env := []string{"SUISHEN_ADMIN_TOKEN=" + token, "SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff",
		"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_DATABASE_URL="}
	n := startNode(t, env)
	if st, _ := n.call("POST", "/v1/admin/departments", token, map[string]any{"name": "徐汇区市场监督管理局",
		"uscc": "11100000000013338W", "level": "区县级", "certificate_types": []string{"11100000000021001C001"}}); st != 201 {
		t.Fatalf("department: %d", st)
	}
	n.stop()
	csvData, err := exec.Command("go", "run", "../../tools/gencerts", "-n", "300").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(csvData), "\n"), "\n")
	// 25 broken rows spread over the file (lines 12, 22, … 252), some of them
	// in the same batch as good rows.
	for i := 11; i < 260; i += 10 {
		lines[i] = "only,three,columns"
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "licences.csv")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, env, "import", "--department", "11100000000013338W", "--batch", "50", file)
	if code != 1 || !strings.Contains(out, "imported 275 certificates") || !strings.Contains(out, "25 rows rejected") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(errOut, "importing") || strings.Contains(errOut, "\r") {
		t.Fatalf("a progress bar was written into a pipe: %q", errOut)
	}
	var shown []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "line ") {
			shown = append(shown, l)
		}
	}
	if len(shown) != 20 || !strings.HasPrefix(shown[0], "line 12: ") || !strings.HasPrefix(shown[19], "line 202: ") ||
		!strings.Contains(errOut, "… and 5 more rejected rows; run again with --report FILE") {
		t.Fatalf("stderr summary:\n%s", errOut)
	}
	for _, bad := range []string{"issuer:", "issuance:", "store:"} {
		if strings.Contains(errOut, bad) {
			t.Fatalf("stderr leaks an internal error chain (%s):\n%s", bad, errOut)
		}
	}

	// Re-run with a report: only the 25 rejected rows, in line order; the
	// 275 duplicates only when asked for.
	report := filepath.Join(dir, "report.csv")
	out, errOut, code = run(t, env, "import", "--department", "11100000000013338W", "--batch", "50", "--report", report, file)
	if code != 1 || !strings.Contains(out, "275 duplicates skipped") || !strings.Contains(errOut, "all of them are in "+report) {
		t.Fatalf("re-run: exit %d\n%s\n%s", code, out, errOut)
	}
	rep, _ := os.ReadFile(report)
	rows := strings.Split(strings.TrimSpace(string(rep)), "\n")
	if len(rows) != 26 || !strings.HasPrefix(rows[1], "12,") || !strings.HasPrefix(rows[25], "252,") || strings.Contains(string(rep), "duplicate") {
		t.Fatalf("report:\n%s", rep)
	}
	for i := 2; i < len(rows); i++ {
		a, _ := strconv.Atoi(strings.SplitN(rows[i-1], ",", 2)[0])
		b, _ := strconv.Atoi(strings.SplitN(rows[i], ",", 2)[0])
		if a > b {
			t.Fatalf("report not in line order at %d: %s / %s", i, rows[i-1], rows[i])
		}
	}
	report2 := filepath.Join(dir, "report2.csv")
	_, _, _ = run(t, env, "import", "--department", "11100000000013338W", "--quiet", "--report", report2, "--report-duplicates", file)
	rep, _ = os.ReadFile(report2)
	if got := strings.Count(string(rep), ",duplicate,"); got != 275 {
		t.Fatalf("--report-duplicates listed %d duplicates", got)
	}

	// A wrong header and an empty file are rejected files, not silent successes.
	wrong := filepath.Join(dir, "wrong.csv")
	os.WriteFile(wrong, []byte("a,b,c\n1,2,3\n"), 0o644)
	out, errOut, code = run(t, env, "import", "--department", "11100000000013338W", wrong)
	if code != 1 || !strings.Contains(errOut, "the file was rejected: line 1:") || !strings.Contains(errOut, "expected columns: type_code") {
		t.Fatalf("wrong header: exit %d\n%s\n%s", code, out, errOut)
	}
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	if _, errOut, code = run(t, env, "import", "--department", "11100000000013338W", empty); code != 1 || !strings.Contains(errOut, "empty") {
		t.Fatalf("empty file: exit %d\n%s", code, errOut)
	}
	if _, errOut, code = run(t, env, "import", "--department", "11100000000013338W", filepath.Join(dir, "missing.csv")); code != 2 {
		t.Fatalf("missing file: exit %d %s", code, errOut)
	}
}

// TestTracingExportsSpans: with an OTLP endpoint in the standard variables,
// every request becomes a server span named by its route pattern (never the
// concrete path), carrying the request ID, continuing the caller's trace
// (traceparent), exported over OTLP/HTTP to the collector.
func TestTracingExportsSpans(t *testing.T) {
	var mu sync.Mutex
	var spans []*tracepb.Span
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	defer collector.Close()
	n := startNode(t, []string{"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY=", "SUISHEN_DATABASE_URL=",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + collector.URL + "/v1/traces", "OTEL_BSP_SCHEDULE_DELAY=100"})
	req, _ := http.NewRequest("GET", "http://"+n.addr+"/v1/certificates/1.2.156.3005.2.X/status", nil)
	req.Header.Set("X-Request-ID", "trace-test-0001")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	n.stop() // flushes the batch
	mu.Lock()
	defer mu.Unlock()
	var found *tracepb.Span
	for _, sp := range spans {
		for _, a := range sp.Attributes {
			if a.Key == "suishen.request_id" && a.Value.GetStringValue() == "trace-test-0001" {
				found = sp
			}
		}
	}
	if found == nil {
		t.Fatalf("no span with the request ID among %d spans", len(spans))
	}
	if found.Name != "GET /v1/certificates/:id/status" || found.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Fatalf("span %q kind %v", found.Name, found.Kind)
	}
	if fmt.Sprintf("%x", found.TraceId) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("the span does not continue the caller's trace: %x", found.TraceId)
	}
	for _, a := range found.Attributes {
		if strings.Contains(a.Value.GetStringValue(), "1.2.156.3005.2.X") {
			t.Fatalf("a concrete identifier reached the trace in %s", a.Key)
		}
	}
}

// TestTracingOffByDefault: without OTEL_* variables nothing is exported.
func TestTracingOffByDefault(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		if got := tracingEnabled(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: enabled %v", c.env, got)
		}
	}
}

// TestSweepExpired: the serve loop's sweeper deletes expired sessions and
// sign-in tickets and keeps live ones.
func TestSweepExpired(t *testing.T) {
	st := teststore.SQLite(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, exp := range []time.Time{now.Add(-time.Minute), now.Add(time.Hour)} {
		if err := st.CreateSession(ctx, store.Session{TokenHash: []byte{byte(i)}, Subject: "s", HolderKind: "person", DisplayName: "张*",
			CreatedBy: "t", CreatedAt: now.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateLoginTicket(ctx, store.LoginTicket{TicketHash: []byte{byte(i)}, Subject: "s", HolderKind: "person", DisplayName: "张*",
			CreatedBy: "t", CreatedAt: now.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sweepExpired(sctx, st, slog.Default(), 20*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errGone := st.GetSession(ctx, []byte{0}, now.Add(-2*time.Minute)) // as if before expiry: found only if the row is there
		_, errLive := st.GetSession(ctx, []byte{1}, now)
		if errors.Is(errGone, store.ErrNotFound) && errLive == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not swept: %v %v", errGone, errLive)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := st.UseLoginTicket(ctx, []byte{1}, now); err != nil {
		t.Fatalf("a live ticket was swept: %v", err)
	}
	if n, err := st.DeleteExpiredLoginTickets(ctx, now); err != nil || n != 0 {
		t.Fatalf("the expired ticket was left: %d %v", n, err)
	}
}
