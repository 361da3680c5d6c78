package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/cases"
	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/matching"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
)

const testAdminToken = "test-admin-token-0123456789abcdef"

// clock is a settable test clock.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	real bool // follow the wall clock (browser tests); Add does nothing then
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now()
	}
	return c.t
}
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is one server on one backend behind a real HTTP listener.
type harness struct {
	t     testing.TB
	st    store.Store
	srv   *Server
	ts    *httptest.Server
	clock *clock
	cfg   config.Config
	bm    *matching.Service
}

// settle waits until the 免申即享 worker has evaluated every certificate
// change and finished every queued full match.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.bm.WaitIdle(ctx); err != nil {
		h.t.Fatalf("the 免申即享 worker did not settle: %v", err)
	}
}

// forEachBackend runs f against SQLite and PostgreSQL. The test is a
// parallel test, and its two backends run side by side: each has its own
// store, server and clock, and f must change nothing they share (package
// variables, the environment, files outside t.TempDir). Call it first in a
// test, from the test's own function. Parallel tests start once the serial
// ones (browser tests, tests of the wall clock or of faults) are done.
func forEachBackend(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Parallel()
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f(t, newHarness(t, b.Open(t)))
		})
	}
}

// forEachBackendSerial is forEachBackend as a serial test, one backend after
// the other, for browser tests (they share one Chromium, and pages on a busy
// machine are slow).
func forEachBackendSerial(t *testing.T, f func(t *testing.T, h *harness)) {
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f(t, newHarness(t, b.Open(t)))
		})
	}
}

