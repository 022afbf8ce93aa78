package providers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// keyProvider is a provider taking API keys and OAuth tokens, with an API.
func keyProvider() *providers.Provider {
	p := minimal()
	p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.APIKey}
	p.Inputs = []metadata.Input{{Name: "accountId", Pattern: "[0-9]+", Optional: true}}
	p.API = &providers.API{
		BaseURL: "https://api.example.com/v1",
		Headers: map[string]string{"Api-Version": "2024-01"},
		APIKey:  &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey}}"}},
		Verify:  &providers.Verify{Method: http.MethodGet, Path: "/me"},
	}
	return p
}

func TestAPIChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *providers.Provider)
		want string // in the error; "" means valid
	}{
		{"valid", func(*providers.Provider) {}, ""},
		{"plain http", func(p *providers.Provider) { p.API.BaseURL = "http://api.example.com" }, "baseURL"},
		{"query", func(p *providers.Provider) { p.API.BaseURL = "https://api.example.com/v1?x=1" }, "query"},
		{"unknown placeholder in base", func(p *providers.Provider) { p.API.BaseURL = "https://api.example.com/{{nope}}" }, "baseURL"},
		{"base on another host", func(p *providers.Provider) {
			p.Hosts = metadata.Hosts{"auth.example.com"}
		}, "baseURL"},
		{"baseURLFrom not a URL", func(p *providers.Provider) { p.API.BaseURLFrom = "instanceUrl" }, "baseURLFrom"},
		{"extra host", func(p *providers.Provider) { p.API.Hosts = []string{"*.example.com"} }, "hosts"},
		{"Authorization as a fixed header", func(p *providers.Provider) { p.API.Headers = map[string]string{"authorization": "x"} }, "credential"},
		{"Host header", func(p *providers.Provider) { p.API.Headers = map[string]string{"Host": "evil.example"} }, "Host"},
		{"bad header name", func(p *providers.Provider) { p.API.Headers = map[string]string{"X Api": "x"} }, "header name"},
		{"header with CRLF", func(p *providers.Provider) { p.API.Headers = map[string]string{"X-A": "a\r\nX-B: b"} }, "printable"},
		{"credential in a fixed header", func(p *providers.Provider) { p.API.Headers = map[string]string{"X-A": "{{apiKey}}"} }, "{{apiKey}}"},
		{"fixed header and credential header alike", func(p *providers.Provider) {
			p.API.Headers = map[string]string{"x-api-key": "fixed"}
		}, "twice"},
		{"basic and Authorization", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Headers: map[string]string{"Authorization": "Bearer {{apiKey}}"}, Basic: &providers.Basic{User: "{{apiKey}}"}}
		}, "twice"},
		{"credential never sent", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Headers: map[string]string{"X-Api-Key": "fixed"}}
		}, "never sent"},
		{"empty send", func(p *providers.Provider) { p.API.APIKey = &providers.Send{} }, "neither"},
		{"another kind's value", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey}}{{accessToken}}"}}
		}, "{{accessToken}}"},
		{"unclosed placeholder", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey"}}
		}, "unmatched"},
		{"reserved query parameter", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Query: map[string]string{"client_secret": "{{apiKey}}"}}
		}, "query parameter"},
		{"colon in basic user", func(p *providers.Provider) {
			p.API.APIKey = &providers.Send{Basic: &providers.Basic{User: "a:{{apiKey}}"}}
		}, "colon"},
		{"accepted kind not sent", func(p *providers.Provider) { p.API.APIKey = nil }, "does not say"},
		{"kind sent but not accepted", func(p *providers.Provider) {
			p.AuthKinds = []providers.AuthKind{providers.OAuth2AuthorizationCode}
		}, "does not accept"},
		{"input and credential alike", func(p *providers.Provider) {
			p.Inputs = append(p.Inputs, metadata.Input{Name: "apiKey", Optional: true})
		}, "both"},
		{"verify DELETE", func(p *providers.Provider) { p.API.Verify.Method = http.MethodDelete }, "method"},
		{"verify relative path", func(p *providers.Provider) { p.API.Verify.Path = "me" }, "path"},
		{"verify dot segment", func(p *providers.Provider) { p.API.Verify.Path = "/a/../../admin" }, "path"},
		{"verify escaped dot segment", func(p *providers.Provider) { p.API.Verify.Path = "/a/%2e%2e/admin" }, "path"},
		{"verify another host", func(p *providers.Provider) { p.API.Verify.Path = "//evil.example/me" }, "path"},
		{"verify unknown placeholder", func(p *providers.Provider) { p.API.Verify.Path = "/users/{{userId}}" }, "userId"},
		{"verify placeholder in query", func(p *providers.Provider) { p.API.Verify.Path = "/users?id={{accountId}}" }, "path"},
		{"verify input placeholder", func(p *providers.Provider) { p.API.Verify.Path = "/accounts/{{accountId}}" }, ""},
		{"verify GET with body", func(p *providers.Provider) { p.API.Verify.Body = "{}" }, "body"},
		{"verify ok field", func(p *providers.Provider) { p.API.Verify.OK = "a b" }, "ok"},
		{"defaultBaseURL with an optional input", func(p *providers.Provider) {
			p.API.DefaultBaseURL = "https://api.example.com/{{accountId}}"
		}, "optional"},
		{"revocation over http", func(p *providers.Provider) { p.RevocationURL = "http://auth.example.com/revoke" }, "revocationURL"},
		{"revocation style", func(p *providers.Provider) {
			p.RevocationURL, p.RevocationStyle = "https://auth.example.com/revoke", "get"
		}, "revocationStyle"},
		{"revocation style without URL", func(p *providers.Provider) { p.RevocationStyle = providers.RevokeBearer }, "need a revocationURL"},
		{"callback input undeclared", func(p *providers.Provider) { p.CallbackInputs = []string{"realmId"} }, "callbackInputs"},
		{"callback input is the state", func(p *providers.Provider) {
			p.Inputs = append(p.Inputs, metadata.Input{Name: "state", Optional: true})
			p.CallbackInputs = []string{"state"}
		}, "callbackInputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := keyProvider()
			tc.edit(p)
			err := p.Prepare()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Prepare() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Prepare() = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestCredentialRendering(t *testing.T) {
	p := keyProvider()
	p.API.APIKey = &providers.Send{Headers: map[string]string{"Authorization": "Token token={{apiKey}}", "X-Account": "{{accountId}}"}}
	mustPrepare(t, p)
	vals := map[string]string{"apiKey": "k3y", "accountId": "42"}
	pl, err := p.Credential(providers.APIKey, func(n string) string { return vals[n] })
	if err != nil {
		t.Fatalf("Credential = %v", err)
	}
	if got := pl.Header.Get("Authorization"); got != "Token token=k3y" || pl.Header.Get("X-Account") != "42" {
		t.Errorf("headers %v, want the key and the account", pl.Header)
	}
	if pl.Fixed.Get("Api-Version") != "2024-01" || pl.Header.Get("Api-Version") != "" {
		t.Errorf("fixed headers %v, credential headers %v: want the version among the fixed only", pl.Fixed, pl.Header)
	}
	oauth, err := p.Credential(providers.OAuth2AuthorizationCode, func(n string) string { return map[string]string{"accessToken": "at"}[n] })
	if err != nil || oauth.Header.Get("Authorization") != "Bearer at" {
		t.Errorf("OAuth credential = %v, %v; want the default bearer header", oauth, err)
	}
	for _, bad := range []string{"a\r\nX-Evil: 1", "a\nb", "a\x00b"} {
		vals["apiKey"] = bad
		if _, err := p.Credential(providers.APIKey, func(n string) string { return vals[n] }); err == nil {
			t.Errorf("Credential with key %q = nil error, want one", bad)
		} else if strings.Contains(err.Error(), bad) {
			t.Errorf("error %q shows the key", err)
		}
	}
}

// FuzzAPITemplates holds the API data's parsers to their promises for any value template,
// verification path and credential: a template that loads renders to a header value that
// cannot split the request, and an error never shows the credential.
func FuzzAPITemplates(f *testing.F) {
	f.Add("Token token={{apiKey}}", "/users/{{accountId}}?limit=1", "k3y", "42")
	f.Add("{{apiKey}}{{apiKey}}", "/a/b", "a\r\nb", "")
	f.Add("{{ apiKey }}", "/{{accountId}}/..", "x", "..")
	f.Add("{{apiKey}}", "/accounts/{{accountId}}", "x", "..")
	f.Fuzz(func(t *testing.T, value, path, key, account string) {
		p := keyProvider()
		p.API.APIKey = &providers.Send{Headers: map[string]string{"X-Api-Key": value}}
		p.API.Verify.Path = path
		if p.Prepare() != nil {
			return
		}
		vals := map[string]string{"apiKey": key, "accountId": account}
		pl, err := p.Credential(providers.APIKey, func(n string) string { return vals[n] })
		if err != nil {
			if len(key) >= 4 && strings.Contains(err.Error(), key) {
				t.Fatalf("error %q shows the key", err)
			}
			return
		}
		for _, v := range pl.Header["X-Api-Key"] {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("header value %q can split the request", v)
			}
		}
		rendered, _, err := p.API.Verify.VerifyPath(vals)
		if err == nil && (strings.Contains(rendered, "/../") || strings.HasSuffix(rendered, "/..") || strings.HasPrefix(rendered, "//")) {
			t.Fatalf("verification path %q leaves the base", rendered)
		}
	})
}

