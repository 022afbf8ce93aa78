package providers_test

import (
	"fmt"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// minimal returns a provider with only the fields every provider needs.
func minimal() *providers.Provider {
	return &providers.Provider{
		Name:     "acme",
		AuthURL:  "https://auth.example.com/oauth/authorize",
		TokenURL: "https://auth.example.com/oauth/token",
	}
}

// salesforce returns a Salesforce-like provider: My Domain hosts, with login.salesforce.com
// when no My Domain is given.
func salesforce() *providers.Provider {
	return &providers.Provider{
		Name:            "salesforce-test",
		AuthURL:         "https://{{workspace}}.my.salesforce.com/services/oauth2/authorize",
		TokenURL:        "https://{{workspace}}.my.salesforce.com/services/oauth2/token",
		DefaultAuthURL:  "https://login.salesforce.com/services/oauth2/authorize",
		DefaultTokenURL: "https://login.salesforce.com/services/oauth2/token",
		Hosts:           metadata.Hosts{"login.salesforce.com", "*.my.salesforce.com", "*.sandbox.my.salesforce.com"},
		Inputs:          []metadata.Input{{Name: "workspace", Kind: metadata.Hostname, Optional: true}},
		Refresh:         providers.Refresh{By: providers.RefreshByScope, Scope: "refresh_token"},
	}
}

// named returns a minimal valid provider called name.
func named(name string) *providers.Provider {
	p := minimal()
	p.Name = name
	return p
}

// benchRegistry returns a registry of n generated providers named p000, p001, ...
func benchRegistry(tb testing.TB, n int) *providers.Registry {
	tb.Helper()
	r := providers.NewRegistry()
	for i := range n {
		if err := r.Register(named(fmt.Sprintf("p%03d", i))); err != nil {
			tb.Fatalf("Register = %v", err)
		}
	}
	return r
}

// lookup returns the registry's provider called name, failing the test if it has none.
func lookup(t testing.TB, r *providers.Registry, name string) *providers.Provider {
	t.Helper()
	p, ok := r.Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q): not found", name)
	}
	return p
}

// sample returns a value that passes the input's rule.
func sample(in metadata.Input) string {
	switch {
	case in.Example != "":
		return in.Example
	case in.Name == "accountId":
		return "1234567_SB1"
	case in.Kind == metadata.Enum:
		return in.Values[0]
	}
	return "acme" // dnsLabel, hostname, pathSegment, text
}

// samples returns sample values for every input, or for the required inputs only.
func samples(p *providers.Provider, all bool) metadata.Values {
	v := metadata.Values{}
	for _, in := range p.Inputs {
		if all || !in.Optional {
			v[in.Name] = sample(in)
		}
	}
	return v
}

// mustPrepare prepares p, failing the test on an error.
func mustPrepare(t testing.TB, p *providers.Provider) {
	t.Helper()
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v, want nil", err)
	}
}

// withParam returns a change that fixes the authorize parameter key (and audience).
func withParam(key string) func(p *providers.Provider) {
	return func(p *providers.Provider) { p.AuthParams = map[string]string{"audience": "x", key: "fixed"} }
}

// withField returns a change that makes custom auth with the fields a kind the provider accepts.
func withField(fields ...providers.Field) func(p *providers.Provider) {
	return func(p *providers.Provider) {
		p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.CustomAuth}
		p.CustomAuth = fields
	}
}
