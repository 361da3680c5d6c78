package issuer

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type row struct {
	line int
	req  IssueRequest
	err  error
}

func collectCSV(t *testing.T, in string) ([]row, error) {
	t.Helper()
	var rows []row
	err := ParseCSV(strings.NewReader(in), func(line int, req IssueRequest, err error) error {
		rows = append(rows, row{line, req, err})
		return nil
	})
	return rows, err
}

func collectJSONL(t *testing.T, in string) ([]row, error) {
	t.Helper()
	var rows []row
	err := ParseJSONL(strings.NewReader(in), func(line int, req IssueRequest, err error) error {
		rows = append(rows, row{line, req, err})
		return nil
	})
	return rows, err
}

func rowErrs(t *testing.T, err error) []FieldError {
	t.Helper()
	var re *RowError
	if !errors.As(err, &re) {
		t.Fatalf("got %v (%T), want *RowError", err, err)
	}
	return re.Errors
}

// csvLine renders a request the way a department's export would.
func csvLine(t *testing.T, r IssueRequest) string {
	fields, err := json.Marshal(r.Fields)
	if err != nil {
		t.Fatal(err)
	}
	until := ""
	if r.ValidUntil != nil {
		until = FormatDate(*r.ValidUntil)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{r.TypeCode, r.Number, r.Holder.Kind, r.Holder.Name, r.Holder.IDType, r.Holder.IDNumber,
		FormatDate(r.ValidFrom), until, fmt.Sprint(r.LongTerm), r.AreaCode, string(fields)})
	w.Flush()
	return b.String()
}

const csvHead = "type_code,number,holder_kind,holder_name,holder_id_type,holder_id_number,valid_from,valid_until,long_term,area_code,fields\n"

func TestParseCSV(t *testing.T) {
	food := seedType(t, TypeFoodBusinessLicence)
	idCard := seedType(t, TypeResidentIDCard)
	r1 := sampleRequest(t, food)
	r1.Fields["business_items"] = "预包装食品销售（含冷藏冷冻食品）,散装食品销售" // a quoted comma
	r2 := sampleRequest(t, idCard)
	r2.ValidUntil, r2.LongTerm = nil, true

	in := "\ufeff" + csvHead + // BOM
		strings.Replace(csvLine(t, r1), `"{""`, "\"{\n\"\"", 1) + // lines 2-3: a line break inside the quoted JSON
		csvLine(t, r2) + // line 4
		`x,"bad"quote,,,,,,,,,` + "\n" + // line 5: CSV syntax
		"a,b,c\n" + // line 6: wrong width
		strings.Replace(csvLine(t, r2), "2026-01-05", "2026-02-30", 1) + // line 7: bad date
		strings.Replace(strings.Replace(csvLine(t, r2), "true", "maybe", 1), `"{`, `"[{`, 1) + // line 8: long_term and fields
		"\r\n" + // line 9: blank, skipped by encoding/csv
		strings.TrimSuffix(csvLine(t, r1), "\n") // line 10, no final newline
	rows, err := collectCSV(t, in)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.line)
	}
	if fmt.Sprint(lines) != "[2 4 5 6 7 8 10]" {
		t.Fatalf("rows on lines %v", lines)
	}
	if rows[0].err != nil || rows[1].err != nil || rows[6].err != nil {
		t.Fatalf("good rows: %v %v %v", rows[0].err, rows[1].err, rows[6].err)
	}
	got := rows[0].req
	if errs := ValidateRequest(food, got, testNow); errs != nil {
		t.Fatalf("row 2 does not validate: %v", errs)
	}
	if got.Fields["business_items"] != r1.Fields["business_items"] || got.Holder != r1.Holder || FormatDate(*got.ValidUntil) != FormatDate(*r1.ValidUntil) {
		t.Fatalf("row 2 read wrongly: %+v", got.Fields)
	}
	if rows[1].req.ValidUntil != nil || !rows[1].req.LongTerm || ValidateRequest(idCard, rows[1].req, testNow) != nil {
		t.Fatalf("row 4: %+v %v", rows[1].req, ValidateRequest(idCard, rows[1].req, testNow))
	}
	for i, want := range []struct {
		line  int
		field string
		code  string
	}{{5, "", CodeSyntax}, {6, "", CodeSyntax}, {7, "valid_from", CodeDateInvalid}} {
		r := rows[2+i]
		errs := rowErrs(t, r.err)
		if r.line != want.line || len(errs) != 1 || errs[0].Field != want.field || errs[0].Code != want.code {
			t.Errorf("row %d: line %d, %v; want line %d %s/%s", i+2, r.line, errs, want.line, want.field, want.code)
		}
	}
	errs := rowErrs(t, rows[5].err)
	if rows[5].line != 8 || len(errs) != 2 || errs[0].Field != "long_term" || errs[1].Field != "fields" {
		t.Errorf("line 8: %d %v", rows[5].line, errs)
	}
	if !strings.Contains(rows[5].err.Error(), "line 8") {
		t.Errorf("error text %q lacks the line", rows[5].err)
	}
}

