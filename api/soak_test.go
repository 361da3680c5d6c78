package api

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/trust"
	"github.com/suishen/suishen/verifier"
)

var soakFor = flag.Duration("soak", 3*time.Second, "how long TestSoakKeyEvents runs on each backend (e.g. -soak=10m)")

// soakItem is a certificate or code handed out during the soak, with the
// key that signed it.
type soakItem struct {
	label string
	cert  bool
	text  string
	kid   string
	at    time.Time // when it was handed out
}

// window is when a key's compromise was in flight: requested at before,
// answered at after (it committed in between).
type window struct{ before, after time.Time }

type soak struct {
	t     *testing.T
	nodes []*harness
	st    store.Store

	mu          sync.Mutex
	items       []soakItem
	compromised map[string]window

	verified, unknown, online atomic.Int64
	unknownWhy                sync.Map // reason → *atomic.Int64
	failed                    atomic.Bool
}

func (s *soak) fail(format string, args ...any) {
	s.failed.Store(true)
	s.t.Errorf(format, args...)
}

func (s *soak) node() *harness { return s.nodes[rand.IntN(len(s.nodes))] }

// call sends a request and fails the soak on any 5xx.
func (s *soak) call(h *harness, method, path, token string, body any) resp {
	r := h.do(method, path, token, body)
	if r.Status >= 500 {
		s.fail("%s %s answered %d: %s", method, path, r.Status, r.Body)
	}
	return r
}

func (s *soak) add(it soakItem) {
	s.mu.Lock()
	s.items = append(s.items, it)
	s.mu.Unlock()
}

// sample returns up to n items, the newest always included.
func (s *soak) sample(n int) []soakItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) <= n {
		return append([]soakItem(nil), s.items...)
	}
	out := append([]soakItem(nil), s.items[len(s.items)-n/2:]...)
	for len(out) < n {
		out = append(out, s.items[rand.IntN(len(s.items))])
	}
	return out
}

func (s *soak) compromise(h *harness, kid string) {
	before := time.Now()
	// In flight: from now on an invalid for this key is no longer wrong.
	s.mu.Lock()
	s.compromised[kid] = window{before, before.Add(time.Hour)}
	s.mu.Unlock()
	r := s.call(h, "POST", "/v1/admin/keys/"+kid+"/compromised", testAdminToken, nil)
	after := time.Now()
	if r.Status != 200 {
		s.fail("compromise %s: %d %s", kid, r.Status, r.Body)
		return
	}
	s.mu.Lock()
	s.compromised[kid] = window{before, after}
	s.mu.Unlock()
}

func (s *soak) compromisedAt(kid string) (window, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.compromised[kid]
	return w, ok
}

// activeKey reads the active key of a role from the database.
func (s *soak) activeKey(role store.KeyRole, uscc string) store.Key {
	keys, err := s.st.ListKeys(context.Background())
	if err != nil {
		s.fail("list keys: %v", err)
		return store.Key{}
	}
	for _, k := range keys {
		if k.Role == role && k.DepartmentUSCC == uscc && k.Status == store.KeyActive {
			return k
		}
	}
	s.fail("no active %s key", role)
	return store.Key{}
}

// codeKID names the code key that signed text, from the stored keys.
func (s *soak) codeKID(text string) string {
	c, err := codes.Parse(text)
	if err != nil {
		s.fail("a code handed out does not parse: %v", err)
		return ""
	}
	keys, _ := s.st.ListKeys(context.Background())
	for _, k := range keys {
		if pub, err := signing.PublicKeyFromBytes(k.PublicKey); err == nil && bytes.Equal(codes.KeyHint(pub), c.KeyHint) {
			return k.KID
		}
	}
	return ""
}

