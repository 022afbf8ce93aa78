package providers_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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

func TestPrepareMinimal(t *testing.T) {
	p := minimal()
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v, want nil", err)
	}
	if got := p.Separator(); got != " " {
		t.Errorf("Separator() = %q, want %q", got, " ")
	}
	if got := p.EncodedAuthParams(); got != "" {
		t.Errorf("EncodedAuthParams() = %q, want \"\"", got)
	}
	kinds := []struct {
		kind providers.AuthKind
		want bool
	}{
		{providers.OAuth2AuthorizationCode, true},
		{providers.OAuth2ClientCredentials, false},
		{providers.OAuth2PasswordCredentials, false},
		{providers.APIKey, false},
		{providers.BasicAuth, false},
		{providers.CustomAuth, false},
	}
	for _, k := range kinds {
		if got := p.Accepts(k.kind); got != k.want {
			t.Errorf("Accepts(%s) = %v, want %v", k.kind, got, k.want)
		}
	}
	if in := p.Input("workspace"); in != nil {
		t.Errorf("Input(workspace) = %+v, want nil", in)
	}
	authURL, tokenURL, err := p.Endpoints(nil)
	if err != nil || authURL != p.AuthURL || tokenURL != p.TokenURL {
		t.Errorf("Endpoints(nil) = %q, %q, %v; want %q, %q, nil", authURL, tokenURL, err, p.AuthURL, p.TokenURL)
	}
	values, err := p.Resolve(nil)
	if err != nil || len(values) != 0 {
		t.Errorf("Resolve(nil) = %v, %v; want empty, nil", values, err)
	}
	// The zero values of the rules are the safe defaults.
	if p.PKCE != "" || p.Refresh.By != "" || p.Prompt != "" || p.NoPrompt || p.TokenAuth != "" {
		t.Errorf("Prepare changed the rules: %+v", p)
	}
	// Prepare may run again on a prepared provider.
	if err := p.Prepare(); err != nil {
		t.Errorf("second Prepare() = %v, want nil", err)
	}
}

