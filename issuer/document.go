package issuer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/suishen/suishen/ident"
	"github.com/suishen/suishen/signing"
)

// JWS "typ" values of what this package signs.
const (
	DocumentTyp   = "suishen-certificate+json"
	StatusListTyp = "suishen-status-list+json"
)

// Serial returns the serial part of a certificate identifier (GB/T 36904)
// for the n-th certificate a given issuer issues of a given type in a given
// year: the four-digit year followed by n zero-padded to at least seven
// digits, e.g. Serial(2025, 403) = "20250000403" — the shape of the
// published identifiers. Past 9,999,999 in a year the counter simply grows
// a digit ("202510000000"); the result stays unique and within [0-9A-Z].
//
// Uniqueness is the caller's: n must come from a counter per (type code,
// issuer USCC, year) — or per (type code, issuer USCC), never reset — that
// never hands out the same value twice. year is the issue year in China
// Standard Time (issuedAt.In(CST)). Serial panics for a year outside
// 1000..9999 or n < 1, which are programming errors.
func Serial(year int, n int64) string {
	if year < 1000 || year > 9999 || n < 1 {
		panic(fmt.Sprintf("issuer: Serial(%d, %d): year must be 1000..9999 and n at least 1", year, n))
	}
	b := make([]byte, 0, 24)
	b = strconv.AppendInt(b, int64(year), 10)
	digits := strconv.FormatInt(n, 10)
	for i := len(digits); i < 7; i++ {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// NextVersion returns prev's identifier with the version incremented, for a
// renewed or changed certificate (变更 / 换发): same type, issuer and serial,
// version+1, new check character. It fails after version 999.
func NextVersion(prev ident.CertificateID) (ident.CertificateID, error) {
	return prev.WithVersion(prev.VersionNumber() + 1)
}

// Party is an authority in a Document: its name and unified social credit
// code.
type Party struct {
	Name string `json:"name" doc:"The authority name." example:"上海市徐汇区市场监督管理局"`
	USCC string `json:"uscc" doc:"Its unified social credit code." example:"11100000000013338W"`
}

// DocumentHolder is a holder in a Document (持证主体): name, code type and
// code. It prints (fmt) with name and number masked; JSON carries them whole.
type DocumentHolder struct {
	Name     string `json:"name" doc:"持证主体: the holder name." example:"上海某某科技有限公司"`                           // 持证主体
	IDType   string `json:"id_type" doc:"持证主体代码类型: 111 公民身份号码, 001 统一社会信用代码." enum:"111,001" example:"001"`   // 持证主体代码类型: 111 | 001
	IDNumber string `json:"id_number" doc:"持证主体代码: the holder identity number." example:"91350100M000100Y43"` // 持证主体代码
}

func (h DocumentHolder) String() string {
	kind := HolderPerson
	if h.IDType == IDTypeUSCC {
		kind = HolderEnterprise
	}
	return Holder{Kind: kind, Name: h.Name, IDType: h.IDType, IDNumber: h.IDNumber}.String()
}

// GoString is String, so %#v masks too.
func (h DocumentHolder) GoString() string { return h.String() }

// StatusRef locates a certificate's entry in a status list, for verifiers.
type StatusRef struct {
	ID    string `json:"id" doc:"The status list holding the certificate status bit." example:"sl-11100000000013338W-0"`
	Index int    `json:"index" doc:"The certificate position in that list." example:"1042"`
}

// Document is a certificate's metadata (证照元数据, GB/T 36903) with its face
// data, as signed by the issuing department. Its JSON form, members in the
// order below, is the payload of the certificate's JWS; docs/certificates.md
// names each member's GB/T 36903 element.
//
// ValidUntil is nil (JSON null) exactly when LongTerm is set. Fields holds
// the face data canonicalised by BuildDocument: strings (text, enum, dates
// "YYYY-MM-DD"), int64 integers, float64 numbers and booleans; a Document
// read by VerifyDocument has json.Number in place of the numbers.
//
// A Document is about its holder and carries the holder's ID number: never
// log it. It prints (fmt, log/slog) as its identifier, type and version only.
type Document struct {
	Name              string           `json:"name" doc:"证照名称." example:"营业执照"`                                                                                                           // 证照名称
	Identifier        string           `json:"identifier" doc:"证照标识 (GB/T 36904): the certificate identifier." example:"11100000000021001C0011210000000000001X"`                          // 证照标识
	TypeCode          string           `json:"type_code" doc:"证照类型代码." example:"11100000000021001C001"`                                                                                   // 证照类型代码
	TypeName          string           `json:"type_name" doc:"证照类型名称." example:"营业执照"`                                                                                                    // 证照类型名称
	Number            string           `json:"number" doc:"证照编号." example:"310104000123456"`                                                                                              // 证照编号
	Version           int              `json:"version" doc:"版本号." example:"1"`                                                                                                            // 版本号
	Issuer            Party            `json:"issuer" doc:"证照颁发机构 and 证照颁发机构代码."`                                                                                                         // 证照颁发机构, 证照颁发机构代码
	DefiningAuthority Party            `json:"defining_authority" doc:"证照定义机构 and 证照定义机构代码."`                                                                                             // 证照定义机构, 证照定义机构代码
	IssueDate         string           `json:"issue_date" doc:"证照颁发日期, YYYY-MM-DD." example:"2026-12-01" format:"date"`                                                                   // 证照颁发日期
	ValidFrom         string           `json:"valid_from" doc:"有效期起始日期, YYYY-MM-DD." example:"2024-03-01" format:"date"`                                                                  // 有效期起始日期
	ValidUntil        *string          `json:"valid_until" doc:"有效期截止日期, YYYY-MM-DD; null when long-term." format:"date"`                                                                 // 有效期截止日期, null when long-term
	LongTerm          bool             `json:"long_term" doc:"长期有效." example:"true"`                                                                                                      // 长期有效
	AreaCode          string           `json:"area_code" doc:"证照颁发机构行政区划代码." example:"310104"`                                                                                            // 证照颁发机构行政区划代码
	Holders           []DocumentHolder `json:"holders" doc:"持证主体."`                                                                                                                       // 持证主体
	RelatedItems      []RelatedItem    `json:"related_items" doc:"关联事项."`                                                                                                                 // 关联事项
	Fields            map[string]any   `json:"fields" doc:"照面信息: the face fields by name, as the type defines them." example:"{\"name\":\"上海某某科技有限公司\",\"legal_representative\":\"张三\"}"` // 照面信息
	Predecessor       string           `json:"predecessor,omitempty" doc:"The identifier of the version this one renewed."`
	StatusList        StatusRef        `json:"status_list" doc:"Where offline verifiers find the certificate status."`
	IssuedAt          time.Time        `json:"issued_at" doc:"When it was signed (RFC 3339, UTC, whole seconds)." example:"2026-12-01T08:00:00Z"` // RFC 3339, UTC, whole seconds
}

// String names the document without personal data.
func (d Document) String() string {
	return fmt.Sprintf("Document{%s, type %s, version %d}", d.Identifier, d.TypeCode, d.Version)
}

// GoString is String, so %#v leaks nothing either.
func (d Document) GoString() string { return d.String() }

// LogValue implements slog.LogValuer without personal data.
func (d Document) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("identifier", d.Identifier),
		slog.String("type_code", d.TypeCode),
		slog.Int("version", d.Version),
	)
}

