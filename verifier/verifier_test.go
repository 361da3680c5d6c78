package verifier

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/codes"
	"github.com/suishen/suishen/issuer"
	"github.com/suishen/suishen/trust"
)

// TestImports holds the package to its promise: a venue scanner imports it
// alone, without the server, the database or the network.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{"store", "api", "keyring", "issuance", "config", "audit", "cases", "net/http", "database/sql",
		"pgx", "sqlite", "echo", "goose", "prometheus"}
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") || strings.Contains(d, "/"+f) || strings.HasPrefix(d, "github.com/suishen/suishen/"+f) {
				t.Errorf("verifier depends on %s (forbidden: %s)", d, f)
			}
		}
	}
	for _, need := range []string{"github.com/suishen/suishen/signing", "github.com/suishen/suishen/trust",
		"github.com/suishen/suishen/codes", "github.com/suishen/suishen/issuer"} {
		if !seen[need] {
			t.Errorf("go list -deps does not show %s: the check above saw nothing", need)
		}
	}
}

func TestEveryKindValid(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	for _, k := range codes.Kinds() {
		t.Run(k.String(), func(t *testing.T) {
			c := claims(t, k)
			text := issue(t, f.code, c)
			r := v.VerifyCode(text)
			want(t, r, Valid, "")
			if r.Kind != k.String() || r.KeyID != f.code.KeyID() || r.Issuer != f.code.KeyID() {
				t.Fatalf("kind %q key %q issuer %q", r.Kind, r.KeyID, r.Issuer)
			}
			if r.Subject.Masked != c.DisplayName || !r.IssuedAt.Equal(c.IssuedAt) || !r.ExpiresAt.Equal(c.ExpiresAt) {
				t.Fatalf("subject %q issued %v expires %v; want %q %v %v", r.Subject.Masked, r.IssuedAt, r.ExpiresAt,
					c.DisplayName, c.IssuedAt, c.ExpiresAt)
			}
			if r.VenueID != c.VenueID || r.CertificateID != c.CertificateID || r.UseCode != c.UseCode || r.Generation != c.Generation {
				t.Fatalf("fields %+v, claims %+v", r, c)
			}
			if got := v.VerifyCodeOf(text, k); got.Result != Valid {
				t.Fatalf("VerifyCodeOf its own kind: %v", got)
			}
			wantCopy := k == codes.Copy
			if (r.Copy != nil) != wantCopy {
				t.Fatalf("copy %+v for a %s code", r.Copy, k)
			}
			if wantCopy && *r.Copy != (Copy{RecipientOrg: "某某银行上海分行", RecipientUSCC: "91310000MA1K4C2X5R", Purpose: "办理个人贷款",
				Annotation: "仅供某某银行上海分行办理个人贷款使用"}) {
				t.Fatalf("copy %+v", *r.Copy)
			}
		})
	}
	t.Run("presentation without status", func(t *testing.T) {
		text := f.issue(codes.Presentation, func(c *codes.Claims) { c.StatusList, c.StatusIndex = "", 0 })
		want(t, v.VerifyCode(text), Valid, "")
	})
	t.Run("certificate", func(t *testing.T) {
		d := f.document(f.certType, idxGood)
		r := v.VerifyCertificate(signDoc(t, f.dept, d))
		want(t, r, Valid, "")
		end, _ := issuer.ParseDate("2041-06-01")
		if r.Kind != KindCertificate || r.Issuer != deptUSCC || r.KeyID != f.dept.KeyID() || r.TypeCode != issuer.TypeResidentIDCard ||
			r.CertificateID != d.Identifier || r.Subject.Masked != "张**" || !r.ExpiresAt.Equal(end) || !r.IssuedAt.Equal(d.IssuedAt) {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("certificate long-term", func(t *testing.T) {
		r := v.VerifyCertificate(signDoc(t, f.dept, f.document(f.licenceType, idxGood, func(r *issuer.IssueRequest) {
			r.ValidUntil, r.LongTerm = nil, true
		})))
		want(t, r, Valid, "")
		if !r.ExpiresAt.IsZero() {
			t.Fatalf("long-term certificate expires %v", r.ExpiresAt)
		}
	})
	t.Run("certificate without status reference", func(t *testing.T) {
		want(t, v.VerifyCertificate(f.certificate(-1)), Valid, "")
	})
	t.Run("enterprise holder shown whole", func(t *testing.T) {
		f2 := newFixture(t)
		f2.key(f2.dept.KeyID()).CertificateTypes = []string{issuer.TypeBusinessLicence}
		r := f2.verifier().VerifyCertificate(signDoc(t, f2.dept, f2.document(f2.unlistedType, idxGood)))
		want(t, r, Valid, "")
		if r.Subject.Masked != "上海某某餐饮管理有限公司" {
			t.Fatalf("subject %q", r.Subject.Masked)
		}
	})
}

// codeCase is one path through VerifyCode: setup edits the fixture (before
// the bundle is signed) and returns the code text.
type codeCase struct {
	name    string
	setup   func(f *fixture) string
	kinds   []codes.Kind
	opts    Options
	outcome Outcome
	reasons []string // all listed, in this order
}

func TestCodeReasons(t *testing.T) {
	personal := func(f *fixture) string { return f.issue(codes.Personal) }
	offlineAt := func(idx uint32) func(f *fixture) string {
		return func(f *fixture) string {
			return f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idx })
		}
	}
	cases := []codeCase{
		{name: "personal valid", setup: personal, outcome: Valid},
		{name: "empty", setup: func(*fixture) string { return "" }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "not a code", setup: func(*fixture) string { return "https://example.com/?q=1" }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "truncated", setup: func(f *fixture) string { s := personal(f); return s[:len(s)-3] }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "oversized", setup: func(*fixture) string { return "SS1:" + strings.Repeat("0", 700) }, outcome: Invalid, reasons: []string{ReasonOversized}},
		{name: "newer version", setup: func(f *fixture) string { return "SS2:" + personal(f)[4:] }, outcome: Unknown, reasons: []string{ReasonUnsupportedVersion}},
		{name: "unknown kind", setup: func(f *fixture) string {
			c, _ := codes.Parse(personal(f))
			signed := append([]byte{}, c.Signed...)
			signed[len(codes.Domain)] = 9
			return reassemble(signed, c.Signature)
		}, outcome: Unknown, reasons: []string{ReasonUnknownKind}},
		{name: "signature of another code", setup: func(f *fixture) string {
			a, _ := codes.Parse(personal(f))
			b, _ := codes.Parse(f.issue(codes.Personal, func(c *codes.Claims) { c.DisplayName = "李*" }))
			return reassemble(a.Signed, b.Signature)
		}, outcome: Invalid, reasons: []string{ReasonBadSignature}},
		{name: "unknown key", setup: func(f *fixture) string { return issue(f.tb, newSigner(f.tb), claims(f.tb, codes.Personal)) },
			outcome: Unknown, reasons: []string{ReasonUnknownKey}},
		{name: "compromised key", setup: func(f *fixture) string {
			na := testNow.Add(-time.Hour)
			k := f.key(f.code.KeyID())
			k.Status, k.NotAfter = trust.StatusCompromised, &na
			return personal(f)
		}, outcome: Invalid, reasons: []string{ReasonKeyCompromised}},
		{name: "signed by a department key", setup: func(f *fixture) string { return issue(f.tb, f.dept, claims(f.tb, codes.Personal)) },
			outcome: Invalid, reasons: []string{ReasonWrongRole}},
		{name: "signed by the anchor", setup: func(f *fixture) string { return issue(f.tb, f.anchor, claims(f.tb, codes.Venue)) },
			outcome: Invalid, reasons: []string{ReasonWrongRole}},
		{name: "retired key past not_after", setup: func(f *fixture) string {
			na := testNow.Add(-time.Minute)
			k := f.key(f.code.KeyID())
			k.Status, k.NotAfter = trust.StatusRetired, &na
			return f.issue(codes.Offline, func(c *codes.Claims) { c.IssuedAt = testNow.Add(-time.Hour); c.ExpiresAt = testNow.Add(time.Hour) })
		}, outcome: Unknown, reasons: []string{ReasonKeyRetired}},
		{name: "retired key within not_after", setup: func(f *fixture) string {
			na := testNow.Add(time.Minute)
			k := f.key(f.code.KeyID())
			k.Status, k.NotAfter = trust.StatusRetired, &na
			return personal(f)
		}, outcome: Valid},
		{name: "key status not recognised", setup: func(f *fixture) string {
			f.key(f.code.KeyID()).Status = "suspended"
			return personal(f)
		}, outcome: Unknown, reasons: []string{ReasonUnknownKey}},
		{name: "issued before the key's not_before", setup: func(f *fixture) string {
			f.key(f.code.KeyID()).NotBefore = testNow.Add(time.Hour)
			return personal(f)
		}, outcome: Unknown, reasons: []string{ReasonKeyNotYetValid}},
		{name: "expired", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(-2 * time.Minute)
				c.ExpiresAt = testNow.Add(-time.Minute)
			})
		}, outcome: Invalid, reasons: []string{ReasonExpired}},
		{name: "expired within the skew", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(-80 * time.Second)
				c.ExpiresAt = testNow.Add(-20 * time.Second)
			})
		}, outcome: Valid},
		{name: "expired within the skew, no skew", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(-80 * time.Second)
				c.ExpiresAt = testNow.Add(-20 * time.Second)
			})
		}, opts: Options{Skew: -1}, outcome: Invalid, reasons: []string{ReasonExpired}},
		{name: "not yet valid", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(5 * time.Minute)
				c.ExpiresAt = testNow.Add(6 * time.Minute)
			})
		}, outcome: Invalid, reasons: []string{ReasonNotYetValid}},
		{name: "not yet valid within the skew", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(20 * time.Second)
				c.ExpiresAt = testNow.Add(80 * time.Second)
			})
		}, outcome: Valid},
		{name: "wider skew", setup: func(f *fixture) string {
			return f.issue(codes.Personal, func(c *codes.Claims) {
				c.IssuedAt = testNow.Add(90 * time.Second)
				c.ExpiresAt = testNow.Add(150 * time.Second)
			})
		}, opts: Options{Skew: 2 * time.Minute}, outcome: Valid},
		{name: "wrong kind", setup: func(f *fixture) string { return f.issue(codes.Venue) }, kinds: []codes.Kind{codes.Personal, codes.Offline},
			outcome: Invalid, reasons: []string{ReasonWrongKind}},
		{name: "offline good", setup: offlineAt(idxGood), outcome: Valid},
		{name: "offline suspended", setup: offlineAt(idxSuspended), outcome: Invalid, reasons: []string{ReasonSuspended}},
		{name: "offline revoked", setup: offlineAt(idxRevoked), outcome: Invalid, reasons: []string{ReasonRevoked}},
		{name: "offline superseded (a newer generation)", setup: offlineAt(idxSuperseded), outcome: Invalid, reasons: []string{ReasonSuperseded}},
		{name: "enterprise revoked", setup: func(f *fixture) string {
			return f.issue(codes.Enterprise, func(c *codes.Claims) { c.StatusIndex = idxRevoked })
		}, outcome: Invalid, reasons: []string{ReasonRevoked}},
		{name: "venue suspended", setup: func(f *fixture) string {
			return f.issue(codes.Venue, func(c *codes.Claims) { c.StatusIndex = idxSuspended })
		}, outcome: Invalid, reasons: []string{ReasonSuspended}},
		{name: "presentation of a revoked certificate", setup: func(f *fixture) string {
			return f.issue(codes.Presentation, func(c *codes.Claims) { c.StatusIndex = idxRevoked })
		}, outcome: Invalid, reasons: []string{ReasonRevoked}},
		{name: "copy of a revoked certificate", setup: func(f *fixture) string {
			return f.issue(codes.Copy, func(c *codes.Claims) { c.StatusIndex = idxRevoked })
		}, outcome: Invalid, reasons: []string{ReasonRevoked}},
		{name: "copy of a suspended certificate", setup: func(f *fixture) string {
			return f.issue(codes.Copy, func(c *codes.Claims) { c.StatusIndex = idxSuspended })
		}, outcome: Invalid, reasons: []string{ReasonSuspended}},
		{name: "copy of a superseded version", setup: func(f *fixture) string {
			return f.issue(codes.Copy, func(c *codes.Claims) { c.StatusIndex = idxSuperseded })
		}, outcome: Invalid, reasons: []string{ReasonSuperseded}},
		{name: "copy expired", setup: func(f *fixture) string {
			return f.issue(codes.Copy, func(c *codes.Claims) {
				c.IssuedAt, c.ExpiresAt = testNow.Add(-29*24*time.Hour), testNow.Add(-time.Hour)
			})
		}, outcome: Invalid, reasons: []string{ReasonExpired}},
		{name: "copy whose status list is missing", setup: func(f *fixture) string {
			return f.issue(codes.Copy, func(c *codes.Claims) { c.StatusList = "c-none-9" })
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "copy not accepted where persons are scanned", setup: func(f *fixture) string { return f.issue(codes.Copy) },
			kinds: []codes.Kind{codes.Personal, codes.Offline}, outcome: Invalid, reasons: []string{ReasonWrongKind}},
		{name: "index outside the list", setup: offlineAt(idxOutside), outcome: Unknown, reasons: []string{ReasonStatusUnknown}},
		{name: "largest index", setup: offlineAt(1<<32 - 1), outcome: Unknown, reasons: []string{ReasonStatusUnknown}},
		{name: "status list missing", setup: func(f *fixture) string {
			return f.issue(codes.Offline, func(c *codes.Claims) { c.StatusList = "offline-9" })
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "bundle without status lists", setup: func(f *fixture) string {
			f.bundle.StatusLists = []trust.StatusListRef{}
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list not held by the source", setup: func(f *fixture) string {
			ref := f.signList(f.anchor, f.codeSL, f.statusListValidUntil)
			delete(f.held, ref.ID)
			f.bundle.StatusLists = []trust.StatusListRef{ref}
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list with another digest than the bundle pins", setup: func(f *fixture) string {
			// A genuine, anchor-signed list, but not the one the bundle
			// pins (e.g. an older one from before a revocation).
			ref := f.signList(f.anchor, f.codeSL, f.statusListValidUntil)
			f.held[ref.ID] = f.signListJWS(f.anchor, issuer.NewStatusList(ref.ID, f.codeSL.Size), f.statusListValidUntil)
			f.bundle.StatusLists = []trust.StatusListRef{ref}
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list reference without a digest", setup: func(f *fixture) string {
			ref := f.signList(f.anchor, f.codeSL, f.statusListValidUntil)
			ref.SM3 = ""
			f.bundle.StatusLists = []trust.StatusListRef{ref}
			return offlineAt(idxGood)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list signed by the code key", setup: func(f *fixture) string {
			f.bundle.StatusLists = []trust.StatusListRef{f.signList(f.code, f.codeSL, f.statusListValidUntil)}
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list signed by a stranger", setup: func(f *fixture) string {
			f.bundle.StatusLists = []trust.StatusListRef{f.signList(newSigner(f.tb), f.codeSL, f.statusListValidUntil)}
			return offlineAt(idxGood)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list signed by a compromised anchor", setup: func(f *fixture) string {
			f.key(f.anchor.KeyID()).Status = trust.StatusCompromised
			return offlineAt(idxGood)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list under another id", setup: func(f *fixture) string {
			ref := f.signList(f.anchor, f.certSL, f.statusListValidUntil)
			f.held[codeList] = f.held[ref.ID]
			ref.ID = codeList
			f.bundle.StatusLists = []trust.StatusListRef{ref}
			return offlineAt(idxGood)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list past valid_until", setup: func(f *fixture) string {
			f.statusListValidUntil = testNow.Add(-time.Minute)
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListExpired}},
		{name: "expired and revoked", setup: func(f *fixture) string {
			return f.issue(codes.Offline, func(c *codes.Claims) {
				c.StatusIndex, c.IssuedAt, c.ExpiresAt = idxRevoked, testNow.Add(-48*time.Hour), testNow.Add(-time.Hour)
			})
		}, outcome: Invalid, reasons: []string{ReasonExpired, ReasonRevoked}},
		{name: "expired, status list missing: invalid wins", setup: func(f *fixture) string {
			return f.issue(codes.Offline, func(c *codes.Claims) {
				c.StatusList, c.IssuedAt, c.ExpiresAt = "offline-9", testNow.Add(-48*time.Hour), testNow.Add(-time.Hour)
			})
		}, outcome: Invalid, reasons: []string{ReasonExpired, ReasonStatusListMissing}},
		{name: "stale bundle, otherwise valid", setup: func(f *fixture) string {
			f.bundle.ExpiresAt = testNow
			return personal(f)
		}, outcome: Unknown, reasons: []string{ReasonBundleExpired}},
		{name: "stale bundle, revoked", setup: func(f *fixture) string {
			f.bundle.ExpiresAt = testNow.Add(-time.Second)
			return offlineAt(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonBundleExpired}},
		{name: "stale bundle, garbage", setup: func(f *fixture) string {
			f.bundle.ExpiresAt = testNow.Add(-time.Second)
			return "garbage"
		}, outcome: Unknown, reasons: []string{ReasonBundleExpired}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			text := tc.setup(f)
			r := f.verifier(tc.opts).VerifyCodeOf(text, tc.kinds...)
			want(t, r, tc.outcome, "")
			var got []string
			for _, x := range r.Reasons {
				got = append(got, x.Code)
			}
			if strings.Join(got, ",") != strings.Join(tc.reasons, ",") {
				t.Fatalf("reasons %v, want %v", r.Reasons, tc.reasons)
			}
			if len(text) > 20 && strings.Contains(mustJSON(t, r.Reasons), text[4:20]) {
				t.Fatalf("a reason repeats the code text: %v", r.Reasons)
			}
		})
	}
}

