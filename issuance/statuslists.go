package issuance

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// StatusListLifetime is how long a signed status list may be relied upon;
// lists are re-signed long before (ResignAge).
const StatusListLifetime = 48 * time.Hour

// ResignAge is the age at which a signed list is signed again although it
// did not change: verifiers holding a bundle fetched up to
// StatusListLifetime − ResignAge ago still find its lists valid. Each list
// is re-signed a little earlier, by up to half of ResignAge depending on
// its id (resignAge), so that lists signed together — after a bulk load,
// a migration, an anchor change — do not all fall due in the same bundle.
const ResignAge = StatusListLifetime / 10

// resignAge is list id's own re-signing age, in (ResignAge/2, ResignAge].
func resignAge(id string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(id))
	return ResignAge - time.Duration(h.Sum32()%1024)*(ResignAge/2048)
}

// ListKind is the partition (trust.List…) of the status list named id.
func ListKind(id string) string {
	switch {
	case strings.HasPrefix(id, "c"):
		return trust.ListCertificates
	case strings.HasPrefix(id, "o"):
		return trust.ListOfflineCodes
	case strings.HasPrefix(id, "e"):
		return trust.ListEnterpriseCodes
	case strings.HasPrefix(id, "v"):
		return trust.ListVenueCodes
	case strings.HasPrefix(id, "a"):
		return trust.ListCopies
	}
	return "other"
}

// StaleList reports why list in must be signed (again) before it is
// published, or "" when its stored signed form is current: never signed,
// an entry changed since, older than ResignAge, or signed by another key
// than the current anchor (anchorKID).
func StaleList(in store.StatusListInfo, anchorKID string, now time.Time) string {
	switch {
	case in.Version == 0 || in.SM3 == "":
		return "never signed"
	case in.UpdatedAt.After(in.SignedFor):
		return "changed"
	case now.Sub(in.SignedAt) >= resignAge(in.ID) || now.Before(in.SignedAt.Add(-time.Minute)):
		return "aged"
	case in.KeyID != anchorKID:
		return "anchor changed"
	}
	return ""
}

// SignedStatusList returns status list id's current signed form, signing
// it first when it is stale (StaleList). Every node serves and pins the
// same stored bytes. store.ErrNotFound for no such list.
func (s *Service) SignedStatusList(ctx context.Context, id string) (store.SignedStatusList, error) {
	l, err := s.Store.GetSignedStatusList(ctx, id)
	if err != nil {
		return l, err
	}
	anchor, err := s.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return l, err
	}
	in := store.StatusListInfo{ID: l.ID, UpdatedAt: l.UpdatedAt, Version: l.Version, SM3: l.SM3, KeyID: l.KeyID,
		SignedAt: l.SignedAt, SignedFor: l.SignedFor}
	if StaleList(in, anchor.KeyID(), s.now()) == "" {
		return l, nil
	}
	if _, err := s.ensureSigned(ctx, in, anchor); err != nil {
		return l, err
	}
	return s.Store.GetSignedStatusList(ctx, id)
}

func (s *Service) listInfo(ctx context.Context, id string) (store.StatusListInfo, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return store.StatusListInfo{}, err
	}
	for _, in := range infos {
		if in.ID == id {
			return in, nil
		}
	}
	return store.StatusListInfo{}, store.ErrNotFound
}