func TestAPIBaseURLFromTokenResponse(t *testing.T) {
	p := salesforce()
	p.TokenMetadata = []providers.TokenField{{Field: "instance_url", Name: "instanceUrl", URL: true}}
	p.API = &providers.API{
		BaseURL: "https://{{workspace}}.my.salesforce.com/services/data", BaseURLFrom: "instanceUrl",
		Verify: &providers.Verify{Method: http.MethodGet, Path: "/"},
	}
	mustPrepare(t, p)
	for _, tc := range []struct {
		values  metadata.Values
		want    string
		wantErr bool
	}{
		{metadata.Values{"instanceUrl": "https://acme--uat.sandbox.my.salesforce.com"}, "https://acme--uat.sandbox.my.salesforce.com/services/data", false},
		{metadata.Values{"workspace": "acme"}, "https://acme.my.salesforce.com/services/data", false},
		{metadata.Values{"instanceUrl": "https://evil.example"}, "", true},
		{metadata.Values{"instanceUrl": "http://acme.my.salesforce.com"}, "", true},
		{metadata.Values{}, "", true},
	} {
		u, err := p.APIBaseURL(tc.values)
		if tc.wantErr != (err != nil) || (err == nil && u.String() != tc.want) {
			t.Errorf("APIBaseURL(%v) = %v, %v; want %q (error %v)", tc.values, u, err, tc.want, tc.wantErr)
		}
	}
}
