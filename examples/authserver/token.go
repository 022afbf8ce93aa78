package authserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// token serves POST /token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	// fosite parses the form again and reports a bad one; here it is only read for counting
	// and locking.
	_ = r.ParseForm()
	grantType := r.PostForm.Get("grant_type")
	s.countTokenRequest(grantType)

	// Redemptions of one code or one refresh token run one at a time: each sees the result of
	// the one before, so a replay is refused with invalid_grant (and fosite revokes the grant).
	switch grantType {
	case GrantAuthorizationCode:
		defer s.grants.lock("code " + r.PostForm.Get("code"))()
	case GrantRefreshToken:
		defer s.grants.lock("refresh " + r.PostForm.Get("refresh_token"))()
	}

	sess := newSession(s.now, "")
	ar, err := s.provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	// The authorization code and refresh token grants carry the scopes granted on the consent
	// page; the other two grant what is asked for, which fosite has checked against the
	// client's scopes.
	if ar.GetGrantTypes().ExactOne(GrantClientCredentials) || ar.GetGrantTypes().ExactOne(GrantPassword) {
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
	}
	if ar.GetGrantTypes().ExactOne(GrantClientCredentials) {
		sess.SetSubject(ar.GetClient().GetID())
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// revoke serves POST /revoke (RFC 7009). Revoking either token of a grant revokes all the
// grant's tokens.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	s.provider.WriteRevocationResponse(ctx, w, s.provider.NewRevocationRequest(ctx, r))
}

// metadataDoc is the RFC 8414 authorization server metadata document.
type metadataDoc struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// metadata serves GET /.well-known/oauth-authorization-server.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	iss := s.issuerFor(r)
	base := strings.TrimSuffix(iss, "/")
	auth := []string{"client_secret_basic", "client_secret_post", "none"}
	md := metadataDoc{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      base + "/authorize",
		TokenEndpoint:                              base + "/token",
		RevocationEndpoint:                         base + "/revoke",
		ScopesSupported:                            s.scopes,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        knownGrants,
		TokenEndpointAuthMethodsSupported:          auth,
		RevocationEndpointAuthMethodsSupported:     auth,
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(md)
}

// keyedMutex is a set of mutexes by key, made on first use and dropped when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int // holders and waiters
}

// lock locks the mutex of key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
