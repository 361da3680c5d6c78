// Package config reads Suishen's configuration from the environment (names
// from the product contract) and validates it before anything starts.
package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the validated configuration of one node.
type Config struct {
	Addr           string        // SUISHEN_ADDR
	MetricsAddr    string        // SUISHEN_METRICS_ADDR: a separate listener for /metrics; empty: /metrics on Addr
	Pprof          bool          // SUISHEN_PPROF: also serve /debug/pprof/ on the metrics listener
	DataDir        string        // SUISHEN_DATA_DIR
	DatabaseURL    string        // SUISHEN_DATABASE_URL; empty selects embedded SQLite
	AdminToken     string        // SUISHEN_ADMIN_TOKEN; empty: generated in embedded mode
	MasterKey      []byte        // SUISHEN_MASTER_KEY, 16 bytes; nil: generated in embedded mode
	PublicURL      string        // SUISHEN_PUBLIC_URL
	CodeTTL        time.Duration // SUISHEN_CODE_TTL
	SessionTTL     time.Duration // SUISHEN_SESSION_TTL
	BodyLimit      int64         // SUISHEN_BODY_LIMIT, bytes
	TrustedProxies []*net.IPNet  // SUISHEN_TRUSTED_PROXIES, comma-separated CIDRs
	LogLevel       string        // SUISHEN_LOG_LEVEL: debug | info | warn | error
	LogFormat      string        // SUISHEN_LOG_FORMAT: json | text
	RequestTimeout time.Duration // SUISHEN_REQUEST_TIMEOUT: handler deadline
	ShutdownGrace  time.Duration // SUISHEN_SHUTDOWN_GRACE
	PublicRate     int           // SUISHEN_PUBLIC_RATE: requests per second per client on public endpoints
	ClockSkew      time.Duration // SUISHEN_CLOCK_SKEW: tolerance when checking codes' time windows
	VerifyRate     int           // SUISHEN_VERIFY_RATE: POST /v1/verify requests per second per app
	CORSOrigins    []string      // SUISHEN_CORS_ORIGINS: origins (scheme://host[:port]) browsers may call the API from; empty: no CORS
	RegionCode     string        // SUISHEN_REGION_CODE: this node's region (6-digit GB/T 2260 area code), 区域互认
	RegionName     string        // SUISHEN_REGION_NAME: its name
	PeerTimeout    time.Duration // SUISHEN_PEER_TIMEOUT: bound of one request to a peer region
	BenefitRematch time.Duration // SUISHEN_BENEFIT_REMATCH: how old a policy's last full match may grow before another runs
}

// Var describes one environment variable: the name, its default and meaning.
type Var struct{ Name, Default, Meaning string }

