package verifier

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/trust"
)

// countingSource is a ListSource that counts what it is asked for and can
// be made to fail.
type countingSource struct {
	mu    sync.Mutex
	lists Lists
	asked map[string]int
	fail  error
}

func (s *countingSource) StatusList(ref trust.StatusListRef) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked[ref.ID]++
	if s.fail != nil {
		return "", s.fail
	}
	return s.lists.StatusList(ref)
}

// TestListsFetchedLazily: a verifier asks its source for a list only when
// a code or certificate needs it, once, and never for personal codes.
func TestListsFetchedLazily(t *testing.T) {
	f := newFixture(t)
	jws := f.jws() // signs both lists into f.held
	src := &countingSource{lists: f.held, asked: map[string]int{}}
	v, err := New(jws, f.anchor.Public(), Options{Now: func() time.Time { return testNow }, Lists: src})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		want(t, v.VerifyCode(f.issue(codes.Personal)), Valid, "")
	}
	if len(src.asked) != 0 {
		t.Fatalf("personal codes fetched lists: %v", src.asked)
	}
	for range 3 {
		want(t, v.VerifyCode(f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxRevoked })), Invalid, ReasonRevoked)
	}
	if src.asked[codeList] != 1 || src.asked[certList] != 0 {
		t.Fatalf("asked %v, want the code list once and the certificate list never", src.asked)
	}
	want(t, v.VerifyCertificate(f.certificate(idxGood)), Valid, "")
	if src.asked[certList] != 1 {
		t.Fatalf("asked %v, want the certificate list once", src.asked)
	}
}

// TestListSourceFailure: a list that cannot be had is Unknown, never Valid
// nor Invalid; the verifier asks again after ListRetry, not before.
func TestListSourceFailure(t *testing.T) {
	f := newFixture(t)
	jws := f.jws()
	now := testNow
	src := &countingSource{lists: f.held, asked: map[string]int{}, fail: errors.New("network down")}
	v, err := New(jws, f.anchor.Public(), Options{Now: func() time.Time { return now }, Lists: src})
	if err != nil {
		t.Fatal(err)
	}
	revoked := f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxRevoked })
	good := f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxGood })
	want(t, v.VerifyCode(revoked), Unknown, ReasonStatusListMissing)
	want(t, v.VerifyCode(good), Unknown, ReasonStatusListMissing)
	if src.asked[codeList] != 1 {
		t.Fatalf("asked %d times within ListRetry", src.asked[codeList])
	}
	src.fail = nil
	now = now.Add(ListRetry / 2)
	want(t, v.VerifyCode(good), Unknown, ReasonStatusListMissing)
	now = now.Add(ListRetry)
	want(t, v.VerifyCode(good), Valid, "")
	want(t, v.VerifyCode(revoked), Invalid, ReasonRevoked)
	if src.asked[codeList] != 2 {
		t.Fatalf("asked %d times, want 2", src.asked[codeList])
	}

	// No source at all: Unknown.
	v, err = New(jws, f.anchor.Public(), Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	want(t, v.VerifyCode(good), Unknown, ReasonStatusListMissing)
	// A list source that hands a certificate list for the code list (an
	// anchor-signed list, but not the pinned one): Unknown.
	v, err = New(jws, f.anchor.Public(), Options{Now: func() time.Time { return testNow },
		Lists: ListSourceFunc(func(trust.StatusListRef) (string, error) { return f.held[certList], nil })})
	if err != nil {
		t.Fatal(err)
	}
	want(t, v.VerifyCode(good), Unknown, ReasonStatusListMissing)
}

// TestListCache: a Verifier over a new bundle that pins the same list
// reuses the decoded list without asking its source; a list whose signing
// key is no longer an anchor key of the new bundle is not reused.
func TestListCache(t *testing.T) {
	f := newFixture(t)
	jws := f.jws()
	cache := NewListCache()
	src := &countingSource{lists: f.held, asked: map[string]int{}}
	opts := Options{Now: func() time.Time { return testNow }, Lists: src, Cache: cache}
	revoked := f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxRevoked })
	v, err := New(jws, f.anchor.Public(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want(t, v.VerifyCode(revoked), Invalid, ReasonRevoked)
	// A newer bundle, same lists.
	f.bundle.IssuedAt = f.bundle.IssuedAt.Add(time.Minute)
	f.bundle.StatusLists = v.Bundle().StatusLists
	v2, err := New(f.jws(), f.anchor.Public(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want(t, v2.VerifyCode(revoked), Invalid, ReasonRevoked)
	if src.asked[codeList] != 1 {
		t.Fatalf("asked %d times, want once across both verifiers", src.asked[codeList])
	}
	// The anchor that signed the list is now a code key in the bundle
	// (a forged role change): the cached list is not reused, the list is
	// fetched and refused.
	f.key(f.anchor.KeyID()).Role = trust.RoleCode
	f.bundle.Keys = append(f.bundle.Keys, trustKey(newSigner(t), trust.RoleAnchor))
	v3, err := New(f.jws(), f.anchor.Public(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want(t, v3.VerifyCode(revoked), Unknown, ReasonStatusListMissing)
}
