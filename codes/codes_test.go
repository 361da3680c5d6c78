package codes

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/suishen/suishen/signing"
)

func assertClaims(t testing.TB, got, want Claims) {
	t.Helper()
	if !bytes.Equal(got.Subject, want.Subject) {
		t.Errorf("%s: subject %x, want %x", want.Kind, got.Subject, want.Subject)
	}
	got.Subject, want.Subject = nil, nil
	want.IssuedAt = want.IssuedAt.Truncate(time.Second).UTC()
	want.ExpiresAt = want.ExpiresAt.Truncate(time.Second).UTC()
	if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("%s: times %s–%s, want %s–%s", want.Kind, got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
	}
	got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claims\n got %+v\nwant %+v", got, want)
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	s := testSigner(t, "round trip")
	lookup := KeysByHint(s.Public())
	for _, k := range Kinds() {
		t.Run(k.String(), func(t *testing.T) {
			want := sampleClaims(t, k)
			text := mustIssue(t, s, want)
			if !strings.HasPrefix(text, Prefix) || !IsQRAlphanumeric(text) {
				t.Fatalf("text %q is not an SS1 alphanumeric text", text)
			}
			c := mustParse(t, text)
			assertClaims(t, c.Claims, want)
			if c.Version != 1 || c.Text != text || !bytes.Equal(c.KeyHint, KeyHint(s.Public())) {
				t.Fatalf("version %d hint %x", c.Version, c.KeyHint)
			}
			if !bytes.HasPrefix(c.Signed, []byte(Domain)) || len(c.Signature) != 64 {
				t.Fatal("signed bytes or signature")
			}
			kid, err := c.Verify(lookup)
			if err != nil || kid != signing.Thumbprint(s.Public()) {
				t.Fatalf("Verify = %q, %v", kid, err)
			}
			if err := c.CheckTime(want.IssuedAt.Add(time.Second), 0); err != nil {
				t.Fatal(err)
			}
			if err := c.Expect(k); err != nil {
				t.Fatal(err)
			}
			other := Personal
			if k == Personal {
				other = Venue
			}
			wantReason(t, c.Expect(other), ReasonWrongKind)
			if !errors.Is(c.Expect(other), ErrWrongKind) {
				t.Fatal("errors.Is(ErrWrongKind)")
			}
			// Independent of the signature's randomness, the claims part is
			// deterministic.
			text2 := mustIssue(t, s, want)
			if text2 == text {
				t.Fatal("two issues gave the same text: signatures are randomised")
			}
			c2 := mustParse(t, text2)
			if !bytes.Equal(c2.Signed, c.Signed) {
				t.Fatal("claims bytes differ between two issues of the same claims")
			}
		})
	}
}

func TestIssueDefaults(t *testing.T) {
	s := testSigner(t, "defaults")
	before := time.Now().Truncate(time.Second)
	text := mustIssue(t, s, Claims{Kind: Personal, Subject: []byte{1, 2, 3}})
	c := mustParse(t, text)
	if c.IssuedAt.Before(before) || c.IssuedAt.After(time.Now()) {
		t.Fatalf("issued-at %s", c.IssuedAt)
	}
	if c.ExpiresAt.Sub(c.IssuedAt) != 60*time.Second {
		t.Fatalf("lifetime %s", c.ExpiresAt.Sub(c.IssuedAt))
	}
	// Sub-second parts are dropped.
	at := goldenIssued.Add(700 * time.Millisecond)
	c = mustParse(t, mustIssue(t, s, Claims{Kind: Personal, Subject: []byte{1}, IssuedAt: at, ExpiresAt: at.Add(90 * time.Second)}))
	if !c.IssuedAt.Equal(goldenIssued) || c.ExpiresAt.Sub(c.IssuedAt) != 90*time.Second {
		t.Fatalf("times %s %s", c.IssuedAt, c.ExpiresAt)
	}
}

