package issuance

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// refreshSeeded gives a seeded catalogue entry stored by an earlier release
// this release's spec, so that what the product knows about its own types
// (such as which fields are sensitive) reaches databases created before.
func (s *Service) refreshSeeded(ctx context.Context, code string, spec []byte) error {
	cur, err := s.Store.GetCertificateType(ctx, code)
	if err != nil {
		return err
	}
	if !cur.Seeded || bytes.Equal(cur.Spec, spec) {
		return nil
	}
	err = s.Store.UpdateSeededCertificateType(ctx, code, spec)
	if errors.Is(err, store.ErrNotFound) {
		return nil // not seeded after all: an administrator's entry stays
	}
	s.types.Delete(code)
	return err
}

// serialKeys caches the scheduled serial key per ShuffleKey (a node has
// one).
var serialKeys sync.Map // string(ShuffleKey) → *issuer.SerialKey

// opaqueSerial is the serial of a new certificate (issuer.OpaqueSerial),
// keyed by a key derived from ShuffleKey — itself derived from the master
// key, so every node computes the same serials.
func (s *Service) opaqueSerial(year int, n int64) (string, error) {
	if k, ok := serialKeys.Load(string(s.ShuffleKey)); ok {
		return k.(*issuer.SerialKey).Serial(year, n)
	}
	if len(s.ShuffleKey) == 0 {
		return "", errors.New("issuance: no ShuffleKey: no identifier without a serial key")
	}
	k, err := issuer.NewSerialKey(signing.DeriveKey(s.ShuffleKey, "suishen/certificate-serial/v1"))
	if err != nil {
		return "", err
	}
	serialKeys.Store(string(s.ShuffleKey), k)
	return k.Serial(year, n)
}
