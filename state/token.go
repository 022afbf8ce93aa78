package state

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/connectkit/connect/internal/random"
	"github.com/connectkit/connect/internal/syntax"
)

const (
	// tokenBytes is the number of random bytes in a token: 256 bits, above
	// the 2^-160 guessing bound of RFC 6749 §10.10.
	tokenBytes = 32
	// tokenLen is base64.RawURLEncoding.EncodedLen(tokenBytes).
	tokenLen = 43
	// maxTokenInput is the length above which CheckToken rejects an input
	// outright, with no other work.
	maxTokenInput = 128
	// keyPrefix names the hash in every key Key makes.
	keyPrefix = "s256:"
)

// NewToken returns a fresh state token: 32 bytes read from r, base64url-
// encoded without padding, so 43 characters of [A-Za-z0-9_-]. A nil r means
// crypto/rand, which is what production code should use; pass another
// reader only to inject randomness in tests. If r fails or ends before 32
// bytes, NewToken returns an error and no token; it never falls back to
// another source.
func NewToken(r io.Reader) (string, error) {
	tok, err := random.Token(r, tokenBytes)
	if err != nil {
		return "", fmt.Errorf("state: reading random bytes: %w", err)
	}
	return tok, nil
}

// CheckToken reports whether s is a well-formed state token: exactly 43
// characters of the base64url alphabet that decode, strictly and without
// padding, to 32 bytes. Check a token from a callback before giving its
// [Key] to a store. An input longer than 128 bytes is rejected without being
// read. The error matches [ErrInvalidToken] and never contains s.
func CheckToken(s string) error {
	if len(s) > maxTokenInput {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenInput)
	}
	if len(s) != tokenLen {
		return fmt.Errorf("%w: length %d, want %d", ErrInvalidToken, len(s), tokenLen)
	}
	// The alphabet first: a base64 decoder skips line breaks.
	if !syntax.Base64URL(s) {
		return fmt.Errorf("%w: not in the base64url alphabet", ErrInvalidToken)
	}
	// Strict decoding refuses set padding bits, so that a token has one spelling.
	if _, err := base64.RawURLEncoding.Strict().DecodeString(s); err != nil {
		return fmt.Errorf("%w: not canonical base64url", ErrInvalidToken)
	}
	return nil
}

// Key returns the store key for token: "s256:" followed by
// base64url(SHA-256(token)) without padding, 48 characters in all. Save
// pending authorizations under Key(token), never under the token itself, so
// that whoever can read the store cannot answer a callback. Key does not
// check token; call [CheckToken] first on a token from a request.
func Key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return keyPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}
