// Package redis keeps connect's pending authorizations in Redis: [StateStore]
// is a [state.Store] on a go-redis client.
//
// The package is named redis, like go-redis's own package, so import it under
// another name:
//
//	import (
//		goredis "github.com/redis/go-redis/v9"
//		connectredis "github.com/connectkit/connect/stores/redis"
//	)
//
//	store := connectredis.NewStateStore(goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"}))
//
// Entries expire on the Redis server's clock (SET with PX) and are taken with
// GETDEL, which needs Redis 6.2 or later. Each command touches a single key,
// so the store works with Redis Cluster as well as with a single server or
// Sentinel, and spreads its keys over the cluster's slots unless the prefix
// holds a hash tag (see [WithPrefix]).
//
// Errors other than ctx.Err() and [state.ErrNotFound] start with
// "redis state store: " and wrap the go-redis error; the store never puts a
// stored value in an error.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect/state"
)

// defaultPrefix is the prefix of every Redis key of a StateStore made
// without WithPrefix.
const defaultPrefix = "connect:state:"

var _ state.Store = (*StateStore)(nil)

// StateStore is a [state.Store] on Redis. It keeps each entry as a plain
// Redis string under the store's prefix followed by the key, with the
// entry's TTL as the key's expiry: Save is SET with PX and Take is GETDEL,
// one command and one key each, so Take is atomic on the server and of
// concurrent Takes of one key exactly one gets the value.
//
// Keys and values are binary-safe: a key may hold any bytes (NUL, CR LF,
// braces, glob characters, invalid UTF-8); they reach Redis as one protocol
// argument, never spliced into a command.
//
// Values pass through the go-redis client, so a hook added to the client
// (with AddHook) sees them in the command arguments; the values hold PKCE
// verifiers and similar secrets, so such a hook must not log arguments.
//
// A StateStore is safe for concurrent use by multiple goroutines, as the
// client is.
type StateStore struct {
	client goredis.UniversalClient
	prefix string
}

// Option configures a [StateStore] made by [NewStateStore].
type Option interface {
	apply(*StateStore)
}

type option func(*StateStore)

func (f option) apply(s *StateStore) { f(s) }

// WithPrefix sets the string that the store puts before every key to make the
// Redis key: the entry for key is held under prefix+key. The default is
// "connect:state:". Stores that share a Redis database must use prefixes of
// which none is a prefix of another, or they will see each other's entries.
// An empty prefix uses the keys as they are.
//
// With Redis Cluster, a prefix that contains a hash tag (a "{...}" with at
// least one byte between the braces) sends every key of the store to one
// slot, and so to one shard; the default prefix has none.
func WithPrefix(prefix string) Option {
	return option(func(s *StateStore) { s.prefix = prefix })
}

// NewStateStore returns a StateStore that keeps its entries through client,
// which may be a *goredis.Client, *goredis.ClusterClient, *goredis.Ring or
// any other [goredis.UniversalClient]. The store does not close the client.
// NewStateStore panics if client is nil.
func NewStateStore(client goredis.UniversalClient, opts ...Option) *StateStore {
	if client == nil {
		panic("redis: NewStateStore called with a nil client")
	}
	s := &StateStore{client: client, prefix: defaultPrefix}
	for _, o := range opts {
		o.apply(s)
	}
	return s
}

// Save stores value under key for ttl, replacing any entry under key along
// with its expiry, with the Redis command SET prefix+key value PX ttl. The
// ttl is rounded up to a whole millisecond, Redis's resolution. It implements
// [state.Store.Save]: a ttl of zero or less is an error, and if ctx is
// already done Save returns ctx.Err(); in both cases nothing is sent to
// Redis. Errors never contain the value.
func (s *StateStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("redis state store: ttl must be positive, got %v", ttl)
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++ // no overflow: ttl/time.Millisecond is far below MaxInt64
	}
	cmd := goredis.NewStatusCmd(ctx, "set", s.prefix+key, value, "px", ms)
	if err := s.client.Process(ctx, cmd); err != nil {
		return fmt.Errorf("redis state store: save: %w", err)
	}
	return nil
}

// Take returns and deletes the value under key, with the Redis command
// GETDEL prefix+key. It implements [state.Store.Take]: a missing, already
// taken or expired key returns [state.ErrNotFound], and if ctx is already
// done Take returns ctx.Err() and sends nothing to Redis. Any other error,
// such as a lost connection, means the entry may or may not have been
// deleted. The returned slice is a fresh copy that the caller owns.
func (s *StateStore) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := s.client.GetDel(ctx, s.prefix+key)
	if err := cmd.Err(); err != nil {
		if errors.Is(err, goredis.Nil) {
			return nil, state.ErrNotFound
		}
		return nil, fmt.Errorf("redis state store: take: %w", err)
	}
	// A copy, not StringCmd.Bytes: that returns the reply string's own memory,
	// which must never be written to, and the caller may write to the result.
	return []byte(cmd.Val()), nil
}
