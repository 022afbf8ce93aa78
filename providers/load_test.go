package providers_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/providers"
)

func TestLoad(t *testing.T) {
	const valid = `{"providers": [
		{"name": "zendesk-test", "authURL": "https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		 "tokenURL": "https://{{workspace}}.zendesk.com/oauth/tokens", "hosts": ["*.zendesk.com"],
		 "inputs": [{"name": "workspace"}], "refresh": {"by": "none"}},
		{"name": "acme", "authURL": "https://auth.example.com/authorize", "tokenURL": "https://auth.example.com/token",
		 "authParams": {"audience": "api"}, "scopeSeparator": ","}
	]}`
	tests := []struct {
		name      string
		catalog   string
		wantNames []string
		wantErr   string // a substring of the error
	}{
		{name: "valid", catalog: valid, wantNames: []string{"acme", "zendesk-test"}},
		{name: "empty list", catalog: `{"providers": []}`, wantNames: nil},
		{name: "trailing whitespace", catalog: "{\"providers\": []}\n\t ", wantNames: nil},
		{name: "empty input", catalog: ``, wantErr: "providers: catalog"},
		{name: "not JSON", catalog: `providers:`, wantErr: "providers: catalog"},
		{name: "a list, not an object", catalog: `[]`, wantErr: "providers: catalog"},
		{name: "null, not an object", catalog: `null`, wantErr: "providers: catalog"},
		{name: "null providers", catalog: `{"providers": null}`, wantNames: nil},
		{name: "truncated", catalog: valid[:len(valid)-3], wantErr: "providers: catalog"},
		{name: "unknown top-level field", catalog: `{"providers": [], "version": 2}`, wantErr: "version"},
		{name: "unknown provider field", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "authEndpoint": "x"}]}`, wantErr: "authEndpoint"},
		{name: "unknown input field", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "inputs": [{"name": "w", "regex": "x"}]}]}`, wantErr: "regex"},
		{name: "duplicate name", catalog: `{"providers": [
			{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t"},
			{"name": "acme", "authURL": "https://b.example.com/a", "tokenURL": "https://b.example.com/t"}]}`, wantErr: "acme given twice"},
		{name: "trailing object", catalog: `{"providers": []} {"providers": []}`, wantErr: "providers: catalog"},
		{name: "trailing garbage", catalog: `{"providers": []} x`, wantErr: "providers: catalog"},
		{name: "trailing brace", catalog: `{"providers": []}}`, wantErr: "providers: catalog"},
		{name: "trailing bracket", catalog: `{"providers": []}]`, wantErr: "providers: catalog"},
		{name: "null provider", catalog: `{"providers": [null]}`, wantErr: "null provider"},
		{name: "invalid provider", catalog: `{"providers": [{"name": "acme", "authURL": "http://a.example.com/a", "tokenURL": "https://a.example.com/t"}]}`, wantErr: "providers: acme"},
		{name: "reserved fixed param", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "authParams": {"state": "fixed"}}]}`, wantErr: "reserved"},
		{name: "pkce plain", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "pkce": "plain"}]}`, wantErr: "pkce"},
		{name: "wrong type", catalog: `{"providers": [{"name": 1}]}`, wantErr: "providers: catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := providers.Load(strings.NewReader(tt.catalog))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v, %v; want an error containing %q", r, err, tt.wantErr)
				}
				if r != nil {
					t.Errorf("Load returned a registry with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Load = %v, want nil", err)
			}
			if diff := cmp.Diff(tt.wantNames, r.Names()); diff != "" {
				t.Errorf("Names() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadPrepares(t *testing.T) {
	r, err := providers.Load(strings.NewReader(`{"providers": [
		{"name": "zendesk-test", "authURL": "https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		 "tokenURL": "https://{{workspace}}.zendesk.com/oauth/tokens", "hosts": ["*.zendesk.com"],
		 "inputs": [{"name": "workspace", "pattern": "[a-z0-9-]+"}],
		 "authParams": {"b": "2", "a": "1"}}]}`))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	p := lookup(t, r, "zendesk-test")
	if want := map[string]string{"a": "1", "b": "2"}; !maps.Equal(p.AuthParams, want) {
		t.Errorf("AuthParams = %v, want %v", p.AuthParams, want)
	}
	authURL, _, err := p.Endpoints(map[string]string{"workspace": "acme"})
	if err != nil || authURL != "https://acme.zendesk.com/oauth/authorizations/new" {
		t.Errorf("Endpoints(acme) = %q, %v", authURL, err)
	}
	// The pattern loaded from the file applies.
	if _, err := p.Resolve(map[string]string{"workspace": "ACME"}); err == nil {
		t.Errorf("Resolve(ACME) = nil error, want the pattern to refuse it")
	}
}

func TestLoadRefusesMisspeltFieldNames(t *testing.T) {
	for _, catalog := range []string{
		`{"providers": [{"name": "a", "authUrl": "https://a.example/auth", "tokenURL": "https://a.example/token"}]}`,
		`{"Providers": []}`,
		`{"providers": [{"name": "a", "authURL": "https://a.example/auth", "tokenURL": "https://a.example/token", "refresh": {"By": "none"}}]}`,
		`{"providers": [{"name": "a", "authURL": "https://a.example/auth", "tokenURL": "https://a.example/token", "inputs": [{"Name": "workspace"}]}]}`,
	} {
		if _, err := providers.Load(strings.NewReader(catalog)); err == nil || !strings.Contains(err.Error(), "case-sensitive") {
			t.Errorf("Load(%s) = %v, want an error about a misspelt field", catalog, err)
		}
	}
}

func TestLoadFileExtendsAndOverrides(t *testing.T) {
	r := providers.Default()
	before := r.Len()
	file := `{"providers": [
		{"name": "acme-internal", "docs": "https://acme.example/oauth", "authURL": "https://auth.acme.example/authorize", "tokenURL": "https://auth.acme.example/token"},
		{"name": "github", "docs": "https://ghe.acme.example/docs", "authURL": "https://ghe.acme.example/login/oauth/authorize", "tokenURL": "https://ghe.acme.example/login/oauth/access_token", "refresh": {"by": "none"}}
	]}`
	if err := r.LoadFile(strings.NewReader(file)); err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if got := r.Len(); got != before+1 {
		t.Errorf("Len = %d, want %d", got, before+1)
	}
	if p, ok := r.Lookup("acme-internal"); !ok || p.TokenURL != "https://auth.acme.example/token" {
		t.Errorf("the new provider is missing: %v", p)
	}
	if p, _ := r.Lookup("github"); p.AuthURL != "https://ghe.acme.example/login/oauth/authorize" {
		t.Errorf("github was not overridden: %s", p.AuthURL)
	}
	if p, _ := providers.Default().Lookup("github"); p.AuthURL != "https://github.com/login/oauth/authorize" {
		t.Errorf("the override leaked into another registry: %s", p.AuthURL)
	}
}

func TestLoadFileChangesNothingOnError(t *testing.T) {
	r := providers.Default()
	before := r.Names()
	gh, _ := r.Lookup("github")
	for _, file := range []string{
		// The second entry is bad: the first must not be added either.
		`{"providers": [{"name": "ok-one", "authURL": "https://a.example/a", "tokenURL": "https://a.example/t"},
			{"name": "bad", "authURL": "http://a.example/a", "tokenURL": "https://a.example/t"}]}`,
		`{"providers": [{"name": "github", "authURL": "https://a.example/a", "tokenURL": "https://a.example/t", "authParams": {"state": "x"}}]}`,
		`{"providers": [{"name": "x", "authUrl": "https://a.example/a"}]}`,
		`not json`,
	} {
		if err := r.LoadFile(strings.NewReader(file)); err == nil {
			t.Errorf("LoadFile(%.60s) succeeded", file)
		}
	}
	if got := r.Names(); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Errorf("a failed LoadFile changed the registry: %d names, want %d", len(got), len(before))
	}
	if p, _ := r.Lookup("github"); p != gh {
		t.Errorf("a failed LoadFile replaced github")
	}
}
