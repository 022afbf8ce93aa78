package connect

import (
	"fmt"
	"log/slog"

	"github.com/connectkit/connect/internal/safefmt"
)

// Secret is a string that must not be shown: an API key, a password, a client secret or a
// token. Printing it with any fmt verb, logging it with log/slog or marshalling it to JSON
// gives "[redacted]" (or "" when it is empty); read it with [Secret.Reveal]. It unmarshals
// from a JSON string as usual, so request bodies decode into it.
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
