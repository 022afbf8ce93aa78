package connect

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/connectkit/connect/internal/syntax"
	"github.com/connectkit/connect/providers"
)

// Status is a connection's state, as Ampersand reports it.
type Status string

// The connection statuses.
const (
	// StatusCreated: the credentials are stored but have not been used yet (an API key,
	// basic credentials or imported tokens).
	StatusCreated Status = "created"
	// StatusWorking: the provider accepted the credentials (a code exchange, a client
	// credentials or password grant, or a refresh succeeded).
	StatusWorking Status = "working"
	// StatusBadCredentials: the provider refused the credentials (e.g. invalid_grant on
	// refresh); the user must connect again. The connection is kept.
	StatusBadCredentials Status = "bad_credentials"
)

// AuthScheme is how a connection authenticates, named as Ampersand names them.
type AuthScheme string

// The authentication schemes.
const (
	AuthSchemeOAuth2AuthorizationCode AuthScheme = "oauth2/authorizationCode"
	AuthSchemeOAuth2ClientCredentials AuthScheme = "oauth2/clientCredentials"
	AuthSchemeOAuth2Password          AuthScheme = "oauth2/password"
	AuthSchemeAPIKey                  AuthScheme = "apiKey"
	AuthSchemeBasic                   AuthScheme = "basic"
	AuthSchemeCustom                  AuthScheme = "custom"
)

// isOAuth2 reports whether the scheme keeps OAuth tokens.
func (s AuthScheme) isOAuth2() bool {
	switch s {
	case AuthSchemeOAuth2AuthorizationCode, AuthSchemeOAuth2ClientCredentials, AuthSchemeOAuth2Password:
		return true
	}
	return false
}

// Group is the organisation or team of the caller's that a connection belongs to.
type Group struct {
	Ref  string `json:"groupRef"`
	Name string `json:"groupName"`
}

// Consumer is the caller's user whose credentials a connection holds.
type Consumer struct {
	Ref  string `json:"consumerRef"`
	Name string `json:"consumerName"`
}

// ConnectionApp names the provider app a connection was made with.
type ConnectionApp struct {
	ID       string `json:"id"`
	ClientID string `json:"clientId"`
}

// Connection is a connection to a provider, with Ampersand's fields. It holds no secret:
// its credentials are kept apart, sealed, in the [ConnectionStore], and are reached only
// through [Connector.TokenSource] and [Connector.Credentials].
type Connection struct {
	ID                   string           `json:"id"`
	ProjectID            string           `json:"projectId"`
	Provider             string           `json:"provider"`
	Group                Group            `json:"group"`
	Consumer             Consumer         `json:"consumer"`
	ProviderWorkspaceRef string           `json:"providerWorkspaceRef,omitempty"`
	ProviderMetadata     ProviderMetadata `json:"providerMetadata,omitempty"`
	ProviderApp          *ConnectionApp   `json:"providerApp,omitempty"`
	AuthScheme           AuthScheme       `json:"authScheme"`
	Status               Status           `json:"status"`
	Scopes               []string         `json:"scopes,omitempty"`
	CreateTime           time.Time        `json:"createTime"`
	UpdateTime           time.Time        `json:"updateTime"`
}

// clone returns a deep copy, so that callers never share a stored connection's maps.
func (c *Connection) clone() *Connection {
	out := *c
	out.Scopes = slices.Clone(c.Scopes)
	if c.ProviderMetadata != nil {
		out.ProviderMetadata = make(ProviderMetadata, len(c.ProviderMetadata))
		for k, v := range c.ProviderMetadata {
			out.ProviderMetadata[k] = v
		}
	}
	if c.ProviderApp != nil {
		app := *c.ProviderApp
		out.ProviderApp = &app
	}
	return &out
}

// ConnectionRecord is what a [ConnectionStore] keeps: the connection, its credentials as
// ciphertext, and a version for optimistic concurrency.
type ConnectionRecord struct {
	Connection Connection
	// Credentials are the sealed credentials: ciphertext bound to the connection's project,
	// provider and id (see [Config].Keyring). A store keeps them as opaque bytes.
	Credentials []byte
	// Version counts the record's updates; [ConnectionStore.Put] compares and bumps it.
	Version int64
}

