package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// maxCustomValue is the default cap on a custom auth field's value.
const maxCustomValue = 4096

// Connect makes a connection from credentials the caller already has (Ampersand's
// ConnectionRequest): an API key, basic credentials, custom auth fields checked against the
// provider's schema, an OAuth client for the client credentials grant (a token is fetched
// now; no refresh token is kept), a user's password for the password grant (only for
// providers that declare it; the password is used once and never stored), or tokens
// obtained elsewhere. Exactly one kind must be set, and one the provider accepts.
//
// The connection the same group and consumer already have with the provider and workspace
// is updated rather than duplicated. Nothing is stored on any failure.
//
// When the request's Verify or [Config].VerifyOnConnect asks for it, the provider's
// verification request is made with the credentials first (see [Connector.Verify]): a
// credential the provider refuses stores nothing and fails with [ErrBadCredentials].
func (c *Connector) Connect(ctx context.Context, req ConnectionRequest) (*Connection, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	kind, field, scheme := req.kind()
	p, values, _, tokenURL, err := c.resolveProvider(req.Provider, kind, field, req.ProviderWorkspaceRef, req.ProviderMetadata)
	if err != nil {
		return nil, err
	}
	refreshURL, err := p.RefreshEndpoint(values)
	if err != nil {
		return nil, inputError(err)
	}
	conn := newConnection(&req, p, values, scheme)
	cr := &credentials{TokenURL: tokenURL, RefreshURL: refreshURL, ObtainedAt: c.now()}
	if err := c.takeCredentials(ctx, &req, kind, p, conn, cr); err != nil {
		return nil, err
	}
	if req.Verify || c.verifyAll {
		if err := c.verifyNew(ctx, p, conn, cr, req.Verify); err != nil {
			return nil, err
		}
	}
	return c.upsert(ctx, conn, cr)
}

// newConnection is the connection a request describes, before its credentials are taken.
func newConnection(req *ConnectionRequest, p *providers.Provider, values metadata.Values, scheme AuthScheme) *Connection {
	conn := &Connection{
		ProjectID:            req.ProjectID,
		Provider:             p.Name,
		Group:                Group{Ref: req.GroupRef, Name: orDefault(req.GroupName, req.GroupRef)},
		Consumer:             Consumer{Ref: req.ConsumerRef, Name: orDefault(req.ConsumerName, req.ConsumerRef)},
		ProviderWorkspaceRef: values["workspace"],
		AuthScheme:           scheme,
		Status:               StatusCreated,
	}
	for k, v := range metadataOnly(values) {
		conn.providerMetadata()[k] = MetadataValue{Value: v, Source: "input"}
	}
	return conn
}

// takeCredentials puts the request's credentials of the kind into cr, running the grant
// the kind names, and sets what the grant tells of the connection.
func (c *Connector) takeCredentials(ctx context.Context, req *ConnectionRequest, kind providers.AuthKind,
	p *providers.Provider, conn *Connection, cr *credentials) error {
	var err error
	switch kind {
	case providers.APIKey:
		cr.APIKey = req.APIKey.Reveal()
	case providers.BasicAuth:
		cr.Username, cr.Password = req.BasicAuth.Username, req.BasicAuth.Password.Reveal()
	case providers.CustomAuth:
		cr.Custom, err = checkCustomAuth(p, req.CustomAuth)
	case providers.OAuth2ClientCredentials:
		err = c.grantClientCredentials(ctx, req.OAuth2ClientCredentials, p, conn, cr)
	case providers.OAuth2PasswordCredentials:
		err = c.grantPassword(ctx, req.OAuth2PasswordCredentials, p, conn, cr)
	case providers.OAuth2AuthorizationCode:
		err = c.importTokens(ctx, req.OAuth2AuthorizationCode, p, conn, cr)
	}
	return err
}

// grantClientCredentials fetches a token with the client credentials grant.
func (c *Connector) grantClientCredentials(ctx context.Context, cc *OAuth2ClientCredentials, p *providers.Provider,
	conn *Connection, cr *credentials) error {
	if err := checkScopeList("oauth2ClientCredentials.scopes", cc.Scopes, p.Separator()); err != nil {
		return err
	}
	cr.ClientID, cr.ClientSecret, cr.Scopes = cc.ClientID, cc.ClientSecret.Reveal(), cc.Scopes
	tok, err := c.clientCredentialsToken(ctx, p, cr)
	if err != nil {
		c.emit(ctx, EventConnectionError, conn.ProjectID, p.Name, nil, err)
		return err
	}
	cr.AccessToken, cr.TokenType, cr.Expiry = tok.AccessToken, tok.TokenType, c.expiry(tok)
	conn.Status, conn.Scopes = StatusWorking, grantedScopes(tok, cc.Scopes, p.Separator())
	// The API may be on a host the token response names, as Salesforce's instance_url.
	return readTokenMetadata(p, tok, conn.providerMetadata())
}