// BuildDocument assembles the metadata document of a certificate of type t
// issued by the authority issuerName / issuerUSCC under identifier id, from
// request r (which must have passed ValidateRequest against t), at issuedAt.
// predecessor is the identifier of the certificate this one renews or
// changes, or "". statusListID and statusIndex locate its status list entry.
//
// Face values are canonicalised (see Document); fields outside t's schema,
// empty optional fields and values ValidateRequest would reject are left
// out, so a document never carries what the schema does not describe. The
// issue date is issuedAt's date in China Standard Time; issued_at is
// issuedAt in UTC truncated to the second.
func BuildDocument(t CertificateType, issuerName, issuerUSCC string, id ident.CertificateID, r IssueRequest,
	issuedAt time.Time, predecessor string, statusListID string, statusIndex int) Document {
	d := Document{
		Name:              t.Name,
		Identifier:        id.String(),
		TypeCode:          t.Code,
		TypeName:          t.Name,
		Number:            r.Number,
		Version:           id.VersionNumber(),
		Issuer:            Party{Name: issuerName, USCC: issuerUSCC},
		DefiningAuthority: Party{Name: t.DefiningAuthority, USCC: t.DefiningAuthorityUSCC},
		IssueDate:         FormatDate(issuedAt),
		ValidFrom:         FormatDate(r.ValidFrom),
		LongTerm:          r.LongTerm,
		AreaCode:          r.AreaCode,
		Holders:           []DocumentHolder{{Name: r.Holder.Name, IDType: r.Holder.IDType, IDNumber: r.Holder.IDNumber}},
		RelatedItems:      append(make([]RelatedItem, 0, len(t.RelatedItems)), t.RelatedItems...),
		Fields:            make(map[string]any, len(t.Fields)),
		Predecessor:       predecessor,
		StatusList:        StatusRef{ID: statusListID, Index: statusIndex},
		IssuedAt:          issuedAt.UTC().Truncate(time.Second),
	}
	if !r.LongTerm && r.ValidUntil != nil {
		s := FormatDate(*r.ValidUntil)
		d.ValidUntil = &s
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		x, ok := r.Fields[f.Name]
		if !ok || x == nil {
			continue
		}
		v, code, _ := canonicalValue(f, x)
		if code != "" {
			continue
		}
		if _, empty := v.(emptyValue); empty {
			continue
		}
		d.Fields[f.Name] = v
	}
	return d
}