func TestIssueRejectsInvalidClaims(t *testing.T) {
	s := testSigner(t, "invalid")
	mod := func(k Kind, f func(*Claims)) Claims {
		c := sampleClaims(t, k)
		f(&c)
		return c
	}
	cases := map[string]Claims{
		"kind 0":                     {Subject: []byte{1}},
		"kind 7":                     {Kind: 7, Subject: []byte{1}},
		"personal without subject":   mod(Personal, func(c *Claims) { c.Subject = nil }),
		"personal subject 17":        mod(Personal, func(c *Claims) { c.Subject = make([]byte, 17) }),
		"personal name 19 bytes":     mod(Personal, func(c *Claims) { c.DisplayName = "阿卜杜热合曼x" }),
		"name with control":          mod(Personal, func(c *Claims) { c.DisplayName = "张\n" }),
		"name with bidi override":    mod(Personal, func(c *Claims) { c.DisplayName = "张\u202e" }),
		"name invalid utf8":          mod(Personal, func(c *Claims) { c.DisplayName = "\xff" }),
		"personal lifetime 24h+1s":   mod(Personal, func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(day + time.Second) }),
		"expiry before issue":        mod(Personal, func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }),
		"expiry equals issue":        mod(Personal, func(c *Claims) { c.ExpiresAt = c.IssuedAt }),
		"before epoch":               mod(Personal, func(c *Claims) { c.IssuedAt = Epoch.Add(-time.Second) }),
		"after 2156":                 mod(Personal, func(c *Claims) { c.IssuedAt = Epoch.Add(math.MaxUint32 * time.Second) }),
		"personal with status":       mod(Personal, func(c *Claims) { c.StatusList = "x" }),
		"personal with generation":   mod(Personal, func(c *Claims) { c.Generation = 1 }),
		"personal with venue":        mod(Personal, func(c *Claims) { c.VenueID = "v" }),
		"personal with use code":     mod(Personal, func(c *Claims) { c.UseCode = "ABCDEF" }),
		"offline generation 0":       mod(Offline, func(c *Claims) { c.Generation = 0 }),
		"offline without status":     mod(Offline, func(c *Claims) { c.StatusList = "" }),
		"offline 401 days":           mod(Offline, func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(401 * day) }),
		"enterprise without status":  mod(Enterprise, func(c *Claims) { c.StatusList, c.StatusIndex = "", 0 }),
		"status list bad char":       mod(Enterprise, func(c *Claims) { c.StatusList = "a b" }),
		"status list 65":             mod(Enterprise, func(c *Claims) { c.StatusList = strings.Repeat("a", 65) }),
		"venue without venue id":     mod(Venue, func(c *Claims) { c.VenueID = "" }),
		"venue id bad char":          mod(Venue, func(c *Claims) { c.VenueID = "场所" }),
		"venue subject 33":           mod(Venue, func(c *Claims) { c.Subject = make([]byte, 33) }),
		"enterprise name 65":         mod(Enterprise, func(c *Claims) { c.DisplayName = strings.Repeat("x", 65) }),
		"presentation no cert":       mod(Presentation, func(c *Claims) { c.CertificateID = "" }),
		"presentation root only":     mod(Presentation, func(c *Claims) { c.CertificateID = CertificateIDRoot }),
		"presentation cert too long": mod(Presentation, func(c *Claims) { c.CertificateID = strings.Repeat("A", 128) }),
		"presentation short use":     mod(Presentation, func(c *Claims) { c.UseCode = "ABCDE" }),
		"presentation use with O":    mod(Presentation, func(c *Claims) { c.UseCode = "ABCDEO" }),
		"presentation lower use":     mod(Presentation, func(c *Claims) { c.UseCode = "abcdef" }),
		"index without list":         mod(Presentation, func(c *Claims) { c.StatusList = "" }),
		"copy without status":        mod(Copy, func(c *Claims) { c.StatusList, c.StatusIndex = "", 0 }),
		"copy status list 33":        mod(Copy, func(c *Claims) { c.StatusList = strings.Repeat("s", 33) }),
		"copy without cert":          mod(Copy, func(c *Claims) { c.CertificateID = "" }),
		"copy cert 114":              mod(Copy, func(c *Claims) { c.CertificateID = CertificateIDRoot + strings.Repeat("A", 114) }),
		"copy with use code":         mod(Copy, func(c *Claims) { c.UseCode = "ABCDEF" }),
		"copy subject 17":            mod(Copy, func(c *Claims) { c.Subject = make([]byte, 17) }),
		"copy name 19 bytes":         mod(Copy, func(c *Claims) { c.DisplayName = "阿卜杜热合曼x" }),
		"copy 181 days":              mod(Copy, func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(181 * day) }),
		"copy uscc 17":               mod(Copy, func(c *Claims) { c.RecipientUSCC = "91310000MA1K4C2X5" }),
		"copy uscc with O":           mod(Copy, func(c *Claims) { c.RecipientUSCC = "91310000MA1K4C2XO5" }),
		"copy uscc lower":            mod(Copy, func(c *Claims) { c.RecipientUSCC = "91310000ma1k4c2x5r" }),
		"copy no recipient":          mod(Copy, func(c *Claims) { c.RecipientOrg = "" }),
		"copy recipient 73 bytes":    mod(Copy, func(c *Claims) { c.RecipientOrg = strings.Repeat("行", 24) + "x" }),
		"copy recipient bidi":        mod(Copy, func(c *Claims) { c.RecipientOrg = "某银行\u202e" }),
		"copy no purpose":            mod(Copy, func(c *Claims) { c.Purpose = "" }),
		"copy purpose 49 bytes":      mod(Copy, func(c *Claims) { c.Purpose = strings.Repeat("用", 16) + "x" }),
		"copy purpose newline":       mod(Copy, func(c *Claims) { c.Purpose = "办理\n贷款" }),
		"presentation with purpose":  mod(Presentation, func(c *Claims) { c.Purpose = "x" }),
		"offline with recipient":     mod(Offline, func(c *Claims) { c.RecipientOrg = "x" }),
		"enterprise with cert":       mod(Enterprise, func(c *Claims) { c.CertificateID = "X" }),
	}
	for name, c := range cases {
		if _, err := Issue(s, c); !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("%s: err = %v, want ErrInvalidClaims", name, err)
		}
	}
	if _, err := Issue(nil, sampleClaims(t, Personal)); err == nil {
		t.Error("nil signer accepted")
	}
	// Bounds themselves are accepted.
	for name, c := range map[string]Claims{
		"worst personal":   worstPersonal(t),
		"max presentation": maxPresentation(t),
		"presentation without status": mod(Presentation, func(c *Claims) {
			c.StatusList, c.StatusIndex = "", 0
		}),
		"presentation non-root cert": mod(Presentation, func(c *Claims) { c.CertificateID = "urn:cert:42" }),
		"enterprise 50 years":        mod(Enterprise, func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(Enterprise)) }),
		"max copy":                   maxCopy(t),
		"copy non-root cert":         mod(Copy, func(c *Claims) { c.CertificateID = "urn:cert:42" }),
	} {
		text, err := Issue(s, c)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		assertClaims(t, mustParse(t, text).Claims, c)
	}
}

