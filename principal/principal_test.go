package principal

import (
	"strings"
	"testing"

	"github.com/suishen/suishen/store"
)

func TestAPIKeyRoundTrip(t *testing.T) {
	for _, kind := range []store.PrincipalKind{store.KindDepartment, store.KindApp, store.KindVenue} {
		tok, id, h := NewAPIKey(kind)
		k, pid, sec, err := ParseAPIKey(tok)
		if err != nil || k != kind || pid != id {
			t.Fatalf("%s: parse %q: %v %v %v", kind, tok, k, pid, err)
		}
		if !CheckSecret(sec, h) {
			t.Fatal("secret does not match its own hash")
		}
		if CheckSecret(sec[:42]+"A", h) && sec[42] != 'A' {
			t.Fatal("altered secret matched")
		}
		if strings.Contains(string(h), sec) {
			t.Fatal("hash contains the secret")
		}
	}
	tok1, _, _ := NewAPIKey(store.KindApp)
	tok2, _, _ := NewAPIKey(store.KindApp)
	if tok1 == tok2 {
		t.Fatal("two keys are equal")
	}
}

func TestParseAPIKeyRejects(t *testing.T) {
	for _, s := range []string{"", "ssk_dep_", "ssk_dep_abc.def", "Bearer x", "ssk_xyz_aaaaaaaaaaaaaaaa." + strings.Repeat("a", 43),
		"ssk_app_aaaaaaaaaaaaaaaa" + strings.Repeat("a", 44)} {
		if _, _, _, err := ParseAPIKey(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestAdminMatcher(t *testing.T) {
	m := NewAdminMatcher("0123456789abcdef0123456789abcdef")
	if !m.Match("0123456789abcdef0123456789abcdef") || m.Match("0123456789abcdef0123456789abcdeF") || m.Match("") {
		t.Fatal("admin matcher")
	}
	if (AdminMatcher{}).Match("") {
		t.Fatal("empty matcher matched")
	}
}

func TestSubjects(t *testing.T) {
	a := NewSubjects([]byte("0123456789abcdef"))
	b := NewSubjects([]byte("0123456789abcdeX"))
	s1 := a.Of("person", "11010519491231002X")
	if s1 != a.Of("person", "11010519491231002x") {
		t.Fatal("case of X changes the subject")
	}
	if s1 == a.Of("enterprise", "11010519491231002X") || s1 == b.Of("person", "11010519491231002X") {
		t.Fatal("subject does not depend on kind or key")
	}
	if len(s1) != 26 || strings.Contains(s1, "1101") {
		t.Fatalf("subject %q", s1)
	}
}

func TestSessionToken(t *testing.T) {
	tok, h := NewSessionToken()
	if !IsSessionToken(tok) || string(Hash(tok)) != string(h) || IsSessionToken(tok[:10]) {
		t.Fatal("session token")
	}
}

func TestLoginTicket(t *testing.T) {
	tk, h := NewLoginTicket()
	tk2, _ := NewLoginTicket()
	if !IsLoginTicket(tk) || string(Hash(tk)) != string(h) || tk == tk2 {
		t.Fatal("login ticket")
	}
	for _, bad := range []string{"", tk[:20], tk + "a", "sst_" + tk[4:], tk[:10] + "!" + tk[11:]} {
		if IsLoginTicket(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
