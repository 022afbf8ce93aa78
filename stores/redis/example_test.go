package redis_test

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect/state"
	connectredis "github.com/connectkit/connect/stores/redis"
)

// The example needs a Redis server, so it is compiled but not run.
func ExampleNewStateStore() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store := connectredis.NewStateStore(client, connectredis.WithPrefix("myapp:state:"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := store.Save(ctx, "s256:key", []byte("pending authorization"), 10*time.Minute); err != nil {
		return // fail closed: no authorization URL without saved state
	}
	value, err := store.Take(ctx, "s256:key")
	switch {
	case errors.Is(err, state.ErrNotFound):
		// never saved, already used or expired
	case err != nil:
		// outcome unknown: do not trust the state
	default:
		_ = value
	}
}
