// Package api is Suishen's HTTP interface: the Echo server, authentication
// and the one authorisation table, RFC 9457 problems, and the OpenAPI
// document generated from the same route table that registers the handlers.
package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/suishen/suishen/casework"
	"github.com/suishen/suishen/codeservice"
	"github.com/suishen/suishen/config"
	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/matching"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/regions"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// Deps is what the server needs from the outside.
type Deps struct {
	Store    store.Store
	Config   config.Config
	Log      *slog.Logger
	Now      func() time.Time // the clock; time.Now when nil
	Subjects principal.Subjects
	Admin    principal.AdminMatcher
	Registry *prometheus.Registry // where metrics go; a new one when nil
	Version  string
	Keys     *keyring.Ring        // signing keys (required)
	Issuance *issuance.Service    // certificates (required)
	Codes    *codeservice.Service // 随申码 codes (required)
	Cases    *casework.Service    // 两个免于提交 (required)
	Benefits *matching.Service    // 免申即享 (optional: no policy routes without it)
	// Tracer, when set, gets a server span per request (OpenTelemetry); nil: no tracing.
	Tracer trace.TracerProvider
	// Regions fetches peer regions' trust data (区域互认); nil: one is made
	// from Store, Now, Log and SUISHEN_PEER_TIMEOUT (see Server.Regions).
	Regions *regions.Service
}

// Server is the HTTP interface of one node.
type Server struct {
	deps    Deps
	store   store.Store
	cfg     config.Config
	log     *slog.Logger
	now     func() time.Time
	echo    *echo.Echo
	routes  []route
	metrics *metrics
	auth    *authenticator
	online  onlineVerifier
	lists   *storeListSource
	// listCache keeps decoded lists across the verifiers of successive
	// bundles: a status change re-signs one list, not the others.
	listCache *verifier.ListCache
	usageLog  *usageLog
	// limits: use-code guessing and public status lookups (access.go).
	limits accessLimits
	// appLimiter limits POST /v1/verify per app.
	appLimiter *middleware.RateLimiterMemoryStore
	pub        *keyring.Publisher
	limiter    *middleware.RateLimiterMemoryStore
	tracer     trace.Tracer // nil: tracing off
	// peers: the peer regions' verifiers (区域互认, api/peers.go).
	peers *peerSet
}

// New builds the server and registers every route of the route table.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{deps: d, store: d.Store, cfg: d.Config, log: d.Log, now: d.Now}
	s.auth = newAuthenticator(d.Store, d.Admin, d.Now)
	if d.Tracer != nil {
		s.tracer = d.Tracer.Tracer("github.com/suishen/suishen/api")
	}
	s.appLimiter = newAppLimiter(max(d.Config.VerifyRate, 1))
	s.usageLog = &usageLog{st: d.Store}
	s.peers = &peerSet{}
	if d.Regions == nil {
		d.Regions = &regions.Service{Store: d.Store, Now: d.Now, Log: d.Log, Timeout: d.Config.PeerTimeout}
	}
	if d.Regions.OnChange == nil {
		d.Regions.OnChange = s.peers.invalidate
	}
	if d.Regions.Region == "" {
		d.Regions.Region = d.Config.RegionCode
	}
	if d.Regions.Anchor == nil {
		d.Regions.Anchor = func(ctx context.Context) (signing.Signer, error) { return d.Keys.Signer(ctx, store.RoleAnchor, "") }
	}
	if d.Regions.Holder == nil {
		d.Regions.Holder = s.receiptHolder
	}
	s.deps.Regions = d.Regions
	s.lists = &storeListSource{svc: d.Issuance}
	s.listCache = verifier.NewListCache()
	s.pub = &keyring.Publisher{Ring: d.Keys, Store: d.Store, Issuer: d.Config.PublicURL, Now: d.Now,
		StatusLists: func(ctx context.Context) ([]trust.StatusListRef, error) {
			return d.Issuance.StatusListRefs(ctx, d.Config.PublicURL)
		},
		StatusVersion: func(ctx context.Context) (string, error) {
			sv, err := d.Issuance.StatusVersion(ctx)
			if err != nil {
				return "", err
			}
			pv, err := s.peersVersion(ctx)
			return sv + "|" + pv, err
		},
		Region: &trust.Region{Code: d.Config.RegionCode, Name: d.Config.RegionName},
		Peers:  s.bundlePeers,
	}
	if d.Issuance.OnStatusChange == nil {
		d.Issuance.OnStatusChange = s.pub.Invalidate
	}
	if d.Cases != nil && d.Cases.Verifier == nil {
		d.Cases.Verifier = s.verifierNow
	}
	if d.Codes != nil && d.Codes.OnStatusChange == nil {
		d.Codes.OnStatusChange = s.pub.Invalidate
	}
	s.limiter = middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: float64(d.Config.PublicRate), Burst: 2 * d.Config.PublicRate, ExpiresIn: 3 * time.Minute,
	})
	e := echo.NewWithConfig(echo.Config{
		Logger:      d.Log,
		IPExtractor: ipExtractor(d.Config.TrustedProxies),
		Router: echo.NewRouter(echo.RouterConfig{
			NotFoundHandler:         func(c *echo.Context) error { return statusProblem(http.StatusNotFound) },
			MethodNotAllowedHandler: methodNotAllowed,
		}),
	})
	e.HTTPErrorHandler = s.errorHandler
	s.echo = e
	s.metrics = newMetrics(d.Registry, d.Store)
	s.metrics.domainMetrics = s.registerDomainMetrics(d.Registry)

	e.Pre(s.observe)
	if mw := cors(d.Config.CORSOrigins); mw != nil {
		e.Use(mw)
	}
	e.Use(s.recoverPanics, s.deadline,
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{LimitBytes: d.Config.BodyLimit}))
	s.routes = append(append(s.routeTable(), s.scanRoutes()...), s.pageRoutes()...)
	for _, r := range s.routes {
		h := r.Handler
		mws := []echo.MiddlewareFunc{s.authorize(r.Access)}
		if r.Access.public() && !isProbe(r.Path) {
			mws = append([]echo.MiddlewareFunc{s.rateLimit}, mws...)
		}
		e.Add(r.Method, echoPath(r.Path), h, mws...)
		if isGet(r.Method) {
			// Every GET answers HEAD: the same handler, access policy and
			// side effects (a HEAD by an app is recorded like its GET);
			// net/http discards the body.
			e.Add(http.MethodHead, echoPath(r.Path), h, mws...)
		}
	}
	return s
}