// TestMaxTextLen: the longest valid code is exactly MaxTextLen characters,
// and one more character is "oversized" without any decoding.
func TestMaxTextLen(t *testing.T) {
	s := testSigner(t, "max")
	text := mustIssue(t, s, maxPresentation(t))
	if len(text) != MaxTextLen {
		t.Fatalf("longest code is %d characters, MaxTextLen %d", len(text), MaxTextLen)
	}
	c := mustParse(t, text)
	if _, err := c.Verify(KeysByHint(s.Public())); err != nil {
		t.Fatal(err)
	}
	// The largest copy code is exactly as long: a verifier that predates
	// the kind reads its kind byte (unknown_kind), never refuses it as
	// oversized.
	if n := len(mustIssue(t, s, maxCopy(t))); n != MaxTextLen {
		t.Fatalf("largest copy code: %d characters, MaxTextLen %d", n, MaxTextLen)
	}
	// Every other kind at its bounds is shorter.
	for _, k := range []Kind{Personal, Offline, Enterprise, Venue} {
		c := sampleClaims(t, k)
		c.Subject = bytes.Repeat([]byte{1}, kindRules[k].maxSubject)
		c.DisplayName = strings.Repeat("x", kindRules[k].maxName)
		c.ExpiresAt = c.IssuedAt.Add(MaxLifetime(k))
		if k != Personal {
			c.StatusList, c.StatusIndex = strings.Repeat("s", maxStatusList), 1<<32-1
		}
		if k == Offline {
			c.Generation = 1<<32 - 1
		}
		if k == Venue {
			c.VenueID = strings.Repeat("v", maxVenueID)
		}
		if n := len(mustIssue(t, s, c)); n > MaxTextLen {
			t.Fatalf("largest %s code: %d characters > MaxTextLen", k, n)
		}
	}
	_, err := Parse(text + "0")
	wantReason(t, err, ReasonOversized)
	_, err = Parse(strings.Repeat("\xff", 1<<20))
	wantReason(t, err, ReasonOversized)
}

