package state_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect/state"
)

func TestMemoryStoreRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		store *state.MemoryStore
	}{
		{name: "NewMemoryStore", store: state.NewMemoryStore()},
		{name: "zero value", store: new(state.MemoryStore)},
		{name: "fake clock", store: state.NewMemoryStore(state.WithClock(newFakeClock().Now))},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.store
			key := state.Key("token")
			want := []byte(`{"verifier":"v","return_to":"/home"}`)
			if err := s.Save(ctx, key, want, time.Minute); err != nil {
				t.Fatalf("Save() = %v, want nil", err)
			}
			if got := s.Len(); got != 1 {
				t.Errorf("Len() after Save = %d, want 1", got)
			}
			got, err := s.Take(ctx, key)
			if err != nil {
				t.Fatalf("Take() error = %v, want nil", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Take() = %q, want %q", got, want)
			}
			if got := s.Len(); got != 0 {
				t.Errorf("Len() after Take = %d, want 0", got)
			}
			got, err = s.Take(ctx, key)
			if !errors.Is(err, state.ErrNotFound) {
				t.Errorf("second Take() = %q, %v; want ErrNotFound", got, err)
			}
		})
	}
}

func TestMemoryStoreTakeUnknownKey(t *testing.T) {
	s := state.NewMemoryStore()
	ctx := context.Background()
	if err := s.Save(ctx, "other", []byte("x"), time.Minute); err != nil {
		t.Fatalf("Save() = %v, want nil", err)
	}
	got, err := s.Take(ctx, "missing")
	if !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Take(missing) = %q, %v; want ErrNotFound", got, err)
	}
	if got != nil {
		t.Errorf("Take(missing) value = %q, want nil", got)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1 (the other key untouched)", got)
	}
	if got, want := err.Error(), "state: not found"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestMemoryStoreOverwrite(t *testing.T) {
	clock := newFakeClock()
	s := state.NewMemoryStore(state.WithClock(clock.Now))
	ctx := context.Background()
	if err := s.Save(ctx, "k", []byte("first"), time.Second); err != nil {
		t.Fatalf("Save(first) = %v", err)
	}
	if err := s.Save(ctx, "k", []byte("second"), time.Hour); err != nil {
		t.Fatalf("Save(second) = %v", err)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1", got)
	}
	clock.Advance(time.Minute) // past the first ttl, within the second
	got, err := s.Take(ctx, "k")
	if err != nil || string(got) != "second" {
		t.Errorf("Take() = %q, %v; want %q, nil", got, err, "second")
	}
}

func TestMemoryStoreExpiry(t *testing.T) {
	const ttl = 10 * time.Minute
	tests := []struct {
		name    string
		advance time.Duration
		wantErr error
	}{
		{name: "at once", advance: 0},
		{name: "ttl-1s", advance: ttl - time.Second},
		{name: "ttl-1ns", advance: ttl - time.Nanosecond},
		{name: "exactly ttl", advance: ttl, wantErr: state.ErrNotFound},
		{name: "ttl+1s", advance: ttl + time.Second, wantErr: state.ErrNotFound},
		{name: "a day later", advance: 24 * time.Hour, wantErr: state.ErrNotFound},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			s := state.NewMemoryStore(state.WithClock(clock.Now))
			if err := s.Save(ctx, "k", []byte("v"), ttl); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			clock.Advance(tc.advance)
			got, err := s.Take(ctx, "k")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Take() = %q, %v; want error %v", got, err, tc.wantErr)
			}
			if tc.wantErr == nil && string(got) != "v" {
				t.Errorf("Take() = %q, want %q", got, "v")
			}
			if tc.wantErr != nil && got != nil {
				t.Errorf("Take() of an expired entry returned %q, want nil", got)
			}
			if n := s.Len(); n != 0 {
				t.Errorf("Len() after Take = %d, want 0 (expired entries are deleted too)", n)
			}
		})
	}
}

func TestMemoryStoreSweep(t *testing.T) {
	tests := []struct {
		name     string
		opts     []state.MemoryOption
		interval time.Duration
	}{
		{name: "default interval", interval: state.DefaultSweepInterval},
		{name: "zero means default", opts: []state.MemoryOption{state.WithSweepInterval(0)}, interval: state.DefaultSweepInterval},
		{name: "negative means default", opts: []state.MemoryOption{state.WithSweepInterval(-time.Second)}, interval: state.DefaultSweepInterval},
		{name: "custom interval", opts: []state.MemoryOption{state.WithSweepInterval(5 * time.Minute)}, interval: 5 * time.Minute},
	}
	const ttl = time.Second
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			s := state.NewMemoryStore(append(tc.opts, state.WithClock(clock.Now))...)
			for i := range 1000 {
				if err := s.Save(ctx, "short-"+strconv.Itoa(i), []byte("v"), ttl); err != nil {
					t.Fatalf("Save(#%d) = %v", i, err)
				}
			}
			if got := s.Len(); got != 1000 {
				t.Fatalf("Len() = %d, want 1000", got)
			}

			// Expired, but the sweep interval has not passed: nothing is swept.
			clock.Advance(tc.interval - time.Nanosecond)
			if err := s.Save(ctx, "early", []byte("v"), time.Hour); err != nil {
				t.Fatalf("Save(early) = %v", err)
			}
			if got := s.Len(); got != 1001 {
				t.Errorf("Len() before the sweep interval = %d, want 1001", got)
			}

			clock.Advance(time.Nanosecond)
			if err := s.Save(ctx, "late", []byte("v"), time.Hour); err != nil {
				t.Fatalf("Save(late) = %v", err)
			}
			if got := s.Len(); got != 2 {
				t.Errorf("Len() after the sweep = %d, want 2 (early and late)", got)
			}
			for _, k := range []string{"early", "late"} {
				if _, err := s.Take(ctx, k); err != nil {
					t.Errorf("Take(%s) = %v, want nil", k, err)
				}
			}
		})
	}
}

