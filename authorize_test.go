package connect_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/pkce"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
	"github.com/google/go-cmp/cmp"
)

func TestConnectorAuthorizeURL(t *testing.T) {
	f := newFixture(t)
	a, u, q := f.start(t, oauthRequest("plain"))
	if got, want := u.Scheme+"://"+u.Host+u.Path, "https://auth.plain.example/authorize"; got != want {
		t.Errorf("endpoint = %s, want %s", got, want)
	}
	want := map[string]string{
		"response_type": "code", "client_id": "plain-client", "redirect_uri": testRedirect,
		"state": a.State, "scope": "offline_access", "prompt": "login", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
	if err := state.CheckToken(a.State); err != nil {
		t.Errorf("state %q is not a state token: %v", a.State, err)
	}
	if got, want := a.ExpiresAt, f.clock.Now().Add(connect.DefaultStateTTL); !got.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", got, want)
	}
	if a.Binding != "" {
		t.Errorf("Binding = %q without CSRF protection", a.Binding.Reveal())
	}
	// The session is saved under the hash of the token, never the token.
	rec, ok := f.states.saved[state.Key(a.State)]
	if !ok || f.states.len() != 1 {
		t.Fatalf("store holds %d records, none under state.Key(token)", f.states.len())
	}
	if bytes.Contains(rec, []byte(a.State)) {
		t.Errorf("the session record contains the state token")
	}
	if f.states.ttls[state.Key(a.State)] != connect.DefaultStateTTL {
		t.Errorf("saved with TTL %v, want %v", f.states.ttls[state.Key(a.State)], connect.DefaultStateTTL)
	}
	verifier, groupName, consumerName, _, err := connect.SessionFields(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := pkce.Challenge(verifier); got != q.Get("code_challenge") {
		t.Errorf("code_challenge = %s, want the challenge of the saved verifier %s", q.Get("code_challenge"), got)
	}
	if strings.Contains(a.URL, verifier) {
		t.Errorf("the URL contains the verifier")
	}
	if groupName != "group-123" || consumerName != "user_123456" {
		t.Errorf("names default to %q, %q; want the refs", groupName, consumerName)
	}
	if strings.Contains(a.URL, sentinelAppSecret) || strings.Contains(f.logs.String(), sentinelAppSecret) {
		t.Errorf("the client secret leaked into the URL or the logs")
	}
	if strings.Contains(f.logs.String(), a.State) || strings.Contains(f.logs.String(), verifier) {
		t.Errorf("the logs contain the state or the verifier:\n%s", f.logs)
	}
}

func TestConnectorAuthorizeURLEachFlowIsFresh(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for range 50 {
		a, _, q := f.start(t, oauthRequest("plain"))
		for _, v := range []string{a.State, q.Get("code_challenge")} {
			if seen[v] {
				t.Fatalf("value %q repeated across flows", v)
			}
			seen[v] = true
		}
	}
	if f.states.len() != 50 {
		t.Errorf("store holds %d sessions, want 50", f.states.len())
	}
}

func TestConnectorProviderRules(t *testing.T) {
	tests := []struct {
		name     string
		req      func() connect.OAuthConnectRequest
		endpoint string
		want     map[string][]string // nil slice: parameter absent
	}{
		{
			name:     "salesforce without workspace uses the default host",
			req:      func() connect.OAuthConnectRequest { return oauthRequest("sfdc") },
			endpoint: "https://login.salesforce.com/services/oauth2/authorize",
			want:     map[string][]string{"scope": {"refresh_token"}, "prompt": {"login"}},
		},
		{
			name: "salesforce My Domain",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("sfdc")
				r.ProviderWorkspaceRef = "Acme-Corp"
				r.Scopes = []string{"api"}
				return r
			},
			endpoint: "https://acme-corp.my.salesforce.com/services/oauth2/authorize",
			want:     map[string][]string{"scope": {"api refresh_token"}},
		},
		{
			name: "salesforce sandbox",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("sfdc")
				r.ProviderWorkspaceRef = "acme--uat.sandbox"
				return r
			},
			endpoint: "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize",
		},
		{
			name: "refresh scope not added when offline access is disabled",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("sfdc")
				r.DisableOfflineAccess = true
				r.Scopes = []string{"api"}
				return r
			},
			endpoint: "https://login.salesforce.com/services/oauth2/authorize",
			want:     map[string][]string{"scope": {"api"}},
		},
		{
			name: "workspace provider, comma scopes, no prompt, no refresh",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("desk")
				r.ProviderWorkspaceRef = "acme"
				r.Scopes = []string{"read", "write"}
				return r
			},
			endpoint: "https://acme.desk.example/oauth/authorizations/new",
			want:     map[string][]string{"scope": {"read,write"}, "prompt": nil},
		},
		{
			name: "request prompt beats noPrompt",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("desk")
				r.ProviderWorkspaceRef = "acme"
				r.Prompt = "consent"
				return r
			},
			endpoint: "https://acme.desk.example/oauth/authorizations/new",
			want:     map[string][]string{"prompt": {"consent"}, "scope": nil},
		},
		{
			name: "netsuite-style account id metadata",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("suite")
				r.ProviderMetadata = connect.ProviderMetadata{"accountId": {Value: "1234567_SB1", Source: "input"}}
				return r
			},
			endpoint: "https://1234567-sb1.app.suite.example/authorize.nl",
			want:     map[string][]string{"scope": {"rest offline_access"}, "prompt": {"consent"}},
		},
		{
			name: "google-style refresh parameter and fixed parameter",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("goog")
				r.Scopes = []string{"email", "email"}
				return r
			},
			endpoint: "https://accounts.goog.example/o/oauth2/v2/auth",
			want: map[string][]string{"access_type": {"offline"}, "include_granted_scopes": {"true"},
				"scope": {"email"}, "prompt": {"consent"}},
		},
		{
			name: "google-style with offline access disabled",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("goog")
				r.DisableOfflineAccess = true
				r.Prompt = "select_account"
				return r
			},
			endpoint: "https://accounts.goog.example/o/oauth2/v2/auth",
			want:     map[string][]string{"access_type": nil, "include_granted_scopes": {"true"}, "prompt": {"select_account"}},
		},
		{
			name:     "no PKCE for a provider that rejects it; refresh always granted",
			req:      func() connect.OAuthConnectRequest { return oauthRequest("nopkce") },
			endpoint: "https://auth.nopkce.example/authorize",
			want:     map[string][]string{"code_challenge": nil, "code_challenge_method": nil, "scope": nil},
		},
		{
			name: "additional params appended",
			req: func() connect.OAuthConnectRequest {
				r := oauthRequest("plain")
				r.AdditionalParams = "login_hint=a%40b.example&hd=b.example"
				return r
			},
			endpoint: "https://auth.plain.example/authorize",
			want:     map[string][]string{"login_hint": {"a@b.example"}, "hd": {"b.example"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, u, q := f.start(t, tt.req())
			if got := u.Scheme + "://" + u.Host + u.Path; got != tt.endpoint {
				t.Errorf("endpoint = %s, want %s", got, tt.endpoint)
			}
			for k, v := range tt.want {
				if diff := cmp.Diff(v, q[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			for _, k := range []string{"response_type", "client_id", "redirect_uri", "state"} {
				if len(q[k]) != 1 {
					t.Errorf("%s appears %d times, want once", k, len(q[k]))
				}
			}
		})
	}
}

func TestConnectorAuthorizeURLErrors(t *testing.T) {
	tests := []struct {
		name     string
		req      func() connect.OAuthConnectRequest
		fields   []string
		sentinel error
	}{
		{"empty request", func() connect.OAuthConnectRequest { return connect.OAuthConnectRequest{} },
			[]string{"projectId", "provider", "groupRef", "consumerRef"}, nil},
		{"unknown provider", func() connect.OAuthConnectRequest { return oauthRequest("nope") }, []string{"provider"}, connect.ErrUnknownProvider},
		{"provider without OAuth", func() connect.OAuthConnectRequest { return oauthRequest("keyonly") }, []string{"provider"}, nil},
		{"group ref with newline", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.GroupRef = "a\nb"; return r }, []string{"groupRef"}, nil},
		{"project id with space", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.ProjectID = "a b"; return r }, []string{"projectId"}, nil},
		{"long consumer name", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.ConsumerName = strings.Repeat("n", 256)
			return r
		}, []string{"consumerName"}, nil},
		{"workspace missing", func() connect.OAuthConnectRequest { return oauthRequest("desk") }, []string{"providerWorkspaceRef"}, nil},
		{"hostile workspace", func() connect.OAuthConnectRequest {
			r := oauthRequest("desk")
			r.ProviderWorkspaceRef = "evil.com#"
			return r
		}, []string{"providerWorkspaceRef"}, nil},
		{"workspace for a provider without one", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.ProviderWorkspaceRef = "acme"
			return r
		}, []string{"providerWorkspaceRef"}, nil},
		{"salesforce workspace off its hosts", func() connect.OAuthConnectRequest {
			r := oauthRequest("sfdc")
			r.ProviderWorkspaceRef = "evil.com"
			return r
		}, []string{"providerWorkspaceRef"}, nil},
		{"metadata missing", func() connect.OAuthConnectRequest { return oauthRequest("suite") }, []string{"providerMetadata.accountId"}, nil},
		{"metadata bad value", func() connect.OAuthConnectRequest {
			r := oauthRequest("suite")
			r.ProviderMetadata = connect.ProviderMetadata{"accountId": {Value: "a.b"}}
			return r
		}, []string{"providerMetadata.accountId"}, nil},
		{"unknown metadata", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.ProviderMetadata = connect.ProviderMetadata{"region": {Value: "eu"}}
			return r
		}, []string{"providerMetadata.region"}, nil},
		{"metadata from a token source", func() connect.OAuthConnectRequest {
			r := oauthRequest("suite")
			r.ProviderMetadata = connect.ProviderMetadata{"accountId": {Value: "1234", Source: "token"}}
			return r
		}, []string{"providerMetadata.accountId.source"}, nil},
		{"metadata value empty", func() connect.OAuthConnectRequest {
			r := oauthRequest("suite")
			r.ProviderMetadata = connect.ProviderMetadata{"accountId": {}}
			return r
		}, []string{"providerMetadata.accountId.value"}, nil},
		{"workspace as metadata", func() connect.OAuthConnectRequest {
			r := oauthRequest("desk")
			r.ProviderMetadata = connect.ProviderMetadata{"workspace": {Value: "acme"}}
			return r
		}, []string{"providerMetadata.workspace"}, nil},
		{"no app for the project", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.ProjectID = "other"; return r },
			[]string{"provider"}, connect.ErrAppNotFound},
		{"unknown app id", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.ProviderAppID = "nope"; return r },
			[]string{"providerAppId"}, connect.ErrAppNotFound},
		{"app of another provider", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.ProviderAppID = "sfdc-app"; return r },
			[]string{"providerAppId"}, connect.ErrAppNotFound},
		{"several apps, no default", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.ProjectID = "ambiguous"; return r },
			[]string{"provider"}, connect.ErrAppNotFound},
		{"bad scope", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.Scopes = []string{"ok", "a b"}
			return r
		},
			[]string{"scopes[1]"}, nil},
		{"comma in a comma-separated provider's scope", func() connect.OAuthConnectRequest {
			r := oauthRequest("desk")
			r.ProviderWorkspaceRef = "acme"
			r.Scopes = []string{"read,admin"}
			return r
		}, []string{"scopes[0]"}, nil},
		{"reserved additional param", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.AdditionalParams = "redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
			return r
		}, []string{"additionalParams.redirect_uri"}, connect.ErrReservedParam},
		{"additional param colliding with a fixed one", func() connect.OAuthConnectRequest {
			r := oauthRequest("goog")
			r.AdditionalParams = "Include_Granted_Scopes=false"
			return r
		}, []string{"additionalParams.Include_Granted_Scopes"}, connect.ErrReservedParam},
		{"additional param colliding with the refresh param", func() connect.OAuthConnectRequest {
			r := oauthRequest("goog")
			r.AdditionalParams = "access_type=online"
			return r
		}, []string{"additionalParams.access_type"}, connect.ErrReservedParam},
		{"reserved additional param re-spelt", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.AdditionalParams = "redirect.uri=https%3A%2F%2Fevil.example%2Fcb"
			return r
		}, []string{"additionalParams.redirect.uri"}, connect.ErrReservedParam},
		{"reserved additional param escaped", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.AdditionalParams = "code%2Echallenge%2Emethod=plain"
			return r
		}, []string{"additionalParams.code_challenge_method"}, connect.ErrReservedParam},
		{"reserved additional param as an array", func() connect.OAuthConnectRequest {
			r := oauthRequest("plain")
			r.AdditionalParams = "client_id[]=evil"
			return r
		}, []string{"additionalParams.client_id"}, connect.ErrReservedParam},
		{"fixed param re-spelt", func() connect.OAuthConnectRequest {
			r := oauthRequest("goog")
			r.AdditionalParams = "include.granted.scopes=false"
			return r
		}, []string{"additionalParams.include.granted.scopes"}, connect.ErrReservedParam},
		{"refresh param re-spelt", func() connect.OAuthConnectRequest {
			r := oauthRequest("goog")
			r.AdditionalParams = "Access.Type=online"
			return r
		}, []string{"additionalParams.Access.Type"}, connect.ErrReservedParam},
		{"bad prompt", func() connect.OAuthConnectRequest { r := oauthRequest("plain"); r.Prompt = "none+consent"; return r },
			[]string{"prompt"}, connect.ErrInvalidPrompt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			a, err := f.c.AuthorizeURL(context.Background(), tt.req())
			if a != nil {
				t.Errorf("AuthorizeURL returned %+v with an error", a)
			}
			for _, field := range tt.fields {
				assertField(t, err, field)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not match %v", err, tt.sentinel)
			}
			if f.states.callCount() != 0 {
				t.Errorf("the state store was called %d times for a bad request", f.states.callCount())
			}
			if strings.Contains(err.Error(), sentinelAppSecret) {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

// TestProviderFixedParamsRespelt refuses a provider whose fixed authorize parameters a
// lenient server reads as a reserved parameter, or as each other (see TestAuthorizeURLRespeltParams).
func TestProviderFixedParamsRespelt(t *testing.T) {
	tests := []struct {
		name       string
		authParams map[string]string
		refresh    providers.Refresh
	}{
		{name: "fixed redirect.uri", authParams: map[string]string{"redirect.uri": "https://evil.example/cb"}},
		{name: "fixed Response.Type", authParams: map[string]string{"Response.Type": "token"}},
		{name: "fixed twice", authParams: map[string]string{"audience": "a", "Audience": "b"}},
		{name: "fixed twice, re-spelt", authParams: map[string]string{"access_type": "online", "access.type": "offline"}},
		{name: "refresh param re-spelt", refresh: providers.Refresh{By: providers.RefreshByParam, Param: "code.challenge", Value: "x"}},
		{name: "refresh param fixed re-spelt", authParams: map[string]string{"access.type": "online"},
			refresh: providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := providers.NewRegistry().Register(&providers.Provider{
				Name: "fixed", AuthURL: "https://auth.fixed.example/authorize", TokenURL: "https://auth.fixed.example/token",
				AuthParams: tt.authParams, Refresh: tt.refresh,
			})
			if err == nil {
				t.Errorf("Register accepted authParams %v, refresh %+v", tt.authParams, tt.refresh)
			}
		})
	}
}

func TestConnectorAppChoice(t *testing.T) {
	f := newFixture(t)
	r := oauthRequest("plain")
	r.ProjectID = "multi"
	_, _, q := f.start(t, r)
	if got := q.Get("client_id"); got != "c2" {
		t.Errorf("default app: client_id = %s, want c2", got)
	}
	if got := q.Get("scope"); got != sentinelAppScope+" offline_access" {
		t.Errorf("scope = %q, want the app's scopes first", got)
	}
	r.ProviderAppID = "a1"
	_, _, q = f.start(t, r)
	if got := q.Get("client_id"); got != "c1" {
		t.Errorf("named app: client_id = %s, want c1", got)
	}
}

// TestConnectorAuthorizeURLFromVersoriInitialise covers Versori's authorizeUrl and clientId: the
// provider's inputs are read from the authorize URL, which can never point the flow elsewhere,
// and the client id must be the app's.
func TestConnectorAuthorizeURLFromVersoriInitialise(t *testing.T) {
	tests := []struct {
		name      string
		provider  string
		edit      func(*connect.OAuthConnectRequest)
		wantHost  string // the host of the URL built, or "" for an error
		wantField string
	}{
		{"workspace read from the URL", "desk", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://acme.desk.example/oauth/authorizations/new"
		}, "acme.desk.example", ""},
		{"the same workspace given twice", "desk", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL, r.ProviderWorkspaceRef = "https://acme.desk.example/oauth/authorizations/new", "ACME"
		}, "acme.desk.example", ""},
		{"another workspace given", "desk", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL, r.ProviderWorkspaceRef = "https://acme.desk.example/oauth/authorizations/new", "other"
		}, "", "providerWorkspaceRef"},
		{"a metadata input read from the URL", "suite", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://1234567-sb1.app.suite.example/authorize.nl"
		}, "1234567-sb1.app.suite.example", ""},
		{"a metadata input that differs", "suite", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://1234567-sb1.app.suite.example/authorize.nl"
			r.ProviderMetadata = connect.ProviderMetadata{"accountId": {Value: "7654321"}}
		}, "", "providerMetadata.accountId"},
		{"a fixed authorize URL", "plain", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://auth.plain.example/authorize"
		}, "auth.plain.example", ""},
		{"the default of an optional input", "sfdc", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://login.salesforce.com/services/oauth2/authorize"
		}, "login.salesforce.com", ""},
		{"another host", "plain", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://evil.example/authorize"
		}, "", "authorizeUrl"},
		{"a look-alike host", "desk", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://evil.example/x.desk.example/oauth/authorizations/new"
		}, "", "authorizeUrl"},
		{"a query of its own", "plain", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://auth.plain.example/authorize?redirect_uri=https://evil.example"
		}, "", "authorizeUrl"},
		{"another provider's URL", "plain", func(r *connect.OAuthConnectRequest) {
			r.AuthorizeURL = "https://acme.desk.example/oauth/authorizations/new"
		}, "", "authorizeUrl"},
		{"the app's client id", "plain", func(r *connect.OAuthConnectRequest) { r.ClientID = "plain-client" }, "auth.plain.example", ""},
		{"another client id", "plain", func(r *connect.OAuthConnectRequest) { r.ClientID = "someone-else" }, "", "clientId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := oauthRequest(tt.provider)
			tt.edit(&r)
			a, err := f.c.AuthorizeURL(context.Background(), r)
			if tt.wantField != "" {
				if a != nil {
					t.Errorf("AuthorizeURL returned %+v with an error", a)
				}
				assertField(t, err, tt.wantField)
				if f.states.callCount() != 0 {
					t.Errorf("the state store was called %d times for a bad request", f.states.callCount())
				}
				return
			}
			if err != nil {
				t.Fatalf("AuthorizeURL: %v", err)
			}
			u, err := url.Parse(a.URL)
			if err != nil || u.Host != tt.wantHost {
				t.Errorf("URL %s: host %q, want %q", a.URL, u.Host, tt.wantHost)
			}
		})
	}
}