// Clone returns a deep copy of the record.
func (r *ConnectionRecord) Clone() *ConnectionRecord {
	return &ConnectionRecord{Connection: *r.Connection.clone(), Credentials: slices.Clone(r.Credentials), Version: r.Version}
}

// ConnectionFilter selects connections of a project; empty fields match any value.
type ConnectionFilter struct {
	Provider    string
	GroupRef    string
	ConsumerRef string
}

func (f ConnectionFilter) match(c *Connection) bool {
	return (f.Provider == "" || f.Provider == c.Provider) &&
		(f.GroupRef == "" || f.GroupRef == c.Group.Ref) &&
		(f.ConsumerRef == "" || f.ConsumerRef == c.Consumer.Ref)
}

// ConnectionStore keeps connection records. Every method is scoped by project: a record of
// one project is never read, changed or deleted through another. Implementations must be
// safe for concurrent use.
type ConnectionStore interface {
	// Put saves rec, comparing versions: a rec.Version of 0 creates the record and fails
	// with ErrConflict if its id exists in any project, or if the project already has a
	// connection with the same provider, group ref, consumer ref and workspace (a unique key:
	// one connection per identity); otherwise the stored record must
	// have the same project and rec.Version, or Put fails with ErrConflict (or
	// ErrConnectionNotFound when there is none). On success the stored version is
	// rec.Version+1 and Put sets rec.Version to it. The store keeps its own copy of rec.
	Put(ctx context.Context, rec *ConnectionRecord) error
	// Get returns a copy of the record with id in the project, or ErrConnectionNotFound.
	// An empty projectID looks the id up in every project: ids are unique.
	Get(ctx context.Context, projectID, id string) (*ConnectionRecord, error)
	// List returns copies of the project's records that match f, oldest first (by
	// creation time, then id).
	List(ctx context.Context, projectID string, f ConnectionFilter) ([]*ConnectionRecord, error)
	// Delete removes the record with id in the project, or returns ErrConnectionNotFound.
	Delete(ctx context.Context, projectID, id string) error
}

// PersistentStore is an optional capability of a [ConnectionStore]: a store whose records
// outlive the process says so, and [New] then refuses to run without a keyring, so that
// credentials are never written to it in plaintext.
type PersistentStore interface {
	Persistent() bool
}

// MemoryConnectionStore is a [ConnectionStore] held in memory, for tests, demos and single
// processes. Its records are lost when the process ends.
type MemoryConnectionStore struct {
	mu      sync.RWMutex
	records map[string]*ConnectionRecord   // by id
	owners  map[owner]map[string]struct{}  // ids by project, group and consumer
	project map[string]map[string]struct{} // ids by project
}

// owner is the key of the index by project, group and consumer.
type owner struct{ project, group, consumer string }

func ownerOf(c *Connection) owner { return owner{c.ProjectID, c.Group.Ref, c.Consumer.Ref} }

// NewMemoryConnectionStore returns an empty store.
func NewMemoryConnectionStore() *MemoryConnectionStore {
	return &MemoryConnectionStore{
		records: map[string]*ConnectionRecord{},
		owners:  map[owner]map[string]struct{}{},
		project: map[string]map[string]struct{}{},
	}
}

// index adds or removes a record from the indexes; s.mu must be held.
func (s *MemoryConnectionStore) index(r *ConnectionRecord, add bool) {
	id := r.Connection.ID
	o := ownerOf(&r.Connection)
	if add {
		if s.owners[o] == nil {
			s.owners[o] = map[string]struct{}{}
		}
		if s.project[o.project] == nil {
			s.project[o.project] = map[string]struct{}{}
		}
		s.owners[o][id] = struct{}{}
		s.project[o.project][id] = struct{}{}
		return
	}
	delete(s.owners[o], id)
	if len(s.owners[o]) == 0 {
		delete(s.owners, o)
	}
	delete(s.project[o.project], id)
	if len(s.project[o.project]) == 0 {
		delete(s.project, o.project)
	}
}