func TestPrepareValid(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *providers.Provider)
	}{
		{name: "display name and docs", modify: func(p *providers.Provider) {
			p.DisplayName, p.Docs = "Acme", "https://docs.example.com/oauth"
		}},
		{name: "category", modify: func(p *providers.Provider) { p.Category = providers.CategoryCRM }},
		{name: "name of 63", modify: func(p *providers.Provider) { p.Name = "a" + strings.Repeat("-b", 31) }},
		{name: "name with digits", modify: func(p *providers.Provider) { p.Name = "360learning" }},
		{name: "salesforce-like", modify: func(p *providers.Provider) { *p = *salesforce() }},
		{name: "fixed params", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"audience": "api.atlassian.com", "access_type": "online"}
		}},
		{name: "refresh by param", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}
		}},
		{name: "refresh always", modify: func(p *providers.Provider) { p.Refresh.By = providers.RefreshByDefault }},
		{name: "refresh never", modify: func(p *providers.Provider) { p.Refresh.By = providers.RefreshByNone }},
		{name: "refresh for approved apps", modify: func(p *providers.Provider) { p.Refresh.By = providers.RefreshByApproval }},
		{name: "prompt", modify: func(p *providers.Provider) { p.Prompt = "select_account consent" }},
		{name: "no prompt", modify: func(p *providers.Provider) { p.NoPrompt = true }},
		{name: "comma separator", modify: func(p *providers.Provider) {
			p.ScopeSeparator, p.DefaultScopes = ",", []string{"read:user", "repo"}
		}},
		{name: "plus separator", modify: func(p *providers.Provider) { p.ScopeSeparator = "+" }},
		{name: "pkce required", modify: func(p *providers.Provider) { p.PKCE = providers.PKCERequired }},
		{name: "pkce unsupported", modify: func(p *providers.Provider) { p.PKCE = providers.PKCEUnsupported }},
		{name: "token auth params", modify: func(p *providers.Provider) { p.TokenAuth = providers.TokenAuthParams }},
		{name: "issuer", modify: func(p *providers.Provider) { p.Issuer = "https://auth.example.com" }},
		{name: "loopback endpoints", modify: func(p *providers.Provider) {
			p.AuthURL, p.TokenURL, p.Issuer = "http://127.0.0.1:8080/authorize", "http://[::1]:8080/token", "http://127.0.0.1:8080"
		}},
		{name: "client credentials only", modify: func(p *providers.Provider) {
			p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2ClientCredentials}
		}},
		{name: "api key only", modify: func(p *providers.Provider) {
			p.AuthURL, p.TokenURL, p.AuthKinds = "", "", []providers.AuthKind{providers.APIKey}
		}},
		{name: "custom auth", modify: func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.CustomAuth}
			p.CustomAuth = []providers.Field{{Name: "apiToken", Secret: true, Pattern: `[A-Za-z0-9]+`, MaxLength: 4096}, {Name: "user_id", Optional: true}}
		}},
		{name: "token metadata", modify: func(p *providers.Provider) {
			*p = *salesforce()
			p.TokenMetadata = []providers.TokenField{{Field: "instance_url", Name: "instanceURL", URL: true, Input: "workspace"}}
		}},
		{name: "refresh URL", modify: func(p *providers.Provider) { p.RefreshURL = "https://auth.example.com/refresh" }},
		{name: "default URL with an optional input that has a default", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}, Optional: true, Default: "us"}}
			p.Hosts = metadata.Hosts{"*.example.com"}
			p.AuthURL = "https://{{region}}.example.com/authorize"
			p.TokenURL = "https://auth.example.com/token"
			p.DefaultAuthURL = "https://{{region}}.example.com/authorize"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := minimal()
			tt.modify(p)
			if err := p.Prepare(); err != nil {
				t.Fatalf("Prepare() = %v, want nil", err)
			}
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *providers.Provider)
	}{
		{name: "empty name", modify: func(p *providers.Provider) { p.Name = "" }},
		{name: "uppercase name", modify: func(p *providers.Provider) { p.Name = "Acme" }},
		{name: "name with leading hyphen", modify: func(p *providers.Provider) { p.Name = "-acme" }},
		{name: "name with underscore", modify: func(p *providers.Provider) { p.Name = "acme_corp" }},
		{name: "name with space", modify: func(p *providers.Provider) { p.Name = "acme corp" }},
		{name: "name with slash", modify: func(p *providers.Provider) { p.Name = "acme/x" }},
		{name: "name of 64", modify: func(p *providers.Provider) { p.Name = strings.Repeat("a", 64) }},
		{name: "unknown category", modify: func(p *providers.Provider) { p.Category = "games" }},
		{name: "category in other case", modify: func(p *providers.Provider) { p.Category = "CRM" }},
		{name: "docs not https", modify: func(p *providers.Provider) { p.Docs = "http://docs.example.com" }},
		{name: "authURL without tokenURL", modify: func(p *providers.Provider) { p.TokenURL = "" }},
		{name: "tokenURL without authURL or a grant kind", modify: func(p *providers.Provider) { p.AuthURL = "" }},
		{name: "neither URL nor kinds", modify: func(p *providers.Provider) { p.AuthURL, p.TokenURL = "", "" }},
		{name: "undeclared placeholder", modify: func(p *providers.Provider) {
			p.AuthURL = "https://{{workspace}}.example.com/authorize"
			p.Hosts = metadata.Hosts{"*.example.com", "auth.example.com"}
		}},
		{name: "undeclared placeholder in tokenURL", modify: func(p *providers.Provider) {
			p.TokenURL = "https://auth.example.com/{{tenant}}/token"
		}},
		{name: "http authURL", modify: func(p *providers.Provider) { p.AuthURL = "http://auth.example.com/authorize" }},
		{name: "http tokenURL", modify: func(p *providers.Provider) { p.TokenURL = "http://auth.example.com/token" }},
		{name: "http on localhost", modify: func(p *providers.Provider) { p.TokenURL = "http://localhost/token" }},
		{name: "http default URL", modify: func(p *providers.Provider) { p.DefaultAuthURL = "http://auth.example.com/authorize" }},
		{name: "endpoint with fragment", modify: func(p *providers.Provider) { p.AuthURL += "#x" }},
		{name: "endpoint with user info", modify: func(p *providers.Provider) { p.TokenURL = "https://u:p@auth.example.com/token" }},
		{name: "endpoint host not allowed", modify: func(p *providers.Provider) { p.Hosts = metadata.Hosts{"login.example.com"} }},
		{name: "bad hosts", modify: func(p *providers.Provider) { p.Hosts = metadata.Hosts{"*"} }},
		{name: "bad input", modify: func(p *providers.Provider) { p.Inputs = []metadata.Input{{Name: "1bad"}} }},
		{name: "input declared twice", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "workspace"}, {Name: "workspace", Kind: metadata.Hostname}}
		}},
		{name: "text input in a URL", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "tenant", Kind: metadata.Text}}
			p.TokenURL = "https://auth.example.com/{{tenant}}/token"
		}},
		{name: "authParams: state", modify: withParam("state")},
		{name: "authParams: STATE", modify: withParam("STATE")},
		{name: "authParams: State", modify: withParam("State")},
		{name: "authParams: redirect_uri", modify: withParam("redirect_uri")},
		{name: "authParams: client_id", modify: withParam("client_id")},
		{name: "authParams: response_type", modify: withParam("response_type")},
		{name: "authParams: code_challenge", modify: withParam("code_challenge")},
		{name: "authParams: code_challenge_method", modify: withParam("code_challenge_method")},
		{name: "authParams: scope", modify: withParam("scope")},
		{name: "authParams: nonce", modify: withParam("nonce")},
		{name: "authParams: request_uri", modify: withParam("request_uri")},
		{name: "authParams: request", modify: withParam("request")},
		{name: "authParams: prompt", modify: withParam("prompt")},
		{name: "authParams: response_mode", modify: withParam("response_mode")},
		{name: "authParams: client_secret", modify: withParam("client_secret")},
		{name: "authParams: space before state", modify: withParam(" state")},
		{name: "authParams: NUL after state", modify: withParam("state\x00")},
		{name: "authParams: ampersand in key", modify: withParam("a&state")},
		{name: "authParams: empty key", modify: withParam("")},
		{name: "authParams: CRLF in value", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"audience": "a\r\nX: 1"}
		}},
		{name: "authParams: value over 1024", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"audience": strings.Repeat("a", 1025)}
		}},
		{name: "authParams: key twice ignoring case", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"audience": "a", "Audience": "b"}
		}},
		{name: "pkce plain", modify: func(p *providers.Provider) { p.PKCE = "plain" }},
		{name: "pkce S256", modify: func(p *providers.Provider) { p.PKCE = "S256" }},
		{name: "unknown refresh.by", modify: func(p *providers.Provider) { p.Refresh.By = "sometimes" }},
		{name: "refresh by offlineAccess with a scope", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByOfflineAccess, Scope: "x"}
		}},
		{name: "refresh default with a param", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{Param: "access_type", Value: "offline"}
		}},
		{name: "refresh by scope without scope", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByScope}
		}},
		{name: "refresh scope holding the separator", modify: func(p *providers.Provider) {
			p.ScopeSeparator = ","
			p.Refresh = providers.Refresh{By: providers.RefreshByScope, Scope: "offline,all"}
		}},
		{name: "refresh by scope with a space", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByScope, Scope: "refresh token"}
		}},
		{name: "refresh by param without value", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "access_type"}
		}},
		{name: "refresh by param that is reserved", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "prompt", Value: "consent"}
		}},
		{name: "refresh by param that is reserved in other case", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "Scope", Value: "offline_access"}
		}},
		{name: "refresh by param with a space before a reserved name", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: " state", Value: "x"}
		}},
		{name: "refresh by param with a NUL", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "state\x00", Value: "x"}
		}},
		{name: "refresh by param with CRLF in value", modify: func(p *providers.Provider) {
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline\r\nX: 1"}
		}},
		{name: "refresh by param that is fixed already", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"access_type": "online"}
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}
		}},
		{name: "refresh by param that is fixed in other case", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"Access_Type": "online"}
			p.Refresh = providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}
		}},
		{name: "prompt LOGIN", modify: func(p *providers.Provider) { p.Prompt = "LOGIN" }},
		{name: "prompt a b!", modify: func(p *providers.Provider) { p.Prompt = "a b!" }},
		{name: "prompt with plus", modify: func(p *providers.Provider) { p.Prompt = "login+consent" }},
		{name: "prompt with double space", modify: func(p *providers.Provider) { p.Prompt = "login  consent" }},
		{name: "prompt with ampersand", modify: func(p *providers.Provider) { p.Prompt = "consent&client_id=e" }},
		{name: "prompt and noPrompt", modify: func(p *providers.Provider) { p.Prompt, p.NoPrompt = "consent", true }},
		{name: "scopeSeparator semicolon", modify: func(p *providers.Provider) { p.ScopeSeparator = ";" }},
		{name: "scopeSeparator two spaces", modify: func(p *providers.Provider) { p.ScopeSeparator = "  " }},
		{name: "scopeSeparator percent-encoded space", modify: func(p *providers.Provider) { p.ScopeSeparator = "%20" }},
		{name: "default scope with a space", modify: func(p *providers.Provider) { p.DefaultScopes = []string{"read write"} }},
		{name: "default scope empty", modify: func(p *providers.Provider) { p.DefaultScopes = []string{""} }},
		{name: "default scope with a quote", modify: func(p *providers.Provider) { p.DefaultScopes = []string{`a"b`} }},
		{name: "default scope with a backslash", modify: func(p *providers.Provider) { p.DefaultScopes = []string{`a\b`} }},
		{name: "default scope with the comma separator", modify: func(p *providers.Provider) {
			p.ScopeSeparator, p.DefaultScopes = ",", []string{"read,admin"}
		}},
		{name: "unknown tokenAuth", modify: func(p *providers.Provider) { p.TokenAuth = "auto" }},
		{name: "token metadata with a bad field", modify: func(p *providers.Provider) {
			p.TokenMetadata = []providers.TokenField{{Field: "instance url", Name: "instanceURL"}}
		}},
		{name: "token metadata without a name", modify: func(p *providers.Provider) {
			p.TokenMetadata = []providers.TokenField{{Field: "instance_url"}}
		}},
		{name: "token metadata for an undeclared input", modify: func(p *providers.Provider) {
			p.TokenMetadata = []providers.TokenField{{Field: "instance_url", Name: "instanceURL", Input: "workspace"}}
		}},
		{name: "unknown auth kind", modify: func(p *providers.Provider) { p.AuthKinds = []providers.AuthKind{"magic"} }},
		{name: "authorization code without authURL", modify: func(p *providers.Provider) {
			p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials}
		}},
		{name: "password without tokenURL", modify: func(p *providers.Provider) {
			p.AuthURL, p.TokenURL, p.AuthKinds = "", "", []providers.AuthKind{providers.OAuth2PasswordCredentials}
		}},
		{name: "customAuth kind without fields", modify: func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.CustomAuth}
		}},
		{name: "customAuth fields without the kind", modify: func(p *providers.Provider) {
			p.CustomAuth = []providers.Field{{Name: "apiToken"}}
		}},
		{name: "customAuth field uppercase first", modify: withField(providers.Field{Name: "Token"})},
		{name: "customAuth field digit first", modify: withField(providers.Field{Name: "1token"})},
		{name: "customAuth field with hyphen", modify: withField(providers.Field{Name: "api-token"})},
		{name: "customAuth field empty name", modify: withField(providers.Field{Name: ""})},
		{name: "customAuth field name of 65", modify: withField(providers.Field{Name: strings.Repeat("a", 65)})},
		{name: "customAuth field maxLength over 4096", modify: withField(providers.Field{Name: "token", MaxLength: 4097})},
		{name: "customAuth field negative maxLength", modify: withField(providers.Field{Name: "token", MaxLength: -1})},
		{name: "customAuth field bad pattern", modify: withField(providers.Field{Name: "token", Pattern: "("})},
		{name: "customAuth field twice", modify: withField(providers.Field{Name: "token"}, providers.Field{Name: "token"})},
		{name: "customAuth over 32 fields", modify: func(p *providers.Provider) {
			fields := make([]providers.Field, 33)
			for i := range fields {
				fields[i].Name = "f" + strings.Repeat("x", i)
			}
			withField(fields...)(p)
		}},
		{name: "default URL without the URL it stands in for", modify: func(p *providers.Provider) {
			p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2ClientCredentials}
			p.DefaultAuthURL = "https://auth.example.com/authorize"
		}},
		{name: "default URL that uses an optional input", modify: func(p *providers.Provider) {
			*p = *salesforce()
			p.DefaultAuthURL = "https://{{workspace}}.my.salesforce.com/services/oauth2/authorize"
		}},
		{name: "default token URL that uses an optional input", modify: func(p *providers.Provider) {
			*p = *salesforce()
			p.DefaultTokenURL = p.TokenURL
		}},
		{name: "refresh URL without a token URL", modify: func(p *providers.Provider) {
			p.AuthURL, p.TokenURL, p.AuthKinds = "", "", []providers.AuthKind{providers.APIKey}
			p.RefreshURL = "https://auth.example.com/refresh"
		}},
		{name: "refresh URL that uses an optional input", modify: func(p *providers.Provider) {
			*p = *salesforce()
			p.RefreshURL = p.TokenURL
		}},
		{name: "refresh URL with an undeclared placeholder", modify: func(p *providers.Provider) {
			p.RefreshURL = "https://auth.example.com/{{tenant}}/refresh"
		}},
		{name: "issuer http", modify: func(p *providers.Provider) { p.Issuer = "http://auth.example.com" }},
		{name: "issuer relative", modify: func(p *providers.Provider) { p.Issuer = "auth.example.com" }},
		{name: "issuer with query", modify: func(p *providers.Provider) { p.Issuer = "https://auth.example.com?x=1" }},
		{name: "issuer with fragment", modify: func(p *providers.Provider) { p.Issuer = "https://auth.example.com#x" }},
		{name: "issuer with user info", modify: func(p *providers.Provider) { p.Issuer = "https://u@auth.example.com" }},
		{name: "issuer does not parse", modify: func(p *providers.Provider) { p.Issuer = "https://auth.example.com/%zz" }},
		// The host rule every package shares: lowercase LDH labels, no punycode label, and of
		// the IP literals only loopback addresses.
		{name: "issuer punycode host", modify: func(p *providers.Provider) { p.Issuer = "https://xn--80ak6aa92e.com" }},
		{name: "issuer uppercase host", modify: func(p *providers.Provider) { p.Issuer = "https://Auth.example.com" }},
		{name: "issuer IP host", modify: func(p *providers.Provider) { p.Issuer = "https://10.0.0.1" }},
		{name: "issuer long IPv6 loopback", modify: func(p *providers.Provider) { p.Issuer = "http://[0:0:0:0:0:0:0:1]" }},
		{name: "docs punycode host", modify: func(p *providers.Provider) { p.Docs = "https://xn--80ak6aa92e.com/docs" }},
		{name: "authURL punycode host", modify: func(p *providers.Provider) { p.AuthURL = "https://xn--80ak6aa92e.com/authorize" }},
		{name: "tokenURL uppercase host", modify: func(p *providers.Provider) { p.TokenURL = "https://Auth.example.com/token" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := minimal()
			tt.modify(p)
			err := p.Prepare()
			if err == nil {
				t.Fatalf("Prepare() = nil, want an error")
			}
			if !strings.HasPrefix(err.Error(), "providers: ") {
				t.Errorf("error %q does not start with %q", err, "providers: ")
			}
		})
	}
}

