// Package trustsync keeps a verifier's trust data fresh: it fetches the
// trust bundle (GET /v1/trust) and the status lists it references
// (GET /v1/status-lists/{id}) over HTTP into one place on disk, and on a
// re-run fetches only what changed. It is the network half that package
// verifier leaves out: `suishen trust fetch` and `suishen verify` use it;
// a browser page plugs its own fetch and cache into verifier.ListSource.
//
// # Layout
//
// For a bundle saved at PATH (e.g. trust.jws) the lists go into the
// directory PATH without its ".jws" extension plus ".lists" (trust.lists),
// one file per list and digest: ID.SM3.jws, where SM3 is the digest the
// bundle pins (trust.ListDigest of the file's content). A list's files
// are thus immutable: a new version is a new file, written before the
// bundle that references it, and the files no bundle references any more
// are removed after the bundle is saved — a verifier reading the bundle
// and then its lists never sees a bundle without its lists.
//
// # Incremental
//
// The bundle is asked for with If-None-Match (the server's ETag is the
// first 16 bytes of its SM3, hex), so an unchanged bundle costs a 304. A
// list whose file for the pinned digest is already there is not asked for
// at all; one that is missing is fetched by digest
// (GET /v1/status-lists/{id}?sm3=…), which stays valid for verifiers whose
// bundle is a little older than the server's newest.
package trustsync

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

// MaxListSize bounds a fetched status list: a list of issuer.MaxStatusListSize
// entries that does not compress at all is about 5.6 MB of base64.
const MaxListSize = 8 << 20

// Dir is where a bundle and its lists are kept.
type Dir struct {
	Bundle string // the bundle's compact JWS, one line
	Lists  string // the directory of its lists
}

// DirFor is the layout for a bundle saved at path.
func DirFor(path string) Dir {
	return Dir{Bundle: path, Lists: strings.TrimSuffix(path, ".jws") + ".lists"}
}

// ReadBundle reads the saved bundle (at most signing.MaxJWSSize bytes).
func (d Dir) ReadBundle() (string, error) {
	f, err := os.Open(d.Bundle)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, signing.MaxJWSSize+2))
	if err != nil {
		return "", err
	}
	if len(b) > signing.MaxJWSSize+1 {
		return "", errors.New("larger than a trust bundle can be")
	}
	return strings.TrimSpace(string(b)), nil
}

// listFile is the file of ref's list, or "" for an id or digest that
// cannot name a file safely (such a list is never read nor written).
func (d Dir) listFile(ref trust.StatusListRef) string {
	if !safeID(ref.ID) || len(ref.SM3) != 64 || !isHex(ref.SM3) {
		return ""
	}
	return filepath.Join(d.Lists, ref.ID+"."+strings.ToLower(ref.SM3)+".jws")
}

// safeID reports whether a list id can be part of a file name: 1 to 128
// of [A-Za-z0-9_-] (no dot, no separator, nothing hidden).
func safeID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// StatusList reads ref's list from the directory: Dir is a
// verifier.ListSource that never touches the network.
func (d Dir) StatusList(ref trust.StatusListRef) (string, error) {
	name := d.listFile(ref)
	if name == "" {
		return "", fmt.Errorf("trustsync: status list id %q cannot be kept in a file", ref.ID)
	}
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("trustsync: status list %s is not in %s: run 'suishen trust fetch'", ref.ID, d.Lists)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxListSize+1))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

var _ verifier.ListSource = Dir{}

// Client fetches from one Suishen server.
type Client struct {
	Server string       // base URL, e.g. https://suishen.example.gov.cn
	HTTP   *http.Client // nil: http.DefaultClient
	// Now is the clock the bundle's expiry is judged by; nil: time.Now.
	Now func() time.Time
	// Timeout bounds each request; 0: 60 s.
	Timeout time.Duration
	// MaxBundleSize bounds the bundle's response; 0: signing.MaxJWSSize.
	MaxBundleSize int64
	// BundlePath and ListsPath are where the bundle and the lists are
	// under Server; "": /v1/trust and /v1/status-lists/ (a node relays its
	// peer regions' data under /v1/regions/{code}/trust and
	// /v1/regions/{code}/status-lists/).
	BundlePath, ListsPath string
}

// ErrBundleRejected: the fetched bundle does not verify against the pinned
// anchor (nothing was saved).
var ErrBundleRejected = errors.New("the bundle does not verify against the pinned anchor")

func (c Client) get(ctx context.Context, path string, etag string, limit int64) (body []byte, status int, err error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.Server, "/")+path, nil)
	if err != nil {
		return nil, 0, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	body, err = io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, res.StatusCode, err
	}
	if int64(len(body)) > limit {
		return nil, res.StatusCode, fmt.Errorf("response larger than %d bytes", limit)
	}
	return body, res.StatusCode, nil
}

