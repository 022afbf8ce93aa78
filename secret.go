package connect

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/connectkit/connect/internal/safefmt"
)

// Secret is a string that must not be shown: an API key, a password, a client secret or a
// token. Printing it with any fmt verb, logging it with log/slog or marshalling it to JSON
// gives "[redacted]" (or "" when it is empty); read it with [Secret.Reveal]. It unmarshals
// from a JSON string as usual, so request bodies decode into it.
//
// fmt calls no method at all, which no type can change, for %p on a value that is not a
// pointer, for a field that is not exported, and, under a verb that does not suit a pointer
// (%s, %x, %d), for a pointer to a map or a slice inside another value. Keep a Secret, and
// any type that holds one, out of those.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is like String, for the %#v verb.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// Format writes the redacted form for every verb and flag: quoted for %q and %#v, padded to
// a width, and never as hex or digits of the secret.
func (s Secret) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, s, s.String()) }

// LogValue is the redacted form for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the redacted form as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText writes the redacted form, for encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the secret, so that JSON strings and map values decode into it.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}

// The types below hold secrets, and each prints itself through safefmt.Format under every
// verb: as a copy of a type without methods, whose fields fmt formats one by one, each
// secret through [Secret.Format] and each pointer through its own type's Format.

// Format prints the app without its client secret, under every verb and flag.
func (a ProviderApp) Format(f fmt.State, verb rune) {
	type fields ProviderApp
	safefmt.Format(f, verb, a, fields(a))
}

// String describes the app, with field names, without its client secret.
func (a ProviderApp) String() string { return fmt.Sprintf("%+v", a) }

// LogValue describes the app for log/slog without its secret.
func (a ProviderApp) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("projectId", a.ProjectID),
		slog.String("provider", a.Provider), slog.String("clientId", a.ClientID))
}

// Format prints the request without its credentials' secrets, under every verb and flag.
func (r ConnectionRequest) Format(f fmt.State, verb rune) {
	type fields ConnectionRequest
	safefmt.Format(f, verb, r, fields(r))
}

// Format prints the username without the password, under every verb and flag.
func (b BasicAuth) Format(f fmt.State, verb rune) {
	type fields BasicAuth
	safefmt.Format(f, verb, b, fields(b))
}

// Format prints the client without its secret, under every verb and flag.
func (c OAuth2ClientCredentials) Format(f fmt.State, verb rune) {
	type fields OAuth2ClientCredentials
	safefmt.Format(f, verb, c, fields(c))
}

// Format prints the credentials without the password and the client secret, under every
// verb and flag.
func (c OAuth2PasswordCredentials) Format(f fmt.State, verb rune) {
	type fields OAuth2PasswordCredentials
	safefmt.Format(f, verb, c, fields(c))
}

// Format prints the scopes and the tokens' times without the tokens, under every verb and
// flag.
func (c OAuth2AuthorizationCode) Format(f fmt.State, verb rune) {
	type fields OAuth2AuthorizationCode
	safefmt.Format(f, verb, c, fields(c))
}

// Format prints the token's times without the token, under every verb and flag.
func (t TokenValue) Format(f fmt.State, verb rune) {
	type fields TokenValue
	safefmt.Format(f, verb, t, fields(t))
}

// Format prints the credentials' scheme and username without their secrets, under every
// verb and flag.
func (c Credentials) Format(f fmt.State, verb rune) {
	type fields Credentials
	safefmt.Format(f, verb, c, fields(c))
}

// Format prints the authorization without its binding value, under every verb and flag.
func (a Authorization) Format(f fmt.State, verb rune) {
	type fields Authorization
	safefmt.Format(f, verb, a, fields(a))
}

// Format prints the record with its credentials only by length, under every verb and flag:
// they are plaintext in a memory store without a keyring.
func (r ConnectionRecord) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, r, r.redacted()) }

// String describes the record, with field names, with its credentials only by length.
func (r ConnectionRecord) String() string { return fmt.Sprintf("%+v", r) }

// LogValue describes the record for log/slog without its credentials.
func (r ConnectionRecord) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", r.Connection.ID), slog.String("projectId", r.Connection.ProjectID),
		slog.String("provider", r.Connection.Provider), slog.Int("credentialBytes", len(r.Credentials)),
		slog.Int64("version", r.Version))
}

// MarshalJSON writes the record with its credentials only by length. The result does not
// decode back into a record: a store must keep the credentials' bytes themselves.
func (r ConnectionRecord) MarshalJSON() ([]byte, error) { return json.Marshal(r.redacted()) }

// recordFields is a ConnectionRecord as it is shown: its credentials by length.
type recordFields struct {
	Connection  Connection
	Credentials string
	Version     int64
}

func (r ConnectionRecord) redacted() recordFields {
	return recordFields{r.Connection, fmt.Sprintf("[%d bytes]", len(r.Credentials)), r.Version}
}
