package authserver

import (
	"context"
	"crypto/subtle"
	"maps"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
)

// memoryStore is the fosite storage of a [Server]: clients, users, authorization codes, PKCE
// challenges, access and refresh tokens, all in maps behind one mutex.
//
// It differs from fosite's storage.MemoryStore in three ways:
//   - Every method holds the one mutex for its whole run, so each is atomic, and
//     InvalidateAuthorizeCodeSession fails for a code that is already invalidated: of two
//     exchanges of one code that both got past GetAuthorizeCodeSession, only one gets tokens.
//     (fosite's store reads and invalidates under separate locks and lets both through.)
//   - Requests are copied on the way in and on the way out, sessions included: fosite
//     writes to the requests it is handed, and concurrent requests must not share them.
//   - The Get methods of codes and tokens fill in the session they are passed, as fosite's
//     SQL stores do and its memory store does not: fosite checks the expiry of an authorization code on that
//     session, so with the memory store an expired code is refused late, with
//     invalid_request instead of invalid_grant.
//   - Authenticate returns the username as the subject, not a random UUID.
type memoryStore struct {
	mu      sync.Mutex
	clients map[string]fosite.Client
	users   map[string]string // username: password
	codes   map[string]entry
	pkces   map[string]fosite.Requester
	access  map[string]fosite.Requester
	refresh map[string]entry
}

// entry is a stored authorization code or refresh token: its request, whether it may still be
// used, and for a refresh token the signature of the access token issued with it.
type entry struct {
	req             fosite.Requester
	active          bool
	accessSignature string
}

var (
	_ fosite.Storage                                      = (*memoryStore)(nil)
	_ oauth2.CoreStorage                                  = (*memoryStore)(nil)
	_ oauth2.TokenRevocationStorage                       = (*memoryStore)(nil)
	_ oauth2.ResourceOwnerPasswordCredentialsGrantStorage = (*memoryStore)(nil)
	_ pkce.PKCERequestStorage                             = (*memoryStore)(nil)
)

func newMemoryStore(clients map[string]fosite.Client, users map[string]string) *memoryStore {
	return &memoryStore{
		clients: clients,
		users:   users,
		codes:   make(map[string]entry),
		pkces:   make(map[string]fosite.Requester),
		access:  make(map[string]fosite.Requester),
		refresh: make(map[string]entry),
	}
}

// copyRequest returns a copy of r that shares nothing mutable with it. fosite hands the store
// the *fosite.Request made by Requester.Sanitize; any other type is kept as it is.
func copyRequest(r fosite.Requester) fosite.Requester {
	req, ok := r.(*fosite.Request)
	if !ok || req == nil {
		return r
	}
	c := *req
	c.RequestedScope = slices.Clone(req.RequestedScope)
	c.GrantedScope = slices.Clone(req.GrantedScope)
	c.RequestedAudience = slices.Clone(req.RequestedAudience)
	c.GrantedAudience = slices.Clone(req.GrantedAudience)
	c.Form = make(url.Values, len(req.Form))
	for k, v := range req.Form {
		c.Form[k] = slices.Clone(v)
	}
	if req.Session != nil {
		c.Session = req.Session.Clone()
	}
	return &c
}

// hydrate fills in dst from the session of stored, when both are sessions of this package,
// the way fosite's SQL stores do by unmarshalling into it: subject and username are
// overwritten, expiry times are merged in, so those dst already has for other tokens stay.
func hydrate(dst fosite.Session, stored fosite.Requester) {
	d, ok := dst.(*session)
	if !ok || d == nil {
		return
	}
	src, ok := stored.GetSession().(*session)
	if !ok || src == nil {
		return
	}
	d.Subject, d.Username = src.Subject, src.Username
	if len(src.ExpiresAt) > 0 && d.ExpiresAt == nil {
		d.ExpiresAt = make(map[fosite.TokenType]time.Time, len(src.ExpiresAt))
	}
	maps.Copy(d.ExpiresAt, src.ExpiresAt)
}

// lookup returns a copy of the request of the entry under key and fills in sess from it:
// fosite.ErrNotFound for an unknown key, the request and inactive for a used or revoked one.
func lookup(m map[string]entry, key string, sess fosite.Session, inactive error) (fosite.Requester, error) {
	e, ok := m[key]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	hydrate(sess, e.req)
	if !e.active {
		return copyRequest(e.req), inactive
	}
	return copyRequest(e.req), nil
}

// deactivate marks the entry under key used and returns it: fosite.ErrNotFound for an unknown
// key, inactive and no change for one that is already used, so at most one use succeeds.
func deactivate(m map[string]entry, key string, inactive error) (entry, error) {
	e, ok := m[key]
	if !ok {
		return entry{}, fosite.ErrNotFound
	}
	if !e.active {
		return entry{}, inactive
	}
	e.active = false
	m[key] = e
	return e, nil
}

// GetClient returns the client with the given id, or fosite.ErrNotFound.
func (s *memoryStore) GetClient(_ context.Context, id string) (fosite.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return c, nil
}

