package matching

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"
)

// extracted is what matching reads of a certificate document: its area, the
// first holder's name (masked before it is stored) and the raw values of the
// face fields the policy names.
type extracted struct {
	area   string
	name   string
	fields [8]field // the policy's fields of this type (rarely more than two)
	extra  []field  // beyond eight
}

type field struct {
	name string
	raw  []byte // the JSON value, nil when absent
}

var errSyntax = errors.New("matching: malformed certificate document")

// extract scans a GB/T 36903 document once, without building it: it reads
// the top-level "area_code", "holders"[0]."name" and "fields".<want…>, and
// skips every other value by its syntax alone. The documents were
// produced by json.Marshal and verified when issued, so this is a reader of
// known input; FuzzExtract checks it against encoding/json on arbitrary
// input. Keys match exactly (as encoding/json's maps do); a repeated key's
// last value wins (as encoding/json's does).
func extract(doc []byte, want []string, out *extracted) error {
	*out = extracted{}
	fs := out.fields[:0]
	if len(want) > len(out.fields) {
		fs = make([]field, 0, len(want))
	}
	for _, w := range want {
		fs = append(fs, field{name: w})
	}
	if len(want) > len(out.fields) {
		out.extra = fs
	}
	p := scanner{b: doc}
	p.ws()
	err := p.object(func(key []byte, keyEsc bool) error {
		k := keyOf(key, keyEsc)
		switch {
		case k == "area_code":
			s, err := p.str()
			out.area = s
			return err
		case k == "holders":
			name, err := p.firstHolderName()
			out.name = name
			return err
		case k == "fields":
			for i := range fs {
				fs[i].raw = nil // a repeated "fields" replaces the earlier one
			}
			if p.i < len(p.b) && p.b[p.i] == 'n' {
				return p.literal("null")
			}
			return p.object(func(key []byte, esc bool) error {
				k := keyOf(key, esc)
				for i := range fs {
					if fs[i].name == k {
						start := p.i
						if err := p.skip(); err != nil {
							return err
						}
						fs[i].raw = p.b[start:p.i]
						return nil
					}
				}
				return p.skip()
			})
		}
		return p.skip()
	})
	if err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return errSyntax
	}
	if len(want) <= len(out.fields) {
		copy(out.fields[:], fs)
	}
	return nil
}

// list is the extracted fields, in the order asked.
func (e *extracted) list(n int) []field {
	if e.extra != nil {
		return e.extra
	}
	return e.fields[:n]
}

// value decodes a raw JSON value as encoding/json decodes into an any:
// string, float64, bool, nil, []any or map[string]any. A plain string (no
// escapes, valid UTF-8) is taken without a decoder.
func value(raw []byte) (any, error) {
	if len(raw) >= 2 && raw[0] == '"' {
		plain := true
		for _, c := range raw[1 : len(raw)-1] {
			if c == '\\' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(raw[1:len(raw)-1]) {
			return string(raw[1 : len(raw)-1]), nil
		}
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// keyOf is a key as encoding/json reads it (escapes decoded). Plain keys —
// every key of a document Suishen wrote — are not copied: the compiler
// compares string(key) without allocating.
func keyOf(key []byte, escaped bool) string {
	if !escaped {
		return unsafeString(key)
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &s); err != nil {
		return ""
	}
	return s
}

// object reads an object, calling each with the raw key (escaped reports
// a key holding escapes) with the scanner at its value, which each must
// consume.
func (p *scanner) object(each func(key []byte, escaped bool) error) error {
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return errSyntax
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		start := p.i
		esc, err := p.skipString()
		if err != nil {
			return err
		}
		key := p.b[start+1 : p.i-1]
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return errSyntax
		}
		p.i++
		p.ws()
		if err := each(key, esc); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// array reads an array, calling each with the scanner at each element,
// which each must consume.
func (p *scanner) array(each func() error) error {
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return errSyntax
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if err := each(); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// firstHolderName reads the holders array: the "name" of its first element
// when that element is an object with a string name (encoding/json decodes
// a missing or null name as ""; any other type is an error there, and here).
func (p *scanner) firstHolderName() (string, error) {
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return "", p.skip() // null: no holders
	}
	name, first := "", true
	err := p.array(func() error {
		defer func() { first = false }()
		switch {
		case p.i < len(p.b) && p.b[p.i] == '{':
			return p.object(func(k []byte, esc bool) error {
				if keyOf(k, esc) != "name" {
					return p.skip()
				}
				if p.i < len(p.b) && p.b[p.i] == 'n' {
					return p.skip()
				}
				s, err := p.str()
				if first {
					name = s
				}
				return err
			})
		case p.i < len(p.b) && p.b[p.i] == 'n':
			return p.skip()
		}
		return errSyntax // encoding/json cannot put it in a struct
	})
	return name, err
}

// str reads a string value (null reads as "", as encoding/json decodes
// null into a string).
func (p *scanner) str() (string, error) {
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		return "", p.skip()
	}
	esc, err := p.skipString()
	if err != nil {
		return "", err
	}
	raw := p.b[start:p.i]
	if !esc && utf8.Valid(raw[1:len(raw)-1]) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

// skipString passes a string; escaped reports whether it held a backslash.
func (p *scanner) skipString() (escaped bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return false, errSyntax
	}
	for p.i++; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return false, errSyntax
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if p.i+4 >= len(p.b) {
					return false, errSyntax
				}
				for _, h := range p.b[p.i+1 : p.i+5] {
					if !isHex(h) {
						return false, errSyntax
					}
				}
				p.i += 4
			default:
				return false, errSyntax
			}
		case c < 0x20:
			return false, errSyntax
		}
	}
	return false, errSyntax
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skip passes one value of any kind.
func (p *scanner) skip() error {
	if p.i >= len(p.b) {
		return errSyntax
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.skipString()
		return err
	case c == '{':
		return p.object(func([]byte, bool) error { return p.skip() })
	case c == '[':
		return p.array(p.skip)
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return errSyntax
}

func (p *scanner) literal(s string) error {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return errSyntax
	}
	p.i += len(s)
	return nil
}

// number passes a JSON number (RFC 8259 §6 grammar).
func (p *scanner) number() error {
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return errSyntax
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return errSyntax
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

// unsafeString views b as a string for a comparison; the result must not
// outlive b or be kept.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
