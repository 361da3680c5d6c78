// Package signing holds Suishen's national-algorithm cryptography: SM2 keys
// (GB/T 32918), SM2 signatures with the signer's Z_A, SM3 (GB/T 32905)
// hashing, SM4-GCM (GB/T 32907, RFC 8998) sealing of private keys at rest,
// the JWK shape and JWS algorithm "SM2" published by the product contract,
// and a Signer interface behind which an HSM or KMS can hold keys.
//
// The package is pure computation: no database, no network, no files. The
// offline verifier library imports it, so it depends only on
// github.com/emmansun/gmsm, github.com/go-jose/go-jose/v4 and the standard
// library.
//
// # Conventions
//
//   - An SM2 signature here is always the GB/T 32918.2 signature over
//     e = SM3(Z_A ‖ M), where Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)
//     binds the signer's public key and distinguishing identifier. Unless a
//     function says otherwise the identifier is [DefaultID]
//     ("1234567812345678", GM/T 0009). Never hand a message to a
//     "digest" signing API: that skips Z_A and yields a signature no
//     standard SM2 verifier accepts.
//   - Signatures cross the package boundary as raw r‖s (64 bytes, two
//     32-byte big-endian integers). [RawToDER] and [DERToRaw] convert to and
//     from the DER SEQUENCE{r, s} that OpenSSL and X.509 use. Both r and s
//     must lie in [1, n-1].
//   - Public keys are uncompressed points 04‖X‖Y (65 bytes); in DER they are
//     SubjectPublicKeyInfo with id-ecPublicKey and the SM2 curve OID
//     1.2.156.10197.1.301. Parsing also accepts the SM2 OID as algorithm.
//   - JWS "SM2" ([AlgSM2]) is an SM2 signature with [DefaultID] over the
//     JWS signing input, raw r‖s in base64url. [SignJWS] and [VerifyJWS]
//     write and read the compact form themselves (strictly, and measured
//     against go-jose: see jws.go); [NewOpaqueSigner] and
//     [NewOpaqueVerifier] plug the same algorithm into go-jose v4.
//   - Private keys never print: [PrivateKey] and the software [Signer]
//     redact themselves in fmt, log/slog and encoding/json.
//
// # Errors
//
// Failures that callers map to results wrap one of [ErrMalformed],
// [ErrInvalidSignature], [ErrUnsupportedAlgorithm], [ErrUnknownKey] or
// [ErrOpen]; test them with errors.Is.
package signing
