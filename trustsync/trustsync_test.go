package trustsync

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trust"
)

type fakeServer struct {
	bundle      string
	lists       map[string]string // id → JWS served for it
	bundleGets  atomic.Int32
	listGets    atomic.Int32
	notModified atomic.Int32
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/trust":
		f.bundleGets.Add(1)
		etag := BundleETag(f.bundle)
		if r.Header.Get("If-None-Match") == etag {
			f.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write([]byte(f.bundle))
	case strings.HasPrefix(r.URL.Path, "/v1/status-lists/"):
		f.listGets.Add(1)
		jws, ok := f.lists[strings.TrimPrefix(r.URL.Path, "/v1/status-lists/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(jws))
	default:
		http.NotFound(w, r)
	}
}

func signer(t *testing.T) signing.Signer {
	t.Helper()
	k, err := signing.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return signing.NewSoftwareSigner(signing.Thumbprint(k.Public()), k)
}

func signedList(t *testing.T, anchor signing.Signer, id string, revoked int) string {
	t.Helper()
	l := issuer.NewStatusList(id, issuer.MinStatusListSize)
	if err := l.Set(revoked, issuer.EntryRevoked); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p, err := issuer.NewStatusListPayload(l, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := issuer.SignStatusList(anchor, p)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func bundleOf(t *testing.T, anchor signing.Signer, lists map[string]string, extra ...trust.StatusListRef) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	k := trust.Key{JWK: signing.NewJWK(anchor.Public()), Role: trust.RoleAnchor, Status: trust.StatusActive, NotBefore: now}
	k.Kid = anchor.KeyID()
	b := trust.Bundle{Issuer: "http://test", IssuedAt: now, NextUpdate: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour),
		Keys: []trust.Key{k}}
	for id, jws := range lists {
		b.StatusLists = append(b.StatusLists, trust.StatusListRef{ID: id, Kind: trust.ListOfflineCodes, Version: 1,
			SM3: trust.ListDigest(jws), URL: "http://test/v1/status-lists/" + id})
	}
	b.StatusLists = append(b.StatusLists, extra...)
	jws, err := trust.Sign(anchor, b)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// TestSyncIncremental: a first sync fetches everything, a second nothing
// but a 304, a change only the changed list; files of lists no longer
// referenced go.
func TestSyncIncremental(t *testing.T) {
	anchor := signer(t)
	lists := map[string]string{"o-0": signedList(t, anchor, "o-0", 1), "o-1": signedList(t, anchor, "o-1", 2)}
	f := &fakeServer{bundle: bundleOf(t, anchor, lists), lists: lists}
	srv := httptest.NewServer(f)
	defer srv.Close()
	d := DirFor(filepath.Join(t.TempDir(), "trust.jws"))
	c := Client{Server: srv.URL}
	ctx := context.Background()

	rep, err := Sync(ctx, c, d, anchor.Public(), nil)
	if err != nil || rep.Fetched != 2 || !rep.BundleChanged {
		t.Fatalf("first: %+v %v", rep, err)
	}
	rep, err = Sync(ctx, c, d, anchor.Public(), nil)
	if err != nil || rep.Fetched != 0 || rep.Kept != 2 || rep.BundleChanged || f.notModified.Load() != 1 {
		t.Fatalf("second: %+v %v", rep, err)
	}
	// One list changes; one disappears.
	next := map[string]string{"o-0": lists["o-0"], "o-1": signedList(t, anchor, "o-1", 3)}
	f.lists, f.bundle = next, bundleOf(t, anchor, map[string]string{"o-1": next["o-1"]})
	gets := f.listGets.Load()
	rep, err = Sync(ctx, c, d, anchor.Public(), nil)
	if err != nil || rep.Fetched != 1 || rep.Removed != 2 || f.listGets.Load() != gets+1 {
		t.Fatalf("after a change: %+v %v", rep, err)
	}
	entries, _ := os.ReadDir(d.Lists)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "o-1."+trust.ListDigest(next["o-1"])) {
		t.Fatalf("files %v", entries)
	}
	// --lists none keeps no list.
	rep, err = Sync(ctx, c, d, anchor.Public(), func(trust.StatusListRef) bool { return false })
	if err != nil || rep.Lists != 0 || rep.Removed != 1 {
		t.Fatalf("none: %+v %v", rep, err)
	}
}

// TestSyncHostileServer: a server that serves another list than the
// bundle pins, a list too large, or a bundle whose list id would escape
// the directory: nothing wrong is saved, nothing is written outside.
func TestSyncHostileServer(t *testing.T) {
	anchor := signer(t)
	genuine := signedList(t, anchor, "o-0", 1)
	older := signedList(t, anchor, "o-0", 2) // anchor-signed, but not the pinned one
	escape := trust.StatusListRef{ID: "../../escape", Kind: trust.ListOfflineCodes, Version: 1,
		SM3: trust.ListDigest(genuine), URL: "http://test/x"}
	f := &fakeServer{bundle: bundleOf(t, anchor, map[string]string{"o-0": genuine}, escape),
		lists: map[string]string{"o-0": older, "../../escape": genuine}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	root := t.TempDir()
	d := DirFor(filepath.Join(root, "sub", "trust.jws"))
	if err := os.MkdirAll(filepath.Dir(d.Bundle), 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(context.Background(), Client{Server: srv.URL}, d, anchor.Public(), nil)
	if err != nil || rep.Fetched != 0 || len(rep.Failed) != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, err := d.StatusList(trust.StatusListRef{ID: "o-0", SM3: trust.ListDigest(genuine)}); err == nil {
		t.Fatal("a list not pinned by the bundle was saved")
	}
	if _, err := os.Stat(filepath.Join(root, "escape")); err == nil {
		t.Fatal("a file was written outside the lists directory")
	}
	// A list larger than any list: refused, not read whole.
	f.lists["o-0"] = strings.Repeat("A", MaxListSize+10)
	rep, err = Sync(context.Background(), Client{Server: srv.URL}, d, anchor.Public(), nil)
	if err != nil || rep.Fetched != 0 || len(rep.Failed) != 2 {
		t.Fatalf("huge: %+v %v", rep, err)
	}
	// A bundle signed by another key: nothing saved.
	f.bundle = bundleOf(t, signer(t), map[string]string{"o-0": genuine})
	before, _ := os.ReadFile(d.Bundle)
	if _, err := Sync(context.Background(), Client{Server: srv.URL}, d, anchor.Public(), nil); err == nil {
		t.Fatal("a bundle of another anchor was accepted")
	}
	if after, _ := os.ReadFile(d.Bundle); string(after) != string(before) {
		t.Fatal("the saved bundle was replaced by one of another anchor")
	}
}

// FuzzListFile: whatever a bundle names a list, its file is inside the
// lists directory or there is none.
func FuzzListFile(f *testing.F) {
	for _, s := range []string{"c-0", "../x", "a/b", ".hidden", "", "c\x00", strings.Repeat("a", 200), "C-1", "o_2"} {
		f.Add(s, strings.Repeat("ab", 32))
	}
	f.Add("c-0", "../../../../../../etc/passwd")
	d := DirFor("/tmp/fuzz/trust.jws")
	f.Fuzz(func(t *testing.T, id, digest string) {
		name := d.listFile(trust.StatusListRef{ID: id, SM3: digest})
		if name == "" {
			return
		}
		if filepath.Dir(name) != d.Lists || strings.HasPrefix(filepath.Base(name), ".") {
			t.Fatalf("id %q digest %q → %q", id, digest, name)
		}
	})
}
