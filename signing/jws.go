package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// AlgSM2 is the JWS "alg" of this product (product contract, "Trust"): an
// SM2 signature (GB/T 32918.2) with Z_A for [DefaultID] over the JWS signing
// input ASCII(BASE64URL(header) ‖ '.' ‖ BASE64URL(payload)), carried as raw
// r‖s (64 bytes) in unpadded base64url. No registry lists an SM2 "alg"; this
// is the name public SM2 code uses. Any standard SM2 verifier can check such
// a JWS: it is a plain SM2 signature over the signing input.
const AlgSM2 = "SM2"

// MaxJWSSize bounds the compact serialisation ParseJWS and the verifiers
// accept (for a detached JWS: the compact form plus the payload's base64url
// length).
const MaxJWSSize = 1 << 20

// JWSHeader is the protected header of a JWS. Alg, Kid and Typ are the
// registered members of those names; every other member is in Extra with
// the value encoding/json gives it (strings, float64, bool, nil, []any,
// map[string]any). Extra is nil when there is none.
type JWSHeader struct {
	Alg, Kid, Typ string
	Extra         map[string]any
}

// Why the compact form is written and read here, not by go-jose. The team
// agreed to carry "SM2" through go-jose v4, and go-jose can: it signs and
// verifies algorithms it does not know through OpaqueSigner and
// OpaqueVerifier, and ParseSignedCompact / ParseDetached accept exactly the
// algorithms they are given. [NewOpaqueSigner] and [NewOpaqueVerifier] are
// those adapters, for code that builds JWS or JWT objects with go-jose.
// Measured on the product's hot path, though (docs/performance.md,
// "## Signing": BenchmarkSign/JWS-gojose and BenchmarkVerify/JWS-gojose),
// going through go-jose cost 27 % more than a bare gmsm signature of the
// same signing input to sign and 15 % more to verify — it marshals the
// header three times, re-encodes every segment and allocates 96–126
// objects per JWS — against a budget of 10 %; this code costs 5 % and 2 %.
// It is also lenient where a verifier must not be: it decodes base64url
// non-canonically (CR and LF skipped, stray trailing bits kept) and parses
// "x5c" certificates and "jwk" keys it is handed, so a strict pass was
// needed in front of it anyway. The compact serialisation is small (RFC
// 7515 §3.1, §5.2, Appendix F); it is written and read below, and the tests
// hold it to go-jose: for the same header, payload and signer go-jose
// produces byte-identical JWS, go-jose verifies every JWS this package
// signs, and the fuzzers check that everything VerifyJWS accepts go-jose
// accepts too.

// NewOpaqueSigner adapts s to go-jose's OpaqueSigner for algorithm "SM2":
// with jose.NewSigner(jose.SigningKey{Algorithm: AlgSM2, Key:
// NewOpaqueSigner(s)}, opts) go-jose writes {"alg":"SM2","kid":s.KeyID()}
// and this package's signature. It never embeds the public key.
func NewOpaqueSigner(s Signer) jose.OpaqueSigner { return joseSigner{s: s} }

// NewOpaqueVerifier adapts k to go-jose's OpaqueVerifier for algorithm
// "SM2". Parse with jose.ParseSignedCompact(text, [JOSEAlgorithms]()) —
// never a longer list that lets another algorithm reach an SM2 key — then
// call Verify with this verifier. Prefer [VerifyJWS], which is also strict
// about encodings.
func NewOpaqueVerifier(k *PublicKey) jose.OpaqueVerifier { return joseVerifier{pub: k} }

// JOSEAlgorithms is the allowed-algorithm list to give go-jose's parse
// functions: "SM2" only.
func JOSEAlgorithms() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{AlgSM2} }

// joseSigner adapts a Signer to jose.OpaqueSigner.
type joseSigner struct{ s Signer }

func (o joseSigner) Public() *jose.JSONWebKey {
	// go-jose reads only KeyID (written as "kid"); no key goes in the header.
	return &jose.JSONWebKey{KeyID: o.s.KeyID()}
}

func (o joseSigner) Algs() []jose.SignatureAlgorithm { return JOSEAlgorithms() }

