package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/connectkit/connect/state"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// StateStore is a [state.Store] in PostgreSQL, in the states table of the
// schema. It is safe for concurrent use, from any number of processes.
//
// Keys and values are kept as bytea, so any bytes work. Expiry runs on the
// store's clock ([WithClock]), not the server's: each entry keeps the instant
// it expires, and Take compares it with the clock in the same statement that
// deletes the entry. An expired entry is never returned, even before
// [StateStore.DeleteExpired] has removed it; a Take of it deletes it and
// returns [state.ErrNotFound].
type StateStore struct {
	pool *pgxpool.Pool
	now  func() time.Time
	err  error // a configuration error, returned by every method
	q    stateQueries
}

type stateQueries struct {
	save, take, sweep string
}

// NewStateStore returns a store on pool, in the schema the options name. Run
// [Migrate] first. A bad option (a malformed schema name) or a nil pool makes
// every method fail.
func NewStateStore(pool *pgxpool.Pool, opts ...Option) *StateStore {
	cfg, err := newConfig(pool, opts)
	if err != nil {
		return &StateStore{err: err}
	}
	t := cfg.states
	return &StateStore{pool: pool, now: cfg.now, q: stateQueries{
		save: "INSERT INTO " + t + ` (key, value, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		take:  "DELETE FROM " + t + " WHERE key = $1 RETURNING value, expires_at > $2",
		sweep: "DELETE FROM " + t + " WHERE expires_at <= $1",
	}}
}

// Save implements [state.Store.Save]: one INSERT ... ON CONFLICT DO UPDATE, so
// an entry under key is replaced with its value and expiry.
func (s *StateStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: save state: %w", err)
	}
	if s.err != nil {
		return s.err
	}
	if ttl <= 0 {
		return fmt.Errorf("postgres: save state: the ttl must be positive, not %s", ttl)
	}
	if value == nil {
		value = []byte{} // a nil slice would be NULL
	}
	if _, err := s.pool.Exec(ctx, s.q.save, []byte(key), value, s.now().Add(ttl)); err != nil {
		return fmt.Errorf("postgres: save state: %w", dbError(err))
	}
	return nil
}

// Take implements [state.Store.Take] with one statement, DELETE ... RETURNING,
// so of concurrent Takes of one key exactly one gets the row. An expired
// entry is deleted and gives [state.ErrNotFound].
func (s *StateStore) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: take state: %w", err)
	}
	if s.err != nil {
		return nil, s.err
	}
	var value []byte
	var live bool
	err := s.pool.QueryRow(ctx, s.q.take, []byte(key), s.now()).Scan(&value, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: take state: %w", state.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("postgres: take state: %w", dbError(err))
	case !live:
		return nil, fmt.Errorf("postgres: take state: %w (expired)", state.ErrNotFound)
	case value == nil:
		value = []byte{}
	}
	return value, nil
}

// DeleteExpired deletes the entries whose expiry has passed on the store's
// clock and returns how many it deleted. Expired entries are never returned
// by Take whether or not they have been swept; run DeleteExpired now and then
// (every few minutes, from one replica or all) only to reclaim their space.
func (s *StateStore) DeleteExpired(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: delete expired states: %w", err)
	}
	if s.err != nil {
		return 0, s.err
	}
	tag, err := s.pool.Exec(ctx, s.q.sweep, s.now())
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired states: %w", dbError(err))
	}
	return tag.RowsAffected(), nil
}
