package codeservice

import (
	"context"
	"errors"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/store"
)

// Use-code redemption errors.
var (
	ErrUnknownUseCode = errors.New("codeservice: no such use code")
	ErrUseCodeSpent   = errors.New("codeservice: the use code was already used or has expired")
	// ErrNotEntitled: the caller may not use the certificate's type; the
	// code is NOT spent and stays usable for the app the holder meant.
	ErrNotEntitled = errors.New("codeservice: the certificate type is not in the caller's use list")
)

// Redeemed is what a use code leads to: the code and its certificate. With
// ErrNotEntitled both are set, so the refusal can be recorded for the
// holder.
type Redeemed struct {
	UseCode     store.UseCode
	Certificate store.Certificate
}

// RedeemUseCode checks the caller's right to a use code's certificate type
// BEFORE it spends the code — the one check for every path that takes a use
// code (POST /v1/use-codes/redeem, use codes given in a case). text is the
// code as the caller sent it (normalised here); caller identifies who spends
// it (an app ID); mayUse says whether the caller may use a type (its use
// list). A refusal (ErrNotEntitled) leaves the code unspent; an unknown
// code gives ErrUnknownUseCode (the caller counts it as a guess); a used or
// expired one ErrUseCodeSpent. Of two racing redemptions exactly one wins.
func (s *Service) RedeemUseCode(ctx context.Context, text, caller string, mayUse func(typeCode string) bool) (Redeemed, error) {
	uc, err := codes.NormalizeUseCode(text)
	if err != nil {
		return Redeemed{}, ErrUnknownUseCode
	}
	hash := UseCodeHash(uc)
	now := s.now().UTC().Truncate(time.Microsecond)
	u, err := CheckUseCode(ctx, s.Store, hash, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Redeemed{}, ErrUnknownUseCode
	case errors.Is(err, store.ErrConflict):
		return Redeemed{}, ErrUseCodeSpent
	case err != nil:
		return Redeemed{}, err
	}
	cert, err := s.Store.GetCertificate(ctx, u.CertificateID)
	if err != nil {
		return Redeemed{}, err
	}
	if !mayUse(cert.TypeCode) {
		return Redeemed{UseCode: u, Certificate: cert}, ErrNotEntitled
	}
	used, err := s.Store.RedeemUseCode(ctx, hash, caller, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Redeemed{}, ErrUnknownUseCode
	case errors.Is(err, store.ErrConflict):
		return Redeemed{}, ErrUseCodeSpent
	case err != nil:
		return Redeemed{}, err
	}
	return Redeemed{UseCode: used, Certificate: cert}, nil
}

// CheckUseCode looks a use code up without spending it: store.ErrNotFound
// for an unknown code, store.ErrConflict for one used or expired at now.
// Every path that accepts a use code checks it here, then checks its own
// right to the certificate the code is for, and only then spends it with
// RedeemUseCode: a use code refused to one caller stays usable for the
// caller the holder meant.
func CheckUseCode(ctx context.Context, q store.Queries, hash []byte, now time.Time) (store.UseCode, error) {
	u, err := q.GetUseCode(ctx, hash)
	if err != nil {
		return store.UseCode{}, err
	}
	if u.UsedAt != nil || !now.Before(u.ExpiresAt) {
		return store.UseCode{}, store.ErrConflict
	}
	return u, nil
}
