package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/store"
)

type rotateRequest struct {
	Role           string `json:"role" doc:"Which key to rotate: the trust anchor, the code-signing key, or a department key." enum:"anchor,code,department" example:"department"` // anchor | code | department
	DepartmentUSCC string `json:"department_uscc,omitempty" doc:"The department, for role department." example:"11100000000013338W"`
}

type keyView struct {
	KID            string     `json:"kid" doc:"The key id." example:"dep-11100000000013338W-2"`
	Role           string     `json:"key_role" doc:"What the key signs." enum:"anchor,code,department" example:"department"`
	DepartmentUSCC string     `json:"department_uscc,omitempty" doc:"The department, for a department key." example:"11100000000013338W"`
	Status         string     `json:"key_status" doc:"active signs; retired only verifies what it signed; compromised verifies nothing." enum:"active,retired,compromised" example:"active"`
	NotBefore      time.Time  `json:"not_before" doc:"From when it is valid." example:"2026-12-01T08:00:00Z"`
	NotAfter       *time.Time `json:"not_after" doc:"Until when what it signed may verify; null while active."`
	CreatedAt      time.Time  `json:"created_at" doc:"When it was made." example:"2026-12-01T08:00:00Z"`
	RetiredAt      *time.Time `json:"retired_at,omitempty" doc:"When it stopped signing."`
	CompromisedAt  *time.Time `json:"compromised_at,omitempty" doc:"When it was marked compromised."`
}

type rotateResponse struct {
	Key     keyView  `json:"key" doc:"The new active key."`
	Retired *keyView `json:"retired,omitempty" doc:"The key it replaced, now retired."`
}

type compromiseResponse struct {
	Key         keyView  `json:"key" doc:"The key, now compromised."`
	Replacement *keyView `json:"replacement,omitempty" doc:"The new key made in its place, if it was active."`
}

type keyList struct {
	Items      []keyView `json:"items" doc:"This page of keys."`
	NextCursor *string   `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page."`
}

func viewKey(k store.Key) keyView {
	return keyView{KID: k.KID, Role: string(k.Role), DepartmentUSCC: k.DepartmentUSCC, Status: string(k.Status),
		NotBefore: k.NotBefore, NotAfter: k.NotAfter, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt, CompromisedAt: k.CompromisedAt}
}

func (s *Server) jwks(c *echo.Context) error {
	doc, err := s.pub.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.JSON(http.StatusOK, doc)
}

// trustBundle serves the signed bundle as application/jose with an ETag.
func (s *Server) trustBundle(c *echo.Context) error {
	pub, err := s.pub.CurrentChecked(c.Request().Context())
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", pub.ETag)
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Last-Modified", pub.Bundle.IssuedAt.UTC().Format(http.TimeFormat))
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == pub.ETag || m == "*" || m == "W/"+pub.ETag {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, "application/jose", []byte(pub.JWS))
}

func (s *Server) listKeys(c *echo.Context) error {
	out := keyList{Items: []keyView{}}
	for _, k := range s.deps.Keys.Keys() {
		out.Items = append(out.Items, viewKey(k))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) rotateKey(c *echo.Context) error {
	var req rotateRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	switch store.KeyRole(req.Role) {
	case store.RoleAnchor, store.RoleCode:
		if req.DepartmentUSCC != "" {
			v.add("department_uscc", "not_allowed", "only department keys belong to a department")
		}
	case store.RoleDepartment:
		v.uscc("department_uscc", req.DepartmentUSCC)
	default:
		v.add("role", "enum", "must be anchor, code or department")
	}
	if err := v.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.Role == string(store.RoleDepartment) {
		if _, err := s.store.GetDepartmentByUSCC(ctx, req.DepartmentUSCC); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errNotFound("department")
			}
			return err
		}
	}
	defer func() { _ = s.deps.Keys.Reload(ctx) }()
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		created, retired, err := s.deps.Keys.RotateIn(ctx, q, store.KeyRole(req.Role), req.DepartmentUSCC, actorOf(c), requestID(c))
		if err != nil {
			return 0, nil, err
		}
		out := rotateResponse{Key: viewKey(created)}
		if retired.KID != "" {
			rv := viewKey(retired)
			out.Retired = &rv
		}
		return http.StatusCreated, out, nil
	})
}

func (s *Server) compromiseKey(c *echo.Context) error {
	kid := c.Param("kid")
	marked, repl, err := s.deps.Keys.Compromise(c.Request().Context(), kid, actorOf(c), requestID(c))
	switch {
	case errors.Is(err, keyring.ErrUnknownKey):
		return errNotFound("key")
	case errors.Is(err, keyring.ErrCompromised):
		return problem(http.StatusConflict, "already_compromised", "the key is already marked compromised")
	case err != nil:
		return err
	}
	s.pub.Invalidate()
	out := compromiseResponse{Key: viewKey(marked)}
	if repl != nil {
		rv := viewKey(*repl)
		out.Replacement = &rv
	}
	return c.JSON(http.StatusOK, out)
}