// TestCategories checks that every known category is accepted, that an unknown one is
// refused with an error naming the field, and that Categories returns a slice of its own.
func TestCategories(t *testing.T) {
	cs := providers.Categories()
	if len(cs) == 0 || cs[len(cs)-1] != providers.CategoryOther {
		t.Fatalf("Categories() = %v, want CategoryOther last", cs)
	}
	for _, c := range cs {
		p := minimal()
		p.Category = c
		if err := p.Prepare(); err != nil {
			t.Errorf("category %q: Prepare() = %v, want nil", c, err)
		}
	}
	p := minimal()
	p.Category = "games"
	if err := p.Prepare(); err == nil || !strings.Contains(err.Error(), `category "games"`) {
		t.Errorf("Prepare() = %v, want an error naming the category", err)
	}
	cs[0] = "games"
	if got := providers.Categories()[0]; got != providers.CategoryCRM {
		t.Errorf("Categories()[0] = %q after a change to an earlier result, want %q", got, providers.CategoryCRM)
	}
}

func withParam(key string) func(p *providers.Provider) {
	return func(p *providers.Provider) { p.AuthParams = map[string]string{"audience": "x", key: "fixed"} }
}

func withField(fields ...providers.Field) func(p *providers.Provider) {
	return func(p *providers.Provider) {
		p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.CustomAuth}
		p.CustomAuth = fields
	}
}

