package signing

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
)

// The ASN.1 key containers are small and fixed, so they are handled here
// with encoding/asn1 rather than through gmsm's smx509, which accepts more
// than this package wants (scalars equal to n-1, private keys whose
// embedded public key does not match) and would pull the whole X.509, SM9
// and PQC stack into the offline verifier.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}   // id-ecPublicKey (RFC 5480)
	oidSM2         = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301} // SM2 curve, and SM2 algorithm in OpenSSL 3
)

// spkiPrefixEC and spkiPrefixSM2 are the complete DER encodings of an SM2
// SubjectPublicKeyInfo up to the uncompressed point's 0x04, with algorithm
// id-ecPublicKey or 1.2.156.10197.1.301 and parameters namedCurve
// 1.2.156.10197.1.301. DER is canonical, so these are the only byte strings
// that encode those structures: matching them is exact parsing.
var (
	spkiPrefixEC = []byte{
		0x30, 0x59, // SEQUENCE, 89 bytes
		0x30, 0x13, // AlgorithmIdentifier, 19 bytes
		0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
		0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, // 1.2.156.10197.1.301
		0x03, 0x42, 0x00, // BIT STRING, 66 bytes, 0 unused bits
	}
	spkiPrefixSM2 = []byte{
		0x30, 0x5a, // SEQUENCE, 90 bytes
		0x30, 0x14, // AlgorithmIdentifier, 20 bytes
		0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, // 1.2.156.10197.1.301
		0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, // 1.2.156.10197.1.301
		0x03, 0x42, 0x00, // BIT STRING, 66 bytes, 0 unused bits
	}
)

const (
	pemPublic      = "PUBLIC KEY"
	pemPKCS8       = "PRIVATE KEY"
	pemSEC1        = "EC PRIVATE KEY"
	pemSEC1OpenSSL = "SM2 PRIVATE KEY" // what `openssl ec` writes for an SM2 key
)

// MarshalPublicKeyDER returns k as a DER SubjectPublicKeyInfo (91 bytes)
// with algorithm id-ecPublicKey and parameters namedCurve
// 1.2.156.10197.1.301, the form OpenSSL, gmsm and tjfoc all read.
func MarshalPublicKeyDER(k *PublicKey) ([]byte, error) {
	if !k.valid() {
		return nil, fmt.Errorf("%w: nil public key", ErrMalformed)
	}
	out := make([]byte, 0, len(spkiPrefixEC)+PublicKeySize)
	out = append(out, spkiPrefixEC...)
	return append(out, k.raw[:]...), nil
}

// ParsePublicKeyDER parses a DER SubjectPublicKeyInfo holding an SM2 key.
// The algorithm may be id-ecPublicKey (RFC 5480) or 1.2.156.10197.1.301
// (what OpenSSL 3 may write); the parameters must be namedCurve
// 1.2.156.10197.1.301 and the key an uncompressed point on the curve.
// Anything else — another curve or algorithm, explicit parameters,
// compressed points, trailing bytes, non-DER encodings — fails with
// [ErrMalformed] (or [ErrUnsupportedAlgorithm] for a well-formed key of
// another kind).
func ParsePublicKeyDER(der []byte) (*PublicKey, error) {
	var point []byte
	switch {
	case len(der) == len(spkiPrefixEC)+PublicKeySize && bytes.HasPrefix(der, spkiPrefixEC):
		point = der[len(spkiPrefixEC):]
	case len(der) == len(spkiPrefixSM2)+PublicKeySize && bytes.HasPrefix(der, spkiPrefixSM2):
		point = der[len(spkiPrefixSM2):]
	default:
		return nil, describeSPKI(der)
	}
	return PublicKeyFromBytes(point)
}

