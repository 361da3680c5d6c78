package issuance

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
)

// StatusListLifetime is how long a signed status list may be relied upon;
// the trust bundle carries fresh ones long before.
const StatusListLifetime = 48 * time.Hour

// statusCache keeps signed lists until their list changes.
type statusCache struct {
	mu    sync.Mutex
	lists map[string]signedList
}

type signedList struct {
	updated  time.Time
	signedAt time.Time
	jws      string
}

// StatusListJWS returns the signed status list id: the anchor's signature
// over the list's bits, re-made when an entry changed or the signature is
// older than a tenth of its lifetime.
func (s *Service) StatusListJWS(ctx context.Context, id string) (string, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return "", err
	}
	for _, in := range infos {
		if in.ID == id {
			return s.signedList(ctx, in)
		}
	}
	return "", store.ErrNotFound
}

func (s *Service) signedList(ctx context.Context, in store.StatusListInfo) (string, error) {
	now := s.now()
	s.cache.mu.Lock()
	c, ok := s.cache.lists[in.ID]
	s.cache.mu.Unlock()
	if ok && c.updated.Equal(in.UpdatedAt) && now.Sub(c.signedAt) < StatusListLifetime/10 {
		return c.jws, nil
	}
	entries, err := s.Store.StatusEntries(ctx, in.ID)
	if err != nil {
		return "", err
	}
	l := issuer.NewStatusList(in.ID, ListSize)
	for _, e := range entries {
		if err := l.Set(int(e.Index), issuer.StatusEntry(issuer.Status(e.Status))); err != nil {
			return "", err
		}
	}
	p, err := issuer.NewStatusListPayload(l, now, now.Add(StatusListLifetime))
	if err != nil {
		return "", err
	}
	anchor, err := s.Keys.Signer(ctx, store.RoleAnchor, "")
	if err != nil {
		return "", err
	}
	jws, err := issuer.SignStatusList(anchor, p)
	if err != nil {
		return "", err
	}
	s.cache.mu.Lock()
	if s.cache.lists == nil {
		s.cache.lists = map[string]signedList{}
	}
	s.cache.lists[in.ID] = signedList{updated: in.UpdatedAt, signedAt: now, jws: jws}
	s.cache.mu.Unlock()
	return jws, nil
}

// StatusListRefs lists every status list with its signed form inline, for
// the trust bundle. baseURL prefixes each list's URI.
func (s *Service) StatusListRefs(ctx context.Context, baseURL string) ([]trust.StatusListRef, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return nil, err
	}
	refs := make([]trust.StatusListRef, 0, len(infos))
	for _, in := range infos {
		jws, err := s.signedList(ctx, in)
		if err != nil {
			return nil, err
		}
		refs = append(refs, trust.StatusListRef{ID: in.ID, Purpose: issuer.StatusPurpose,
			URI: baseURL + "/v1/status-lists/" + in.ID, Updated: in.UpdatedAt, List: jws})
	}
	return refs, nil
}

// StatusVersion changes whenever any status list changes; the bundle
// publisher re-signs when it does.
func (s *Service) StatusVersion(ctx context.Context) (string, error) {
	infos, err := s.Store.StatusLists(ctx)
	if err != nil {
		return "", err
	}
	var latest time.Time
	for _, in := range infos {
		if in.UpdatedAt.After(latest) {
			latest = in.UpdatedAt
		}
	}
	return latest.Format(time.RFC3339Nano) + "/" + strconv.Itoa(len(infos)), nil
}
