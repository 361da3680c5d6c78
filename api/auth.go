package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
)

// access says who may call a route. It is the whole authorisation policy of
// the route table: every route names one, and authorize enforces it before
// the handler runs. Finer decisions that need the resource (a department may
// only touch what it issued) stay in the handlers and answer 404.
type access struct {
	kinds []store.PrincipalKind // empty: public
	scope string                // apps must carry this scope ("" : any app)
}

func (a access) public() bool { return len(a.kinds) == 0 }

func (a access) allows(p principal.Principal) bool {
	for _, k := range a.kinds {
		if k != p.Kind {
			continue
		}
		if k == store.KindApp && a.scope != "" && !p.HasScope(a.scope) {
			return false
		}
		return true
	}
	return false
}

// Access policies used by the route table.
var (
	public      = access{}
	adminOnly   = access{kinds: []store.PrincipalKind{store.KindAdmin}}
	holderOnly  = access{kinds: []store.PrincipalKind{store.KindHolder}}
	deptOnly    = access{kinds: []store.PrincipalKind{store.KindDepartment}}
	venueOnly   = access{kinds: []store.PrincipalKind{store.KindVenue}}
	gatewayOrAd = access{kinds: []store.PrincipalKind{store.KindAdmin, store.KindApp}, scope: "identity-gateway"}
	caseSystems = access{kinds: []store.PrincipalKind{store.KindApp, store.KindDepartment}, scope: "cases"}
)

func appWith(scope string) access {
	return access{kinds: []store.PrincipalKind{store.KindApp}, scope: scope}
}

const ctxPrincipal = "principal"

// who returns the authenticated principal of the request.
func who(c *echo.Context) principal.Principal {
	p, _ := c.Get(ctxPrincipal).(principal.Principal)
	return p
}

func principalKind(c *echo.Context) string {
	if p, ok := c.Get(ctxPrincipal).(principal.Principal); ok {
		return string(p.Kind)
	}
	return "-"
}