func TestParseCSVHeader(t *testing.T) {
	// Columns in another order are fine.
	cols := strings.Split(strings.TrimSpace(csvHead), ",")
	cols[0], cols[10] = cols[10], cols[0]
	r := sampleRequest(t, seedType(t, TypeResidentIDCard))
	rec, _ := csv.NewReader(strings.NewReader(csvLine(t, r))).Read()
	rec[0], rec[10] = rec[10], rec[0]
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(cols)
	w.Write(rec)
	w.Flush()
	rows, err := collectCSV(t, b.String())
	if err != nil || len(rows) != 1 || rows[0].err != nil || rows[0].req.TypeCode != TypeResidentIDCard {
		t.Fatalf("reordered header: %v %+v", err, rows)
	}

	for name, tc := range map[string]struct {
		in    string
		field string
		code  string
	}{
		"empty":     {"", "", CodeRequired},
		"missing":   {"type_code,number\n", "holder_kind", CodeRequired},
		"unknown":   {strings.Replace(csvHead, "fields", "fields,colour", 1), "", CodeUnknownField},
		"duplicate": {strings.Replace(csvHead, "fields", "fields,number", 1), "number", CodeDuplicate},
		"syntax":    {`"type_code` + "\n", "", CodeSyntax},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := collectCSV(t, tc.in)
			errs := rowErrs(t, err)
			found := false
			for _, e := range errs {
				found = found || (e.Field == tc.field && e.Code == tc.code)
			}
			if !found {
				t.Fatalf("got %v, want %s/%s", errs, tc.field, tc.code)
			}
		})
	}
}

func TestParseCSVLimits(t *testing.T) {
	// An oversize record (an unterminated quote swallowing the file, say)
	// stops the import instead of filling memory.
	huge := csvHead + `a,"` + strings.Repeat("x\n", MaxRowBytes) + "\n"
	_, err := collectCSV(t, huge)
	if !errors.Is(err, ErrRowTooLarge) {
		t.Fatalf("got %v, want ErrRowTooLarge", err)
	}
	// Long rows below the limit are fine, and the limit is per record.
	r := sampleRequest(t, seedType(t, TypeBusinessLicence))
	r.Fields["business_scope"] = strings.Repeat("经营", 2000)
	line := csvLine(t, r)
	rows, err := collectCSV(t, csvHead+strings.Repeat(line, 30))
	if err != nil || len(rows) != 30 || rows[29].err != nil {
		t.Fatalf("%v, %d rows", err, len(rows))
	}
	// The callback's error stops parsing and is returned.
	stop := errors.New("stop")
	n := 0
	err = ParseCSV(strings.NewReader(csvHead+line+line), func(int, IssueRequest, error) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("%v after %d rows", err, n)
	}
	// Read errors are returned.
	err = ParseCSV(io.MultiReader(strings.NewReader(csvHead), errReader{}), func(int, IssueRequest, error) error { return nil })
	if !errors.Is(err, errBroken) {
		t.Fatalf("got %v", err)
	}
}

