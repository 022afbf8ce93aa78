// Package authserver is a small OAuth 2.0 authorization server built on ory/fosite, for tests
// and demos on loopback; it is not for production.
//
// It serves the authorization code grant with PKCE (S256, required for every client) behind a
// plain HTML consent page, the refresh token grant with rotation, the client credentials and
// resource owner password credentials grants, token revocation (RFC 7009), the RFC 9207 "iss"
// authorization response parameter and RFC 8414 metadata, and a small protected API that
// answers who a credential belongs to: an access token it issued or one of its API keys.
// Everything lives in memory and is lost with the [Server].
//
// Routes of [Server.Handler]:
//
//	GET  /authorize                               consent page
//	POST /authorize                               the consent decision
//	POST /token                                   token endpoint
//	POST /revoke                                  token revocation
//	GET  /.well-known/oauth-authorization-server  metadata
//	GET  /api/me                                  the protected API ([Me])
package authserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"golang.org/x/crypto/bcrypt"
)

// Grant types a [Client] may list in GrantTypes.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// ErrNoRedirect is matched by the error of [Server.Decide] when the server answers without
// redirecting to the client: an unknown client or redirect_uri, or a wrong username or password.
var ErrNoRedirect = errors.New("authserver: no redirect to the client")

// Client is an OAuth client registered with the server.
type Client struct {
	// ID is the client_id. Required and unique.
	ID string
	// Secret is the client secret of a confidential client, accepted at the token and
	// revocation endpoints both as client_secret_basic and as client_secret_post. Empty makes
	// a public client, which authenticates with its client_id alone (PKCE is required anyway)
	// and may not use the client credentials grant.
	Secret string
	// RedirectURIs are the redirect URIs the client may send, compared as strings: a
	// redirect_uri must equal one of them exactly. http is allowed only for localhost and
	// loopback addresses. Required for the authorization code grant.
	RedirectURIs []string
	// Scopes are the scopes the client may ask for, matched exactly. Include "offline_access"
	// (or "offline") to get refresh tokens: they are issued only when one of the two is granted.
	Scopes []string
	// GrantTypes are the grants the client may use: [GrantAuthorizationCode],
	// [GrantRefreshToken], [GrantClientCredentials], [GrantPassword]. Empty means
	// authorization_code and refresh_token.
	GrantTypes []string
}

// User is a resource owner, who signs in on the consent page or with the password grant.
type User struct {
	Username string
	Password string
}

// Config configures a [Server]. Zero durations take the defaults given on each field.
type Config struct {
	// Clients are the registered clients.
	Clients []Client
	// Users are the resource owners.
	Users []User
	// AccessTokenLifespan is how long an access token lives. 0: 1h.
	AccessTokenLifespan time.Duration
	// RefreshTokenLifespan is how long a refresh token lives. 0: 720h.
	RefreshTokenLifespan time.Duration
	// APIKeys are the API keys GET /api/me accepts in the X-Api-Key header, besides access
	// tokens. Each must be at least 16 characters long.
	APIKeys []string
	// AuthorizeCodeLifespan is how long an authorization code lives. 0: 10m.
	AuthorizeCodeLifespan time.Duration
	// Now is the server's clock; nil means time.Now. It decides when authorization codes,
	// access tokens and refresh tokens expire, and the expires_in of token responses. fosite
	// still stamps requests with time.Now, but reads those stamps only for a token without a
	// recorded expiry, which this server never issues.
	Now func() time.Time
}

// Server is an OAuth 2.0 authorization server. Make one with [New] and serve
// [Server.Handler]. It is safe for concurrent use.
type Server struct {
	provider fosite.OAuth2Provider
	store    *memoryStore
	handler  http.Handler
	scopes   []string         // every scope some client may ask for, sorted
	now      func() time.Time // Config.Now, nil for the wall clock
	apiKeys  apiKeys          // the SHA-256 of Config.APIKeys

	// grants serialises token requests that redeem the same authorization code or refresh
	// token, so that of concurrent redemptions one succeeds and the others get invalid_grant.
	grants keyedMutex

	mu            sync.Mutex
	issuer        string
	tokenRequests map[string]int
}