// TestMemoryStoreSweepOneLeft is the plain case: 1000 short-lived entries,
// the clock past the sweep interval, one more Save, one entry left.
func TestMemoryStoreSweepOneLeft(t *testing.T) {
	clock := newFakeClock()
	s := state.NewMemoryStore(state.WithClock(clock.Now))
	ctx := context.Background()
	for i := range 1000 {
		if err := s.Save(ctx, strconv.Itoa(i), []byte("v"), 30*time.Second); err != nil {
			t.Fatalf("Save(#%d) = %v", i, err)
		}
	}
	clock.Advance(state.DefaultSweepInterval + time.Second)
	if err := s.Save(ctx, "one more", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1", got)
	}
}

func TestMemoryStoreConcurrentTake(t *testing.T) {
	const (
		goroutines = 64
		rounds     = 20
	)
	s := state.NewMemoryStore()
	ctx := context.Background()
	for round := range rounds {
		key := state.Key("token-" + strconv.Itoa(round))
		if err := s.Save(ctx, key, []byte("the value"), time.Minute); err != nil {
			t.Fatalf("Save() = %v", err)
		}
		var (
			start    = make(chan struct{})
			wg       sync.WaitGroup
			winners  atomic.Int32
			notFound atomic.Int32
			others   = make(chan error, goroutines)
		)
		for range goroutines {
			wg.Go(func() {
				<-start
				got, err := s.Take(ctx, key)
				switch {
				case err == nil && string(got) == "the value":
					winners.Add(1)
				case errors.Is(err, state.ErrNotFound):
					notFound.Add(1)
				default:
					others <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(others)
		for err := range others {
			t.Errorf("round %d: Take() = %v, want the value or ErrNotFound", round, err)
		}
		if got, want := winners.Load(), int32(1); got != want {
			t.Errorf("round %d: %d Takes got the value, want %d", round, got, want)
		}
		if got, want := notFound.Load(), int32(goroutines-1); got != want {
			t.Errorf("round %d: %d Takes got ErrNotFound, want %d", round, got, want)
		}
	}
}

func TestMemoryStoreConcurrentSaveTake(t *testing.T) {
	// Many goroutines, each with its own keys, through sweeps: run with -race.
	clock := newFakeClock()
	s := state.NewMemoryStore(state.WithClock(clock.Now), state.WithSweepInterval(time.Second))
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				key := strconv.Itoa(g) + "/" + strconv.Itoa(i)
				if err := s.Save(ctx, key, []byte(key), time.Hour); err != nil {
					t.Errorf("Save(%s) = %v", key, err)
					return
				}
				clock.Advance(10 * time.Millisecond)
				got, err := s.Take(ctx, key)
				if err != nil || string(got) != key {
					t.Errorf("Take(%s) = %q, %v; want %q, nil", key, got, err, key)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.Len(); got != 0 {
		t.Errorf("Len() = %d, want 0", got)
	}
}

func TestMemoryStoreDoneContext(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()

	tests := []struct {
		name    string
		ctx     context.Context
		wantErr error
	}{
		{name: "canceled", ctx: canceled, wantErr: context.Canceled},
		{name: "deadline exceeded", ctx: expired, wantErr: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/Save stores nothing", func(t *testing.T) {
			s := state.NewMemoryStore()
			err := s.Save(tc.ctx, "k", []byte("v"), time.Minute)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Save() = %v, want %v", err, tc.wantErr)
			}
			if got := s.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
			if got, err := s.Take(context.Background(), "k"); !errors.Is(err, state.ErrNotFound) {
				t.Errorf("Take() = %q, %v; want ErrNotFound", got, err)
			}
		})
		t.Run(tc.name+"/Take deletes nothing", func(t *testing.T) {
			s := state.NewMemoryStore()
			if err := s.Save(context.Background(), "k", []byte("v"), time.Minute); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			got, err := s.Take(tc.ctx, "k")
			if !errors.Is(err, tc.wantErr) || got != nil {
				t.Errorf("Take() = %q, %v; want nil, %v", got, err, tc.wantErr)
			}
			if got, err := s.Take(context.Background(), "k"); err != nil || string(got) != "v" {
				t.Errorf("Take() afterwards = %q, %v; want %q, nil", got, err, "v")
			}
		})
	}
}

func TestMemoryStoreSaveBadTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
	}{
		{name: "zero", ttl: 0},
		{name: "negative", ttl: -time.Second},
		{name: "most negative", ttl: time.Duration(-1 << 63)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := state.NewMemoryStore()
			err := s.Save(context.Background(), "k", []byte("v"), tc.ttl)
			if err == nil {
				t.Fatalf("Save(ttl=%v) = nil, want an error", tc.ttl)
			}
			if !strings.HasPrefix(err.Error(), "state: ") {
				t.Errorf("error %q does not start with \"state: \"", err)
			}
			if got := s.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
		})
	}
}

