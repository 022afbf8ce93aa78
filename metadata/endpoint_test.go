package metadata_test

import (
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw  string
		want metadata.Endpoint
	}{
		{"https://login.salesforce.com/services/oauth2/authorize", metadata.Endpoint{Scheme: "https", Host: "login.salesforce.com", Path: "/services/oauth2/authorize"}},
		{"https://auth.example.com", metadata.Endpoint{Scheme: "https", Host: "auth.example.com"}},
		{"https://auth.example.com:8443/a?x=1&y=%2F", metadata.Endpoint{Scheme: "https", Host: "auth.example.com", Port: "8443", Path: "/a", Query: "x=1&y=%2F"}},
		{"http://127.0.0.1:9000/authorize", metadata.Endpoint{Scheme: "http", Host: "127.0.0.1", Port: "9000", Path: "/authorize"}},
		{"http://[::1]:9000/authorize", metadata.Endpoint{Scheme: "http", Host: "::1", Port: "9000", Path: "/authorize"}},
		{"https://a.example/p?", metadata.Endpoint{Scheme: "https", Host: "a.example", Path: "/p"}},
	}
	for _, tt := range tests {
		got, err := metadata.ParseEndpoint(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []string{
		"", "/relative", "auth.example.com/a", "ftp://auth.example.com/", "HTTPS://auth.example.com/",
		"http://auth.example.com/", "http://localhost/", "https://user@auth.example.com/", "https://a:b@auth.example.com/",
		"https://auth.example.com/a#", "https://auth.example.com/a#x", "https://auth.example.com/a b",
		"https://auth.example.com/a\\b", "https://auth.example.com\\@evil.com/", "https://auth.example.com/%zz",
		"https://auth.example.com/?a=%4", "https://auth.example.com/?a=1;b=2", "https://auth.example.com:0/",
		"https://auth.example.com:65536/", "https://auth.example.com:/", "https://auth.example.com:08/",
		"https://auth.example.com:x/", "https://10.0.0.5/", "https://169.254.169.254/latest", "https://[fe80::1]/",
		"https://[::1%25eth0]/", "https://127.1/", "https://-a.example/", "https://a..example/", "https://.example/",
		"https://exa_mple.com/", "https://éxample.com/", "https:///path", "https://", "https://a.example/\x00",
		"https://a.example/\r\n", "https://a.example/" + strings.Repeat("a", 2048), "https://[::1/",
		"https://a.example/<script>", "https://a.example/`", "https://a.example/{x}",
		// Host names are lowercase LDH labels, none of them punycode (see internal/syntax).
		"https://Auth.Example.COM/x", "https://xn--80ak6aa92e.com/", "https://a.xn--p1ai/",
	} {
		if e, err := metadata.ParseEndpoint(raw); err == nil {
			t.Errorf("ParseEndpoint(%q) = %+v, want an error", raw, e)
		}
	}
}

func BenchmarkParseEndpoint(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := metadata.ParseEndpoint("https://acme.my.salesforce.com/services/oauth2/authorize?x=1"); err != nil {
			b.Fatal(err)
		}
	}
}
