package authserver_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

// The authorization code flow with PKCE against a server on loopback, with the consent
// decision made in-process instead of in a browser.
func Example() {
	srv, err := authserver.New(authserver.Config{
		Clients: []authserver.Client{{
			ID:           "demo",
			Secret:       "demo-secret",
			RedirectURIs: []string{"http://localhost/callback"},
			Scopes:       []string{"profile", "offline_access"},
			// GrantTypes left empty: authorization_code and refresh_token.
		}},
		Users: []authserver.User{{Username: "alice", Password: "wonderland"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	srv.SetIssuer(ts.URL)

	conf := &oauth2.Config{
		ClientID:     "demo",
		ClientSecret: "demo-secret",
		RedirectURL:  "http://localhost/callback",
		Scopes:       []string{"profile", "offline_access"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   ts.URL + "/authorize",
			TokenURL:  ts.URL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))

	callback, err := srv.Decide(authURL, true, "alice", "wonderland")
	if err != nil {
		log.Fatal(err)
	}
	q := callback.Query()
	fmt.Println("state:", q.Get("state"))
	fmt.Println("iss is the issuer:", q.Get("iss") == ts.URL)

	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token:", tok.AccessToken != "")
	fmt.Println("refresh token:", tok.RefreshToken != "")
	fmt.Println("token requests:", srv.TokenRequests())
	// Output:
	// state: state-0123456789
	// iss is the issuer: true
	// access token: true
	// refresh token: true
	// token requests: map[authorization_code:1]
}