// judge checks one offline result against what is true for a verifier
// holding a bundle signed at issued (whole seconds) and fetched from
// fetched on: invalid only for a key whose compromise had begun when the
// bundle was signed, valid never once the compromise had committed. Unknown
// is allowed (and counted), except status_list_missing for an item handed
// out before the verifier asked for its bundle: a verifier that refreshed
// must be able to fetch every list its bundle pins.
func (s *soak) judge(it soakItem, r verifier.Result, issued, fetched time.Time) {
	s.verified.Add(1)
	w, comp := s.compromisedAt(it.kid)
	switch r.Result {
	case verifier.Unknown:
		s.unknown.Add(1)
		if it.at.Before(fetched) && r.HasReason(verifier.ReasonStatusListMissing) {
			s.fail("unknown for %s, handed out at %s, with a bundle asked for at %s: %+v", it.label,
				it.at.Format("15:04:05.000"), fetched.Format("15:04:05.000"), r.Reasons)
		}
		for _, re := range r.Reasons {
			c, _ := s.unknownWhy.LoadOrStore(re.Code, new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
		}
	case verifier.Invalid:
		// The bundle was signed at or after issued; a compromise not yet
		// begun by issued+1s cannot show in it.
		if !comp || !r.HasReason(verifier.ReasonKeyCompromised) || !issued.Add(time.Second).After(w.before) {
			s.fail("wrong invalid: %s (key %s) with a bundle of %s: %+v", it.label, it.kid, issued.Format(time.RFC3339), r.Reasons)
		}
	case verifier.Valid:
		if comp && !issued.Before(w.after) {
			s.fail("wrong valid: %s signed by %s, compromised by %s, with a bundle of %s", it.label, it.kid,
				w.after.Format(time.RFC3339Nano), issued.Format(time.RFC3339))
		}
	}
}

// soakVerifier is an offline verifier as a scanner runs it: pinned to an
// anchor, it keeps its last good bundle, takes a newer one when it
// verifies (re-pinning when it came through an endorsement), and fetches
// status lists lazily from the node that served the bundle, keeping those
// it has by digest (as the scanner page and trustsync do: a new bundle
// costs a fetch only for the lists that changed) and waiting when a node
// says 429. (Before, every refresh — a tight loop — fetched every list
// again: from one address that ran into the public rate limit, and the
// 429s showed as status_list_missing for half of all checks.)
type soakVerifier struct {
	cache   *verifier.ListCache
	pinned  *signing.PublicKey
	v       *verifier.Verifier
	issued  time.Time
	fetched time.Time // when the bundle in v was asked for
}

func (s *soak) refresh(sv *soakVerifier) {
	h := s.node()
	fetched := time.Now()
	r := s.call(h, "GET", "/v1/trust", "", nil)
	if r.Status != 200 {
		return
	}
	b, err := trust.Verify(string(r.Body), sv.pinned, time.Now())
	if err != nil {
		if !errors.Is(err, trust.ErrNotSignedByAnchor) { // a stale node's bundle by an anchor not (or no longer) endorsed
			s.fail("bundle from a node: %v", err)
		}
		return
	}
	if b.IssuedAt.Before(sv.issued) {
		return
	}
	v, err := verifier.New(string(r.Body), sv.pinned, verifier.Options{Cache: sv.cache, Lists: verifier.ListSourceFunc(func(ref trust.StatusListRef) (string, error) {
		for attempt := 0; ; attempt++ {
			r := h.do("GET", "/v1/status-lists/"+ref.ID+"?sm3="+ref.SM3, "", nil)
			switch {
			case r.Status == 200:
				return string(r.Body), nil
			case r.Status == 429 && attempt < 20:
				time.Sleep(100 * time.Millisecond)
			default:
				return "", fmt.Errorf("status list %s: HTTP %d %s", ref.ID, r.Status, r.Body)
			}
		}
	})})
	if err != nil {
		s.fail("verifier.New: %v", err)
		return
	}
	hdr, _, err := signing.ParseJWS(string(r.Body))
	if err == nil && hdr.Kid != signing.Thumbprint(sv.pinned) {
		if k, ok := b.Key(hdr.Kid); ok {
			if pub, err := k.JWK.PublicKey(); err == nil {
				sv.pinned = pub // re-pin, as verifiers are told to
			}
		}
	}
	sv.v, sv.issued, sv.fetched = v, b.IssuedAt, fetched
}

// TestSoakKeyEvents: two nodes on one database issue certificates and
// codes and verify continuously — offline verifiers following the bundles,
// online verification, the public status — while the anchor is rotated
// and the old one compromised, the code key rotated and compromised, a
// department's types withdrawn and given back, another department's key
// compromised and a third rotated. No request may answer 5xx, no result
// may be a wrong valid or a wrong invalid. -soak=DURATION runs it longer.
func TestSoakKeyEvents(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *harness) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var bg sync.WaitGroup
		defer bg.Wait()
		defer cancel()
		for _, h := range []*harness{a, b} {
			h.clock.mu.Lock()
			h.clock.t = time.Now()
			h.clock.mu.Unlock()
			bg.Go(func() { // real time, for the caches that compare clock readings
				tk := time.NewTicker(5 * time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case now := <-tk.C:
						h.clock.mu.Lock()
						h.clock.t = now
						h.clock.mu.Unlock()
					}
				}
			})
			bg.Go(func() { h.srv.deps.Keys.Run(ctx, 5*time.Second) })
		}
		s := &soak{t: t, nodes: []*harness{a, b}, st: a.st, compromised: map[string]window{}}
		dept1ID, dept1 := a.department(uscc2)
		_, dept2 := a.department(uscc3)
		_, venue := a.venue()
		_, app := a.app("verify")
		_, gw := a.app("identity-gateway")
		person := func(h *harness) string {
			return s.call(h, "POST", "/v1/sessions", gw, map[string]any{"kind": "person", "name": "张三", "id_number": personID}).json(t)["token"].(string)
		}
		firm := func(h *harness) string {
			return s.call(h, "POST", "/v1/sessions", gw, map[string]any{"kind": "enterprise", "name": "上海某某科技有限公司", "id_number": uscc1}).json(t)["token"].(string)
		}
		var seq atomic.Int64
		issue := func(h *harness, key, typ, label string) {
			n := "S-" + strconv.FormatInt(seq.Add(1), 10)
			body := idCardBody(n)
			if typ == typeLicence {
				body = licenceBody(n)
			}
			r := s.call(h, "POST", "/v1/certificates", key, body)
			switch {
			case r.Status == 201:
				m := r.json(t)
				s.add(soakItem{label: label + " " + m["id"].(string), cert: true, text: m["jws"].(string), kid: m["key_id"].(string), at: time.Now()})
			case r.Status == 403 && label == "dept1 id card": // its type may be withdrawn just now
			default:
				s.fail("issue %s: %d %s", label, r.Status, r.Body)
			}
		}
		code := func(h *harness) {
			var r resp
			label := ""
			switch rand.IntN(3) {
			case 0:
				label, r = "venue code", s.call(h, "GET", "/v1/venue/code", venue, nil)
			case 1:
				label, r = "enterprise code", s.call(h, "POST", "/v1/me/codes/enterprise", firm(h), nil)
			default:
				label, r = "personal code", s.call(h, "POST", "/v1/me/codes/personal", person(h), nil)
			}
			if r.Status != 200 {
				s.fail("%s: %d %s", label, r.Status, r.Body)
				return
			}
			text := r.json(t)["code"].(string)
			s.add(soakItem{label: label, text: text, kid: s.codeKID(text), at: time.Now()})
		}
		// Before the events: something of every kind.
		issue(a, dept1, typeLicence, "dept1 licence")
		issue(b, dept1, typeIDCard, "dept1 id card")
		issue(a, dept2, typeIDCard, "dept2 id card")
		for range 3 {
			code(a)
			code(b)
		}

		deadline := time.Now().Add(*soakFor)
		var wg sync.WaitGroup
		running := func() bool { return time.Now().Before(deadline) && !s.failed.Load() }
		// Issuers, on both nodes.
		for w := range 2 {
			wg.Go(func() {
				for i := 0; running(); i++ {
					h := s.nodes[(w+i)%2]
					switch i % 4 {
					case 0:
						issue(h, dept1, typeLicence, "dept1 licence")
					case 1:
						issue(h, dept1, typeIDCard, "dept1 id card")
					case 2:
						issue(h, dept2, typeIDCard, "dept2 id card")
					default:
						code(h)
					}
				}
			})
		}
		// Offline verifiers.
		for range 2 {
			wg.Go(func() {
				anchor := s.activeKey(store.RoleAnchor, "")
				pub, err := signing.PublicKeyFromBytes(anchor.PublicKey)
				if err != nil {
					s.fail("anchor: %v", err)
					return
				}
				sv := &soakVerifier{pinned: pub, cache: verifier.NewListCache()}
				for running() {
					s.refresh(sv)
					if sv.v == nil {
						continue
					}
					for _, it := range s.sample(40) {
						var r verifier.Result
						if it.cert {
							r = sv.v.VerifyCertificate(it.text)
						} else {
							r = sv.v.VerifyCode(it.text)
						}
						s.judge(it, r, sv.issued, sv.fetched)
					}
				}
			})
		}
		// Online verification and the public status: never 5xx; a key
		// never compromised never gives invalid; a compromise is shown by
		// every node within its key reload interval (5 s) plus a second.
		wg.Go(func() {
			for running() {
				for _, it := range s.sample(10) {
					h := s.node()
					start := time.Now()
					var result string
					var reasons []any
					if it.cert && rand.IntN(2) == 0 {
						r := s.call(h, "GET", "/v1/certificates/"+certID(it.text)+"/status", "", nil)
						if r.Status == 429 { // the public status limits lookups per address
							continue
						}
						if r.Status != 200 {
							s.fail("status of %s: %d %s", it.label, r.Status, r.Body)
							continue
						}
						m := r.json(t)
						result, _ = m["verify_result"].(string)
						reasons, _ = m["reasons"].([]any)
					} else {
						body := map[string]any{"code": it.text}
						if it.cert {
							body = map[string]any{"jws": it.text}
						}
						r := s.call(h, "POST", "/v1/verify", app, body)
						if r.Status == 429 {
							continue
						}
						if r.Status != 200 {
							s.fail("verify %s: %d %s", it.label, r.Status, r.Body)
							continue
						}
						m := r.json(t)
						result, _ = m["result"].(string)
						reasons, _ = m["reasons"].([]any)
					}
					s.online.Add(1)
					w, comp := s.compromisedAt(it.kid)
					switch {
					case result == "invalid" && !comp:
						s.fail("wrong invalid online: %s: %v", it.label, reasons)
					case result == "valid" && comp && start.After(w.after.Add(6*time.Second)):
						s.fail("wrong valid online: %s signed by %s, compromised at %s", it.label, it.kid, w.after)
					}
				}
			}
		})
		// The key events, spread over the run, alternating nodes.
		wg.Go(func() {
			steps := []struct {
				name string
				do   func()
			}{
				{"rotate the anchor", func() {
					s.call(a, "POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "anchor"})
				}},
				{"compromise the retired anchor", func() {
					keys, _ := s.st.ListKeys(context.Background())
					for _, k := range keys {
						if k.Role == store.RoleAnchor && k.Status == store.KeyRetired {
							s.compromise(b, k.KID)
						}
					}
				}},
				{"rotate the code key", func() {
					s.call(a, "POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "code"})
				}},
				{"compromise the code key", func() { s.compromise(b, s.activeKey(store.RoleCode, "").KID) }},
				{"withdraw dept1's id card type", func() {
					s.call(a, "PUT", "/v1/admin/departments/"+dept1ID+"/certificate-types", testAdminToken, map[string]any{"certificate_types": []string{typeLicence}})
				}},
				{"compromise dept2's key", func() { s.compromise(a, s.activeKey(store.RoleDepartment, uscc3).KID) }},
				{"give dept1 its id card type back", func() {
					s.call(b, "PUT", "/v1/admin/departments/"+dept1ID+"/certificate-types", testAdminToken, map[string]any{"certificate_types": []string{typeLicence, typeIDCard}})
				}},
				{"rotate dept1's key", func() {
					s.call(b, "POST", "/v1/admin/keys/rotate", testAdminToken, map[string]any{"role": "department", "department_uscc": uscc2})
				}},
			}
			gap := *soakFor / time.Duration(len(steps)+2)
			for _, st := range steps {
				select {
				case <-time.After(gap):
				case <-ctx.Done():
					return
				}
				if !running() {
					return
				}
				st.do()
				t.Logf("%s: %s", time.Now().Format("15:04:05.000"), st.name)
			}
		})
		wg.Wait()
		var why []string
		s.unknownWhy.Range(func(k, v any) bool {
			why = append(why, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
			return true
		})
		sort.Strings(why)
		s.mu.Lock()
		n := len(s.items)
		s.mu.Unlock()
		t.Logf("%d items handed out; %d offline verifications (%d unknown: %v), %d online", n, s.verified.Load(), s.unknown.Load(), why, s.online.Load())
		if s.verified.Load() == 0 || s.online.Load() == 0 {
			t.Fatal("the soak verified nothing")
		}
	})
}

// certID is the identifier in a certificate JWS's document.
func certID(jws string) string {
	_, payload, err := signing.ParseJWS(jws)
	if err != nil {
		return "x"
	}
	var d struct {
		Identifier string `json:"identifier"`
	}
	_ = jsonUnmarshal(payload, &d)
	return d.Identifier
}
