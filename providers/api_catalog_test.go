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

// withoutVerify are the built-in providers whose own documentation shows no verification
// request the catalog could confirm: a call any valid credential may make and a bad one is
// refused. Verify refuses them with ErrNoAPI rather than guess.
var withoutVerify = map[string]string{
	"breathe-hr":              "GET /account is only in other catalogs",
	"cleverreach":             "whoami's path and scope are not in its documentation",
	"deviantart":              "whoami is a user call that client-credentials tokens may not make",
	"document360":             "the project-versions call is described without its path",
	"flightaware":             "/account/usage is only in copies of its specification",
	"freshchat":               "the agents list is not in the reference",
	"genius":                  "/account needs the me scope, which client access tokens lack",
	"hover":                   "the jobs list path is not on its reference pages",
	"lastfm":                  "the status of an invalid key is not documented, and chart calls answer 200 with an error",
	"livestorm":               "/ping is not in its reference",
	"manatal":                 "the users list is not in its reference",
	"millionverifier":         "/credits and its answer to a bad key are not in its documentation",
	"productboard":            "the v1 features list is not in its current documentation",
	"recharge":                "the store call is not in the reference read, and may need read_store",
	"sage-hr":                 "the employees list is only in other catalogs",
	"solarwinds-service-desk": "the users list is not in its documentation",
	"sourcehut":               "the scope the GraphQL me query needs is not documented",
	"streamlabs":              "the user call is not in its documentation",
	"suunto":                  "the workouts list is not in its API documentation",
	"teachable":               "the courses list is only in copies of its specification",
	"timely":                  "the accounts call is past what its documentation shows",
	"wealthbox":               "/v1/me is only in other catalogs",
}

// TestCatalogAPI holds every built-in provider to the API data connect's Client, Verify and
// DeleteConnection need: a base URL that renders for sample inputs, documentation, a
// verification request (unless listed in withoutVerify), and a way to send each credential
// kind it accepts.
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
			if _, ok := withoutVerify[name]; ok {
				if a.Verify != nil {
					t.Errorf("a verify request is declared, but %s is listed in withoutVerify", name)
				}
			} else if a.Verify == nil || a.Verify.Docs == "" {
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