// grantPassword fetches a token with the password grant; the password is used once and
// never kept.
func (c *Connector) grantPassword(ctx context.Context, pc *OAuth2PasswordCredentials, p *providers.Provider,
	conn *Connection, cr *credentials) error {
	if err := checkScopeList("oauth2PasswordCredentials.scopes", pc.Scopes, p.Separator()); err != nil {
		return err
	}
	cfg := oauth2.Config{
		ClientID: pc.ClientID, ClientSecret: pc.ClientSecret.Reveal(), Scopes: pc.Scopes,
		Endpoint: oauth2.Endpoint{TokenURL: cr.TokenURL, AuthStyle: authStyle(p)},
	}
	tok, err := cfg.PasswordCredentialsToken(c.clientContext(ctx, p), pc.Username, pc.Password.Reveal())
	if err == nil {
		err = checkToken(tok)
	} else {
		err = tokenError(err, pc.Password.Reveal(), pc.ClientSecret.Reveal(), pc.Username)
	}
	if err != nil {
		c.emit(ctx, EventConnectionError, conn.ProjectID, p.Name, nil, err)
		return err
	}
	cr.ClientID, cr.ClientSecret, cr.Scopes = pc.ClientID, pc.ClientSecret.Reveal(), pc.Scopes
	cr.AccessToken, cr.RefreshToken, cr.TokenType, cr.Expiry = tok.AccessToken, tok.RefreshToken, tok.TokenType, c.expiry(tok)
	conn.Status, conn.Scopes = StatusWorking, grantedScopes(tok, pc.Scopes, p.Separator())
	return readTokenMetadata(p, tok, conn.providerMetadata())
}

// importTokens takes tokens obtained elsewhere. Refreshing them needs the client: the
// project's default app for the provider.
func (c *Connector) importTokens(ctx context.Context, ac *OAuth2AuthorizationCode, p *providers.Provider,
	conn *Connection, cr *credentials) error {
	if err := checkScopeList("oauth2AuthorizationCode.scopes", ac.Scopes, p.Separator()); err != nil {
		return err
	}
	cr.AccessToken = ac.AccessToken.Token.Reveal()
	if ac.AccessToken.ExpiresAt != nil {
		cr.Expiry = *ac.AccessToken.ExpiresAt
	}
	if ac.RefreshToken != nil {
		cr.RefreshToken = ac.RefreshToken.Token.Reveal()
	}
	conn.Scopes = ac.Scopes
	sctx, cancel := c.storeContext(ctx)
	app, err := c.apps.App(sctx, conn.ProjectID, p.Name, "")
	cancel()
	switch {
	case err == nil:
		conn.ProviderApp = &ConnectionApp{ID: app.ID, ClientID: app.ClientID}
	case !errors.Is(err, ErrAppNotFound):
		return fmt.Errorf("%w: looking up the provider app: %w", ErrStoreUnavailable, err)
	case cr.RefreshToken != "":
		return invalid("oauth2AuthorizationCode.refreshToken", "refreshing needs a provider app for "+p.Name+" in the project", ErrAppNotFound)
	}
	return nil
}

// providerMetadata returns the connection's metadata map, making it if needed.
func (c *Connection) providerMetadata() ProviderMetadata {
	if c.ProviderMetadata == nil {
		c.ProviderMetadata = ProviderMetadata{}
	}
	return c.ProviderMetadata
}

// kind returns the credential kind of a validated request, its JSON field and the
// connection's auth scheme.
func (r *ConnectionRequest) kind() (providers.AuthKind, string, AuthScheme) {
	switch {
	case r.APIKey != "":
		return providers.APIKey, "apiKey", AuthSchemeAPIKey
	case r.BasicAuth != nil:
		return providers.BasicAuth, "basicAuth", AuthSchemeBasic
	case r.CustomAuth != nil:
		return providers.CustomAuth, "customAuth", AuthSchemeCustom
	case r.OAuth2ClientCredentials != nil:
		return providers.OAuth2ClientCredentials, "oauth2ClientCredentials", AuthSchemeOAuth2ClientCredentials
	case r.OAuth2PasswordCredentials != nil:
		return providers.OAuth2PasswordCredentials, "oauth2PasswordCredentials", AuthSchemeOAuth2Password
	}
	return providers.OAuth2AuthorizationCode, "oauth2AuthorizationCode", AuthSchemeOAuth2AuthorizationCode
}

