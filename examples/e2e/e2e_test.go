// Package e2e drives connect through its public API against a real OAuth 2.0 authorization
// server (ory/fosite, in examples/authserver) on httptest.
package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/examples/authserver"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/providers"
)

const (
	redirectURL  = "http://127.0.0.1:1/callbacks/v1/oauth" // never dialled: the test reads the redirect
	clientID     = "connect-e2e"
	clientSecret = "e2e-client-secret-0123456789"
)

type env struct {
	as    *authserver.Server
	srv   *httptest.Server
	c     *connect.Connector
	conns *connect.MemoryConnectionStore
	now   time.Time
	clock sync.Mutex
}

func (e *env) Now() time.Time {
	e.clock.Lock()
	defer e.clock.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.clock.Lock()
	e.now = e.now.Add(d)
	e.clock.Unlock()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	as, err := authserver.New(authserver.Config{
		Clients: []authserver.Client{{
			ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURL},
			Scopes:     []string{"read", "write", "offline_access"},
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials", "password"},
		}},
		Users:               []authserver.User{{Username: "ada", Password: "lovelace"}},
		AccessTokenLifespan: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(as.Handler())
	t.Cleanup(srv.Close)
	as.SetIssuer(srv.URL)

	reg := providers.NewRegistry()
	if err := reg.Register(&providers.Provider{
		Name: "local", DisplayName: "Local authorization server",
		AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token", Issuer: srv.URL,
		PKCE: providers.PKCERequired, Prompt: "consent",
		AuthKinds: []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials,
			providers.OAuth2PasswordCredentials},
	}); err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{as: as, srv: srv, conns: connect.NewMemoryConnectionStore(), now: time.Now()}
	e.c, err = connect.New(connect.Config{
		Providers: reg,
		Apps: connect.NewMemoryAppStore(connect.ProviderApp{ID: "app-1", ProjectID: "proj", Provider: "local",
			ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"read"}}),
		Connections: e.conns,
		Keyring:     keys,
		RedirectURL: redirectURL,
		HTTPClient:  srv.Client(),
		Now:         e.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func oauthRequest(consumer string) connect.OAuthConnectRequest {
	return connect.OAuthConnectRequest{ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: consumer}
}

// authorize starts a flow and lets the user decide at the authorization server; it returns
// the redirect back to the callback.
func (e *env) authorize(t *testing.T, consumer string, approve bool) (*connect.Authorization, *http.Request) {
	t.Helper()
	a, err := e.c.AuthorizeURL(context.Background(), oauthRequest(consumer))
	if err != nil {
		t.Fatalf("AuthorizeURL: %v", err)
	}
	loc, err := e.as.Decide(a.URL, approve, "ada", "lovelace")
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return a, httptest.NewRequest(http.MethodGet, loc.String(), nil)
}

func TestAuthorizationCodeWithPKCEAndRefresh(t *testing.T) {
	e := newEnv(t)
	_, cb := e.authorize(t, "user-1", true)
	if got := cb.URL.Query().Get("iss"); got != e.srv.URL {
		t.Fatalf("the server's redirect has iss %q, want %q", got, e.srv.URL)
	}
	conn, err := e.c.Callback(context.Background(), cb)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if conn.Status != connect.StatusWorking || conn.AuthScheme != connect.AuthSchemeOAuth2AuthorizationCode {
		t.Errorf("connection %+v", conn)
	}
	ts, err := e.c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	first, err := ts.Token()
	if err != nil || first.AccessToken == "" || first.RefreshToken == "" {
		t.Fatalf("Token = %+v, %v; want access and refresh tokens", first, err)
	}

	// An hour later the token has expired: the source refreshes it, and the server rotates
	// the refresh token.
	e.advance(2 * time.Hour)
	before := e.as.TokenRequests()["refresh_token"]
	second, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Errorf("refresh kept the old tokens")
	}
	if got := e.as.TokenRequests()["refresh_token"] - before; got != 1 {
		t.Errorf("refresh requests = %d, want 1", got)
	}
	// A new source (another replica, say) sees the rotated tokens without a request.
	ts2, _ := e.c.TokenSource(context.Background(), conn.ID)
	third, err := ts2.Token()
	if err != nil || third.AccessToken != second.AccessToken || third.RefreshToken != second.RefreshToken {
		t.Errorf("the second source got %+v, %v; want the rotated tokens", third, err)
	}

	// Refresh rotation again, concurrently: one refresh for 20 callers.
	e.advance(2 * time.Hour)
	before = e.as.TokenRequests()["refresh_token"]
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 20 {
		wg.Go(func() {
			if _, err := ts.Token(); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 || e.as.TokenRequests()["refresh_token"]-before != 1 {
		t.Errorf("%d failures and %d refresh requests for 20 concurrent callers; want 0 and 1",
			failures.Load(), e.as.TokenRequests()["refresh_token"]-before)
	}
}

func TestReplayedStateAndCode(t *testing.T) {
	e := newEnv(t)
	_, cb := e.authorize(t, "user-1", true)
	if _, err := e.c.Callback(context.Background(), cb); err != nil {
		t.Fatal(err)
	}
	// The same redirect again: the state is spent.
	if _, err := e.c.Callback(context.Background(), httptest.NewRequest(http.MethodGet, cb.URL.String(), nil)); !errors.Is(err, connect.ErrStateNotFound) {
		t.Errorf("replayed state: %v, want ErrStateNotFound", err)
	}
	// The spent code with a fresh state: the server refuses it.
	a, _ := e.c.AuthorizeURL(context.Background(), oauthRequest("user-2"))
	q := cb.URL.Query()
	q.Set("state", a.State)
	replay := httptest.NewRequest(http.MethodGet, redirectURL+"?"+q.Encode(), nil)
	if _, err := e.c.Callback(context.Background(), replay); !errors.Is(err, connect.ErrExchangeFailed) {
		t.Errorf("replayed code: %v, want ErrExchangeFailed", err)
	}
	if n := connections(t, e); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// A code from the attacker's own flow, delivered with the victim's state, is redeemed with
// the victim's verifier: PKCE makes the server refuse it.
func TestInjectedCodeFailsOnTheVerifier(t *testing.T) {
	e := newEnv(t)
	victim, _ := e.c.AuthorizeURL(context.Background(), oauthRequest("victim"))
	_, attacker := e.authorize(t, "attacker", true)
	q := attacker.URL.Query()
	q.Set("state", victim.State)
	injected := httptest.NewRequest(http.MethodGet, redirectURL+"?"+q.Encode(), nil)
	_, err := e.c.Callback(context.Background(), injected)
	var pe *connect.ProviderError
	if !errors.Is(err, connect.ErrExchangeFailed) || !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Errorf("Callback = %v, want ErrExchangeFailed with invalid_grant", err)
	}
	if n := connections(t, e); n != 0 {
		t.Errorf("%d connections, want 0", n)
	}
}

func TestAccessDenied(t *testing.T) {
	e := newEnv(t)
	_, cb := e.authorize(t, "user-1", false)
	before := e.as.TokenRequests()["authorization_code"]
	_, err := e.c.Callback(context.Background(), cb)
	if !errors.Is(err, connect.ErrAccessDenied) {
		t.Errorf("Callback = %v, want ErrAccessDenied", err)
	}
	if e.as.TokenRequests()["authorization_code"] != before || connections(t, e) != 0 {
		t.Errorf("a denied flow reached the token endpoint or stored a connection")
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	conn, err := e.c.Connect(context.Background(), connect.ConnectionRequest{
		ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: "service",
		OAuth2ClientCredentials: &connect.OAuth2ClientCredentials{ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"read"}},
	})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	ts, _ := e.c.TokenSource(context.Background(), conn.ID)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken == "" || tok.RefreshToken != "" {
		t.Fatalf("Token = %+v, %v; want an access token and no refresh token", tok, err)
	}
	e.advance(2 * time.Hour)
	before := e.as.TokenRequests()["client_credentials"]
	if tok2, err := ts.Token(); err != nil || tok2.AccessToken == tok.AccessToken {
		t.Errorf("after expiry: %+v, %v; want a new token", tok2, err)
	}
	if e.as.TokenRequests()["client_credentials"]-before != 1 {
		t.Errorf("expected one new client credentials request")
	}
	// A wrong secret stores nothing.
	_, err = e.c.Connect(context.Background(), connect.ConnectionRequest{
		ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: "other",
		OAuth2ClientCredentials: &connect.OAuth2ClientCredentials{ClientID: clientID, ClientSecret: "wrong"},
	})
	if !errors.Is(err, connect.ErrExchangeFailed) || connections(t, e) != 1 {
		t.Errorf("wrong secret: %v with %d connections; want ErrExchangeFailed and 1", err, connections(t, e))
	}
}

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t)
	req := connect.ConnectionRequest{
		ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: "ada",
		OAuth2PasswordCredentials: &connect.OAuth2PasswordCredentials{Username: "ada", Password: "lovelace",
			ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"read", "offline_access"}},
	}
	conn, err := e.c.Connect(context.Background(), req)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	ts, _ := e.c.TokenSource(context.Background(), conn.ID)
	e.advance(2 * time.Hour)
	if tok, err := ts.Token(); err != nil || tok.AccessToken == "" {
		t.Errorf("refresh after a password grant: %+v, %v", tok, err)
	}
	req.OAuth2PasswordCredentials.Password = "wrong"
	req.ConsumerRef = "mallory"
	if _, err := e.c.Connect(context.Background(), req); !errors.Is(err, connect.ErrExchangeFailed) {
		t.Errorf("wrong password: %v, want ErrExchangeFailed", err)
	}
	if connections(t, e) != 1 {
		t.Errorf("a failed password grant stored a connection")
	}
}

func connections(t *testing.T, e *env) int {
	t.Helper()
	recs, err := e.conns.List(context.Background(), "proj", connect.ConnectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// Two flows of one user keep their own verifiers: completing B and then A works, since each
// code is redeemed with the verifier of the flow it belongs to (docs/security.md, B3).
func TestParallelFlowsOfOneUser(t *testing.T) {
	e := newEnv(t)
	_, cbA := e.authorize(t, "user-1", true)
	_, cbB := e.authorize(t, "user-1", true)
	if _, err := e.c.Callback(context.Background(), cbB); err != nil {
		t.Fatalf("flow B: %v", err)
	}
	if _, err := e.c.Callback(context.Background(), cbA); err != nil {
		t.Fatalf("flow A after B: %v", err)
	}
	if n := connections(t, e); n != 1 {
		t.Errorf("%d connections, want 1 (the second flow updates the first's connection)", n)
	}
}
