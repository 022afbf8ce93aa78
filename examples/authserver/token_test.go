package authserver_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()

	loc, err := srv.Decide(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), true, username, password)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Errorf("redirected to %s, want %s", got, redirectURI)
	}
	q := loc.Query()
	if q.Get("code") == "" {
		t.Errorf("redirect %s: no code", loc)
	}
	checkRedirectState(t, q, ts.URL)
	if q.Has("error") {
		t.Errorf("redirect %s: unexpected error", loc)
	}

	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Errorf("Exchange: access token %q, refresh token %q; want both", tok.AccessToken, tok.RefreshToken)
	}
	if got := tok.Type(); got != "Bearer" {
		t.Errorf("token type = %q, want Bearer", got)
	}
	if left := time.Until(tok.Expiry); left < 59*time.Minute || left > time.Hour {
		t.Errorf("token expires in %v, want about 1h", left)
	}
	if got := tok.Extra("scope"); got != "read offline_access" {
		t.Errorf("scope = %v, want %q", got, "read offline_access")
	}

	// A replayed code is refused, and the tokens issued for it are revoked (RFC 6749 4.1.2).
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if got := errorCode(err); got != "invalid_grant" {
		t.Errorf("replayed code: error %v, want invalid_grant", err)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if got := errorCode(err); got != "invalid_grant" {
		t.Errorf("refresh after the code was replayed: error %v, want invalid_grant", err)
	}

	want := map[string]int{"authorization_code": 2, "refresh_token": 1}
	if got := srv.TokenRequests(); !maps.Equal(got, want) {
		t.Errorf("TokenRequests() = %v, want %v", got, want)
	}
}

