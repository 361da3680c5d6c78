package issuer

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// checkRows is the callback of the import fuzz targets: lines increase,
// every error is a *RowError with at least one coded entry, and a good row
// can go through ValidateRequest without panicking.
func checkRows(t *testing.T, cat []CertificateType) (func(int, IssueRequest, error) error, *int) {
	last := 0
	return func(line int, req IssueRequest, err error) error {
		if line <= last {
			t.Fatalf("line %d after %d", line, last)
		}
		last = line
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) || len(re.Errors) == 0 || re.Line != line {
				t.Fatalf("line %d: error %v (%T)", line, err, err)
			}
			for _, fe := range re.Errors {
				if fe.Code == "" || fe.Detail == "" {
					t.Fatalf("line %d: uncoded error %v", line, fe)
				}
			}
			return nil
		}
		for _, ct := range cat {
			if ct.Code == req.TypeCode {
				ValidateRequest(ct, req, testNow)
			}
		}
		return nil
	}, &last
}

func FuzzParseCSV(f *testing.F) {
	cat := SeedCatalogue()
	for _, ct := range cat[:3] {
		r := sampleRequest(f, ct)
		fields, _ := json.Marshal(r.Fields)
		f.Add([]byte(csvHead + ct.Code + ",A1,person,张三,111," + testCitizenID + ",2026-01-05,,true,310104,\"" +
			strings.ReplaceAll(string(fields), `"`, `""`) + "\"\n"))
	}
	f.Add([]byte("\ufeff" + csvHead + `a,"b` + "\n" + `c",d` + "\n"))
	f.Add([]byte(csvHead + `x,"bad"quote,,,,,,,,,` + "\n,,,,,,,,,,\n\"\"\"\",,,,,,,,,,{}\r\n"))
	f.Add([]byte(csvHead + ",,,,,,2026-02-30,2026-13-01,maybe,,[1]\n"))
	f.Add([]byte("type_code\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fn, _ := checkRows(t, cat)
		err := ParseCSV(bytes.NewReader(data), fn)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) && !errors.Is(err, ErrRowTooLarge) {
				t.Fatalf("unexpected error %v (%T)", err, err)
			}
		}
	})
}

func FuzzParseJSONL(f *testing.F) {
	cat := SeedCatalogue()
	for _, ct := range cat[:3] {
		r := sampleRequest(f, ct)
		b, _ := json.Marshal(map[string]any{"type_code": r.TypeCode, "number": r.Number, "holder": r.Holder,
			"valid_from": "2026-01-05", "valid_until": nil, "long_term": true, "area_code": r.AreaCode, "fields": r.Fields})
		f.Add(append(b, '\n'))
	}
	f.Add([]byte("\ufeff{}\n\n{\"fields\":null}\r\n{\"holder\":{\"kind\":1}}"))
	f.Add([]byte(`{"valid_from":"2026-1-5","fields":[1]} {"number":"b"}` + "\n{not json"))
	f.Add([]byte(`{"fields":{"a":1e999,"b":-0,"c":{"d":[]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fn, _ := checkRows(t, cat)
		if err := ParseJSONL(bytes.NewReader(data), fn); err != nil {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func FuzzDecodeStatusList(f *testing.F) {
	l := NewStatusList("f", MinStatusListSize)
	empty, _ := l.Encode()
	f.Add(empty)
	for i := 0; i < MinStatusListSize; i += 97 {
		l.Set(i, uint8(i%4))
	}
	full, _ := l.Encode()
	f.Add(full)
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(make([]byte, 1<<20))
	w.Close()
	f.Add(base64.RawURLEncoding.EncodeToString(b.Bytes()))
	f.Add(empty + "A")
	f.Add("")
	f.Add("H4sIAAAAAAAA_w")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := DecodeStatusList("f", s, MinStatusListSize)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != CodeMalformed && e.Code != CodeTooLarge) {
				t.Fatalf("error %v (%T)", err, err)
			}
			return
		}
		// Whatever decoded re-encodes to a list with the same entries.
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeStatusList("f", enc, MinStatusListSize)
		if err != nil || !bytes.Equal(back.Bytes(), l.Bytes()) {
			t.Fatalf("re-encoding changed the list: %v", err)
		}
	})
}

// FuzzValidateRequest feeds random face-field maps (and holder values) to
// every seeded type: no panic, every error coded and named, and whatever
// passes builds a consistent, marshallable document.
func FuzzValidateRequest(f *testing.F) {
	cat := SeedCatalogue()
	for i, ct := range cat {
		r := sampleRequest(f, ct)
		b, _ := json.Marshal(r.Fields)
		f.Add(b, uint8(i), r.Holder.IDNumber, "2026-01-05", "2030-01-01", true)
	}
	f.Add([]byte(`{"name":1e400,"sex":"男","birth_date":"2023-02-29","x":{"y":[1,2]},"address":"\u0000"}`), uint8(2), "", "", "", false)
	f.Add([]byte(`{"gestational_weeks":39.0000000000000001,"birth_weight":-9007199254740993,"birth_length":"NaN"}`), uint8(5), testCitizenID, "1899-12-31", "", true)
	f.Add([]byte(`null`), uint8(0), testUSCC, "2026-01-05", "2126-01-05", false)
	f.Fuzz(func(t *testing.T, fieldsJSON []byte, typ uint8, idNumber, from, until string, useNumber bool) {
		if len(fieldsJSON) > 1<<16 {
			return
		}
		ct := cat[int(typ)%len(cat)]
		dec := json.NewDecoder(bytes.NewReader(fieldsJSON))
		if useNumber {
			dec.UseNumber()
		}
		var fields map[string]any
		if dec.Decode(&fields) != nil {
			return
		}
		r := sampleRequest(t, ct)
		r.Fields = fields
		r.Holder.IDNumber = idNumber
		if d, err := ParseDate(from); err == nil {
			r.ValidFrom = d
		}
		if d, err := ParseDate(until); err == nil {
			r.ValidUntil, r.LongTerm = &d, false
		}
		errs := ValidateRequest(ct, r, testNow)
		for _, e := range errs {
			if e.Field == "" || e.Code == "" || e.Detail == "" {
				t.Fatalf("incomplete error %+v", e)
			}
			if len(idNumber) > 8 && strings.Contains(e.Detail, idNumber) {
				t.Fatalf("detail echoes the ID number: %v", e)
			}
		}
		if errs != nil {
			return
		}
		d := BuildDocument(ct, testIssuerName, testIssuerUSCC, sampleID(t, ct, 1, 1), r, time.Now(), "", "sl", 0)
		if err := d.check(); err != nil {
			t.Fatalf("valid request built an inconsistent document: %v", err)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("document does not marshal: %v", err)
		}
		for _, spec := range ct.Fields {
			if spec.Required {
				if _, ok := d.Fields[spec.Name]; !ok {
					t.Fatalf("required field %s missing from a valid request's document", spec.Name)
				}
			}
		}
		for k := range d.Fields {
			if !ct.hasField(k) {
				t.Fatalf("document carries unknown field %q", k)
			}
		}
	})
}
