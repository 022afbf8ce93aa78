package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

func TestMetadata(t *testing.T) {
	_, ts := start(t, testConfig())
	res, err := http.Get(ts.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var md struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		RevocationEndpoint    string   `json:"revocation_endpoint"`
		GrantTypes            []string `json:"grant_types_supported"`
		ResponseTypes         []string `json:"response_types_supported"`
		CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
		IssParameter          *bool    `json:"authorization_response_iss_parameter_supported"`
		Scopes                []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"issuer", md.Issuer, ts.URL},
		{"authorization_endpoint", md.AuthorizationEndpoint, ts.URL + "/authorize"},
		{"token_endpoint", md.TokenEndpoint, ts.URL + "/token"},
		{"revocation_endpoint", md.RevocationEndpoint, ts.URL + "/revoke"},
		{"grant_types_supported", strings.Join(md.GrantTypes, " "), "authorization_code refresh_token client_credentials password"},
		{"response_types_supported", strings.Join(md.ResponseTypes, " "), "code"},
		{"code_challenge_methods_supported", strings.Join(md.CodeChallengeMethods, " "), "S256"},
		{"authorization_response_iss_parameter_supported", md.IssParameter != nil && *md.IssParameter, true},
		{"scopes_supported", strings.Join(md.Scopes, " "), "offline_access read write"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestIssuerBeforeSetIssuer(t *testing.T) {
	srv, err := authserver.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	conf := oauthConfig(ts, "read")
	loc, err := srv.Decide(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true, username, password)
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("iss"); got != ts.URL {
		t.Errorf("iss = %q, want the authorize URL's origin %q", got, ts.URL)
	}
}

func TestNewRejects(t *testing.T) {
	ok := authserver.Client{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}}
	tests := []struct {
		name string
		cfg  authserver.Config
	}{
		{"empty client id", authserver.Config{Clients: []authserver.Client{{Secret: "s", RedirectURIs: []string{redirectURI}}}}},
		{"duplicate client", authserver.Config{Clients: []authserver.Client{ok, ok}}},
		{"unknown grant type", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}, GrantTypes: []string{"implicit"}}}}},
		{"code grant without redirect URI", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s"}}}},
		{"relative redirect URI", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s", RedirectURIs: []string{"/callback"}}}}},
		{"redirect URI with fragment", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI + "#x"}}}}},
		{"plain http redirect URI", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s", RedirectURIs: []string{"http://example.com/callback"}}}}},
		{"public client with client credentials", authserver.Config{Clients: []authserver.Client{{ID: "c", GrantTypes: []string{"client_credentials"}}}}},
		{"scope with a space", authserver.Config{Clients: []authserver.Client{{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}, Scopes: []string{"a b"}}}}},
		{"empty username", authserver.Config{Users: []authserver.User{{Password: "p"}}}},
		{"duplicate user", authserver.Config{Users: []authserver.User{{Username: "u"}, {Username: "u"}}}},
		{"negative lifespan", authserver.Config{AccessTokenLifespan: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authserver.New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "authserver: ") {
				t.Errorf("New: error %v, want an authserver error", err)
			}
		})
	}
	if _, err := authserver.New(authserver.Config{}); err != nil {
		t.Errorf("New(Config{}): %v", err)
	}
}
