package storetest_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/state"
	"github.com/connectkit/connect/storetest"
)

// clock is a fake clock shared by the memory stores of one test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryStateStore(t *testing.T) {
	clocks := map[*testing.T]*clock{}
	var mu sync.Mutex
	clockOf := func(t *testing.T) *clock {
		mu.Lock()
		defer mu.Unlock()
		if clocks[t] == nil {
			clocks[t] = &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		}
		return clocks[t]
	}
	storetest.RunStateStore(t, storetest.StateStore{
		New:     func(t *testing.T) state.Store { return state.NewMemoryStore(state.WithClock(clockOf(t).Now)) },
		Advance: func(t *testing.T, d time.Duration) { clockOf(t).Advance(d) },
	})
}

// TestMemoryStateStoreRealTime runs the suite on the wall clock, as a server-side store
// would.
func TestMemoryStateStoreRealTime(t *testing.T) {
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store { return state.NewMemoryStore() },
	})
}

// lateSaves is a state store on a starved machine: a Save with a ttl of a second returns
// only once more than that second has passed.
type lateSaves struct{ state.Store }

func (s lateSaves) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	err := s.Store.Save(ctx, key, value, ttl)
	if ttl == time.Second {
		time.Sleep(1100 * time.Millisecond)
	}
	return err
}

// TestStateStoreOnAStarvedMachine: a store is not failed for a value that expired because
// the machine was too slow to take it within its ttl; the suite asserts the store's
// promises, not the machine's speed.
func TestStateStoreOnAStarvedMachine(t *testing.T) {
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store { return lateSaves{state.NewMemoryStore()} },
	})
}

func TestMemoryConnectionStore(t *testing.T) {
	storetest.RunConnectionStore(t, storetest.ConnectionStore{
		New: func(t *testing.T) connect.ConnectionStore { return connect.NewMemoryConnectionStore() },
		// The memory store's "rest" is its records: their connections and credentials.
		Dump: func(t *testing.T, st connect.ConnectionStore) []byte {
			recs, err := st.List(context.Background(), "proj", connect.ConnectionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var dump []byte
			for _, r := range recs {
				j, err := json.Marshal(r.Connection)
				if err != nil {
					t.Fatal(err)
				}
				dump = append(append(dump, j...), r.Credentials...)
			}
			return dump
		},
	})
}

func TestMemoryAppStore(t *testing.T) {
	storetest.RunAppStore(t, storetest.AppStore{
		New: func(t *testing.T, apps []connect.ProviderApp) connect.AppStore {
			return connect.NewMemoryAppStore(apps...)
		},
	})
}