// Put implements [ConnectionStore].
func (s *MemoryConnectionStore) Put(ctx context.Context, rec *ConnectionRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec == nil || rec.Connection.ID == "" || rec.Connection.ProjectID == "" {
		return fmt.Errorf("connect: a connection record needs an id and a project")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[rec.Connection.ID]
	switch {
	case rec.Version == 0 && ok:
		return fmt.Errorf("%w: connection %s exists", ErrConflict, rec.Connection.ID)
	case rec.Version == 0 && s.sameIdentityLocked(&rec.Connection):
		return fmt.Errorf("%w: the consumer already has this connection", ErrConflict)
	case rec.Version != 0 && (!ok || old.Connection.ProjectID != rec.Connection.ProjectID):
		return ErrConnectionNotFound
	case rec.Version != 0 && old.Version != rec.Version:
		return fmt.Errorf("%w: connection %s is at version %d, not %d", ErrConflict, rec.Connection.ID, old.Version, rec.Version)
	}
	stored := rec.Clone()
	stored.Version++
	reindex := !ok || ownerOf(&old.Connection) != ownerOf(&stored.Connection)
	if ok && reindex {
		s.index(old, false)
	}
	s.records[rec.Connection.ID] = stored
	if reindex {
		s.index(stored, true)
	}
	rec.Version = stored.Version
	return nil
}

// sameIdentityLocked reports whether another record has c's project, provider, group,
// consumer and workspace; s.mu must be held.
func (s *MemoryConnectionStore) sameIdentityLocked(c *Connection) bool {
	for id := range s.owners[ownerOf(c)] {
		r := s.records[id]
		if id != c.ID && r.Connection.Provider == c.Provider && r.Connection.ProviderWorkspaceRef == c.ProviderWorkspaceRef {
			return true
		}
	}
	return false
}

// Get implements [ConnectionStore].
func (s *MemoryConnectionStore) Get(ctx context.Context, projectID, id string) (*ConnectionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.records[id]
	if !ok || (projectID != "" && r.Connection.ProjectID != projectID) {
		return nil, ErrConnectionNotFound
	}
	return r.Clone(), nil
}

// List implements [ConnectionStore].
func (s *MemoryConnectionStore) List(ctx context.Context, projectID string, f ConnectionFilter) ([]*ConnectionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	ids := s.project[projectID]
	if f.GroupRef != "" && f.ConsumerRef != "" {
		ids = s.owners[owner{projectID, f.GroupRef, f.ConsumerRef}]
	}
	var out []*ConnectionRecord
	for id := range ids {
		if r := s.records[id]; f.match(&r.Connection) {
			out = append(out, r.Clone())
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *ConnectionRecord) int {
		return cmp.Or(a.Connection.CreateTime.Compare(b.Connection.CreateTime), cmp.Compare(a.Connection.ID, b.Connection.ID))
	})
	return out, nil
}

// Delete implements [ConnectionStore].
func (s *MemoryConnectionStore) Delete(ctx context.Context, projectID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok || r.Connection.ProjectID != projectID {
		return ErrConnectionNotFound
	}
	s.index(r, false)
	delete(s.records, id)
	return nil
}

// maxPutAttempts bounds the retries of an update that lost a race; maxUpsertAttempts those
// of saving a connection that a flow or a request just made, which many callbacks of one
// consumer may race to save.
const (
	maxPutAttempts    = 5
	maxUpsertAttempts = 64
)

// newConnectionID returns a random UUID (version 4) from the Connector's random source.
func (c *Connector) newConnectionID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return "", fmt.Errorf("%w: %v", ErrRandom, err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:], b[10:])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:]), nil
}

