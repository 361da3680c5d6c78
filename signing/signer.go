package signing

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Signer is a signing key in custody: software today, an HSM or KMS later.
// Implementations must be safe for concurrent use.
type Signer interface {
	// KeyID returns the key's identifier, used as the JWS "kid".
	KeyID() string
	// Public returns the public key that verifies this signer's signatures.
	Public() *PublicKey
	// Sign returns the SM2 signature of msg (the message itself, not a
	// digest) with Z_A computed for [DefaultID] and the signer's public
	// key, as raw r‖s (64 bytes) — exactly what [Verify] accepts. It must
	// neither modify msg nor keep it after returning.
	Sign(msg []byte) ([]byte, error)
}

// NewSoftwareSigner returns a [Signer] holding k in process memory under key
// id kid. It signs with crypto/rand entropy. Like [PrivateKey], the signer
// never prints its key: fmt, log/slog and encoding/json show only kid and
// the public key's thumbprint.
func NewSoftwareSigner(kid string, k *PrivateKey) Signer {
	return &softwareSigner{kid: kid, key: k}
}

type softwareSigner struct {
	kid string
	key *PrivateKey
}

func (s *softwareSigner) KeyID() string      { return s.kid }
func (s *softwareSigner) Public() *PublicKey { return s.key.Public() }
func (s *softwareSigner) Sign(msg []byte) ([]byte, error) {
	return Sign(nil, s.key, msg)
}

// String returns a redacted description: kid and public thumbprint only.
func (s *softwareSigner) String() string {
	tp := "nil"
	if pub := s.key.Public(); pub.valid() {
		tp = Thumbprint(pub)
	}
	return fmt.Sprintf("signing.SoftwareSigner{kid: %q, thumbprint: %s, key: %s}", s.kid, tp, redacted)
}

// GoString implements fmt.GoStringer with the redacted String.
func (s *softwareSigner) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints the redacted String.
func (s *softwareSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer with the key id and thumbprint only.
func (s *softwareSigner) LogValue() slog.Value {
	tp := ""
	if pub := s.key.Public(); pub.valid() {
		tp = Thumbprint(pub)
	}
	return slog.GroupValue(slog.String("kid", s.kid), slog.String("thumbprint", tp), slog.String("key", redacted))
}

// MarshalJSON shows the key id only.
func (s *softwareSigner) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kid string `json:"kid"`
		Key string `json:"key"`
	}{s.kid, redacted})
}
