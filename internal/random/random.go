// Package random mints the random values of connect: state tokens, PKCE verifiers and
// browser bindings are all n bytes of randomness written in base64url.
package random

import (
	"crypto/rand"
	"encoding/base64"
	"io"
)

// Token returns n bytes read from r, base64url-encoded without padding. A nil r means
// crypto/rand. If r fails or ends before n bytes, Token returns the error and no token; it
// never falls back to another source (docs/security.md, A1).
func Token(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