// TestConnectorAppScopeSeparator: an app's scope may be a valid scope token and still hold
// its provider's separator (a comma for "desk"), which would split it in two: refused.
func TestConnectorAppScopeSeparator(t *testing.T) {
	apps := connect.NewMemoryAppStore(connect.ProviderApp{ID: "desk-app", ProjectID: "proj", Provider: "desk",
		ClientID: "desk-client", ClientSecret: sentinelAppSecret, Scopes: []string{"read,admin"}})
	f := newFixture(t, func(c *connect.Config) { c.Apps = apps })
	r := oauthRequest("desk")
	r.ProviderWorkspaceRef = "acme"
	a, err := f.c.AuthorizeURL(context.Background(), r)
	if a != nil {
		t.Errorf("AuthorizeURL returned %+v with an error", a)
	}
	assertField(t, err, "providerAppId")
	if f.states.len() != 0 {
		t.Errorf("a pending authorization was saved for a refused flow")
	}
}

func TestConnectorCSRFBinding(t *testing.T) {
	f := newFixture(t)
	r := oauthRequest("plain")
	r.EnableCSRFProtection = true
	a, _, _ := f.start(t, r)
	if err := state.CheckToken(a.Binding.Reveal()); err != nil {
		t.Fatalf("Binding is not 32 random bytes: %v", err)
	}
	if a.Binding.Reveal() == a.State {
		t.Fatalf("Binding equals the state")
	}
	rec := f.states.saved[state.Key(a.State)]
	if bytes.Contains(rec, []byte(a.Binding.Reveal())) {
		t.Errorf("the session stores the binding value itself")
	}
	_, _, _, bindingHash, err := connect.SessionFields(rec)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(a.Binding.Reveal()))
	if !bytes.Equal(bindingHash, h[:]) {
		t.Errorf("session binding hash = %x, want SHA-256 of the binding %x", bindingHash, h)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, a); strings.Contains(out, a.Binding.Reveal()) {
			t.Errorf("%s of the Authorization shows the binding: %s", verb, out)
		}
	}
}

