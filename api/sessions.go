package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/principal"
	"github.com/suishen/suishen/store"
)

type sessionRequest struct {
	Kind     string `json:"kind" doc:"person or enterprise." enum:"person,enterprise" example:"person"` // person | enterprise
	Name     string `json:"name" doc:"The holder name as verified by the identity gateway." example:"张三"`
	IDNumber string `json:"id_number" doc:"公民身份号码 (person) or 统一社会信用代码 (enterprise), with a valid check character." example:"11010519491231002X"` // 公民身份号码 (person) or 统一社会信用代码 (enterprise)
}

type sessionCreated struct {
	Token     string    `json:"token" doc:"The holder session token (Authorization: Bearer); short-lived (SUISHEN_SESSION_TTL)." example:"hs_7Kp2…"`
	ExpiresAt time.Time `json:"expires_at" doc:"When the session ends." example:"2026-12-01T08:30:00Z"`
	Subject   string    `json:"subject" doc:"The holder pseudonymous subject (stable per person, reveals no ID number)." example:"sub_4f9a1c…"`
	// LoginURL opens the holder page in the person's browser: one use, valid
	// for 2 minutes (see websession.go).
	LoginURL string `json:"login_url" doc:"Send the person's browser here to open the holder page: one use, valid for 2 minutes; it sets a session cookie and redirects to /me." example:"http://127.0.0.1:8080/login/3kX9…"`
}

type meResponse struct {
	Subject    string `json:"subject" doc:"The holder pseudonymous subject." example:"sub_4f9a1c…"`
	Kind       string `json:"kind" doc:"person or enterprise." enum:"person,enterprise" example:"person"`
	MaskedName string `json:"masked_name" doc:"The holder name, masked." example:"张*"`
}

// validateHolder checks a holder's kind and identifier number; field names
// are prefixed with prefix (e.g. "holder.").
func (s *Server) validateHolder(v *checks, prefix, kind, name, idNumber string) {
	v.text(prefix+"name", name, 100)
	switch kind {
	case "person":
		if idNumber == "" {
			v.add(prefix+"id_number", "required", "is required")
		} else if err := ident.ValidateCitizenID(idNumber, s.now()); err != nil {
			v.add(prefix+"id_number", identCode(err), err.Error())
		}
	case "enterprise":
		v.uscc(prefix+"id_number", idNumber)
	default:
		v.add(prefix+"kind", "enum", "must be person or enterprise")
	}
}

func (s *Server) createSession(c *echo.Context) error {
	var req sessionRequest
	raw, err := readBody(c, &req)
	if err != nil {
		return err
	}
	var v checks
	s.validateHolder(&v, "", req.Kind, req.Name, req.IDNumber)
	if err := v.err(); err != nil {
		return err
	}
	return s.create(c, raw, func(ctx context.Context, q store.Queries) (int, any, error) {
		token, hash := principal.NewSessionToken()
		now := s.now().UTC().Truncate(time.Microsecond)
		sess := store.Session{
			TokenHash: hash, Subject: s.deps.Subjects.Of(req.Kind, req.IDNumber), HolderKind: req.Kind,
			DisplayName: ident.MaskName(req.Name), CreatedBy: who(c).Ref(), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL),
		}
		if err := q.CreateSession(ctx, sess); err != nil {
			return 0, nil, err
		}
		if err := s.record(ctx, c, q, "session.create", "holder", sess.Subject,
			map[string]any{"holder_kind": sess.HolderKind, "expires_at": sess.ExpiresAt}); err != nil {
			return 0, nil, err
		}
		loginURL, err := s.loginURL(ctx, q, sess)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, sessionCreated{Token: token, ExpiresAt: sess.ExpiresAt, Subject: sess.Subject, LoginURL: loginURL}, nil
	})
}

func (s *Server) me(c *echo.Context) error {
	p := who(c)
	return c.JSON(http.StatusOK, meResponse{Subject: p.ID, Kind: p.HolderKind, MaskedName: p.Name})
}

func actorOf(c *echo.Context) audit.Actor {
	p := who(c)
	return audit.Actor{Kind: p.Kind, ID: p.ID}
}

func isExists(err error) bool { return errors.Is(err, store.ErrAlreadyExists) }

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
