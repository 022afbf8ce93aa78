// Package state keeps the pending authorizations between the authorize URL
// and the callback.
//
// When a flow starts, the caller makes an opaque state token with
// [NewToken], puts the token in the authorization URL, and saves the
// pending authorization (PKCE verifier, redirect URI, owner, and so on,
// serialized by the caller) in a [Store] under [Key] of the token, with a
// short TTL. The store never sees the token itself, only its hash.
//
// At the callback, the caller checks the returned state with [CheckToken]
// before touching the store, then calls [Store.Take] with [Key] of it.
// Take deletes the entry as it returns it, so a state is used at most once,
// and of two concurrent callbacks with the same state only one succeeds.
// Any error from the store other than [ErrNotFound] means the outcome is
// unknown: fail closed.
//
// [MemoryStore] is the in-process Store; other stores implement the same
// two-method interface.
package state

import (
	"context"
	"time"
)

// Store holds pending authorizations, as opaque bytes, under the keys that
// [Key] makes from state tokens. Implementations must be safe for concurrent
// use by multiple goroutines.
type Store interface {
	// Save stores value under key for ttl, overwriting any entry already
	// held under key (its value and its expiry).
	//
	// ttl must be greater than zero; otherwise Save returns an error and
	// stores nothing. Save must not modify value, and must not keep value
	// after it returns unless it has copied it: the caller may reuse the
	// slice as soon as Save returns.
	//
	// If ctx is already done, Save stores nothing and returns ctx.Err()
	// (possibly wrapped; match it with errors.Is). Any error means the
	// caller must treat the value as not stored.
	Save(ctx context.Context, key string, value []byte, ttl time.Duration) error

	// Take atomically returns and deletes the value under key: of any
	// number of concurrent Takes of one key, exactly one gets the value and
	// the others get ErrNotFound.
	//
	// A missing or expired key returns ErrNotFound (possibly wrapped; match
	// it with errors.Is). An expired entry is never returned, even if the
	// store has not removed it yet. The caller owns the returned slice.
	//
	// If ctx is already done, Take returns ctx.Err() (possibly wrapped) and
	// deletes nothing. Any error other than ErrNotFound means the outcome is
	// unknown: the caller must not trust the state, and may not assume the
	// entry still exists.
	Take(ctx context.Context, key string) ([]byte, error)
}
