package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
)

const (
	// PrivateKeySize is the size of an SM2 private scalar in bytes.
	PrivateKeySize = 32
	// PublicKeySize is the size of an uncompressed SM2 point 04‖X‖Y.
	PublicKeySize = 65
	// SignatureSize is the size of a raw r‖s SM2 signature.
	SignatureSize = 64
)

// PrivateKey is an SM2 private key. It wraps a *sm2.PrivateKey of
// github.com/emmansun/gmsm and is safe for concurrent use; it never changes
// after construction.
//
// A PrivateKey never prints its scalar: fmt (every verb), log/slog and
// encoding/json see "REDACTED". Use [PrivateKey.Bytes] (for sealing with
// [Seal]) or [MarshalPrivateKeyPEM] to export it on purpose.
type PrivateKey struct {
	k   *sm2.PrivateKey
	pub *PublicKey
}

// PublicKey is an SM2 public key: a point on the SM2 curve other than the
// point at infinity. It wraps an *ecdsa.PublicKey whose Curve is the SM2
// curve and is immutable and safe for concurrent use.
type PublicKey struct {
	k   *ecdsa.PublicKey
	raw [PublicKeySize]byte // 04‖X‖Y, cached for Bytes, Equal and JWKs
}

// GenerateKey returns a new SM2 key pair whose scalar d lies in [1, n-2]
// (GB/T 32918.1). rand should be crypto/rand.Reader; nil means
// crypto/rand.Reader.
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		rand = randReader()
	}
	k, err := sm2.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("signing: generate key: %w", err)
	}
	return wrapPrivate(k)
}

// randReader is the default entropy source.
func randReader() io.Reader { return rand.Reader }

// PrivateKeyFromBytes returns the private key with scalar d, given as exactly
// 32 big-endian bytes. It fails with [ErrMalformed] unless 1 ≤ d ≤ n-2, as
// GB/T 32918.1 requires (d = n-1 has no inverse of 1+d and cannot sign).
// The range check is constant-time.
func PrivateKeyFromBytes(d []byte) (*PrivateKey, error) {
	if len(d) != PrivateKeySize {
		return nil, fmt.Errorf("%w: SM2 private key must be %d bytes, got %d", ErrMalformed, PrivateKeySize, len(d))
	}
	// sm2.NewPrivateKey checks 1 ≤ d ≤ n-2 with constant-time arithmetic
	// and derives the public point.
	k, err := sm2.NewPrivateKey(d)
	if err != nil {
		return nil, fmt.Errorf("%w: SM2 private key out of range [1, n-2]", ErrMalformed)
	}
	return wrapPrivate(k)
}

