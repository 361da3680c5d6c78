package signing

import (
	"crypto/cipher"
	"crypto/hmac"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Sealed data format, version 1:
//
//	0x01 ‖ nonce (12 bytes) ‖ SM4-GCM ciphertext ‖ tag (16 bytes)
//
// SM4-GCM is the AEAD of RFC 8998 (SM4 in GCM, 96-bit nonce, 128-bit tag)
// under the 16-byte master key. The associated data is the version byte
// followed by the key id's bytes, so a sealed key opens only under the id it
// was sealed for and a future version cannot be confused with this one.
// Nonces are random: keep well under 2^32 seals per master key (a key ring
// seals a handful).
const (
	sealVersion1 = 0x01
	// MasterKeySize is the size of the SM4 master key for [Seal] and [Open].
	MasterKeySize = 16
	sealNonceSize = 12
	sealTagSize   = 16
	// SealOverhead is how many bytes [Seal] adds to the plaintext.
	SealOverhead = 1 + sealNonceSize + sealTagSize
)

// Seal encrypts plaintext (typically [PrivateKey.Bytes]) under the 16-byte
// SM4 masterKey with SM4-GCM, binding kid as associated data. The result is
// versioned: 0x01 ‖ nonce ‖ ciphertext ‖ tag, len(plaintext)+[SealOverhead]
// bytes. The nonce comes from crypto/rand.
func Seal(masterKey []byte, kid string, plaintext []byte) ([]byte, error) {
	return sealWith(randReader(), masterKey, kid, plaintext)
}

func sealWith(rnd io.Reader, masterKey []byte, kid string, plaintext []byte) ([]byte, error) {
	aead, err := newSealAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+sealNonceSize, SealOverhead+len(plaintext))
	out[0] = sealVersion1
	if _, err := io.ReadFull(rnd, out[1:]); err != nil {
		return nil, fmt.Errorf("signing: seal nonce: %w", err)
	}
	return aead.Seal(out, out[1:1+sealNonceSize], plaintext, sealAD(kid)), nil
}

// Open reverses [Seal]: it authenticates and decrypts sealed under masterKey
// for key id kid. It fails with [ErrMalformed] for a master key that is not
// 16 bytes, a truncated input or an unknown version, and with [ErrOpen] when
// the master key or kid is wrong or any byte was altered.
func Open(masterKey []byte, kid string, sealed []byte) ([]byte, error) {
	aead, err := newSealAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: sealed data too short", ErrMalformed)
	}
	if sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("%w: sealed data version %d is not supported", ErrMalformed, sealed[0])
	}
	pt, err := aead.Open(nil, sealed[1:1+sealNonceSize], sealed[1+sealNonceSize:], sealAD(kid))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func newSealAEAD(masterKey []byte) (cipher.AEAD, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("%w: master key must be %d bytes, got %d", ErrMalformed, MasterKeySize, len(masterKey))
	}
	block, err := sm4.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("signing: sm4: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("signing: sm4-gcm: %w", err)
	}
	return aead, nil
}

func sealAD(kid string) []byte {
	ad := make([]byte, 0, 1+len(kid))
	ad = append(ad, sealVersion1)
	return append(ad, kid...)
}

// DeriveKey derives a 32-byte purpose-bound key from the master key:
// HMAC-SM3(masterKey, label). Different labels give independent keys.
func DeriveKey(masterKey []byte, label string) []byte {
	m := hmac.New(sm3.New, masterKey)
	m.Write([]byte(label))
	return m.Sum(nil)
}