// New checks the configuration and returns a server. It makes a random 32-byte secret for
// the HMAC-SHA256 tokens, so the tokens of one server mean nothing to another.
func New(cfg Config) (*Server, error) {
	if cfg.AccessTokenLifespan < 0 || cfg.RefreshTokenLifespan < 0 || cfg.AuthorizeCodeLifespan < 0 {
		return nil, errors.New("authserver: negative lifespan")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("authserver: random secret: %w", err)
	}
	fc := &fosite.Config{
		AccessTokenLifespan:   orDefault(cfg.AccessTokenLifespan, time.Hour),
		RefreshTokenLifespan:  orDefault(cfg.RefreshTokenLifespan, 720*time.Hour),
		AuthorizeCodeLifespan: orDefault(cfg.AuthorizeCodeLifespan, 10*time.Minute),
		GlobalSecret:          secret,

		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,

		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		RefreshTokenScopes:       []string{"offline_access", "offline"},
		// The authorization response carries code, state and iss; not scope.
		OmitRedirectScopeParam: true,
		// Client secrets are held as bcrypt hashes of the lowest cost: checking one must stay
		// cheap when tests fire dozens of token requests.
		HashCost: bcrypt.MinCost,
	}
	// fosite's getters fill these in on first use, which races under concurrent requests.
	fc.ClientSecretsHasher = &fosite.BCrypt{Config: fc}
	// fosite's default would fetch client key sets over the network, from a cache whose
	// goroutines outlive the server; no client here authenticates with a JWT.
	fc.JWKSFetcherStrategy = noKeySets{}

	clients, scopes, err := registerClients(fc, cfg.Clients)
	if err != nil {
		return nil, err
	}
	users := make(map[string]string, len(cfg.Users))
	for i, u := range cfg.Users {
		if u.Username == "" {
			return nil, fmt.Errorf("authserver: user %d: empty username", i)
		}
		if _, dup := users[u.Username]; dup {
			return nil, fmt.Errorf("authserver: user %q: registered twice", u.Username)
		}
		users[u.Username] = u.Password
	}

	for i, k := range cfg.APIKeys {
		// Short keys could be guessed; the demo's keys are random text anyway.
		if len(k) < 16 {
			return nil, fmt.Errorf("authserver: API key %d: shorter than 16 characters", i)
		}
	}

	s := &Server{
		apiKeys:       newAPIKeys(cfg.APIKeys),
		now:           cfg.Now,
		store:         newMemoryStore(clients, users),
		scopes:        scopes,
		tokenRequests: make(map[string]int),
	}
	s.provider = compose.Compose(fc, s.store, compose.NewOAuth2HMACStrategy(fc),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory, // after the authorization code handler, which it needs
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		//lint:ignore SA1019 the password grant is deprecated, and asked for: tests cover it.
		compose.OAuth2ResourceOwnerPasswordCredentialsFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory, // for the protected API; not served as a route
	)
	s.handler = s.routes()
	return s, nil
}

// noKeySets is a fosite.JWKSFetcherStrategy that resolves nothing.
type noKeySets struct{}

func (noKeySets) Resolve(context.Context, string, bool) (*jose.JSONWebKeySet, error) {
	return nil, errors.New("authserver: client assertions (private_key_jwt) are not supported")
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

var knownGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPassword}

