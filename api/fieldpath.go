package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxFieldErrors bounds how many bad fields one problem lists.
const maxFieldErrors = 100

var (
	jsonUnmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// bodyFieldErrors finds every unknown field and every value of the wrong JSON
// type in raw, measured against the Go type t that decodeJSON decodes into,
// and names each by its full path: items[3].holder.bogus, not bogus. The
// standard decoder stops at the first error and names fields without array
// indices, so in a batch one bad item would hide which it was; this walk
// runs only after the decoder has refused the body. Paths follow the JSON
// names (the same matching as encoding/json: exact, then case-insensitive).
func bodyFieldErrors(raw []byte, t reflect.Type) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var out []FieldError
	walkJSON(v, t, "", &out)
	return out
}

func joinPath(base, name string) string {
	if name == "" {
		return base + `[""]`
	}
	if base == "" {
		return name
	}
	return base + "." + name
}

func walkJSON(v any, t reflect.Type, path string, out *[]FieldError) {
	if len(*out) >= maxFieldErrors || v == nil { // null is accepted for any type, as encoding/json does
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawType || t.Kind() == reflect.Interface ||
		reflect.PointerTo(t).Implements(jsonUnmarshalerType) && t != timeType {
		return // decoded by its own rules
	}
	where := path
	if where == "" {
		where = "(body)"
	}
	bad := func(kind string) {
		*out = append(*out, FieldError{Field: where, Code: "type", Detail: "must be " + kind})
	}
	switch {
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			bad("a string")
			return
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			*out = append(*out, FieldError{Field: where, Code: "format", Detail: "must be an RFC 3339 time such as 2026-12-01T08:00:00Z"})
		}
		return
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		if _, ok := v.(string); !ok {
			bad("a string")
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			bad("a number")
		} else if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			bad("a whole number in range")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			bad("a number")
		} else if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			bad("a whole number in range")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			bad("a number")
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				bad("a base64 string")
			}
			return
		}
		arr, ok := v.([]any)
		if !ok {
			bad("an array")
			return
		}
		for i, e := range arr {
			walkJSON(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range sortedKeys(obj) {
			walkJSON(obj[k], t.Elem(), joinPath(path, k), out)
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				for name, f := range fields {
					if strings.EqualFold(name, k) {
						ft, ok = f, true
						break
					}
				}
			}
			if !ok {
				*out = append(*out, FieldError{Field: joinPath(path, k), Code: "unknown_field", Detail: "is not a field of this request"})
				continue
			}
			walkJSON(obj[k], ft, joinPath(path, k), out)
		}
	}
}

// jsonFields maps a struct's JSON names to field types, promoting the
// fields of embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, dup := out[k]; !dup {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorted for a stable order; arrays keep theirs, so batch items come in
	// index order.
	sort.Strings(keys)
	return keys
}
