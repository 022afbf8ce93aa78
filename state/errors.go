package state

import "errors"

// ErrNotFound is returned, possibly wrapped, by [Store.Take] when no
// unexpired entry is held under the key: it was never saved, it has already
// been taken, or it has expired.
var ErrNotFound = errors.New("state: not found")

// ErrInvalidToken is matched, with [errors.Is], by every error [CheckToken]
// returns.
var ErrInvalidToken = errors.New("state: invalid token")
