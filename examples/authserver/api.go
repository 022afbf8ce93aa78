package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// apiKeyHeader is the header the protected API reads an API key from.
const apiKeyHeader = "X-Api-Key"

// Me is what GET /api/me answers about the credential of the request.
type Me struct {
	// AuthenticatedBy is "accessToken" or "apiKey".
	AuthenticatedBy string `json:"authenticatedBy"`
	// Subject is the token's resource owner (the client id for the client credentials
	// grant), or "api-key-N" for the Nth key of Config.APIKeys, counted from 1.
	Subject string `json:"subject"`
	// ClientID is the client the access token was issued to; empty for an API key.
	ClientID string `json:"clientId,omitempty"`
	// Scopes are the scopes granted to the access token.
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresAt is when the access token expires, on the server's clock.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// apiKeys holds the SHA-256 of each API key, so that keys are compared in constant time
// whatever their length.
type apiKeys [][sha256.Size]byte

func newAPIKeys(keys []string) apiKeys {
	k := make(apiKeys, len(keys))
	for i, key := range keys {
		k[i] = sha256.Sum256([]byte(key))
	}
	return k
}

// find returns the index of key, or -1; it looks at every key, so that timing says nothing of
// which one matched.
func (k apiKeys) find(key string) int {
	d := sha256.Sum256([]byte(key))
	found := -1
	for i := range k {
		found = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(d[:], k[i][:]), i, found)
	}
	return found
}

// apiMe serves GET /api/me, the protected API: 200 with [Me] for a valid access token sent as
// "Authorization: Bearer" (RFC 6750) or a key of Config.APIKeys sent in X-Api-Key, 401
// otherwise. Nothing of the credential is ever echoed.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	authz, key := r.Header.Values("Authorization"), r.Header.Values(apiKeyHeader)
	switch {
	case len(authz)+len(key) > 1:
		// RFC 6750 section 3.1: more than one way of sending a credential is invalid_request.
		apiError(w, http.StatusBadRequest, "invalid_request", "send one credential, once")
	case len(key) == 1:
		i := s.apiKeys.find(key[0])
		if i < 0 {
			apiError(w, http.StatusUnauthorized, "invalid_token", "")
			return
		}
		writeJSON(w, http.StatusOK, Me{AuthenticatedBy: "apiKey", Subject: "api-key-" + strconv.Itoa(i+1)})
	case len(authz) == 1:
		scheme, token, ok := strings.Cut(authz[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			apiError(w, http.StatusUnauthorized, "invalid_request", "")
			return
		}
		sess := newSession(s.now, "")
		use, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, sess)
		// A refresh token is no bearer token: fosite's introspection accepts either.
		if err != nil || use != fosite.AccessToken {
			apiError(w, http.StatusUnauthorized, "invalid_token", "")
			return
		}
		writeJSON(w, http.StatusOK, Me{
			AuthenticatedBy: "accessToken",
			Subject:         ar.GetSession().GetSubject(),
			ClientID:        ar.GetClient().GetID(),
			Scopes:          ar.GetGrantedScopes(),
			ExpiresAt:       expiresAt(ar.GetSession()),
		})
	default:
		apiError(w, http.StatusUnauthorized, "", "")
	}
}

// expiresAt returns when the access token of a session expires, on the server's clock, as
// the session keeps it (GetExpiresAt would move it to the wall clock).
func expiresAt(sess fosite.Session) time.Time {
	if s, ok := sess.(*session); ok {
		// To the second: the session's clock moves it by the few microseconds the token
		// took to be issued.
		return s.ExpiresAt[fosite.AccessToken].UTC().Round(time.Second)
	}
	return time.Time{}
}

// apiError answers an API request with an RFC 6750 challenge and a JSON error. code is ""
// for a request without any credential, which gets a bare challenge (RFC 6750 section 3.1).
func apiError(w http.ResponseWriter, status int, code, description string) {
	challenge := `Bearer realm="authserver"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if code == "" {
		code = "missing_credentials"
	}
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
