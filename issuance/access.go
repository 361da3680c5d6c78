package issuance

import (
	"bytes"
	"context"
	"errors"

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

// serialKey keys the permutation of new certificates' serials
// (issuer.OpaqueSerial); it is derived from ShuffleKey, itself derived from
// the master key, so every node computes the same serials.
func (s *Service) serialKey() []byte {
	if len(s.ShuffleKey) == 0 {
		return nil // OpaqueSerial refuses: no identifier without a key
	}
	return signing.DeriveKey(s.ShuffleKey, "suishen/certificate-serial/v1")
}