// registerClients checks the clients and turns them into fosite clients, with hashed secrets.
// It also returns every scope some client may ask for, sorted.
func registerClients(fc *fosite.Config, list []Client) (map[string]fosite.Client, []string, error) {
	clients := make(map[string]fosite.Client, len(list))
	scopes := map[string]bool{}
	for i, c := range list {
		if c.ID == "" {
			return nil, nil, fmt.Errorf("authserver: client %d: empty ID", i)
		}
		if _, dup := clients[c.ID]; dup {
			return nil, nil, fmt.Errorf("authserver: client %q: registered twice", c.ID)
		}
		grants := c.GrantTypes
		if len(grants) == 0 {
			grants = []string{GrantAuthorizationCode, GrantRefreshToken}
		}
		for _, g := range grants {
			if !slices.Contains(knownGrants, g) {
				return nil, nil, fmt.Errorf("authserver: client %q: unknown grant type %q", c.ID, g)
			}
		}
		if c.Secret == "" && slices.Contains(grants, GrantClientCredentials) {
			return nil, nil, fmt.Errorf("authserver: client %q: the client credentials grant needs a secret", c.ID)
		}
		if slices.Contains(grants, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
			return nil, nil, fmt.Errorf("authserver: client %q: the authorization code grant needs a redirect URI", c.ID)
		}
		for _, raw := range c.RedirectURIs {
			u, err := url.Parse(raw)
			if err != nil || !fosite.IsValidRedirectURI(u) {
				return nil, nil, fmt.Errorf("authserver: client %q: redirect URI %q is not an absolute URL without fragment", c.ID, raw)
			}
			if !fosite.IsRedirectURISecure(context.Background(), u) {
				return nil, nil, fmt.Errorf("authserver: client %q: redirect URI %q: http is only allowed for localhost", c.ID, raw)
			}
		}
		for _, sc := range c.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
				return nil, nil, fmt.Errorf("authserver: client %q: invalid scope %q", c.ID, sc)
			}
			scopes[sc] = true
		}
		dc := &fosite.DefaultClient{
			ID:            c.ID,
			Public:        c.Secret == "",
			RedirectURIs:  slices.Clone(c.RedirectURIs),
			GrantTypes:    slices.Clone(grants),
			ResponseTypes: []string{"code"},
			Scopes:        slices.Clone(c.Scopes),
		}
		if c.Secret != "" {
			h, err := fc.ClientSecretsHasher.Hash(context.Background(), []byte(c.Secret))
			if err != nil {
				return nil, nil, fmt.Errorf("authserver: client %q: hashing the secret: %w", c.ID, err)
			}
			dc.Secret = h
		}
		// The authorization response goes in the query: an explicit response_mode=query is
		// accepted, fragment and form_post are not.
		clients[c.ID] = &fosite.DefaultResponseModeClient{
			DefaultClient: dc,
			ResponseModes: []fosite.ResponseModeType{fosite.ResponseModeQuery},
		}
	}
	return clients, slices.Sorted(maps.Keys(scopes)), nil
}

// Handler returns the handler that serves the server's routes. It is the same handler on
// every call.
func (s *Server) Handler() http.Handler { return s.handler }

// SetIssuer sets the issuer identifier: the server's base URL, such as the URL of the
// httptest.Server that serves [Server.Handler]. It is sent as the iss parameter of
// authorization responses and as the issuer of the metadata document, whose endpoints are
// built on it. Until it is set, the issuer is taken from each request's scheme and Host.
func (s *Server) SetIssuer(issuer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer = issuer
}

// issuerFor returns the issuer set with SetIssuer, or one made from the request.
func (s *Server) issuerFor(r *http.Request) string {
	s.mu.Lock()
	iss := s.issuer
	s.mu.Unlock()
	if iss != "" {
		return iss
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// TokenRequests returns how many POST /token requests the server has received, by their
// grant_type parameter as sent (missing: ""), failed ones included. The map is a copy.
func (s *Server) TokenRequests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.tokenRequests)
}

func (s *Server) countTokenRequest(grantType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenRequests[grantType]++
}

// Decide makes the consent decision for authorizeURL, an authorization request URL of this
// server, as the consent page's form would: it runs POST /authorize through
// [Server.Handler] in-process, approving as username with password, or denying. It returns
// the redirect to the client: the redirect URI with code, state and iss, or with an error
// (error=access_denied when denied), state and iss. When the server does not redirect, the
// error matches [ErrNoRedirect]: an unknown client or redirect_uri, or wrong credentials.
func (s *Server) Decide(authorizeURL string, approve bool, username, password string) (*url.URL, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("authserver: authorize URL: %w", err)
	}
	action := "deny"
	if approve {
		action = "approve"
	}
	form := url.Values{
		fieldQuery:    {u.RawQuery},
		fieldAction:   {action},
		fieldUsername: {username},
		fieldPassword: {password},
	}
	target := *u
	target.RawQuery, target.Fragment = "", ""
	req := httptest.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)

	res := rec.Result()
	loc := res.Header.Get("Location")
	if res.StatusCode/100 == 3 && loc != "" {
		return res.Location()
	}
	if approve && !s.store.checkUser(username, password) {
		return nil, fmt.Errorf("%w: status %d: wrong username or password", ErrNoRedirect, res.StatusCode)
	}
	var oerr struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &oerr) == nil && oerr.Error != "" {
		return nil, fmt.Errorf("%w: status %d: %s: %s", ErrNoRedirect, res.StatusCode, oerr.Error, oerr.Description)
	}
	return nil, fmt.Errorf("%w: status %d", ErrNoRedirect, res.StatusCode)
}