func TestEncodedAuthParams(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{name: "none", params: nil, want: ""},
		{name: "empty map", params: map[string]string{}, want: ""},
		{name: "one", params: map[string]string{"audience": "api.atlassian.com"}, want: "audience=api.atlassian.com"},
		{name: "sorted and encoded", params: map[string]string{"z": "1", "access_type": "a b&c=d#e", "A": "x/y"},
			want: "A=x%2Fy&access_type=a+b%26c%3Dd%23e&z=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := minimal()
			p.AuthParams = tt.params
			if err := p.Prepare(); err != nil {
				t.Fatalf("Prepare() = %v", err)
			}
			if got := p.EncodedAuthParams(); got != tt.want {
				t.Errorf("EncodedAuthParams() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSeparator(t *testing.T) {
	for _, sep := range []string{"", " ", ",", "+"} {
		p := minimal()
		p.ScopeSeparator = sep
		if err := p.Prepare(); err != nil {
			t.Fatalf("Prepare(ScopeSeparator %q) = %v", sep, err)
		}
		want := sep
		if sep == "" {
			want = " "
		}
		if got := p.Separator(); got != want {
			t.Errorf("ScopeSeparator %q: Separator() = %q, want %q", sep, got, want)
		}
	}
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *providers.Provider)
		kind   providers.AuthKind
		want   bool
	}{
		{name: "default kinds: authorization code", kind: providers.OAuth2AuthorizationCode, want: true},
		{name: "default kinds: api key", kind: providers.APIKey, want: false},
		{name: "listed", modify: func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.APIKey, providers.BasicAuth}
		}, kind: providers.BasicAuth, want: true},
		{name: "listed kinds replace the default", modify: func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.APIKey}
		}, kind: providers.OAuth2AuthorizationCode, want: false},
		{name: "no authURL, no authorization code", modify: func(p *providers.Provider) {
			p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2ClientCredentials}
		}, kind: providers.OAuth2AuthorizationCode, want: false},
		{name: "password only when listed", modify: func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode}
		}, kind: providers.OAuth2PasswordCredentials, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := minimal()
			if tt.modify != nil {
				tt.modify(p)
			}
			if err := p.Prepare(); err != nil {
				t.Fatalf("Prepare() = %v", err)
			}
			if got := p.Accepts(tt.kind); got != tt.want {
				t.Errorf("Accepts(%s) = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}

func TestReserved(t *testing.T) {
	reserved := []string{
		"response_type", "client_id", "redirect_uri", "scope", "state", "prompt",
		"code_challenge", "code_challenge_method", "nonce", "request", "request_uri",
		"response_mode", "code_verifier", "client_secret", "client_assertion",
		"client_assertion_type", "grant_type", "code",
	}
	for _, name := range reserved {
		for _, v := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]} {
			if !providers.Reserved(v) {
				t.Errorf("Reserved(%q) = false, want true", v)
			}
		}
	}
	for _, v := range []string{"audience", "access_type", "AUDIENCE", "resource", "login_hint", "states", "scopes", "", "code_"} {
		if providers.Reserved(v) {
			t.Errorf("Reserved(%q) = true, want false", v)
		}
	}
}