// checkCustomAuth checks custom auth values against the provider's field schema: no unknown
// field, every required field, each value within its pattern and length.
func checkCustomAuth(p *providers.Provider, values map[string]Secret) (map[string]string, error) {
	var fields []FieldError
	for name := range values {
		if !hasField(p.CustomAuth, name) {
			fields = append(fields, FieldError{Field: "customAuth." + name, Message: "is not a field of provider " + p.Name})
		}
	}
	out := make(map[string]string, len(values))
	for _, f := range p.CustomAuth {
		v, ok := values[f.Name]
		if !ok || v == "" {
			if !f.Optional {
				fields = append(fields, FieldError{Field: "customAuth." + f.Name, Message: "required"})
			}
			continue
		}
		limit := f.MaxLength
		if limit == 0 {
			limit = maxCustomValue
		}
		if len(v) > limit {
			fields = append(fields, FieldError{Field: "customAuth." + f.Name, Message: fmt.Sprintf("at most %d octets", limit)})
			continue
		}
		if f.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + f.Pattern + `)$`)
			if err != nil || !re.MatchString(v.Reveal()) {
				fields = append(fields, FieldError{Field: "customAuth." + f.Name, Message: "does not match the field's pattern"})
				continue
			}
		}
		out[f.Name] = v.Reveal()
	}
	if fields != nil {
		return nil, &ValidationError{Fields: fields}
	}
	return out, nil
}

func hasField(fields []providers.Field, name string) bool {
	for _, f := range fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// checkScopeList checks scopes against the provider's separator.
func checkScopeList(field string, scopes []string, sep string) error {
	if _, err := checkScopes(scopes, sep); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for i := range ve.Fields {
				ve.Fields[i].Field = field + ve.Fields[i].Field[len("scopes"):]
			}
		}
		return err
	}
	return nil
}

// clientCredentialsToken fetches a token with the client credentials grant. A refresh token
// in the response is dropped (RFC 6749 §4.4.3).
func (c *Connector) clientCredentialsToken(ctx context.Context, p *providers.Provider, cr *credentials) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, TokenURL: cr.TokenURL,
		Scopes: cr.Scopes, AuthStyle: authStyle(p),
	}
	tok, err := cfg.Token(c.clientContext(ctx, p))
	if err != nil {
		return nil, tokenError(err, cr.ClientSecret)
	}
	if err := checkToken(tok); err != nil {
		return nil, err
	}
	tok.RefreshToken = ""
	return tok, nil
}

