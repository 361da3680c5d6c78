package issuer

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/suishen/suishen/signing"
)

// Status list format.
//
// A status list is a bitstring of Size entries of 2 bits (BitsPerEntry),
// EntryGood..EntrySuperseded. Entry i occupies bits 7-2*(i%4) and 6-2*(i%4)
// of byte i/4 — the most significant pair of byte 0 is entry 0 — so the
// bitstring is Size/4 bytes. Encoded, it is gzip (RFC 1952, one member,
// header without name, comment or modification time) of those bytes, in
// unpadded base64url (RFC 4648 §5).
//
// Herd privacy: a list has at least MinStatusListSize entries, whatever the
// number of certificates it covers, so that fetching it says nothing about
// which certificate a verifier holds, and indexes should be assigned in a
// shuffled order (ShuffledIndex) so that neighbouring entries are unrelated.
const (
	BitsPerEntry      = 2
	MinStatusListSize = 131072   // 2^17 entries, 32 KiB
	MaxStatusListSize = 16777216 // 2^24 entries, 4 MiB
	StatusPurpose     = "certificate-status"
	maxStatusListID   = 128
)

// CheckStatusListSize reports whether size is a valid status list size: a
// multiple of 4 (whole bytes) in MinStatusListSize..MaxStatusListSize.
func CheckStatusListSize(size int) error {
	if size < MinStatusListSize || size > MaxStatusListSize || size%4 != 0 {
		return newError(CodeInvalidArgument, nil, "a status list has a multiple of 4 entries between %d and %d, not %d", MinStatusListSize, MaxStatusListSize, size)
	}
	return nil
}

// StatusList is a 2-bit status list. It is not safe for concurrent
// mutation; concurrent Get and Lookup are safe.
type StatusList struct {
	ID   string
	Size int
	bits []byte
}

// NewStatusList returns a list of size entries, all EntryGood. It panics if
// CheckStatusListSize(size) fails: sizes are configuration, checked at start.
func NewStatusList(id string, size int) *StatusList {
	if err := CheckStatusListSize(size); err != nil {
		panic(err)
	}
	return &StatusList{ID: id, Size: size, bits: make([]byte, size/4)}
}

// StatusListFromBytes returns a list over a copy of b, the raw bitstring
// (Size/4 bytes) as Bytes returns it, e.g. read back from storage.
func StatusListFromBytes(id string, size int, b []byte) (*StatusList, error) {
	if err := CheckStatusListSize(size); err != nil {
		return nil, err
	}
	if len(b) != size/4 {
		return nil, newError(CodeInvalidArgument, nil, "a status list of %d entries has %d bytes, not %d", size, size/4, len(b))
	}
	return &StatusList{ID: id, Size: size, bits: bytes.Clone(b)}, nil
}

// Bytes returns a copy of the raw bitstring (Size/4 bytes).
func (l *StatusList) Bytes() []byte { return bytes.Clone(l.bits) }

// Set sets entry i to v (0..3). It fails with CodeInvalidArgument for i
// outside [0, Size) or v > 3.
func (l *StatusList) Set(i int, v uint8) error {
	if i < 0 || i >= l.Size {
		return newError(CodeInvalidArgument, nil, "status list index %d is outside [0, %d)", i, l.Size)
	}
	if v > 3 {
		return newError(CodeInvalidArgument, nil, "a status list entry is 0 to 3, not %d", v)
	}
	shift := 6 - 2*uint(i%4)
	b := &l.bits[i/4]
	*b = *b&^(3<<shift) | v<<shift
	return nil
}

// Get returns entry i. Like a slice, it panics for i outside [0, Size); use
// Lookup for an index read from untrusted input.
func (l *StatusList) Get(i int) uint8 {
	if i < 0 || i >= l.Size {
		panic(fmt.Sprintf("issuer: status list index %d out of range [0, %d)", i, l.Size))
	}
	return l.bits[i/4] >> (6 - 2*uint(i%4)) & 3
}

