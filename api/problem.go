package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/store"
)

// FieldError names one bad field of a request.
type FieldError struct {
	Field  string `json:"field" doc:"The bad field by its path in the request: holder.id_number, items[3].bogus; a query parameter or header by its name." example:"items[3].holder.id_number"`
	Code   string `json:"code" doc:"A stable code for what is wrong (required, type, unknown_field, format, length, enum, check_digit, …)." example:"check_digit"`
	Detail string `json:"detail" doc:"What is wrong, in words." example:"the check character does not match"`
}

// Problem is an RFC 9457 problem detail with Suishen's stable machine code
// and, for validation failures, the list of bad fields.
type Problem struct {
	Type      string       `json:"type" doc:"A URI naming the problem type: urn:suishen:problem: followed by code." example:"urn:suishen:problem:validation_failed"`
	Title     string       `json:"title" doc:"The HTTP status text." example:"Unprocessable Entity"`
	Status    int          `json:"status" doc:"The HTTP status code." example:"422"`
	Detail    string       `json:"detail,omitempty" doc:"What went wrong in this occurrence, in words (never personal data)." example:"one or more fields are invalid"`
	Code      string       `json:"code" doc:"A stable machine code: program against this." example:"validation_failed"`
	Instance  string       `json:"instance,omitempty" doc:"The request path." example:"/v1/certificates/batch"`
	RequestID string       `json:"request_id,omitempty" doc:"The X-Request-ID of the request: quote it when reporting a problem." example:"q1W2e3R4t5Y6u7I8"`
	Errors    []FieldError `json:"errors,omitempty" doc:"For validation failures: every bad field."`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

// problemTypeBase prefixes every problem type; the code follows.
const problemTypeBase = "urn:suishen:problem:"

// statusClientClosed is the status logged for a request whose client went
// away (nginx's 499).
const statusClientClosed = 499

func problem(status int, code, detail string) *Problem {
	return &Problem{Type: problemTypeBase + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

// invalid is a 422 listing every bad field.
func invalid(errs ...FieldError) *Problem {
	p := problem(http.StatusUnprocessableEntity, "validation_failed", "one or more fields are invalid")
	p.Errors = errs
	if len(errs) == 1 {
		p.Detail = errs[0].Field + ": " + errs[0].Detail
	}
	return p
}

// Common problems.
var (
	errUnauthenticated = func() *Problem {
		return problem(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
	}
	errForbidden = func(detail string) *Problem { return problem(http.StatusForbidden, "forbidden", detail) }
	errNotFound  = func(what string) *Problem { return problem(http.StatusNotFound, "not_found", what+" not found") }
)

// toProblem maps any error to the problem the client sees. Internal details
// never leave the server: unknown errors become a bare 500 "internal".
func toProblem(err error) (*Problem, bool) {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		return &cp, false
	}
	var he *echo.HTTPError
	var sc echo.HTTPStatusCoder
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "not_found", "the resource does not exist"), false
	case errors.Is(err, store.ErrAlreadyExists):
		return problem(http.StatusConflict, "already_exists", "a resource with the same unique key exists"), false
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrRetryable):
		return problem(http.StatusServiceUnavailable, "unavailable", "the database is unavailable; retry later"), true
	case errors.Is(err, keyring.ErrKeyNotActive):
		return problem(http.StatusServiceUnavailable, "key_changed", "the signing key changed during the request; retry"), false
	case errors.Is(err, context.Canceled):
		// The client went away before the answer (nobody reads it): not
		// a server failure. 499 as nginx logs it; nothing was committed,
		// since a transaction whose work finished commits regardless.
		p := problem(statusClientClosed, "client_closed_request", "the client closed the request before it was answered")
		p.Title = "Client Closed Request"
		return p, false
	case errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusServiceUnavailable, "timeout", "the request took too long; retry later"), true
	case errors.As(err, &he):
		return statusProblem(he.Code), false
	case errors.As(err, &sc):
		return statusProblem(sc.StatusCode()), false
	}
	return problem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request_id when reporting it"), true
}

func statusProblem(status int) *Problem {
	switch status {
	case http.StatusNotFound:
		return problem(status, "route_not_found", "no such endpoint")
	case http.StatusMethodNotAllowed:
		return problem(status, "method_not_allowed", "the endpoint does not support this method")
	case http.StatusRequestEntityTooLarge:
		return problem(status, "body_too_large", "the request body exceeds the size limit")
	case http.StatusUnsupportedMediaType:
		return problem(status, "unsupported_media_type", "send Content-Type: application/json")
	case http.StatusTooManyRequests:
		return problem(status, "rate_limited", "too many requests; slow down")
	case http.StatusUnauthorized:
		return errUnauthenticated()
	case http.StatusForbidden:
		return errForbidden("not allowed")
	case http.StatusServiceUnavailable:
		return problem(status, "unavailable", "the service is unavailable; retry later")
	case http.StatusBadRequest:
		return problem(status, "bad_request", "the request is malformed")
	}
	if status >= 400 && status < 500 {
		return problem(status, "client_error", http.StatusText(status))
	}
	return problem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request_id when reporting it")
}

// errorHandler writes every error as application/problem+json.
func (s *Server) errorHandler(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return
	}
	p, internal := toProblem(err)
	p.RequestID = requestID(c)
	p.Instance = c.Request().URL.Path
	if internal {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", p.RequestID), slog.String("route", c.Path()), slog.String("err", err.Error()))
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	b, _ := json.Marshal(p)
	_ = jsonBlob(c, p.Status, "application/problem+json", b)
}

// readBody reads a JSON request body (bounded by the body-limit middleware)
// and decodes it strictly into dst: the right content type, one object, no
// unknown fields, every type error named by its field.
func readBody(c *echo.Context, dst any) ([]byte, error) {
	req := c.Request()
	ct := req.Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, problem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return nil, statusProblem(http.StatusRequestEntityTooLarge)
		}
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
			return nil, statusProblem(http.StatusRequestEntityTooLarge)
		}
		var sc echo.HTTPStatusCoder
		if errors.As(err, &sc) && sc.StatusCode() == http.StatusRequestEntityTooLarge {
			return nil, statusProblem(http.StatusRequestEntityTooLarge)
		}
		return nil, problem(http.StatusBadRequest, "malformed_body", "the request body could not be read")
	}
	return raw, decodeJSON(raw, dst)
}

// decodeJSON is the strict decoder behind readBody.
func decodeJSON(raw []byte, dst any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		if errors.As(err, &ute) || strings.HasPrefix(err.Error(), "json: unknown field ") {
			// Name every bad field by its full path (items[3].bogus), not
			// just the first one the decoder met.
			if errs := bodyFieldErrors(raw, reflect.TypeOf(dst)); len(errs) > 0 {
				return invalid(errs...)
			}
		}
		switch {
		case errors.As(err, &ute):
			f := ute.Field
			if f == "" {
				f = "(body)"
			}
			return invalid(FieldError{Field: f, Code: "type", Detail: "must be " + jsonKind(ute.Type.Kind().String())})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return invalid(FieldError{Field: name, Code: "unknown_field", Detail: "is not a field of this request"})
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return problem(http.StatusBadRequest, "malformed_json", "the request body is not valid JSON")
		}
		return problem(http.StatusBadRequest, "malformed_json", "the request body is not a JSON object of the expected shape")
	}
	if dec.More() {
		return problem(http.StatusBadRequest, "malformed_json", "the request body holds more than one JSON value")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "of another type"
}
