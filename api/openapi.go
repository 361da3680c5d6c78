package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/verifier"
)

// OpenAPI builds the OpenAPI 3.1 document of the route table. Schemas come
// from the Go types of the request and response bodies by reflection, so a
// field added to a body appears in the document without a second edit.
//
// Descriptions have one source each (see docs/decisions.md):
//   - an operation: the route's Summary and Doc, plus who may call it (from
//     its access policy);
//   - a parameter: the route's Params, else pathParamDocs or commonParams;
//   - a property: the struct tag doc:"…" on the field of the Go type, with
//     enum:"a,b,c" for a closed set, example:"…" for an example value (JSON
//     for non-string fields), format:"date" (or another JSON Schema format)
//     for strings, and schema:"Name" where a json.RawMessage holds a value
//     of a known type (schemaTypes).
//
// TestOpenAPIDescribesEverything fails when any of these is missing.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	problemSchema := g.schema(reflect.TypeOf(Problem{}))
	paths := map[string]map[string]any{}
	usedResponses := map[int]bool{}
	tags := map[string]bool{}
	for _, r := range s.routes {
		tags[r.Tag] = true
		op := map[string]any{
			"summary":     r.Summary,
			"description": operationDescription(r),
			"operationId": operationID(r.Method, r.Path),
			"tags":        []string{r.Tag},
		}
		var params []any
		for _, seg := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				params = append(params, map[string]any{"name": name, "in": "path", "required": true,
					"description": paramDoc(r, name), "schema": map[string]any{"type": "string", "minLength": 1}})
			}
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false,
				"description": paramDoc(r, q), "schema": paramSchema(q)})
		}
		if r.Idempotent {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "Any unique string (a UUID is fine): the same key from the same principal returns the first response, so a retry never creates twice; the same key with a different body is 422 idempotency_key_reused.",
				"schema":      map[string]any{"type": "string", "maxLength": 128}, "example": "5f0c6a8e-7a51-4a9b-9d0e-3c1d2b4a6f70"})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if !r.Access.public() {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
		} else {
			op["security"] = []any{}
		}
		if r.Request != nil {
			mt := map[string]any{"schema": g.schema(reflect.TypeOf(r.Request))}
			if ex := exampleOf(reflect.TypeOf(r.Request), 0); ex != nil {
				mt["example"] = ex
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": mt}}
		}
		content := map[string]any{}
		if r.Response != nil {
			mt := map[string]any{"schema": g.schema(reflect.TypeOf(r.Response))}
			if ex := exampleOf(reflect.TypeOf(r.Response), 0); ex != nil {
				mt["example"] = ex
			}
			content["application/json"] = mt
		}
		for _, p := range r.Produces {
			content[p] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		resp := map[string]any{"description": http.StatusText(r.Status)}
		if len(content) > 0 {
			resp["content"] = content
		}
		responses := map[string]any{strconv.Itoa(r.Status): resp}
		for _, st := range errorStatuses(r) {
			usedResponses[st] = true
			responses[strconv.Itoa(st)] = map[string]any{"$ref": "#/components/responses/" + problemResponseName(st)}
		}
		responses["default"] = map[string]any{"$ref": "#/components/responses/Error"}
		op["responses"] = responses
		if paths[r.Path] == nil {
			paths[r.Path] = map[string]any{}
		}
		paths[r.Path][strings.ToLower(r.Method)] = op
	}
	responses := map[string]any{
		"Error": map[string]any{"description": "Any other error, such as 503 unavailable (retry later) or 500 internal (quote the request_id); always an RFC 9457 problem.",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": problemSchema}}},
	}
	for st := range usedResponses {
		pr := problemResponses[st]
		responses[problemResponseName(st)] = map[string]any{"description": pr.doc,
			"content": map[string]any{"application/problem+json": map[string]any{"schema": problemSchema, "example": pr.example(st)}}}
	}
	var tagList []any
	for _, t := range sortedTags(tags) {
		d := tagDocs[t]
		if d == "" {
			d = t
		}
		tagList = append(tagList, map[string]any{"name": t, "description": d})
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Suishen API",
			"version": s.deps.Version,
			"description": "随申码 and 电子证照 issuance and verification. JSON bodies, snake_case fields, times in RFC 3339 UTC; " +
				"`Authorization: Bearer <token>` (the admin token, an API key, or a holder session). Errors are RFC 9457 problems " +
				"(`application/problem+json`) with a stable `code` and, for validation failures, every bad field in `errors[]` " +
				"by its full path (`items[3].holder.kind`). Lists take `limit` and `cursor` and answer `{items, next_cursor}`. " +
				"Every GET operation also answers HEAD (same status and headers, no body); a 405 lists the allowed methods in Allow.",
			"license": map[string]any{"name": "Apache-2.0", "identifier": "Apache-2.0"},
		},
		"servers": []any{map[string]any{"url": s.cfg.PublicURL, "description": "this node (SUISHEN_PUBLIC_URL)"}},
		"tags":    tagList,
		"paths":   paths,
		"components": map[string]any{
			"schemas":   g.defs,
			"responses": responses,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "The admin token (SUISHEN_ADMIN_TOKEN), an API key minted for a department, app or venue, or a holder session token from POST /v1/sessions."}},
		},
	}
}

