package config

import (
	"errors"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.CodeTTL != 60*time.Second || c.BodyLimit != 1<<20 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:8080" || !c.Embedded() {
		t.Fatalf("public url %q embedded %v", c.PublicURL, c.Embedded())
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"SUISHEN_ADDR":            {"SUISHEN_ADDR": "nonsense"},
		"SUISHEN_CODE_TTL":        {"SUISHEN_CODE_TTL": "sixty"},
		"SUISHEN_MASTER_KEY":      {"SUISHEN_MASTER_KEY": "zz"},
		"SUISHEN_DATABASE_URL":    {"SUISHEN_DATABASE_URL": "mysql://x"},
		"SUISHEN_BODY_LIMIT":      {"SUISHEN_BODY_LIMIT": "-1"},
		"SUISHEN_TRUSTED_PROXIES": {"SUISHEN_TRUSTED_PROXIES": "10.0.0.0/8, bogus"},
		"SUISHEN_LOG_LEVEL":       {"SUISHEN_LOG_LEVEL": "loud"},
		"SUISHEN_PUBLIC_URL":      {"SUISHEN_PUBLIC_URL": "ftp://x"},
		"SUISHEN_ADMIN_TOKEN":     {"SUISHEN_ADMIN_TOKEN": "short"},
	}
	for want, m := range cases {
		_, err := Load(env(m), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != want {
			t.Errorf("%v: got %v, want an error naming %s", m, err, want)
		}
	}
}

func TestPostgresNeedsSecrets(t *testing.T) {
	_, err := Load(env(map[string]string{"SUISHEN_DATABASE_URL": "postgres://x/y"}), nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Var != "SUISHEN_ADMIN_TOKEN" {
		t.Fatalf("got %v", err)
	}
	_, err = Load(env(map[string]string{"SUISHEN_DATABASE_URL": "postgres://x/y", "SUISHEN_ADMIN_TOKEN": "0123456789abcdef0123456789abcdef"}), nil)
	if !errors.As(err, &ce) || ce.Var != "SUISHEN_MASTER_KEY" {
		t.Fatalf("got %v", err)
	}
	c, err := Load(env(map[string]string{"SUISHEN_DATABASE_URL": "postgres://x/y", "SUISHEN_ADMIN_TOKEN": "0123456789abcdef0123456789abcdef", "SUISHEN_MASTER_KEY": "0123456789abcdef0123456789abcdef"}), nil)
	if err != nil || len(c.MasterKey) != 16 {
		t.Fatalf("got %v %x", err, c.MasterKey)
	}
}

func TestOverridesWin(t *testing.T) {
	c, err := Load(env(map[string]string{"SUISHEN_ADDR": "127.0.0.1:1"}), map[string]string{"SUISHEN_ADDR": "127.0.0.1:2"})
	if err != nil || c.Addr != "127.0.0.1:2" {
		t.Fatalf("%v %q", err, c.Addr)
	}
}
