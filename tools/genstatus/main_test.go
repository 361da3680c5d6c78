package main

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/trustsync"
	"github.com/suishen/suishen/verifier"
	"os"
)

// TestGenstatusSmall runs the generator at a small scale: the lists have
// the asked fraction of bad entries, every good certificate verifies valid
// and every revoked one invalid against the written bundle and lists.
func TestGenstatusSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if e := badEntries(rng, issuer.MinStatusListSize, 100_000, 0.02); len(e) != 2000 {
		t.Fatalf("%d bad entries, want 2000", len(e))
	}
	dir := t.TempDir()
	m, err := measureSizes(2*issuer.ListEntries+500_000, 0.02, issuer.ListEntries, 3, rng, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if m.lists != 3 || m.verifyResultsValid != 3 || m.revokedOK != 3 || m.bundleBytes == 0 || m.listsTotal == 0 {
		t.Fatalf("%+v", m)
	}
	// What -out wrote is what `suishen trust fetch` would have saved.
	d := trustsync.DirFor(filepath.Join(dir, "trust.jws"))
	bundle, err := d.ReadBundle()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "anchor.pem"))
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := signing.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(bundle, anchor, verifier.Options{Lists: d})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]verifier.Outcome{"good.jws": verifier.Valid, "revoked.jws": verifier.Invalid} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if r := v.VerifyCertificate(string(b[:len(b)-1])); r.Result != want {
			t.Fatalf("%s: %+v", name, r)
		}
	}
}
