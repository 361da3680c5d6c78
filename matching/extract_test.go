package matching

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/suishen/suishen/benefits"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
)

// reference is what extract must agree with: encoding/json reading the
// document into maps (exact keys, the last of a repeated key wins), the
// first holder's name into a string, the wanted fields into any.
func reference(doc []byte, want []string) (area, name string, fields map[string]any, err error) {
	var top map[string]json.RawMessage
	if err = json.Unmarshal(doc, &top); err != nil {
		return
	}
	if raw, ok := top["area_code"]; ok {
		if err = json.Unmarshal(raw, &area); err != nil {
			return
		}
	}
	if raw, ok := top["holders"]; ok {
		var hs []json.RawMessage
		if err = json.Unmarshal(raw, &hs); err != nil {
			return
		}
		for i, h := range hs {
			if string(h) == "null" {
				continue
			}
			var m map[string]json.RawMessage
			if err = json.Unmarshal(h, &m); err != nil {
				return
			}
			if n, ok := m["name"]; ok && string(n) != "null" {
				var s string
				if err = json.Unmarshal(n, &s); err != nil {
					return
				}
				if i == 0 {
					name = s
				}
			}
		}
	}
	fields = map[string]any{}
	if raw, ok := top["fields"]; ok && string(raw) != "null" {
		var fs map[string]json.RawMessage
		if err = json.Unmarshal(raw, &fs); err != nil {
			return
		}
		for _, w := range want {
			if r, ok := fs[w]; ok {
				var v any
				if err = json.Unmarshal(r, &v); err != nil {
					return
				}
				fields[w] = v
			}
		}
	}
	return
}

func extractAll(doc []byte, want []string) (area, name string, fields map[string]any, err error) {
	var ex extracted
	if err = extract(doc, want, &ex); err != nil {
		return
	}
	fields = map[string]any{}
	for _, f := range ex.list(len(want)) {
		if f.raw == nil {
			continue
		}
		var v any
		if v, err = value(f.raw); err != nil {
			return
		}
		fields[f.name] = v
	}
	return ex.area, ex.name, fields, nil
}

