package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/suishen/suishen/audit"
	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/postgres"
	"github.com/suishen/suishen/store/sqlite"
	"github.com/suishen/suishen/store/storetest"
	"github.com/suishen/suishen/store/teststore"
	"github.com/suishen/suishen/trust"
)

// exportAnchor writes the active anchor's public key to a file, as an
// operator pins it on the day the service is set up.
func exportAnchor(t *testing.T, env []string) string {
	t.Helper()
	pem, errOut, code := run(t, env, "keys", "export")
	if code != 0 || !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("keys export: %d %s %s", code, pem, errOut)
	}
	f := filepath.Join(t.TempDir(), "anchor.pem")
	if err := os.WriteFile(f, []byte(pem), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// auditVerify runs `suishen audit verify --anchor ANCHOR args…`.
func auditVerify(t *testing.T, env []string, anchor string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, env, append([]string{"audit", "verify", "--anchor", anchor}, args...)...)
}

// tamperDB is the database of a stopped node, opened behind the
// application's back by someone with DBA rights.
type tamperDB struct {
	t  *testing.T
	st interface {
		store.Store
		RawExec(ctx context.Context, stmt string) error
	}
}

func (d *tamperDB) exec(stmt string) {
	d.t.Helper()
	if err := d.st.RawExec(context.Background(), stmt); err != nil {
		d.t.Fatal(err)
	}
}

// dbCopy is one backend's database of a finished run, copied so each attack
// starts from the same log.
type dbCopy struct {
	backend string
	env     []string
}

// clone copies the database of env into a fresh one and returns its env.
func (c dbCopy) clone(t *testing.T) dbCopy {
	t.Helper()
	out := dbCopy{backend: c.backend, env: append([]string(nil), c.env...)}
	if c.backend == "sqlite" {
		src, dst := envValue(c.env, "SUISHEN_DATA_DIR"), t.TempDir()
		for _, f := range []string{"suishen.db", "suishen.db-wal", "suishen.db-shm", "admin-token", "master-key"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		setEnv(out.env, "SUISHEN_DATA_DIR", dst)
		return out
	}
	srcURL, err := url.Parse(envValue(c.env, "SUISHEN_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "suishen_t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+strings.TrimPrefix(srcURL.Path, "/")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), os.Getenv("TEST_DATABASE_URL"))
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	srcURL.Path = "/" + name
	setEnv(out.env, "SUISHEN_DATABASE_URL", srcURL.String())
	return out
}

// open opens the copy for tampering and takes the append-only guards off.
func (c dbCopy) open(t *testing.T) *tamperDB {
	t.Helper()
	ctx := context.Background()
	d := &tamperDB{t: t}
	if c.backend == "sqlite" {
		st, err := sqlite.Open(ctx, filepath.Join(envValue(c.env, "SUISHEN_DATA_DIR"), "suishen.db"))
		if err != nil {
			t.Fatal(err)
		}
		d.st = st
	} else {
		st, err := postgres.Open(ctx, envValue(c.env, "SUISHEN_DATABASE_URL"), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d.st = st
	}
	t.Cleanup(func() { d.st.Close() })
	for _, g := range storetest.AuditGuardsOff(c.backend) {
		d.exec(g)
	}
	return d
}

func (d *tamperDB) sealed() []store.SealedAuditEntry {
	d.t.Helper()
	all, err := d.st.ListSealedAudit(context.Background(), 0, 1<<20)
	if err != nil {
		d.t.Fatal(err)
	}
	return all
}

func (d *tamperDB) close() { d.st.Close() }

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func setEnv(env []string, name, value string) {
	for i, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			env[i] = name + "=" + value
			return
		}
	}
	panic("no " + name)
}

// bundleHead reads the audit head of a saved bundle.
func bundleHead(t *testing.T, anchorFile, bundleFile string) trust.AuditHead {
	t.Helper()
	pemBytes, _ := os.ReadFile(anchorFile)
	pin, err := signing.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(bundleFile)
	b, err := trust.Verify(strings.TrimSpace(string(raw)), pin, time.Now())
	if err != nil || b.AuditHead == nil {
		t.Fatalf("bundle: %v %+v", err, b.AuditHead)
	}
	return *b.AuditHead
}