func wrapPrivate(k *sm2.PrivateKey) (*PrivateKey, error) {
	pub, err := wrapPublic(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	// The same *sm2.PrivateKey is used for every signature, so gmsm's
	// per-pointer caches (internal key form, Z_A) stay warm.
	return &PrivateKey{k: k, pub: pub}, nil
}

// Public returns the public key of k. The result is shared and immutable.
func (k *PrivateKey) Public() *PublicKey {
	if k == nil {
		return nil
	}
	return k.pub
}

// Bytes returns the private scalar d as 32 big-endian bytes, the form that
// [PrivateKeyFromBytes] accepts. The caller owns the returned slice; seal it
// ([Seal]) before it touches storage.
func (k *PrivateKey) Bytes() []byte {
	if k == nil || k.k == nil {
		return nil
	}
	return k.k.D.FillBytes(make([]byte, PrivateKeySize))
}

// Equal reports whether k and o hold the same key, in constant time with
// respect to the scalars.
func (k *PrivateKey) Equal(o *PrivateKey) bool {
	if k == nil || o == nil || k.k == nil || o.k == nil {
		return false
	}
	return k.k.Equal(o.k)
}

const redacted = "REDACTED"

// String returns a redacted description naming only the public key's
// thumbprint.
func (k *PrivateKey) String() string {
	if k == nil || k.pub == nil {
		return "signing.PrivateKey(nil)"
	}
	return "signing.PrivateKey{thumbprint: " + Thumbprint(k.pub) + ", d: " + redacted + "}"
}

// GoString implements fmt.GoStringer with the same redacted text as String.
func (k *PrivateKey) GoString() string { return k.String() }

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %x, %d, …)
// can reach the scalar.
func (k *PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer: a logged key shows only its
// thumbprint.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON refuses to serialise a private key: it returns a JSON string
// "REDACTED" so that a key placed in a logged struct by mistake leaks
// nothing.
func (k *PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler with the redacted text, so
// that text-based encoders (slog's text handler, YAML, …) cannot expose the
// scalar either.
func (k *PrivateKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// wrapPublic validates an ecdsa public key on the SM2 curve and caches its
// encoding.
func wrapPublic(k *ecdsa.PublicKey) (*PublicKey, error) {
	if k == nil || k.Curve != sm2.P256() || k.X == nil || k.Y == nil {
		return nil, fmt.Errorf("%w: not an SM2 public key", ErrMalformed)
	}
	if k.X.Sign() < 0 || k.Y.Sign() < 0 || k.X.BitLen() > 256 || k.Y.BitLen() > 256 {
		return nil, fmt.Errorf("%w: SM2 public key coordinates out of range", ErrMalformed)
	}
	p := &PublicKey{k: k}
	p.raw[0] = 4
	k.X.FillBytes(p.raw[1:33])
	k.Y.FillBytes(p.raw[33:65])
	// Let gmsm check the point: reduced coordinates, on the curve, not
	// infinity.
	if _, err := sm2.NewPublicKey(p.raw[:]); err != nil {
		return nil, fmt.Errorf("%w: SM2 public key is not a point on the curve", ErrMalformed)
	}
	return p, nil
}

// PublicKeyFromBytes parses an uncompressed SM2 point 04‖X‖Y (65 bytes). It
// fails with [ErrMalformed] for any other length or prefix (compressed
// points included), coordinates not reduced modulo p, or a point not on the
// curve.
func PublicKeyFromBytes(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize || b[0] != 4 {
		return nil, fmt.Errorf("%w: SM2 public key must be 65 bytes 04||X||Y", ErrMalformed)
	}
	k, err := sm2.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: SM2 public key is not a point on the curve", ErrMalformed)
	}
	return wrapPublic(k)
}

// Bytes returns the uncompressed point 04‖X‖Y (65 bytes). The caller owns
// the returned slice.
func (k *PublicKey) Bytes() []byte {
	if k == nil || k.k == nil {
		return nil
	}
	b := k.raw
	return b[:]
}

// Equal reports whether k and o are the same point. A nil or zero key equals
// nothing.
func (k *PublicKey) Equal(o *PublicKey) bool {
	if k == nil || o == nil || k.k == nil || o.k == nil {
		return false
	}
	return bytes.Equal(k.raw[:], o.raw[:])
}

// String returns "signing.PublicKey{<thumbprint>}".
func (k *PublicKey) String() string {
	if k == nil || k.k == nil {
		return "signing.PublicKey(nil)"
	}
	return "signing.PublicKey{" + Thumbprint(k) + "}"
}

// ECDSA returns a copy of the key as an *ecdsa.PublicKey on the SM2 curve
// (sm2.P256()), for APIs of github.com/emmansun/gmsm that take one.
func (k *PublicKey) ECDSA() *ecdsa.PublicKey {
	if k == nil || k.k == nil {
		return nil
	}
	c := *k.k
	c.X = new(big.Int).Set(k.k.X)
	c.Y = new(big.Int).Set(k.k.Y)
	return &c
}

// valid reports whether k was built by this package.
func (k *PublicKey) valid() bool { return k != nil && k.k != nil }
