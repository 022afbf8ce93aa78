// Package storetest holds conformance suites for the stores connect runs on, in the spirit of
// testing/slogtest: an implementation of [state.Store], [connect.ConnectionStore] or
// [connect.AppStore] runs the whole contract from its own tests in one line, e.g.
//
//	func TestConformance(t *testing.T) {
//		storetest.RunStateStore(t, storetest.StateStore{
//			New: func(t *testing.T) state.Store { return newTestStore(t) },
//		})
//	}
//
// The suites use only the stores' interfaces, so they hold every implementation to the same
// contract: the one the memory stores of connect pass too.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect/state"
)

// StateStore describes a [state.Store] implementation to [RunStateStore].
type StateStore struct {
	// New returns an empty store. Every store it returns must be independent of the stores
	// it returned before (a namespace of its own: another key prefix, schema or table), so
	// that an entry saved in one is never taken from another. Required.
	New func(t *testing.T) state.Store
	// Advance moves the clock of every store New returned forward by d. Stores whose expiry
	// runs on a server's own clock (Redis, say) leave it nil: the suite then waits in real
	// time, with TTLs of about a second.
	Advance func(t *testing.T, d time.Duration)
}

// RunStateStore runs the [state.Store] conformance suite as subtests of t: save and take,
// the atomicity of Take under 64 concurrent callers, expiry on the store's clock, cancelled
// contexts, large values, keys of odd bytes and isolation between stores.
func RunStateStore(t *testing.T, s StateStore) {
	t.Helper()
	if s.New == nil {
		t.Fatal("storetest: StateStore.New is nil")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s StateStore)
	}{
		{"SaveTake", stateSaveTake},
		{"TakeMissing", stateTakeMissing},
		{"Overwrite", stateOverwrite},
		{"BadTTL", stateBadTTL},
		{"ValueCopied", stateValueCopied},
		{"ConcurrentTake", stateConcurrentTake},
		{"Expiry", stateExpiry},
		{"CancelledContext", stateCancelled},
		{"LargeValue", stateLargeValue},
		{"OddKeys", stateOddKeys},
		{"EmptyValue", stateEmptyValue},
		{"Isolation", stateIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustSave(t *testing.T, st state.Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := st.Save(ctx(t), key, value, ttl); err != nil {
		t.Fatalf("Save(%q): %v", key, err)
	}
}

func wantTake(t *testing.T, st state.Store, key string, want []byte) {
	t.Helper()
	got, err := st.Take(ctx(t), key)
	if err != nil {
		t.Fatalf("Take(%q): %v, want the value saved", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Take(%q) = %q, want %q", key, abbrev(got), abbrev(want))
	}
}

func wantNotFound(t *testing.T, st state.Store, key, why string) {
	t.Helper()
	got, err := st.Take(ctx(t), key)
	if !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Take(%q) %s = %q, %v; want state.ErrNotFound", key, why, abbrev(got), err)
	}
}

func abbrev(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%s... (%d bytes)", b[:64], len(b))
	}
	return string(b)
}

func stateSaveTake(t *testing.T, s StateStore) {
	st := s.New(t)
	mustSave(t, st, "s256:one", []byte("first"), time.Minute)
	mustSave(t, st, "s256:two", []byte("second"), time.Minute)
	wantTake(t, st, "s256:one", []byte("first"))
	wantNotFound(t, st, "s256:one", "a second time")
	wantTake(t, st, "s256:two", []byte("second"))
}

func stateTakeMissing(t *testing.T, s StateStore) {
	st := s.New(t)
	wantNotFound(t, st, "s256:never-saved", "of a key never saved")
	mustSave(t, st, "s256:abc", []byte("v"), time.Minute)
	wantNotFound(t, st, "s256:ab", "of a prefix of a saved key")
	wantNotFound(t, st, "s256:ABC", "of a saved key in another case")
	wantTake(t, st, "s256:abc", []byte("v"))
}

func stateOverwrite(t *testing.T, s StateStore) {
	st := s.New(t)
	mustSave(t, st, "s256:k", []byte("old"), time.Minute)
	mustSave(t, st, "s256:k", []byte("new"), time.Minute)
	wantTake(t, st, "s256:k", []byte("new"))
	wantNotFound(t, st, "s256:k", "after the overwritten entry was taken")
}

func stateBadTTL(t *testing.T, s StateStore) {
	st := s.New(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := st.Save(ctx(t), "s256:bad", []byte("v"), ttl); err == nil {
			t.Errorf("Save with ttl %v = nil, want an error", ttl)
		}
		wantNotFound(t, st, "s256:bad", fmt.Sprintf("after Save with ttl %v", ttl))
	}
	// A refused Save leaves an entry already under the key as it was.
	mustSave(t, st, "s256:kept", []byte("kept"), time.Minute)
	if err := st.Save(ctx(t), "s256:kept", []byte("other"), 0); err == nil {
		t.Error("Save with ttl 0 over an entry = nil, want an error")
	}
	wantTake(t, st, "s256:kept", []byte("kept"))
}

func stateValueCopied(t *testing.T, s StateStore) {
	st := s.New(t)
	v := []byte("original")
	mustSave(t, st, "s256:copy", v, time.Minute)
	copy(v, "XXXXXXXX")
	got, err := st.Take(ctx(t), "s256:copy")
	if err != nil || string(got) != "original" {
		t.Fatalf("Take after the caller reused the saved slice = %q, %v; want %q", got, err, "original")
	}
}

func stateConcurrentTake(t *testing.T, s StateStore) {
	st := s.New(t)
	const callers = 64
	for round := range 3 {
		key := fmt.Sprintf("s256:race-%d", round)
		mustSave(t, st, key, []byte("prize"), time.Minute)
		var (
			wg             sync.WaitGroup
			mu             sync.Mutex
			wins, notFound int
			others         []error
			start          = make(chan struct{})
			c              = ctx(t)
		)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := st.Take(c, key)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && string(v) == "prize":
					wins++
				case errors.Is(err, state.ErrNotFound):
					notFound++
				default:
					others = append(others, fmt.Errorf("value %q, error %v", v, err))
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || notFound != callers-1 || len(others) != 0 {
			t.Fatalf("round %d: %d concurrent Takes gave %d values, %d ErrNotFound and %v; want 1 and %d",
				round, callers, wins, notFound, others, callers-1)
		}
	}
}

func stateExpiry(t *testing.T, s StateStore) {
	st := s.New(t)
	if s.Advance != nil {
		mustSave(t, st, "s256:early", []byte("v"), 10*time.Second)
		mustSave(t, st, "s256:at", []byte("v"), 10*time.Second)
		mustSave(t, st, "s256:long", []byte("v"), time.Hour)
		s.Advance(t, 9*time.Second)
		wantTake(t, st, "s256:early", []byte("v"))
		s.Advance(t, time.Second)
		wantNotFound(t, st, "s256:at", "once its ttl has passed")
		// An overwrite sets a new expiry.
		mustSave(t, st, "s256:renewed", []byte("v"), 10*time.Second)
		s.Advance(t, 5*time.Second)
		mustSave(t, st, "s256:renewed", []byte("w"), 10*time.Second)
		s.Advance(t, 8*time.Second)
		wantTake(t, st, "s256:renewed", []byte("w"))
		wantTake(t, st, "s256:long", []byte("v"))
		return
	}
	// Real time: the server's clock. On a starved machine more than the ttl may pass between
	// Save and Take, so a value is required before its ttl only when Take came in time.
	saved := time.Now()
	mustSave(t, st, "s256:short", []byte("v"), time.Second)
	mustSave(t, st, "s256:early", []byte("v"), time.Second)
	mustSave(t, st, "s256:long", []byte("v"), time.Minute)
	got, err := st.Take(ctx(t), "s256:early")
	if late := time.Since(saved); errors.Is(err, state.ErrNotFound) && late >= time.Second {
		t.Logf("Take of a value with a ttl of 1s came %v after its Save: too late to require the value", late)
	} else if err != nil || !bytes.Equal(got, []byte("v")) {
		t.Fatalf("Take(%q) within its ttl = %q, %v; want %q", "s256:early", abbrev(got), err, "v")
	}
	time.Sleep(1500 * time.Millisecond)
	wantNotFound(t, st, "s256:short", "once its ttl has passed")
	wantTake(t, st, "s256:long", []byte("v"))
}

func stateCancelled(t *testing.T, s StateStore) {
	st := s.New(t)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Save(done, "s256:cancelled", []byte("v"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v, want context.Canceled", err)
	}
	wantNotFound(t, st, "s256:cancelled", "after a Save with a cancelled context")

	mustSave(t, st, "s256:kept", []byte("v"), time.Minute)
	if v, err := st.Take(done, "s256:kept"); !errors.Is(err, context.Canceled) {
		t.Errorf("Take with a cancelled context = %q, %v; want context.Canceled", v, err)
	}
	wantTake(t, st, "s256:kept", []byte("v"))

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if err := st.Save(expired, "s256:late", []byte("v"), time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Save past its deadline = %v, want context.DeadlineExceeded", err)
	}
	wantNotFound(t, st, "s256:late", "after a Save past its deadline")
}

func stateLargeValue(t *testing.T, s StateStore) {
	st := s.New(t)
	v := make([]byte, 1<<20)
	for i := range v {
		v[i] = byte(i*7 + i>>8)
	}
	mustSave(t, st, "s256:large", v, time.Minute)
	wantTake(t, st, "s256:large", v)
}

func stateEmptyValue(t *testing.T, s StateStore) {
	st := s.New(t)
	mustSave(t, st, "s256:empty", []byte{}, time.Minute)
	got, err := st.Take(ctx(t), "s256:empty")
	if err != nil || len(got) != 0 {
		t.Fatalf("Take of an empty value = %q, %v; want no bytes and no error", got, err)
	}
	wantNotFound(t, st, "s256:empty", "a second time")
}

// oddKeys are keys a store must keep apart and intact: bytes that are special to Redis
// (cluster hash tags, glob patterns), to SQL (quotes, percent, underscore) or to text
// protocols (NUL, CR LF, spaces), invalid UTF-8, and a long key.
var oddKeys = []string{
	"s256:{tag}", "s256:{tag}x", "s256:*", "s256:?", "s256:[ab]", "s256:a b", "s256:\x00nul",
	"s256:\r\nSET x y\r\n", "s256:'; DROP TABLE x; --", "s256:%", "s256:_", "s256:\\", "s256:\xff\xfe",
	"s256:été", "s256:" + strings.Repeat("k", 1000), "", ":", "s256:a\x00", "s256:a",
}

func stateOddKeys(t *testing.T, s StateStore) {
	st := s.New(t)
	for i, k := range oddKeys {
		mustSave(t, st, k, fmt.Appendf(nil, "value %d", i), time.Minute)
	}
	// Take in reverse order, so a store that confused two keys returns the wrong value.
	for i := len(oddKeys) - 1; i >= 0; i-- {
		wantTake(t, st, oddKeys[i], fmt.Appendf(nil, "value %d", i))
	}
	for _, k := range oddKeys {
		wantNotFound(t, st, k, "after every odd key was taken")
	}
}

func stateIsolation(t *testing.T, s StateStore) {
	a, b := s.New(t), s.New(t)
	mustSave(t, a, "s256:shared", []byte("a"), time.Minute)
	wantNotFound(t, b, "s256:shared", "from another store")
	mustSave(t, b, "s256:shared", []byte("b"), time.Minute)
	wantTake(t, a, "s256:shared", []byte("a"))
	wantTake(t, b, "s256:shared", []byte("b"))
}
