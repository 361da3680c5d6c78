package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
)

// API keys of departments, apps and venues: rotate with a grace period,
// list with their last use, revoke at once. Every node checks a key's
// revocation and expiry in the database on every request (one primary-key
// read); only the principal's details are cached, so a revoked key is
// refused on every node from the moment DELETE answers.

// DefaultKeyGrace is how long the previous keys keep working after a rotation.
const DefaultKeyGrace = 24 * time.Hour

// maxKeyGrace bounds a rotation's grace period.
const maxKeyGrace = 90 * 24 * time.Hour

// principalCollections maps the admin path segment to the principal kind.
var principalCollections = []struct {
	segment string
	kind    store.PrincipalKind
	label   string
}{
	{"departments", store.KindDepartment, "department"},
	{"apps", store.KindApp, "app"},
	{"venues", store.KindVenue, "venue"},
}

func (s *Server) apiKeyRoutes() []route {
	var out []route
	for _, pc := range principalCollections {
		base := "/v1/admin/" + pc.segment + "/{id}/api-keys"
		out = append(out,
			route{Method: http.MethodPost, Path: base, Summary: "Mint a new API key for the " + pc.label + "; its previous keys keep working for the grace period (default 24h), then stop", Tag: "admin", Access: adminOnly, Handler: s.rotateAPIKey(pc.kind), Request: apiKeyRotateRequest{}, Response: apiKeyCreated{}, Status: 201, Idempotent: true},
			route{Method: http.MethodGet, Path: base, Summary: "The " + pc.label + "'s API keys: ids, creation, last use, expiry and revocation (never the secrets)", Tag: "admin", Access: adminOnly, Handler: s.listAPIKeys(pc.kind), Response: apiKeyList{}, Status: 200},
			route{Method: http.MethodDelete, Path: base + "/{key_id}", Summary: "Revoke one of the " + pc.label + "'s API keys: refused on every node from this response on", Tag: "admin", Access: adminOnly, Handler: s.revokeAPIKey(pc.kind), Status: 204},
		)
	}
	return out
}

type apiKeyRotateRequest struct {
	// Grace is a duration such as "24h" or "30m" ("0s": the previous keys stop at once).
	Grace *string `json:"grace,omitempty" doc:"How long the previous keys keep working, as a duration (24h default, at most 2160h; 0s stops them at once)." example:"24h"`
}

type apiKeyCreated struct {
	KeyID  string `json:"key_id" doc:"The new key id (listed, never secret)." example:"key_01JD8X3K2Q"`
	APIKey string `json:"api_key" doc:"The new API key: shown once, stored only as a hash." example:"sk_dep_9Lm4…"`
	// PreviousKeysExpireAt is when the principal's earlier keys stop working.
	PreviousKeysExpireAt time.Time `json:"previous_keys_expire_at" doc:"When the principal earlier keys stop working." example:"2026-12-02T08:00:00Z"`
}

type apiKeyView struct {
	KeyID      string     `json:"key_id" doc:"The key id." example:"key_01JD8X3K2Q"`
	Status     string     `json:"status" doc:"active; expiring (within its grace period); expired; revoked." enum:"active,expiring,expired,revoked" example:"active"` // active | expiring | expired | revoked
	CreatedAt  time.Time  `json:"created_at" doc:"When it was minted." example:"2026-12-01T08:00:00Z"`
	LastUsedAt *time.Time `json:"last_used_at" doc:"When it last authenticated a request (to the minute); null if never." example:"2026-12-01T09:30:00Z"`
	ExpiresAt  *time.Time `json:"expires_at" doc:"When it stops working; null while it has no end."`
	RevokedAt  *time.Time `json:"revoked_at" doc:"When it was revoked; null unless revoked."`
}

type apiKeyList struct {
	Items      []apiKeyView `json:"items" doc:"This page of keys."`
	NextCursor *string      `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

// principalExists answers 404 for an unknown principal of the kind.
func (s *Server) principalExists(ctx context.Context, kind store.PrincipalKind, id string) error {
	var err error
	switch kind {
	case store.KindDepartment:
		_, err = s.store.GetDepartment(ctx, id)
	case store.KindApp:
		_, err = s.store.GetApp(ctx, id)
	case store.KindVenue:
		_, err = s.store.GetVenue(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(string(kind))
	}
	return err
}

func (s *Server) rotateAPIKey(kind store.PrincipalKind) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var req apiKeyRotateRequest
		raw, err := readBody(c, &req)
		if err != nil {
			return err
		}
		grace := DefaultKeyGrace
		if req.Grace != nil {
			g, err := time.ParseDuration(strings.TrimSpace(*req.Grace))
			switch {
			case err != nil:
				return invalid(FieldError{Field: "grace", Code: "duration", Detail: "a duration such as 24h, 30m or 0s"})
			case g < 0 || g > maxKeyGrace:
				return invalid(FieldError{Field: "grace", Code: "range", Detail: "between 0s and 2160h (90 days)"})
			}
			grace = g
		}
		id := c.Param("id")
		if err := s.principalExists(c.Request().Context(), kind, id); err != nil {
			return err
		}
		return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
			now := s.now().UTC().Truncate(time.Microsecond)
			token, keyID, hash := principal.NewAPIKey(kind)
			if err := q.CreateAPIKey(ctx, store.APIKey{ID: keyID, Kind: kind, PrincipalID: id, SecretHash: hash, CreatedAt: now}); err != nil {
				return 0, nil, err
			}
			until := now.Add(grace)
			n, err := q.ExpireOtherAPIKeys(ctx, kind, id, keyID, until)
			if err != nil {
				return 0, nil, err
			}
			if err := s.record(ctx, c, q, "api_key.rotate", string(kind), id,
				map[string]any{"key_id": keyID, "grace": grace.String(), "previous_keys_shortened": n}); err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, apiKeyCreated{KeyID: keyID, APIKey: token, PreviousKeysExpireAt: until}, nil
		})
	}
}

func (s *Server) listAPIKeys(kind store.PrincipalKind) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		id := c.Param("id")
		if err := s.principalExists(ctx, kind, id); err != nil {
			return err
		}
		keys, err := s.store.ListAPIKeys(ctx, kind, id)
		if err != nil {
			return err
		}
		now := s.now()
		out := apiKeyList{Items: make([]apiKeyView, 0, len(keys))}
		for _, k := range keys {
			v := apiKeyView{KeyID: k.ID, CreatedAt: k.CreatedAt.UTC(), LastUsedAt: utcPtr(k.LastUsedAt), ExpiresAt: utcPtr(k.ExpiresAt), RevokedAt: utcPtr(k.RevokedAt)}
			switch {
			case k.RevokedAt != nil:
				v.Status = "revoked"
			case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
				v.Status = "expired"
			case k.ExpiresAt != nil:
				v.Status = "expiring"
			default:
				v.Status = "active"
			}
			out.Items = append(out.Items, v)
		}
		return c.JSON(http.StatusOK, out)
	}
}

func (s *Server) revokeAPIKey(kind store.PrincipalKind) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		id, keyID := c.Param("id"), c.Param("key_id")
		err := s.store.InTx(ctx, func(q store.Queries) error {
			if err := q.RevokeAPIKey(ctx, kind, id, keyID, s.now().UTC().Truncate(time.Microsecond)); err != nil {
				return err
			}
			return s.record(ctx, c, q, "api_key.revoke", string(kind), id, map[string]any{"key_id": keyID})
		})
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("API key")
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
