package authserver_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
)

// The client, user and state of the test configuration.
const (
	clientID     = "web-app"
	clientSecret = "web-app-secret"
	redirectURI  = "http://localhost/callback"
	loopbackURI  = "http://127.0.0.1:8765/callback"
	username     = "alice"
	password     = "wonderland"
	state        = "state-0123456789"
)

// testConfig returns a server configuration with a web client, a machine client (client
// credentials only), a public client and the test user.
func testConfig() authserver.Config {
	return authserver.Config{
		Clients: []authserver.Client{
			{
				ID:           clientID,
				Secret:       clientSecret,
				RedirectURIs: []string{redirectURI, loopbackURI},
				Scopes:       []string{"read", "write", "offline_access"},
				GrantTypes:   []string{"authorization_code", "refresh_token", "password"},
			},
			{
				ID:         "machine",
				Secret:     "machine-secret",
				Scopes:     []string{"read", "offline_access"},
				GrantTypes: []string{"client_credentials"},
			},
			{
				ID:           "public-app",
				RedirectURIs: []string{redirectURI},
				Scopes:       []string{"read", "offline_access"},
			},
		},
		Users: []authserver.User{{Username: username, Password: password}},
	}
}

// start serves srv on a loopback httptest server and sets its issuer.
func start(t *testing.T, cfg authserver.Config) (*authserver.Server, *httptest.Server) {
	t.Helper()
	srv, err := authserver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	srv.SetIssuer(ts.URL)
	return srv, ts
}

// oauthConfig returns the test client's x/oauth2 configuration for ts with the scopes.
func oauthConfig(ts *httptest.Server, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURI,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  ts.URL + "/authorize",
			TokenURL: ts.URL + "/token",
			// Not AuthStyleAutoDetect: it retries a failed request with the other style,
			// which would double the token requests the tests count.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// approve runs the consent decision for a fresh authorization request and returns the code.
func approve(t *testing.T, srv *authserver.Server, conf *oauth2.Config, verifier string) string {
	t.Helper()
	loc, err := srv.Decide(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), true, username, password)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("Decide: redirect %s has no code", loc)
	}
	return code
}

// errorCode returns the OAuth error code of a token endpoint error, or "" for another error.
func errorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// noRedirects is an HTTP client that returns redirects instead of following them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// mustParse parses raw, failing the test on an error.
func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// clock is a clock for Config.Now that tests move forward.
type clock struct{ ns atomic.Int64 }

// newClock returns a clock at t.
func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's time.
func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// checkRedirectState checks that a redirect back to the client carries the request's state and
// the issuer iss.
func checkRedirectState(t *testing.T, q url.Values, iss string) {
	t.Helper()
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != iss {
		t.Errorf("iss = %q, want %q", got, iss)
	}
}