func TestExtract(t *testing.T) {
	want := []string{"birth_date", "level", "missing"}
	cases := []struct {
		doc                  string
		area, name           string
		fields               map[string]any
		fails                bool
		referenceAlsoRejects bool
	}{
		{doc: `{"area_code":"310117","holders":[{"name":"张三","id_number":"x"}],"fields":{"birth_date":"1946-12-01","level":2,"sex":"男"}}`,
			area: "310117", name: "张三", fields: map[string]any{"birth_date": "1946-12-01", "level": 2.0}},
		// Escapes in keys and values, nested values skipped, whitespace.
		{doc: " {\"area\\u005fcode\" : \"31\\u00301\", \"x\":[1,{\"a\":[true,false,null]},-0.5e+3], \"holders\" :[ null, {\"name\":\"b\"} ] ,\n\"fields\":{\"level\":{\"a\":1},\"birth_date\":\"a\\\"b\"}}\t",
			area: "3101", name: "", fields: map[string]any{"level": map[string]any{"a": 1.0}, "birth_date": `a"b`}},
		// The last of a repeated key wins; a repeated "fields" replaces the earlier one.
		{doc: `{"area_code":"1","area_code":"2","fields":{"level":1},"fields":{"birth_date":"d"},"holders":[{"name":"a","name":"b"}]}`,
			area: "2", name: "b", fields: map[string]any{"birth_date": "d"}},
		// Null holders, null name, null fields.
		{doc: `{"holders":null,"fields":null}`, fields: map[string]any{}},
		{doc: `{"holders":[{"name":null}],"fields":{}}`, fields: map[string]any{}},
		{doc: `{"area_code":"a"`, fails: true, referenceAlsoRejects: true},
		{doc: `{"area_code":"a"} x`, fails: true, referenceAlsoRejects: true},
		{doc: `{"holders":[1]}`, fails: true, referenceAlsoRejects: true},
		{doc: `{"x":01}`, fails: true, referenceAlsoRejects: true},
		{doc: `{"x":"\q"}`, fails: true, referenceAlsoRejects: true},
	}
	for _, c := range cases {
		area, name, fields, err := extractAll([]byte(c.doc), want)
		if c.fails {
			if err == nil {
				t.Errorf("%s: extracted, want an error", c.doc)
			}
			if _, _, _, rerr := reference([]byte(c.doc), want); (rerr != nil) != c.referenceAlsoRejects {
				t.Errorf("%s: reference error %v", c.doc, rerr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.doc, err)
			continue
		}
		if area != c.area || name != c.name || !reflect.DeepEqual(fields, c.fields) {
			t.Errorf("%s: got %q %q %v, want %q %q %v", c.doc, area, name, fields, c.area, c.name, c.fields)
		}
		ra, rn, rf, rerr := reference([]byte(c.doc), want)
		if rerr != nil || ra != area || rn != name || !reflect.DeepEqual(rf, fields) {
			t.Errorf("%s: reference says %q %q %v %v", c.doc, ra, rn, rf, rerr)
		}
	}
}

// TestExtractRealDocument: the documents the bench and the issuance path
// produce read the same through extract and through encoding/json.
func TestExtractRealDocument(t *testing.T) {
	c := oneCard(t, "sub-1", "1946-12-01", "310117", 7)
	payload, err := payloadOf(c.JWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"birth_date", "name", "address"}
	a, n, f, err := extractAll(payload, want)
	ra, rn, rf, rerr := reference(payload, want)
	if err != nil || rerr != nil || a != ra || n != rn || !reflect.DeepEqual(f, rf) {
		t.Fatalf("extract %q %q %v %v; reference %q %q %v %v", a, n, f, err, ra, rn, rf, rerr)
	}
	if a != "310117" || f["birth_date"] != "1946-12-01" || n == "" {
		t.Fatalf("read %q %q %v", a, n, f)
	}
}

// FuzzExtract: on any input extract never panics, and wherever
// encoding/json reads an object, extract reads the same values.
func FuzzExtract(f *testing.F) {
	c := oneCard(f, "sub-1", "1946-12-01", "310117", 7)
	payload, _ := payloadOf(c.JWS, nil)
	f.Add(payload)
	f.Add([]byte(`{"area_code":"1","area_code":"2","fields":{"level":1},"fields":{"birth_date":"d"},"holders":[{"name":"a","name":"b"}]}`))
	f.Add([]byte(`{"holders":[null,{"name":"\u5f20"}],"fields":{"birth_date":[1,2,{"x":-1.5E3}],"level":"\ud800"}}`))
	want := []string{"birth_date", "level"}
	f.Fuzz(func(t *testing.T, doc []byte) {
		area, name, fields, err := extractAll(doc, want)
		ra, rn, rf, rerr := reference(doc, want)
		if rerr != nil {
			return // any answer but a panic
		}
		if len(bytes.TrimLeft(doc, " \t\r\n")) == 0 || bytes.TrimLeft(doc, " \t\r\n")[0] != '{' {
			return // null: encoding/json reads an empty document
		}
		if err != nil {
			if errors.Is(err, errSyntax) {
				t.Fatalf("extract rejected what encoding/json reads: %q", doc)
			}
			t.Fatalf("extract: %v on %q", err, doc)
		}
		if area != ra || name != rn || !reflect.DeepEqual(fields, rf) {
			t.Fatalf("%q: extract %q %q %#v; encoding/json %q %q %#v", doc, area, name, fields, ra, rn, rf)
		}
	})
}

// jsonDecode is how matching read a certificate before extract (commit
// 92f8406): encoding/json into a document whose face fields stay raw,
// then the policy's fields into any. The baseline of BenchmarkDecode.
func jsonDecode(c *benefits.Compiled, mc store.MatchCertificate) (benefits.Certificate, string, error) {
	payload, err := payloadOf(mc.JWS, nil)
	if err != nil {
		return benefits.Certificate{}, "", err
	}
	var d struct {
		AreaCode string `json:"area_code"`
		Holders  []struct {
			Name string `json:"name"`
		} `json:"holders"`
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(payload, &d); err != nil {
		return benefits.Certificate{}, "", err
	}
	names := c.Fields(mc.TypeCode)
	fields := make(map[string]any, len(names))
	for _, f := range names {
		if raw, ok := d.Fields[f]; ok {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return benefits.Certificate{}, "", err
			}
			fields[f] = v
		}
	}
	name := ""
	if len(d.Holders) > 0 {
		name = d.Holders[0].Name
	}
	return benefits.Certificate{ID: mc.ID, TypeCode: mc.TypeCode, AreaCode: d.AreaCode, ValidFrom: mc.ValidFrom, ValidUntil: mc.ValidUntil, Fields: fields}, name, nil
}

func agedPolicy(tb testing.TB) *benefits.Compiled {
	cat := map[string]issuer.CertificateType{}
	for _, t := range issuer.SeedCatalogue() {
		cat[t.Code] = t
	}
	c, errs := benefits.Compile(benefits.Seed()[0].Policy, func(code string) (issuer.CertificateType, bool) {
		t, ok := cat[code]
		return t, ok
	})
	if errs != nil {
		tb.Fatal(errs)
	}
	return c
}

func matchOf(c store.Certificate) store.MatchCertificate {
	return store.MatchCertificate{ID: c.ID, TypeCode: c.TypeCode, HolderSubject: c.HolderSubject, ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, JWS: c.JWS}
}

// TestDecodeAgreesWithJSON: the scan and the former encoding/json path
// hand the policy the same certificate.
func TestDecodeAgreesWithJSON(t *testing.T) {
	comp := agedPolicy(t)
	var d decoder
	for i, birth := range []string{"1946-12-01", "2001-02-28", "1920-01-01"} {
		mc := matchOf(oneCard(t, "sub-1", birth, "310117", i))
		got, gn, err := d.decode(comp, mc)
		want, wn, werr := jsonDecode(comp, mc)
		if err != nil || werr != nil || gn != wn || !reflect.DeepEqual(got, want) {
			t.Fatalf("scan %+v %q %v; encoding/json %+v %q %v", got, gn, err, want, wn, werr)
		}
		if got.Fields["birth_date"] != birth {
			t.Fatalf("birth_date %v", got.Fields["birth_date"])
		}
	}
}

// BenchmarkDecode: reading one certificate for a policy — the scan against
// the encoding/json path it replaced.
//
//	go test ./matching -run '^$' -bench Decode
func BenchmarkDecode(b *testing.B) {
	comp := agedPolicy(b)
	mc := matchOf(oneCard(b, "sub-1", "1946-12-01", "310117", 7))
	b.Run("scan", func(b *testing.B) {
		var d decoder
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := d.decode(comp, mc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := jsonDecode(comp, mc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