func TestScopeToken(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"openid", true},
		{"read:user", true},
		{"https://www.googleapis.com/auth/drive", true},
		{"!#[]~", true},
		{"", false},
		{"read write", false},
		{`a"b`, false},
		{`a\b`, false},
		{"a\tb", false},
		{"a\x7f", false},
		{"caf\u00e9", false},
	}
	for _, tt := range tests {
		if got := providers.ScopeToken(tt.s); got != tt.want {
			t.Errorf("ScopeToken(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	p := &providers.Provider{
		Name:     "zendesk-test",
		AuthURL:  "https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		TokenURL: "https://{{workspace}}.zendesk.com/oauth/tokens",
		Hosts:    metadata.Hosts{"*.zendesk.com"},
		Inputs: []metadata.Input{
			{Name: "workspace"},
			{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}, Optional: true, Default: "us"},
			{Name: "tenant", Kind: metadata.PathSegment, Optional: true},
			{Name: "accountId", UnderscoreToHyphen: true, Optional: true},
		},
	}
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	tests := []struct {
		name      string
		values    metadata.Values
		want      metadata.Values
		wantErr   error
		wantInput string
	}{
		{name: "required only", values: metadata.Values{"workspace": "acme"},
			want: metadata.Values{"workspace": "acme", "region": "us"}},
		{name: "canonical forms", values: metadata.Values{"workspace": "ACME", "region": "eu", "tenant": "Common", "accountId": "1234567_SB1"},
			want: metadata.Values{"workspace": "acme", "region": "eu", "tenant": "Common", "accountId": "1234567-sb1"}},
		{name: "empty optional takes its default", values: metadata.Values{"workspace": "acme", "region": "", "tenant": ""},
			want: metadata.Values{"workspace": "acme", "region": "us"}},
		{name: "canonical input", values: metadata.Values{"workspace": "acme", "region": "us", "accountId": "1234567-sb1"},
			want: metadata.Values{"workspace": "acme", "region": "us", "accountId": "1234567-sb1"}},
		{name: "unknown input", values: metadata.Values{"workspace": "acme", "bogus": "x"},
			wantErr: providers.ErrUnknownInput, wantInput: "bogus"},
		{name: "unknown input alone", values: metadata.Values{"Workspace": "acme"},
			wantErr: providers.ErrUnknownInput, wantInput: "Workspace"},
		{name: "missing required", values: nil,
			wantErr: metadata.ErrMissing, wantInput: "workspace"},
		{name: "empty required", values: metadata.Values{"workspace": "", "region": "eu"},
			wantErr: metadata.ErrMissing, wantInput: "workspace"},
		{name: "invalid required", values: metadata.Values{"workspace": "evil.com#"},
			wantErr: metadata.ErrInvalidValue, wantInput: "workspace"},
		{name: "invalid optional", values: metadata.Values{"workspace": "acme", "region": "ap"},
			wantErr: metadata.ErrInvalidValue, wantInput: "region"},
		{name: "invalid path segment", values: metadata.Values{"workspace": "acme", "tenant": "../admin"},
			wantErr: metadata.ErrInvalidValue, wantInput: "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(tt.values)
			got, err := p.Resolve(tt.values)
			if diff := cmp.Diff(before, tt.values); diff != "" {
				t.Errorf("Resolve changed its argument (-before +after):\n%s", diff)
			}
			if tt.wantErr != nil {
				var ve *metadata.ValueError
				if !errors.As(err, &ve) || ve.Input != tt.wantInput || !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) = %v, %v; want a *ValueError for %s matching %v", tt.values, got, err, tt.wantInput, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Resolve(%q) returned %v with its error", tt.values, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q) = %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
			again, err := p.Resolve(got)
			if err != nil || !maps.Equal(again, got) {
				t.Errorf("Resolve(Resolve(x)) = %v, %v; want %v (idempotent)", again, err, got)
			}
			inPlace := maps.Clone(tt.values)
			if err := p.ResolveInPlace(inPlace); err != nil || !maps.Equal(inPlace, got) {
				t.Errorf("ResolveInPlace(%q) left %v, %v; want %v", tt.values, inPlace, err, got)
			}
			if _, _, err := p.Endpoints(got); err != nil {
				t.Errorf("Endpoints(%v) = %v, want nil", got, err)
			}
		})
	}
}

