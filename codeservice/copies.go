package codeservice

import (
	"context"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
)

// CopyClaims are what an annotated copy (加注件) binds besides its
// certificate: whom it is for, why, until when, and the masked name shown.
type CopyClaims struct {
	DisplayName                          string // masked (ident.MaskName)
	RecipientOrg, RecipientUSCC, Purpose string
	ExpiresAt                            time.Time
	// StatusList and StatusIndex are the copy's own status entry
	// (CopySlot); empty, the code refers to the certificate's entry (how
	// copies were made before they had their own).
	StatusList  string
	StatusIndex int
}

// CopyPartition is the status-slot partition and list-id prefix of
// copies' own entries (lists "a-N", kind trust.ListCopies).
const CopyPartition = "a"

// CopySlot takes a status-list slot for a copy of its own: withdrawing
// the copy sets only it, and the certificate's status changes are copied
// into it (store: ChangeCertificateStatus). A slot taken by a copy that is
// then not stored is simply never used.
func (s *Service) CopySlot(ctx context.Context) (list string, index int, err error) {
	n, err := s.Store.NextStatusSlots(ctx, CopyPartition, 1)
	if err != nil {
		return "", 0, err
	}
	return issuer.ListSlot(s.ShuffleKey, CopyPartition, n)
}

// Placed notes that a copy went into list (see placed): call it after the
// copy is stored.
func (s *Service) Placed(list string) { s.placed(list) }

// SignCopy signs the copy code (kind copy) of an annotated copy of cert:
// the holder's pseudonymous subject, the certificate's id (its version
// included), the copy's own status entry (cc.StatusList; the
// certificate's when empty), the recipient, the purpose and the expiry. It
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
	list, index := cc.StatusList, uint32(cc.StatusIndex)
	if list == "" {
		list, index = cert.StatusList, uint32(cert.StatusIndex)
	}
	c := codes.Claims{Kind: codes.Copy, IssuedAt: now, ExpiresAt: cc.ExpiresAt.UTC().Truncate(time.Second), Subject: subj,
		DisplayName: cc.DisplayName, CertificateID: cert.ID, StatusList: list, StatusIndex: index,
		RecipientOrg: cc.RecipientOrg, RecipientUSCC: cc.RecipientUSCC, Purpose: cc.Purpose}
	text, err = codes.Issue(sg, c)
	return text, sg.KeyID(), now, err
}
