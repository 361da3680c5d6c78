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
