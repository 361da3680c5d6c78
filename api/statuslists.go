package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/issuance"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// statusList serves a signed status list (public): the form every node
// stores and every node's trust bundle pins by SM3.
//
// Without ?sm3 it is the current form, with ETag "<sm3>" and a short
// max-age; If-None-Match with that ETag answers 304. With ?sm3=<hex> it is
// the form with that digest — the current one or the one just before it,
// which a verifier whose bundle is a little older still pins — and, being
// content-addressed, cacheable for a year; a digest the node no longer
// holds is 404 status_list_version_gone (fetch a fresh bundle).
func (s *Server) statusList(c *echo.Context) error {
	want := c.QueryParam("sm3")
	if want != "" && !isSM3Hex(want) {
		p := problem(http.StatusBadRequest, "invalid_parameter", "sm3 is the 64-character lowercase hex SM3 digest of a status list")
		p.Errors = []FieldError{{Field: "sm3", Code: "invalid", Detail: p.Detail}}
		return p
	}
	l, err := s.deps.Issuance.SignedStatusList(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("status list")
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	jws, digest := l.JWS, l.SM3
	switch {
	case want == "":
		h.Set("Cache-Control", "public, max-age=30")
	case want == l.SM3:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	case want == l.PrevSM3 && l.PrevJWS != "":
		jws, digest = l.PrevJWS, l.PrevSM3
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		return problem(http.StatusNotFound, "status_list_version_gone",
			"this node no longer holds the status list with that digest: fetch a fresh trust bundle")
	}
	etag := `"` + digest + `"`
	h.Set("ETag", etag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == etag || m == "*" || m == "W/"+etag {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, "application/jose", []byte(jws))
}

func isSM3Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// storeListSource gives the in-process verifier (POST /v1/verify,
// check-ins, cases) the status lists from the store, as a remote verifier
// gets them from GET /v1/status-lists/{id}?sm3=…: the form the bundle pins,
// current or previous. Lists are kept by digest, so a new bundle that pins
// the same list does not read it again.
type storeListSource struct {
	svc *issuance.Service
	mu  sync.Mutex
	jws map[string]string // sm3 → JWS
}

// maxCachedLists bounds storeListSource's memory (~30 KB a list).
const maxCachedLists = 4096

func (s *storeListSource) StatusList(ref trust.StatusListRef) (string, error) {
	s.mu.Lock()
	jws, ok := s.jws[ref.SM3]
	s.mu.Unlock()
	if ok {
		return jws, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := s.svc.SignedStatusList(ctx, ref.ID)
	if err != nil {
		return "", err
	}
	switch ref.SM3 {
	case l.SM3:
		jws = l.JWS
	case l.PrevSM3:
		jws = l.PrevJWS
	default:
		return "", errors.New("the store no longer holds the status list the bundle pins")
	}
	s.mu.Lock()
	if s.jws == nil || len(s.jws) >= maxCachedLists {
		s.jws = map[string]string{}
	}
	s.jws[ref.SM3] = jws
	s.mu.Unlock()
	return jws, nil
}