// describeSPKI explains why der is not an SM2 SubjectPublicKeyInfo.
func describeSPKI(der []byte) error {
	var spki struct {
		Algorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil || len(rest) != 0 {
		return fmt.Errorf("%w: not a DER SubjectPublicKeyInfo", ErrMalformed)
	}
	alg := spki.Algorithm.Algorithm
	if !alg.Equal(oidECPublicKey) && !alg.Equal(oidSM2) {
		return fmt.Errorf("%w: public key algorithm %v is not SM2", ErrUnsupportedAlgorithm, alg)
	}
	var curve asn1.ObjectIdentifier
	if r, err := asn1.Unmarshal(spki.Algorithm.Parameters.FullBytes, &curve); err != nil || len(r) != 0 {
		return fmt.Errorf("%w: EC parameters are not a named curve", ErrMalformed)
	}
	if !curve.Equal(oidSM2) {
		return fmt.Errorf("%w: curve %v is not SM2", ErrUnsupportedAlgorithm, curve)
	}
	return fmt.Errorf("%w: SM2 public key is not an uncompressed 65-byte point", ErrMalformed)
}

// MarshalPublicKeyPEM returns k as a PEM "PUBLIC KEY" block holding
// [MarshalPublicKeyDER]'s SubjectPublicKeyInfo.
func MarshalPublicKeyPEM(k *PublicKey) ([]byte, error) {
	der, err := MarshalPublicKeyDER(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// ParsePublicKeyPEM parses one PEM "PUBLIC KEY" block with
// [ParsePublicKeyDER]. Text before the block is ignored (RFC 7468
// explanatory text); anything but white space after it, PEM headers, or
// another block type fails with [ErrMalformed].
func ParsePublicKeyPEM(data []byte) (*PublicKey, error) {
	block, err := decodePEM(data)
	if err != nil {
		return nil, err
	}
	if block.Type != pemPublic {
		return nil, fmt.Errorf("%w: PEM block %q is not a PUBLIC KEY", ErrMalformed, block.Type)
	}
	return ParsePublicKeyDER(block.Bytes)
}

func decodePEM(data []byte) (*pem.Block, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrMalformed)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrMalformed)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers are not supported (encrypted keys are not accepted)", ErrMalformed)
	}
	return block, nil
}

// ecPrivateKey is SEC 1 ECPrivateKey (RFC 5915).
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8 is PKCS #8 PrivateKeyInfo (RFC 5208); attributes are ignored.
type pkcs8 struct {
	Version    int
	Algo       pkcs8Algorithm
	PrivateKey []byte
	Attributes asn1.RawValue `asn1:"optional,tag:0"`
}

