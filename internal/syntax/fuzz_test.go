package syntax

import (
	"net/netip"
	"net/url"
	"testing"
)

// FuzzHostName checks that every accepted host name is a host as net/url reads it, and that
// it never parses as an IP address.
func FuzzHostName(f *testing.F) {
	for _, s := range []string{"example.com", "a-b.c", "127.0.0.1", "127.1", "xn--p1ai", "A.b", "a..b", "::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !HostName(s) {
			return
		}
		u, err := url.Parse("https://" + s + "/")
		if err != nil || u.Hostname() != s || u.Port() != "" {
			t.Errorf("HostName(%q) = true, but net/url reads host %q, port %q, err %v", s, u.Hostname(), u.Port(), err)
		}
		if _, err := netip.ParseAddr(s); err == nil {
			t.Errorf("HostName(%q) = true for an IP address", s)
		}
	})
}

// FuzzIsLoopback checks IsLoopback against net/netip: it accepts exactly the canonical form
// of the loopback addresses that are not IPv4-mapped.
func FuzzIsLoopback(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "127.1", "localhost", "::1%lo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := netip.ParseAddr(s)
		want := err == nil && addr.IsLoopback() && !addr.Is4In6() && addr.Zone() == "" && addr.String() == s
		if got := IsLoopback(s); got != want {
			t.Errorf("IsLoopback(%q) = %t, want %t (netip: %v, %v)", s, got, want, addr, err)
		}
	})
}

// FuzzParseURL checks that whatever ParseURL accepts, net/url parses to the same parts and
// CheckURL accepts too.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?b=c", "http://127.0.0.1:80/", "http://[::1]:8080/cb", "https://a@b/",
		"https://example.com/#x", "https://Example.com/", "https://example.com:65536/", "http://[::1%25x]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseURL(s)
		if err != nil {
			return
		}
		u, perr := url.Parse(s)
		if perr != nil {
			t.Fatalf("ParseURL(%q) accepted what net/url refuses: %v", s, perr)
		}
		if u.Scheme != got.Scheme || u.Hostname() != got.Host || u.Port() != got.Port ||
			u.EscapedPath() != got.Path || u.RawQuery != got.Query {
			t.Errorf("ParseURL(%q) = %+v, net/url: scheme %q host %q port %q path %q query %q",
				s, got, u.Scheme, u.Hostname(), u.Port(), u.EscapedPath(), u.RawQuery)
		}
		if err := CheckURL(u); err != nil {
			t.Errorf("ParseURL(%q) accepted, CheckURL refused: %v", s, err)
		}
	})
}
