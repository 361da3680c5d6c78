// Package issuer holds the electronic certificate (电子证照) domain: the
// certificate type catalogue (证照目录, GB/T 36902), validation of an
// issuance request against a type's face-field schema (照面信息), the
// certificate identifier serial (证照标识, GB/T 36904), the metadata document
// (证照元数据, GB/T 36903) and its SM2 JWS, the lifecycle of a certificate and
// its national status codes, signed bitstring status lists, and the rows of
// a bulk-import file.
//
// The package is pure computation. It imports only ident, signing and the
// standard library: no storage, no HTTP, no clock (every function that needs
// the time takes it as an argument). Storage, idempotency, authorisation
// (which department may issue which type) and auditing belong to the caller.
//
// # Personal data
//
// An issuance request, a Document and a status list entry are about a
// person or an enterprise. Documents carry the holder's ID number, because a
// certificate names its holder; face fields may carry more (a spouse's ID
// number, a parent's). None of it may be logged. Holder, IssueRequest and
// Document implement fmt.Stringer and slog.LogValuer with masked or omitted
// personal data, and no error or FieldError detail produced here repeats an
// input value.
//
// # Dates
//
// Certificate dates (valid_from, valid_until, issue_date, date face fields)
// are calendar dates in China Standard Time (UTC+8), written YYYY-MM-DD.
// ParseDate returns midnight CST; FormatDate formats any instant as its CST
// calendar date. A certificate is valid through the whole of its valid_until
// day.
package issuer