func TestPKCEFailures(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()

	tests := []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}},
		{"no verifier", nil},
		{"short verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption("abc")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := approve(t, srv, conf, verifier)
			_, err := conf.Exchange(ctx, code, tt.opts...)
			if got := errorCode(err); got != "invalid_grant" {
				t.Fatalf("Exchange: error %v, want invalid_grant", err)
			}
			// A failed PKCE check uses up the code: the right verifier comes too late.
			_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if got := errorCode(err); got != "invalid_grant" {
				t.Errorf("Exchange with the right verifier afterwards: error %v, want invalid_grant", err)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	tests := []struct {
		name      string
		clientID  string
		secret    string
		style     oauth2.AuthStyle
		wantError string
	}{
		{"client_secret_basic", clientID, clientSecret, oauth2.AuthStyleInHeader, ""},
		{"client_secret_post", clientID, clientSecret, oauth2.AuthStyleInParams, ""},
		{"wrong secret, basic", clientID, "nope", oauth2.AuthStyleInHeader, "invalid_client"},
		{"wrong secret, post", clientID, "nope", oauth2.AuthStyleInParams, "invalid_client"},
		{"public client", "public-app", "", oauth2.AuthStyleInParams, ""},
		{"public client with another's code", "public-app", "", oauth2.AuthStyleInParams, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ts := start(t, testConfig())
			conf := oauthConfig(ts, "read")
			if tt.clientID == "public-app" && tt.wantError == "" {
				conf.ClientID, conf.ClientSecret = "public-app", ""
			}
			verifier := oauth2.GenerateVerifier()
			code := approve(t, srv, conf, verifier)
			conf.ClientID, conf.ClientSecret, conf.Endpoint.AuthStyle = tt.clientID, tt.secret, tt.style

			tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			if got := errorCode(err); got != tt.wantError {
				t.Fatalf("Exchange: error %v, want %q", err, tt.wantError)
			}
			if tt.wantError == "" && tok.AccessToken == "" {
				t.Errorf("Exchange: no access token")
			}
			if got := srv.TokenRequests()["authorization_code"]; got != 1 {
				t.Errorf("token requests = %d, want exactly 1", got)
			}
		})
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	tok, err := conf.Exchange(ctx, approve(t, srv, conf, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}

	tok2, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh: refresh token %q, want a new one", tok2.RefreshToken)
	}
	if tok2.AccessToken == "" || tok2.AccessToken == tok.AccessToken {
		t.Errorf("refresh: access token %q, want a new one", tok2.AccessToken)
	}

	// The old refresh token is spent; using it again is reuse, which revokes the grant, so the
	// new refresh token stops working too.
	if _, err := refresh(tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh with the old token: error %v, want invalid_grant", err)
	}
	if _, err := refresh(tok2.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh with the new token after reuse: error %v, want invalid_grant", err)
	}
	if got := srv.TokenRequests()["refresh_token"]; got != 3 {
		t.Errorf("refresh requests = %d, want 3", got)
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read")
	verifier := oauth2.GenerateVerifier()
	tok, err := conf.Exchange(context.Background(), approve(t, srv, conf, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("refresh token %q without offline_access", tok.RefreshToken)
	}
}

func TestClientCredentials(t *testing.T) {
	_, ts := start(t, testConfig())
	tests := []struct {
		name      string
		secret    string
		scopes    []string
		wantError string
	}{
		{"granted", "machine-secret", []string{"read"}, ""},
		{"offline_access gives no refresh token", "machine-secret", []string{"read", "offline_access"}, ""},
		{"no scope", "machine-secret", nil, ""},
		{"scope the client may not have", "machine-secret", []string{"write"}, "invalid_scope"},
		{"wrong secret", "nope", []string{"read"}, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := clientcredentials.Config{
				ClientID: "machine", ClientSecret: tt.secret, TokenURL: ts.URL + "/token",
				Scopes: tt.scopes, AuthStyle: oauth2.AuthStyleInParams,
			}
			tok, err := cc.Token(context.Background())
			if got := errorCode(err); got != tt.wantError {
				t.Fatalf("Token: error %v, want %q", err, tt.wantError)
			}
			if err != nil {
				return
			}
			if tok.AccessToken == "" {
				t.Errorf("no access token")
			}
			if tok.RefreshToken != "" {
				t.Errorf("refresh token %q, want none", tok.RefreshToken)
			}
		})
	}
}

func TestPasswordGrant(t *testing.T) {
	srv, ts := start(t, testConfig())
	tests := []struct {
		name        string
		scopes      []string
		user, pass  string
		wantError   string
		wantRefresh bool
	}{
		{"right password", []string{"read", "offline_access"}, username, password, "", true},
		{"without offline_access", []string{"read"}, username, password, "", false},
		{"wrong password", []string{"read"}, username, "wrong", "invalid_grant", false},
		{"unknown user", []string{"read"}, "bob", password, "invalid_grant", false},
		{"scope the client may not have", []string{"admin"}, username, password, "invalid_scope", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := oauthConfig(ts, tt.scopes...)
			tok, err := conf.PasswordCredentialsToken(context.Background(), tt.user, tt.pass)
			if got := errorCode(err); got != tt.wantError {
				t.Fatalf("PasswordCredentialsToken: error %v, want %q", err, tt.wantError)
			}
			if err != nil {
				return
			}
			if tok.AccessToken == "" {
				t.Errorf("no access token")
			}
			if got := tok.RefreshToken != ""; got != tt.wantRefresh {
				t.Errorf("refresh token %q, want one: %v", tok.RefreshToken, tt.wantRefresh)
			}
		})
	}
	if got := srv.TokenRequests()["password"]; got != len(tests) {
		t.Errorf("password requests = %d, want %d", got, len(tests))
	}
}

func TestRevoke(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	tok, err := conf.Exchange(ctx, approve(t, srv, conf, verifier), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	revoke := func(id, secret, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	if got := revoke(clientID, "wrong", tok.RefreshToken); got != http.StatusUnauthorized {
		t.Errorf("revoke with a wrong secret: status %d, want 401", got)
	}
	if got := revoke(clientID, clientSecret, "not-a-token"); got != http.StatusOK {
		t.Errorf("revoke an unknown token: status %d, want 200 (RFC 7009)", got)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh before revocation: %v", err)
	}
	// The refresh token above is spent; get a live one.
	tok, err = conf.PasswordCredentialsToken(ctx, username, password)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	if got := revoke(clientID, clientSecret, tok.RefreshToken); got != http.StatusOK {
		t.Errorf("revoke: status %d, want 200", got)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if got := errorCode(err); got != "invalid_grant" {
		t.Errorf("refresh after revocation: error %v, want invalid_grant", err)
	}
}

// TestConcurrentCodeExchange redeems one code 64 times at once: exactly one exchange gets
// tokens, the others get invalid_grant.
func TestConcurrentCodeExchange(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	verifier := oauth2.GenerateVerifier()
	code := approve(t, srv, conf, verifier)

	const n = 64
	var (
		wg        sync.WaitGroup
		successes atomic.Int32
		mu        sync.Mutex
		others    []error
	)
	startGate := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-startGate
			_, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
			if err == nil {
				successes.Add(1)
				return
			}
			if errorCode(err) != "invalid_grant" {
				mu.Lock()
				others = append(others, err)
				mu.Unlock()
			}
		})
	}
	close(startGate)
	wg.Wait()
	if got := successes.Load(); got != 1 {
		t.Errorf("%d exchanges succeeded, want exactly 1", got)
	}
	for _, err := range others {
		t.Errorf("failed exchange: %v, want invalid_grant", err)
	}
	if got := srv.TokenRequests()["authorization_code"]; got != n {
		t.Errorf("token requests = %d, want %d", got, n)
	}
}

// TestConcurrentRefresh redeems one refresh token 64 times at once: exactly one refresh
// succeeds.
func TestConcurrentRefresh(t *testing.T) {
	_, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	tok, err := conf.PasswordCredentialsToken(context.Background(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var successes atomic.Int32
	for range 64 {
		wg.Go(func() {
			if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				successes.Add(1)
			} else if errorCode(err) != "invalid_grant" {
				t.Errorf("refresh: %v, want invalid_grant", err)
			}
		})
	}
	wg.Wait()
	if got := successes.Load(); got != 1 {
		t.Errorf("%d refreshes succeeded, want exactly 1", got)
	}
}

func TestNowDecidesExpiry(t *testing.T) {
	clk := newClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg := testConfig()
	cfg.Now = clk.Now
	cfg.AuthorizeCodeLifespan = time.Minute
	cfg.AccessTokenLifespan = 10 * time.Minute
	cfg.RefreshTokenLifespan = time.Hour
	srv, ts := start(t, cfg)
	conf := oauthConfig(ts, "read", "offline_access")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()

	// A code used after its lifespan on the server's clock is refused, with invalid_grant.
	code := approve(t, srv, conf, verifier)
	clk.Advance(2 * time.Minute)
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); errorCode(err) != "invalid_grant" {
		t.Errorf("expired code: error %v, want invalid_grant", err)
	}

	// Fresh codes work; expires_in follows AccessTokenLifespan.
	exchange := func() *oauth2.Token {
		t.Helper()
		tok, err := conf.Exchange(ctx, approve(t, srv, conf, verifier), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		return tok
	}
	clk.Advance(30 * time.Second)
	fromCode, fromCode2 := exchange(), exchange()
	if left := time.Until(fromCode.Expiry); left < 9*time.Minute || left > 10*time.Minute+time.Second {
		t.Errorf("access token expires in %v, want about 10m", left)
	}
	fromPassword, err := conf.PasswordCredentialsToken(ctx, username, password)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}

	// Refresh tokens live an hour on the server's clock, whichever grant issued them.
	clk.Advance(59 * time.Minute)
	fromRefresh, err := refresh(fromCode.RefreshToken)
	if err != nil {
		t.Fatalf("refresh within the lifespan: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := refresh(fromCode2.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh token of the authorization_code grant after 61m: error %v, want invalid_grant", err)
	}
	if _, err := refresh(fromPassword.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh token of the password grant after 61m: error %v, want invalid_grant", err)
	}
	clk.Advance(59 * time.Minute)
	if _, err := refresh(fromRefresh.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh token of the refresh_token grant after 61m: error %v, want invalid_grant", err)
	}
}