// Claims of a code whose signature does not verify are never shown.
func TestUnverifiedClaimsHidden(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	a, _ := codes.Parse(f.issue(codes.Personal))
	b, _ := codes.Parse(f.issue(codes.Personal, func(c *codes.Claims) { c.DisplayName = "李*" }))
	r := v.VerifyCode(reassemble(a.Signed, b.Signature))
	want(t, r, Invalid, ReasonBadSignature)
	if r.Kind != "personal" || r.Subject.Masked != "" || r.KeyID != "" || !r.ExpiresAt.IsZero() {
		t.Fatalf("unverified claims shown: %+v", r)
	}
	r = v.VerifyCode(issue(t, newSigner(t), claims(t, codes.Personal)))
	if r.Subject.Masked != "" || !r.IssuedAt.IsZero() {
		t.Fatalf("claims under an unknown key shown: %+v", r)
	}
}

type certCase struct {
	name    string
	setup   func(f *fixture) string
	outcome Outcome
	reasons []string
}

func TestCertificateReasons(t *testing.T) {
	good := func(f *fixture) string { return f.certificate(idxGood) }
	at := func(idx int) func(f *fixture) string { return func(f *fixture) string { return f.certificate(idx) } }
	dates := func(from, until string) func(f *fixture) string {
		return func(f *fixture) string {
			return f.certificate(idxGood, func(r *issuer.IssueRequest) {
				fr, _ := issuer.ParseDate(from)
				u, _ := issuer.ParseDate(until)
				r.ValidFrom, r.ValidUntil = fr, &u
			})
		}
	}
	cstToday := issuer.FormatDate(testNow)
	cstYesterday := issuer.FormatDate(testNow.AddDate(0, 0, -1))
	cstTomorrow := issuer.FormatDate(testNow.AddDate(0, 0, 1))
	cases := []certCase{
		{name: "valid", setup: good, outcome: Valid},
		{name: "empty", setup: func(*fixture) string { return "" }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "three dots", setup: func(*fixture) string { return "a.b.c" }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "trailing newline", setup: func(f *fixture) string { return good(f) + "\n" }, outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "another alg", setup: func(f *fixture) string {
			return jwsWithHeader(good(f), map[string]any{"alg": "ES256", "kid": f.dept.KeyID(), "typ": issuer.DocumentTyp})
		}, outcome: Invalid, reasons: []string{ReasonUnsupportedAlgorithm}},
		{name: "header swapped to another key", setup: func(f *fixture) string {
			return jwsWithHeader(good(f), map[string]any{"alg": "SM2", "kid": f.code.KeyID(), "typ": issuer.DocumentTyp})
		}, outcome: Invalid, reasons: []string{ReasonBadSignature}},
		{name: "payload altered", setup: func(f *fixture) string {
			d := f.document(f.certType, idxGood)
			jws := signDoc(f.tb, f.dept, d)
			d.StatusList.Index = idxGood + 100
			p, _ := json.Marshal(d)
			return jwsWithPayload(jws, p)
		}, outcome: Invalid, reasons: []string{ReasonBadSignature}},
		{name: "unknown key", setup: func(f *fixture) string { return signDoc(f.tb, newSigner(f.tb), f.document(f.certType, idxGood)) },
			outcome: Unknown, reasons: []string{ReasonUnknownKey}},
		{name: "compromised department key", setup: func(f *fixture) string {
			f.key(f.dept.KeyID()).Status = trust.StatusCompromised
			return good(f)
		}, outcome: Invalid, reasons: []string{ReasonKeyCompromised}},
		{name: "signed by the code key", setup: func(f *fixture) string { return signDoc(f.tb, f.code, f.document(f.certType, idxGood)) },
			outcome: Invalid, reasons: []string{ReasonWrongRole}},
		{name: "type the key is not listed for", setup: func(f *fixture) string {
			return signDoc(f.tb, f.dept, f.document(f.unlistedType, idxGood))
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "key with no types", setup: func(f *fixture) string {
			f.key(f.dept.KeyID()).CertificateTypes = nil
			return good(f)
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "type authorised when issued, withdrawn since", setup: func(f *fixture) string {
			until := testNow.Add(-2 * time.Hour)
			k := f.key(f.dept.KeyID())
			k.CertificateTypes = []string{issuer.TypeDrivingLicence}
			k.TypePeriods = []trust.TypePeriod{{TypeCode: issuer.TypeResidentIDCard, From: testNow.Add(-48 * time.Hour), Until: &until}}
			return good(f)
		}, outcome: Valid},
		{name: "type authorised only after issuance", setup: func(f *fixture) string {
			f.key(f.dept.KeyID()).TypePeriods = []trust.TypePeriod{{TypeCode: issuer.TypeResidentIDCard, From: testNow.Add(-12 * time.Hour)}}
			return good(f)
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "type authorisation ended before issuance", setup: func(f *fixture) string {
			until := testNow.Add(-48 * time.Hour)
			f.key(f.dept.KeyID()).TypePeriods = []trust.TypePeriod{{TypeCode: issuer.TypeResidentIDCard, From: testNow.Add(-72 * time.Hour), Until: &until}}
			return good(f)
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "certificate newer than the bundle, its authorisation not shown", setup: func(f *fixture) string {
			until := testNow.Add(-30 * time.Hour)
			f.bundle.IssuedAt = testNow.Add(-25 * time.Hour)
			f.key(f.dept.KeyID()).TypePeriods = []trust.TypePeriod{{TypeCode: issuer.TypeResidentIDCard, From: testNow.Add(-72 * time.Hour), Until: &until}}
			return good(f)
		}, outcome: Unknown, reasons: []string{ReasonBundleOutdated}},
		{name: "another department's certificate", setup: func(f *fixture) string {
			return signDoc(f.tb, f.dept, f.documentBy(f.certType, otherUSCC(f.tb), idxGood))
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "retired key past not_after", setup: func(f *fixture) string {
			na := testNow.Add(-time.Hour)
			k := f.key(f.dept.KeyID())
			k.Status, k.NotAfter = trust.StatusRetired, &na
			return good(f)
		}, outcome: Unknown, reasons: []string{ReasonKeyRetired}},
		{name: "retired key within not_after", setup: func(f *fixture) string {
			na := testNow.Add(time.Hour)
			k := f.key(f.dept.KeyID())
			k.Status, k.NotAfter = trust.StatusRetired, &na
			return good(f)
		}, outcome: Valid},
		{name: "retired key past not_after, type not listed: invalid first", setup: func(f *fixture) string {
			na := testNow.Add(-time.Hour)
			k := f.key(f.dept.KeyID())
			k.Status, k.NotAfter = trust.StatusRetired, &na
			return signDoc(f.tb, f.dept, f.document(f.unlistedType, idxGood))
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "unrecognised key status, another department: invalid first", setup: func(f *fixture) string {
			f.key(f.dept.KeyID()).Status = "paused"
			return signDoc(f.tb, f.dept, f.documentBy(f.certType, otherUSCC(f.tb), idxGood))
		}, outcome: Invalid, reasons: []string{ReasonKeyNotTrustedForType}},
		{name: "compromised code key signing a certificate", setup: func(f *fixture) string {
			f.key(f.code.KeyID()).Status = trust.StatusCompromised
			return signDoc(f.tb, f.code, f.document(f.certType, idxGood))
		}, outcome: Invalid, reasons: []string{ReasonKeyCompromised}},
		{name: "issued before the key's not_before", setup: func(f *fixture) string {
			f.key(f.dept.KeyID()).NotBefore = testNow.Add(-time.Hour)
			return good(f) // issued_at is a day ago
		}, outcome: Unknown, reasons: []string{ReasonKeyNotYetValid}},
		{name: "valid until today", setup: dates("2021-06-01", cstToday), outcome: Valid},
		{name: "expired yesterday", setup: dates("2021-06-01", cstYesterday), outcome: Invalid, reasons: []string{ReasonExpired}},
		{name: "valid from tomorrow", setup: dates(cstTomorrow, "2041-01-01"), outcome: Invalid, reasons: []string{ReasonNotYetValid}},
		{name: "valid from today", setup: dates(cstToday, "2041-01-01"), outcome: Valid},
		{name: "suspended", setup: at(idxSuspended), outcome: Invalid, reasons: []string{ReasonSuspended}},
		{name: "revoked", setup: at(idxRevoked), outcome: Invalid, reasons: []string{ReasonRevoked}},
		{name: "superseded", setup: at(idxSuperseded), outcome: Invalid, reasons: []string{ReasonSuperseded}},
		{name: "expired and revoked", setup: func(f *fixture) string {
			return f.certificate(idxRevoked, func(r *issuer.IssueRequest) { u, _ := issuer.ParseDate(cstYesterday); r.ValidUntil = &u })
		}, outcome: Invalid, reasons: []string{ReasonExpired, ReasonRevoked}},
		{name: "status list missing", setup: func(f *fixture) string {
			f.bundle.StatusLists = []trust.StatusListRef{f.signList(f.anchor, f.codeSL, f.statusListValidUntil)}
			return at(idxRevoked)(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list signed by the department key", setup: func(f *fixture) string {
			f.bundle.StatusLists = []trust.StatusListRef{f.signList(f.dept, f.certSL, f.statusListValidUntil)}
			return good(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListMissing}},
		{name: "status list past valid_until", setup: func(f *fixture) string {
			f.statusListValidUntil = testNow
			return good(f)
		}, outcome: Unknown, reasons: []string{ReasonStatusListExpired}},
		{name: "a status list is not a certificate", setup: func(f *fixture) string {
			return f.signListJWS(f.anchor, f.certSL, f.statusListValidUntil)
		}, outcome: Invalid, reasons: []string{ReasonWrongKind}},
		{name: "a trust bundle is not a certificate", setup: func(f *fixture) string { return f.jws() },
			outcome: Invalid, reasons: []string{ReasonWrongKind}},
		{name: "a code is not a certificate", setup: func(f *fixture) string { return f.issue(codes.Personal) },
			outcome: Invalid, reasons: []string{ReasonMalformed}},
		{name: "stale bundle", setup: func(f *fixture) string {
			f.bundle.ExpiresAt = testNow.Add(-time.Second)
			return good(f)
		}, outcome: Unknown, reasons: []string{ReasonBundleExpired}},
		{name: "stale bundle, bad signature", setup: func(f *fixture) string {
			f.bundle.ExpiresAt = testNow.Add(-time.Second)
			return signDoc(f.tb, newSigner(f.tb), f.document(f.certType, idxGood))
		}, outcome: Unknown, reasons: []string{ReasonBundleExpired}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			jws := tc.setup(f)
			r := f.verifier().VerifyCertificate(jws)
			want(t, r, tc.outcome, "")
			var got []string
			for _, x := range r.Reasons {
				got = append(got, x.Code)
			}
			if strings.Join(got, ",") != strings.Join(tc.reasons, ",") {
				t.Fatalf("reasons %v, want %v", r.Reasons, tc.reasons)
			}
			if r.Kind != KindCertificate {
				t.Fatalf("kind %q", r.Kind)
			}
			if s := mustJSON(t, r); strings.Contains(s, citizenID) || strings.Contains(s, "张三丰") {
				t.Fatalf("personal data in the result: %s", s)
			}
		})
	}
}

// TestAlteredNeverValid changes every character of genuine codes and
// certificates, truncates and extends them: nothing is ever valid.
func TestAlteredNeverValid(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	const codeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	var texts []string
	for _, k := range codes.Kinds() {
		texts = append(texts, f.issue(k))
	}
	checked := 0
	for _, text := range texts {
		want(t, v.VerifyCode(text), Valid, "")
		for i := range len(text) {
			for _, alt := range []byte{codeAlphabet[(indexOr0(codeAlphabet, text[i])+1)%45], codeAlphabet[(indexOr0(codeAlphabet, text[i])+17)%45], 'a'} {
				if alt == text[i] {
					continue
				}
				mut := text[:i] + string(alt) + text[i+1:]
				if r := v.VerifyCode(mut); r.Result == Valid {
					t.Fatalf("code altered at %d (%q→%q) is valid", i, text[i], alt)
				}
				checked++
			}
			if r := v.VerifyCode(text[:i]); r.Result == Valid {
				t.Fatalf("code truncated to %d is valid", i)
			}
		}
		for _, extra := range []string{"0", " ", "\n", "00"} {
			if r := v.VerifyCode(text + extra); r.Result == Valid {
				t.Fatalf("code + %q is valid", extra)
			}
		}
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, jws := range []string{f.certificate(idxGood), signDoc(t, f.dept, f.document(f.licenceType, idxGood))} {
		want(t, v.VerifyCertificate(jws), Valid, "")
		for i := range len(jws) {
			for _, alt := range []byte{b64[(indexOr0(b64, jws[i])+1)%64], '.'} {
				if alt == jws[i] {
					continue
				}
				if r := v.VerifyCertificate(jws[:i] + string(alt) + jws[i+1:]); r.Result == Valid {
					t.Fatalf("JWS altered at %d (%q→%q) is valid", i, jws[i], alt)
				}
				checked++
			}
		}
		for _, n := range []int{1, 2, 3, 10, len(jws) / 2} {
			if r := v.VerifyCertificate(jws[:len(jws)-n]); r.Result == Valid {
				t.Fatalf("JWS without its last %d characters is valid", n)
			}
		}
		if r := v.VerifyCertificate(jws + "A"); r.Result == Valid {
			t.Fatal("JWS + A is valid")
		}
	}
	t.Logf("%d altered inputs, none valid", checked)
}

func indexOr0(s string, c byte) int { return max(strings.IndexByte(s, c), 0) }

func TestNew(t *testing.T) {
	f := newFixture(t)
	jws := f.jws()
	now := func() time.Time { return testNow }
	if _, err := New(jws, nil, Options{Now: now}); !errors.Is(err, ErrNoAnchor) {
		t.Fatalf("nil anchor: %v", err)
	}
	if _, err := New(jws, newSigner(t).Public(), Options{Now: now}); !errors.Is(err, trust.ErrNotSignedByAnchor) {
		t.Fatalf("another anchor: %v", err)
	}
	for _, bad := range []string{"", "garbage", jws[:len(jws)-2], f.certificate(idxGood)} {
		if _, err := New(bad, f.anchor.Public(), Options{Now: now}); err == nil {
			t.Fatalf("bundle %.20q loaded", bad)
		}
	}
	// A bundle signed by another key, listing the pinned anchor, is refused.
	forged, err := trust.Sign(f.code, f.bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(forged, f.anchor.Public(), Options{Now: now}); !errors.Is(err, trust.ErrNotSignedByAnchor) {
		t.Fatalf("forged bundle: %v", err)
	}

	v, err := New(jws, f.anchor.Public(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if v.Expired() || !v.NeedsUpdate() {
		t.Fatalf("expired %v, needs update %v", v.Expired(), v.NeedsUpdate())
	}
	b := v.Bundle()
	if len(b.Keys) != 3 || len(b.StatusLists) != 2 || !b.ExpiresAt.Equal(f.bundle.ExpiresAt) {
		t.Fatalf("bundle %+v", b)
	}
	b.Keys[0].Role = "changed"
	if v.Bundle().Keys[0].Role == "changed" {
		t.Fatal("Bundle returns the verifier's own slice")
	}

	// An expired bundle loads, and nothing is valid under it.
	lateAt := f.bundle.ExpiresAt.Add(time.Hour)
	late := func() time.Time { return lateAt }
	v, err = New(jws, f.anchor.Public(), Options{Now: late})
	if err != nil {
		t.Fatalf("expired bundle: %v", err)
	}
	if !v.Expired() {
		t.Fatal("not expired")
	}
	code := issue(t, f.code, codes.Claims{Kind: codes.Personal, IssuedAt: late(), Subject: []byte{1}})
	r := v.VerifyCode(code)
	want(t, r, Unknown, ReasonBundleExpired)
	if r.Kind != "personal" || r.KeyID != f.code.KeyID() {
		t.Fatalf("descriptive fields dropped: %+v", r)
	}
	// The same verifier becomes useful again only with a fresh bundle.
	f.bundle.IssuedAt, f.bundle.ExpiresAt = late(), late().Add(time.Hour)
	f.statusListValidUntil = late().Add(time.Hour)
	v, err = New(f.jws(), f.anchor.Public(), Options{Now: late})
	if err != nil {
		t.Fatal(err)
	}
	want(t, v.VerifyCode(code), Valid, "")
}

// TestEndorsedAnchor: a verifier pinned to the old anchor accepts a bundle
// signed by the new one through the old one's endorsement.
func TestEndorsedAnchor(t *testing.T) {
	f := newFixture(t)
	old := f.anchor
	f.anchor = newSigner(t)
	e, err := trust.Endorse(old, f.anchor.Public(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	f.bundle.Endorsements = []string{e}
	f.bundle.Keys = append(f.bundle.Keys, trustKey(f.anchor, trust.RoleAnchor))
	v, err := New(f.jws(), old.Public(), Options{Now: func() time.Time { return testNow }, Lists: f.held})
	if err != nil {
		t.Fatal(err)
	}
	want(t, v.VerifyCode(f.issue(codes.Offline, func(c *codes.Claims) { c.StatusIndex = idxRevoked })), Invalid, ReasonRevoked)
	f.bundle.Endorsements = nil
	if _, err := New(f.jws(), old.Public(), Options{Now: func() time.Time { return testNow }}); err == nil {
		t.Fatal("bundle of an unendorsed new anchor loaded")
	}
}

// TestClock: results follow Options.Now, call by call.
func TestClock(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	now := testNow
	v := f.verifier(Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	text := f.issue(codes.Personal)
	want(t, v.VerifyCode(text), Valid, "")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	want(t, v.VerifyCode(text), Invalid, ReasonExpired)
	mu.Lock()
	now = f.bundle.ExpiresAt
	mu.Unlock()
	want(t, v.VerifyCode(text), Unknown, ReasonBundleExpired)
}

// TestStatusListCached: a list is verified and decoded once, by whichever
// verification needs it first, even under concurrency (run with -race).
func TestStatusListCached(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	sl := v.lists[codeList]
	if sl == nil || sl.list != nil {
		t.Fatal("list decoded before use")
	}
	texts := []string{f.issue(codes.Offline), f.issue(codes.Venue, func(c *codes.Claims) { c.StatusIndex = idxSuspended })}
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = v.VerifyCode(texts[i%2])
		}()
	}
	wg.Wait()
	for i, r := range results {
		if i%2 == 0 {
			want(t, r, Valid, "")
		} else {
			want(t, r, Invalid, ReasonSuspended)
		}
	}
	first := sl.list
	if first == nil || v.lists[certList].list != nil {
		t.Fatal("the code list was not decoded, or the certificate list was")
	}
	want(t, v.VerifyCode(texts[0]), Valid, "")
	if sl.list != first {
		t.Fatal("list decoded again")
	}
	allocs := testing.AllocsPerRun(20, func() { v.VerifyCode(texts[0]) })
	if allocs > 40 {
		t.Fatalf("%.0f allocations per cached verification", allocs)
	}
}

func TestResultJSON(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	s := mustJSON(t, v.VerifyCode(f.issue(codes.Personal)))
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	if m["result"] != "valid" || m["kind"] != "personal" || m["subject"].(map[string]any)["masked"] != "张*" {
		t.Fatalf("JSON %s", s)
	}
	if r, ok := m["reasons"].([]any); !ok || len(r) != 0 {
		t.Fatalf("reasons of a valid result must be [] in JSON: %s", s)
	}
	if _, ok := m["venue_id"]; ok {
		t.Fatalf("empty fields present: %s", s)
	}
	if _, err := time.Parse(time.RFC3339, m["expires_at"].(string)); err != nil {
		t.Fatalf("expires_at: %v", err)
	}
	s = mustJSON(t, v.VerifyCode("nope"))
	if !strings.Contains(s, `"result":"invalid"`) || !strings.Contains(s, `"code":"malformed"`) || strings.Contains(s, "issued_at") {
		t.Fatalf("JSON %s", s)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Keys whose JWK does not parse are left out of the bundle's index.
func TestBrokenKeySkipped(t *testing.T) {
	f := newFixture(t)
	k := f.key(f.code.KeyID())
	k.X = k.Y
	v := f.verifier()
	want(t, v.VerifyCode(f.issue(codes.Personal)), Unknown, ReasonUnknownKey)
}
