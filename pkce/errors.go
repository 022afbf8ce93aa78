package pkce

import "errors"

// ErrInvalidVerifier is matched, with [errors.Is], by every error
// [CheckVerifier] returns.
var ErrInvalidVerifier = errors.New("pkce: invalid code verifier")