// Lookup returns entry i, or ok false for i outside [0, Size) — which a
// verifier must treat as "status unknown", never as good standing.
func (l *StatusList) Lookup(i int) (v uint8, ok bool) {
	if i < 0 || i >= l.Size {
		return 0, false
	}
	return l.Get(i), true
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// Encode returns the list compressed and encoded as described above. The
// output is deterministic for given contents.
func (l *StatusList) Encode() (string, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(l.bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// maxEncodedLen bounds the encoded form of a list of size entries: gzip of
// incompressible data grows by 5 bytes per stored block (at most 64 KiB)
// plus header and trailer, far below the 1/1024 + 1 KiB allowed here;
// anything longer is refused before decoding.
func maxEncodedLen(size int) int {
	raw := size / 4
	return base64.RawURLEncoding.EncodedLen(raw + raw/1024 + 1024)
}

// DecodeStatusList decodes an encoded list of size entries. Decompression is
// bounded: it reads at most size/4+1 bytes of output, whatever the input
// claims, so a zip bomb costs no more than a genuine list. It fails with an
// *Error: CodeInvalidArgument for a bad size, CodeTooLarge for input longer
// than a list of that size can be or output beyond size/4 bytes,
// CodeMalformed for bad base64url (padding included), bad gzip, a checksum
// mismatch, a second gzip member or trailing bytes, or output shorter than
// size/4 bytes.
func DecodeStatusList(id string, s string, size int) (*StatusList, error) {
	if err := CheckStatusListSize(size); err != nil {
		return nil, err
	}
	if len(s) > maxEncodedLen(size) {
		return nil, newError(CodeTooLarge, nil, "the encoded status list is longer than a list of %d entries can be", size)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, newError(CodeMalformed, nil, "the status list is not unpadded base64url")
	}
	br := bytes.NewReader(raw)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, newError(CodeMalformed, nil, "the status list is not gzip")
	}
	zr.Multistream(false)
	bits := make([]byte, size/4)
	if _, err := io.ReadFull(zr, bits); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, newError(CodeMalformed, nil, "the status list is shorter than %d entries", size)
		}
		return nil, newError(CodeMalformed, nil, "the status list does not decompress")
	}
	var one [1]byte
	switch n, err := zr.Read(one[:]); {
	case n > 0:
		return nil, newError(CodeTooLarge, nil, "the status list decompresses to more than %d entries", size)
	case err != io.EOF:
		// Read can return (0, nil) only for an empty buffer; ours is not.
		return nil, newError(CodeMalformed, nil, "the status list's gzip stream is damaged")
	}
	if br.Len() != 0 {
		return nil, newError(CodeMalformed, nil, "data follows the status list's gzip stream")
	}
	return &StatusList{ID: id, Size: size, bits: bits}, nil
}

// StatusListPayload is the signed form of a status list (the payload of
// GET /v1/status-lists/{id} and of the lists in the trust bundle).
// IssuedAt and ValidUntil bound its freshness: a verifier holding a list
// past ValidUntil must answer "unknown" for certificates it covers.
type StatusListPayload struct {
	ID          string    `json:"id"`
	Purpose     string    `json:"purpose"`        // StatusPurpose
	Size        int       `json:"size"`           // entries
	Bits        int       `json:"bits_per_entry"` // BitsPerEntry
	EncodedList string    `json:"encoded_list"`
	IssuedAt    time.Time `json:"issued_at"`
	ValidUntil  time.Time `json:"valid_until"`
}

// NewStatusListPayload encodes l into a payload issued at issuedAt and valid
// until validUntil (both kept in UTC, whole seconds).
func NewStatusListPayload(l *StatusList, issuedAt, validUntil time.Time) (StatusListPayload, error) {
	enc, err := l.Encode()
	if err != nil {
		return StatusListPayload{}, err
	}
	return StatusListPayload{
		ID: l.ID, Purpose: StatusPurpose, Size: l.Size, Bits: BitsPerEntry, EncodedList: enc,
		IssuedAt: issuedAt.UTC().Truncate(time.Second), ValidUntil: validUntil.UTC().Truncate(time.Second),
	}, nil
}

// check validates a payload and decodes its list.
func (p *StatusListPayload) check() (*StatusList, error) {
	switch {
	case p.ID == "" || len(p.ID) > maxStatusListID || !printable(p.ID, false):
		return nil, newError(CodeInconsistent, nil, "a status list id is 1 to %d printable characters", maxStatusListID)
	case p.Purpose != StatusPurpose:
		return nil, newError(CodeInconsistent, nil, "a status list's purpose is %q", StatusPurpose)
	case p.Bits != BitsPerEntry:
		return nil, newError(CodeInconsistent, nil, "a status list has %d bits per entry", BitsPerEntry)
	case p.IssuedAt.IsZero() || !p.ValidUntil.After(p.IssuedAt):
		return nil, newError(CodeInconsistent, nil, "a status list is valid until after it is issued")
	}
	return DecodeStatusList(p.ID, p.EncodedList, p.Size)
}

