package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/suishen/suishen/store"
)

type healthResponse struct {
	Status  string            `json:"status" doc:"ok, or unavailable (readyz only, with 503)." enum:"ok,unavailable" example:"ok"`
	Version string            `json:"version,omitempty" doc:"The server version." example:"v1.4.0"`
	Checks  map[string]string `json:"checks,omitempty" doc:"Each readiness check and its state (readyz)." example:"{\"database\":\"ok\",\"keys\":\"ok\"}"`
}

func (s *Server) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, healthResponse{Status: "ok", Version: s.deps.Version})
}

// readyz answers 503 while the database does not answer or keys are not
// loaded, so a load balancer stops sending traffic to this node.
func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	out := healthResponse{Status: "ok", Version: s.deps.Version, Checks: map[string]string{"database": "ok", "keys": "ok"}}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		out.Checks["database"], out.Status, status = "unreachable", "unavailable", http.StatusServiceUnavailable
	}
	{
		if err := s.deps.Keys.Ready(ctx); err != nil {
			out.Checks["keys"], out.Status, status = err.Error(), "unavailable", http.StatusServiceUnavailable
		}
	}
	return c.JSON(status, out)
}

func (s *Server) metricsHandler(c *echo.Context) error {
	if s.cfg.MetricsAddr != "" {
		// Served on its own listener (SUISHEN_METRICS_ADDR), not on the public one.
		return problem(http.StatusNotFound, "route_not_found", "metrics are served on SUISHEN_METRICS_ADDR")
	}
	s.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// MetricsHandler serves the Prometheus metrics, for the separate listener of
// SUISHEN_METRICS_ADDR.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler)
	return mux
}

// metrics are the Prometheus series the server exports.
type metrics struct {
	*domainMetrics
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry, st store.Store) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "suishen_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "suishen_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	pool := func(name, help string, f func(store.PoolStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(st.Stats()) })
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.latency,
		pool("suishen_db_pool_open_connections", "Open database connections.", func(p store.PoolStats) float64 { return float64(p.Open) }),
		pool("suishen_db_pool_in_use_connections", "Database connections in use.", func(p store.PoolStats) float64 { return float64(p.InUse) }),
		pool("suishen_db_pool_idle_connections", "Idle database connections.", func(p store.PoolStats) float64 { return float64(p.Idle) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "suishen_db_pool_waits_total", Help: "Times a request waited for a database connection."},
			func() float64 { return float64(st.Stats().WaitCount) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "suishen_db_pool_wait_seconds_total", Help: "Total time spent waiting for a database connection."},
			func() float64 { return st.Stats().WaitDuration.Seconds() }),
	} {
		reg.MustRegister(c)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, statusText(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

var statusTexts = func() map[int]string {
	m := map[int]string{}
	for i := 100; i < 600; i++ {
		m[i] = itoa(i)
	}
	return m
}()

func statusText(s int) string {
	if t, ok := statusTexts[s]; ok {
		return t
	}
	return "other"
}

func itoa(i int) string {
	b := [3]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)}
	return string(b[:])
}
