package providers_test

import (
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

func TestPrepareMinimal(t *testing.T) {
	p := minimal()
	mustPrepare(t, p)
	if got := p.Separator(); got != " " {
		t.Errorf("Separator() = %q, want %q", got, " ")
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
		{name: "code under another name", modify: func(p *providers.Provider) { p.CodeParam = "spapi_oauth_code" }},
		{name: "client id under another name", modify: func(p *providers.Provider) {
			p.ClientIDParam, p.TokenAuth = "client_key", providers.TokenAuthParams
		}},
		{name: "authParams: an input's placeholder", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "applicationId", Kind: metadata.PathSegment}}
			p.AuthParams = map[string]string{"application_id": "{{applicationId}}"}
		}},
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
			mustPrepare(t, p)
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
		{name: "authParams: placeholder of an undeclared input", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"application_id": "{{applicationId}}"}
		}},
		{name: "authParams: placeholder of a text input", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "applicationId", Kind: metadata.Text}}
			p.AuthParams = map[string]string{"application_id": "{{applicationId}}"}
		}},
		{name: "authParams: placeholder within a value", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "applicationId", Kind: metadata.PathSegment}}
			p.AuthParams = map[string]string{"application_id": "app-{{applicationId}}"}
		}},
		{name: "authParams: unbalanced braces", modify: func(p *providers.Provider) {
			p.AuthParams = map[string]string{"audience": "applicationId}}"}
		}},
		{name: "clientIDParam with Basic client authentication", modify: func(p *providers.Provider) { p.ClientIDParam = "client_key" }},
		{name: "clientIDParam client_secret", modify: func(p *providers.Provider) {
			p.ClientIDParam, p.TokenAuth = "client_secret", providers.TokenAuthParams
		}},
		{name: "clientIDParam state", modify: func(p *providers.Provider) {
			p.ClientIDParam, p.TokenAuth = "state", providers.TokenAuthParams
		}},
		{name: "clientIDParam set by authParams", modify: func(p *providers.Provider) {
			p.ClientIDParam, p.TokenAuth = "client_key", providers.TokenAuthParams
			p.AuthParams = map[string]string{"Client.Key": "x"}
		}},
		{name: "clientIDParam set by tokenParams", modify: func(p *providers.Provider) {
			p.ClientIDParam, p.TokenAuth = "client_key", providers.TokenAuthParams
			p.TokenParams = map[string]string{"client_key": "x"}
		}},
		{name: "codeParam not a known name", modify: func(p *providers.Provider) { p.CodeParam = "auth_code" }},
		{name: "codeParam state", modify: func(p *providers.Provider) { p.CodeParam = "state" }},
		{name: "callbackInputs: a code's name", modify: func(p *providers.Provider) {
			p.Inputs = []metadata.Input{{Name: "spapi_oauth_code", Kind: metadata.PathSegment, Optional: true}}
			p.CallbackInputs = []string{"spapi_oauth_code"}
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

func TestTokenParamsCannotSetTheExchange(t *testing.T) {
	for _, k := range []string{"grant_type", "code", "redirect_uri", "Client_Secret", "code_verifier", "refresh_token"} {
		p := &providers.Provider{Name: "x", AuthURL: "https://a.example/a", TokenURL: "https://a.example/t",
			TokenParams: map[string]string{k: "v"}}
		if err := p.Prepare(); err == nil {
			t.Errorf("tokenParams %s accepted", k)
		}
	}
	p := &providers.Provider{Name: "x", AuthURL: "https://a.example/a", TokenURL: "https://a.example/t",
		TokenParams: map[string]string{"expiring": "1"}}
	if err := p.Prepare(); err != nil {
		t.Errorf("tokenParams expiring: %v", err)
	}
}
