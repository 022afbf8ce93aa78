package syntax

import "errors"

// Errors of [ParseURL] and [CheckURL]. Their messages carry no package name: each caller
// wraps them with its own.
var (
	ErrURLScheme   = errors.New("URL must be absolute https (plain http only on loopback)")
	ErrURLHost     = errors.New("URL must have a host name of lowercase DNS labels, or a loopback address")
	ErrURLUser     = errors.New("URL must not carry user info")
	ErrURLFragment = errors.New("URL must not carry a fragment")
	ErrURLChars    = errors.New("URL has a character that must be escaped, or a malformed escape")
	ErrURLPort     = errors.New("URL port must be a number from 1 to 65535")
	ErrURLLength   = errors.New("URL is longer than 2048 octets")
)
