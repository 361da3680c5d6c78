// Package verifier verifies 随申码 codes and electronic certificates (电子证照)
// offline, against a trust bundle (信任包) pinned to the trust anchor's public
// key. It is what a venue scanner, a third-party app or the `suishen verify`
// command embeds: it imports only packages signing, trust, codes, issuer and
// ident and the standard library — nothing of the server, the database or
// the network (TestImports enforces it).
//
// # Use
//
//	v, err := verifier.New(bundleJWS, anchorPublicKey, verifier.Options{Lists: source})
//	if err != nil { /* the bundle does not verify: nothing can be checked */ }
//	r := v.VerifyCode(scannedText)         // or v.VerifyCertificate(jws)
//	switch r.Result {
//	case verifier.Valid:   // admit
//	case verifier.Invalid: // refuse; r.Reasons says why
//	case verifier.Unknown: // cannot tell offline; r.Reasons says what is missing
//	}
//
// A Verifier is immutable after New (status lists are fetched from
// Options.Lists, checked and decoded once, on first use, and cached) and
// safe for concurrent use. Load a fresh bundle with New
// and swap the pointer when NeedsUpdate reports true.
//
// # Three honest results
//
// Every verification ends in exactly one [Outcome]: Valid, Invalid or
// Unknown. Invalid means the data at hand prove the code or certificate must
// not be accepted; Unknown means they cannot prove either way. Unknown is
// never Valid and never Invalid: a scanner shows it as "cannot check —
// update the trust data or verify online". Reasons (stable machine codes,
// the Reason... constants) say why; a Valid result has none.
//
// The rules, in the order they are applied:
//
//  1. The bundle is checked once, by New, against the pinned anchor (or an
//     anchor it endorsed); a bundle that fails is an error, not a result.
//     A bundle past its expires_at still loads, but while now ≥ expires_at
//     every result is Unknown with the single reason bundle_expired — a
//     stale bundle never yields Valid. Descriptive fields (kind, subject,
//     expiry) are still filled when the signature verified, for display.
//  2. Input that does not parse is Invalid (malformed, oversized,
//     unsupported_algorithm); a code of a newer format version or kind this
//     build does not know is Unknown (unsupported_version, unknown_kind).
//     Bad input never panics and never yields Valid.
//  3. The signature. A code's key hint, or a certificate JWS's kid, naming
//     no key of the bundle is Unknown (unknown_key): the key may be newer
//     than the bundle. A signature that does not verify is Invalid
//     (bad_signature); any altered character of a code or JWS gives
//     bad_signature or malformed.
//  4. The signing key, checked in this order, first failure only. A key
//     whose key_status is compromised: Invalid (key_compromised). A key of
//     the wrong role: Invalid (wrong_role) — codes are signed by key_role
//     "code" keys, certificates by "department" keys. A certificate whose
//     department key has another department_uscc than the document's
//     issuer, or whose certificate_types do not list the document's
//     type_code: Invalid (key_not_trusted_for_type). Then the Unknown
//     findings: an
//     unrecognised key_status: Unknown (unknown_key); a key past its
//     not_after (a retired key that has left trust): Unknown (key_retired);
//     a key whose not_before is after the issued-at (beyond the skew):
//     Unknown (key_not_yet_valid). Later steps are skipped after a failure
//     here: claims under a key that cannot be relied upon are not judged.
//  5. The claims; every failure is reported. Time: a code is valid in
//     [issued-at − skew, expiry + skew); a certificate from the start of its
//     valid_from day to the end of its valid_until day (China Standard
//     Time; long_term has no end), with the same skew — outside, Invalid
//     (not_yet_valid, expired). Kind: VerifyCodeOf with kinds the code is
//     not of: Invalid (wrong_kind); a JWS that is not a certificate (another
//     typ) is also wrong_kind.
//  6. Status. A code or certificate that carries a status reference (list
//     id and index) is looked up in the status list of that id. The bundle
//     only references lists (id, kind, version, SM3 digest, URL); the
//     Verifier asks its ListSource (Options.Lists) for a list the first
//     time it needs one and keeps it. A list is used only if the SM3 digest
//     of the text the source gave is the one the bundle pins, and its JWS
//     verifies under a key of the bundle with key_role "anchor" that is not
//     compromised nor past its not_after; otherwise it is ignored. No
//     reference in the bundle, no source, a source that fails (asked again
//     after ListRetry), a digest mismatch, a bad signature: Unknown
//     (status_list_missing). A list past its valid_until: Unknown
//     (status_list_expired) — a stale list never says "revoked". An index
//     outside the list: Unknown (status_unknown). Entry 1: Invalid
//     (suspended); 2: Invalid (revoked — revoked or cancelled); 3: Invalid
//     (superseded — a newer version or offline-code generation replaces
//     it). A personal code carries no status: it lives for a minute and is
//     never stored. A presentation code's optional status reference is its
//     certificate's entry; a copy code (加注件) carries its own entry,
//     which the server keeps equal to its certificate's status and sets to
//     revoked when the holder withdraws the copy (older copies carry the
//     certificate's entry), so a copy of a suspended, revoked or
//     superseded certificate, or a withdrawn copy, is Invalid; Result.Copy
//     says whom it was made for.
//
// The outcome is Invalid if any reason is an Invalid one, else Unknown if
// there is any reason, else Valid.
//
// # Peer regions (区域互认)
//
// A home bundle may endorse peer regions (trust.Bundle.Peers: area code,
// name, anchor, trust URL). Verifier.Federate combines the home verifier
// with the peers' bundles: what no home key verifies is tried against each
// peer's bundle, verified against the anchor the home bundle names for it,
// and the result names the region (Result.Region). A peer's keys count only
// for certificates whose area_code lies within the peer's area code
// (otherwise Invalid, key_not_trusted_for_region), a peer bundle's own
// peers are ignored (no transitive trust), and an expired peer bundle makes
// its results Unknown (bundle_expired).
//
// # Network
//
// This package never touches the network. Fetching the bundle is the
// caller's, and so is a failure to fetch it: report it as Unknown (reason
// [ReasonBundleUnavailable]), never as Invalid — a network failure says
// nothing about the code. Status lists come through a [ListSource] the
// caller plugs in (files, a browser's fetch and cache, the server's store);
// a source that cannot deliver makes the affected results Unknown.
//
// # Personal data
//
// Results carry only masked data: the code's display name (masked by the
// issuer, e.g. "张*") or the certificate holder's name masked with
// ident.MaskName (an enterprise name is public and shown whole). Reason
// details never repeat the input text or personal data.
package verifier