// BundleETag is the ETag the server gives bundle.
func BundleETag(bundle string) string {
	sum := signing.SM3([]byte(bundle))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// Bundle fetches the bundle; with have (the bundle held) it asks with
// If-None-Match and returns have, false when the server's is the same.
func (c Client) Bundle(ctx context.Context, have string) (jws string, changed bool, err error) {
	etag := ""
	if have != "" {
		etag = BundleETag(have)
	}
	limit, path := c.MaxBundleSize, c.BundlePath
	if limit <= 0 {
		limit = signing.MaxJWSSize
	}
	if path == "" {
		path = "/v1/trust"
	}
	body, status, err := c.get(ctx, path, etag, limit)
	switch {
	case err != nil:
		return "", false, fmt.Errorf("fetch trust bundle: %w", err)
	case status == http.StatusNotModified && have != "":
		return have, false, nil
	case status != http.StatusOK:
		return "", false, fmt.Errorf("fetch trust bundle: HTTP %d", status)
	}
	return strings.TrimSpace(string(body)), true, nil
}

// List fetches ref's list by the digest the bundle pins. It checks the
// digest (the verifier checks it again, with the signature).
func (c Client) List(ctx context.Context, ref trust.StatusListRef) (string, error) {
	if !safeID(ref.ID) {
		return "", fmt.Errorf("status list id %q is not fetchable", ref.ID)
	}
	lists := c.ListsPath
	if lists == "" {
		lists = "/v1/status-lists/"
	}
	body, status, err := c.get(ctx, lists+url.PathEscape(ref.ID)+"?sm3="+url.QueryEscape(ref.SM3), "", MaxListSize)
	switch {
	case err != nil:
		return "", fmt.Errorf("fetch status list %s: %w", ref.ID, err)
	case status != http.StatusOK:
		return "", fmt.Errorf("fetch status list %s: HTTP %d", ref.ID, status)
	}
	jws := strings.TrimSpace(string(body))
	if trust.ListDigest(jws) != strings.ToLower(ref.SM3) {
		return "", fmt.Errorf("fetch status list %s: the server's list does not match the bundle's digest", ref.ID)
	}
	return jws, nil
}

// Source is a verifier.ListSource that fetches from the server on every
// call (a verifier keeps what it got).
func (c Client) Source(ctx context.Context) verifier.ListSource {
	return verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) { return c.List(ctx, ref) })
}

// Report says what Sync did.
type Report struct {
	Bundle        trust.Bundle
	BundleChanged bool
	Lists         int   // lists the bundle references and Sync was asked to keep
	Fetched       int   // lists downloaded
	FetchedBytes  int64 // their size
	Kept          int   // lists already held
	Failed        []string
	Removed       int // files of lists no bundle references any more
}

// Want selects the lists to keep by kind; nil keeps all.
type Want func(ref trust.StatusListRef) bool

// Sync brings d up to date with the server: the bundle (verified against
// pinned before anything is written) and the lists want selects. Lists that
// cannot be fetched are listed in Report.Failed (a verifier answers
// "unknown" for what they cover) and do not stop the bundle from being
// saved.
func Sync(ctx context.Context, c Client, d Dir, pinned *signing.PublicKey, want Want) (Report, error) {
	var rep Report
	have, _ := d.ReadBundle()
	jws, changed, err := c.Bundle(ctx, have)
	if err != nil {
		return rep, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	b, err := trust.Verify(jws, pinned, now())
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrBundleRejected, err)
	}
	rep.Bundle, rep.BundleChanged = b, changed
	if err := os.MkdirAll(d.Lists, 0o755); err != nil {
		return rep, err
	}
	keep := map[string]bool{}
	for _, ref := range b.StatusLists {
		if want != nil && !want(ref) {
			continue
		}
		name := d.listFile(ref)
		if name == "" {
			rep.Failed = append(rep.Failed, ref.ID)
			continue
		}
		rep.Lists++
		keep[filepath.Base(name)] = true
		if held, err := d.StatusList(ref); err == nil && trust.ListDigest(held) == strings.ToLower(ref.SM3) {
			rep.Kept++
			continue
		}
		list, err := c.List(ctx, ref)
		if err == nil {
			err = writeFileAtomic(name, []byte(list+"\n"))
		}
		if err != nil {
			rep.Failed = append(rep.Failed, ref.ID)
			continue
		}
		rep.Fetched++
		rep.FetchedBytes += int64(len(list))
	}
	if changed || have == "" {
		if err := writeFileAtomic(d.Bundle, []byte(jws+"\n")); err != nil {
			return rep, err
		}
	}
	// Only now that the bundle that references them is saved: drop the
	// files of lists it no longer references.
	entries, err := os.ReadDir(d.Lists)
	if err != nil {
		return rep, err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".jws") && !keep[e.Name()] {
			if os.Remove(filepath.Join(d.Lists, e.Name())) == nil {
				rep.Removed++
			}
		}
	}
	return rep, nil
}

