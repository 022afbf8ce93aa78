// Package pkce makes and checks RFC 7636 Proof Key for Code Exchange values
// for the S256 method.
//
// For every authorization request a client makes a fresh verifier with
// [NewVerifier], keeps it server-side in that request's pending state, sends
// [Challenge] of it with code_challenge_method=[Method] in the authorization
// URL, and sends the verifier itself only in the token request. The plain
// method is deliberately not offered: it exposes the verifier (RFC 7636 §4.2,
// RFC 9700 §2.1.1).
package pkce

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/connectkit/connect/internal/random"
	"github.com/connectkit/connect/internal/syntax"
)

// Method is the code_challenge_method that goes with [Challenge]. S256 is the
// only method this package offers.
const Method = "S256"

const (
	// verifierBytes is the number of random bytes in a verifier: 256 bits,
	// as RFC 7636 §7.1 recommends.
	verifierBytes = 32
	// minVerifierLen and maxVerifierLen bound a verifier (RFC 7636 §4.1).
	minVerifierLen = 43
	maxVerifierLen = 128
)

// NewVerifier returns a fresh code verifier: 32 bytes from crypto/rand,
// base64url-encoded without padding, so 43 characters of [A-Za-z0-9_-].
// Make a new one for every authorization request and never reuse it.
func NewVerifier() (string, error) { return NewVerifierFrom(rand.Reader) }

// NewVerifierFrom is [NewVerifier] with the random bytes read from r, for
// tests and injected randomness; a nil r means crypto/rand. It reads exactly
// 32 bytes. If r fails or ends before 32 bytes, NewVerifierFrom returns an
// error and no verifier; it never falls back to another source.
func NewVerifierFrom(r io.Reader) (string, error) {
	v, err := random.Token(r, verifierBytes)
	if err != nil {
		return "", fmt.Errorf("pkce: reading random bytes: %w", err)
	}
	return v, nil
}

// Challenge returns the S256 code challenge for verifier:
// base64url(SHA-256(verifier)) without padding, 43 characters. Send it with
// code_challenge_method=[Method]. Challenge does not check verifier; use
// [CheckVerifier] on a verifier that did not come from [NewVerifier].
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckVerifier reports whether v is a well-formed code verifier: 43 to 128
// characters, each from the unreserved set [A-Za-z0-9-._~] (RFC 7636 §4.1).
// Its error matches [ErrInvalidVerifier] and says what is wrong without
// repeating v.
func CheckVerifier(v string) error {
	if len(v) < minVerifierLen || len(v) > maxVerifierLen {
		return fmt.Errorf("%w: length %d, want %d to %d", ErrInvalidVerifier, len(v), minVerifierLen, maxVerifierLen)
	}
	for i := 0; i < len(v); i++ {
		if !syntax.Unreserved(v[i]) {
			return fmt.Errorf("%w: byte at index %d is not in [A-Za-z0-9-._~]", ErrInvalidVerifier, i)
		}
	}
	return nil
}