// upsert saves a connection made by a flow or from credentials: it updates the connection
// that the group and consumer already have with the provider and workspace, or creates one.
// conn carries the new fields; its ID, CreateTime and UpdateTime are set here.
func (c *Connector) upsert(ctx context.Context, conn *Connection, cr *credentials) (*Connection, error) {
	knownID := "" // the id of the existing connection, once one is known
	for range maxUpsertAttempts {
		sctx, cancel := c.storeContext(ctx)
		var existing *ConnectionRecord
		var err error
		if knownID != "" {
			// After a lost race the connection is known: read it again by its id.
			existing, err = c.connections.Get(sctx, conn.ProjectID, knownID)
			if errors.Is(err, ErrConnectionNotFound) {
				existing, err, knownID = nil, nil, "" // deleted meanwhile: create it again
			} else if err != nil {
				err = fmt.Errorf("%w: reading the connection: %w", ErrStoreUnavailable, err)
			}
		} else {
			existing, err = c.findConnection(sctx, conn)
		}
		if err != nil {
			cancel()
			return nil, err
		}
		now := c.now()
		rec := &ConnectionRecord{Connection: *conn}
		created := existing == nil
		if created {
			if rec.Connection.ID, err = c.newConnectionID(); err != nil {
				cancel()
				return nil, err
			}
			rec.Connection.CreateTime = now
		} else {
			knownID = existing.Connection.ID
			rec.Connection.ID = existing.Connection.ID
			rec.Connection.CreateTime = existing.Connection.CreateTime
			rec.Version = existing.Version
		}
		rec.Connection.UpdateTime = now
		if rec.Credentials, err = seal(c.keys, &rec.Connection, cr); err != nil {
			cancel()
			return nil, err
		}
		err = c.connections.Put(sctx, rec)
		cancel()
		switch {
		case errors.Is(err, ErrConflict):
			continue // another request saved the same connection meanwhile: read it again
		case err != nil:
			err = fmt.Errorf("%w: saving the connection: %w", ErrStoreUnavailable, err)
			c.emit(ctx, EventConnectionError, conn.ProjectID, conn.Provider, nil, err)
			return nil, err
		}
		t := EventConnectionUpdated
		if created {
			t = EventConnectionCreated
		}
		c.emit(ctx, t, conn.ProjectID, conn.Provider, &rec.Connection, nil)
		return &rec.Connection, nil // the store keeps a copy of its own
	}
	err := fmt.Errorf("%w: saving the connection kept losing to concurrent updates", ErrConflict)
	c.emit(ctx, EventConnectionError, conn.ProjectID, conn.Provider, nil, err)
	return nil, err
}

