package providers_test

import (
	"errors"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// catalogNames are the providers the embedded catalog must hold, at the least.
var catalogNames = []string{
	"airtable", "asana", "atlassian", "box", "docusign", "dropbox", "github", "gitlab", "google",
	"hubspot", "intercom", "linear", "microsoft", "netsuite", "notion", "okta", "pipedrive",
	"quickbooks", "salesforce", "servicenow", "shopify", "slack", "xero", "zendesk", "zoho", "zoom",
}

func TestCatalogLoads(t *testing.T) {
	r := providers.Default()
	if r.Len() < 25 {
		t.Fatalf("Len() = %d, want at least 25", r.Len())
	}
	names := r.Names()
	if len(names) != r.Len() {
		t.Fatalf("len(Names()) = %d, Len() = %d", len(names), r.Len())
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() is not sorted: %v", names)
	}
	for _, want := range catalogNames {
		if !slices.Contains(names, want) {
			t.Errorf("catalog lacks %s", want)
		}
	}
	for _, name := range names {
		p := lookup(t, r, name)
		if p.Name != name {
			t.Errorf("Lookup(%q).Name = %q", name, p.Name)
		}
		if p.DisplayName == "" {
			t.Errorf("%s: no displayName", name)
		}
		if !slices.Contains(providers.Categories(), p.Category) {
			t.Errorf("%s: category %q, want one of %v", name, p.Category, providers.Categories())
		}
		u, err := url.Parse(p.Docs)
		if p.Docs == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: docs %q is not an https URL", name, p.Docs)
		}
		if (p.AuthURL == "") != !p.Accepts(providers.OAuth2AuthorizationCode) {
			t.Errorf("%s: an authorize URL goes with the %s kind, and only with it", name, providers.OAuth2AuthorizationCode)
		}
		if p.AuthURL == "" && len(p.AuthKinds) == 0 {
			t.Errorf("%s: no way to connect", name)
		}
	}
}

// TestCatalogSize holds the catalog to the breadth users compare it with: at least 700
// providers, 350 of them with the authorization code flow.
func TestCatalogSize(t *testing.T) {
	r := providers.Default()
	oauth := 0
	for _, name := range r.Names() {
		if p := lookup(t, r, name); p.Accepts(providers.OAuth2AuthorizationCode) {
			oauth++
		}
	}
	if r.Len() < 700 || oauth < 350 {
		t.Errorf("%d providers, %d with the authorization code flow; want at least 700 and 350", r.Len(), oauth)
	}
}

// checkURL parses an endpoint and checks it is https with an allowed host.
func checkURL(t *testing.T, p *providers.Provider, what, s string) {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Errorf("%s: %s %q does not parse: %v", p.Name, what, s, err)
		return
	}
	if u.Scheme != "https" || u.User != nil || u.Fragment != "" || u.Port() != "" {
		t.Errorf("%s: %s %q is not a plain https URL", p.Name, what, s)
	}
	host := u.Hostname()
	if host != strings.ToLower(host) {
		t.Errorf("%s: %s host %q is not lowercase", p.Name, what, host)
	}
	if len(p.Hosts) > 0 {
		if !p.Hosts.Match(host) {
			t.Errorf("%s: %s host %q is not among the hosts %v", p.Name, what, host, p.Hosts)
		}
		return
	}
	// Without hosts, the URL must be exactly the template's, whose host is its own.
	if strings.Contains(s, "{{") {
		t.Errorf("%s: %s %q still has a placeholder", p.Name, what, s)
	}
}

func TestEveryProviderRenders(t *testing.T) {
	r := providers.Default()
	for _, name := range r.Names() {
		p := lookup(t, r, name)
		t.Run(name, func(t *testing.T) {
			for _, all := range []bool{true, false} {
				in := samples(p, all)
				v, err := p.Resolve(in)
				if err != nil {
					t.Fatalf("Resolve(%v): %v", in, err)
				}
				again, err := p.Resolve(v)
				if err != nil || !reflect.DeepEqual(again, v) {
					t.Errorf("Resolve is not idempotent: %v -> %v, %v", v, again, err)
				}
				auth, token, err := p.Endpoints(v)
				if err != nil {
					t.Fatalf("Endpoints(%v): %v", v, err)
				}
				if p.AuthURL != "" {
					checkURL(t, p, "authURL", auth)
				}
				if p.TokenURL != "" {
					checkURL(t, p, "tokenURL", token)
				}
			}
			for _, f := range p.TokenMetadata {
				if f.URL && len(p.Hosts) == 0 {
					t.Errorf("token field %s is a URL but the provider lists no hosts to check it against", f.Field)
				}
			}
		})
	}
}

