package metadata_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
)

func TestHostsCheck(t *testing.T) {
	tests := []struct {
		name    string
		hosts   metadata.Hosts
		wantErr bool
	}{
		{name: "nil", hosts: nil},
		{name: "exact host", hosts: metadata.Hosts{"login.salesforce.com"}},
		{name: "one label", hosts: metadata.Hosts{"localhost"}},
		{name: "wildcard", hosts: metadata.Hosts{"*.zendesk.com"}},
		{name: "nested wildcard suffix", hosts: metadata.Hosts{"*.sandbox.my.salesforce.com"}},
		{name: "IPv4 loopback", hosts: metadata.Hosts{"127.0.0.1"}},
		{name: "IPv6 loopback", hosts: metadata.Hosts{"::1"}},
		{name: "several", hosts: metadata.Hosts{"login.salesforce.com", "*.my.salesforce.com", "127.0.0.1"}},

		{name: "empty entry", hosts: metadata.Hosts{""}, wantErr: true},
		{name: "uppercase", hosts: metadata.Hosts{"Login.salesforce.com"}, wantErr: true},
		{name: "uppercase wildcard suffix", hosts: metadata.Hosts{"*.ZENDESK.com"}, wantErr: true},
		{name: "bare star", hosts: metadata.Hosts{"*"}, wantErr: true},
		{name: "star dot", hosts: metadata.Hosts{"*."}, wantErr: true},
		{name: "double star", hosts: metadata.Hosts{"**.zendesk.com"}, wantErr: true},
		{name: "two wildcards", hosts: metadata.Hosts{"*.*.zendesk.com"}, wantErr: true},
		{name: "inner wildcard", hosts: metadata.Hosts{"a.*.com"}, wantErr: true},
		{name: "star without dot", hosts: metadata.Hosts{"*zendesk.com"}, wantErr: true},
		{name: "trailing wildcard", hosts: metadata.Hosts{"zendesk.*"}, wantErr: true},
		{name: "port", hosts: metadata.Hosts{"zendesk.com:443"}, wantErr: true},
		{name: "scheme", hosts: metadata.Hosts{"https://zendesk.com"}, wantErr: true},
		{name: "path", hosts: metadata.Hosts{"zendesk.com/x"}, wantErr: true},
		{name: "bracketed IPv6", hosts: metadata.Hosts{"[::1]"}, wantErr: true},
		{name: "wildcard over loopback IPv6", hosts: metadata.Hosts{"*.::1"}, wantErr: true},
		{name: "non-loopback IPv6", hosts: metadata.Hosts{"2001:db8::1"}, wantErr: true},
		{name: "leading dot", hosts: metadata.Hosts{".zendesk.com"}, wantErr: true},
		{name: "trailing dot", hosts: metadata.Hosts{"zendesk.com."}, wantErr: true},
		{name: "empty label", hosts: metadata.Hosts{"zendesk..com"}, wantErr: true},
		{name: "underscore", hosts: metadata.Hosts{"a_b.com"}, wantErr: true},
		{name: "punycode", hosts: metadata.Hosts{"xn--80ak6aa92e.com"}, wantErr: true},
		{name: "non-ASCII", hosts: metadata.Hosts{"zendesk.\u0441om"}, wantErr: true},
		{name: "space", hosts: metadata.Hosts{"zendesk.com "}, wantErr: true},
		{name: "bad entry after good ones", hosts: metadata.Hosts{"a.com", "*.b.com", "*"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.hosts.Check()
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Hosts%q.Check() = %v, want error: %v", []string(tt.hosts), err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Errorf("error %q does not start with %q", err, "metadata: ")
			}
		})
	}
}