// findConnection returns the record of the connection with conn's project, provider, group,
// consumer and workspace, or nil.
func (c *Connector) findConnection(ctx context.Context, conn *Connection) (*ConnectionRecord, error) {
	recs, err := c.connections.List(ctx, conn.ProjectID, ConnectionFilter{
		Provider: conn.Provider, GroupRef: conn.Group.Ref, ConsumerRef: conn.Consumer.Ref,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: listing connections: %w", ErrStoreUnavailable, err)
	}
	for _, r := range recs {
		if r.Connection.ProviderWorkspaceRef == conn.ProviderWorkspaceRef {
			return r, nil
		}
	}
	return nil, nil
}

// checkIDs checks the project and connection ids of a call before any store sees them.
func checkIDs(projectID, id string) error {
	var fields []FieldError
	if projectID == "" {
		fields = append(fields, FieldError{Field: "projectId", Message: "required"})
	} else if len(projectID) > 255 || !syntax.Ident(projectID) {
		fields = append(fields, FieldError{Field: "projectId", Message: "must be letters, digits and . _ : @ - (at most 255)"})
	}
	if err := checkConnectionID(id); err != nil {
		fields = append(fields, FieldError{Field: "id", Message: err.Error()})
	}
	if fields != nil {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// checkConnectionID checks a connection id: 1 to 255 identifier characters.
func checkConnectionID(id string) error {
	if id == "" || len(id) > 255 || !syntax.Ident(id) {
		return errors.New("must be 1 to 255 letters, digits and . _ : @ -")
	}
	return nil
}

// storeError keeps ErrConnectionNotFound and wraps any other store failure.
func storeError(err error) error {
	if errors.Is(err, ErrConnectionNotFound) {
		return ErrConnectionNotFound
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// record reads the project's connection record with the id, after checking both ids.
func (c *Connector) record(ctx context.Context, projectID, id string) (*ConnectionRecord, error) {
	if err := checkIDs(projectID, id); err != nil {
		return nil, err
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	rec, err := c.connections.Get(sctx, projectID, id)
	if err != nil {
		return nil, storeError(err)
	}
	return rec, nil
}

// Connection returns the project's connection with the id, or an error matching
// ErrConnectionNotFound.
func (c *Connector) Connection(ctx context.Context, projectID, id string) (*Connection, error) {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return &rec.Connection, nil
}

// Connections returns the project's connections that match f, oldest first.
func (c *Connector) Connections(ctx context.Context, projectID string, f ConnectionFilter) ([]*Connection, error) {
	if projectID == "" {
		return nil, invalid("projectId", "required", nil)
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	recs, err := c.connections.List(sctx, projectID, f)
	if err != nil {
		return nil, storeError(err)
	}
	out := make([]*Connection, len(recs))
	for i, r := range recs {
		out[i] = &r.Connection
	}
	return out, nil
}

// DeleteConnection deletes the project's connection with the id. An OAuth connection's grant
// is first revoked at the provider's revocation endpoint, if it has one, best effort: the
// connection is deleted even when revocation fails, and the deletion event says whether it
// succeeded (see [Event].Revocation). Once it returns, the token sources and clients of this
// Connector no longer send the connection's credentials, and [Connector.Credentials] finds no
// connection; those of other Connectors sharing the store stop at their next store read (see
// [Connector.TokenSource]).
func (c *Connector) DeleteConnection(ctx context.Context, projectID, id string) error {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return err
	}
	revocation, revokeErr := c.revoke(ctx, rec)
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	err = c.connections.Delete(sctx, projectID, id)
	// Even after a failure, which may have come after the record was deleted, the token
	// sources read the store again.
	c.deletions.n.Add(1)
	if err != nil {
		return storeError(err)
	}
	c.emitEvent(ctx, Event{Type: EventConnectionDeleted, ProjectID: projectID, Provider: rec.Connection.Provider,
		Connection: &rec.Connection, Revocation: revocation, Err: revokeErr})
	return nil
}

// RevocationTimeout bounds the revocation request of [Connector.DeleteConnection].
const RevocationTimeout = 10 * time.Second

// revoke revokes a connection's grant at its provider's revocation endpoint, if it has one:
// the refresh token, which revokes the grant's access tokens with it (RFC 7009 §2.1), else
// the access token. It reports what became of the grant and why revocation failed.
func (c *Connector) revoke(ctx context.Context, rec *ConnectionRecord) (Revocation, error) {
	conn := &rec.Connection
	p, ok := c.providers.Lookup(conn.Provider)
	if !ok || p.RevocationURL == "" || !conn.AuthScheme.isOAuth2() {
		return RevocationNone, nil
	}
	cr, err := open(c.keys, rec)
	if err != nil {
		return RevocationFailed, err
	}
	endpoint, err := p.RevocationEndpoint(conn.values())
	if err != nil {
		return RevocationFailed, fmt.Errorf("%w: the revocation URL cannot be resolved for the connection", ErrRevocationFailed)
	}
	rctx, cancel := context.WithTimeout(ctx, RevocationTimeout)
	defer cancel()
	req, secrets, err := c.revocationRequest(rctx, p, rec, cr, endpoint)
	if req == nil || err != nil {
		return RevocationNone, err
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return RevocationFailed, fmt.Errorf("%w: %w", ErrRevocationFailed, withhold(err, secrets, "the request failed"))
	}
	discard(resp)
	if resp.StatusCode != http.StatusOK {
		return RevocationFailed, fmt.Errorf("%w: the revocation endpoint answered %d", ErrRevocationFailed, resp.StatusCode)
	}
	return RevocationSucceeded, nil
}

// revocationRequest is the request that revokes the connection's grant in the provider's
// style, with the secrets it carries; nil when the connection has no token to revoke.
func (c *Connector) revocationRequest(ctx context.Context, p *providers.Provider, rec *ConnectionRecord, cr *credentials,
	endpoint string) (*http.Request, []string, error) {
	if p.RevocationStyle == providers.RevokeBearer {
		if cr.AccessToken == "" {
			return nil, nil, nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrRevocationFailed, err)
		}
		req.Header.Set("Authorization", "Bearer "+cr.AccessToken)
		return req, []string{cr.AccessToken}, nil
	}
	token, hint := cr.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = cr.AccessToken, "access_token"
	}
	if token == "" {
		return nil, nil, nil
	}
	id, secret, err := c.oauthClient(ctx, rec, cr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRevocationFailed, err)
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	basic := p.TokenAuth != providers.TokenAuthParams && secret != ""
	if !basic {
		form.Set(cmp.Or(p.ClientIDParam, "client_id"), id)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRevocationFailed, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return req, []string{token, secret, cr.AccessToken}, nil
}

// Credentials are the secrets of a connection made from an API key, basic credentials or
// custom auth fields, for the backend's requests to the provider. OAuth connections give
// tokens through [Connector.TokenSource] instead.
type Credentials struct {
	AuthScheme AuthScheme
	APIKey     Secret
	Username   string
	Password   Secret
	Custom     map[string]Secret
}

// recordCredentials reads the project's connection with the id and opens its credentials.
func (c *Connector) recordCredentials(ctx context.Context, projectID, id string) (*ConnectionRecord, *credentials, error) {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return nil, nil, err
	}
	cr, err := open(c.keys, rec)
	if err != nil {
		return nil, nil, err
	}
	return rec, cr, nil
}

// Credentials returns the credentials of the project's connection with the id.
func (c *Connector) Credentials(ctx context.Context, projectID, id string) (*Credentials, error) {
	rec, cr, err := c.recordCredentials(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	out := &Credentials{AuthScheme: rec.Connection.AuthScheme, APIKey: Secret(cr.APIKey), Username: cr.Username, Password: Secret(cr.Password)}
	if cr.Custom != nil {
		out.Custom = make(map[string]Secret, len(cr.Custom))
		for k, v := range cr.Custom {
			out.Custom[k] = Secret(v)
		}
	}
	return out, nil
}

// ReencryptConnections seals again, with the keyring's primary key, the credentials of the
// project's connections that were sealed with another key or in an older record format,
// and returns how many it re-sealed. It can be stopped and run again at any time: a record
// is re-sealed at most once and never lost. Remove an old key from the keyring only once
// this has run for every project.
func (c *Connector) ReencryptConnections(ctx context.Context, projectID string) (int, error) {
	if c.keys == nil {
		return 0, errors.New("connect: no keyring is configured")
	}
	sctx, cancel := c.storeContext(ctx)
	recs, err := c.connections.List(sctx, projectID, ConnectionFilter{})
	cancel()
	if err != nil {
		return 0, storeError(err)
	}
	n := 0
	var errs []error
	for _, rec := range recs {
		resealed, err := c.reseal(ctx, projectID, rec)
		if err != nil {
			// Go on with the other records; the run can be repeated once this one is fixed.
			errs = append(errs, fmt.Errorf("connection %s: %w", rec.Connection.ID, err))
		}
		if resealed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// reseal seals a record's credentials again with the primary key, if they need it.
func (c *Connector) reseal(ctx context.Context, projectID string, rec *ConnectionRecord) (bool, error) {
	for range maxPutAttempts {
		if !needsReseal(c.keys, rec) {
			return false, nil
		}
		cr, err := open(c.keys, rec)
		if err != nil {
			return false, err
		}
		if rec.Credentials, err = seal(c.keys, &rec.Connection, cr); err != nil {
			return false, err
		}
		sctx, cancel := c.storeContext(ctx)
		err = c.connections.Put(sctx, rec)
		if errors.Is(err, ErrConflict) {
			rec, err = c.connections.Get(sctx, projectID, rec.Connection.ID)
			cancel()
			if errors.Is(err, ErrConnectionNotFound) {
				return false, nil
			}
			if err != nil {
				return false, storeError(err)
			}
			continue
		}
		cancel()
		if err != nil {
			return false, storeError(err)
		}
		return true, nil
	}
	return false, ErrConflict
}
