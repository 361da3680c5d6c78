package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
)

// OpenAPI builds the OpenAPI 3.1 document of the route table. Schemas come
// from the Go types of the request and response bodies by reflection, so a
// field added to a body appears in the document without a second edit.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r.Method, r.Path),
			"tags":        []string{r.Tag},
		}
		var params []any
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if r.Idempotent {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "the same key from the same principal returns the first response", "schema": map[string]any{"type": "string", "maxLength": 128}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if !r.Access.public() {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
			kinds := make([]string, len(r.Access.kinds))
			for i, k := range r.Access.kinds {
				kinds[i] = string(k)
			}
			desc := "Principals: " + strings.Join(kinds, ", ")
			if r.Access.scope != "" {
				desc += " (apps need scope " + r.Access.scope + ")"
			}
			op["description"] = desc + "."
		} else {
			op["security"] = []any{}
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Request))}}}
		}
		content := map[string]any{}
		if r.Response != nil {
			content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(r.Response))}
		}
		for _, p := range r.Produces {
			content[p] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		resp := map[string]any{"description": http.StatusText(r.Status)}
		if len(content) > 0 {
			resp["content"] = content
		}
		problemRef := map[string]any{"description": "RFC 9457 problem", "content": map[string]any{
			"application/problem+json": map[string]any{"schema": g.schema(reflect.TypeOf(Problem{}))}}}
		op["responses"] = map[string]any{itoa(r.Status): resp, "default": problemRef}
		if paths[r.Path] == nil {
			paths[r.Path] = map[string]any{}
		}
		paths[r.Path][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Suishen API",
			"version":     s.deps.Version,
			"description": "随申码 and 电子证照 issuance and verification. Errors are RFC 9457 problems with a stable code. Every GET operation also answers HEAD (same status and headers, no body); a 405 lists the allowed methods in Allow.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

var openAPIOnce sync.Map // *Server → []byte

func (s *Server) openAPIHandler(c *echo.Context) error {
	b, ok := openAPIOnce.Load(s)
	if !ok {
		raw, err := json.MarshalIndent(s.OpenAPI(), "", "  ")
		if err != nil {
			return err
		}
		b, _ = openAPIOnce.LoadOrStore(s, raw)
	}
	return jsonBlob(c, http.StatusOK, "", b.([]byte))
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			if part == "" {
				continue
			}
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

type schemaGen struct{ defs map[string]any }

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		if _, ok := g.defs[name]; ok {
			return ref
		}
		g.defs[name] = map[string]any{} // placeholder against recursion
		props := map[string]any{}
		var required []string
		g.fields(t, props, &required)
		def := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			sort.Strings(required)
			def["required"] = required
		}
		g.defs[name] = def
		return ref
	}
	return map[string]any{}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props, required)
			continue
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		sch := g.schema(f.Type)
		if f.Type.Kind() == reflect.Pointer {
			sch = map[string]any{"oneOf": []any{sch, map[string]any{"type": "null"}}}
		}
		props[name] = sch
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

func schemaName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return "Anonymous"
	}
	return strings.ToUpper(n[:1]) + n[1:]
}
