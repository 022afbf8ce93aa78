package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect/keyring"
)

// credentials are a connection's secrets. They never leave this package except sealed in a
// ConnectionRecord, or as a token through TokenSource.
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
	// there, never to an endpoint resolved again later.
	TokenURL string `json:"tokenUrl,omitempty"`
}

// token returns the credentials as an oauth2.Token.
func (c *credentials) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, TokenType: c.TokenType, Expiry: c.Expiry}
}

// Sealed credentials start with a format byte: plaintext JSON (only without a keyring, in a
// memory store), or a keyring ciphertext.
const (
	credentialsPlain  byte = 0
	credentialsSealed byte = 1
)

var errCredentials = errors.New("connect: cannot read the stored credentials")

// credentialsAAD binds sealed credentials to the connection they belong to, so that
// ciphertext copied into another record does not open.
func credentialsAAD(c *Connection) []byte {
	return fmt.Appendf(nil, "connect/credentials/v1|%d:%s|%d:%s|%d:%s",
		len(c.ProjectID), c.ProjectID, len(c.Provider), c.Provider, len(c.ID), c.ID)
}

// seal encodes and, with a keyring, encrypts the credentials of conn.
func seal(keys *keyring.Keyring, conn *Connection, cr *credentials) ([]byte, error) {
	plain, err := json.Marshal(cr)
	if err != nil {
		return nil, fmt.Errorf("connect: encoding credentials: %w", err)
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
	var cr credentials
	if err := json.Unmarshal(plain, &cr); err != nil {
		return nil, errCredentials
	}
	return &cr, nil
}

// needsReseal reports whether sealed credentials were sealed with a key other than the
// primary.
func needsReseal(keys *keyring.Keyring, b []byte) bool {
	return keys != nil && len(b) > 1 && b[0] == credentialsSealed && keys.NeedsRotation(b[1:])
}
