package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/time/rate"

	"github.com/suishen/suishen/disclosure"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
)

// useList checks an app's 用证清单 as the administrator sent it, against the
// catalogue; errors name the bad entry.
func (s *Server) useList(ctx context.Context, v *checks, raw []json.RawMessage) disclosure.UseList {
	u, errs := disclosure.ParseUseList(raw, "certificate_types", func(code string) (issuer.CertificateType, bool) {
		if len(code) != issuer.TypeCodeLen {
			return issuer.CertificateType{}, false
		}
		t, err := s.deps.Issuance.Type(ctx, code)
		return t, err == nil
	})
	for _, e := range errs {
		v.add(e.Field, e.Code, e.Detail)
	}
	return u
}

// useListView shows an app's use list as it was given: bare type codes and
// {type_code, fields[]} entries.
func useListView(a store.App) []any {
	out := []any{}
	for _, e := range disclosure.NewUseList(a.CertificateTypes, a.UseFields).Entries() {
		if e.Fields == nil {
			out = append(out, e.TypeCode)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// audienceOf is what an app principal may receive (its use list).
func audienceOf(p principal.Principal) disclosure.Audience {
	return disclosure.ForApp(disclosure.NewUseList(p.CertificateTypes, p.UseFields))
}

// optText checks optional free text from a caller by the one text rule
// (issuer.CheckText): at most max characters, one line, no control or
// bidirectional-override characters.
func (v *checks) optText(field, s string, max int) {
	switch issuer.CheckText(s, max, false) {
	case issuer.CodeLength:
		v.add(field, "length", "must be at most "+strconv.Itoa(max)+" characters")
	case issuer.CodeCharset:
		v.add(field, "charset", "must be printable text on one line, without control or bidirectional-override characters")
	}
}

// Bounds of callers' free text in usage records.
const (
	maxOrgUnit  = 200 // org: the caller's sub-unit (a window, a branch)
	maxOperator = 100
	maxPurpose  = 200
	maxReason   = 500
)

// --- guessing and enumeration limits ---

// Use-code guessing (POST /v1/use-codes/redeem): a use code has 60 random
// bits, so guessing one is hopeless, but a hostile app could still probe at
// scale. Every attempt that names an unknown, used or expired code costs one
// token of the app's bucket and one of the client address's; an app or an
// address with no token left is answered 429 before the code is looked at.
// Buckets hold useCodeGuessBurst tokens and refill one every
// useCodeGuessEvery: at most 20 failed attempts in a row, then 10 a minute,
// per app and per address.
const (
	useCodeGuessBurst = 20
	useCodeGuessEvery = 6 * time.Second
)

// Public status (GET /v1/certificates/{id}/status): per client address, at
// most statusBurst lookups in a row, then one every statusEvery (30 a
// minute). Identifiers of certificates issued now carry a keyed, unwalkable
// serial (issuer.OpaqueSerial), so a walk finds nothing; the limit bounds
// how fast anyone can try.
const (
	statusBurst = 60
	statusEvery = 2 * time.Second
)

// keyedLimiter is a token bucket per key, on the server's clock (tests
// move it), bounded in memory: past maxKeys keys, buckets that are full
// again are forgotten.
type keyedLimiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*rate.Limiter
}

const maxLimiterKeys = 100_000

func (k *keyedLimiter) bucket(key string, now time.Time) *rate.Limiter {
	if k.buckets == nil {
		k.buckets = map[string]*rate.Limiter{}
	}
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= maxLimiterKeys {
			// Forget buckets that are full again; if the table is still
			// full (many addresses at once), forget half of it: a forgotten
			// key starts with a full bucket, which bounds memory and the
			// cost of this sweep at the price of some leniency under a
			// distributed flood.
			for key, old := range k.buckets {
				if old.TokensAt(now) >= float64(k.burst) {
					delete(k.buckets, key)
				}
			}
			for key := range k.buckets {
				if len(k.buckets) < maxLimiterKeys/2 {
					break
				}
				delete(k.buckets, key)
			}
		}
		b = rate.NewLimiter(rate.Every(k.every), k.burst)
		k.buckets[key] = b
	}
	return b
}

// empty reports whether key has no token left (nothing is taken).
func (k *keyedLimiter) empty(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bucket(key, now).TokensAt(now) < 1
}

// take takes a token of key; false when there was none.
func (k *keyedLimiter) take(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.bucket(key, now).AllowN(now, 1)
}

// accessLimits are the limiters of this file; the zero value is ready.
type accessLimits struct {
	guessByApp, guessByAddr keyedLimiter
	statusByAddr            keyedLimiter
	once                    sync.Once
}

func (l *accessLimits) init() {
	l.once.Do(func() {
		l.guessByApp.every, l.guessByApp.burst = useCodeGuessEvery, useCodeGuessBurst
		l.guessByAddr.every, l.guessByAddr.burst = useCodeGuessEvery, useCodeGuessBurst
		l.statusByAddr.every, l.statusByAddr.burst = statusEvery, statusBurst
	})
}

func tooMany(c *echo.Context, code, detail string, retry time.Duration) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(retry/time.Second, 1))))
	return problem(http.StatusTooManyRequests, code, detail)
}

// guessAllowed refuses an app or address that has used up its failed use-code
// attempts.
func (s *Server) guessAllowed(c *echo.Context, appID string) error {
	s.limits.init()
	now := s.now()
	if s.limits.guessByApp.empty(appID, now) || s.limits.guessByAddr.empty(c.RealIP(), now) {
		return tooMany(c, "too_many_use_code_attempts", "too many unknown or spent use codes; try again later", useCodeGuessEvery)
	}
	return nil
}

// guessFailed counts a failed use-code attempt against the app and the
// address.
func (s *Server) guessFailed(c *echo.Context, appID string) {
	s.limits.init()
	now := s.now()
	s.limits.guessByApp.take(appID, now)
	s.limits.guessByAddr.take(c.RealIP(), now)
}

// statusAllowed is the public status endpoint's per-address limit.
func (s *Server) statusAllowed(c *echo.Context) error {
	s.limits.init()
	if !s.limits.statusByAddr.take(c.RealIP(), s.now()) {
		return tooMany(c, "rate_limited", "too many status lookups from this address; try again later", statusEvery)
	}
	return nil
}