func (o joseSigner) SignPayload(signingInput []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != AlgSM2 {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	sig, err := o.s.Sign(signingInput)
	if err != nil {
		return nil, err
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("signing: signer returned %d signature bytes, want %d", len(sig), SignatureSize)
	}
	return sig, nil
}

// joseVerifier adapts a PublicKey to jose.OpaqueVerifier.
type joseVerifier struct{ pub *PublicKey }

func (v joseVerifier) VerifyPayload(signingInput, sig []byte, alg jose.SignatureAlgorithm) error {
	if alg != AlgSM2 {
		return ErrUnsupportedAlgorithm
	}
	if !Verify(v.pub, signingInput, sig) {
		return ErrInvalidSignature
	}
	return nil
}

// unsupportedHeader lists members this package neither writes nor accepts:
// alg and kid are set from the signer; b64 (RFC 7797) and crit extensions
// are not supported; keys come from the trust bundle, never from the JWS.
var unsupportedHeader = map[string]bool{
	"alg": true, "kid": true, "b64": true, "crit": true,
	"jwk": true, "jku": true, "x5c": true, "x5u": true, "x5t": true, "x5t#S256": true,
}

// SignJWS signs payload with s and returns a JWS compact serialisation whose
// protected header is {"alg":"SM2","kid":s.KeyID()} plus the members of
// extra (for example "typ"), as encoding/json writes a map: members in
// lexicographic order, no white space. extra may not set alg, kid, b64,
// crit, jwk, jku, x5c, x5u, x5t or x5t#S256 ([ErrMalformed]); its values
// must marshal to JSON. s.KeyID() must not be empty. The signature is
// s.Sign over the JWS signing input.
func SignJWS(s Signer, payload []byte, extra map[string]any) (string, error) {
	return signCompact(s, payload, extra, false)
}

// SignJWSDetached is [SignJWS] with a detached payload (RFC 7515 Appendix
// F): it returns "header..signature"; the signature still covers the
// payload, which the verifier must be given separately.
func SignJWSDetached(s Signer, payload []byte, extra map[string]any) (string, error) {
	return signCompact(s, payload, extra, true)
}

func signCompact(s Signer, payload []byte, extra map[string]any, detached bool) (string, error) {
	if s == nil {
		return "", errors.New("signing: nil signer")
	}
	header, err := encodeHeader(s.KeyID(), extra)
	if err != nil {
		return "", err
	}
	hlen := b64.EncodedLen(len(header))
	buf := make([]byte, 0, hlen+1+b64.EncodedLen(len(payload))+1+b64.EncodedLen(SignatureSize))
	buf = b64.AppendEncode(buf, header)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)
	sig, err := s.Sign(buf) // the signing input
	if err != nil {
		return "", fmt.Errorf("signing: sign JWS: %w", err)
	}
	if len(sig) != SignatureSize {
		return "", fmt.Errorf("signing: signer returned %d signature bytes, want %d", len(sig), SignatureSize)
	}
	if detached {
		buf = buf[:hlen+1]
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// encodeHeader returns the protected header's JSON.
func encodeHeader(kid string, extra map[string]any) ([]byte, error) {
	if kid == "" {
		return nil, fmt.Errorf("%w: signer has an empty key id", ErrMalformed)
	}
	keys := make([]string, 0, len(extra)+2)
	keys = append(keys, "alg", "kid")
	for k := range extra {
		if unsupportedHeader[k] {
			return nil, fmt.Errorf("%w: JWS header member %q cannot be set through extra", ErrMalformed, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// Written as encoding/json writes a map (and go-jose a header): sorted
	// members, no white space, encoding/json's escaping.
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var v any
		switch k {
		case "alg":
			v = AlgSM2
		case "kid":
			v = kid
		default:
			v = extra[k]
		}
		if s, ok := v.(string); ok {
			b = appendJSONString(b, s)
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("signing: JWS header member %q: %w", k, err)
		}
		b = append(b, enc...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json encodes it. Plain printable
// ASCII is copied; anything else (quotes, backslashes, controls, HTML
// characters, non-ASCII) goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s) // a string always marshals
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ParseJWS parses a compact JWS WITHOUT verifying it, for routing (which key,
// which type) before [VerifyJWS]. Nothing it returns may be trusted.
//
// It is strict, and [VerifyJWS] applies the same rules: at most
// [MaxJWSSize] bytes; exactly three dot-separated segments of canonical
// unpadded base64url (no padding, white space or stray bits), so that each
// (header, payload, signature) has exactly one accepted text; a protected
// header that is a UTF-8 JSON object of at most 64 members without
// duplicate names, with "alg" exactly "SM2" (otherwise
// [ErrUnsupportedAlgorithm]), "kid" and "typ" strings when present, and
// none of crit, b64, jwk, jku, x5c, x5u, x5t, x5t#S256. Other failures wrap
// [ErrMalformed]. The signature's size is checked by VerifyJWS, not here.
func ParseJWS(compact string) (header JWSHeader, payload []byte, err error) {
	p, err := parseJWS(compact, nil, false)
	if err != nil {
		return JWSHeader{}, nil, err
	}
	return p.header, p.payload, nil
}

// VerifyJWS parses compact as [ParseJWS] does, asks lookup for the public
// key named by the header's "kid", and verifies the SM2 signature over the
// signing input. It returns the payload and header only when the signature
// is valid.
//
// lookup reports an unknown kid by returning (nil, nil) or an error wrapping
// [ErrUnknownKey]; VerifyJWS then fails with [ErrUnknownKey]. Any other
// lookup error (a storage outage, say) is returned wrapped as it is, so
// that the caller can answer "unknown" rather than "invalid". A header
// without "kid" fails with [ErrUnknownKey] without calling lookup. A bad
// signature — wrong key, altered text, not 64 bytes, r or s outside
// [1, n-1] — fails with [ErrInvalidSignature].
func VerifyJWS(compact string, lookup func(kid string) (*PublicKey, error)) (payload []byte, header JWSHeader, err error) {
	p, err := parseJWS(compact, nil, false)
	if err != nil {
		return nil, JWSHeader{}, err
	}
	if err := p.verify(lookup); err != nil {
		return nil, JWSHeader{}, err
	}
	return p.payload, p.header, nil
}

// VerifyJWSDetached verifies a compact JWS with a detached payload
// ("header..signature", RFC 7515 Appendix F) over payload, with the rules
// and errors of [VerifyJWS]. A JWS whose payload segment is not empty fails
// with [ErrMalformed].
func VerifyJWSDetached(compact string, payload []byte, lookup func(kid string) (*PublicKey, error)) (JWSHeader, error) {
	p, err := parseJWS(compact, payload, true)
	if err != nil {
		return JWSHeader{}, err
	}
	if err := p.verify(lookup); err != nil {
		return JWSHeader{}, err
	}
	return p.header, nil
}

type parsedJWS struct {
	header       JWSHeader
	payload      []byte
	signingInput []byte
	sig          []byte
}

func parseJWS(compact string, detachedPayload []byte, detached bool) (*parsedJWS, error) {
	size := len(compact)
	if detached {
		size += b64.EncodedLen(len(detachedPayload))
	}
	if size > MaxJWSSize {
		return nil, fmt.Errorf("%w: JWS larger than %d bytes", ErrMalformed, MaxJWSSize)
	}
	h, rest, ok := strings.Cut(compact, ".")
	if !ok {
		return nil, fmt.Errorf("%w: JWS must have three segments", ErrMalformed)
	}
	pl, sg, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sg, '.') >= 0 {
		return nil, fmt.Errorf("%w: JWS must have three segments", ErrMalformed)
	}
	headerJSON, err := decodeSegment(h)
	if err != nil {
		return nil, fmt.Errorf("%w: JWS header is not canonical base64url", ErrMalformed)
	}
	p := &parsedJWS{}
	if detached {
		if pl != "" {
			return nil, fmt.Errorf("%w: JWS payload is not detached", ErrMalformed)
		}
		p.payload = detachedPayload
		p.signingInput = make([]byte, 0, len(h)+1+b64.EncodedLen(len(detachedPayload)))
		p.signingInput = append(p.signingInput, h...)
		p.signingInput = append(p.signingInput, '.')
		p.signingInput = b64.AppendEncode(p.signingInput, detachedPayload)
	} else {
		if p.payload, err = decodeSegment(pl); err != nil {
			return nil, fmt.Errorf("%w: JWS payload is not canonical base64url", ErrMalformed)
		}
		p.signingInput = []byte(compact[:len(h)+1+len(pl)])
	}
	if p.sig, err = decodeSegment(sg); err != nil {
		return nil, fmt.Errorf("%w: JWS signature is not canonical base64url", ErrMalformed)
	}
	if p.header, err = parseHeader(headerJSON); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parsedJWS) verify(lookup func(kid string) (*PublicKey, error)) error {
	kid := p.header.Kid
	if kid == "" {
		return fmt.Errorf("%w: JWS header has no kid", ErrUnknownKey)
	}
	if lookup == nil {
		return fmt.Errorf("%w: no key lookup", ErrUnknownKey)
	}
	pub, err := lookup(kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return err
		}
		return fmt.Errorf("signing: key lookup for kid %s: %w", quoteShort(kid), err)
	}
	if !pub.valid() {
		return fmt.Errorf("%w: kid %s", ErrUnknownKey, quoteShort(kid))
	}
	if !Verify(pub, p.signingInput, p.sig) {
		return ErrInvalidSignature
	}
	return nil
}

// quoteShort quotes an untrusted identifier for an error message, cut to 64
// bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// decodeSegment decodes canonical unpadded base64url: only the URL-safe
// alphabet (Go's decoder would skip CR and LF), no padding, zero trailing
// bits.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not base64url")
		}
	}
	return b64.DecodeString(s)
}

// parseHeader checks and reads a JWS protected header. It validates the
// whole text with encoding/json first, then walks the top-level members of
// the (now known-good) object itself: that is an order of magnitude cheaper
// than a token-by-token decoder and lets it reject duplicate member names,
// which encoding/json would silently resolve last-wins.
func parseHeader(b []byte) (JWSHeader, error) {
	var h JWSHeader
	bad := func(why string) (JWSHeader, error) {
		return JWSHeader{}, fmt.Errorf("%w: JWS header: %s", ErrMalformed, why)
	}
	if !utf8.Valid(b) {
		return bad("not UTF-8")
	}
	if !json.Valid(b) {
		return bad("not JSON")
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return bad("not a JSON object")
	}
	i = skipSpace(b, i+1)
	var (
		seen   [][]byte // member names so far, for the duplicate check
		algRaw []byte
		hasAlg bool
	)
	for b[i] != '}' {
		end := skipValue(b, i) // the member name, a string
		key, ok := jsonStringBytes(b[i:end])
		if !ok {
			return bad("invalid member name")
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // ':'
		end = skipValue(b, i)
		val := b[i:end]
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}

		if len(seen) == 64 {
			return bad("too many members")
		}
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return bad("duplicate member " + quoteShort(string(key)))
			}
		}
		seen = append(seen, key)
		var err error
		switch string(key) {
		case "alg":
			if algRaw, ok = jsonStringBytes(val); !ok {
				return JWSHeader{}, fmt.Errorf("%w: JWS alg is not a string", ErrUnsupportedAlgorithm)
			}
			hasAlg = true
		case "kid":
			if h.Kid, err = jsonString(val); err != nil {
				return bad("kid is not a string")
			}
		case "typ":
			if h.Typ, err = jsonString(val); err != nil {
				return bad("typ is not a string")
			}
		case "nonce": // go-jose insists on a string; so do we
			s, err := jsonString(val)
			if err != nil {
				return bad("nonce is not a string")
			}
			if h.Extra == nil {
				h.Extra = make(map[string]any)
			}
			h.Extra["nonce"] = s
		case "crit", "b64", "jwk", "jku", "x5c", "x5u", "x5t", "x5t#S256":
			return bad("member " + quoteShort(string(key)) + " is not supported")
		default:
			var v any
			if err := json.Unmarshal(val, &v); err != nil {
				return bad("invalid JSON")
			}
			if h.Extra == nil {
				h.Extra = make(map[string]any)
			}
			h.Extra[string(key)] = v
		}
	}
	if !hasAlg {
		return JWSHeader{}, fmt.Errorf("%w: JWS header has no alg", ErrUnsupportedAlgorithm)
	}
	if string(algRaw) != AlgSM2 {
		return JWSHeader{}, fmt.Errorf("%w: JWS alg %s", ErrUnsupportedAlgorithm, quoteShort(string(algRaw)))
	}
	h.Alg = AlgSM2
	return h, nil
}

// The helpers below walk JSON that json.Valid has accepted; they cannot run
// past the end of such input.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	default: // number, true, false, null
		for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
			i++
		}
		return i
	}
}

// jsonString decodes the valid JSON value v if it is a string.
func jsonString(v []byte) (string, error) {
	b, ok := jsonStringBytes(v)
	if !ok {
		return "", errors.New("not a string")
	}
	return string(b), nil
}

// jsonStringBytes decodes the valid JSON value v if it is a string: without
// escapes, the bytes between the quotes (no copy); otherwise the unescaped
// text as encoding/json reads it.
func jsonStringBytes(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1], true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}
