package issuer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Bulk import files. Both formats are read as a stream in constant memory:
// one row at a time, each at most MaxRowBytes. ParseCSV and ParseJSONL only
// read rows into IssueRequests; the caller runs ValidateRequest on each, as
// for a single issuance. A leading UTF-8 byte order mark is skipped.
//
// CSV (RFC 4180, comma-separated, UTF-8): a header row naming exactly the
// columns of CSVHeader, in any order, then one certificate per row:
//
//	type_code,number,holder_kind,holder_name,holder_id_type,holder_id_number,valid_from,valid_until,long_term,area_code,fields
//
// valid_from and valid_until are YYYY-MM-DD (valid_until empty when
// long-term); long_term is true, false or empty (false); fields is the face
// data as one JSON object in one (quoted) column — JSON keeps the field
// types (numbers, booleans) a flat CSV would lose. Empty fields means {}.
//
// JSONL: one JSON object per line, the body of POST /v1/certificates:
//
//	{"type_code":…,"number":…,"holder":{"kind":…,"name":…,"id_type":…,"id_number":…},
//	 "valid_from":"YYYY-MM-DD","valid_until":"YYYY-MM-DD"|null,"long_term":false,"area_code":…,"fields":{…}}
//
// Unknown members are errors; blank lines are skipped.

// MaxRowBytes bounds one CSV record or JSONL line.
const MaxRowBytes = 256 << 10

// CSVHeader lists the CSV import columns.
var CSVHeader = []string{
	"type_code", "number", "holder_kind", "holder_name", "holder_id_type", "holder_id_number",
	"valid_from", "valid_until", "long_term", "area_code", "fields",
}

// ErrRowTooLarge is returned (wrapped, with the line) when a CSV record
// exceeds MaxRowBytes; the rest of the file cannot be read reliably after
// it. An oversize JSONL line is a per-row error instead.
var ErrRowTooLarge = errors.New("issuer: import row larger than MaxRowBytes")

