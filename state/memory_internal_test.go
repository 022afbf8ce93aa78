package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestMemoryStoreModel runs random Saves, Takes and clock moves against a plain map and
// checks, after every step, that the store answers as the map does and that its expiry list
// stays within twice its entries (plus the length below which it is never compacted).
func TestMemoryStoreModel(t *testing.T) {
	tests := []struct {
		name    string
		keys    int
		advance time.Duration // the most the clock moves between two steps
		ttls    []time.Duration
	}{
		{name: "fixed clock, one key", keys: 1, ttls: []time.Duration{time.Minute}},
		{name: "fixed clock, few keys", keys: 8, ttls: []time.Duration{time.Minute}},
		{name: "fixed clock, many keys", keys: 5000, ttls: []time.Duration{time.Minute}},
		{name: "moving clock, one TTL", keys: 3000, advance: 50 * time.Millisecond, ttls: []time.Duration{10 * time.Second}},
		{name: "moving clock, two TTLs", keys: 300, advance: time.Second, ttls: []time.Duration{time.Minute, 2 * time.Second}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.keys)))
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			s := NewMemoryStore(WithClock(func() time.Time { return now }), WithSweepInterval(time.Second))
			type want struct {
				value   string
				expires time.Time
			}
			model := map[string]want{}
			for step := range 60000 {
				if tt.advance > 0 {
					now = now.Add(time.Duration(rng.Int64N(int64(tt.advance))))
				}
				key := fmt.Sprintf("k%d", rng.IntN(tt.keys))
				if rng.IntN(2) == 0 {
					ttl := tt.ttls[rng.IntN(len(tt.ttls))]
					v := fmt.Sprintf("v%d", step)
					if err := s.Save(ctx, key, []byte(v), ttl); err != nil {
						t.Fatalf("step %d: Save(%s) = %v", step, key, err)
					}
					model[key] = want{v, now.Add(ttl)}
				} else {
					got, err := s.Take(ctx, key)
					w, ok := model[key]
					delete(model, key)
					if ok && now.Before(w.expires) {
						if err != nil || string(got) != w.value {
							t.Fatalf("step %d: Take(%s) = %q, %v; want %q", step, key, got, err, w.value)
						}
					} else if err != ErrNotFound {
						t.Fatalf("step %d: Take(%s) = %q, %v; want ErrNotFound", step, key, got, err)
					}
				}
				s.mu.Lock()
				listed, entries := len(s.expiring)-s.head, len(s.entries)
				s.mu.Unlock()
				if listed > 2*entries+minCompact+1 {
					t.Fatalf("step %d: %d keys listed for expiry, %d entries held", step, listed, entries)
				}
			}
			// Every entry the model holds unexpired is in the store until its last instant.
			end := now
			for key, w := range model {
				if !end.Before(w.expires) {
					continue
				}
				now = w.expires.Add(-time.Nanosecond)
				if got, err := s.Take(ctx, key); err != nil || string(got) != w.value {
					t.Errorf("Take(%s) = %q, %v; want %q", key, got, err, w.value)
				}
			}
		})
	}
}