// TestConnectorRandomSource pins what a flow makes of its random source: the state token,
// the verifier and the binding from consecutive 32-byte blocks, in that order, as
// state.NewToken and pkce.NewVerifierFrom make them; nothing more is read, and a source that
// ends before the last block fails the flow with ErrRandom and saves nothing.
func TestConnectorRandomSource(t *testing.T) {
	block := func(i int) []byte {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(32*i + j)
		}
		return b
	}
	token := func(i int) string {
		tok, err := state.NewToken(bytes.NewReader(block(i)))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	verifier := func(i int) string {
		v, err := pkce.NewVerifierFrom(bytes.NewReader(block(i)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		provider     string
		csrf         bool
		wantVerifier string
		wantBinding  string
		blocks       int
	}{
		{provider: "plain", wantVerifier: verifier(1), blocks: 2},
		{provider: "plain", csrf: true, wantVerifier: verifier(1), wantBinding: token(2), blocks: 3},
		{provider: "nopkce", blocks: 1},
		{provider: "nopkce", csrf: true, wantBinding: token(1), blocks: 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s csrf=%t", tt.provider, tt.csrf), func(t *testing.T) {
			src := bytes.NewReader(slices.Concat(block(0), block(1), block(2), block(3)))
			f := newFixture(t, func(c *connect.Config) { c.Rand = src })
			req := oauthRequest(tt.provider)
			req.EnableCSRFProtection = tt.csrf
			a, _, q := f.start(t, req)
			if a.State != token(0) {
				t.Errorf("State = %s, want %s", a.State, token(0))
			}
			if got := a.Binding.Reveal(); got != tt.wantBinding {
				t.Errorf("Binding = %q, want %q", got, tt.wantBinding)
			}
			gotVerifier, _, _, _, err := connect.SessionFields(f.states.saved[state.Key(a.State)])
			if err != nil {
				t.Fatal(err)
			}
			if gotVerifier != tt.wantVerifier {
				t.Errorf("saved verifier = %q, want %q", gotVerifier, tt.wantVerifier)
			}
			wantChallenge := ""
			if tt.wantVerifier != "" {
				wantChallenge = pkce.Challenge(tt.wantVerifier)
			}
			if got := q.Get("code_challenge"); got != wantChallenge {
				t.Errorf("code_challenge = %q, want %q", got, wantChallenge)
			}
			if read := 4*32 - src.Len(); read != 32*tt.blocks {
				t.Errorf("read %d random bytes, want %d", read, 32*tt.blocks)
			}

			// One byte short of what the flow needs.
			short := newFixture(t, func(c *connect.Config) { c.Rand = io.LimitReader(zeroReader{}, int64(32*tt.blocks-1)) })
			if a, err := short.c.AuthorizeURL(context.Background(), req); a != nil || !errors.Is(err, connect.ErrRandom) {
				t.Errorf("with %d random bytes: AuthorizeURL = %v, %v; want no URL and ErrRandom", 32*tt.blocks-1, a, err)
			}
			if short.states.calls != 0 {
				t.Errorf("with a short source the store was called %d times", short.states.calls)
			}
		})
	}
}

// TestConnectorConcurrentFlowsShareNothing runs flows with different inputs and scope lists
// at once on one Connector: what one flow resolves never shows in another's URL.
func TestConnectorConcurrentFlowsShareNothing(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				req := oauthRequest("plain")
				wantHost, wantScope := "auth.plain.example", "offline_access"
				if i%2 == 0 {
					req = oauthRequest("desk")
					req.ProviderWorkspaceRef = fmt.Sprintf("team%d", g)
					var scopes []string
					for j := range g + 1 {
						scopes = append(scopes, fmt.Sprintf("s%d.%d", g, j))
					}
					req.Scopes = scopes
					wantHost, wantScope = req.ProviderWorkspaceRef+".desk.example", strings.Join(scopes, ",")
				}
				a, err := f.c.AuthorizeURL(context.Background(), req)
				if err != nil {
					t.Errorf("AuthorizeURL: %v", err)
					return
				}
				u, err := url.Parse(a.URL)
				if err != nil {
					t.Errorf("url.Parse: %v", err)
					return
				}
				if got := u.Host; got != wantHost {
					t.Errorf("goroutine %d flow %d: host = %s, want %s", g, i, got, wantHost)
				}
				if got := u.Query().Get("scope"); got != wantScope {
					t.Errorf("goroutine %d flow %d: scope = %q, want %q", g, i, got, wantScope)
				}
			}
		})
	}
	wg.Wait()
}

