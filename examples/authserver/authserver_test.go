package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect/examples/authserver"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	clientID     = "web-app"
	clientSecret = "web-app-secret"
	redirectURI  = "http://localhost/callback"
	loopbackURI  = "http://127.0.0.1:8765/callback"
	username     = "alice"
	password     = "wonderland"
	state        = "state-0123456789"
)

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
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != ts.URL {
		t.Errorf("iss = %q, want %q", got, ts.URL)
	}
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
	if got := srv.TokenRequests(); !equalCounts(got, want) {
		t.Errorf("TokenRequests() = %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
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

func TestAuthorizePage(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read", "offline_access")
	authURL := conf.AuthCodeURL(state+"<script>x</script>", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	res, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /authorize: status %d, want 200; body:\n%s", res.StatusCode, page)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for _, want := range []string{
		`id="approve"`, `id="deny"`, `id="username"`, `id="password"`,
		`method="post"`, clientID, "<code>read</code>", "<code>offline_access</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("consent page has %s: unescaped input or an external asset:\n%s", bad, page)
		}
	}

	// The page's form, submitted as a browser would, gets the same answer as Decide.
	form := url.Values{"query": {mustParse(t, authURL).RawQuery}, "username": {username}, "password": {password}, "action": {"approve"}}
	res, err = noRedirects.PostForm(ts.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := res.Location()
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("form POST: status %d, Location %v; want 303 with a code", res.StatusCode, loc)
	}

	// A wrong password shows the page again, with a message and the username kept.
	form.Set("password", "wrong")
	res, err = noRedirects.PostForm(ts.URL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Wrong username or password") ||
		!strings.Contains(string(body), `value="alice"`) {
		t.Errorf("wrong password: status %d, body:\n%s", res.StatusCode, body)
	}
	_, err = srv.Decide(authURL, true, username, "wrong")
	if !errors.Is(err, authserver.ErrNoRedirect) {
		t.Errorf("Decide with a wrong password: error %v, want ErrNoRedirect", err)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAuthorizeRequestErrors(t *testing.T) {
	srv, ts := start(t, testConfig())
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	valid := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"read"},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = slices.Clone(vs)
		}
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		return v
	}

	// Errors the client may hear about: a redirect with error, state and iss.
	redirected := []struct {
		name      string
		query     url.Values
		wantError string
	}{
		{"no code_challenge", with("code_challenge", ""), "invalid_request"},
		{"plain code_challenge_method", with("code_challenge_method", "plain"), "invalid_request"},
		{"no code_challenge_method", with("code_challenge_method", ""), "invalid_request"},
		{"scope the client may not have", with("scope", "read admin"), "invalid_scope"},
		{"token response type", with("response_type", "token"), "unsupported_response_type"},
		{"fragment response mode", with("response_mode", "fragment"), "unsupported_response_mode"},
		{"short state", with("state", "abc"), "invalid_state"},
	}
	for _, tt := range redirected {
		t.Run(tt.name, func(t *testing.T) {
			res, err := noRedirects.Get(ts.URL + "/authorize?" + tt.query.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			loc, err := res.Location()
			if res.StatusCode != http.StatusSeeOther || err != nil {
				t.Fatalf("status %d, Location %v; want a 303 redirect", res.StatusCode, err)
			}
			q := loc.Query()
			if got := q.Get("error"); got != tt.wantError {
				t.Errorf("error = %q, want %q (%s)", got, tt.wantError, q.Get("error_description"))
			}
			if got := q.Get("iss"); got != ts.URL {
				t.Errorf("iss = %q, want %q", got, ts.URL)
			}
			if got, want := q.Get("state"), tt.query.Get("state"); got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			if !strings.HasPrefix(loc.String(), redirectURI+"?") {
				t.Errorf("redirected to %s, want %s", loc, redirectURI)
			}
		})
	}

	// Errors about the client or its redirect URI: never redirected.
	shown := []struct {
		name  string
		query url.Values
		want  int
	}{
		{"unregistered redirect_uri", with("redirect_uri", "http://localhost/elsewhere"), http.StatusBadRequest},
		{"loopback redirect_uri on another port", with("redirect_uri", "http://127.0.0.1:8766/callback"), http.StatusBadRequest},
		{"redirect_uri with extra query", with("redirect_uri", redirectURI+"?x=1"), http.StatusBadRequest},
		{"unknown client", with("client_id", "nobody"), http.StatusUnauthorized},
		{"no client", with("client_id", ""), http.StatusUnauthorized},
	}
	for _, tt := range shown {
		t.Run(tt.name, func(t *testing.T) {
			authURL := ts.URL + "/authorize?" + tt.query.Encode()
			res, err := noRedirects.Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || res.Header.Get("Location") != "" {
				t.Errorf("status %d, Location %q; want %d and no redirect", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
			var oerr struct{ Error string }
			if err := json.Unmarshal(body, &oerr); err != nil || oerr.Error == "" {
				t.Errorf("body %s: want a JSON error", body)
			}

			// Browsers get an HTML page.
			req, _ := http.NewRequest(http.MethodGet, authURL, nil)
			req.Header.Set("Accept", "text/html,application/xhtml+xml")
			res, err = noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || !strings.Contains(string(body), oerr.Error) ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("browser: status %d, Content-Type %q, body:\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}

			// Decide refuses as well, and approving changes nothing.
			if _, err := srv.Decide(authURL, true, username, password); !errors.Is(err, authserver.ErrNoRedirect) {
				t.Errorf("Decide: error %v, want ErrNoRedirect", err)
			}
		})
	}
}

func TestDeny(t *testing.T) {
	srv, ts := start(t, testConfig())
	conf := oauthConfig(ts, "read")
	loc, err := srv.Decide(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), false, "", "")
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	q := loc.Query()
	if got := q.Get("error"); got != "access_denied" {
		t.Errorf("error = %q, want access_denied", got)
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != ts.URL {
		t.Errorf("iss = %q, want %q", got, ts.URL)
	}
	if q.Has("code") {
		t.Errorf("redirect %s has a code", loc)
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

// clock is a clock for Config.Now that tests move forward.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

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

// FuzzAuthorize sends arbitrary authorization request queries to GET and POST /authorize: the
// server never fails with 5xx, and never redirects anywhere but to a registered redirect URI,
// with iss.
func FuzzAuthorize(f *testing.F) {
	challenge := oauth2.S256ChallengeFromVerifier("0123456789012345678901234567890123456789abc")
	valid := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"read offline_access"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	f.Add(valid.Encode(), "approve")
	f.Add(valid.Encode(), "deny")
	f.Add(valid.Encode()+"&redirect_uri=http://localhost/other", "approve")
	f.Add(strings.Replace(valid.Encode(), "localhost", "127.0.0.1:8765", 1), "approve")
	f.Add(strings.Replace(valid.Encode(), "localhost", "127.0.0.1:1", 1), "approve")
	f.Add("response_type=code&client_id=web-app&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback%3Fa%3D1", "approve")
	f.Add("response_mode=form_post&"+valid.Encode(), "deny")
	f.Add("request_uri=urn:x&client_id=web-app", "approve")
	f.Add("%zz&;;==", "")
	f.Add("", "approve")

	srv, err := authserver.New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	const issuer = "http://127.0.0.1:9999"
	srv.SetIssuer(issuer)
	h := srv.Handler()
	registered := []string{redirectURI, loopbackURI}

	f.Fuzz(func(t *testing.T, query, action string) {
		check := func(rec *httptest.ResponseRecorder) {
			if rec.Code >= 500 {
				t.Fatalf("status %d for query %q", rec.Code, query)
			}
			loc := rec.Header().Get("Location")
			if loc == "" {
				return
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Location %q: %v", loc, err)
			}
			base := *u
			base.RawQuery = ""
			if !slices.Contains(registered, base.String()) {
				t.Fatalf("redirect to %q, which is not registered (query %q)", loc, query)
			}
			if got := u.Query().Get("iss"); got != issuer {
				t.Fatalf("redirect %q: iss = %q", loc, got)
			}
		}
		get := httptest.NewRequest(http.MethodGet, "/authorize", nil)
		get.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, get)
		check(rec)

		form := url.Values{"query": {query}, "action": {action}, "username": {username}, "password": {password}}
		req := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(rec)
	})
}