// TestResolveThenEndpoints checks that a value accepted by Resolve also renders: Endpoints
// checks the canonical forms again, so they must pass the input's pattern.
func TestResolveThenEndpoints(t *testing.T) {
	p := &providers.Provider{
		Name:     "netsuite-test",
		AuthURL:  "https://{{accountId}}.app.netsuite.com/app/login/oauth2/authorize.nl",
		TokenURL: "https://{{accountId}}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
		Hosts:    metadata.Hosts{"*.app.netsuite.com", "*.suitetalk.api.netsuite.com"},
		Inputs:   []metadata.Input{{Name: "accountId", Pattern: `[0-9]+(?:[_-][Ss][Bb][0-9]+)?`, UnderscoreToHyphen: true}},
	}
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	values, err := p.Resolve(metadata.Values{"accountId": "1234567_SB1"})
	if err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	authURL, tokenURL, err := p.Endpoints(values)
	if err != nil {
		t.Fatalf("Endpoints(%v) = %v", values, err)
	}
	if want := "https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl"; authURL != want {
		t.Errorf("authURL = %q, want %q", authURL, want)
	}
	if want := "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"; tokenURL != want {
		t.Errorf("tokenURL = %q, want %q", tokenURL, want)
	}
}

func TestEndpoints(t *testing.T) {
	sf := salesforce()
	if err := sf.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	tests := []struct {
		name      string
		values    metadata.Values
		wantAuth  string
		wantToken string
		wantErr   bool
	}{
		{name: "workspace absent: default URLs", values: nil,
			wantAuth:  "https://login.salesforce.com/services/oauth2/authorize",
			wantToken: "https://login.salesforce.com/services/oauth2/token"},
		{name: "workspace empty: default URLs", values: metadata.Values{"workspace": ""},
			wantAuth:  "https://login.salesforce.com/services/oauth2/authorize",
			wantToken: "https://login.salesforce.com/services/oauth2/token"},
		{name: "My Domain", values: metadata.Values{"workspace": "Acme"},
			wantAuth:  "https://acme.my.salesforce.com/services/oauth2/authorize",
			wantToken: "https://acme.my.salesforce.com/services/oauth2/token"},
		{name: "sandbox My Domain", values: metadata.Values{"workspace": "acme--uat.sandbox"},
			wantAuth:  "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize",
			wantToken: "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token"},
		{name: "another domain", values: metadata.Values{"workspace": "evil.com"}, wantErr: true},
		{name: "two labels not a sandbox", values: metadata.Values{"workspace": "a.b"}, wantErr: true},
		{name: "fragment", values: metadata.Values{"workspace": "evil.com#"}, wantErr: true},
		{name: "metadata address", values: metadata.Values{"workspace": "169.254.169.254"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authURL, tokenURL, err := sf.Endpoints(tt.values)
			if tt.wantErr {
				if err == nil || authURL != "" || tokenURL != "" {
					t.Fatalf("Endpoints(%q) = %q, %q, %v; want an error and no URL", tt.values, authURL, tokenURL, err)
				}
				var ve *metadata.ValueError
				if !errors.As(err, &ve) && !errors.Is(err, metadata.ErrInvalidValue) {
					t.Errorf("Endpoints(%q) = %v, want a *ValueError or ErrInvalidValue", tt.values, err)
				}
				return
			}
			if err != nil || authURL != tt.wantAuth || tokenURL != tt.wantToken {
				t.Fatalf("Endpoints(%q) = %q, %q, %v; want %q, %q, nil", tt.values, authURL, tokenURL, err, tt.wantAuth, tt.wantToken)
			}
		})
	}
}