type pkcs8Algorithm struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// MarshalPrivateKeyPEM returns k as a PEM "PRIVATE KEY" block: PKCS #8
// PrivateKeyInfo with algorithm id-ecPublicKey, parameters namedCurve
// 1.2.156.10197.1.301 and a SEC 1 ECPrivateKey carrying the 32-byte scalar
// and the public key — byte for byte what `openssl genpkey -algorithm SM2`
// writes. The output is the secret key in clear: seal it before storing.
func MarshalPrivateKeyPEM(k *PrivateKey) ([]byte, error) {
	if k == nil || k.k == nil {
		return nil, fmt.Errorf("%w: nil private key", ErrMalformed)
	}
	d := k.Bytes()
	defer clear(d)
	inner, err := asn1.Marshal(ecPrivateKey{
		Version:    1,
		PrivateKey: d,
		PublicKey:  asn1.BitString{Bytes: k.pub.raw[:], BitLength: 8 * PublicKeySize},
	})
	if err != nil {
		return nil, fmt.Errorf("signing: marshal private key: %w", err)
	}
	defer clear(inner)
	curve, _ := asn1.Marshal(oidSM2)
	der, err := asn1.Marshal(pkcs8{
		Version:    0,
		Algo:       pkcs8Algorithm{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: curve}},
		PrivateKey: inner,
	})
	if err != nil {
		return nil, fmt.Errorf("signing: marshal private key: %w", err)
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// ParsePrivateKeyPEM parses one PEM block holding an SM2 private key:
//   - "PRIVATE KEY": PKCS #8 version 0 with algorithm id-ecPublicKey or
//     1.2.156.10197.1.301 and parameters namedCurve 1.2.156.10197.1.301;
//   - "EC PRIVATE KEY" or "SM2 PRIVATE KEY" (OpenSSL's name): SEC 1
//     ECPrivateKey whose parameters name the SM2 curve.
//
// The scalar must be in [1, n-2]; it may be shorter than 32 bytes (older
// writers dropped leading zeros) but not longer. If the structure carries a
// public key it must be the one the scalar yields. Encrypted keys and PEM
// headers are refused. Failures wrap [ErrMalformed] or
// [ErrUnsupportedAlgorithm].
func ParsePrivateKeyPEM(data []byte) (*PrivateKey, error) {
	block, err := decodePEM(data)
	if err != nil {
		return nil, err
	}
	defer clear(block.Bytes)
	switch block.Type {
	case pemPKCS8:
		return parsePKCS8(block.Bytes)
	case pemSEC1, pemSEC1OpenSSL:
		return parseSEC1(block.Bytes, nil)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: encrypted private keys are not supported", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrMalformed, block.Type)
	}
}

func parsePKCS8(der []byte) (*PrivateKey, error) {
	var p pkcs8
	rest, err := asn1.Unmarshal(der, &p)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a DER PKCS #8 PrivateKeyInfo", ErrMalformed)
	}
	defer clear(p.PrivateKey)
	if p.Version != 0 {
		return nil, fmt.Errorf("%w: PKCS #8 version %d", ErrMalformed, p.Version)
	}
	if !p.Algo.Algorithm.Equal(oidECPublicKey) && !p.Algo.Algorithm.Equal(oidSM2) {
		return nil, fmt.Errorf("%w: private key algorithm %v is not SM2", ErrUnsupportedAlgorithm, p.Algo.Algorithm)
	}
	var curve asn1.ObjectIdentifier
	if r, err := asn1.Unmarshal(p.Algo.Parameters.FullBytes, &curve); err != nil || len(r) != 0 {
		return nil, fmt.Errorf("%w: EC parameters are not a named curve", ErrMalformed)
	}
	if !curve.Equal(oidSM2) {
		return nil, fmt.Errorf("%w: curve %v is not SM2", ErrUnsupportedAlgorithm, curve)
	}
	return parseSEC1(p.PrivateKey, curve)
}

// parseSEC1 parses ECPrivateKey; outerCurve is the curve named by an
// enclosing PKCS #8 structure, or nil.
func parseSEC1(der []byte, outerCurve asn1.ObjectIdentifier) (*PrivateKey, error) {
	var ec ecPrivateKey
	rest, err := asn1.Unmarshal(der, &ec)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a DER SEC 1 ECPrivateKey", ErrMalformed)
	}
	defer clear(ec.PrivateKey)
	if ec.Version != 1 {
		return nil, fmt.Errorf("%w: ECPrivateKey version %d", ErrMalformed, ec.Version)
	}
	switch {
	case ec.NamedCurveOID != nil && !ec.NamedCurveOID.Equal(oidSM2):
		return nil, fmt.Errorf("%w: curve %v is not SM2", ErrUnsupportedAlgorithm, ec.NamedCurveOID)
	case ec.NamedCurveOID == nil && outerCurve == nil:
		return nil, fmt.Errorf("%w: ECPrivateKey does not name its curve", ErrMalformed)
	}
	if len(ec.PrivateKey) == 0 || len(ec.PrivateKey) > PrivateKeySize {
		return nil, fmt.Errorf("%w: SM2 private key must be at most %d bytes", ErrMalformed, PrivateKeySize)
	}
	var d [PrivateKeySize]byte
	defer clear(d[:])
	copy(d[PrivateKeySize-len(ec.PrivateKey):], ec.PrivateKey)
	k, err := PrivateKeyFromBytes(d[:])
	if err != nil {
		return nil, err
	}
	if ec.PublicKey.BitLength != 0 {
		if ec.PublicKey.BitLength != 8*len(ec.PublicKey.Bytes) || !bytes.Equal(ec.PublicKey.Bytes, k.pub.raw[:]) {
			return nil, fmt.Errorf("%w: embedded public key does not match the private key", ErrMalformed)
		}
	}
	return k, nil
}