// SignStatusList signs p: a compact JWS (alg "SM2", kid s.KeyID(), typ
// StatusListTyp) over json.Marshal(p) with times in UTC, whole seconds. It
// refuses a payload whose list does not decode at its size, whose purpose or
// bits are not StatusPurpose and BitsPerEntry, or whose validity is empty.
func SignStatusList(s signing.Signer, p StatusListPayload) (string, error) {
	p.IssuedAt = p.IssuedAt.UTC().Truncate(time.Second)
	p.ValidUntil = p.ValidUntil.UTC().Truncate(time.Second)
	if _, err := p.check(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return "", newError(CodeMalformed, err, "the status list does not marshal")
	}
	return signing.SignJWS(s, payload, map[string]any{"typ": StatusListTyp})
}

// VerifyStatusList verifies a JWS made by SignStatusList and returns its
// payload and decoded list. Signature errors are signing's, wrapped, as for
// VerifyDocument; otherwise an *Error: CodeWrongType, CodeMalformed (a
// payload that is not exactly a StatusListPayload), CodeInconsistent, or the
// errors of DecodeStatusList. It does not look at the clock: the caller
// compares ValidUntil with now, and checks that kid is a key allowed to sign
// status lists.
func VerifyStatusList(jws string, lookup func(kid string) (*signing.PublicKey, error)) (StatusListPayload, *StatusList, error) {
	payload, hdr, err := signing.VerifyJWS(jws, lookup)
	if err != nil {
		return StatusListPayload{}, nil, fmt.Errorf("issuer: status list JWS: %w", err)
	}
	if hdr.Typ != StatusListTyp {
		return StatusListPayload{}, nil, newError(CodeWrongType, nil, "the JWS is not a status list (typ %q)", shorten(hdr.Typ))
	}
	var p StatusListPayload
	if err := decodeStrict(payload, &p); err != nil {
		return StatusListPayload{}, nil, newError(CodeMalformed, err, "the status list payload does not parse")
	}
	l, err := p.check()
	if err != nil {
		return StatusListPayload{}, nil, err
	}
	return p, l, nil
}

// ShuffledIndex maps the n-th allocation in a status list of size entries
// (n = 0, 1, 2, … from a per-list counter) to the entry index to use, by a
// keyed pseudo-random permutation of [0, size): a 4-round Feistel network
// with HMAC-SHA256 rounds over the smallest even power of two ≥ size, cycle-
// walked into range. Distinct n give distinct indexes, so a counter is all
// the storage needs; neighbouring certificates land on unrelated entries, so
// an entry's position says nothing about when its certificate was issued.
// key (at least 16 bytes, random, one per list, kept private) makes the
// order unguessable.
func ShuffledIndex(key []byte, n, size int) (int, error) {
	switch {
	case len(key) < 16:
		return 0, newError(CodeInvalidArgument, nil, "the shuffle key must be at least 16 bytes")
	case size < 1 || size > MaxStatusListSize:
		return 0, newError(CodeInvalidArgument, nil, "the list size must be 1 to %d", MaxStatusListSize)
	case n < 0 || n >= size:
		return 0, newError(CodeInvalidArgument, nil, "allocation %d is outside [0, %d)", n, size)
	}
	bits := 2
	for 1<<bits < size {
		bits++
	}
	if bits%2 == 1 {
		bits++
	}
	half := uint(bits / 2)
	mask := uint32(1)<<half - 1
	mac := hmac.New(sha256.New, key)
	var in [5]byte
	var sum [sha256.Size]byte
	x := uint32(n)
	for {
		l, r := x>>half, x&mask
		for round := byte(0); round < 4; round++ {
			in[0] = round
			binary.BigEndian.PutUint32(in[1:], r)
			mac.Reset()
			mac.Write(in[:])
			f := binary.BigEndian.Uint32(mac.Sum(sum[:0])) & mask
			l, r = r, l^f
		}
		x = l<<half | r
		if int(x) < size {
			return int(x), nil
		}
	}
}