func TestParseRejects(t *testing.T) {
	good := goldenText(t, Personal)
	body := strings.TrimPrefix(good, Prefix)
	b45 := func(b []byte) string { return Prefix + string(appendBase45(nil, b)) }
	raw, _ := appendDecodeBase45(nil, body)
	withKind := func(k byte) string {
		r := bytes.Clone(raw)
		r[0] = k
		return b45(r)
	}
	cases := []struct {
		name, text, reason string
	}{
		{"empty", "", ReasonMalformed},
		{"no prefix", body, ReasonMalformed},
		{"lower-case prefix", "ss1:" + body, ReasonMalformed},
		{"HC1 prefix", "HC1:" + body, ReasonMalformed},
		{"prefix without colon", "SS1" + body, ReasonMalformed},
		{"prefix leading zero", "SS01:" + body, ReasonMalformed},
		{"prefix version 0", "SS0:" + body, ReasonMalformed},
		{"prefix four digits", "SS1000:" + body, ReasonMalformed},
		{"prefix only", Prefix, ReasonMalformed},
		{"version 2", "SS2:" + body, ReasonUnsupportedVersion},
		{"version 999", "SS999:" + body, ReasonUnsupportedVersion},
		{"lower-case body", Prefix + strings.ToLower(body), ReasonMalformed},
		{"trailing newline", good + "\n", ReasonMalformed},
		{"leading space", " " + good, ReasonMalformed},
		{"base45 length 1 mod 3", good[:len(good)-1], ReasonMalformed},
		{"base45 triple > 65535", Prefix + "GGW" + body[3:], ReasonMalformed},
		{"base45 pair > 255", b45(raw[:len(raw)-1])[:len(b45(raw[:len(raw)-1]))-2] + "::", ReasonMalformed},
		{"kind 0", withKind(0), ReasonUnknownKind},
		{"kind 7", withKind(7), ReasonUnknownKind},
		{"kind 255", withKind(255), ReasonUnknownKind},
		{"only a signature", b45(append([]byte{1}, make([]byte, 64)...)), ReasonMalformed},
		{"trailing byte", b45(append(append(bytes.Clone(raw[:len(raw)-64]), 0), raw[len(raw)-64:]...)), ReasonMalformed},
		{"oversized", good + strings.Repeat("0", MaxTextLen), ReasonOversized},
	}
	for _, c := range cases {
		_, err := Parse(c.text)
		if Reason(err) != c.reason {
			t.Errorf("%s: %v, want %s", c.name, err, c.reason)
		}
	}
}

