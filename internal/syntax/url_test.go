package syntax

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want URL
		err  error
	}{
		{"https", "https://login.example.com/oauth/authorize?a=b",
			URL{Scheme: "https", Host: "login.example.com", Path: "/oauth/authorize", Query: "a=b"}, nil},
		{"no path", "https://example.com", URL{Scheme: "https", Host: "example.com"}, nil},
		{"port", "https://example.com:8443/x", URL{Scheme: "https", Host: "example.com", Port: "8443", Path: "/x"}, nil},
		{"http loopback v4", "http://127.0.0.1:8080/cb", URL{Scheme: "http", Host: "127.0.0.1", Port: "8080", Path: "/cb"}, nil},
		{"http loopback v6", "http://[::1]:8080/cb", URL{Scheme: "http", Host: "::1", Port: "8080", Path: "/cb"}, nil},
		{"https loopback v6", "https://[::1]/", URL{Scheme: "https", Host: "::1", Path: "/"}, nil},
		{"empty query", "https://example.com/?", URL{Scheme: "https", Host: "example.com", Path: "/"}, nil},
		{"http name", "http://example.com/", URL{}, ErrURLScheme},
		{"http localhost", "http://localhost:8080/", URL{}, ErrURLScheme},
		{"no scheme", "//example.com/", URL{}, ErrURLScheme},
		{"other scheme", "ftp://example.com/", URL{}, ErrURLScheme},
		{"uppercase scheme", "HTTPS://example.com/", URL{}, ErrURLScheme},
		{"uppercase host", "https://Example.com/", URL{}, ErrURLHost},
		{"punycode host", "https://xn--80ak6aa92e.com/", URL{}, ErrURLHost},
		{"IP literal", "https://10.0.0.1/", URL{}, ErrURLHost},
		{"short IPv4", "http://127.1/", URL{}, ErrURLHost},
		{"other IPv6", "https://[fe80::1]/", URL{}, ErrURLHost},
		{"zone", "http://[::1%25eth0]/", URL{}, ErrURLHost},
		{"unclosed bracket", "http://[::1/", URL{}, ErrURLHost},
		{"empty host", "https:///x", URL{}, ErrURLHost},
		{"user", "https://a@example.com/", URL{}, ErrURLUser},
		{"fragment", "https://example.com/#x", URL{}, ErrURLFragment},
		{"empty fragment", "https://example.com/#", URL{}, ErrURLFragment},
		{"bad port", "https://example.com:0/", URL{}, ErrURLPort},
		{"empty port", "https://example.com:/", URL{}, ErrURLPort},
		{"junk after bracket", "http://[::1]x/", URL{}, ErrURLPort},
		{"space", "https://example.com/a b", URL{}, ErrURLChars},
		{"bad escape", "https://example.com/a%zz", URL{}, ErrURLChars},
		{"semicolon in query", "https://example.com/?a;b", URL{}, ErrURLChars},
		{"backslash", `https://example.com\@evil.com/`, URL{}, ErrURLUser},
		{"backslash host", `https://evil.com\.example.com/`, URL{}, ErrURLHost},
		{"too long", "https://example.com/" + strings.Repeat("a", MaxURLLen), URL{}, ErrURLLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseURL(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"https", "https://example.com/cb", nil},
		{"https port", "https://example.com:8443/cb", nil},
		{"http loopback", "http://127.0.0.1:9000/cb", nil},
		{"http loopback v6", "http://[::1]:9000/cb", nil},
		{"http name", "http://example.com/cb", ErrURLScheme},
		{"http localhost", "http://localhost/cb", ErrURLScheme},
		{"relative", "/cb", ErrURLScheme},
		{"opaque", "https:example.com", ErrURLScheme},
		{"no host", "https:///cb", ErrURLHost},
		{"uppercase host", "https://EXAMPLE.com/cb", ErrURLHost},
		{"punycode", "https://xn--80ak6aa92e.com/cb", ErrURLHost},
		{"IPv4", "https://192.168.0.1/cb", ErrURLHost},
		{"other IPv6", "https://[::2]/cb", ErrURLHost},
		{"zone", "http://[::1%25en0]/cb", ErrURLHost},
		{"empty port", "https://example.com:/cb", ErrURLPort},
		{"port zero", "https://example.com:0/cb", ErrURLPort},
		{"user", "https://u:p@example.com/cb", ErrURLUser},
		{"fragment", "https://example.com/cb#x", ErrURLFragment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", tt.in, err)
			}
			if err := CheckURL(u); !errors.Is(err, tt.err) {
				t.Errorf("CheckURL(%q) = %v, want %v", tt.in, err, tt.err)
			}
		})
	}
}

func TestSecureScheme(t *testing.T) {
	tests := []struct {
		scheme, host string
		want         bool
	}{
		{"https", "example.com", true},
		{"https", "127.0.0.1", true},
		{"http", "127.0.0.1", true},
		{"http", "::1", true},
		{"http", "localhost", false},
		{"http", "example.com", false},
		{"ws", "127.0.0.1", false},
		{"", "example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.scheme+"://"+tt.host, func(t *testing.T) {
			if got := SecureScheme(tt.scheme, tt.host); got != tt.want {
				t.Errorf("SecureScheme(%q, %q) = %t, want %t", tt.scheme, tt.host, got, tt.want)
			}
		})
	}
}

func TestNoAllocations(t *testing.T) {
	raw := "https://login.example.com:8443/oauth/authorize?a=b%20c"
	n := testing.AllocsPerRun(100, func() {
		if _, err := ParseURL(raw); err != nil {
			t.Fatal(err)
		}
		if !HostName("login.example.com") || !IsLoopback("127.0.0.1") || !ScopeToken("read") {
			t.Fatal("refused")
		}
	})
	if n != 0 {
		t.Errorf("allocations = %v, want 0", n)
	}
}

func TestDotSegment(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/users/me": false, "/a.b/c..d": false, "": false, "/": false,
		"/a/../b": true, "/./a": true, "/a/..": true, "..": true,
		"/a/%2e%2e/b": true, "/a/%2E/b": true, "/a/.%2e/b": true, "/a/%2e./b": true,
		"/a%2fb": true, "/a%2F..": true, `/a\..\b`: true, "/a%5cb": true,
	} {
		if got := DotSegment(path); got != want {
			t.Errorf("DotSegment(%q) = %v, want %v", path, got, want)
		}
	}
}
