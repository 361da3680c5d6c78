package trust

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/suishen/suishen/signing"
)

// AuditHead is the head of the server's audit hash chain when a bundle was
// signed: the sequence number of the newest sealed entry, the chain hash
// there (SM3, hex) and the entry's time. Because the bundle is signed by the
// anchor, every bundle a verifier or an auditor keeps is a signed statement
// of how far the log reached — like a Certificate Transparency signed tree
// head. `suishen audit verify --trust` proves the log still reaches it.
type AuditHead struct {
	Seq int64     `json:"seq"`
	SM3 string    `json:"sm3"`
	At  time.Time `json:"at"`
}

// Hash decodes SM3, which must be 32 bytes of hex.
func (h AuditHead) Hash() ([]byte, error) {
	b, err := hex.DecodeString(h.SM3)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%w: audit_head.sm3 is not 32 bytes of hex", ErrMalformed)
	}
	return b, nil
}

// AcknowledgementTyp is the JWS "typ" of an acknowledgement.
const AcknowledgementTyp = "suishen-anchor-acknowledgement+json"

// Acknowledgement is the payload of an acknowledgement JWS: the new anchor
// naming the anchor it succeeded — the reverse of an Endorsement.
type Acknowledgement struct {
	OldAnchor signing.JWK `json:"old_anchor"`
	IssuedAt  time.Time   `json:"issued_at"`
}

// Acknowledge has newAnchor name oldAnchor as its predecessor.
func Acknowledge(newAnchor signing.Signer, oldAnchor *signing.PublicKey, at time.Time) (string, error) {
	raw, err := json.Marshal(Acknowledgement{OldAnchor: signing.NewJWK(oldAnchor), IssuedAt: at.UTC()})
	if err != nil {
		return "", err
	}
	return signing.SignJWS(newAnchor, raw, map[string]any{"typ": AcknowledgementTyp})
}

// Succession is one anchor rotation as a verifier receives it: the old
// anchor's endorsement of the new one and the new anchor's acknowledgement
// of the old one. Either may be empty.
type Succession struct {
	Endorsement     string
	Acknowledgement string
}

// Anchors returns, by key ID, every trust anchor the pinned anchor vouches
// for: the pinned anchor itself; forward, the new anchor named by an
// endorsement signed by an anchor already in the set; backward, the old
// anchor named by an acknowledgement signed by an anchor already in the set;
// repeated until nothing is added. A pinned old anchor thus reaches every
// later anchor through the endorsements, and a pinned new anchor every
// earlier one through the acknowledgements. Nothing else counts: a key that
// merely sits in a database, or a JWS signed by a key outside the set, adds
// nothing. endorsements are loose endorsement JWSs (a bundle's
// anchor_endorsements).
func Anchors(pinned *signing.PublicKey, successions []Succession, endorsements []string) map[string]*signing.PublicKey {
	set := map[string]*signing.PublicKey{signing.Thumbprint(pinned): pinned}
	type link struct {
		jws string
		typ string
	}
	var links []link
	for _, s := range successions {
		if s.Endorsement != "" {
			links = append(links, link{s.Endorsement, EndorsementTyp})
		}
		if s.Acknowledgement != "" {
			links = append(links, link{s.Acknowledgement, AcknowledgementTyp})
		}
	}
	for _, e := range endorsements {
		links = append(links, link{e, EndorsementTyp})
	}
	used := make([]bool, len(links))
	for changed := true; changed; {
		changed = false
		for i, l := range links {
			if used[i] {
				continue
			}
			k, ok := follow(l.jws, l.typ, set)
			if !ok {
				continue
			}
			used[i] = true
			if kid := signing.Thumbprint(k); set[kid] == nil {
				set[kid] = k
				changed = true
			}
		}
	}
	return set
}

// follow verifies one endorsement or acknowledgement against the signers in
// set and returns the key it names.
func follow(jws, typ string, set map[string]*signing.PublicKey) (*signing.PublicKey, bool) {
	hdr, _, err := signing.ParseJWS(jws)
	if err != nil || hdr.Typ != typ || set[hdr.Kid] == nil {
		return nil, false
	}
	payload, _, err := signing.VerifyJWS(jws, func(kid string) (*signing.PublicKey, error) {
		if k := set[kid]; k != nil {
			return k, nil
		}
		return nil, signing.ErrUnknownKey
	})
	if err != nil {
		return nil, false
	}
	var named signing.JWK
	if typ == EndorsementTyp {
		var e Endorsement
		if json.Unmarshal(payload, &e) != nil {
			return nil, false
		}
		named = e.NewAnchor
	} else {
		var a Acknowledgement
		if json.Unmarshal(payload, &a) != nil {
			return nil, false
		}
		named = a.OldAnchor
	}
	k, err := named.PublicKey()
	if err != nil {
		return nil, false
	}
	return k, true
}

// VerifyWithAnchors is Verify for a bundle signed by any anchor in anchors
// (from Anchors): an auditor who re-pinned to a newer anchor can still use a
// bundle the older anchor signed. Like Verify, an expired bundle is returned
// with ErrExpired.
func VerifyWithAnchors(compact string, anchors map[string]*signing.PublicKey, now time.Time) (Bundle, error) {
	hdr, _, err := signing.ParseJWS(compact)
	if err != nil {
		return Bundle{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	k := anchors[hdr.Kid]
	if k == nil {
		for _, a := range anchors {
			// Not signed by one of them directly: perhaps through an
			// endorsement the bundle carries.
			if b, err := Verify(compact, a, now); err == nil || errors.Is(err, ErrExpired) {
				return b, err
			}
		}
		return Bundle{}, ErrNotSignedByAnchor
	}
	return Verify(compact, k, now)
}