// Regions is the service that fetches the peer regions' trust data:
// `serve` runs it in the background (Run); tests call Refresh directly.
func (s *Server) Regions() *regions.Service { return s.deps.Regions }

// Handler is the http.Handler of the server.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves on l until ctx is cancelled, then lets in-flight requests
// finish for up to grace.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests", "grace", s.cfg.ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func echoPath(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		if b.Len() > 0 || strings.HasPrefix(p, "/") {
			if !(b.Len() == 0 && seg == "") {
				b.WriteByte('/')
			}
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			b.WriteString(":" + seg[1:len(seg)-1])
		} else {
			b.WriteString(seg)
		}
	}
	return b.String()
}

// --- middleware ---

const ctxRequestID = "request_id"

func requestID(c *echo.Context) string {
	if v, ok := c.Get(ctxRequestID).(string); ok {
		return v
	}
	return ""
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func saneRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// observe is the outermost middleware: request ID, error handling (so the
// status is known), the access log and the metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		rid := c.Request().Header.Get(echo.HeaderXRequestID)
		if !saneRequestID(rid) {
			rid = newRequestID()
		}
		c.Set(ctxRequestID, rid)
		c.Response().Header().Set(echo.HeaderXRequestID, rid)
		var span trace.Span
		if s.tracer != nil {
			req := c.Request()
			ctx := otel.GetTextMapPropagator().Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx, span = s.tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("suishen.request_id", rid), attribute.String("http.request.method", req.Method)))
			c.SetRequest(req.WithContext(ctx))
		}
		if err := next(c); err != nil {
			s.errorHandler(c, err)
		}
		status, size := http.StatusOK, int64(0)
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
			status, size = r.Status, r.Size
		}
		route := c.Path()
		if route == "" || status == http.StatusNotFound && c.RouteInfo().Path == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, c.Request().Method, status, elapsed)
		if span != nil {
			// Route patterns, never concrete paths: identifiers stay out of traces.
			span.SetName(c.Request().Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status),
				attribute.String("suishen.principal_kind", principalKind(c)))
			if status >= 500 {
				span.SetStatus(otelcodes.Error, http.StatusText(status))
			}
			span.End()
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// No tokens, bodies, query strings or full client addresses in the
		// access log: route pattern, not the concrete path with identifiers.
		s.log.LogAttrs(c.Request().Context(), level, "http",
			slog.String("request_id", rid),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", size),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000),
			slog.String("client", truncateIP(c.RealIP())),
			slog.String("principal", principalKind(c)),
		)
		return nil
	}
}

// truncateIP keeps the network part of an address (/24, /48): enough to spot
// abuse, not enough to identify a person.
func truncateIP(s string) string {
	ip := net.ParseIP(s)
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.Mask(net.CIDRMask(24, 32)).String() + "/24"
	}
	return ip.Mask(net.CIDRMask(48, 128)).String() + "/48"
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "request_id", requestID(c), "route", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = problem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request_id when reporting it")
			}
		}()
		return next(c)
	}
}

// deadline bounds the handler's work with SUISHEN_REQUEST_TIMEOUT.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// isProbe reports whether path is a liveness or readiness probe: probes are
// never rate-limited, or a load balancer behind one address would take a
// busy node out of service.
func isProbe(path string) bool { return path == "/healthz" || path == "/readyz" }

// rateLimit limits public endpoints per client address (SUISHEN_PUBLIC_RATE).
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if ok, _ := s.limiter.Allow(c.RealIP()); !ok {
			c.Response().Header().Set("Retry-After", "1")
			return statusProblem(http.StatusTooManyRequests)
		}
		return next(c)
	}
}