// Vars lists every variable Config reads, for --help and the README.
var Vars = []Var{
	{"SUISHEN_ADDR", "127.0.0.1:8080", "listen address"},
	{"SUISHEN_METRICS_ADDR", "", "separate listen address for /metrics (then not served on SUISHEN_ADDR); empty: /metrics on SUISHEN_ADDR"},
	{"SUISHEN_PPROF", "false", "true: also serve Go's profiler (/debug/pprof/) on SUISHEN_METRICS_ADDR, which must then be set (an operator-only address; never on SUISHEN_ADDR)"},
	{"SUISHEN_DATA_DIR", "./data", "embedded database and generated secrets"},
	{"SUISHEN_DATABASE_URL", "", "postgres://… selects PostgreSQL; empty selects the embedded SQLite file in the data dir"},
	{"SUISHEN_ADMIN_TOKEN", "", "admin bearer token (≥ 32 characters); unset: generated on first start, saved 0600 in the data dir"},
	{"SUISHEN_MASTER_KEY", "", "32 hex characters (SM4 key) sealing private keys at rest; required with PostgreSQL"},
	{"SUISHEN_PUBLIC_URL", "http://<addr>", "base URL printed into URL-form codes and links"},
	{"SUISHEN_CODE_TTL", "60s", "lifetime of a dynamic personal code"},
	{"SUISHEN_SESSION_TTL", "30m", "lifetime of a holder session"},
	{"SUISHEN_BODY_LIMIT", "1048576", "largest request body in bytes"},
	{"SUISHEN_TRUSTED_PROXIES", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is trusted"},
	{"SUISHEN_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SUISHEN_LOG_FORMAT", "json", "json or text"},
	{"SUISHEN_REQUEST_TIMEOUT", "30s", "deadline of one request's handler"},
	{"SUISHEN_SHUTDOWN_GRACE", "20s", "how long in-flight requests may finish after SIGTERM"},
	{"SUISHEN_PUBLIC_RATE", "100", "requests per second per client address on public endpoints (burst: twice that)"},
	{"SUISHEN_CLOCK_SKEW", "30s", "clock-skew tolerance when checking a code's validity window"},
	{"SUISHEN_VERIFY_RATE", "2000", "POST /v1/verify requests per second per app (burst: twice that)"},
	{"SUISHEN_CORS_ORIGINS", "", "comma-separated origins (https://app.example.gov.cn) whose pages may call the API; empty: no CORS"},
	{"SUISHEN_REGION_CODE", "310000", "this node's region for mutual recognition (区域互认): its 6-digit GB/T 2260 area code"},
	{"SUISHEN_REGION_NAME", "上海市", "this node's region name"},
	{"SUISHEN_PEER_TIMEOUT", "10s", "bound of one request to a peer region (bundle or status list fetch)"},
	{"SUISHEN_BENEFIT_REMATCH", "720h", "how old a 免申即享 policy's last full match may grow before the worker runs another (1h to 8760h); in between, re-evaluations fall due on the day a holder's decision may change (a birthday, an expiry)"},
}

// Error names the variable at fault; its message is one line for the operator.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return e.Var + ": " + e.Reason }

// Load reads the configuration through getenv (os.Getenv in production).
// Values set in overrides (from command-line flags) win over the environment.
func Load(getenv func(string) string, overrides map[string]string) (Config, error) {
	get := func(name string) string {
		if v, ok := overrides[name]; ok && v != "" {
			return v
		}
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var c Config
	var err error

	c.Addr = get("SUISHEN_ADDR")
	if _, port, perr := net.SplitHostPort(c.Addr); perr != nil || port == "" {
		return c, &Error{"SUISHEN_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	if c.MetricsAddr = get("SUISHEN_METRICS_ADDR"); c.MetricsAddr != "" {
		if _, port, perr := net.SplitHostPort(c.MetricsAddr); perr != nil || port == "" {
			return c, &Error{"SUISHEN_METRICS_ADDR", fmt.Sprintf("%q is not host:port", c.MetricsAddr)}
		}
		if c.MetricsAddr == c.Addr {
			return c, &Error{"SUISHEN_METRICS_ADDR", "must differ from SUISHEN_ADDR (leave it empty to serve /metrics there)"}
		}
	}
	switch v := strings.ToLower(get("SUISHEN_PPROF")); v {
	case "", "false", "0":
	case "true", "1":
		if c.MetricsAddr == "" {
			return c, &Error{"SUISHEN_PPROF", "needs SUISHEN_METRICS_ADDR: the profiler is served on the operator's metrics listener only"}
		}
		c.Pprof = true
	default:
		return c, &Error{"SUISHEN_PPROF", fmt.Sprintf("%q is not true or false", v)}
	}
	c.DataDir = get("SUISHEN_DATA_DIR")
	c.DatabaseURL = get("SUISHEN_DATABASE_URL")
	if c.DatabaseURL != "" {
		u, perr := url.Parse(c.DatabaseURL)
		if perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return c, &Error{"SUISHEN_DATABASE_URL", "must be a postgres:// or postgresql:// URL"}
		}
	}
	c.AdminToken = get("SUISHEN_ADMIN_TOKEN")
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		return c, &Error{"SUISHEN_ADMIN_TOKEN", "must be at least 32 characters"}
	}
	if c.DatabaseURL != "" && c.AdminToken == "" {
		return c, &Error{"SUISHEN_ADMIN_TOKEN", "is required with PostgreSQL (every node must share it)"}
	}
	if mk := get("SUISHEN_MASTER_KEY"); mk != "" {
		c.MasterKey, err = ParseMasterKey(mk)
		if err != nil {
			return c, &Error{"SUISHEN_MASTER_KEY", err.Error()}
		}
	} else if c.DatabaseURL != "" {
		return c, &Error{"SUISHEN_MASTER_KEY", "is required with PostgreSQL (32 hex characters)"}
	}
	c.PublicURL = get("SUISHEN_PUBLIC_URL")
	if c.PublicURL == "http://<addr>" {
		c.PublicURL = "http://" + c.Addr
	}
	if u, perr := url.Parse(c.PublicURL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, &Error{"SUISHEN_PUBLIC_URL", fmt.Sprintf("%q is not an http(s) URL", c.PublicURL)}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.CodeTTL, err = duration(get, "SUISHEN_CODE_TTL", 10*time.Second, 24*time.Hour); err != nil {
		return c, err
	}
	if c.SessionTTL, err = duration(get, "SUISHEN_SESSION_TTL", time.Minute, 24*time.Hour); err != nil {
		return c, err
	}
	if c.RequestTimeout, err = duration(get, "SUISHEN_REQUEST_TIMEOUT", time.Second, 10*time.Minute); err != nil {
		return c, err
	}
	if c.ShutdownGrace, err = duration(get, "SUISHEN_SHUTDOWN_GRACE", 0, 10*time.Minute); err != nil {
		return c, err
	}
	bl := get("SUISHEN_BODY_LIMIT")
	c.BodyLimit, err = strconv.ParseInt(bl, 10, 64)
	if err != nil || c.BodyLimit < 1024 || c.BodyLimit > 1<<30 {
		return c, &Error{"SUISHEN_BODY_LIMIT", fmt.Sprintf("%q is not a byte count between 1024 and 1073741824", bl)}
	}
	pr := get("SUISHEN_PUBLIC_RATE")
	if c.PublicRate, err = strconv.Atoi(pr); err != nil || c.PublicRate < 1 || c.PublicRate > 1000000 {
		return c, &Error{"SUISHEN_PUBLIC_RATE", fmt.Sprintf("%q is not a whole number between 1 and 1000000", pr)}
	}
	if c.ClockSkew, err = duration(get, "SUISHEN_CLOCK_SKEW", 0, 10*time.Minute); err != nil {
		return c, err
	}
	vr := get("SUISHEN_VERIFY_RATE")
	if c.VerifyRate, err = strconv.Atoi(vr); err != nil || c.VerifyRate < 1 || c.VerifyRate > 1000000 {
		return c, &Error{"SUISHEN_VERIFY_RATE", fmt.Sprintf("%q is not a whole number between 1 and 1000000", vr)}
	}
	if tp := get("SUISHEN_TRUSTED_PROXIES"); tp != "" {
		for _, s := range strings.Split(tp, ",") {
			_, n, perr := net.ParseCIDR(strings.TrimSpace(s))
			if perr != nil {
				return c, &Error{"SUISHEN_TRUSTED_PROXIES", fmt.Sprintf("%q is not a CIDR", strings.TrimSpace(s))}
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
	}
	if co := get("SUISHEN_CORS_ORIGINS"); co != "" {
		if c.CORSOrigins, err = corsOrigins(co); err != nil {
			return c, err
		}
	}
	c.RegionCode = get("SUISHEN_REGION_CODE")
	if !validRegionCode(c.RegionCode) {
		return c, &Error{"SUISHEN_REGION_CODE", fmt.Sprintf("%q is not a 6-digit GB/T 2260 area code", c.RegionCode)}
	}
	c.RegionName = get("SUISHEN_REGION_NAME")
	if len(c.RegionName) > 200 {
		return c, &Error{"SUISHEN_REGION_NAME", "is longer than 200 bytes"}
	}
	if c.PeerTimeout, err = duration(get, "SUISHEN_PEER_TIMEOUT", 100*time.Millisecond, 2*time.Minute); err != nil {
		return c, err
	}
	if c.BenefitRematch, err = duration(get, "SUISHEN_BENEFIT_REMATCH", time.Hour, 8760*time.Hour); err != nil {
		return c, err
	}
	c.LogLevel = strings.ToLower(get("SUISHEN_LOG_LEVEL"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, &Error{"SUISHEN_LOG_LEVEL", fmt.Sprintf("%q is not one of debug, info, warn, error", c.LogLevel)}
	}
	c.LogFormat = strings.ToLower(get("SUISHEN_LOG_FORMAT"))
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, &Error{"SUISHEN_LOG_FORMAT", fmt.Sprintf("%q is not json or text", c.LogFormat)}
	}
	return c, nil
}

// Embedded reports whether the node uses the embedded SQLite database.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// ParseMasterKey decodes a 32-hex-character SM4 key.
func ParseMasterKey(s string) ([]byte, error) {
	if len(s) != 32 {
		return nil, fmt.Errorf("must be 32 hex characters, got %d", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("must be 32 hex characters")
	}
	return b, nil
}

func duration(get func(string) string, name string, min, max time.Duration) (time.Duration, error) {
	s := get(name)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &Error{name, fmt.Sprintf("%q is not a duration such as 60s or 5m", s)}
	}
	if d < min || d > max {
		return 0, &Error{name, fmt.Sprintf("%s is outside %s…%s", d, min, max)}
	}
	return d, nil
}

// corsOrigins parses SUISHEN_CORS_ORIGINS: each entry an origin exactly as a
// browser sends it (scheme, host, optional port; no path, no trailing slash),
// or "*" alone for any origin. Credentials are never allowed cross-origin,
// so "*" exposes nothing a bearer token does not already unlock.
func corsOrigins(s string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(o, "/") || strings.Contains(u.Host, "*") {
			return nil, &Error{"SUISHEN_CORS_ORIGINS", fmt.Sprintf("%q is not an origin such as https://app.example.gov.cn", o)}
		}
		out = append(out, o)
	}
	if len(out) > 1 {
		for _, o := range out {
			if o == "*" {
				return nil, &Error{"SUISHEN_CORS_ORIGINS", `"*" must stand alone`}
			}
		}
	}
	return out, nil
}

// validRegionCode: six digits, not starting with 0 or 9 (package trust
// checks the province; config stays free of imports).
func validRegionCode(s string) bool {
	if len(s) != 6 || s[0] == '0' || s[0] == '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