// ClientAssertionJWTValid always reports the JTI as unknown: this server does not accept
// client assertions (private_key_jwt), so no JTI is ever recorded.
func (s *memoryStore) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT does nothing, see ClientAssertionJWTValid.
func (s *memoryStore) SetClientAssertionJWT(context.Context, string, time.Time) error { return nil }

// Authenticate checks a username and password and returns the username as the subject, or
// fosite.ErrNotFound.
func (s *memoryStore) Authenticate(_ context.Context, name, secret string) (string, error) {
	if !s.checkUser(name, secret) {
		return "", fosite.ErrNotFound.WithDebug("Invalid credentials")
	}
	return name, nil
}

// checkUser reports whether the user exists and has the password.
func (s *memoryStore) checkUser(name, password string) bool {
	s.mu.Lock()
	want, ok := s.users[name]
	s.mu.Unlock()
	// Compare even for an unknown user, so that timing says little about which users exist.
	eq := subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
	return ok && eq
}

// CreateAuthorizeCodeSession stores the request of a new, active authorization code.
func (s *memoryStore) CreateAuthorizeCodeSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = entry{req: copyRequest(req), active: true}
	return nil
}

// GetAuthorizeCodeSession returns the request of a code: fosite.ErrNotFound for an unknown
// code, the request and fosite.ErrInvalidatedAuthorizeCode for a used one.
func (s *memoryStore) GetAuthorizeCodeSession(_ context.Context, code string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookup(s.codes, code, sess, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession marks a code as used. It is atomic: for a code that is
// already used it returns fosite.ErrInvalidatedAuthorizeCode and changes nothing, so at most
// one exchange of a code succeeds.
func (s *memoryStore) InvalidateAuthorizeCodeSession(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := deactivate(s.codes, code, fosite.ErrInvalidatedAuthorizeCode)
	return err
}

// CreatePKCERequestSession stores the PKCE challenge of a code.
func (s *memoryStore) CreatePKCERequestSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkces[code] = copyRequest(req)
	return nil
}

// GetPKCERequestSession returns the PKCE challenge of a code, or fosite.ErrNotFound.
func (s *memoryStore) GetPKCERequestSession(_ context.Context, code string, _ fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pkces[code]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return copyRequest(r), nil
}

// DeletePKCERequestSession deletes the PKCE challenge of a code; a missing one is no error.
func (s *memoryStore) DeletePKCERequestSession(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pkces, code)
	return nil
}

// CreateAccessTokenSession stores the request of a new access token.
func (s *memoryStore) CreateAccessTokenSession(_ context.Context, signature string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[signature] = copyRequest(req)
	return nil
}

// GetAccessTokenSession returns the request of an access token, or fosite.ErrNotFound for an
// unknown or revoked one. Expiry is checked by fosite, not here.
func (s *memoryStore) GetAccessTokenSession(_ context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.access[signature]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	hydrate(sess, r)
	return copyRequest(r), nil
}

// DeleteAccessTokenSession deletes an access token; a missing one is no error.
func (s *memoryStore) DeleteAccessTokenSession(_ context.Context, signature string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.access, signature)
	return nil
}

// CreateRefreshTokenSession stores the request of a new, active refresh token and the
// signature of the access token issued with it.
func (s *memoryStore) CreateRefreshTokenSession(_ context.Context, signature, accessSignature string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[signature] = entry{req: copyRequest(req), active: true, accessSignature: accessSignature}
	return nil
}

// GetRefreshTokenSession returns the request of a refresh token: fosite.ErrNotFound for an
// unknown one, the request and fosite.ErrInactiveToken for a used or revoked one (fosite then
// treats the call as token reuse and revokes the whole grant).
func (s *memoryStore) GetRefreshTokenSession(_ context.Context, signature string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookup(s.refresh, signature, sess, fosite.ErrInactiveToken)
}

// DeleteRefreshTokenSession deletes a refresh token; a missing one is no error.
func (s *memoryStore) DeleteRefreshTokenSession(_ context.Context, signature string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refresh, signature)
	return nil
}

// RotateRefreshToken is called when a refresh token is used: it marks that token inactive and
// deletes the access token issued with it. It is atomic: for a token that is already inactive
// it returns fosite.ErrInactiveToken and changes nothing.
func (s *memoryStore) RotateRefreshToken(_ context.Context, _ string, signature string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := deactivate(s.refresh, signature, fosite.ErrInactiveToken)
	if err != nil {
		return err
	}
	delete(s.access, e.accessSignature)
	return nil
}

// RevokeRefreshToken marks every refresh token of the grant with the given request id
// inactive. A grant without refresh tokens is no error.
func (s *memoryStore) RevokeRefreshToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sig, e := range s.refresh {
		if e.req.GetID() == requestID {
			e.active = false
			s.refresh[sig] = e
		}
	}
	return nil
}

// RevokeAccessToken deletes every access token of the grant with the given request id. A
// grant without access tokens is no error.
func (s *memoryStore) RevokeAccessToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.access, func(_ string, r fosite.Requester) bool {
		return r.GetID() == requestID
	})
	return nil
}
