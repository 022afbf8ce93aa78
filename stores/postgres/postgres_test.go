package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/state"
	"github.com/connectkit/connect/stores/postgres"
	"github.com/connectkit/connect/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests run against the server that CONNECT_POSTGRES_URL names; without it
// they skip, or fail when CONNECT_REQUIRE_SERVERS=1.
const (
	urlEnv     = "CONNECT_POSTGRES_URL"
	requireEnv = "CONNECT_REQUIRE_SERVERS"
)

// The stores implement the interfaces of connect.
var (
	_ connect.ConnectionStore = (*postgres.ConnectionStore)(nil)
	_ connect.PersistentStore = (*postgres.ConnectionStore)(nil)
	_ connect.AppStore        = (*postgres.AppStore)(nil)
	_ state.Store             = (*postgres.StateStore)(nil)
)

// shared is the pool of the test binary, made on first use and closed by
// TestMain.
var shared struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.pool != nil {
		shared.pool.Close()
	}
	os.Exit(code)
}

// serverURL returns CONNECT_POSTGRES_URL, or skips (fails when servers are
// required) if it is unset.
func serverURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s=1 but %s is not set: start PostgreSQL with eval \"$(scripts/services)\" from the repository root", requireEnv, urlEnv)
		}
		t.Skip("set CONNECT_POSTGRES_URL (e.g. eval \"$(scripts/services)\") to run against PostgreSQL")
	}
	return url
}

// testPool returns the shared pool on the test server.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := serverURL(t)
	shared.once.Do(func() {
		shared.pool, shared.err = pgxpool.New(context.Background(), url)
		if shared.err == nil {
			shared.err = shared.pool.Ping(context.Background())
		}
	})
	if shared.err != nil {
		t.Fatalf("connecting to %s: %v", urlEnv, shared.err)
	}
	return shared.pool
}

// newPool returns a pool of its own on the test server, as another replica has.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// offlinePool returns a pool that never connects, for checks made before any
// query.
func offlinePool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// freshSchema returns a random schema name, not created yet, and drops the
// schema when the test ends.
func freshSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "connect_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// migrated returns a fresh schema with the tables made by Migrate.
func migrated(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	schema := freshSchema(t, pool)
	if err := postgres.Migrate(ctx(t), pool, postgres.WithSchema(schema)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return schema
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// dump returns every row of every table of the schema, twice: as the server
// prints it (row::text, where bytea shows in hex) and as the raw bytes of each
// column in the binary format, where bytea is the stored bytes themselves.
func dump(t testing.TB, pool *pgxpool.Pool, schema string) []byte {
	t.Helper()
	rows, err := pool.Query(ctx(t), "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, table := range tables {
		name := pgx.Identifier{schema, table}.Sanitize()
		rows, err := pool.Query(ctx(t), "SELECT t::text FROM "+name+" t")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			out = append(append(out, s...), '\n')
		}
		rows, err = pool.Query(ctx(t), "SELECT * FROM "+name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			for _, v := range rows.RawValues() {
				out = append(append(out, v...), '\n')
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// clock is a fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

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

func testKeyring(t testing.TB) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{0x42}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestStateStoreConformance(t *testing.T) {
	pool := testPool(t)
	clk := newClock()
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store {
			return postgres.NewStateStore(pool, postgres.WithSchema(migrated(t, pool)), postgres.WithClock(clk.Now))
		},
		Advance: func(t *testing.T, d time.Duration) { clk.Advance(d) },
	})
}

// TestStateStoreConformanceWallClock runs the suite on the default clock.
func TestStateStoreConformanceWallClock(t *testing.T) {
	pool := testPool(t)
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store {
			return postgres.NewStateStore(pool, postgres.WithSchema(migrated(t, pool)))
		},
	})
}

// schemas remembers the schema of each store a suite made, for Dump.
type schemas struct {
	mu sync.Mutex
	of map[any]string
}

func (s *schemas) add(store any, schema string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.of == nil {
		s.of = map[any]string{}
	}
	s.of[store] = schema
}

func (s *schemas) get(store any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.of[store]
}

func TestConnectionStoreConformance(t *testing.T) {
	pool := testPool(t)
	var made schemas
	storetest.RunConnectionStore(t, storetest.ConnectionStore{
		New: func(t *testing.T) connect.ConnectionStore {
			schema := migrated(t, pool)
			st := postgres.NewConnectionStore(pool, postgres.WithSchema(schema))
			made.add(st, schema)
			return st
		},
		Dump: func(t *testing.T, st connect.ConnectionStore) []byte { return dump(t, pool, made.get(st)) },
		// Another replica: its own pool on the same schema.
		Replica: func(t *testing.T, st connect.ConnectionStore) connect.ConnectionStore {
			return postgres.NewConnectionStore(newPool(t), postgres.WithSchema(made.get(st)))
		},
	})
}

func TestAppStoreConformance(t *testing.T) {
	pool := testPool(t)
	var made schemas
	storetest.RunAppStore(t, storetest.AppStore{
		New: func(t *testing.T, apps []connect.ProviderApp) connect.AppStore {
			schema := migrated(t, pool)
			st, err := postgres.NewAppStore(pool, testKeyring(t), postgres.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range apps {
				if err := st.Put(ctx(t), a); err != nil {
					t.Fatalf("Put(%s): %v", a.ID, err)
				}
			}
			made.add(st, schema)
			return st
		},
		Dump: func(t *testing.T, st connect.AppStore) []byte { return dump(t, pool, made.get(st)) },
	})
}
