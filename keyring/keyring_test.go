package keyring_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/keyring"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/trust"
)

var master = []byte("0123456789abcdef")
var admin = audit.Actor{Kind: store.KindAdmin, ID: "test"}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func forEach(t *testing.T, f func(t *testing.T, st store.Store)) {
	for _, b := range teststore.Backends() {
		t.Run(b.Name, func(t *testing.T) { f(t, b.Open(t)) })
	}
}

// opensslVerify checks an SM2 signature with the OpenSSL command line only.
func opensslVerify(t *testing.T, pub *signing.PublicKey, msg, raw []byte) bool {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required for interop tests")
	}
	dir := t.TempDir()
	pemBytes, err := signing.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	der, err := signing.RawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"pub.pem": pemBytes, "msg": msg, "sig.der": der} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg",
		"-sigfile", "sig.der", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Signature Verification Failure") {
		t.Logf("openssl: %s", out)
	}
	return err == nil && strings.Contains(string(out), "Signature Verified Successfully")
}

func splitJWS(t *testing.T, compact string) (input, sig []byte) {
	t.Helper()
	i := strings.LastIndexByte(compact, '.')
	s, err := base64.RawURLEncoding.DecodeString(compact[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(compact[:i]), s
}

func TestOpenCreatesAnchorAndCodeKeysOnce(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		r1, err := keyring.Open(ctx, st, master, nil, quiet())
		if err != nil {
			t.Fatal(err)
		}
		// A second node (or a restart) finds them and creates nothing.
		r2, err := keyring.Open(ctx, st, master, nil, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if len(r1.Keys()) != 2 || len(r2.Keys()) != 2 {
			t.Fatalf("keys: %d and %d", len(r1.Keys()), len(r2.Keys()))
		}
		a1, _ := r1.Signer(ctx, store.RoleAnchor, "")
		a2, _ := r2.Signer(ctx, store.RoleAnchor, "")
		if a1.KeyID() != a2.KeyID() || !a1.Public().Equal(a2.Public()) {
			t.Fatal("a restart changed the anchor")
		}
		// The wrong master key cannot open the keys.
		if _, err := keyring.Open(ctx, st, []byte("fedcba9876543210"), nil, quiet()); err == nil {
			t.Fatal("opened keys with the wrong master key")
		}
		// Private keys are stored sealed: the raw scalar is not in the row.
		keys, _ := st.ListKeys(ctx)
		for _, k := range keys {
			if len(k.Sealed) < 32+16 || strings.Contains(string(k.Sealed), string(k.PublicKey)) {
				t.Fatalf("key %s sealed blob looks wrong", k.KID)
			}
		}
	})
}

func TestRotationOverlapAndCompromise(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
		ring, err := keyring.Open(ctx, st, master, clk.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		old, _ := ring.Signer(ctx, store.RoleCode, "")
		msg := []byte("signed before rotation")
		sig, err := old.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		created, retired, err := ring.Rotate(ctx, store.RoleCode, "", admin, "")
		if err != nil {
			t.Fatal(err)
		}
		if retired.KID != old.KeyID() || created.KID == old.KeyID() {
			t.Fatalf("rotate: new %s retired %s old %s", created.KID, retired.KID, old.KeyID())
		}
		if retired.NotAfter == nil || !retired.NotAfter.Equal(clk.t.Add(keyring.Retention[store.RoleCode])) {
			t.Fatalf("retired not_after %v", retired.NotAfter)
		}
		now, _ := ring.Signer(ctx, store.RoleCode, "")
		if now.KeyID() != created.KID {
			t.Fatal("new signatures do not use the new key")
		}
		// The old key still verifies through the published keys.
		pub := &keyring.Publisher{Ring: ring, Store: st, Issuer: "http://test", Now: clk.now}
		keys, err := pub.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k, ok := findKey(keys, old.KeyID())
		if !ok || k.Status != trust.StatusRetired || k.Usable(clk.t) != nil {
			t.Fatalf("old key published as %+v", k)
		}
		p, _ := k.JWK.PublicKey()
		if !signing.Verify(p, msg, sig) {
			t.Fatal("old signature no longer verifies")
		}
		// After the overlap it is no longer published.
		clk.t = clk.t.Add(keyring.Retention[store.RoleCode] + time.Hour)
		keys, _ = pub.Keys(ctx)
		if _, ok := findKey(keys, old.KeyID()); ok {
			t.Fatal("expired retired key still published")
		}
		// Compromise the active key: it is replaced and published as compromised.
		marked, repl, err := ring.Compromise(ctx, created.KID, admin, "")
		if err != nil || repl == nil || marked.Status != store.KeyCompromised {
			t.Fatalf("compromise: %+v %+v %v", marked, repl, err)
		}
		if _, _, err := ring.Compromise(ctx, created.KID, admin, ""); !errors.Is(err, keyring.ErrCompromised) {
			t.Fatalf("second compromise: %v", err)
		}
		if _, _, err := ring.Compromise(ctx, "nope", admin, ""); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
		keys, _ = pub.Keys(ctx)
		k, ok = findKey(keys, created.KID)
		if !ok || k.Status != trust.StatusCompromised || k.Usable(clk.t) == nil {
			t.Fatalf("compromised key published as %+v", k)
		}
		cur, _ := ring.Signer(ctx, store.RoleCode, "")
		if cur.KeyID() != repl.KID {
			t.Fatal("replacement is not the active key")
		}
		// All of it survives a restart (a new ring on the same database).
		ring2, err := keyring.Open(ctx, st, master, clk.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		_, meta, ok := ring2.Public(created.KID)
		if !ok || meta.Status != store.KeyCompromised {
			t.Fatalf("after restart: %+v", meta)
		}
		cur2, _ := ring2.Signer(ctx, store.RoleCode, "")
		if cur2.KeyID() != repl.KID {
			t.Fatal("after restart another key is active")
		}
		// Bad roles are refused.
		if _, _, err := ring.Rotate(ctx, "root", "", admin, ""); !errors.Is(err, keyring.ErrBadRole) {
			t.Fatalf("bad role: %v", err)
		}
		if _, _, err := ring.Rotate(ctx, store.RoleDepartment, "", admin, ""); !errors.Is(err, keyring.ErrBadRole) {
			t.Fatalf("department without uscc: %v", err)
		}
	})
}

func findKey(keys []trust.Key, kid string) (trust.Key, bool) {
	for _, k := range keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return trust.Key{}, false
}

// TestTrustBundleVerifiesWithOpenSSL is the "done when" of issue 3: a third
// party holding only the anchor's public key verifies the bundle with
// OpenSSL alone, and the package verifier agrees; after an anchor rotation a
// verifier pinned to the old anchor still accepts the bundle through the
// endorsement.
func TestTrustBundleVerifiesWithOpenSSL(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
		ring, err := keyring.Open(ctx, st, master, clk.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		err = st.InTx(ctx, func(q store.Queries) error {
			if err := q.CreateDepartment(ctx, store.Department{ID: "d1", Name: "市场监管局", USCC: "11100000000013338W", Level: "省级",
				CertificateTypes: []string{"11100000000013338W011"}, CreatedAt: clk.t}); err != nil {
				return err
			}
			_, err := ring.CreateDepartmentKey(ctx, q, "11100000000013338W", admin, "")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		pub := &keyring.Publisher{Ring: ring, Store: st, Issuer: "http://test", Now: clk.now}
		b1, err := pub.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		anchor, _ := ring.Signer(ctx, store.RoleAnchor, "")
		input, sig := splitJWS(t, b1.JWS)
		if !opensslVerify(t, anchor.Public(), input, sig) {
			t.Fatal("OpenSSL does not verify the trust bundle")
		}
		tampered := append([]byte(nil), input...)
		tampered[len(tampered)-5] ^= 1
		if opensslVerify(t, anchor.Public(), tampered, sig) {
			t.Fatal("OpenSSL verified a tampered bundle")
		}
		b, err := trust.Verify(b1.JWS, anchor.Public(), clk.t)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Keys) != 3 || b.StatusLists == nil || !b.ExpiresAt.Equal(clk.t.Add(keyring.MaxAge)) {
			t.Fatalf("bundle %+v", b)
		}
		var dept trust.Key
		for _, k := range b.Keys {
			if k.Role == trust.RoleDepartment {
				dept = k
			}
		}
		if dept.DepartmentUSCC != "11100000000013338W" || len(dept.CertificateTypes) != 1 {
			t.Fatalf("department key %+v", dept)
		}
		// The same bundle is served until something changes.
		if b2, _ := pub.Current(ctx); b2.ETag != b1.ETag {
			t.Fatal("bundle re-signed without a change")
		}
		// Expired bundles are reported as such.
		if _, err := trust.Verify(b1.JWS, anchor.Public(), clk.t.Add(keyring.MaxAge+time.Second)); !errors.Is(err, trust.ErrExpired) {
			t.Fatalf("expired bundle: %v", err)
		}
		// A stranger's key is not an anchor.
		other, _ := signing.GenerateKey(nil)
		if _, err := trust.Verify(b1.JWS, other.Public(), clk.t); !errors.Is(err, trust.ErrNotSignedByAnchor) {
			t.Fatalf("wrong anchor: %v", err)
		}
		// Rotate the anchor: the new bundle is signed by the new anchor and
		// endorsed by the old one.
		if _, _, err := ring.Rotate(ctx, store.RoleAnchor, "", admin, ""); err != nil {
			t.Fatal(err)
		}
		b3, err := pub.Current(ctx)
		if err != nil || b3.ETag == b1.ETag {
			t.Fatalf("bundle after rotation: %v", err)
		}
		if _, err := trust.Verify(b3.JWS, anchor.Public(), clk.t); err != nil {
			t.Fatalf("old pin does not accept the endorsed bundle: %v", err)
		}
		newAnchor, _ := ring.Signer(ctx, store.RoleAnchor, "")
		if _, err := trust.Verify(b3.JWS, newAnchor.Public(), clk.t); err != nil {
			t.Fatal(err)
		}
		// Once the old anchor is compromised, its endorsement is gone and the
		// old pin no longer accepts the bundle.
		if _, _, err := ring.Compromise(ctx, anchor.KeyID(), admin, ""); err != nil {
			t.Fatal(err)
		}
		b4, _ := pub.Current(ctx)
		if _, err := trust.Verify(b4.JWS, anchor.Public(), clk.t); !errors.Is(err, trust.ErrNotSignedByAnchor) {
			t.Fatalf("compromised old anchor still endorses: %v", err)
		}
	})
}

// TestConcurrentStartsCreateOneAnchor: nodes starting at the same moment on
// one database end up sharing one anchor and one code key.
func TestConcurrentStartsCreateOneAnchor(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		const nodes = 4
		errs := make(chan error, nodes)
		anchors := make(chan string, nodes)
		for i := 0; i < nodes; i++ {
			go func() {
				r, err := keyring.Open(ctx, st, master, nil, quiet())
				if err != nil {
					errs <- err
					return
				}
				s, err := r.Signer(ctx, store.RoleAnchor, "")
				if err != nil {
					errs <- err
					return
				}
				anchors <- s.KeyID()
				errs <- nil
			}()
		}
		for i := 0; i < nodes; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		close(anchors)
		first := <-anchors
		for a := range anchors {
			if a != first {
				t.Fatalf("nodes disagree on the anchor: %s vs %s", a, first)
			}
		}
		keys, _ := st.ListKeys(ctx)
		if len(keys) != 2 {
			t.Fatalf("%d keys after concurrent starts", len(keys))
		}
	})
}