func testConfig(t testing.TB) config.Config {
	cfg, err := config.Load(func(string) string { return "" }, map[string]string{
		"SUISHEN_ADMIN_TOKEN": testAdminToken,
		"SUISHEN_MASTER_KEY":  "00112233445566778899aabbccddeeff",
		"SUISHEN_DATA_DIR":    t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newHarness(t testing.TB, st store.Store) *harness {
	return newHarnessWith(t, st, nil)
}

// newHarnessWith is newHarness with the configuration changed by edit.
func newHarnessWith(t testing.TB, st store.Store, edit func(*config.Config)) *harness {
	cfg := testConfig(t)
	if edit != nil {
		edit(&cfg)
	}
	clk := &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
	var logTo io.Writer = io.Discard
	if os.Getenv("SUISHEN_TEST_LOG") != "" { // show the server's log while debugging a test
		logTo = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	ring, err := keyring.Open(context.Background(), st, cfg.MasterKey, clk.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	iss := &issuance.Service{Store: st, Keys: ring, Subjects: principal.NewSubjects(cfg.MasterKey), Now: clk.Now,
		ShuffleKey: signing.DeriveKey(cfg.MasterKey, "suishen/status-shuffle/v1")}
	if err := iss.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	cs := &codeservice.Service{Store: st, Keys: ring, Now: clk.Now, CodeTTL: cfg.CodeTTL,
		SubjectKey: signing.DeriveKey(cfg.MasterKey, "suishen/code-subject/v1"),
		ShuffleKey: signing.DeriveKey(cfg.MasterKey, "suishen/status-shuffle/v1")}
	bm := &matching.Service{Store: st, Type: iss.Type, Now: clk.Now, Log: log, Rematch: cfg.BenefitRematch}
	if err := bm.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	cw := &casework.Service{Store: st, Issuance: iss, Now: clk.Now}
	if err := cw.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := New(Deps{
		Store: st, Config: cfg, Now: clk.Now, Keys: ring, Issuance: iss, Codes: cs, Cases: cw, Benefits: bm,
		Log:      log,
		Subjects: principal.NewSubjects(cfg.MasterKey),
		Admin:    principal.NewAdminMatcher(testAdminToken),
		Version:  "test",
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	// The 免申即享 worker runs as under serve: it drains the outbox of
	// certificate changes and runs full matches in the background.
	bmCtx, stopBM := context.WithCancel(context.Background())
	bmDone := make(chan struct{})
	go func() { defer close(bmDone); bm.Run(bmCtx) }()
	t.Cleanup(func() { stopBM(); <-bmDone })
	return &harness{t: t, st: st, srv: srv, ts: ts, clock: clk, cfg: cfg, bm: bm}
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// problem decodes a problem response and checks its media type.
func (r resp) problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (status %d, body %s)", ct, r.Status, r.Body)
	}
	var p Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != r.Status || p.Code == "" || p.Type == "" || p.Title == "" {
		t.Fatalf("incomplete problem: %s", r.Body)
	}
	return p
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (encoded as JSON). Extra headers come in pairs.
func (h *harness) do(method, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must asserts a status and returns the JSON body.
func (h *harness) must(status int, r resp) map[string]any {
	h.t.Helper()
	if r.Status != status {
		h.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(h.t)
}

// Sample identifiers that pass their check characters.
const (
	uscc1       = "91350100M000100Y43"
	uscc2       = "11100000000013338W"
	uscc3       = "11430000006122244L"
	personID    = "11010519491231002X"
	typeLicence = "11100000000021001C001" // 营业执照 (seed catalogue)
	typeIDCard  = "11100000000021002F001" // 居民身份证 (seed catalogue)
)

func (h *harness) department(uscc string) (id, key string) {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/admin/departments", testAdminToken, map[string]any{
		"name": "市市场监督管理局", "uscc": uscc, "level": "地市级", "certificate_types": []string{typeLicence, typeIDCard}}))
	return m["id"].(string), m["api_key"].(string)
}

// app registers an app; with scope cases it may open cases for every
// seeded service item.
func (h *harness) app(scopes ...string) (id, key string) {
	h.t.Helper()
	body := map[string]any{"name": "某银行", "uscc": uscc1, "scopes": scopes, "certificate_types": []string{typeLicence, typeIDCard}}
	for _, sc := range scopes {
		if sc == "cases" {
			body["service_items"] = seededItemCodes()
		}
	}
	m := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, body))
	return m["id"].(string), m["api_key"].(string)
}

// seededItemCodes lists the codes of the seeded service items.
func seededItemCodes() []string {
	var items []string
	for _, it := range cases.SeedItems() {
		items = append(items, it.Code)
	}
	return items
}

// caseApp registers an app with scope cases for the given service items;
// its use list names every seeded type (their non-sensitive fields).
func (h *harness) caseApp(items ...string) (id, key string) {
	h.t.Helper()
	var types []string
	for _, t := range issuer.SeedCatalogue() {
		types = append(types, t.Code)
	}
	m := h.must(201, h.do("POST", "/v1/admin/apps", testAdminToken, map[string]any{
		"name": "某区一网通办受理平台", "uscc": uscc1, "scopes": []string{"cases"}, "certificate_types": types, "service_items": items}))
	return m["id"].(string), m["api_key"].(string)
}

// holderAs mints a session for a holder.
func (h *harness) holderAs(gatewayKey, kind, name, idNumber string) string {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/sessions", gatewayKey, map[string]any{"kind": kind, "name": name, "id_number": idNumber}))
	return m["token"].(string)
}

// personalCode is a fresh dynamic personal code of the session's holder.
func (h *harness) personalCode(holder string) string {
	h.t.Helper()
	return h.must(200, h.do("POST", "/v1/me/codes/personal", holder, nil))["code"].(string)
}

func (h *harness) venue() (id, key string) {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/admin/venues", testAdminToken, map[string]any{
		"name": "徐汇区图书馆", "address": "上海市徐汇区南丹东路80号", "area_code": "310104", "owner_uscc": uscc1}))
	return m["id"].(string), m["api_key"].(string)
}

func (h *harness) holder(gatewayKey string) string {
	h.t.Helper()
	m := h.must(201, h.do("POST", "/v1/sessions", gatewayKey, map[string]any{"kind": "person", "name": "张三", "id_number": personID}))
	return m["token"].(string)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
