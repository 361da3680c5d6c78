package config

import (
	"errors"
	"reflect"
	"testing"
)

func TestCORSOrigins(t *testing.T) {
	c, err := Load(env(nil), nil)
	if err != nil || c.CORSOrigins != nil {
		t.Fatalf("default: %v %v, want no CORS", c.CORSOrigins, err)
	}
	c, err = Load(env(map[string]string{"SUISHEN_CORS_ORIGINS": " https://app.example.gov.cn, http://127.0.0.1:3000 ,"}), nil)
	if err != nil || !reflect.DeepEqual(c.CORSOrigins, []string{"https://app.example.gov.cn", "http://127.0.0.1:3000"}) {
		t.Fatalf("got %q %v", c.CORSOrigins, err)
	}
	c, err = Load(env(map[string]string{"SUISHEN_CORS_ORIGINS": "*"}), nil)
	if err != nil || !reflect.DeepEqual(c.CORSOrigins, []string{"*"}) {
		t.Fatalf("got %q %v", c.CORSOrigins, err)
	}
	for _, bad := range []string{"app.example.gov.cn", "https://app.example.gov.cn/", "https://app.example.gov.cn/path",
		"ftp://x", "https://*.example.gov.cn", "*, https://a.example", "https://u:p@a.example", "https://a.example?x=1"} {
		_, err := Load(env(map[string]string{"SUISHEN_CORS_ORIGINS": bad}), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != "SUISHEN_CORS_ORIGINS" {
			t.Errorf("%q: got %v, want an error naming SUISHEN_CORS_ORIGINS", bad, err)
		}
	}
}