// TestBundleRebuiltWhenTheAnchorRotatesMidBuild: node B starts a bundle
// under anchor O; while it reads the status lists, node A rotates the
// anchor and B's list reading reloads its ring (it found a list already
// re-signed by the new anchor N). B must not sign with O a bundle whose
// lists N signed: it builds again, and the bundle it publishes is N's.
func TestBundleRebuiltWhenTheAnchorRotatesMidBuild(t *testing.T) {
	forEach(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
		ringA, err := keyring.Open(ctx, st, master, clk.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		ringB, err := keyring.Open(ctx, st, master, clk.now, quiet())
		if err != nil {
			t.Fatal(err)
		}
		rotated, builds := "", 0
		pub := &keyring.Publisher{Ring: ringB, Store: st, Issuer: "http://test", Now: clk.now,
			StatusLists: func(ctx context.Context) ([]trust.StatusListRef, error) {
				builds++
				if rotated == "" {
					created, _, err := ringA.Rotate(ctx, store.RoleAnchor, "", admin, "")
					if err != nil {
						return nil, err
					}
					rotated = created.KID
					// What ensureSigned does on finding a list signed by
					// another anchor: confirm, which reloads B's ring.
					if _, err := ringB.ConfirmedSigner(ctx, store.RoleAnchor, ""); err != nil {
						return nil, err
					}
				}
				return []trust.StatusListRef{}, nil
			}}
		p, err := pub.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hdr, _, err := signing.ParseJWS(p.JWS)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Kid != rotated || builds != 2 {
			t.Fatalf("bundle signed by %s after %d builds; the anchor rotated to %s mid-build", hdr.Kid, builds, rotated)
		}
	})
}
