package api

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzBodyFieldErrors holds the path finder to the decoder it explains: on
// any input it never panics, lists at most maxFieldErrors fields, finds
// nothing in a body the strict decoder accepts, and finds something in
// every body the decoder refuses for an unknown field or a wrong type.
//
//	go test ./api -run '^$' -fuzz FuzzBodyFieldErrors -fuzztime 30s
func FuzzBodyFieldErrors(f *testing.F) {
	for _, seed := range []string{
		`{"items":[{"type_code":"x"},{"bogus":1},{"holder":{"kind":7}}]}`,
		`{"items":[{"valid_until":null,"fields":{"a":[1,{"b":2}]}}]}`, `{"items":{}}`, `{"items":[1,"x",null,true]}`,
		`{"ITEMS":[{"Type_Code":"x"}]}`, `{"items":[{"holder":[]}]}`, `[]`, `null`, `{"items":[{"long_term":"1"}]}`,
		`{"items":[{"number":1e400}]}`, `{"items":[{"number":"a"}]} {"x":1}`,
	} {
		f.Add([]byte(seed))
	}
	t := reflect.TypeOf(batchRequest{})
	f.Fuzz(func(tt *testing.T, raw []byte) {
		errs := bodyFieldErrors(raw, t)
		if len(errs) > maxFieldErrors {
			tt.Fatalf("%d errors", len(errs))
		}
		var dst batchRequest
		err := decodeJSON(raw, &dst)
		if err == nil && len(errs) > 0 {
			tt.Fatalf("decoder accepts %q, path finder reports %+v", raw, errs)
		}
		if p, ok := err.(*Problem); ok && p.Code == "validation_failed" {
			for _, e := range p.Errors {
				if e.Field == "" || e.Code == "" {
					tt.Fatalf("%q: empty field error %+v", raw, e)
				}
			}
		}
	})
}

func TestBodyFieldErrorsPaths(t *testing.T) {
	raw := `{"items":[{"type_code":"x"},{"Holder":{"kind":7,"nick":"x"}},{"valid_until":5},{"fields":{"a":{"b":[1]}}},{"long_term":null}],"x":1}`
	var got []string
	for _, e := range bodyFieldErrors([]byte(raw), reflect.TypeOf(batchRequest{})) {
		got = append(got, e.Field+"/"+e.Code)
	}
	want := "items[1].Holder.kind/type items[1].Holder.nick/unknown_field items[2].valid_until/type x/unknown_field"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}