// waitSealed waits until every entry is sealed (the sealer runs every second).
func waitSealed(t *testing.T, env []string, anchor string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ := auditVerify(t, env, anchor, "--json")
		var r struct {
			Pending int64 `json:"pending"`
			Entries int64 `json:"entries"`
		}
		if json.Unmarshal([]byte(out), &r) == nil && r.Pending == 0 && r.Entries > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("entries were not sealed: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAuditVerifyCatchesTampering runs a real node on each backend, keeps a
// trust bundle as an outside auditor would, kills the node (so the newest
// entries have no checkpoint yet, as on a live server), and then does to
// copies of its database exactly what the issue describes: cuts the newest
// entries after the last checkpoint, deletes every checkpoint, and rewrites
// the chain re-signed by a planted anchor row. `suishen audit verify
// --anchor` catches each, naming the first bad seal or the missing range,
// with exit status 1.
func TestAuditVerifyCatchesTampering(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			token := "operator-token-0123456789abcdef0123"
			env := []string{"SUISHEN_ADMIN_TOKEN=" + token, "SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff",
				"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_DATABASE_URL="}
			if backend == "postgres" {
				env[3] = "SUISHEN_DATABASE_URL=" + teststore.PostgresURL(t)
			}
			n := startNode(t, env)
			anchor := exportAnchor(t, env)
			for _, uscc := range []string{"11100000000013338W", "91350100M000100Y43"} {
				if status, _ := n.call("POST", "/v1/admin/departments", token, map[string]any{"name": "某局", "uscc": uscc,
					"level": "区县级", "certificate_types": []string{"11100000000021001C001"}}); status != 201 {
					t.Fatalf("department: %d", status)
				}
			}
			waitSealed(t, env, anchor)
			// The node has checkpointed by now and will not again within the
			// minute. A key change makes it re-sign its bundle, with the head.
			if status, _ := n.call("POST", "/v1/admin/keys/rotate", token, map[string]any{"role": "code"}); status != 201 {
				t.Fatalf("rotate: %d", status)
			}
			waitSealed(t, env, anchor)
			bundle := filepath.Join(t.TempDir(), "trust.jws")
			out, errOut, code := run(t, env, "trust", "fetch", "--server", "http://"+n.addr, "--anchor", anchor, "--out", bundle)
			if code != 0 {
				t.Fatalf("trust fetch: %s %s", out, errOut)
			}
			head := bundleHead(t, anchor, bundle)
			if !strings.Contains(out, fmt.Sprintf("audit head: seal %d, sm3 %s", head.Seq, head.SM3)) {
				t.Fatalf("trust fetch does not show the audit head %+v:\n%s", head, out)
			}
			// More happens after the bundle was saved.
			if status, _ := n.call("POST", "/v1/admin/departments", token, map[string]any{"name": "某局", "uscc": "11430000006122244L",
				"level": "区县级", "certificate_types": []string{"11100000000021001C001"}}); status != 201 {
				t.Fatalf("department: %d", status)
			}
			waitSealed(t, env, anchor)
			// Killed, not stopped: no final checkpoint, as if the database
			// were copied from a live server.
			_ = n.cmd.Process.Kill()
			_ = n.cmd.Wait()

			out, errOut, code = auditVerify(t, env, anchor, "--trust", bundle)
			if code != 0 || !strings.Contains(out, "audit log intact") || !strings.Contains(out, fmt.Sprintf("reaches the audit head of %s", bundle)) {
				t.Fatalf("clean log: exit %d\n%s%s", code, out, errOut)
			}
			orig := dbCopy{backend: backend, env: env}

			t.Run("cut after the last checkpoint", func(t *testing.T) {
				c := orig.clone(t)
				d := c.open(t)
				cps, err := d.st.ListAuditCheckpoints(context.Background())
				if err != nil || len(cps) == 0 {
					t.Fatalf("checkpoints: %v %v", cps, err)
				}
				last := cps[len(cps)-1].Seq
				if last >= head.Seq {
					t.Fatalf("the last checkpoint (%d) already covers the bundle's head (%d): the node ran too long to test a cut after it; checkpoints %+v", last, head.Seq, cps)
				}
				all := d.sealed()
				for _, se := range all {
					if se.Seal.Seq > last {
						d.exec(fmt.Sprintf("DELETE FROM audit_seals WHERE seq = %d", se.Seal.Seq))
						d.exec(fmt.Sprintf("DELETE FROM audit_entries WHERE id = %d", se.Entry.ID))
					}
				}
				d.close()
				// Without a saved head the cut cannot be seen, and the command says so.
				out, _, code := auditVerify(t, c.env, anchor)
				if code != 0 || !strings.Contains(out, "no --trust bundle with an audit head given") {
					t.Fatalf("without --trust: exit %d\n%s", code, out)
				}
				out, errOut, code := auditVerify(t, c.env, anchor, "--trust", bundle)
				want := fmt.Sprintf("seals %d–%d are removed", last+1, head.Seq)
				if code != 1 || !strings.Contains(out, "AUDIT LOG NOT INTACT") || !strings.Contains(out, want) {
					t.Fatalf("cut tail: exit %d, want %q\n%s%s", code, want, out, errOut)
				}
				t.Log(out)
			})

			t.Run("all checkpoints deleted", func(t *testing.T) {
				c := orig.clone(t)
				d := c.open(t)
				all := d.sealed()
				d.exec("DELETE FROM audit_checkpoints")
				d.close()
				out, errOut, code := auditVerify(t, c.env, anchor)
				want := fmt.Sprintf("seals 1–%d (from entry %d) are not covered", all[len(all)-1].Seal.Seq, all[0].Entry.ID)
				if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "no checkpoints at all") {
					t.Fatalf("checkpoints deleted: exit %d, want %q\n%s%s", code, want, out, errOut)
				}
				t.Log(out)
			})

			t.Run("rewritten and re-signed with a planted anchor", func(t *testing.T) {
				c := orig.clone(t)
				d := c.open(t)
				ctx := context.Background()
				all := d.sealed()
				victim := all[len(all)/2].Entry.ID
				d.exec(fmt.Sprintf("UPDATE audit_entries SET actor_id = 'nobody' WHERE id = %d", victim))
				all = d.sealed()
				prev := make([]byte, 32)
				seals := make([]store.AuditSeal, len(all))
				for i, se := range all {
					prev = audit.Chain(prev, audit.Digest(se.Entry))
					seals[i] = store.AuditSeal{Seq: se.Seal.Seq, EntryID: se.Entry.ID, Hash: prev}
				}
				d.exec("DELETE FROM audit_seals")
				d.exec("DELETE FROM audit_checkpoints")
				if err := d.st.AddAuditSeals(ctx, seals); err != nil {
					t.Fatal(err)
				}
				forger, _ := signing.GenerateKey(nil)
				fs := signing.NewSoftwareSigner(signing.Thumbprint(forger.Public()), forger)
				now := time.Now().UTC().Truncate(time.Microsecond)
				if err := d.st.CreateKey(ctx, store.Key{KID: fs.KeyID(), Role: store.RoleAnchor, PublicKey: forger.Public().Bytes(),
					Sealed: []byte{0}, Status: store.KeyRetired, NotBefore: now, CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
				top := seals[len(seals)-1]
				sig, _ := fs.Sign(audit.CheckpointMessage(top.Seq, top.Hash, now))
				if err := d.st.AddAuditCheckpoint(ctx, store.AuditCheckpoint{Seq: top.Seq, Hash: top.Hash, At: now, KeyID: fs.KeyID(), Signature: sig}); err != nil {
					t.Fatal(err)
				}
				d.close()
				out, errOut, code := auditVerify(t, c.env, anchor)
				if code != 1 || !strings.Contains(out, "seals 1–") || !strings.Contains(out, "signed by key "+fs.KeyID()+", which the pinned anchor does not vouch for") {
					t.Fatalf("planted anchor: exit %d\n%s%s", code, out, errOut)
				}
				t.Log(out)
				out, errOut, code = auditVerify(t, c.env, anchor, "--trust", bundle)
				if code != 1 || !strings.Contains(out, "does not match the audit head in "+bundle) {
					t.Fatalf("planted anchor with the bundle: exit %d\n%s%s", code, out, errOut)
				}
				t.Log(out)
				// Pinning the planted key instead is no way round: the saved
				// bundle does not verify against it.
				planted := filepath.Join(t.TempDir(), "planted.pem")
				pemBytes, _ := signing.MarshalPublicKeyPEM(forger.Public())
				os.WriteFile(planted, pemBytes, 0o644)
				if _, errOut, code := auditVerify(t, c.env, planted, "--trust", bundle); code != 2 || !strings.Contains(errOut, "not signed by the pinned anchor") {
					t.Fatalf("bundle against the planted pin: exit %d %s", code, errOut)
				}
			})
		})
	}
}

