package providers_test

import (
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// withoutAPI are the built-in providers whose API the catalog may not declare, and why.
var withoutAPI = map[string]string{
	// The API is on the store's own host, which no host rule can bound: letting any caller
	// aim the backend's requests (and a verification at Connect) at any host is a server-side
	// request forgery.
	"woocommerce": "any host",
}

// TestCatalogAPI holds every built-in provider to the API data connect's Client, Verify and
// DeleteConnection need: a base URL that renders for sample inputs, documentation, a
// verification request, and a way to send each credential kind it accepts.
func TestCatalogAPI(t *testing.T) {
	r := providers.Default()
	for _, name := range r.Names() {
		t.Run(name, func(t *testing.T) {
			p := lookup(t, r, name)
			a := p.API
			if _, ok := withoutAPI[name]; ok {
				if a != nil {
					t.Errorf("an api is declared, but %s is listed in withoutAPI", name)
				}
				return
			}
			if a == nil {
				t.Fatalf("no api")
			}
			if a.Docs == "" {
				t.Errorf("api: no docs")
			}
			if a.Verify == nil || a.Verify.Docs == "" {
				t.Errorf("api: no verify request, or no docs for it")
			}
			if p.RevocationURL != "" && p.RevocationDocs == "" {
				t.Errorf("no revocationDocs for the revocation endpoint")
			}
			values := resolved(t, p)
			base, err := p.APIBaseURL(values)
			if err != nil {
				t.Fatalf("APIBaseURL(sample inputs) = %v", err)
			}
			if base.Scheme != "https" || strings.HasSuffix(base.Path, "/") {
				t.Errorf("base URL %s: want https without a trailing slash", base)
			}
			for _, k := range []providers.AuthKind{
				providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials, providers.OAuth2PasswordCredentials,
				providers.APIKey, providers.BasicAuth, providers.CustomAuth,
			} {
				if !p.Accepts(k) {
					continue
				}
				pl, err := p.Credential(k, func(string) string { return "SAMPLE" })
				if err != nil {
					t.Errorf("Credential(%s) = %v", k, err)
					continue
				}
				if len(pl.Query) > 0 && len(pl.Header) > 0 {
					t.Errorf("Credential(%s) uses both query and headers", k)
				}
			}
			if p.RevocationURL != "" {
				if u, err := p.RevocationEndpoint(values); err != nil || !strings.HasPrefix(u, "https://") {
					t.Errorf("RevocationEndpoint(sample inputs) = %q, %v; want an https URL", u, err)
				}
			}
		})
	}
}

// resolved returns sample values of all p's inputs, resolved.
func resolved(t *testing.T, p *providers.Provider) metadata.Values {
	t.Helper()
	v, err := p.Resolve(samples(p, true))
	if err != nil {
		t.Fatalf("Resolve(samples) = %v", err)
	}
	return v
}
