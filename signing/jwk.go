package signing

import (
	"encoding/base64"
	"fmt"
)

// JWK is the JSON Web Key of an SM2 public key as the product publishes it
// (product contract, "Trust"):
//
//	{"kty":"EC","crv":"SM2","x":…,"y":…,"kid":…,"use":"sig","alg":"SM2"}
//
// x and y are the 32-byte big-endian affine coordinates in unpadded
// base64url. go-jose cannot marshal SM2 keys, hence this type.
type JWK struct {
	Kty string `json:"kty" doc:"Key type." enum:"EC" example:"EC"`                                                                          // "EC"
	Crv string `json:"crv" doc:"Curve." enum:"SM2" example:"SM2"`                                                                           // "SM2"
	X   string `json:"x" doc:"The x coordinate: base64url (no padding) of 32 bytes." example:"r2lS7nnmGVAj_8JMnNqG0iD0v2yZ9uHcfTkmkBz4ZDo"` // base64url (no padding) of 32 bytes
	Y   string `json:"y" doc:"The y coordinate: base64url (no padding) of 32 bytes." example:"bD5T2qKj9f3cPq0x8sC1y7aVgQnFqK6iXq0Yy3nJm0Q"` // base64url (no padding) of 32 bytes
	Kid string `json:"kid,omitempty" doc:"The key id, as in JWS headers." example:"dep-11100000000013338W-1"`
	Use string `json:"use,omitempty" doc:"Always sig." enum:"sig" example:"sig"`                                                    // "sig"
	Alg string `json:"alg,omitempty" doc:"Always SM2 (SM2 signature with ID 1234567812345678, raw r||s)." enum:"SM2" example:"SM2"` // "SM2"
}

// b64 is strict unpadded base64url: no padding, no line breaks, and the
// unused low bits of the last character must be zero, so every byte string
// has exactly one accepted text.
var b64 = base64.RawURLEncoding.Strict()

// NewJWK returns the JWK of k with kty "EC", crv "SM2", use "sig", alg "SM2"
// and kid set to [Thumbprint](k). Callers that name keys otherwise may
// overwrite Kid.
func NewJWK(k *PublicKey) JWK {
	if !k.valid() {
		return JWK{}
	}
	return JWK{
		Kty: "EC",
		Crv: "SM2",
		X:   b64.EncodeToString(k.raw[1:33]),
		Y:   b64.EncodeToString(k.raw[33:65]),
		Kid: Thumbprint(k),
		Use: "sig",
		Alg: AlgSM2,
	}
}

// Thumbprint returns the key's JWK thumbprint in the manner of RFC 7638,
// with SM3 in place of SHA-256: the unpadded base64url of
//
//	SM3(`{"crv":"SM2","kty":"EC","x":"<x>","y":"<y>"}`)
//
// where <x> and <y> are the unpadded base64url coordinates (32 bytes each)
// and the JSON has exactly the required members in lexicographic order and
// no white space. The result is 43 characters. A nil key yields "".
func Thumbprint(k *PublicKey) string {
	if !k.valid() {
		return ""
	}
	// 43 characters per coordinate; the JSON is 85 bytes + 2×43.
	buf := make([]byte, 0, 180)
	buf = append(buf, `{"crv":"SM2","kty":"EC","x":"`...)
	buf = b64.AppendEncode(buf, k.raw[1:33])
	buf = append(buf, `","y":"`...)
	buf = b64.AppendEncode(buf, k.raw[33:65])
	buf = append(buf, `"}`...)
	sum := SM3(buf)
	return b64.EncodeToString(sum[:])
}

// PublicKey returns the key j describes. It is strict: kty must be "EC",
// crv "SM2", x and y canonical unpadded base64url of exactly 32 bytes each,
// the point on the curve; "use", when present, must be "sig" and "alg",
// when present, "SM2". Kid is not checked. Failures wrap [ErrMalformed] or,
// for another key type or algorithm, [ErrUnsupportedAlgorithm].
func (j JWK) PublicKey() (*PublicKey, error) {
	if j.Kty != "EC" || j.Crv != "SM2" {
		return nil, fmt.Errorf("%w: JWK kty %q crv %q is not EC/SM2", ErrUnsupportedAlgorithm, j.Kty, j.Crv)
	}
	if j.Alg != "" && j.Alg != AlgSM2 {
		return nil, fmt.Errorf("%w: JWK alg %q is not SM2", ErrUnsupportedAlgorithm, j.Alg)
	}
	if j.Use != "" && j.Use != "sig" {
		return nil, fmt.Errorf("%w: JWK use %q is not sig", ErrMalformed, j.Use)
	}
	var raw [PublicKeySize]byte
	raw[0] = 4
	if err := decodeCoord(raw[1:33], j.X); err != nil {
		return nil, fmt.Errorf("%w: JWK x: %v", ErrMalformed, err)
	}
	if err := decodeCoord(raw[33:65], j.Y); err != nil {
		return nil, fmt.Errorf("%w: JWK y: %v", ErrMalformed, err)
	}
	return PublicKeyFromBytes(raw[:])
}

func decodeCoord(dst []byte, s string) error {
	if len(s) != b64.EncodedLen(32) {
		return fmt.Errorf("must be 32 bytes in unpadded base64url (43 characters), got %d characters", len(s))
	}
	n, err := b64.Decode(dst, []byte(s))
	if err != nil || n != 32 {
		return fmt.Errorf("not canonical unpadded base64url")
	}
	return nil
}
