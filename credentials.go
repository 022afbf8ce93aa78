package connect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect/keyring"
)

// credentials are a connection's secrets. They never leave this package except sealed in a
// ConnectionRecord, or as a token through TokenSource.
type credentials struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	Expiry       time.Time
	ObtainedAt   time.Time
	APIKey       string
	Username     string // basic auth
	Password     string // basic auth only; never a password grant's
	Custom       map[string]string
	ClientID     string // client credentials and password grants
	ClientSecret string
	Scopes       []string // asked for again by client credentials
	// TokenURL is the token endpoint fixed when the connection was made: refreshes go
	// there (or to RefreshURL, when the provider redeems refresh tokens elsewhere), never
	// to an endpoint resolved again later.
	TokenURL   string
	RefreshURL string
	// LeaseOwner is the Connector refreshing the token until LeaseUntil: the other replicas
	// wait for its token rather than spend the same refresh token (see Connector.token).
	LeaseOwner string
	LeaseUntil time.Time
}

// credentialsVersion is the first byte of encoded credentials: the version of the format.
// Version 1 had no refresh lease nor refresh URL; it is still read.
const (
	credentialsVersion   = 2
	credentialsVersionV1 = 1
)

// strings lists the string fields in their encoded order.
func (c *credentials) strings() [9]*string {
	return [9]*string{
		&c.AccessToken, &c.RefreshToken, &c.TokenType, &c.APIKey, &c.Username, &c.Password,
		&c.ClientID, &c.ClientSecret, &c.TokenURL,
	}
}

// encode writes the credentials as the session record is written: the version byte, the
// strings, the custom fields (keys sorted) and the scopes, then the two times (a zero time
// as 0).
func (c *credentials) encode() []byte { return c.appendTo(nil) }

// appendTo appends the encoded credentials to b.
func (c *credentials) appendTo(b []byte) []byte {
	n := len(b) + 1 + 7*binary.MaxVarintLen64 + len(c.LeaseOwner) + len(c.RefreshURL)
	for _, f := range c.strings() {
		n += len(*f) + binary.MaxVarintLen32
	}
	for k, v := range c.Custom {
		n += len(k) + len(v) + 2*binary.MaxVarintLen32
	}
	for _, s := range c.Scopes {
		n += len(s) + binary.MaxVarintLen32
	}
	b = slices.Grow(b, n-len(b))
	b = append(b, credentialsVersion)
	for _, f := range c.strings() {
		b = appendString(b, *f)
	}
	b = appendStringMap(b, c.Custom)
	b = appendStrings(b, c.Scopes)
	b = appendTime(b, c.Expiry)
	b = appendTime(b, c.ObtainedAt)
	b = appendString(b, c.LeaseOwner)
	b = appendTime(b, c.LeaseUntil)
	return appendString(b, c.RefreshURL)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// decodeCredentials reads what encode wrote.
func decodeCredentials(b []byte) (*credentials, error) {
	if len(b) == 0 || (b[0] != credentialsVersion && b[0] != credentialsVersionV1) {
		return nil, errCredentials
	}
	d := decoder{b: string(b[1:])}
	var c credentials
	for _, f := range c.strings() {
		*f = d.string()
	}
	c.Custom = d.stringMap()
	c.Scopes = d.strings()
	c.Expiry, c.ObtainedAt = d.zeroTime(), d.zeroTime()
	if b[0] == credentialsVersion {
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
	if keys == nil {
		return cr.appendTo([]byte{credentialsPlain}), nil
	}
	plain := cr.encode()
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

// needsReseal reports whether sealed credentials were sealed with a key other than the
// primary.
func needsReseal(keys *keyring.Keyring, b []byte) bool {
	return keys != nil && len(b) > 1 && b[0] == credentialsSealed && keys.NeedsRotation(b[1:])
}
