package state_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/connectkit/connect/state"
)

func Example() {
	ctx := context.Background()
	store := state.NewMemoryStore()

	// Starting a flow: a fresh token goes into the authorization URL; the
	// pending authorization is saved under the token's key, never the token.
	token, err := state.NewToken(nil)
	if err != nil {
		fmt.Println(err) // no token, no URL: fail the request
		return
	}
	record := []byte(`{"provider":"github","return_to":"/settings"}`)
	if err := store.Save(ctx, state.Key(token), record, 10*time.Minute); err != nil {
		fmt.Println(err)
		return
	}

	// The callback: check the returned state before touching the store,
	// then take the pending authorization, which also consumes it.
	returned := token
	if err := state.CheckToken(returned); err != nil {
		fmt.Println(err)
		return
	}
	got, err := store.Take(ctx, state.Key(returned))
	fmt.Println(string(got), err)

	// A replay of the same callback finds nothing.
	_, err = store.Take(ctx, state.Key(returned))
	fmt.Println(errors.Is(err, state.ErrNotFound))
	// Output:
	// {"provider":"github","return_to":"/settings"} <nil>
	// true
}

func ExampleCheckToken() {
	err := state.CheckToken("not-a-state-token")
	fmt.Println(errors.Is(err, state.ErrInvalidToken))
	fmt.Println(err)
	// Output:
	// true
	// state: invalid token: length 17, want 43
}

func ExampleKey() {
	fmt.Println(state.Key("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")[:5])
	fmt.Println(len(state.Key("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")))
	// Output:
	// s256:
	// 48
}

func ExampleWithClock() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := state.NewMemoryStore(state.WithClock(func() time.Time { return now }))
	ctx := context.Background()

	_ = store.Save(ctx, "key", []byte("pending"), 10*time.Minute)
	now = now.Add(10*time.Minute + time.Second)
	_, err := store.Take(ctx, "key")
	fmt.Println(err)
	// Output:
	// state: not found
}
