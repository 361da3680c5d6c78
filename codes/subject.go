package codes

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"strings"

	"github.com/suishen/suishen/signing"
)

// Pseudonymous subjects (docs/code-format.md §6).
//
// A code never carries an ID number. The server gives each holder a 64-bit
// holder reference (any stable, non-meaningful number it can look up) and
// puts into each code
//
//	subject = nonce ‖ (BE64(ref) XOR HMAC-SM3(key, "SSP1" ‖ nonce)[0:8])
//
// with a fresh 8-byte random nonce per code: 16 bytes that look random, so
// two personal codes of one holder cannot be linked by anyone without the
// key, while the server (holding key) maps a subject back to ref with
// OpenSubject — no table of issued codes is kept.

// SubjectSize is the length of a subject made by NewSubject.
const SubjectSize = 16

const (
	subjectNonce  = 8
	subjectDomain = "SSP1"
	// MinSubjectKeySize is the shortest subject key NewSubject accepts.
	MinSubjectKeySize = 16
)

// ErrSubjectKey reports a subject key shorter than MinSubjectKeySize.
var ErrSubjectKey = errors.New("codes: subject key must be at least 16 bytes")

// NewSubject returns a fresh pseudonymous subject for holder reference ref
// under the server's secret key (≥ 16 bytes; 32 recommended). rnd supplies
// the nonce; nil means crypto/rand.
func NewSubject(key []byte, ref uint64, rnd io.Reader) ([]byte, error) {
	if len(key) < MinSubjectKeySize {
		return nil, ErrSubjectKey
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	s := make([]byte, SubjectSize)
	if _, err := io.ReadFull(rnd, s[:subjectNonce]); err != nil {
		return nil, err
	}
	pad := subjectPad(key, s[:subjectNonce])
	binary.BigEndian.PutUint64(s[subjectNonce:], ref^binary.BigEndian.Uint64(pad[:8]))
	return s, nil
}

// OpenSubject returns the holder reference inside a subject made by
// NewSubject with the same key. It fails for a key that is too short or a
// subject that is not SubjectSize bytes; a subject made under another key
// opens to an unrelated number, so the caller must find the reference in
// its holder table (the code's signature already proved the server made
// it).
func OpenSubject(key, subject []byte) (uint64, error) {
	if len(key) < MinSubjectKeySize {
		return 0, ErrSubjectKey
	}
	if len(subject) != SubjectSize {
		return 0, errors.New("codes: subject is not a 16-byte pseudonym")
	}
	pad := subjectPad(key, subject[:subjectNonce])
	return binary.BigEndian.Uint64(subject[subjectNonce:]) ^ binary.BigEndian.Uint64(pad[:8]), nil
}

func subjectPad(key, nonce []byte) [32]byte {
	msg := make([]byte, 0, len(subjectDomain)+subjectNonce)
	msg = append(append(msg, subjectDomain...), nonce...)
	return hmacSM3(key, msg)
}

// hmacSM3 is HMAC (RFC 2104) with SM3 (64-byte blocks), built on
// signing.SM3 so that this package needs no other hash import.
func hmacSM3(key, msg []byte) [32]byte {
	const block = 64
	if len(key) > block {
		h := signing.SM3(key)
		key = h[:]
	}
	var k [block]byte
	copy(k[:], key)
	inner := make([]byte, block+len(msg))
	outer := make([]byte, block+32)
	for i := range block {
		inner[i] = k[i] ^ 0x36
		outer[i] = k[i] ^ 0x5c
	}
	copy(inner[block:], msg)
	ih := signing.SM3(inner)
	copy(outer[block:], ih[:])
	return signing.SM3(outer)
}

// useCodeAlphabet is Crockford's Base32: no I, L, O or U, so a use code
// read out or typed is hard to get wrong.
const useCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// UseCodeLen is the length of a use code from NewUseCode: 12 characters,
// 60 random bits.
const UseCodeLen = 12

// NewUseCode returns a fresh one-time use code (用证码) of UseCodeLen
// Crockford-Base32 characters (60 bits), fit for a presentation code and
// short enough to read out. rnd nil means crypto/rand.
func NewUseCode(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	v := binary.BigEndian.Uint64(b[:])
	out := make([]byte, UseCodeLen)
	for i := range out {
		out[i] = useCodeAlphabet[v&31]
		v >>= 5
	}
	return string(out), nil
}

// NormalizeUseCode turns a use code as typed or read out into its canonical
// form: upper case, spaces and hyphens removed, O read as 0 and I or L as
// 1 (Crockford). It fails unless the result is 6–32 characters of the
// Crockford alphabet 0-9 A-Z without I, L, O, U.
func NormalizeUseCode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		b.WriteByte(c)
	}
	out := b.String()
	if !useCodeOK(out) {
		return "", errors.New("codes: a use code is 6 to 32 characters of 0-9 A-Z without I, L, O, U")
	}
	return out, nil
}
