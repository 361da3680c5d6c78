package signing

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func masterKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	mk := masterKey(t)
	key := newKey(t)
	for _, pt := range [][]byte{key.Bytes(), {}, bytes.Repeat([]byte{7}, 1000)} {
		sealed, err := Seal(mk, "kid-1", pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(pt)+SealOverhead || sealed[0] != 1 {
			t.Fatalf("sealed form: len %d (plaintext %d), version %d", len(sealed), len(pt), sealed[0])
		}
		if len(pt) > 0 && bytes.Contains(sealed, pt) {
			t.Fatal("sealed data contains the plaintext")
		}
		back, err := Open(mk, "kid-1", sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, pt) {
			t.Fatalf("Open = %x, want %x", back, pt)
		}
	}
	// Random nonces: sealing twice differs.
	a, _ := Seal(mk, "k", []byte("same"))
	b, _ := Seal(mk, "k", []byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
	// The sealed scalar restores the same key.
	sealed, _ := Seal(mk, "anchor-2026", key.Bytes())
	d, err := Open(mk, "anchor-2026", sealed)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := PrivateKeyFromBytes(d)
	if err != nil || !restored.Equal(key) {
		t.Fatalf("restored key differs: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	mk := masterKey(t)
	sealed, err := Seal(mk, "kid-1", []byte("thirty-two bytes of private key!"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(mk, "kid-2", sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong kid: err = %v, want ErrOpen", err)
	}
	if _, err := Open(mk, "", sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("empty kid: err = %v, want ErrOpen", err)
	}
	if _, err := Open(masterKey(t), "kid-1", sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("wrong master key: err = %v, want ErrOpen", err)
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), sealed...)
			bad[i] ^= bit
			if _, err := Open(mk, "kid-1", bad); err == nil {
				t.Fatalf("Open accepted byte %d flipped by %#x", i, bit)
			}
		}
	}
	for _, n := range []int{0, 1, SealOverhead - 1} {
		if _, err := Open(mk, "kid-1", sealed[:n]); !errors.Is(err, ErrMalformed) {
			t.Errorf("truncated to %d: err = %v, want ErrMalformed", n, err)
		}
	}
	if _, err := Open(mk, "kid-1", sealed[:len(sealed)-1]); !errors.Is(err, ErrOpen) {
		t.Errorf("tag cut short: err = %v, want ErrOpen", err)
	}
	v2 := append([]byte{2}, sealed[1:]...)
	if _, err := Open(mk, "kid-1", v2); !errors.Is(err, ErrMalformed) {
		t.Errorf("version 2: err = %v, want ErrMalformed", err)
	}
	for _, n := range []int{0, 15, 17, 32} {
		if _, err := Seal(make([]byte, n), "k", nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("Seal with %d-byte master key: err = %v", n, err)
		}
		if _, err := Open(make([]byte, n), "k", sealed); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open with %d-byte master key: err = %v", n, err)
		}
	}
}