// tagDocs describe the operation groups.
var tagDocs = map[string]string{
	"operations":   "Probes, metrics and this document.",
	"admin":        "Registering departments, apps and venues, their API keys, the catalogue, signing keys and the audit log (admin token).",
	"trust":        "What an offline verifier needs: public keys, the signed trust bundle, status lists.",
	"catalogue":    "The certificate catalogue (证照目录, GB/T 36902) and the face fields of each type.",
	"certificates": "Issuing electronic certificates (电子证照) and their lifecycle (department API key).",
	"holders":      "A person's or an enterprise's own view: sessions, certificates, grants (授权用证), usage records (用证记录).",
	"codes":        "随申码 codes: personal, offline, enterprise and presentation (亮证) codes; check-ins.",
	"venues":       "A venue's code, its scans (online and uploaded after offline scanning) and its visitors.",
	"verification": "Online verification of codes and certificates, and redeeming use codes (用证码) (app API key).",
	"cases":        "两个免于提交: service items (政务服务事项), cases that pull and check certificates, statistics.",
	"pages":        "Pages for people, served by the same binary (HTML; every asset embedded).",
	"regions":      "Regional mutual recognition (区域互认): peer regions whose certificates and codes verify here, and their trust data relayed for offline verifiers.",
	"benefits":     "免申即享: department policies, matching eligible holders from their certificates, and the entitlements offered.",
}