func TestRenderedEndpoints(t *testing.T) {
	tests := []struct {
		provider    string
		values      metadata.Values // nil: the samples of every input
		auth, token string
	}{
		{"airtable", nil, "https://airtable.com/oauth2/v1/authorize", "https://airtable.com/oauth2/v1/token"},
		{"asana", nil, "https://app.asana.com/-/oauth_authorize", "https://app.asana.com/-/oauth_token"},
		{"atlassian", nil, "https://auth.atlassian.com/authorize", "https://auth.atlassian.com/oauth/token"},
		{"box", nil, "https://account.box.com/api/oauth2/authorize", "https://api.box.com/oauth2/token"},
		{"docusign", nil, "https://account.docusign.com/oauth/auth", "https://account.docusign.com/oauth/token"},
		{"dropbox", nil, "https://www.dropbox.com/oauth2/authorize", "https://api.dropboxapi.com/oauth2/token"},
		{"github", nil, "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token"},
		{"gitlab", nil, "https://gitlab.com/oauth/authorize", "https://gitlab.com/oauth/token"},
		{"google", nil, "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token"},
		{"hubspot", nil, "https://app.hubspot.com/oauth/authorize", "https://api.hubapi.com/oauth/2026-03/token"},
		{"intercom", nil, "https://app.eu.intercom.com/oauth", "https://api.eu.intercom.io/auth/eagle/token"},
		{"linear", nil, "https://linear.app/oauth/authorize", "https://api.linear.app/oauth/token"},
		{"microsoft", nil, "https://login.microsoftonline.com/acme/oauth2/v2.0/authorize", "https://login.microsoftonline.com/acme/oauth2/v2.0/token"},
		{"netsuite", nil, "https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl", "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"},
		{"notion", nil, "https://api.notion.com/v1/oauth/authorize", "https://api.notion.com/v1/oauth/token"},
		{"okta", nil, "https://acme.okta.com/oauth2/v1/authorize", "https://acme.okta.com/oauth2/v1/token"},
		{"pipedrive", nil, "https://oauth.pipedrive.com/oauth/authorize", "https://oauth.pipedrive.com/oauth/token"},
		{"quickbooks", nil, "https://appcenter.intuit.com/connect/oauth2", "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"},
		{"salesforce", nil, "https://acme.my.salesforce.com/services/oauth2/authorize", "https://acme.my.salesforce.com/services/oauth2/token"},
		{"servicenow", nil, "https://acme.service-now.com/oauth_auth.do", "https://acme.service-now.com/oauth_token.do"},
		{"shopify", nil, "https://acme.myshopify.com/admin/oauth/authorize", "https://acme.myshopify.com/admin/oauth/access_token"},
		{"slack", nil, "https://slack.com/oauth/v2/authorize", "https://slack.com/api/oauth.v2.access"},
		{"xero", nil, "https://login.xero.com/identity/connect/authorize", "https://identity.xero.com/connect/token"},
		{"zendesk", nil, "https://acme.zendesk.com/oauth/authorizations/new", "https://acme.zendesk.com/oauth/tokens"},
		{"zoho", nil, "https://accounts.zoho.com/oauth/v2/auth", "https://accounts.zoho.com/oauth/v2/token"},
		{"zoom", nil, "https://zoom.us/oauth/authorize", "https://zoom.us/oauth/token"},

		// Salesforce: login.salesforce.com without a My Domain, the My Domain otherwise.
		{"salesforce", metadata.Values{}, "https://login.salesforce.com/services/oauth2/authorize", "https://login.salesforce.com/services/oauth2/token"},
		{"salesforce", metadata.Values{"workspace": "ACME"}, "https://acme.my.salesforce.com/services/oauth2/authorize", "https://acme.my.salesforce.com/services/oauth2/token"},
		{"salesforce", metadata.Values{"workspace": "acme--uat.sandbox"}, "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize", "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token"},
		{"salesforce", metadata.Values{"workspace": "acme-dev-ed.develop"}, "https://acme-dev-ed.develop.my.salesforce.com/services/oauth2/authorize", "https://acme-dev-ed.develop.my.salesforce.com/services/oauth2/token"},
		// Microsoft: the common tenant by default; GUIDs and domains pass.
		{"microsoft", metadata.Values{}, "https://login.microsoftonline.com/common/oauth2/v2.0/authorize", "https://login.microsoftonline.com/common/oauth2/v2.0/token"},
		{"microsoft", metadata.Values{"tenant": "contoso.onmicrosoft.com"}, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"},
		{"microsoft", metadata.Values{"tenant": "9188040d-6c67-4c5b-b112-36a304b66dad"}, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/authorize", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token"},
		// NetSuite: account ids in their host form, lowercase with - for _.
		{"netsuite", metadata.Values{"accountId": "1234567"}, "https://1234567.app.netsuite.com/app/login/oauth2/authorize.nl", "https://1234567.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"},
		{"netsuite", metadata.Values{"accountId": "TSTDRV1234567"}, "https://tstdrv1234567.app.netsuite.com/app/login/oauth2/authorize.nl", "https://tstdrv1234567.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"},
		// Zoho: the accounts server of the data centre.
		{"zoho", metadata.Values{"domain": "eu"}, "https://accounts.zoho.eu/oauth/v2/auth", "https://accounts.zoho.eu/oauth/v2/token"},
		{"zoho", metadata.Values{"domain": "com.au"}, "https://accounts.zoho.com.au/oauth/v2/auth", "https://accounts.zoho.com.au/oauth/v2/token"},
		{"zoho", metadata.Values{}, "https://accounts.zoho.com/oauth/v2/auth", "https://accounts.zoho.com/oauth/v2/token"},
		// Intercom: the US hosts without a region.
		{"intercom", metadata.Values{}, "https://app.intercom.com/oauth", "https://api.intercom.io/auth/eagle/token"},
		{"intercom", metadata.Values{"region": "au"}, "https://app.au.intercom.com/oauth", "https://api.au.intercom.io/auth/eagle/token"},
		// Docusign: the developer environment.
		{"docusign", metadata.Values{"accountServer": "account-d.docusign.com"}, "https://account-d.docusign.com/oauth/auth", "https://account-d.docusign.com/oauth/token"},
		// Okta: preview and EMEA orgs.
		{"okta", metadata.Values{"workspace": "acme", "domain": "oktapreview.com"}, "https://acme.oktapreview.com/oauth2/v1/authorize", "https://acme.oktapreview.com/oauth2/v1/token"},
		{"okta", metadata.Values{"workspace": "acme", "domain": "okta-emea.com"}, "https://acme.okta-emea.com/oauth2/v1/authorize", "https://acme.okta-emea.com/oauth2/v1/token"},
	}
	r := providers.Default()
	covered := map[string]bool{}
	for _, tt := range tests {
		p := lookup(t, r, tt.provider)
		in := tt.values
		if in == nil {
			in = samples(p, true)
			covered[tt.provider] = true
		}
		v, err := p.Resolve(in)
		if err != nil {
			t.Errorf("%s: Resolve(%v): %v", tt.provider, in, err)
			continue
		}
		auth, token, err := p.Endpoints(v)
		if err != nil {
			t.Errorf("%s: Endpoints(%v): %v", tt.provider, v, err)
			continue
		}
		if auth != tt.auth || token != tt.token {
			t.Errorf("%s %v:\n got %s\n     %s\nwant %s\n     %s", tt.provider, in, auth, token, tt.auth, tt.token)
		}
	}
	_ = covered // every provider's endpoints are in testdata/endpoints.golden
}

func TestRejectedInputs(t *testing.T) {
	tests := []struct {
		provider string
		values   metadata.Values
		input    string // the input the error must name
	}{
		{"salesforce", metadata.Values{"workspace": "evil.com"}, "workspace"},
		{"salesforce", metadata.Values{"workspace": "acme.my.salesforce.com"}, "workspace"},
		{"salesforce", metadata.Values{"workspace": "a.b.sandbox"}, "workspace"},
		{"microsoft", metadata.Values{"tenant": "../admin"}, "tenant"},
		{"microsoft", metadata.Values{"tenant": "a/b"}, "tenant"},
		{"microsoft", metadata.Values{"tenant": "a?x=1"}, "tenant"},
		{"microsoft", metadata.Values{"tenant": "a#b"}, "tenant"},
		{"microsoft", metadata.Values{"tenant": "%2e%2e"}, "tenant"},
		{"microsoft", metadata.Values{"tenant": ".."}, "tenant"},
		{"netsuite", metadata.Values{"accountId": "acme"}, "accountId"},
		{"netsuite", metadata.Values{"accountId": "1234567_SB1.evil.com"}, "accountId"},
		{"netsuite", metadata.Values{}, "accountId"},
		{"zoho", metadata.Values{"domain": "ca"}, "domain"},
		{"zoho", metadata.Values{"domain": "evil.com"}, "domain"},
		{"intercom", metadata.Values{"region": "us"}, "region"},
		{"docusign", metadata.Values{"accountServer": "evil.com"}, "accountServer"},
		{"okta", metadata.Values{"workspace": "acme", "domain": "evil.com"}, "domain"},
		{"zendesk", metadata.Values{}, "workspace"},
		{"zendesk", metadata.Values{"workspace": "acme", "subdomain": "acme"}, "subdomain"},
		{"google", metadata.Values{"workspace": "acme"}, "workspace"},
	}
	r := providers.Default()
	for _, tt := range tests {
		p := lookup(t, r, tt.provider)
		err := resolveAndRender(p, tt.values)
		var ve *metadata.ValueError
		if !errors.As(err, &ve) || ve.Input != tt.input {
			t.Errorf("%s %v: error %v, want a *metadata.ValueError for %s", tt.provider, tt.values, err, tt.input)
		}
	}
}

func resolveAndRender(p *providers.Provider, values metadata.Values) error {
	v, err := p.Resolve(values)
	if err != nil {
		return err
	}
	_, _, err = p.Endpoints(v)
	return err
}

// hostile are the workspace values of docs/security.md, G1.
var hostile = []string{
	"evil.com#", "evil.com/", "evil.com?", `evil.com\`, "a@evil.com#", "evil.com%2f", "evil.com%23",
	"a.b", "..", ".", "-acme", "acme-", "a_b", strings.Repeat("a", 64),
	"\u0430cme",                // Cyrillic а
	"\uff41\uff43\uff4d\uff45", // fullwidth ａｃｍｅ
	"xn--80ak6aa92e", "acme:8443", "127.0.0.1#", "[::1]#", "acme\x00", "acme evil",
	"acme\r\nHost: evil.com", "acme/../evil", "%61cme",
}

func TestHostileWorkspace(t *testing.T) {
	r := providers.Default()
	tested := 0
	for _, name := range r.Names() {
		p := lookup(t, r, name)
		in := p.Input("workspace")
		if in == nil {
			continue
		}
		tested++
		t.Run(name, func(t *testing.T) {
			base := samples(p, false)
			for _, bad := range hostile {
				if bad == "a.b" && in.Kind == metadata.Hostname {
					continue // a host name of two labels is what a hostname input takes
				}
				values := metadata.Values{}
				for k, v := range base {
					values[k] = v
				}
				values["workspace"] = bad
				err := resolveAndRender(p, values)
				var ve *metadata.ValueError
				if !errors.As(err, &ve) || ve.Input != "workspace" {
					t.Errorf("workspace %q: error %v, want a *metadata.ValueError for workspace", bad, err)
				}
				if err != nil && strings.Contains(bad, "evil") && strings.Contains(err.Error(), bad) {
					t.Errorf("workspace %q: the error repeats the value: %v", bad, err)
				}
			}
			if !in.Optional {
				values := samples(p, false)
				delete(values, "workspace")
				var ve *metadata.ValueError
				if err := resolveAndRender(p, values); !errors.As(err, &ve) || !errors.Is(err, metadata.ErrMissing) {
					t.Errorf("no workspace: error %v, want ErrMissing", err)
				}
			}
			// The lowercase policy: ACME and acme are one identity.
			ex := strings.ToLower(sample(*in))
			for _, good := range []string{ex, strings.ToUpper(ex), strings.ToUpper(ex[:1]) + ex[1:]} {
				values := samples(p, false)
				values["workspace"] = good
				v, err := p.Resolve(values)
				if err != nil {
					t.Errorf("workspace %q: %v", good, err)
					continue
				}
				if want, _ := in.Normalize(ex); v["workspace"] != want {
					t.Errorf("workspace %q resolves to %q, want %q", good, v["workspace"], want)
				}
				auth, token, err := p.Endpoints(v)
				if err != nil {
					t.Errorf("workspace %q: %v", good, err)
					continue
				}
				// The workspace leads somewhere: into the host or path of an endpoint (Tempo
				// authorizes on the customer's Jira site but issues tokens on its own host).
				used, rendered := false, false
				for _, s := range []string{auth, token} {
					if s == "" {
						continue // no such endpoint: an API key or basic auth provider
					}
					rendered = true
					u, _ := url.Parse(s)
					used = used || strings.Contains(u.Hostname()+"/"+u.Path, strings.ReplaceAll(v["workspace"], "_", "-"))
				}
				if rendered && !used {
					t.Errorf("workspace %q leads into neither %q nor %q", good, auth, token)
				}
			}
		})
	}
	if tested < 5 {
		t.Errorf("only %d providers take a workspace; want zendesk, shopify, salesforce, okta, servicenow", tested)
	}
}

func TestProviderRules(t *testing.T) {
	r := providers.Default()

	g := lookup(t, r, "google")
	if want := (providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}); g.Refresh != want {
		t.Errorf("google refresh = %+v, want %+v", g.Refresh, want)
	}
	if g.Prompt != "consent" {
		t.Errorf("google prompt = %q, want consent", g.Prompt)
	}

	sf := lookup(t, r, "salesforce")
	if want := (providers.Refresh{By: providers.RefreshByScope, Scope: "refresh_token"}); sf.Refresh != want {
		t.Errorf("salesforce refresh = %+v, want %+v", sf.Refresh, want)
	}
	if !slices.Contains(sf.TokenMetadata, providers.TokenField{Field: "instance_url", Name: "instanceUrl", URL: true}) {
		t.Errorf("salesforce tokenMetadata = %+v, want instance_url as a URL", sf.TokenMetadata)
	}
	for _, host := range []string{"login.salesforce.com", "test.salesforce.com", "acme.my.salesforce.com", "acme--uat.sandbox.my.salesforce.com"} {
		if !sf.Hosts.Match(host) {
			t.Errorf("salesforce hosts do not match %s", host)
		}
	}
	for _, host := range []string{"evil.com", "my.salesforce.com", "a.b.my.salesforce.com", "acme.my.salesforce.com.evil.com", "169.254.169.254"} {
		if sf.Hosts.Match(host) {
			t.Errorf("salesforce hosts match %s", host)
		}
	}

	if a := lookup(t, r, "atlassian"); !maps.Equal(a.AuthParams, map[string]string{"audience": "api.atlassian.com"}) {
		t.Errorf("atlassian authParams = %v, want audience=api.atlassian.com", a.AuthParams)
	}
	if n := lookup(t, r, "notion"); n.AuthParams["owner"] != "user" {
		t.Errorf("notion authParams = %v, want owner=user", n.AuthParams)
	}
	for _, name := range []string{"slack", "linear", "zoho", "shopify"} {
		if sep := lookup(t, r, name).Separator(); sep != "," {
			t.Errorf("%s scope separator = %q, want ,", name, sep)
		}
	}
	if sep := lookup(t, r, "microsoft").Separator(); sep != " " {
		t.Errorf("microsoft scope separator = %q, want a space", sep)
	}
	if d := lookup(t, r, "dropbox"); d.Refresh != (providers.Refresh{By: providers.RefreshByParam, Param: "token_access_type", Value: "offline"}) {
		t.Errorf("dropbox refresh = %+v, want token_access_type=offline", d.Refresh)
	}
	if z := lookup(t, r, "zoho"); z.Refresh != (providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}) || z.Prompt != "consent" {
		t.Errorf("zoho refresh = %+v, prompt %q, want access_type=offline and consent", z.Refresh, z.Prompt)
	}
	if ns := lookup(t, r, "netsuite"); !slices.Equal(ns.DefaultScopes, []string{"rest_webservices"}) {
		t.Errorf("netsuite default scopes = %v, want [rest_webservices]", ns.DefaultScopes)
	}
	if ns := lookup(t, r, "netsuite").Input("accountId"); ns == nil || !ns.UnderscoreToHyphen || (ns.Kind != metadata.DNSLabel && ns.Kind != "") {
		t.Errorf("netsuite accountId input = %+v, want a dnsLabel with underscoreToHyphen", ns)
	}
	if at := lookup(t, r, "airtable"); at.PKCE != providers.PKCERequired {
		t.Errorf("airtable pkce = %q, want required", at.PKCE)
	}

	for _, name := range r.Names() {
		p := lookup(t, r, name)
		// Every OAuth entry says how it grants refresh tokens: the default (offline_access)
		// is wrong for most providers, so the catalog never relies on it.
		if p.Refresh.By == "" && (p.AuthURL != "" || p.Accepts(providers.OAuth2PasswordCredentials)) {
			t.Errorf("%s: no refresh rule", name)
		}
		for _, s := range p.DefaultScopes {
			if s == "offline_access" || s == p.Refresh.Scope {
				t.Errorf("%s: default scope %s is the refresh mechanism's to add", name, s)
			}
		}
		for k := range p.AuthParams {
			if providers.Reserved(k) || strings.EqualFold(k, p.Refresh.Param) {
				t.Errorf("%s: authParams sets %s", name, k)
			}
		}
		if p.Prompt != "" && p.NoPrompt {
			t.Errorf("%s: prompt and noPrompt", name)
		}
		for _, in := range p.Inputs {
			if in.Name == "workspace" && in.Kind != metadata.DNSLabel && in.Kind != "" && in.Kind != metadata.Hostname {
				t.Errorf("%s: workspace of kind %s", name, in.Kind)
			}
		}
	}
}