func TestConnectorStateTTL(t *testing.T) {
	f := newFixture(t, func(c *connect.Config) { c.StateTTL = 5 * time.Minute })
	a, _, _ := f.start(t, oauthRequest("plain"))
	if got := f.states.ttls[state.Key(a.State)]; got != 5*time.Minute {
		t.Errorf("TTL = %v, want 5m", got)
	}
	if !a.ExpiresAt.Equal(f.clock.Now().Add(5 * time.Minute)) {
		t.Errorf("ExpiresAt = %v", a.ExpiresAt)
	}
}

func TestAuthorizationCookie(t *testing.T) {
	f := newFixture(t)
	a := f.begin(t, func(r *connect.OAuthConnectRequest) { r.EnableCSRFProtection = true })
	ck := a.Cookie(f.clock.Now())
	name := connect.BindingCookieName(a.State)
	if !strings.HasPrefix(name, connect.BindingCookie+"-") || len(name) != len(connect.BindingCookie)+17 ||
		name != connect.BindingCookieName(a.State) || name == connect.BindingCookieName(a.State+"x") {
		t.Errorf("BindingCookieName = %q: want the prefix, 16 characters of the state's hash, one name per state", name)
	}
	want := name + "=" + a.Binding.Reveal() + "; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
	if got := ck.String(); got != want {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	if f.begin(t).Cookie(f.clock.Now()) != nil {
		t.Errorf("a flow without CSRF protection has a cookie")
	}
	// The cookie, sent back by the browser, completes the flow.
	r := callbackRequest("code=c&state=" + a.State)
	r.AddCookie(ck)
	if _, err := f.c.Callback(context.Background(), r); err != nil {
		t.Errorf("Callback with the cookie: %v", err)
	}
}

func TestConnectorFailsClosed(t *testing.T) {
	t.Run("store error", func(t *testing.T) {
		f := newFixture(t)
		f.states.fail(errors.New("connection refused"))
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrStoreUnavailable", a, err)
		}
	})
	t.Run("random source error", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = errReader{} })
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
		if f.states.callCount() != 0 {
			t.Errorf("store called %d times", f.states.callCount())
		}
	})
	t.Run("short random source", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = io.LimitReader(zeroReader{}, 40) })
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.States = state.NewMemoryStore() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a, err := f.c.AuthorizeURL(ctx, oauthRequest("plain"))
		if a != nil || err == nil {
			t.Fatalf("AuthorizeURL = %v, %v; want an error", a, err)
		}
	})
}