func TestEndpointsWithoutDefault(t *testing.T) {
	p := salesforce()
	p.DefaultAuthURL, p.DefaultTokenURL = "", ""
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	authURL, tokenURL, err := p.Endpoints(nil)
	var ve *metadata.ValueError
	if !errors.As(err, &ve) || ve.Input != "workspace" || !errors.Is(err, metadata.ErrMissing) {
		t.Fatalf("Endpoints(nil) = %q, %q, %v; want a *ValueError for workspace matching ErrMissing", authURL, tokenURL, err)
	}
}

func TestEndpointsClientCredentialsOnly(t *testing.T) {
	p := minimal()
	p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2ClientCredentials}
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	authURL, tokenURL, err := p.Endpoints(nil)
	if err != nil || authURL != "" || tokenURL != p.TokenURL {
		t.Errorf("Endpoints(nil) = %q, %q, %v; want \"\", %q, nil", authURL, tokenURL, err, p.TokenURL)
	}
}

func TestInput(t *testing.T) {
	p := salesforce()
	if err := p.Prepare(); err != nil {
		t.Fatalf("Prepare() = %v", err)
	}
	in := p.Input("workspace")
	if in == nil || in.Name != "workspace" || in.Kind != metadata.Hostname {
		t.Fatalf("Input(workspace) = %+v, want the hostname input", in)
	}
	if got, err := in.Normalize("ACME"); err != nil || got != "acme" {
		t.Errorf("Input(workspace).Normalize(ACME) = %q, %v; want acme, nil", got, err)
	}
	if in := p.Input("Workspace"); in != nil {
		t.Errorf("Input(Workspace) = %+v, want nil", in)
	}
}