func sortedTags(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// operationDescription is the route's Doc followed by who may call it.
func operationDescription(r route) string {
	var b strings.Builder
	if r.Doc != "" {
		b.WriteString(r.Doc)
		b.WriteString("\n\n")
	}
	if r.Access.public() {
		b.WriteString("Public: no token needed (rate-limited per client address).")
	} else {
		kinds := make([]string, len(r.Access.kinds))
		for i, k := range r.Access.kinds {
			kinds[i] = string(k)
		}
		b.WriteString("Who may call it: " + strings.Join(kinds, ", "))
		if r.Access.scope != "" {
			b.WriteString(" (an app needs scope `" + r.Access.scope + "`)")
		}
		b.WriteString(".")
	}
	if r.Idempotent {
		b.WriteString(" Send an Idempotency-Key to make retries safe.")
	}
	return b.String()
}

// commonParams describe parameters that mean the same on every route.
var commonParams = map[string]string{
	"limit":     "Page size: how many items to return, 1 to 500 (default 50).",
	"cursor":    "Where to continue: the next_cursor of the previous page, as returned (opaque).",
	"order":     "desc (the default): newest first; asc: oldest first. A cursor continues in the order it was made for.",
	"type_code": "Only certificates of this type (证照类型代码).",
	"operator":  "Who at the app looks at the data (a person's name or staff number), recorded in the holder's usage record.",
	"purpose":   "Why the app looks at the data, recorded in the holder's usage record.",
	"v":         "The asset's content hash, as the pages reference it: with it the response is immutable.",
	"name":      "The asset's file name.",
	"sm3":       "The 64-character lowercase hex SM3 digest of the form a trust bundle pins: that exact form (cacheable for a year), or 404 status_list_version_gone once the node no longer holds it; without it, the current form.",
}

// pathParamDocs describe path parameters by the path segment before them.
var pathParamDocs = map[string]string{
	"certificates/id":        "The certificate's identifier (证照标识, GB/T 36904), as returned when it was issued.",
	"departments/id":         "The department's id, as returned when it was registered.",
	"apps/id":                "The app's id, as returned when it was registered.",
	"venues/id":              "The venue's id, as returned when it was registered.",
	"api-keys/key_id":        "The API key's id (key_id), as listed by GET …/api-keys.",
	"keys/kid":               "The key's id (kid), as in /.well-known/jwks.json.",
	"cases/id":               "The case's id, as returned when it was opened.",
	"certificate-types/code": "The certificate type's code (证照类型代码, GB/T 36902).",
	"service-items/code":     "The service item's code (事项编码).",
	"status-lists/id":        "The status list's id, as referenced by a certificate's document (status_list.id) or the trust bundle.",
	"authorizations/id":      "The grant's id, as returned when it was made.",
	"entitlements/id":        "The entitlement's id.",
	"policies/code":          "The policy's code.",
	"regions/code":           "The peer region's 6-digit area code.",
	"copies/id":              "The annotated copy's id.",
	"login/ticket":           "The one-time ticket of a login_url from POST /v1/sessions.",
}

// paramDoc finds a parameter's description: the route's own, then by the
// path segment before it, then the common ones.
func paramDoc(r route, name string) string {
	if d := r.Params[name]; d != "" {
		return d
	}
	segs := strings.Split(r.Path, "/")
	for i, seg := range segs {
		if seg == "{"+name+"}" && i > 0 {
			if d := pathParamDocs[segs[i-1]+"/"+name]; d != "" {
				return d
			}
		}
	}
	return commonParams[name]
}

// paramSchema types the common query parameters.
func paramSchema(name string) map[string]any {
	switch name {
	case "limit":
		return map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
	case "cursor":
		return map[string]any{"type": "string", "maxLength": 400}
	case "order":
		return map[string]any{"type": "string", "enum": []string{"desc", "asc"}, "default": "desc"}
	}
	return map[string]any{"type": "string"}
}

// problemResponse documents one problem status.
type problemResponse struct {
	name, doc, code, detail string
}

func (p problemResponse) example(status int) map[string]any {
	ex := map[string]any{"type": problemTypeBase + p.code, "title": http.StatusText(status), "status": status,
		"code": p.code, "detail": p.detail, "request_id": "q1W2e3R4t5Y6u7I8"}
	if status == http.StatusUnprocessableEntity {
		ex["errors"] = []any{map[string]any{"field": "items[3].holder.id_number", "code": "check_digit", "detail": "the check character does not match"}}
	}
	return ex
}

var problemResponses = map[int]problemResponse{
	400: {"BadRequest", "The body is not valid JSON, or not one JSON object (code malformed_json).", "malformed_json", "the request body is not valid JSON"},
	401: {"Unauthorized", "No bearer token, or one that is unknown, revoked or expired (codes unauthenticated, invalid_token).", "invalid_token", "the bearer token is unknown, revoked or expired"},
	403: {"Forbidden", "The token is valid but not for this operation: another kind of principal, an app without the scope, or outside what this principal may touch (code forbidden).", "forbidden", "this endpoint needs an app with scope verify"},
	404: {"NotFound", "No such resource, or none this principal may see: existence is not revealed (code not_found).", "not_found", "certificate not found"},
	409: {"Conflict", "The request conflicts with the current state: a unique key exists, or the resource is not in a state that allows it (codes already_exists, illegal_transition, concurrent_change, …).", "already_exists", "a certificate of this type with this number was already issued by this department"},
	413: {"PayloadTooLarge", "The body exceeds SUISHEN_BODY_LIMIT (code body_too_large).", "body_too_large", "the request body exceeds the size limit"},
	415: {"UnsupportedMediaType", "Send Content-Type: application/json (code unsupported_media_type).", "unsupported_media_type", "send Content-Type: application/json"},
	422: {"UnprocessableEntity", "One or more fields are invalid: errors[] names each by its path (code validation_failed), or an Idempotency-Key was reused with another body (idempotency_key_reused).", "validation_failed", "one or more fields are invalid"},
	429: {"TooManyRequests", "Too many requests from this client or app; wait Retry-After seconds (code rate_limited).", "rate_limited", "too many requests; slow down"},
}

func problemResponseName(status int) string { return problemResponses[status].name }

// errorStatuses are the 4xx a route can answer, from what it takes and who
// may call it.
func errorStatuses(r route) []int {
	set := map[int]bool{}
	if r.Request != nil {
		set[400], set[413], set[415], set[422] = true, true, true, true
	}
	if len(r.Query) > 0 || r.Idempotent {
		set[422] = true
	}
	if strings.Contains(r.Path, "{") {
		set[404] = true
	}
	if r.Access.public() {
		set[429] = true
	} else {
		set[401], set[403] = true, true
		if r.Access.scope == "verify" {
			set[429] = true
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		set[409] = true
	}
	for _, st := range r.Errors {
		set[st] = true
	}
	out := make([]int, 0, len(set))
	for st := range set {
		out = append(out, st)
	}
	sort.Ints(out)
	return out
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

// enumSets are closed sets named in an enum tag by "@name" because their
// values are constants of another package: the list follows the constants.
var enumSets = map[string][]string{
	"@verifier.reasons": {
		verifier.ReasonMalformed, verifier.ReasonOversized, verifier.ReasonUnsupportedAlgorithm, verifier.ReasonUnsupportedVersion,
		verifier.ReasonUnknownKind, verifier.ReasonBadSignature, verifier.ReasonUnknownKey, verifier.ReasonKeyCompromised,
		verifier.ReasonWrongRole, verifier.ReasonKeyNotTrustedForType, verifier.ReasonKeyRetired, verifier.ReasonKeyNotYetValid,
		verifier.ReasonExpired, verifier.ReasonNotYetValid, verifier.ReasonWrongKind, verifier.ReasonSuspended, verifier.ReasonRevoked,
		verifier.ReasonSuperseded, verifier.ReasonStatusListMissing, verifier.ReasonStatusListExpired, verifier.ReasonStatusUnknown,
		verifier.ReasonBundleExpired, verifier.ReasonBundleUnavailable, verifier.ReasonUnverifiable,
	},
}

// schemaTypes name the Go types that a json.RawMessage field stands for
// (tag schema:"Name"): the field is documented as that type.
var schemaTypes = map[string]reflect.Type{
	"Document": reflect.TypeOf(issuer.Document{}),
}

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
		ft := f.Type
		if named, ok := schemaTypes[f.Tag.Get("schema")]; ok {
			ft = named
		}
		sch := g.schema(ft)
		if _, isRef := sch["$ref"]; isRef {
			// Wrap a reference so the field's own description stays beside
			// it (OpenAPI 3.0 tools ignore siblings of $ref).
			sch = map[string]any{"allOf": []any{sch}}
		}
		annotate(sch, f)
		if f.Type.Kind() == reflect.Pointer {
			sch = nullable(sch)
		}
		props[name] = sch
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

// annotate adds a field's tags to its schema: description, enum, example,
// format.
func annotate(sch map[string]any, f reflect.StructField) {
	if d := f.Tag.Get("doc"); d != "" {
		sch["description"] = d
	}
	target := sch
	if items, ok := sch["items"].(map[string]any); ok && sch["type"] == "array" {
		target = items // enum and format of a list apply to its elements
		if _, isRef := items["$ref"]; isRef {
			target = nil
		}
	}
	if e := f.Tag.Get("enum"); e != "" && target != nil {
		if set, ok := enumSets[e]; ok {
			target["enum"] = set
		} else {
			target["enum"] = strings.Split(e, ",")
		}
	}
	if fm := f.Tag.Get("format"); fm != "" && target != nil {
		target["format"] = fm
	}
	if ex, ok := fieldExample(f); ok {
		sch["examples"] = []any{ex}
	}
}

// nullable lets a pointer field be null.
func nullable(sch map[string]any) map[string]any {
	if t, ok := sch["type"].(string); ok {
		sch["type"] = []string{t, "null"}
		if e, ok := sch["enum"].([]string); ok {
			vals := make([]any, 0, len(e)+1)
			for _, v := range e {
				vals = append(vals, v)
			}
			sch["enum"] = append(vals, nil)
		}
		return sch
	}
	out := map[string]any{"oneOf": []any{sch, map[string]any{"type": "null"}}}
	if d, ok := sch["description"]; ok {
		out["description"] = d
	}
	return out
}

// fieldExample reads example:"…": JSON for non-string fields (numbers,
// booleans, arrays, objects), the text itself for strings.
func fieldExample(f reflect.StructField) (any, bool) {
	ex, ok := f.Tag.Lookup("example")
	if !ok {
		return nil, false
	}
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.String || t == timeType {
		return ex, true
	}
	var v any
	if err := json.Unmarshal([]byte(ex), &v); err != nil {
		return ex, true
	}
	return v, true
}

// exampleOf composes an example value of t from its fields' examples; nil
// when no field has one.
func exampleOf(t reflect.Type, depth int) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if depth > 6 {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if e := exampleOf(t.Elem(), depth+1); e != nil {
			return []any{e}
		}
		return nil
	case reflect.Struct:
		if t == timeType {
			return nil
		}
		out := map[string]any{}
		exampleFields(t, out, depth)
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
}

func exampleFields(t reflect.Type, out map[string]any, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			exampleFields(f.Type, out, depth)
			continue
		}
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if ex, ok := fieldExample(f); ok {
			out[name] = ex
			continue
		}
		ft := f.Type
		if named, ok := schemaTypes[f.Tag.Get("schema")]; ok {
			ft = named
		}
		if ex := exampleOf(ft, depth+1); ex != nil {
			out[name] = ex
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