// authorize authenticates the bearer token (when there is one) and enforces
// a route's access policy: 401 without valid credentials, 403 for a
// principal the route is not for.
func (s *Server) authorize(a access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			if h == "" {
				if a.public() {
					return next(c)
				}
				if p, ok, err := s.cookieSession(c, a); ok {
					if err != nil {
						return err
					}
					c.Set(ctxPrincipal, p)
					return next(c)
				}
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="suishen"`)
				return errUnauthenticated()
			}
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || tok == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="suishen", error="invalid_request"`)
				return problem(http.StatusUnauthorized, "unauthenticated", "use Authorization: Bearer <token>")
			}
			p, err := s.auth.authenticate(c.Request().Context(), tok)
			if err != nil {
				if errors.Is(err, errBadCredentials) {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="suishen", error="invalid_token"`)
					return problem(http.StatusUnauthorized, "invalid_token", "the bearer token is unknown, revoked or expired")
				}
				return err
			}
			c.Set(ctxPrincipal, p)
			if !a.public() && !a.allows(p) {
				if p.Kind == store.KindApp && a.scope != "" {
					return errForbidden("this endpoint needs an app with scope " + a.scope)
				}
				return errForbidden("this endpoint is not for a " + string(p.Kind) + " principal")
			}
			return next(c)
		}
	}
}

var errBadCredentials = errors.New("bad credentials")

// authenticator resolves bearer tokens to principals. Every request reads
// its API key's row (revocation and expiry take effect at once on every
// node); the principal's details (name, scopes, types) are cached for a
// short time so a verification burst does not read them each time.
type authenticator struct {
	store store.Store
	admin principal.AdminMatcher
	now   func() time.Time
	ttl   time.Duration

	mu      sync.Mutex
	cache   map[string]cachedKey
	touched map[string]time.Time // key ID → when this node last recorded its use
}

type cachedKey struct {
	p      principal.Principal
	expiry time.Time
}

func newAuthenticator(st store.Store, admin principal.AdminMatcher, now func() time.Time) *authenticator {
	return &authenticator{store: st, admin: admin, now: now, ttl: 10 * time.Second, cache: map[string]cachedKey{}, touched: map[string]time.Time{}}
}

func (a *authenticator) authenticate(ctx context.Context, tok string) (principal.Principal, error) {
	if principal.IsSessionToken(tok) {
		return a.session(ctx, tok)
	}
	if strings.HasPrefix(tok, "ssk_") {
		return a.apiKey(ctx, tok)
	}
	if a.admin.Match(tok) {
		return principal.Admin, nil
	}
	return principal.Principal{}, errBadCredentials
}

func (a *authenticator) apiKey(ctx context.Context, tok string) (principal.Principal, error) {
	kind, id, secret, err := principal.ParseAPIKey(tok)
	if err != nil {
		return principal.Principal{}, errBadCredentials
	}
	now := a.now()
	// The key row itself is read on every request (one primary-key lookup):
	// a revoked or expired key is refused on every node at once. Only the
	// principal's details below are cached.
	k, err := a.store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return principal.Principal{}, errBadCredentials
	}
	if err != nil {
		return principal.Principal{}, err
	}
	if k.Kind != kind || !k.Usable(now) || !principal.CheckSecret(secret, k.SecretHash) {
		return principal.Principal{}, errBadCredentials
	}
	a.touch(ctx, k, now)
	a.mu.Lock()
	ck, ok := a.cache[id]
	a.mu.Unlock()
	if ok && now.Before(ck.expiry) {
		return ck.p, nil
	}
	p := principal.Principal{Kind: k.Kind, ID: k.PrincipalID}
	switch k.Kind {
	case store.KindDepartment:
		d, err := a.store.GetDepartment(ctx, k.PrincipalID)
		if err != nil {
			return p, principalLookup(err)
		}
		p.Name, p.USCC, p.CertificateTypes = d.Name, d.USCC, d.CertificateTypes
	case store.KindApp:
		ap, err := a.store.GetApp(ctx, k.PrincipalID)
		if err != nil {
			return p, principalLookup(err)
		}
		p.Name, p.USCC, p.Scopes, p.CertificateTypes, p.UseFields = ap.Name, ap.USCC, ap.Scopes, ap.CertificateTypes, ap.UseFields
		p.ServiceItems = ap.ServiceItems
	case store.KindVenue:
		v, err := a.store.GetVenue(ctx, k.PrincipalID)
		if err != nil {
			return p, principalLookup(err)
		}
		p.Name, p.USCC = v.Name, v.OwnerUSCC
	}
	a.mu.Lock()
	if len(a.cache) > 100000 {
		a.cache = map[string]cachedKey{}
	}
	a.cache[id] = cachedKey{p: p, expiry: now.Add(a.ttl)}
	a.mu.Unlock()
	return p, nil
}

// touchEvery is how stale a key's last_used_at may get before a request
// updates it.
const touchEvery = time.Minute

// touch records the key's use at most once per touchEvery per node, so that
// a burst costs one write, not one per request. A failure to record is
// logged nowhere and retried on a later request: it never refuses a call.
func (a *authenticator) touch(ctx context.Context, k store.APIKey, now time.Time) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < touchEvery {
		return
	}
	a.mu.Lock()
	last, ok := a.touched[k.ID]
	if ok && now.Sub(last) < touchEvery {
		a.mu.Unlock()
		return
	}
	if len(a.touched) > 100000 {
		a.touched = map[string]time.Time{}
	}
	a.touched[k.ID] = now
	a.mu.Unlock()
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = a.store.TouchAPIKey(tctx, k.ID, now.UTC().Truncate(time.Microsecond))
}

// session resolves a holder session. Like an API key, the session row is
// read on every request (one primary-key lookup on its hash), so signing out
// or expiry ends it on every node at once.
func (a *authenticator) session(ctx context.Context, tok string) (principal.Principal, error) {
	h := principal.Hash(tok)
	sess, err := a.store.GetSession(ctx, h, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return principal.Principal{}, errBadCredentials
	}
	if err != nil {
		return principal.Principal{}, err
	}
	return principal.Principal{Kind: store.KindHolder, ID: sess.Subject, Name: sess.DisplayName, HolderKind: sess.HolderKind}, nil
}

// forget drops a cached principal after a change to it (e.g. new types).
func (a *authenticator) forget(principalID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, ck := range a.cache {
		if ck.p.ID == principalID {
			delete(a.cache, id)
		}
	}
}

func principalLookup(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errBadCredentials
	}
	return err
}