// ParseCSV reads a CSV import file (format above) and calls fn for every
// data row with the row's starting line (1-based; the header is line 1) and
// either the request read from it or a *RowError naming each bad column. A
// row that is not well-formed CSV (a stray quote) gives a *RowError with
// field "" and code "syntax"; reading continues with the next row.
//
// ParseCSV stops and returns fn's error if fn returns one. Otherwise it
// fails for a missing or bad header (a *RowError for line 1), a record over
// MaxRowBytes (ErrRowTooLarge) and read errors; it returns nil at the end of
// the input.
func ParseCSV(r io.Reader, fn func(line int, req IssueRequest, err error) error) error {
	lr := &recordLimitReader{r: skipBOM(r), max: MaxRowBytes}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // counted below, to name the row's problem
	header, err := cr.Read()
	if err != nil {
		if lr.err != nil {
			return fmt.Errorf("%w (line 1)", lr.err)
		}
		if err == io.EOF {
			return &RowError{Line: 1, Errors: []FieldError{{Field: "", Code: CodeRequired, Detail: "the file is empty: a header row is required"}}}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &RowError{Line: 1, Errors: []FieldError{{Field: "", Code: CodeSyntax, Detail: "the header row is not well-formed CSV"}}}
		}
		return err
	}
	cols, herr := csvColumns(header)
	if herr != nil {
		return herr
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if lr.err != nil {
			line, _ := cr.FieldPos(0)
			return fmt.Errorf("%w (the record starting near line %d)", lr.err, line)
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			re := &RowError{Line: pe.StartLine, Errors: []FieldError{{Field: "", Code: CodeSyntax, Detail: "the row is not well-formed CSV: " + pe.Err.Error()}}}
			if err := fn(pe.StartLine, IssueRequest{}, re); err != nil {
				return err
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(CSVHeader) {
			re := &RowError{Line: line, Errors: []FieldError{{Field: "", Code: CodeSyntax, Detail: fmt.Sprintf("the row has %d columns; the header has %d", len(rec), len(CSVHeader))}}}
			if err := fn(line, IssueRequest{}, re); err != nil {
				return err
			}
			continue
		}
		req, rowErr := csvRequest(rec, cols, line)
		var cbErr error
		if rowErr != nil {
			cbErr = fn(line, IssueRequest{}, rowErr)
		} else {
			cbErr = fn(line, req, nil)
		}
		if cbErr != nil {
			return cbErr
		}
	}
}

// csvColumns maps each CSVHeader column to its position in header.
func csvColumns(header []string) ([]int, error) {
	cols := make([]int, len(CSVHeader))
	for i := range cols {
		cols[i] = -1
	}
	var fe []FieldError
	for pos, name := range header {
		name = strings.TrimSpace(name)
		idx := -1
		for i, want := range CSVHeader {
			if name == want {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			fe = append(fe, FieldError{Field: "", Code: CodeUnknownField, Detail: fmt.Sprintf("column %d of the header is not an import column", pos+1)})
		case cols[idx] >= 0:
			fe = append(fe, FieldError{Field: name, Code: CodeDuplicate, Detail: "the column appears twice in the header"})
		default:
			cols[idx] = pos
		}
	}
	for i, c := range cols {
		if c < 0 {
			fe = append(fe, FieldError{Field: CSVHeader[i], Code: CodeRequired, Detail: "the header lacks this column"})
		}
	}
	if fe != nil {
		return nil, &RowError{Line: 1, Errors: fe}
	}
	return cols, nil
}

// csvRequest reads one record (already of the right width) into a request.
func csvRequest(rec []string, cols []int, line int) (IssueRequest, error) {
	get := func(i int) string { return rec[cols[i]] }
	req := IssueRequest{
		TypeCode: get(0),
		Number:   get(1),
		Holder:   Holder{Kind: get(2), Name: get(3), IDType: get(4), IDNumber: get(5)},
		AreaCode: get(9),
	}
	var v errs
	req.ValidFrom = rowDate(&v, "valid_from", get(6))
	if s := get(7); s != "" {
		t := rowDate(&v, "valid_until", s)
		if !t.IsZero() {
			req.ValidUntil = &t
		}
	}
	switch strings.TrimSpace(get(8)) {
	case "", "false", "FALSE", "False", "0":
	case "true", "TRUE", "True", "1":
		req.LongTerm = true
	default:
		v.add("long_term", CodeType, "long_term is true, false or empty")
	}
	if s := get(10); strings.TrimSpace(s) != "" {
		req.Fields = rowFields(&v, []byte(s))
	}
	if v.list != nil {
		return IssueRequest{}, &RowError{Line: line, Errors: v.list}
	}
	return req, nil
}

func rowDate(v *errs, field, s string) time.Time {
	if s == "" {
		return time.Time{} // ValidateRequest reports a missing date
	}
	t, err := ParseDate(s)
	if err != nil {
		v.add(field, errorCode(err, CodeFormat), "a real calendar date in 1900 or later, written YYYY-MM-DD, is expected")
		return time.Time{}
	}
	return t
}

// rowFields decodes a fields JSON object, numbers as json.Number.
func rowFields(v *errs, b []byte) map[string]any {
	var m map[string]any
	if err := decodeStrict(b, &m); err != nil || m == nil {
		v.add("fields", CodeSyntax, "fields is one JSON object")
		return nil
	}
	return m
}

// jsonlRow is the JSON shape of an import line (the body of
// POST /v1/certificates).
type jsonlRow struct {
	TypeCode   string         `json:"type_code"`
	Number     string         `json:"number"`
	Holder     Holder         `json:"holder"`
	ValidFrom  string         `json:"valid_from"`
	ValidUntil *string        `json:"valid_until"`
	LongTerm   bool           `json:"long_term"`
	AreaCode   string         `json:"area_code"`
	Fields     map[string]any `json:"fields"` // numbers as json.Number (decodeStrict)
}

// ParseJSONL reads a JSONL import file (format above) and calls fn for
// every non-blank line with its line number (1-based) and either the request
// or a *RowError. A line that is not one JSON object of the row shape, or is
// longer than MaxRowBytes, is a per-row error (code "syntax" or
// "too_large"); reading continues with the next line.
//
// ParseJSONL stops and returns fn's error if fn returns one, or a read
// error; it returns nil at the end of the input.
func ParseJSONL(r io.Reader, fn func(line int, req IssueRequest, err error) error) error {
	br := bufio.NewReaderSize(skipBOM(r), 64<<10)
	var buf []byte
	line := 0
	for {
		buf = buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(chunk) > MaxRowBytes+2 { // +2: the line ending
					tooLong = true
					buf = buf[:0]
				} else {
					buf = append(buf, chunk...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			return err
		}
		atEOF := err == io.EOF
		if atEOF && len(buf) == 0 && !tooLong {
			return nil
		}
		line++
		var cbErr error
		switch {
		case tooLong:
			cbErr = fn(line, IssueRequest{}, &RowError{Line: line, Errors: []FieldError{{Field: "", Code: CodeTooLarge, Detail: fmt.Sprintf("a line is at most %d bytes", MaxRowBytes)}}})
		case len(bytes.TrimSpace(buf)) == 0:
			// blank line
		default:
			req, rowErr := jsonlRequest(buf, line)
			if rowErr != nil {
				cbErr = fn(line, IssueRequest{}, rowErr)
			} else {
				cbErr = fn(line, req, nil)
			}
		}
		if cbErr != nil {
			return cbErr
		}
		if atEOF {
			return nil
		}
	}
}

func jsonlRequest(b []byte, line int) (IssueRequest, error) {
	req, errs := DecodeRequest(b)
	if errs != nil {
		return IssueRequest{}, &RowError{Line: line, Errors: errs}
	}
	return req, nil
}

// DecodeRequest reads one issuance request in the contract's JSON shape (the
// body of POST /v1/certificates, a JSONL import line) into an IssueRequest:
// dates "YYYY-MM-DD" (valid_until null or absent when long-term), face-field
// numbers as json.Number. Unknown members and trailing data are refused. It
// reports what it could not read as FieldErrors (code "syntax" for JSON that
// does not fit the shape, with the member's path when known; date codes for
// dates); the caller then runs ValidateRequest on a request it could read.
func DecodeRequest(b []byte) (IssueRequest, []FieldError) {
	var row jsonlRow
	if err := decodeStrict(b, &row); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && safePath(te.Field) {
			field = te.Field
		}
		msg := "not one JSON object of the certificate request shape"
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			msg = "a member that is not part of a certificate request"
		}
		return IssueRequest{}, []FieldError{{Field: field, Code: CodeSyntax, Detail: msg}}
	}
	req := IssueRequest{
		TypeCode: row.TypeCode,
		Number:   row.Number,
		Holder:   row.Holder,
		LongTerm: row.LongTerm,
		AreaCode: row.AreaCode,
	}
	var v errs
	req.ValidFrom = rowDate(&v, "valid_from", row.ValidFrom)
	if row.ValidUntil != nil && *row.ValidUntil != "" {
		t := rowDate(&v, "valid_until", *row.ValidUntil)
		if !t.IsZero() {
			req.ValidUntil = &t
		}
	}
	req.Fields = row.Fields
	if v.list != nil {
		return IssueRequest{}, v.list
	}
	return req, nil
}

// safePath reports whether a JSON path from a decoding error may be echoed:
// one of the row's own member paths.
func safePath(p string) bool {
	switch p {
	case "type_code", "number", "holder", "holder.kind", "holder.name", "holder.id_type", "holder.id_number",
		"valid_from", "valid_until", "long_term", "area_code", "fields":
		return true
	}
	return false
}

// skipBOM returns r without a leading UTF-8 byte order mark.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		br.Discard(3)
	}
	return br
}

