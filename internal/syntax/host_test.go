package syntax

import (
	"strings"
	"testing"
)

func TestLabel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"letters", "acme", true},
		{"digits", "123", true},
		{"inner hyphen", "a-b", true},
		{"double hyphen", "ab--c", true},
		{"63 octets", strings.Repeat("a", 63), true},
		{"64 octets", strings.Repeat("a", 64), false},
		{"empty", "", false},
		{"leading hyphen", "-acme", false},
		{"trailing hyphen", "acme-", false},
		{"uppercase", "ACME", false},
		{"underscore", "a_b", false},
		{"dot", "a.b", false},
		{"punycode", "xn--80ak6aa92e", false},
		{"punycode prefix only", "xn--", false},
		{"xn without hyphens", "xnacme", true},
		{"Cyrillic a", "\u0430cme", false},
		{"fullwidth", "ａｃｍｅ", false},
		{"NUL", "acme\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Label(tt.in); got != tt.want {
				t.Errorf("Label(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestHostName(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("a", 61) // 253
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"one label", "localhost", true},
		{"name", "login.salesforce.com", true},
		{"digits inside", "1.2.3.example", true},
		{"253 octets", long, true},
		{"254 octets", long + "a", false},
		{"empty", "", false},
		{"trailing dot", "example.com.", false},
		{"leading dot", ".example.com", false},
		{"empty label", "a..b", false},
		{"uppercase", "Example.com", false},
		{"punycode label", "xn--80ak6aa92e.example", false},
		{"punycode top label", "example.xn--p1ai", false},
		{"IPv4", "127.0.0.1", false},
		{"short IPv4", "127.1", false},
		{"decimal IPv4", "2130706433", false},
		{"IPv6", "::1", false},
		{"port", "example.com:443", false},
		{"user", "a@example.com", false},
		{"space", "a b.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostName(tt.in); got != tt.want {
				t.Errorf("HostName(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.255.255.254", "127.255.255.254", true},
		{"::1", "::1", true},
		{"localhost", "localhost", false},
		{"bracketed", "[::1]", false},
		{"long IPv6 form", "0:0:0:0:0:0:0:1", false},
		{"IPv4-mapped", "::ffff:127.0.0.1", false},
		{"zone", "::1%eth0", false},
		{"short form", "127.1", false},
		{"leading zero", "127.0.0.01", false},
		{"with port", "127.0.0.1:80", false},
		{"other address", "128.0.0.1", false},
		{"unspecified", "0.0.0.0", false},
		{"name", "127.example.com", false},
		{"uppercase localhost", "LOCALHOST", false},
		{"name under a loopback-looking label", "127.0.0.1.nip.io", false},
		{"IPv6 unspecified", "::", false},
		{"link-local metadata", "169.254.169.254", false},
		{"octal", "0177.0.0.1", false},
		{"decimal", "2130706433", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsLoopback(tt.in); got != tt.want {
				t.Errorf("IsLoopback(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestHost(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"name", "api.example.com", true},
		{"loopback v4", "127.0.0.1", true},
		{"loopback v6", "::1", true},
		{"other IPv4", "10.0.0.1", false},
		{"metadata address", "169.254.169.254", false},
		{"other IPv6", "fe80::1", false},
		{"punycode", "xn--80ak6aa92e.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Host(tt.in); got != tt.want {
				t.Errorf("Host(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}

func TestPort(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1", true}, {"443", true}, {"65535", true},
		{"", false}, {"0", false}, {"080", false}, {"65536", false}, {"99999", false},
		{"100000", false}, {"-1", false}, {"8a", false}, {"+80", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Port(tt.in); got != tt.want {
				t.Errorf("Port(%q) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
}
