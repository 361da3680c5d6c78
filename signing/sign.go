package signing

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// DefaultID is the distinguishing identifier of GM/T 0009 used in Z_A when
// none is agreed: the ASCII string "1234567812345678" (ENTL = 0x0080).
// Every signature this product publishes uses it.
const DefaultID = "1234567812345678"

// MaxIDLen is the longest distinguishing identifier Z_A can carry: ENTL is
// the identifier's length in bits as a 16-bit integer.
const MaxIDLen = 0xffff / 8

var defaultID = []byte(DefaultID)

// curveOrder is n, the order of the SM2 base point, big-endian.
var curveOrder = [32]byte{
	0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23,
}

// Sign returns the GB/T 32918.2 SM2 signature of msg by k with the default
// identifier [DefaultID], as raw r‖s (64 bytes). The signed value is
// e = SM3(Z_A ‖ msg); msg is the message itself, never a digest.
//
// rand supplies the nonce's entropy (gmsm hedges it with the key and the
// message, so a weak rand cannot leak the key); nil means crypto/rand.Reader.
// Signatures are randomised: signing twice gives different bytes, both
// valid.
func Sign(rand io.Reader, k *PrivateKey, msg []byte) ([]byte, error) {
	return signRaw(rand, k, defaultID, msg)
}

// SignWithID is [Sign] with an explicit distinguishing identifier id, which
// must be 1 to [MaxIDLen] bytes. Verifiers must use the same id.
func SignWithID(rand io.Reader, k *PrivateKey, id, msg []byte) ([]byte, error) {
	if len(id) == 0 || len(id) > MaxIDLen {
		return nil, fmt.Errorf("%w: SM2 identifier must be 1 to %d bytes", ErrMalformed, MaxIDLen)
	}
	return signRaw(rand, k, id, msg)
}

func signRaw(rnd io.Reader, k *PrivateKey, id, msg []byte) ([]byte, error) {
	der, err := signDER(rnd, k, id, msg)
	if err != nil {
		return nil, err
	}
	sig := make([]byte, SignatureSize)
	if err := derToRaw(sig, der); err != nil {
		return nil, fmt.Errorf("signing: sm2 returned an unexpected signature: %w", err)
	}
	return sig, nil
}

// signDER produces the DER signature of msg with Z_A(id).
func signDER(rnd io.Reader, k *PrivateKey, id, msg []byte) ([]byte, error) {
	if k == nil || k.k == nil {
		return nil, errors.New("signing: nil private key")
	}
	if rnd == nil {
		rnd = randReader()
	}
	if len(msg) == 0 {
		// gmsm refuses an empty input to SignASN1 even in GM mode, although
		// e = SM3(Z_A) is well defined. Compute e = SM3(Z_A ‖ msg) here and
		// sign it as the digest it then is. This is the only place that
		// hands gmsm a digest; the Annex A and interop tests cover it.
		e, err := sm2.CalculateSM2Hash(&k.k.PublicKey, msg, id)
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		return sm2.SignASN1(rnd, k.k, e, nil)
	}
	// forceGMSign: gmsm computes e = SM3(Z_A ‖ msg) itself.
	opts := sm2.DefaultSM2SignerOpts
	if !bytes.Equal(id, defaultID) {
		opts = sm2.NewSM2SignerOption(true, id)
	}
	der, err := sm2.SignASN1(rnd, k.k, msg, opts)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return der, nil
}

// Verify reports whether sig, a raw r‖s signature, is k's SM2 signature of
// msg with the default identifier [DefaultID]. It returns false for a nil
// key, a signature that is not exactly 64 bytes, or r or s outside
// [1, n-1].
func Verify(k *PublicKey, msg, sig []byte) bool {
	return verifyRaw(k, defaultID, msg, sig)
}

// VerifyWithID is [Verify] with an explicit distinguishing identifier id (1
// to [MaxIDLen] bytes); an empty id never verifies.
func VerifyWithID(k *PublicKey, id, msg, sig []byte) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	return verifyRaw(k, id, msg, sig)
}

func verifyRaw(k *PublicKey, id, msg, sig []byte) bool {
	if !k.valid() || !rawInRange(sig) {
		return false
	}
	var buf [72]byte
	der := appendDER(buf[:0], sig)
	return sm2.VerifyASN1WithSM2(k.k, id, msg, der)
}