// writeFileAtomic writes via a temporary file and a rename, so a reader
// never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Save keeps list jws for ref in the directory, if it is the list the
// reference pins.
func (d Dir) Save(ref trust.StatusListRef, jws string) error {
	name := d.listFile(ref)
	if name == "" || trust.ListDigest(jws) != strings.ToLower(ref.SM3) {
		return errors.New("trustsync: not the list the reference pins")
	}
	if err := os.MkdirAll(d.Lists, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(name, []byte(jws+"\n"))
}

// Peer regions (区域互认, see package trust): the bundles of the peers a
// home bundle endorses are kept beside it, in the directory named like the
// bundle without ".jws" plus ".peers" (trust.jws → trust.peers/), one
// bundle CODE.jws per peer region with its lists in CODE.lists/.

// PeersDir is the directory of the peer bundles kept with d's bundle.
func (d Dir) PeersDir() string { return strings.TrimSuffix(d.Bundle, ".jws") + ".peers" }

// Peer is the layout of peer region code's bundle and lists ("" fields for
// a code that is not a region code: nothing is read or written then).
func (d Dir) Peer(code string) Dir {
	if !trust.ValidRegionCode(code) {
		return Dir{}
	}
	return Dir{Bundle: filepath.Join(d.PeersDir(), code+".jws"), Lists: filepath.Join(d.PeersDir(), code+".lists")}
}

// MaxPeerBundleSize bounds a peer region's bundle.
const MaxPeerBundleSize = 256 << 10

// PeerReport says what SyncPeers did for one peer region.
type PeerReport struct {
	Code   string
	Report Report
	From   string // the URL base the bundle came from
	Err    error
}

// PeerBundles reads the held bundles of the peers home endorses, for
// verifier.Federate (a peer without a held bundle is left out: its codes
// and certificates are unknown).
func (d Dir) PeerBundles(home trust.Bundle) []verifier.PeerBundle {
	var out []verifier.PeerBundle
	for _, p := range home.Peers {
		pd := d.Peer(p.Code)
		if pd.Bundle == "" {
			continue
		}
		jws, err := pd.ReadBundle()
		if err != nil {
			continue
		}
		out = append(out, verifier.PeerBundle{Code: p.Code, JWS: jws, Lists: pd})
	}
	return out
}

// RelayClient is c for peer region code's data as the home node relays it
// (GET /v1/regions/{code}/trust and …/status-lists/{id}).
func (c Client) RelayClient(code string) Client {
	c.Server = strings.TrimRight(c.Server, "/") + "/v1/regions/" + code
	c.BundlePath, c.ListsPath, c.MaxBundleSize = "/trust", "/status-lists/", MaxPeerBundleSize
	return c
}

// SyncPeers brings the bundles of the peers home endorses up to date
// beside d, each verified against the anchor home endorses for it (never
// against anything a peer bundle says: a peer's own peers are not
// followed). Each is asked of the home node's relay (c) first, then of the
// peer's own trust_url. The directories of peers home no longer endorses
// are removed.
func SyncPeers(ctx context.Context, c Client, d Dir, home trust.Bundle, want Want) []PeerReport {
	var out []PeerReport
	keep := map[string]bool{}
	for i, p := range home.Peers {
		if i >= trust.MaxPeers {
			break
		}
		rep := PeerReport{Code: p.Code}
		if err := trust.CheckPeer(p); err != nil {
			rep.Err = err
			out = append(out, rep)
			continue
		}
		keep[p.Code+".jws"], keep[p.Code+".lists"] = true, true
		anchor, _ := p.AnchorKey()
		pd := d.Peer(p.Code)
		if err := os.MkdirAll(d.PeersDir(), 0o755); err != nil {
			rep.Err = err
			out = append(out, rep)
			continue
		}
		relay := c.RelayClient(p.Code)
		rep.From = relay.Server
		rep.Report, rep.Err = Sync(ctx, relay, pd, anchor, want)
		if rep.Err != nil {
			origin := c
			origin.Server = strings.TrimSuffix(strings.TrimRight(p.TrustURL, "/"), "/v1/trust")
			origin.BundlePath, origin.ListsPath, origin.MaxBundleSize = "", "", MaxPeerBundleSize
			if r2, err2 := Sync(ctx, origin, pd, anchor, want); err2 == nil {
				rep.Report, rep.Err, rep.From = r2, nil, origin.Server
			}
		}
		out = append(out, rep)
	}
	// Peers no longer endorsed: their data goes.
	if entries, err := os.ReadDir(d.PeersDir()); err == nil {
		for _, e := range entries {
			if !keep[e.Name()] {
				_ = os.RemoveAll(filepath.Join(d.PeersDir(), e.Name()))
			}
		}
	}
	return out
}