// TestAuditVerifyUsage: --anchor is required, bad inputs are usage errors
// (exit 2), and a missing database is refused, never created.
func TestAuditVerifyUsage(t *testing.T) {
	data := filepath.Join(t.TempDir(), "nothing-here")
	env := []string{"SUISHEN_DATA_DIR=" + data, "SUISHEN_DATABASE_URL=", "SUISHEN_ADMIN_TOKEN=", "SUISHEN_MASTER_KEY="}
	if _, errOut, code := run(t, env, "audit", "verify"); code != 2 || !strings.Contains(errOut, "--anchor is required") {
		t.Fatalf("no --anchor: exit %d %s", code, errOut)
	}
	pemFile := filepath.Join(t.TempDir(), "a.pem")
	os.WriteFile(pemFile, otherPEM(t), 0o644)
	if _, errOut, code := auditVerify(t, env, pemFile); code != 2 || !strings.Contains(errOut, "no database at") {
		t.Fatalf("no database: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("audit verify created %s: %v", data, err)
	}
	if _, _, code := auditVerify(t, env, filepath.Join(t.TempDir(), "missing.pem")); code != 2 {
		t.Fatalf("unreadable anchor: exit %d", code)
	}
	junk := filepath.Join(t.TempDir(), "junk.jws")
	os.WriteFile(junk, []byte("not a bundle"), 0o644)
	if _, errOut, code := auditVerify(t, env, pemFile, "--trust", junk); code != 2 || !strings.Contains(errOut, "--trust "+junk+": not a trust bundle") {
		t.Fatalf("junk bundle: exit %d %s", code, errOut)
	}
	out, _, code := run(t, nil, "audit", "verify", "--help")
	if code != 0 || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "--trust") {
		t.Fatalf("help: %s", out)
	}
}