// SM3 returns the SM3 hash (GB/T 32905) of data.
func SM3(data []byte) [32]byte { return sm3.Sum(data) }

// RawToDER converts a raw r‖s signature (exactly 64 bytes) into the DER
// SEQUENCE{INTEGER r, INTEGER s} that OpenSSL and X.509 use. It fails with
// [ErrMalformed] for another length or for r or s outside [1, n-1].
func RawToDER(raw []byte) ([]byte, error) {
	if !rawInRange(raw) {
		return nil, fmt.Errorf("%w: raw SM2 signature must be 64 bytes with r, s in [1, n-1]", ErrMalformed)
	}
	return appendDER(make([]byte, 0, 72), raw), nil
}

// DERToRaw converts a DER SEQUENCE{INTEGER r, INTEGER s} into raw r‖s
// (64 bytes). It is strict: the input must be canonical DER (definite
// minimal lengths, minimal positive integers, nothing after the sequence)
// and r and s must lie in [1, n-1]; anything else fails with
// [ErrMalformed]. Canonical DER means DERToRaw(RawToDER(x)) == x and
// RawToDER(DERToRaw(y)) == y for every accepted input.
func DERToRaw(der []byte) ([]byte, error) {
	raw := make([]byte, SignatureSize)
	if err := derToRaw(raw, der); err != nil {
		return nil, err
	}
	return raw, nil
}

// rawInRange reports whether raw is 64 bytes with r and s in [1, n-1].
// Signature values are public, so variable time is fine.
func rawInRange(raw []byte) bool {
	return len(raw) == SignatureSize && scalarInRange(raw[:32]) && scalarInRange(raw[32:])
}

// scalarInRange reports whether the 32-byte big-endian b is in [1, n-1].
func scalarInRange(b []byte) bool {
	zero := true
	for _, c := range b {
		if c != 0 {
			zero = false
			break
		}
	}
	return !zero && bytes.Compare(b, curveOrder[:]) < 0
}

// appendDER appends the DER encoding of the in-range raw signature.
func appendDER(dst, raw []byte) []byte {
	r, s := trimInt(raw[:32]), trimInt(raw[32:])
	lr, ls := intLen(r), intLen(s)
	dst = append(dst, 0x30, byte(2+lr+2+ls))
	dst = appendInt(dst, r, lr)
	return appendInt(dst, s, ls)
}

func trimInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// intLen is the DER content length of the positive integer with minimal
// big-endian bytes b.
func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendInt(dst, b []byte, l int) []byte {
	dst = append(dst, 0x02, byte(l))
	if l > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}

// derToRaw parses a strict DER SM2 signature into raw (64 bytes).
func derToRaw(raw, der []byte) error {
	bad := func(why string) error { return fmt.Errorf("%w: DER SM2 signature: %s", ErrMalformed, why) }
	// Two INTEGERs of at most 33 content bytes give at most 70 content
	// bytes, so the SEQUENCE length always has the short form; a long form
	// would not be minimal, hence not DER.
	if len(der) < 2 || der[0] != 0x30 {
		return bad("not a SEQUENCE")
	}
	if der[1] >= 0x80 || int(der[1]) != len(der)-2 {
		return bad("bad SEQUENCE length")
	}
	rest := der[2:]
	for i := range 2 {
		if len(rest) < 2 || rest[0] != 0x02 {
			return bad("missing INTEGER")
		}
		l := int(rest[1])
		if l == 0 || l > 33 || l > len(rest)-2 {
			return bad("bad INTEGER length")
		}
		v := rest[2 : 2+l]
		rest = rest[2+l:]
		if v[0]&0x80 != 0 {
			return bad("negative INTEGER")
		}
		if l > 1 && v[0] == 0 && v[1]&0x80 == 0 {
			return bad("INTEGER not minimally encoded")
		}
		if v[0] == 0 {
			v = v[1:]
		}
		if len(v) > 32 {
			return bad("INTEGER too large")
		}
		out := raw[32*i : 32*i+32]
		clear(out[:32-len(v)])
		copy(out[32-len(v):], v)
		if !scalarInRange(out) {
			return bad("r or s outside [1, n-1]")
		}
	}
	if len(rest) != 0 {
		return bad("trailing data in SEQUENCE")
	}
	return nil
}
