package state

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultSweepInterval is how often, on the store's clock, a [MemoryStore]
// removes its expired entries unless [WithSweepInterval] says otherwise.
const DefaultSweepInterval = time.Minute

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a [Store] that keeps entries in the memory of the process.
// It suits a single process and tests: entries are lost when the process
// exits and are not shared between processes.
//
// Expired entries are never returned. They are removed when taken, and all
// at once by a sweep that runs inside [MemoryStore.Save] when at least the
// sweep interval has passed since the last one, so memory does not grow
// without bound; no goroutine is started.
//
// A MemoryStore is safe for concurrent use. The zero value is ready to use,
// with the defaults of [NewMemoryStore]. A MemoryStore must not be copied
// after first use.
type MemoryStore struct {
	now           func() time.Time // nil means time.Now
	sweepInterval time.Duration    // 0 means DefaultSweepInterval

	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep time.Time
	// expiring lists the saved keys in the order they expire, from expiring[head] on, as
	// long as Saves come in that order (the usual case: one TTL for all). A sweep then pops
	// the expired ones from the front instead of scanning every entry. A Save that expires
	// before the last one listed sets unordered: sweeps scan the whole map until it empties.
	// Keys taken stay listed until they would have expired, so when the list grows to twice
	// the entries a Save compacts it: it stays within a constant factor of the entries held.
	expiring   []expiringKey
	head       int
	unordered  bool
	generation uint64 // of compactions, to list each entry once
}

type expiringKey struct {
	key     string
	expires time.Time
}

type memoryEntry struct {
	value   []byte
	expires time.Time // the entry is expired from this instant on
	listed  uint64    // the last compaction that kept the entry listed
}

// MemoryOption configures a [MemoryStore] made by [NewMemoryStore].
type MemoryOption interface {
	applyMemory(*MemoryStore)
}

type memoryOption func(*MemoryStore)

func (f memoryOption) applyMemory(s *MemoryStore) { f(s) }

// WithClock makes the store read the time from now instead of time.Now, for
// tests with a fake clock. Expiry and sweeping both use it. A nil now means
// time.Now.
func WithClock(now func() time.Time) MemoryOption {
	return memoryOption(func(s *MemoryStore) { s.now = now })
}

// WithSweepInterval sets how much time, on the store's clock, must pass
// between two sweeps of expired entries. A d of zero or less means
// [DefaultSweepInterval].
func WithSweepInterval(d time.Duration) MemoryOption {
	return memoryOption(func(s *MemoryStore) { s.sweepInterval = d })
}

// NewMemoryStore returns an empty MemoryStore. Without options it uses
// time.Now and sweeps every [DefaultSweepInterval].
func NewMemoryStore(opts ...MemoryOption) *MemoryStore {
	s := &MemoryStore{}
	for _, o := range opts {
		o.applyMemory(s)
	}
	return s
}

// Save stores a copy of value under key until ttl has passed on the store's
// clock, replacing any entry under key. It implements [Store.Save]: a ttl
// of zero or less is an error, and if ctx is already done Save returns
// ctx.Err() and stores nothing. Save may first sweep expired entries.
func (s *MemoryStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("state: ttl must be positive, got %v", ttl)
	}
	value = bytes.Clone(value)
	now := s.clock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[string]memoryEntry)
	}
	if now.Sub(s.lastSweep) >= s.interval() {
		s.sweepLocked(now)
	}
	expires := now.Add(ttl)
	s.entries[key] = memoryEntry{value: value, expires: expires}
	if !s.unordered {
		if n := len(s.expiring); n > s.head && expires.Before(s.expiring[n-1].expires) {
			s.unordered, s.expiring, s.head = true, nil, 0
		} else {
			s.expiring = append(s.expiring, expiringKey{key, expires})
			if n := len(s.expiring) - s.head; n > minCompact && n > 2*len(s.entries) {
				s.compactLocked()
			}
		}
	}
	return nil
}

// minCompact is the length below which the expiry list is never compacted: compacting a
// short list saves little memory and costs a pass each time.
const minCompact = 1024

// compactLocked drops from the expiry list the keys no longer held with the expiry listed
// (taken, swept or saved again) and the second listing of a key saved twice with one expiry,
// keeping the order. It keeps at most one listing an entry, so fewer than half of those it
// passes over: each listing is dropped once, and the passes cost at most two steps a Save.
// s.mu must be held.
func (s *MemoryStore) compactLocked() {
	s.generation++
	kept := s.expiring[:0]
	for _, k := range s.expiring[s.head:] {
		e, ok := s.entries[k.key]
		if !ok || !e.expires.Equal(k.expires) || e.listed == s.generation {
			continue
		}
		e.listed = s.generation
		s.entries[k.key] = e
		kept = append(kept, k)
	}
	clear(s.expiring[len(kept):])
	if cap(kept) > 4*(len(kept)+minCompact) {
		// A burst of flows is over: give its memory back.
		kept = append(make([]expiringKey, 0, 2*(len(kept)+minCompact)), kept...)
	}
	s.expiring, s.head = kept, 0
}

// Take removes the entry under key and, if it has not expired on the
// store's clock, returns its value. It implements [Store.Take]: a missing,
// already taken or expired key returns [ErrNotFound], and if ctx is already
// done Take returns ctx.Err() and deletes nothing.
func (s *MemoryStore) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.clock()

	s.mu.Lock()
	e, ok := s.entries[key]
	if ok {
		delete(s.entries, key)
	}
	s.mu.Unlock()

	if !ok || !now.Before(e.expires) {
		return nil, ErrNotFound
	}
	return e.value, nil
}

// Len returns the number of entries the store holds, including expired
// entries that have not been swept yet.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// sweepLocked deletes every entry expired at now. s.mu must be held.
func (s *MemoryStore) sweepLocked(now time.Time) {
	s.lastSweep = now
	if s.unordered {
		for k, e := range s.entries {
			if !now.Before(e.expires) {
				delete(s.entries, k)
			}
		}
		if len(s.entries) == 0 {
			s.unordered = false
		}
		return
	}
	for ; s.head < len(s.expiring) && !now.Before(s.expiring[s.head].expires); s.head++ {
		// The key may have been taken, or saved again with a later expiry: only an entry
		// that has expired goes.
		k := s.expiring[s.head].key
		if e, ok := s.entries[k]; ok && !now.Before(e.expires) {
			delete(s.entries, k)
		}
		s.expiring[s.head] = expiringKey{}
	}
	if s.head > len(s.expiring)/2 {
		n := copy(s.expiring, s.expiring[s.head:])
		clear(s.expiring[n:])
		s.expiring, s.head = s.expiring[:n], 0
	}
}

func (s *MemoryStore) clock() time.Time {
	if s.now == nil {
		return time.Now()
	}
	return s.now()
}

func (s *MemoryStore) interval() time.Duration {
	if s.sweepInterval <= 0 {
		return DefaultSweepInterval
	}
	return s.sweepInterval
}
