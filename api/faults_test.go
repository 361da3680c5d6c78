package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/teststore"
)

// proxy is a TCP relay that a test can cut and restore, to take the
// database away from a running server.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every relayed connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address.
func (p *proxy) restore() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(l)
}

// TestDatabaseOutageAndRecovery: with PostgreSQL gone, /readyz and the API
// answer 503 problems (never a hang or a 500); when it returns, the same
// server recovers without a restart.
func TestDatabaseOutageAndRecovery(t *testing.T) {
	raw := teststore.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	ctx := context.Background()
	st, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st)
	h.must(201, h.do("POST", "/v1/admin/venues", testAdminToken, map[string]any{
		"name": "图书馆", "address": "南丹东路80号", "area_code": "310104", "owner_uscc": uscc1}))

	p.cut()
	if r := h.do("GET", "/readyz", "", nil); r.Status != 503 {
		t.Fatalf("readyz with the database down: %d %s", r.Status, r.Body)
	}
	r := h.do("GET", "/v1/admin/venues", testAdminToken, nil)
	if r.Status != 503 || r.problem(t).Code != "unavailable" {
		t.Fatalf("API with the database down: %d %s", r.Status, r.Body)
	}
	r = h.do("POST", "/v1/admin/venues", testAdminToken, map[string]any{
		"name": "体育馆", "address": "天钥桥路", "area_code": "310104", "owner_uscc": uscc1})
	if r.Status != 503 {
		t.Fatalf("write with the database down: %d %s", r.Status, r.Body)
	}

	p.restore()
	deadline := time.Now().Add(10 * time.Second)
	for h.do("GET", "/readyz", "", nil).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("did not recover")
		}
		time.Sleep(100 * time.Millisecond)
	}
	list := h.must(200, h.do("GET", "/v1/admin/venues", testAdminToken, nil))
	if len(list["items"].([]any)) != 1 {
		t.Fatalf("after recovery: %v", list)
	}
}

// TestGracefulShutdown: a request in flight when the server is told to stop
// still completes; new connections are refused afterwards.
func TestGracefulShutdown(t *testing.T) {
	st := teststore.SQLite(t)
	cfg := testConfig(t)
	cfg.ShutdownGrace = 5 * time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ring, err := keyring.Open(context.Background(), st, cfg.MasterKey, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Deps{Store: st, Config: cfg, Log: log, Keys: ring, Issuance: &issuance.Service{Store: st, Keys: ring},
		Subjects: principal.NewSubjects(cfg.MasterKey), Admin: principal.NewAdminMatcher(testAdminToken)})
	started := make(chan struct{})
	srv.echo.GET("/slow", func(c *echo.Context) error {
		close(started)
		time.Sleep(500 * time.Millisecond)
		return c.String(http.StatusOK, "done")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	result := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + l.Addr().String() + "/slow")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		result <- string(b)
	}()
	<-started
	cancel()
	if got := <-result; got != "done" {
		t.Fatalf("in-flight request: %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get("http://" + l.Addr().String() + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestPanicBecomesProblem: a handler that panics answers a 500 problem with
// a request ID (no stack trace), and the server keeps serving.
func TestPanicBecomesProblem(t *testing.T) {
	h := newHarness(t, teststore.SQLite(t))
	h.srv.echo.GET("/boom", func(c *echo.Context) error { panic("kaboom") })
	r := h.do("GET", "/boom", "", nil)
	if r.Status != 500 {
		t.Fatalf("status %d", r.Status)
	}
	p := r.problem(t)
	if p.Code != "internal" || p.RequestID == "" || strings.Contains(string(r.Body), "kaboom") || strings.Contains(string(r.Body), "goroutine") {
		t.Fatalf("problem %s", r.Body)
	}
	h.must(200, h.do("GET", "/healthz", "", nil))
}

// TestTrustedClientIP: X-Forwarded-For is believed only from the proxies in
// SUISHEN_TRUSTED_PROXIES, so rate limits and logs see the real client.
func TestTrustedClientIP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
		want    string
	}{
		{"no trusted proxies: the peer address", "", "127.0.0.1"},
		{"loopback proxy trusted: the forwarded client", "127.0.0.0/8", "203.0.113.7"},
		{"another proxy trusted: the peer address", "10.0.0.0/8", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(func(string) string { return "" }, map[string]string{
				"SUISHEN_ADMIN_TOKEN": testAdminToken, "SUISHEN_MASTER_KEY": "00112233445566778899aabbccddeeff",
				"SUISHEN_TRUSTED_PROXIES": tc.proxies,
			})
			if err != nil {
				t.Fatal(err)
			}
			st := teststore.SQLite(t)
			ring, err := keyring.Open(context.Background(), st, cfg.MasterKey, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := New(Deps{Store: st, Config: cfg, Keys: ring, Issuance: &issuance.Service{Store: st, Keys: ring},
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Admin: principal.NewAdminMatcher(testAdminToken)})
			srv.echo.GET("/ip", func(c *echo.Context) error { return c.String(200, c.RealIP()) })
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			req, _ := http.NewRequest("GET", ts.URL+"/ip", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != tc.want {
				t.Fatalf("client IP %q, want %q", b, tc.want)
			}
		})
	}
}