// TestParseRejectsNonCanonicalFields re-signs bytes with deliberately bad
// fields, so that only the field rules can reject them.
func TestParseRejectsNonCanonicalFields(t *testing.T) {
	s := testSigner(t, "fields")
	hint := KeyHint(s.Public())
	sign := func(claims []byte) string {
		msg := append([]byte(Domain), claims...)
		sig, err := s.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		return Prefix + string(appendBase45(nil, append(claims, sig...)))
	}
	head := func(kind byte, life ...byte) []byte {
		b := append([]byte{kind}, hint...)
		b = append(b, 0x0a, 0, 0, 0)
		return append(b, life...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	good := cat(head(1, 60), []byte{1, 9, 0})
	if c, err := Parse(sign(good)); err != nil {
		t.Fatal(err)
	} else if _, err := c.Verify(KeysByHint(s.Public())); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"non-minimal uvarint":       cat(head(1, 0xbc, 0x00), []byte{1, 9, 0}),
		"zero lifetime":             cat(head(1, 0), []byte{1, 9, 0}),
		"6-byte uvarint":            cat(head(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), []byte{1, 9, 0}),
		"uvarint above 2^32":        cat(head(2, 0x80, 0x80, 0x80, 0x80, 0x10), []byte{1, 9, 0, 1, 1, 'a', 0}),
		"personal 25h":              cat(head(1, 0x90, 0xbf, 0x05), []byte{1, 9, 0}),
		"empty subject personal":    cat(head(1, 60), []byte{0, 0}),
		"subject runs past end":     cat(head(1, 60), []byte{30, 9, 0}),
		"name invalid utf8":         cat(head(1, 60), []byte{1, 9, 1, 0xff}),
		"personal with extra field": cat(head(1, 60), []byte{1, 9, 0, 0}),
		"offline generation 0":      cat(head(2, 60), []byte{1, 9, 0, 0, 1, 'a', 0}),
		"offline empty list":        cat(head(2, 60), []byte{1, 9, 0, 1, 0, 0}),
		"venue bad id char":         cat(head(4, 60), []byte{0, 0, 1, ' ', 1, 'a', 0}),
		"cert root not elided": cat(head(5, 60), []byte{0, 0, 16}, []byte(CertificateIDRoot+"X"),
			[]byte{6}, []byte("ABCDEF"), []byte{0}),
		"cert root only":        cat(head(5, 60), []byte{0, 0, 0x80, 6}, []byte("ABCDEF"), []byte{0}),
		"presentation no index": cat(head(5, 60), []byte{0, 0, 1, 'X', 6}, []byte("ABCDEF"), []byte{1, 'a'}),
		"copy no purpose":       cat(head(6, 60), []byte{0, 0, 1, 'X', 1, 'a', 0}, []byte("91310000MA1K4C2X5R"), []byte{1, 'b', 0}),
		"copy short uscc":       cat(head(6, 60), []byte{0, 0, 1, 'X', 1, 'a', 0}, []byte("91310000MA1K4C2X5"), []byte{1, 'b', 1, 'c'}),
		"copy cert root not elided": cat(head(6, 60), []byte{0, 0, 16}, []byte(CertificateIDRoot+"X"), []byte{1, 'a', 0},
			[]byte("91310000MA1K4C2X5R"), []byte{1, 'b', 1, 'c'}),
		"iat+life > 2^32-1": append(append(append([]byte{1}, hint...), 0xff, 0xff, 0xff, 0xff), 60, 1, 9, 0),
	}
	for name, claims := range cases {
		_, err := Parse(sign(claims))
		if Reason(err) != ReasonMalformed {
			t.Errorf("%s: %v, want malformed", name, err)
		}
	}
}

// TestEveryCharacterAltered: replacing, deleting or inserting any single
// character of a valid code makes Parse or Verify fail.
func TestEveryCharacterAltered(t *testing.T) {
	lookup := goldenLookup(t)
	accepts := func(text string) bool {
		c, err := Parse(text)
		if err != nil {
			return false
		}
		_, err = c.Verify(lookup)
		return err == nil
	}
	for _, g := range goldens(t) {
		if !accepts(g.text) {
			t.Fatalf("%s golden code does not verify", g.kind)
		}
		alts := base45Alphabet + "a#\x00é"
		for i := 0; i < len(g.text); i++ {
			for j := 0; j < len(alts); j++ {
				// Every replacement for the personal code; a spread of
				// them for the others (keeps -race runs short).
				if g.kind != Personal && j%7 != i%7 && j < len(base45Alphabet) {
					continue
				}
				if alts[j] == g.text[i] {
					continue
				}
				m := g.text[:i] + string(alts[j]) + g.text[i+1:]
				if accepts(m) {
					t.Fatalf("%s: replacing position %d with %q still verifies", g.kind, i, alts[j])
				}
			}
			if accepts(g.text[:i] + g.text[i+1:]) {
				t.Fatalf("%s: deleting position %d still verifies", g.kind, i)
			}
			if accepts(g.text[:i] + "0" + g.text[i:]) {
				t.Fatalf("%s: inserting at %d still verifies", g.kind, i)
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	for _, g := range goldens(t) {
		for n := 0; n < len(g.text); n++ {
			_, err := Parse(g.text[:n])
			if Reason(err) != ReasonMalformed {
				t.Fatalf("%s truncated to %d: %v, want malformed", g.kind, n, err)
			}
		}
	}
}

func TestCheckTime(t *testing.T) {
	c := mustParse(t, goldenText(t, Personal))
	iat, exp := c.IssuedAt, c.ExpiresAt
	skew := 30 * time.Second
	for _, tc := range []struct {
		now    time.Time
		skew   time.Duration
		reason string
	}{
		{iat, 0, ""},
		{exp.Add(-time.Nanosecond), 0, ""},
		{exp, 0, ReasonExpired},
		{iat.Add(-time.Nanosecond), 0, ReasonNotYetValid},
		{iat.Add(-skew), skew, ""},
		{iat.Add(-skew - time.Second), skew, ReasonNotYetValid},
		{iat.Add(-skew), -skew, ""},
		{exp.Add(skew - time.Nanosecond), skew, ""},
		{exp.Add(skew), skew, ReasonExpired},
		{exp.Add(24 * time.Hour), skew, ReasonExpired},
	} {
		err := c.CheckTime(tc.now, tc.skew)
		if Reason(err) != tc.reason {
			t.Errorf("now %s skew %s: %v, want %q", tc.now, tc.skew, err, tc.reason)
		}
	}
	if !errors.Is(c.CheckTime(exp, 0), ErrExpired) || !errors.Is(c.CheckTime(iat.Add(-time.Hour), 0), ErrNotYetValid) {
		t.Fatal("errors.Is on time errors")
	}
}

func TestVerifyKeys(t *testing.T) {
	s := testSigner(t, goldenSeed)
	other := testKey(t, "other").Public()
	third := testKey(t, "third").Public()
	c := mustParse(t, goldenText(t, Offline))
	kid := signing.Thumbprint(s.Public())

	// Unknown key hint.
	_, err := c.Verify(KeysByHint(other, third))
	wantReason(t, err, ReasonUnknownKey)
	_, err = c.Verify(nil)
	wantReason(t, err, ReasonUnknownKey)
	_, err = c.Verify(func([]byte) []*signing.PublicKey { return []*signing.PublicKey{nil} })
	wantReason(t, err, ReasonUnknownKey)

	// Several candidates for one hint: each is tried, in any order.
	for _, keys := range [][]*signing.PublicKey{{other, s.Public()}, {s.Public(), other}, {other, third, s.Public()}} {
		var asked []byte
		got, err := c.Verify(func(h []byte) []*signing.PublicKey { asked = h; return keys })
		if err != nil || got != kid {
			t.Fatalf("Verify = %q, %v", got, err)
		}
		if !bytes.Equal(asked, KeyHint(s.Public())) {
			t.Fatalf("lookup asked for %x", asked)
		}
	}
	// Candidates that all fail.
	_, err = c.Verify(func([]byte) []*signing.PublicKey { return []*signing.PublicKey{other, third} })
	wantReason(t, err, ReasonBadSignature)
	if !errors.Is(err, ErrBadSignature) {
		t.Fatal("errors.Is(ErrBadSignature)")
	}

	// KeysByHint groups keys that share a hint.
	lk := KeysByHint(other, s.Public(), s.Public())
	if n := len(lk(KeyHint(s.Public()))); n != 2 {
		t.Fatalf("KeysByHint returned %d keys for a shared hint", n)
	}
	if lk([]byte{1, 2}) != nil {
		t.Fatal("short hint matched")
	}

	// A signature by a key whose hint the code does not carry: the code
	// names the golden key but was signed by other.
	forged := bytes.Clone(c.Signed)
	sig, err := signing.Sign(nil, testKey(t, "other"), forged)
	if err != nil {
		t.Fatal(err)
	}
	text := Prefix + string(appendBase45(nil, append(forged[len(Domain):], sig...)))
	_, err = mustParse(t, text).Verify(KeysByHint(s.Public()))
	wantReason(t, err, ReasonBadSignature)
}

func TestKeyHint(t *testing.T) {
	k := testKey(t, goldenSeed).Public()
	tp := signing.Thumbprint(k)
	h := KeyHint(k)
	if len(h) != 8 {
		t.Fatal(len(h))
	}
	// The first 8 bytes of the decoded thumbprint are its first 10 base64url
	// characters plus 4 bits of the 11th.
	if got := strings.TrimRight(b64url(h), "=")[:10]; got != tp[:10] {
		t.Fatalf("hint %x (%s) does not start the thumbprint %s", h, got, tp)
	}
	if KeyHint(nil) != nil {
		t.Fatal("nil key")
	}
}

func TestErrorStrings(t *testing.T) {
	e := &Error{Reason: ReasonExpired, Detail: "x"}
	if e.Error() != "codes: expired: x" || ErrExpired.Error() != "codes: expired" {
		t.Fatal(e.Error())
	}
	if errors.Is(e, ErrMalformed) || !errors.Is(e, ErrExpired) || Reason(errors.New("x")) != "" {
		t.Fatal("Is/Reason")
	}
	if Reason(errors.Join(errors.New("a"), e)) != ReasonExpired {
		t.Fatal("wrapped")
	}
}

func TestKinds(t *testing.T) {
	for _, k := range Kinds() {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Fatal(k)
		}
	}
	if Kind(9).String() != "kind(9)" || DefaultLifetime(0) != 0 || MaxLifetime(7) != 0 || MaxLifetime(Copy) != 180*day {
		t.Fatal("undefined kind")
	}
	if _, err := ParseKind("certificate"); err == nil {
		t.Fatal("ParseKind accepted certificate")
	}
	if DefaultLifetime(Personal) != time.Minute || DefaultLifetime(Offline) != 180*day {
		t.Fatal("default lifetimes")
	}
}
