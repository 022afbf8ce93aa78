package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
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
	if r == nil || r == rand.Reader {
		return newCryptoToken()
	}
	var b [tokenBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("state: reading random bytes: %w", err)
	}
	return encode(&b), nil
}

// newCryptoToken is NewToken from crypto/rand, whose Read keeps b on the
// stack, so only the string is allocated.
func newCryptoToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("state: reading random bytes: %w", err)
	}
	return encode(&b), nil
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
	for i := 0; i < len(s); i++ {
		if base64URLValue(s[i]) < 0 {
			return fmt.Errorf("%w: byte at index %d is not in the base64url alphabet", ErrInvalidToken, i)
		}
	}
	// 43 characters carry 258 bits; the last character's two low bits are
	// padding and must be zero for the encoding to be canonical.
	if base64URLValue(s[tokenLen-1])&3 != 0 {
		return fmt.Errorf("%w: last character is not canonical base64url", ErrInvalidToken)
	}
	return nil
}

// base64URLValue returns the 6-bit value of the base64url character c, or
// -1 if c is not one.
func base64URLValue(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// Key returns the store key for token: "s256:" followed by
// base64url(SHA-256(token)) without padding, 48 characters in all. Save
// pending authorizations under Key(token), never under the token itself, so
// that whoever can read the store cannot answer a callback. Key does not
// check token; call [CheckToken] first on a token from a request.
func Key(token string) string {
	var sum [sha256.Size]byte
	if len(token) <= maxTokenInput {
		// Hashing from a stack copy avoids allocating []byte(token).
		var buf [maxTokenInput]byte
		n := copy(buf[:], token)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	var key [len(keyPrefix) + tokenLen]byte
	copy(key[:], keyPrefix)
	base64.RawURLEncoding.Encode(key[len(keyPrefix):], sum[:])
	return string(key[:])
}

// encode returns b base64url-encoded without padding, allocating only the
// string.
func encode(b *[tokenBytes]byte) string {
	var dst [tokenLen]byte
	base64.RawURLEncoding.Encode(dst[:], b[:])
	return string(dst[:])
}