// check verifies the document's internal consistency: an identifier that
// parses (GB/T 36904 check character included) and agrees with type_code,
// issuer.uscc and version; validity dates that parse and agree with
// long_term; at least one holder; a predecessor that is an earlier version
// of the same certificate.
func (d *Document) check() error {
	id, err := ident.ParseCertificateID(d.Identifier)
	if err != nil {
		return newError(CodeInconsistent, err, "the document's identifier is not a valid certificate identifier")
	}
	switch {
	case id.TypeCode != d.TypeCode:
		return newError(CodeInconsistent, nil, "the identifier's type code differs from type_code")
	case id.IssuerCode != d.Issuer.USCC:
		return newError(CodeInconsistent, nil, "the identifier's issuer code differs from issuer.uscc")
	case id.VersionNumber() != d.Version:
		return newError(CodeInconsistent, nil, "the identifier's version differs from version")
	case d.LongTerm != (d.ValidUntil == nil):
		return newError(CodeInconsistent, nil, "a document has valid_until exactly when it is not long-term")
	case len(d.Holders) == 0:
		return newError(CodeInconsistent, nil, "a document names at least one holder")
	case d.Predecessor == d.Identifier:
		return newError(CodeInconsistent, nil, "a document cannot be its own predecessor")
	}
	if _, err := ParseDate(d.ValidFrom); err != nil {
		return newError(CodeInconsistent, err, "valid_from is not a date")
	}
	if _, err := ParseDate(d.IssueDate); err != nil {
		return newError(CodeInconsistent, err, "issue_date is not a date")
	}
	if d.ValidUntil != nil {
		if _, err := ParseDate(*d.ValidUntil); err != nil {
			return newError(CodeInconsistent, err, "valid_until is not a date")
		}
	}
	if d.Predecessor != "" {
		p, err := ident.ParseCertificateID(d.Predecessor)
		if err != nil {
			return newError(CodeInconsistent, err, "the predecessor is not a valid certificate identifier")
		}
		if p.TypeCode != id.TypeCode || p.IssuerCode != id.IssuerCode || p.Serial != id.Serial || p.VersionNumber() >= id.VersionNumber() {
			return newError(CodeInconsistent, nil, "the predecessor must be an earlier version of the same certificate")
		}
	}
	return nil
}

// SignDocument signs d with the issuing department's key: a compact JWS
// (alg "SM2", kid s.KeyID(), typ DocumentTyp) whose payload is
// json.Marshal(d) — members in Document's field order, face fields sorted by
// name, so the same document always gives the same payload. It refuses (an
// *Error with CodeInconsistent) a document whose identifier does not parse
// or disagree with its type code, issuer or version, or whose dates do not
// parse.
func SignDocument(s signing.Signer, d Document) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return "", newError(CodeMalformed, err, "the document does not marshal")
	}
	return signing.SignJWS(s, payload, map[string]any{"typ": DocumentTyp})
}

// VerifyDocument verifies a certificate JWS made by SignDocument and returns
// its document. lookup maps the header's kid to the department's public key,
// as for signing.VerifyJWS, whose errors are returned wrapped (errors.Is
// works with signing.ErrInvalidSignature, ErrUnknownKey, ErrMalformed,
// ErrUnsupportedAlgorithm, and a lookup failure is returned as it is).
// Otherwise it fails with an *Error: CodeWrongType for another typ,
// CodeMalformed for a payload that is not exactly one Document (unknown
// members and trailing data are refused), and CodeInconsistent as
// SignDocument would.
//
// VerifyDocument proves that the holder of kid signed the document. It does
// not decide whether that key may sign it: the caller must check that the
// key belongs to the department with USCC d.Issuer.USCC and that this
// department is authorised for d.TypeCode (the JWKS carries both), and look
// at the status (status list or status API) and validity at the time of use.
func VerifyDocument(jws string, lookup func(kid string) (*signing.PublicKey, error)) (Document, error) {
	payload, hdr, err := signing.VerifyJWS(jws, lookup)
	if err != nil {
		return Document{}, fmt.Errorf("issuer: certificate JWS: %w", err)
	}
	if hdr.Typ != DocumentTyp {
		return Document{}, newError(CodeWrongType, nil, "the JWS is not a certificate (typ %q)", shorten(hdr.Typ))
	}
	var d Document
	if err := decodeStrict(payload, &d); err != nil {
		return Document{}, newError(CodeMalformed, err, "the certificate payload is not a document")
	}
	if err := d.check(); err != nil {
		return Document{}, err
	}
	return d, nil
}

// decodeStrict decodes exactly one JSON value into v: unknown members and
// trailing data are errors; numbers in interfaces become json.Number.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