func TestMemoryStoreSaveCopiesValue(t *testing.T) {
	s := state.NewMemoryStore()
	ctx := context.Background()
	buf := []byte("original")
	if err := s.Save(ctx, "k", buf, time.Minute); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	copy(buf, "MUTATED!")
	got, err := s.Take(ctx, "k")
	if err != nil {
		t.Fatalf("Take() = %v", err)
	}
	if want := "original"; string(got) != want {
		t.Errorf("Take() = %q, want %q", got, want)
	}
}

func TestMemoryStoreHugeTTL(t *testing.T) {
	// A ttl that overflows the clock must not make the entry expire at once.
	clock := newFakeClock()
	s := state.NewMemoryStore(state.WithClock(clock.Now))
	ctx := context.Background()
	if err := s.Save(ctx, "k", []byte("v"), time.Duration(1<<63-1)); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	clock.Advance(365 * 24 * time.Hour)
	if got, err := s.Take(ctx, "k"); err != nil || string(got) != "v" {
		t.Errorf("Take() = %q, %v; want %q, nil", got, err, "v")
	}
}

func BenchmarkMemoryStoreSaveTake(b *testing.B) {
	s := state.NewMemoryStore()
	ctx := context.Background()
	key := state.Key("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	value := []byte(`{"verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","return_to":"/"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(ctx, key, value, time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Take(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryStoreSaveTakeParallel(b *testing.B) {
	s := state.NewMemoryStore()
	ctx := context.Background()
	value := []byte(`{"verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","return_to":"/"}`)
	var ids atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := state.Key(strconv.FormatInt(ids.Add(1), 10)) // one key per goroutine
		for pb.Next() {
			if err := s.Save(ctx, key, value, time.Minute); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Take(ctx, key); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestMemoryStoreSweepOrder covers how a sweep finds the expired entries: in order of
// expiry while the saves come in that order, by a scan of every entry once they do not.
func TestMemoryStoreSweepOrder(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		saves []struct {
			key   string
			after time.Duration // the clock moves this much before the Save
			ttl   time.Duration
		}
		sweepAt time.Duration // since the first Save; the sweep runs in one more Save
		want    []string      // the keys left besides the one that ran the sweep
	}{
		{
			name: "one ttl",
			saves: []struct {
				key   string
				after time.Duration
				ttl   time.Duration
			}{{"a", 0, time.Second}, {"b", 0, time.Second}, {"c", time.Hour, time.Hour}},
			sweepAt: time.Hour + time.Minute, want: []string{"c"},
		},
		{
			name: "saved again with a later expiry",
			saves: []struct {
				key   string
				after time.Duration
				ttl   time.Duration
			}{{"a", 0, time.Minute}, {"b", 0, time.Minute}, {"a", 50 * time.Second, 10 * time.Minute}},
			sweepAt: 2 * time.Minute, want: []string{"a"},
		},
		{
			name: "ttls out of order",
			saves: []struct {
				key   string
				after time.Duration
				ttl   time.Duration
			}{{"long", 0, time.Hour}, {"short", 0, time.Second}, {"mid", 0, 10 * time.Minute}},
			sweepAt: 2 * time.Minute, want: []string{"long", "mid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			s := state.NewMemoryStore(state.WithClock(clock.Now), state.WithSweepInterval(time.Minute))
			for _, sv := range tt.saves {
				clock.Advance(sv.after)
				if err := s.Save(ctx, sv.key, []byte(sv.key), sv.ttl); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(tt.sweepAt - clock.Now().Sub(start))
			if err := s.Save(ctx, "sweeper", []byte("v"), time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := s.Len(); got != len(tt.want)+1 {
				t.Errorf("Len() after the sweep = %d, want %d (%v and the sweeper)", got, len(tt.want)+1, tt.want)
			}
			for _, k := range tt.want {
				if v, err := s.Take(ctx, k); err != nil || string(v) != k {
					t.Errorf("Take(%s) = %q, %v; want it kept", k, v, err)
				}
			}
		})
	}
}