// credentials are a connection's secrets. They never leave this package except sealed in a
// ConnectionRecord, or as a token through TokenSource. Their JSON form is the data of their
// stored record (see record); a zero time is left out.
type credentials struct {
	AccessToken  string            `json:"accessToken,omitempty"`
	RefreshToken string            `json:"refreshToken,omitempty"`
	TokenType    string            `json:"tokenType,omitempty"`
	Expiry       time.Time         `json:"expiry,omitzero"`
	ObtainedAt   time.Time         `json:"obtainedAt,omitzero"`
	APIKey       string            `json:"apiKey,omitempty"`
	Username     string            `json:"username,omitempty"` // basic auth
	Password     string            `json:"password,omitempty"` // basic auth only; never a password grant's
	Custom       map[string]string `json:"custom,omitempty"`
	ClientID     string            `json:"clientId,omitempty"` // client credentials and password grants
	ClientSecret string            `json:"clientSecret,omitempty"`
	Scopes       []string          `json:"scopes,omitempty"` // asked for again by client credentials
	// TokenURL is the token endpoint fixed when the connection was made: refreshes go
	// there (or to RefreshURL, when the provider redeems refresh tokens elsewhere), never
	// to an endpoint resolved again later.
	TokenURL   string `json:"tokenUrl,omitempty"`
	RefreshURL string `json:"refreshUrl,omitempty"`
	// LeaseOwner is the Connector refreshing the token until LeaseUntil: the other replicas
	// wait for its token rather than spend the same refresh token (see Connector.token).
	LeaseOwner string    `json:"leaseOwner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

// Format prints no field under any verb: credentials are secrets.
func (credentials) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "connect.credentials{…}") }

// LogValue keeps the credentials out of logs, as Format keeps them out of fmt.
func (credentials) LogValue() slog.Value { return slog.StringValue("connect.credentials{…}") }

// encode encodes the credentials as a record of the current version.
func (c *credentials) encode() ([]byte, error) {
	return encodeRecord("credentials", credentialsVersion, c)
}

// decodeCredentials decodes credentials of any version.
func decodeCredentials(b []byte) (*credentials, error) {
	return decodeRecord(b, credentialsVersion, legacyCredentials, errCredentials)
}

// legacyCredentials reads binary credentials: read-only compatibility (see legacyV1).
// Version 1 has no refresh lease nor refresh URL. A zero time is written as 0.
func legacyCredentials(b []byte) (*credentials, error) {
	if len(b) == 0 || (b[0] != legacyV2 && b[0] != legacyV1) {
		return nil, errCredentials
	}
	d := decoder{b: string(b[1:])}
	var c credentials
	for _, f := range [...]*string{
		&c.AccessToken, &c.RefreshToken, &c.TokenType, &c.APIKey, &c.Username, &c.Password,
		&c.ClientID, &c.ClientSecret, &c.TokenURL,
	} {
		*f = d.string()
	}
	c.Custom = d.stringMap()
	c.Scopes = d.strings()
	c.Expiry, c.ObtainedAt = d.zeroTime(), d.zeroTime()
	if b[0] == legacyV2 {
		c.LeaseOwner, c.LeaseUntil = d.string(), d.zeroTime()
		c.RefreshURL = d.string()
	}
	if d.err || len(d.b) != 0 {
		return nil, errCredentials
	}
	return &c, nil
}

// token returns the credentials as an oauth2.Token.
func (c *credentials) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, TokenType: c.TokenType, Expiry: c.Expiry}
}

// Sealed credentials start with a format byte: the plaintext record (only without a
// keyring, in a memory store), or a keyring ciphertext of it.
const (
	credentialsPlain  byte = 0
	credentialsSealed byte = 1
)

// credentialsAAD binds sealed credentials to the connection they belong to, so that
// ciphertext copied into another record does not open.
func credentialsAAD(c *Connection) []byte {
	return fmt.Appendf(nil, "connect/credentials/v1|%d:%s|%d:%s|%d:%s",
		len(c.ProjectID), c.ProjectID, len(c.Provider), c.Provider, len(c.ID), c.ID)
}

// seal encodes and, with a keyring, encrypts the credentials of conn.
func seal(keys *keyring.Keyring, conn *Connection, cr *credentials) ([]byte, error) {
	plain, err := cr.encode()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return append([]byte{credentialsPlain}, plain...), nil
	}
	sealed, err := keys.Seal(plain, credentialsAAD(conn))
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("connect: sealing credentials: %w", err)
	}
	return append([]byte{credentialsSealed}, sealed...), nil
}

// open decrypts and decodes the credentials of a record. With a keyring, plaintext
// credentials are refused: a downgrade is never accepted.
func open(keys *keyring.Keyring, rec *ConnectionRecord) (*credentials, error) {
	b := rec.Credentials
	if len(b) == 0 {
		return nil, errCredentials
	}
	var plain []byte
	switch {
	case b[0] == credentialsPlain && keys == nil:
		plain = b[1:]
	case b[0] == credentialsSealed && keys != nil:
		p, err := keys.Open(b[1:], credentialsAAD(&rec.Connection))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCredentials, err)
		}
		plain = p
	case b[0] == credentialsSealed:
		return nil, fmt.Errorf("%w: they are encrypted and no keyring is configured", errCredentials)
	default:
		return nil, fmt.Errorf("%w: they are not encrypted but a keyring is configured", errCredentials)
	}
	return decodeCredentials(plain)
}

// needsReseal reports whether a record's sealed credentials should be sealed again: sealed
// with a key other than the primary, or holding a record of an older format. Credentials
// that do not open are left to open's error.
func needsReseal(keys *keyring.Keyring, rec *ConnectionRecord) bool {
	b := rec.Credentials
	if keys == nil || len(b) < 2 || b[0] != credentialsSealed {
		return false
	}
	if keys.NeedsRotation(b[1:]) {
		return true
	}
	plain, err := keys.Open(b[1:], credentialsAAD(&rec.Connection))
	defer clear(plain)
	return err == nil && !isJSONRecord(plain)
}