// TestAuditVerifyAcrossAnchorRotation: the operator pinned the anchor, then
// rotated it with the CLI while a node ran. The log, with checkpoints by
// both anchors, and a bundle signed by the new anchor verify with the old
// pin and with the new one.
func TestAuditVerifyAcrossAnchorRotation(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			token := "operator-token-0123456789abcdef0123"
			env := []string{"SUISHEN_ADMIN_TOKEN=" + token, "SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff",
				"SUISHEN_DATA_DIR=" + t.TempDir(), "SUISHEN_DATABASE_URL="}
			if backend == "postgres" {
				env[3] = "SUISHEN_DATABASE_URL=" + teststore.PostgresURL(t)
			}
			n := startNode(t, env)
			oldPin := exportAnchor(t, env)
			waitSealed(t, env, oldPin)
			if out, errOut, code := run(t, env, "keys", "rotate", "anchor"); code != 0 || !strings.Contains(out, "retired") {
				t.Fatalf("rotate anchor: %d %s %s", code, out, errOut)
			}
			newPin := exportAnchor(t, env)
			if status, _ := n.call("POST", "/v1/admin/departments", token, map[string]any{"name": "某局", "uscc": "11100000000013338W",
				"level": "区县级", "certificate_types": []string{"11100000000021001C001"}}); status != 201 {
				t.Fatalf("department: %d", status)
			}
			waitSealed(t, env, newPin)
			bundle := filepath.Join(t.TempDir(), "trust.jws")
			if out, errOut, code := run(t, env, "trust", "fetch", "--server", "http://"+n.addr, "--anchor", oldPin, "--lists", "none", "--out", bundle); code != 0 {
				t.Fatalf("trust fetch with the old pin: %s %s", out, errOut)
			}
			n.stop()
			for name, pin := range map[string]string{"old": oldPin, "new": newPin} {
				out, errOut, code := auditVerify(t, env, pin, "--trust", bundle, "--json")
				var r struct {
					OK      bool     `json:"ok"`
					Signed  int      `json:"signed_checkpoints"`
					Anchors []string `json:"anchors"`
					Heads   int      `json:"audit_heads_reached"`
					Problem string   `json:"problem"`
				}
				if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK || len(r.Anchors) != 2 || r.Heads != 1 || r.Signed < 2 {
					t.Errorf("%s pin: exit %d %+v\n%s%s", name, code, r, out, errOut)
				}
			}
			// The new anchor is compromised: the CLI replaces it (and checkpoints
			// with the replacement). Pinned to the replacement the log verifies;
			// pinned to the compromised anchor it does not — its checkpoints
			// prove nothing any more. (--grace 0s: no entry counts as recent.)
			pemBytes, _ := os.ReadFile(newPin)
			newKey, _ := signing.ParsePublicKeyPEM(pemBytes)
			// "--": a thumbprint may begin with "-".
			if out, errOut, code := run(t, env, "keys", "compromised", "--", signing.Thumbprint(newKey)); code != 0 {
				t.Fatalf("compromise: %d %s %s", code, out, errOut)
			}
			replPin := exportAnchor(t, env)
			if out, errOut, code := auditVerify(t, env, replPin, "--grace", "0s"); code != 0 {
				t.Errorf("pinned to the replacement: exit %d\n%s%s", code, out, errOut)
			}
			if out, errOut, code := auditVerify(t, env, newPin, "--grace", "0s"); code != 1 || !strings.Contains(out, "signed by anchor "+signing.Thumbprint(newKey)+", which is marked compromised") {
				t.Errorf("pinned to the compromised anchor: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