func TestHostsMatch(t *testing.T) {
	zendesk := metadata.Hosts{"*.zendesk.com"}
	salesforce := metadata.Hosts{"login.salesforce.com", "*.my.salesforce.com", "*.sandbox.my.salesforce.com"}
	loopback := metadata.Hosts{"127.0.0.1", "::1"}
	tests := []struct {
		name  string
		hosts metadata.Hosts
		host  string
		want  bool
	}{
		{name: "wildcard: one label", hosts: zendesk, host: "acme.zendesk.com", want: true},
		{name: "wildcard: uppercase label", hosts: zendesk, host: "ACME.zendesk.com", want: true},
		{name: "wildcard: uppercase suffix", hosts: zendesk, host: "acme.ZENDESK.COM", want: true},
		{name: "wildcard: digits", hosts: zendesk, host: "1234.zendesk.com", want: true},
		{name: "wildcard: 63-octet label", hosts: zendesk, host: strings.Repeat("a", 63) + ".zendesk.com", want: true},
		{name: "wildcard: 64-octet label", hosts: zendesk, host: strings.Repeat("a", 64) + ".zendesk.com"},
		{name: "wildcard: apex", hosts: zendesk, host: "zendesk.com"},
		{name: "wildcard: empty label", hosts: zendesk, host: ".zendesk.com"},
		{name: "wildcard: two labels", hosts: zendesk, host: "a.b.zendesk.com"},
		{name: "wildcard: suffix without dot", hosts: zendesk, host: "evilzendesk.com"},
		{name: "wildcard: suffix followed by more", hosts: zendesk, host: "acme.zendesk.com.evil.com"},
		{name: "wildcard: trailing dot", hosts: zendesk, host: "acme.zendesk.com."},
		{name: "wildcard: leading hyphen", hosts: zendesk, host: "-a.zendesk.com"},
		{name: "wildcard: trailing hyphen", hosts: zendesk, host: "a-.zendesk.com"},
		{name: "wildcard: underscore", hosts: zendesk, host: "a_b.zendesk.com"},
		{name: "wildcard: punycode", hosts: zendesk, host: "xn--80ak6aa92e.zendesk.com"},
		{name: "wildcard: Cyrillic a", hosts: zendesk, host: "\u0430cme.zendesk.com"},
		{name: "wildcard: Kelvin sign", hosts: zendesk, host: "ACME\u212A.zendesk.com"},
		{name: "wildcard: dotted capital I", hosts: zendesk, host: "ACME\u0130.zendesk.com"},
		{name: "wildcard: port", hosts: zendesk, host: "acme.zendesk.com:443"},
		{name: "wildcard: user info", hosts: zendesk, host: "a@acme.zendesk.com"},
		{name: "wildcard: empty", hosts: zendesk, host: ""},
		{name: "exact: equal", hosts: salesforce, host: "login.salesforce.com", want: true},
		{name: "exact: other case", hosts: salesforce, host: "LOGIN.Salesforce.com", want: true},
		{name: "exact: subdomain", hosts: salesforce, host: "a.login.salesforce.com"},
		{name: "exact: prefix", hosts: salesforce, host: "evillogin.salesforce.com"},
		{name: "exact: Kelvin sign", hosts: metadata.Hosts{"api.slack.com"}, host: "api.slac\u212A.com"},
		{name: "exact: long s", hosts: salesforce, host: "login.\u017Falesforce.com"},
		{name: "second wildcard", hosts: salesforce, host: "acme.my.salesforce.com", want: true},
		{name: "third wildcard", hosts: salesforce, host: "acme--uat.sandbox.my.salesforce.com", want: true},
		{name: "wildcard label may not span dots", hosts: salesforce, host: "a.b.sandbox.my.salesforce.com"},
		{name: "apex of wildcard", hosts: salesforce, host: "my.salesforce.com"},
		{name: "loopback IPv4", hosts: loopback, host: "127.0.0.1", want: true},
		{name: "loopback IPv6", hosts: loopback, host: "::1", want: true},
		{name: "other loopback address", hosts: loopback, host: "127.0.0.2"},
		{name: "localhost is not 127.0.0.1", hosts: loopback, host: "localhost"},
		{name: "metadata address", hosts: loopback, host: "169.254.169.254"},
		{name: "nil hosts", hosts: nil, host: "acme.zendesk.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hosts.Match(tt.host); got != tt.want {
				t.Errorf("Hosts%q.Match(%q) = %v, want %v", []string(tt.hosts), tt.host, got, tt.want)
			}
		})
	}
}

// TestHostRule pins the one host rule every package of connect shares: lowercase LDH labels,
// no punycode label, a last label that is not all digits, and of the IP literals only the
// loopback addresses. Each way a host enters this package must agree.
func TestHostRule(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"acme.example.com", true},
		{"a-1.example", true},
		{"Acme.example.com", false},
		{"xn--80ak6aa92e.example.com", false},
		{"acme.xn--p1ai", false},
		{"10.0.0.1", false},
		{"127.1", false},
		{"a_b.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			_, err := metadata.ParseEndpoint("https://" + tt.host + "/x")
			if got := err == nil; got != tt.want {
				t.Errorf("ParseEndpoint: accepted = %t, want %t (%v)", got, tt.want, err)
			}
			u, perr := url.Parse("https://" + tt.host + "/x")
			if perr != nil {
				t.Fatal(perr)
			}
			if got := metadata.CheckURL(u) == nil; got != tt.want {
				t.Errorf("CheckURL: accepted = %t, want %t", got, tt.want)
			}
			if got := (metadata.Hosts{tt.host}).Check() == nil; got != tt.want {
				t.Errorf("Hosts.Check: accepted = %t, want %t", got, tt.want)
			}
			_, err = metadata.ParseTemplate("https://"+tt.host+"/x", nil, nil)
			if got := err == nil; got != tt.want {
				t.Errorf("ParseTemplate: accepted = %t, want %t (%v)", got, tt.want, err)
			}
			// A tenant value is lowercased first, so only case differs from the rule.
			in := metadata.Input{Name: "host", Kind: metadata.Hostname}
			if err := in.Compile(); err != nil {
				t.Fatal(err)
			}
			_, err = in.Normalize(tt.host)
			wantValue := tt.want || strings.ToLower(tt.host) == "acme.example.com"
			if got := err == nil; got != wantValue {
				t.Errorf("Hostname input: accepted = %t, want %t (%v)", got, wantValue, err)
			}
		})
	}
}
