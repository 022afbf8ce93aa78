package providers_test

import (
	"errors"
	"maps"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

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
			mustPrepare(t, p)
			if got := p.Accepts(tt.kind); got != tt.want {
				t.Errorf("Accepts(%s) = %v, want %v", tt.kind, got, tt.want)
			}
		})
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
	mustPrepare(t, p)
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
	mustPrepare(t, p)
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
	mustPrepare(t, p)
	authURL, tokenURL, err := p.Endpoints(nil)
	var ve *metadata.ValueError
	if !errors.As(err, &ve) || ve.Input != "workspace" || !errors.Is(err, metadata.ErrMissing) {
		t.Fatalf("Endpoints(nil) = %q, %q, %v; want a *ValueError for workspace matching ErrMissing", authURL, tokenURL, err)
	}
}

func TestEndpointsClientCredentialsOnly(t *testing.T) {
	p := minimal()
	p.AuthURL, p.AuthKinds = "", []providers.AuthKind{providers.OAuth2ClientCredentials}
	mustPrepare(t, p)
	authURL, tokenURL, err := p.Endpoints(nil)
	if err != nil || authURL != "" || tokenURL != p.TokenURL {
		t.Errorf("Endpoints(nil) = %q, %q, %v; want \"\", %q, nil", authURL, tokenURL, err, p.TokenURL)
	}
}

func TestInput(t *testing.T) {
	p := salesforce()
	mustPrepare(t, p)
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

func TestAuthorizeParams(t *testing.T) {
	p := &providers.Provider{
		Name: "seller", AuthURL: "https://sellercentral.example.com/apps/authorize/consent",
		TokenURL: "https://api.example.com/auth/o2/token",
		Inputs: []metadata.Input{
			{Name: "applicationId", Kind: metadata.PathSegment, Optional: true},
			{Name: "region", Kind: metadata.Enum, Values: []string{"na", "eu"}, Optional: true, Default: "na"},
		},
		AuthParams: map[string]string{"application_id": "{{applicationId}}", "market": "{{region}}", "version": "1"},
	}
	if err := p.Prepare(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		values metadata.Values
		want   url.Values
	}{
		{"given", metadata.Values{"applicationId": "amzn1.sp.solution.6f1e-42"},
			url.Values{"application_id": {"amzn1.sp.solution.6f1e-42"}, "market": {"na"}, "version": {"1"}}},
		{"absent", nil, url.Values{"market": {"na"}, "version": {"1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			values, err := p.Resolve(tt.values)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tt.want, p.AuthorizeParams(values)); diff != "" {
				t.Errorf("AuthorizeParams (-want +got):\n%s", diff)
			}
		})
	}
}
