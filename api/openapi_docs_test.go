package api

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/suishen/suishen/store/teststore"
)

// closedSets are JSON field names whose string values come from a closed
// set: such a field must list them with enum:"…".
var closedSets = map[string]bool{
	"status": true, "result": true, "kind": true, "scopes": true, "level": true, "role": true, "key_role": true,
	"key_status": true, "outcome": true, "holder_kind": true, "pull": true, "id_type": true, "actor_kind": true,
	"channel": true, "verify_result": true, "op": true,
}

// undocumentedFields walks the Go types of every request and response body
// (as the OpenAPI generator does) and lists each field without doc:"…" and
// each closed-set field without enum:"…", saying exactly what to add where.
func undocumentedFields(routes []route) []string {
	seen := map[reflect.Type]bool{}
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == timeType || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			where := fmt.Sprintf("%s.%s field %s (JSON %q)", t.PkgPath(), t.Name(), f.Name, name)
			if f.Tag.Get("doc") == "" {
				out = append(out, where+`: add doc:"…" to its struct tag (what the value means to a caller)`)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if closedSets[name] && ft.Kind() == reflect.String && f.Tag.Get("enum") == "" {
				out = append(out, where+`: a closed set; add enum:"a,b,c" listing every value`)
			}
			if named, ok := schemaTypes[f.Tag.Get("schema")]; ok {
				walk(named)
			} else {
				walk(f.Type)
			}
		}
	}
	for _, r := range routes {
		if r.Request != nil {
			walk(reflect.TypeOf(r.Request))
		}
		if r.Response != nil {
			walk(reflect.TypeOf(r.Response))
		}
	}
	walk(reflect.TypeOf(Problem{}))
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesEverything keeps /openapi.json usable by a person and
// a generator as routes and fields are added: every operation, parameter
// and property has a description, every closed set an enum. Its messages
// say what to add where.
func TestOpenAPIDescribesEverything(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	for _, m := range undocumentedFields(h.srv.routes) {
		t.Error(m)
	}
	doc := h.srv.OpenAPI()
	for path, ops := range doc["paths"].(map[string]map[string]any) {
		for method, o := range ops {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			if op["summary"] == "" {
				t.Errorf("%s: give its route a Summary in the route table", where)
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if d, _ := pm["description"].(string); d == "" {
					t.Errorf(`%s: parameter %q (%s) has no description: add Params: map[string]string{%q: "…"} to its route, or an entry to commonParams / pathParamDocs in api/openapi.go`,
						where, pm["name"], pm["in"], pm["name"])
				}
			}
			if _, ok := tagDocs[op["tags"].([]string)[0]]; !ok {
				t.Errorf("%s: tag %q has no description: add it to tagDocs in api/openapi.go", where, op["tags"].([]string)[0])
			}
			for st := range op["responses"].(map[string]any) {
				if st != "default" && st >= "400" && problemResponses[atoiOr(st)].name == "" {
					t.Errorf("%s: status %s has no entry in problemResponses (api/openapi.go)", where, st)
				}
			}
		}
	}
}

func atoiOr(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// TestOpenAPIForGenerators checks what a client generator relies on: every
// operation's 4xx answers are problems, limit is an integer, servers and a
// license are there, the certificate document is typed, closed sets are
// enums, and the main bodies carry examples.
func TestOpenAPIForGenerators(t *testing.T) {
	h := newHarness(t, teststore.Backends()[0].Open(t))
	doc := h.must(200, h.do("GET", "/openapi.json", "", nil))
	comps := doc["components"].(map[string]any)
	responses := comps["responses"].(map[string]any)
	schemas := comps["schemas"].(map[string]any)
	if s, _ := doc["servers"].([]any); len(s) == 0 || s[0].(map[string]any)["url"] != h.cfg.PublicURL {
		t.Errorf("servers %v", doc["servers"])
	}
	if l, _ := doc["info"].(map[string]any)["license"].(map[string]any); l["identifier"] == nil {
		t.Errorf("license %v", l)
	}
	problemRef := "#/components/schemas/Problem"
	for path, ops := range doc["paths"].(map[string]any) {
		for method, o := range ops.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			n4xx := 0
			for st, r := range op["responses"].(map[string]any) {
				if !strings.HasPrefix(st, "4") {
					continue
				}
				n4xx++
				ref := r.(map[string]any)["$ref"].(string)
				resp := responses[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
				s := resp["content"].(map[string]any)["application/problem+json"].(map[string]any)["schema"].(map[string]any)
				if s["$ref"] != problemRef {
					t.Errorf("%s %s: schema %v", where, st, s)
				}
			}
			if n4xx == 0 && path != "/" {
				t.Errorf("%s has no 4xx response", where)
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				typ := pm["schema"].(map[string]any)["type"]
				if pm["name"] == "limit" && typ != "integer" || pm["name"] == "cursor" && typ != "string" {
					t.Errorf("%s: %s typed %v", where, pm["name"], typ)
				}
			}
		}
	}
	cv := schemas["CertificateView"].(map[string]any)["properties"].(map[string]any)
	if fmt.Sprint(cv["document"].(map[string]any)["allOf"]) != "[map[$ref:#/components/schemas/Document]]" {
		t.Errorf("document is %v, not the Document schema", cv["document"])
	}
	docProps := schemas["Document"].(map[string]any)["properties"].(map[string]any)
	for _, f := range []string{"identifier", "type_code", "issuer", "holders", "fields", "status_list", "valid_until"} {
		if docProps[f] == nil {
			t.Errorf("Document lacks %s", f)
		}
	}
	if fmt.Sprint(cv["status"].(map[string]any)["enum"]) != "[valid suspended revoked cancelled expired superseded]" {
		t.Errorf("certificate status enum %v", cv["status"])
	}
	issue := doc["paths"].(map[string]any)["/v1/certificates"].(map[string]any)["post"].(map[string]any)
	ex := issue["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["example"]
	if ex == nil || ex.(map[string]any)["holder"] == nil {
		t.Errorf("POST /v1/certificates has no request example: %v", ex)
	}
}