// ensureSigned signs list in when it is stale and stores the result as
// the next version; if another node stored a version first, theirs is
// used. It returns the list's info as stored afterwards.
func (s *Service) ensureSigned(ctx context.Context, in store.StatusListInfo, anchor signing.Signer) (store.StatusListInfo, error) {
	now := s.now()
	if StaleList(in, anchor.KeyID(), now) == "" {
		return in, nil
	}
	// Fail closed: never sign with an anchor compromised on another node.
	// And judge again with the confirmed anchor: a node whose view of the
	// anchor was stale (rotated on another node) takes a list already
	// signed by the new anchor for "anchor changed"; signing it again
	// would make the form that bundles just pinned unfetchable
	// (status_list_missing) for no change at all.
	anchor, err := s.Keys.ConfirmedSigner(ctx, store.RoleAnchor, "")
	if err != nil {
		return in, err
	}
	if StaleList(in, anchor.KeyID(), now) == "" {
		return in, nil
	}
	entries, err := s.Store.StatusEntries(ctx, in.ID)
	if err != nil {
		return in, err
	}
	l := issuer.NewStatusList(in.ID, issuer.ListEntriesOf(in.ID))
	for _, e := range entries {
		if err := l.Set(int(e.Index), issuer.StatusEntry(issuer.Status(e.Status))); err != nil {
			return in, err
		}
	}
	p, err := issuer.NewStatusListPayload(l, now, now.Add(StatusListLifetime))
	if err != nil {
		return in, err
	}
	jws, err := issuer.SignStatusList(anchor, p)
	if err != nil {
		return in, err
	}
	signed := store.SignedStatusList{ID: in.ID, Version: in.Version + 1, JWS: jws, SM3: trust.ListDigest(jws),
		KeyID: anchor.KeyID(), SignedAt: now.UTC().Truncate(time.Microsecond), SignedFor: in.UpdatedAt}
	switch err := s.Store.PutSignedStatusList(ctx, signed); {
	case errors.Is(err, store.ErrConflict):
		// Another node signed it meanwhile: publish theirs.
		return s.listInfo(ctx, in.ID)
	case err != nil:
		return in, err
	}
	in.Version, in.SM3, in.KeyID, in.SignedAt, in.SignedFor = signed.Version, signed.SM3, signed.KeyID, signed.SignedAt, signed.SignedFor
	return in, nil
}

// MaxAgedResigns bounds how many lists one bundle build re-signs only
// because they aged: their signed form is still valid for days, so the rest
// wait for the next build rather than hold up this one (a list takes tens of
// milliseconds to read and sign; after a bulk load, all of them fall due
// within hours of one another). Lists that changed, were never signed or
// were signed by another anchor are always signed at once.
const MaxAgedResigns = 8

// StatusListRefs references every status list for the trust bundle,
// signing the stale ones first (see MaxAgedResigns). baseURL prefixes each
// list's URL.
func (s *Service) StatusListRefs(ctx context.Context, baseURL string) ([]trust.StatusListRef, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return nil, err
	}
	anchor, err := s.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return nil, err
	}
	refs := make([]trust.StatusListRef, 0, len(infos))
	aged := 0
	now := s.now()
	for _, in := range infos {
		// A list signed by another anchor always goes through ensureSigned,
		// aged or not: it either signs it with this anchor or finds this
		// node's view of the anchor stale (the publisher then rebuilds).
		if StaleList(in, anchor.KeyID(), now) == "aged" && in.KeyID == anchor.KeyID() {
			if aged >= MaxAgedResigns {
				refs = append(refs, trust.StatusListRef{ID: in.ID, Kind: ListKind(in.ID), Version: in.Version, SM3: in.SM3,
					URL: baseURL + "/v1/status-lists/" + in.ID})
				continue
			}
			aged++
		}
		if in, err = s.ensureSigned(ctx, in, anchor); err != nil {
			return nil, err
		}
		refs = append(refs, trust.StatusListRef{ID: in.ID, Kind: ListKind(in.ID), Version: in.Version, SM3: in.SM3,
			URL: baseURL + "/v1/status-lists/" + in.ID})
	}
	return refs, nil
}

// StatusVersion changes whenever any status list changes or is re-signed
// (on any node); the bundle publisher re-signs the bundle when it does.
func (s *Service) StatusVersion(ctx context.Context) (string, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return "", err
	}
	var latest time.Time
	var versions int64
	for _, in := range infos {
		if in.UpdatedAt.After(latest) {
			latest = in.UpdatedAt
		}
		versions += in.Version
	}
	return latest.Format(time.RFC3339Nano) + "/" + strconv.Itoa(len(infos)) + "/" + strconv.FormatInt(versions, 10), nil
}
