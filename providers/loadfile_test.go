package providers_test

import (
	"strings"
	"testing"

	"github.com/connectkit/connect/providers"
)

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

func TestDefaultProvidersAreCopies(t *testing.T) {
	a, b := providers.Default(), providers.Default()
	pa, _ := a.Lookup("atlassian") // has fixed authorize params
	pb, _ := b.Lookup("atlassian")
	if pa == pb {
		t.Fatal("two Default registries share a provider")
	}
	pa.AuthParams["x"] = "y"
	pa.DefaultScopes = append(pa.DefaultScopes, "changed")
	pa.Inputs = append(pa.Inputs, pa.Inputs...)
	if _, ok := pb.AuthParams["x"]; ok || len(pb.DefaultScopes) == len(pa.DefaultScopes) {
		t.Errorf("a change to one Default's provider shows in another's: %v %v", pb.AuthParams, pb.DefaultScopes)
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