// recordLimitReader fails once a CSV record grows beyond max bytes,
// bounding what encoding/csv buffers for one record. It follows record
// boundaries with the same rules as encoding/csv (LazyQuotes off): a field
// is quoted only if it starts with '"'; inside it, "" is a quote and a line
// break is data; a line break outside a quoted field ends the record. After
// a syntax error encoding/csv resumes at the next line, and so does this
// state machine, since a malformed quoted field ("a"b) falls back to
// unquoted until the line ends.
type recordLimitReader struct {
	r     io.Reader
	max   int
	n     int
	state uint8
	err   error
}

const (
	csvFieldStart  = iota // at the start of a field
	csvUnquoted           // inside an unquoted field
	csvQuoted             // inside a quoted field
	csvQuotedQuote        // just after a '"' inside a quoted field
)

func (l *recordLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		switch l.state {
		case csvFieldStart, csvUnquoted:
			switch c {
			case '"':
				if l.state == csvFieldStart {
					l.state = csvQuoted
				}
			case ',':
				l.state = csvFieldStart
			case '\n':
				l.state, l.n = csvFieldStart, 0
				continue
			default:
				l.state = csvUnquoted
			}
		case csvQuoted:
			if c == '"' {
				l.state = csvQuotedQuote
			}
		case csvQuotedQuote:
			switch c {
			case '"':
				l.state = csvQuoted
			case ',':
				l.state = csvFieldStart
			case '\r':
			case '\n':
				l.state, l.n = csvFieldStart, 0
				continue
			default:
				l.state = csvUnquoted
			}
		}
		l.n++
		if l.n > l.max {
			l.err = ErrRowTooLarge
			return i, l.err
		}
	}
	return n, err
}
