package codeservice

import (
	"context"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/store"
)

// CopyClaims are what an annotated copy (加注件) binds besides its
// certificate: whom it is for, why, until when, and the masked name shown.
type CopyClaims struct {
	DisplayName                          string // masked (ident.MaskName)
	RecipientOrg, RecipientUSCC, Purpose string
	ExpiresAt                            time.Time
}

// SignCopy signs the copy code (kind copy) of an annotated copy of cert:
// the holder's pseudonymous subject, the certificate's id (its version
// included) and status entry, the recipient, the purpose and the expiry. It
// stores nothing and returns the text and the kid of the code key that
// signed it: the caller stores the copy in a transaction that confirms the
// key (Keys.Confirm), and signs again if that fails with
// keyring.ErrKeyNotActive.
func (s *Service) SignCopy(ctx context.Context, cert store.Certificate, cc CopyClaims) (text, kid string, issuedAt time.Time, err error) {
	sg, err := s.signer(ctx)
	if err != nil {
		return "", "", time.Time{}, err
	}
	ref, err := s.holderRef(ctx, cert.HolderSubject, cert.HolderKind)
	if err != nil {
		return "", "", time.Time{}, err
	}
	subj, err := codes.NewSubject(s.SubjectKey, ref, nil)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	c := codes.Claims{Kind: codes.Copy, IssuedAt: now, ExpiresAt: cc.ExpiresAt.UTC().Truncate(time.Second), Subject: subj,
		DisplayName: cc.DisplayName, CertificateID: cert.ID, StatusList: cert.StatusList, StatusIndex: uint32(cert.StatusIndex),
		RecipientOrg: cc.RecipientOrg, RecipientUSCC: cc.RecipientUSCC, Purpose: cc.Purpose}
	text, err = codes.Issue(sg, c)
	return text, sg.KeyID(), now, err
}
