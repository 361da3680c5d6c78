package issuer

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/emmansun/gmsm/sm4"
)

// opaqueHalf is the size of each half of OpaqueSerial's Feistel network:
// the permuted domain is opaqueHalf² = 10^12 certificates a year.
const (
	opaqueHalf   = 1_000_000
	opaqueRounds = 8
	// OpaqueSerialLen is the length of an OpaqueSerial: 4 year digits and 12
	// digits — neither 15 nor 18 characters, so no identifier part ever has
	// the shape of an identity number.
	OpaqueSerialLen = 16
	// MinSerialKeyLen is the shortest key OpaqueSerial accepts.
	MinSerialKeyLen = 16
)

// OpaqueSerial returns the serial part of a new certificate identifier
// (GB/T 36904) that cannot be walked: the four-digit issue year (China
// Standard Time) followed by 12 digits that are a keyed permutation of n —
// an 8-round Feistel network over two 6-digit halves whose round function is
// the SM4 block cipher under the first 16 bytes of key (a pseudo-random
// permutation used as a pseudo-random function on distinct inputs). Distinct n of one year give distinct serials (it is a
// permutation), so uniqueness still comes from the counter, yet without the
// key neither the next serial nor any other issued one can be derived from
// one seen: an anonymous client walking serials at the public status
// endpoint finds nothing. The identifier keeps its MOD 37,36 check
// character (ident.NewCertificateID computes it over whatever serial it is
// given).
//
// n must be 1 to 10^12−1, year 1000 to 9999 and key at least
// MinSerialKeyLen bytes; anything else is an error.
func OpaqueSerial(key []byte, year int, n int64) (string, error) {
	k, err := NewSerialKey(key)
	if err != nil {
		return "", err
	}
	return k.Serial(year, n)
}

// SerialKey is OpaqueSerial's key, scheduled once; safe for concurrent use.
type SerialKey struct{ block cipher.Block }

// NewSerialKey schedules key (at least MinSerialKeyLen bytes) for Serial.
func NewSerialKey(key []byte) (*SerialKey, error) {
	if len(key) < MinSerialKeyLen {
		return nil, fmt.Errorf("issuer: serial key of %d bytes, want at least %d", len(key), MinSerialKeyLen)
	}
	block, err := sm4.NewCipher(key[:MinSerialKeyLen])
	if err != nil {
		return nil, err
	}
	return &SerialKey{block: block}, nil
}

// Serial is OpaqueSerial under k.
func (k *SerialKey) Serial(year int, n int64) (string, error) {
	if year < 1000 || year > 9999 || n < 1 || n >= opaqueHalf*opaqueHalf {
		return "", fmt.Errorf("issuer: OpaqueSerial(%d, %d): year must be 1000..9999 and n 1..10^12-1", year, n)
	}
	var in, out [16]byte
	left, right := uint64(n)/opaqueHalf, uint64(n)%opaqueHalf
	for round := range opaqueRounds {
		binary.BigEndian.PutUint32(in[:4], uint32(year)<<8|uint32(round))
		binary.BigEndian.PutUint64(in[4:12], right)
		k.block.Encrypt(out[:], in[:])
		f := binary.BigEndian.Uint64(out[:8]) % opaqueHalf
		left, right = right, (left+f)%opaqueHalf
	}
	v := left*opaqueHalf + right
	b := make([]byte, 0, OpaqueSerialLen)
	b = strconv.AppendInt(b, int64(year), 10)
	s := strconv.FormatUint(v, 10)
	for i := len(s); i < 12; i++ {
		b = append(b, '0')
	}
	return string(append(b, s...)), nil
}
