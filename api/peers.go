package api

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// peerReload is how often a node looks whether the peer regions changed
// (another node fetched a bundle, the admin removed a peer): one cheap query.
const peerReload = 5 * time.Second

// peerSet holds what this node knows of its peer regions (区域互认): the
// registrations and held bundles from the store, and the Federation of the
// current home bundle with them. Verification never fetches from a peer: it
// uses what package regions stored.
type peerSet struct {
	stale atomic.Bool

	mu      sync.Mutex
	checked time.Time // wall clock of the last version check
	version string
	gen     int // bumped by every reload
	loaded  bool
	regions []store.Region
	caches  map[string]*verifier.ListCache // by code: decoded peer lists across federations
	fedKey  string
	fed     *verifier.Federation
}

// invalidate makes the next use reload the peers from the store.
func (p *peerSet) invalidate() { p.stale.Store(true) }

// current returns the registered regions, reloading them when they
// changed; the bool reports whether they were reloaded.
func (p *peerSet) current(ctx context.Context, st store.Store) ([]store.Region, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.currentLocked(ctx, st)
}

func (p *peerSet) currentLocked(ctx context.Context, st store.Store) ([]store.Region, string, error) {
	stale := p.stale.Swap(false)
	if p.loaded && !stale && time.Since(p.checked) < peerReload {
		return p.regions, p.version, nil
	}
	v, err := st.RegionsVersion(ctx)
	if err != nil {
		p.stale.Store(stale)
		return nil, "", err
	}
	p.checked = time.Now()
	if p.loaded && !stale && v == p.version {
		return p.regions, p.version, nil
	}
	var all []store.Region
	after := ""
	for {
		page, err := st.ListRegions(ctx, after, 100)
		if err != nil {
			return nil, "", err
		}
		all = append(all, page...)
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].Code
	}
	p.regions, p.version, p.loaded = all, v, true
	p.gen++
	return all, v, nil
}

// endorsed is what this node's bundle says of its peers: every registered
// region, with its anchor as a JWK.
func endorsed(rs []store.Region) []trust.Peer {
	out := []trust.Peer{}
	for _, r := range rs {
		k, err := signing.ParsePublicKeyPEM([]byte(r.AnchorPEM))
		if err != nil {
			continue
		}
		jwk := signing.NewJWK(k)
		jwk.Kid = signing.Thumbprint(k)
		out = append(out, trust.Peer{Code: r.Code, Name: r.Name, Anchor: jwk, TrustURL: r.TrustURL})
		if len(out) == trust.MaxPeers {
			break
		}
	}
	return out
}

// bundlePeers reads the peers for the bundle being signed, from the store
// itself (the bundle states the registrations as they are).
func (s *Server) bundlePeers(ctx context.Context) ([]trust.Peer, error) {
	var all []store.Region
	after := ""
	for {
		page, err := s.store.ListRegions(ctx, after, 100)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 100 {
			return endorsed(all), nil
		}
		after = page[len(page)-1].Code
	}
}

// regionLists gives a peer verifier its status lists from the store.
type regionLists struct {
	st   store.Store
	code string
}

func (l regionLists) StatusList(ref trust.StatusListRef) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := l.st.GetRegionList(ctx, l.code, ref.ID, ref.SM3)
	if err != nil {
		return "", err
	}
	return got.JWS, nil
}

// peerBundles are the held bundles of the registered regions.
func (p *peerSet) peerBundles(st store.Store, rs []store.Region) []verifier.PeerBundle {
	if p.caches == nil {
		p.caches = map[string]*verifier.ListCache{}
	}
	out := make([]verifier.PeerBundle, 0, len(rs))
	for _, r := range rs {
		if r.BundleJWS == "" {
			continue
		}
		c := p.caches[r.Code]
		if c == nil {
			c = verifier.NewListCache()
			p.caches[r.Code] = c
		}
		out = append(out, verifier.PeerBundle{Code: r.Code, JWS: r.BundleJWS, Lists: regionLists{st: st, code: r.Code}, Cache: c})
	}
	return out
}

// federationNow is the verifier of POST /v1/verify, check-ins, venue scans
// and cases: this node's current bundle with the peer regions' held
// bundles, as an offline verifier holding the same bundles would verify.
func (s *Server) federationNow(ctx context.Context) (*verifier.Federation, error) {
	home, err := s.verifierNow(ctx)
	if err != nil {
		return nil, err
	}
	s.online.mu.Lock()
	etag := s.online.etag
	s.online.mu.Unlock()
	p := s.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, _, err := p.currentLocked(ctx, s.store)
	if err != nil {
		return nil, err
	}
	key := etag + "|" + strconv.Itoa(p.gen)
	if p.fed != nil && p.fedKey == key && p.fed.Home() == home {
		return p.fed, nil
	}
	fed, errs := home.Federate(p.peerBundles(s.store, rs))
	for code, e := range errs {
		s.log.Debug("peer region not usable for verification", "region", code, "err", e.Error())
	}
	p.fed, p.fedKey = fed, key
	return fed, nil
}

// federationAt is federationNow with the clock now (offline uploads).
func (s *Server) federationAt(ctx context.Context, now func() time.Time) (*verifier.Federation, error) {
	home, err := s.verifierAt(ctx, now)
	if err != nil {
		return nil, err
	}
	p := s.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, _, err := p.currentLocked(ctx, s.store)
	if err != nil {
		return nil, err
	}
	fed, _ := home.Federate(p.peerBundles(s.store, rs))
	return fed, nil
}

// peersVersion is the part of the publisher's status version that follows
// the registrations, so that every node re-signs its bundle soon after the
// admin adds or removes a peer (within peerReload plus a second).
func (s *Server) peersVersion(ctx context.Context) (string, error) {
	rs, _, err := s.peers.current(ctx, s.store)
	if err != nil {
		return "", err
	}
	h := sm3.New()
	for _, pe := range endorsed(rs) {
		h.Write([]byte(pe.Code + "\x00" + pe.Name + "\x00" + pe.Anchor.Kid + "\x00" + pe.TrustURL + "\x00"))
	}
	return string(h.Sum(nil)), nil
}