var errBroken = errors.New("broken pipe")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func jsonlLine(t *testing.T, r IssueRequest) string {
	m := map[string]any{
		"type_code": r.TypeCode, "number": r.Number, "holder": r.Holder, "valid_from": FormatDate(r.ValidFrom),
		"long_term": r.LongTerm, "area_code": r.AreaCode, "fields": r.Fields, "valid_until": nil,
	}
	if r.ValidUntil != nil {
		m["valid_until"] = FormatDate(*r.ValidUntil)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestParseJSONL(t *testing.T) {
	birth := seedType(t, TypeBirthCertificate)
	food := seedType(t, TypeFoodBusinessLicence)
	r1 := sampleRequest(t, birth)
	r2 := sampleRequest(t, food)
	in := "\ufeff" + jsonlLine(t, r1) + // 1
		"\n   \n" + // 2, 3 blank
		strings.Replace(jsonlLine(t, r2), "\n", "\r\n", 1) + // 4, CRLF
		"{not json\n" + // 5
		`{"type_code":"x","colour":1}` + "\n" + // 6 unknown member
		`{"type_code":12}` + "\n" + // 7 wrong type
		`{"valid_from":"2026-1-5","valid_until":"2026-02-30"}` + "\n" + // 8
		`{"number":"a"} {"number":"b"}` + "\n" + // 9 two values
		`{"fields":[1]}` + "\n" + // 10 fields not an object
		`{"fields":{"a":1},"fields2":2}` + "\n" + // 11
		strings.TrimSuffix(jsonlLine(t, r2), "\n") // 12, no final newline
	rows, err := collectJSONL(t, in)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.line)
	}
	if fmt.Sprint(lines) != "[1 4 5 6 7 8 9 10 11 12]" {
		t.Fatalf("lines %v", lines)
	}
	if rows[0].err != nil || ValidateRequest(birth, rows[0].req, testNow) != nil {
		t.Fatalf("line 1: %v %v", rows[0].err, ValidateRequest(birth, rows[0].req, testNow))
	}
	if _, ok := rows[0].req.Fields["birth_weight"].(json.Number); !ok {
		t.Errorf("numbers arrive as %T, want json.Number", rows[0].req.Fields["birth_weight"])
	}
	if rows[1].err != nil || ValidateRequest(food, rows[1].req, testNow) != nil || rows[9].err != nil {
		t.Fatalf("lines 4, 12: %v %v", rows[1].err, rows[9].err)
	}
	want := []string{"/syntax", "/syntax", "type_code/syntax", "valid_from/format valid_until/date_invalid", "/syntax", "fields/syntax", "/syntax"}
	for i, w := range want {
		var got []string
		for _, e := range rowErrs(t, rows[2+i].err) {
			got = append(got, e.Field+"/"+e.Code)
		}
		if strings.Join(got, " ") != w {
			t.Errorf("line %d: %v, want %s", rows[2+i].line, got, w)
		}
	}
}

func TestParseJSONLLimits(t *testing.T) {
	r := sampleRequest(t, seedType(t, TypeResidentIDCard))
	good := jsonlLine(t, r)
	long := `{"number":"` + strings.Repeat("x", MaxRowBytes) + `"}` + "\n"
	rows, err := collectJSONL(t, good+long+good+long)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].err != nil || rows[2].err != nil || rows[2].line != 3 {
		t.Fatalf("%+v", rows)
	}
	for _, i := range []int{1, 3} {
		errs := rowErrs(t, rows[i].err)
		if len(errs) != 1 || errs[0].Code != CodeTooLarge {
			t.Fatalf("line %d: %v", rows[i].line, errs)
		}
	}
	stop := errors.New("stop")
	if err := ParseJSONL(strings.NewReader(good+good), func(int, IssueRequest, error) error { return stop }); err != stop {
		t.Fatal(err)
	}
	if err := ParseJSONL(io.MultiReader(strings.NewReader(good), errReader{}), func(int, IssueRequest, error) error { return nil }); !errors.Is(err, errBroken) {
		t.Fatal(err)
	}
}

// Parsing a large file keeps memory flat: the callback sees rows one by one.
func TestImportStreams(t *testing.T) {
	line := jsonlLine(t, sampleRequest(t, seedType(t, TypeResidentIDCard)))
	const n = 20000
	pr, pw := io.Pipe()
	go func() {
		for range n {
			io.WriteString(pw, line)
		}
		pw.Close()
	}()
	count := 0
	err := ParseJSONL(pr, func(_ int, _ IssueRequest, err error) error {
		if err != nil {
			return err
		}
		count++
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("%v, %d rows", err, count)
	}
}
