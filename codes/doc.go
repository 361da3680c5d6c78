// Package codes implements the 随申码 (Suishen code) format: compact,
// versioned, SM2-signed codes that verify offline, and their QR rendering.
//
// Five kinds share one format ([Kind]): the dynamic personal code
// (个人码), the printable offline code (离线码), the static enterprise code
// (企业码), the static venue code (场所码) and the short-lived presentation
// code used by 亮证. The byte layout, the exact signed bytes, the text
// encoding and the versioning rules are specified in docs/code-format.md,
// precisely enough for an independent verifier; this package is the
// reference implementation.
//
// In short: a code text is "SS1:" followed by the Base45 (RFC 9285)
// encoding of claims ‖ signature. The claims start with the kind, an 8-byte
// key hint (the head of the signing key's SM3 JWK thumbprint), issued-at as
// uint32 seconds since 2020-01-01T00:00:00Z and a LEB128 lifetime, then a
// pseudonymous subject, an optional masked display name and the kind's own
// fields. The signature is the raw r‖s SM2 signature (default ID
// "1234567812345678") of "SSC1" ‖ claims. Every character is in the QR
// alphanumeric set, and a personal code always fits QR version 7 at level M.
//
// Use:
//
//	text, err := codes.Issue(signer, codes.Claims{Kind: codes.Personal, Subject: subj})
//	c, err := codes.Parse(text)              // strict, bounded, no crypto
//	kid, err := c.Verify(codes.KeysByHint(trustedCodeKeys...))
//	err = c.CheckTime(time.Now(), 30*time.Second)
//	err = c.Expect(codes.Venue)              // "wrong_kind" otherwise
//
// A verifier must also check that kid is a trusted, non-compromised code
// key valid at the code's issued-at, and for offline, enterprise, venue (and
// presentation codes carrying one) that the status-list entry
// (Claims.StatusList, Claims.StatusIndex) is not set. Those data come from
// the trust bundle; this package holds no state beyond a cache of key
// thumbprints.
//
// Errors from Parse, Verify, CheckTime and Expect are [*Error] values whose
// Reason is a stable machine string ("malformed", "unsupported_version",
// "unknown_kind", "bad_signature", "unknown_key", "expired",
// "not_yet_valid", "oversized", "wrong_kind"); match them with errors.Is
// against the Err sentinels or read them with [Reason].
//
// The package imports only package signing, the standard library and
// github.com/skip2/go-qrcode: an offline verifier can embed it.
package codes
