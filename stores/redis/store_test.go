package redis_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect/state"
	connectredis "github.com/connectkit/connect/stores/redis"
	"github.com/connectkit/connect/storetest"
)

// serverEnv returns the value of the environment variable that points the tests at a
// server (name, what it names). Without it the test skips, or fails if
// CONNECT_REQUIRE_SERVERS=1.
func serverEnv(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CONNECT_REQUIRE_SERVERS") == "1" {
			t.Fatal(name + " is not set, and CONNECT_REQUIRE_SERVERS=1 forbids skipping: " +
				`run eval "$(scripts/services)" from the repository root`)
		}
		t.Skip(`set ` + name + ` (e.g. eval "$(scripts/services)") to run against ` + what)
	}
	return v
}

// redisAddr returns the address of the Redis server the tests run against.
func redisAddr(t testing.TB) string { return serverEnv(t, "CONNECT_REDIS_ADDR", "Redis") }

// patient is how long the tests' clients wait for the server: on a starved machine a
// command may be slow, and the tests assert what the store does, not how fast.
const patient = time.Minute

// newClient returns a client of the test server, closed when the test ends.
func newClient(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{
		Addr: redisAddr(t), DialTimeout: patient, ReadTimeout: patient, WriteTimeout: patient, PoolTimeout: patient,
	})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING %s: %v", c.Options().Addr, err)
	}
	return c
}

// freshPrefix returns a key prefix no other test uses, and deletes every key under it
// when the test ends.
func freshPrefix(t testing.TB, c goredis.UniversalClient) string {
	t.Helper()
	prefix := "connect:test:" + rand.Text() + ":" // base32: no glob characters
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := keysUnder(ctx, c, prefix)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for chunk := range slices.Chunk(keys, 500) {
			if err := c.Unlink(ctx, chunk...).Err(); err != nil {
				t.Errorf("cleanup: UNLINK: %v", err)
				return
			}
		}
	})
	return prefix
}

// keysUnder returns every key that starts with prefix, which must hold no glob characters.
func keysUnder(ctx context.Context, c goredis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("SCAN %s*: %w", prefix, err)
	}
	return keys, nil
}

func TestConformance(t *testing.T) {
	c := newClient(t)
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store {
			return connectredis.NewStateStore(c, connectredis.WithPrefix(freshPrefix(t, c)))
		},
	})
}

func TestWithPrefix(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	prefix := freshPrefix(t, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(prefix))
	const key = "s256:k\x00{x}"
	if err := st.Save(ctx, key, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Save: %v", err)
	}

	keys, err := keysUnder(ctx, c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{prefix + key}; !slices.Equal(keys, want) {
		t.Fatalf("keys under the prefix = %q, want %q", keys, want)
	}
	if n, err := c.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("EXISTS of the bare key = %d, %v; want 0", n, err)
	}
	if got, err := c.Get(ctx, prefix+key).Result(); err != nil || got != "v" {
		t.Errorf("GET prefix+key = %q, %v; want %q", got, err, "v")
	}
	pttl, err := c.PTTL(ctx, prefix+key).Result()
	if err != nil || pttl <= 0 || pttl > time.Minute {
		t.Errorf("PTTL prefix+key = %v, %v; want in (0, 1m]", pttl, err)
	}

	if got, err := st.Take(ctx, key); err != nil || string(got) != "v" {
		t.Fatalf("Take = %q, %v; want %q", got, err, "v")
	}
	if keys, err := keysUnder(ctx, c, prefix); err != nil || len(keys) != 0 {
		t.Errorf("keys under the prefix after Take = %q, %v; want none", keys, err)
	}
}

func TestDefaultPrefix(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	st := connectredis.NewStateStore(c)
	key := "test:" + rand.Text()
	t.Cleanup(func() { c.Del(context.Background(), "connect:state:"+key) })
	if err := st.Save(ctx, key, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got, err := c.Get(ctx, "connect:state:"+key).Result(); err != nil || got != "v" {
		t.Errorf("GET connect:state:+key = %q, %v; want %q", got, err, "v")
	}
	if got, err := st.Take(ctx, key); err != nil || string(got) != "v" {
		t.Errorf("Take = %q, %v; want %q", got, err, "v")
	}
}

func TestEmptyPrefix(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	prefix := freshPrefix(t, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(""))
	if err := st.Save(ctx, prefix+"k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got, err := c.Get(ctx, prefix+"k").Result(); err != nil || got != "v" {
		t.Errorf("GET of the key as given = %q, %v; want %q", got, err, "v")
	}
}

// recorder is a go-redis hook that records the arguments of every command the client
// processes, whether or not it reaches a server.
type recorder struct {
	mu   sync.Mutex
	cmds [][]any
}

func (r *recorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *recorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.mu.Lock()
		r.cmds = append(r.cmds, slices.Clone(cmd.Args()))
		r.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (r *recorder) take() [][]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmds := r.cmds
	r.cmds = nil
	return cmds
}

// unreachable returns a client of a port where no server listens, which fails fast.
func unreachable(t *testing.T) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr:          "127.0.0.1:1",
		DialTimeout:   time.Second,
		DialerRetries: 1,
		MaxRetries:    -1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSaveCommand(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		ms   int64
	}{
		{"nanosecond", time.Nanosecond, 1},
		{"sub-millisecond", 999 * time.Microsecond, 1},
		{"millisecond", time.Millisecond, 1},
		{"fraction rounded up", 1500 * time.Microsecond, 2},
		{"ten minutes", 10 * time.Minute, 600_000},
		{"maximum", math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := unreachable(t)
			rec := &recorder{}
			c.AddHook(rec)
			st := connectredis.NewStateStore(c, connectredis.WithPrefix("p:"))
			value := []byte("value")
			_ = st.Save(context.Background(), "k\x00", value, tt.ttl) // no server: only the command matters
			want := [][]any{{"set", "p:k\x00", value, "px", tt.ms}}
			if got := rec.take(); !cmdsEqual(got, want) {
				t.Errorf("Save with ttl %v sent %v, want %v", tt.ttl, got, want)
			}
		})
	}
}

func cmdsEqual(a, b [][]any) bool {
	return slices.EqualFunc(a, b, func(x, y []any) bool {
		return slices.EqualFunc(x, y, func(u, v any) bool {
			ub, uok := u.([]byte)
			vb, vok := v.([]byte)
			if uok || vok {
				return uok && vok && bytes.Equal(ub, vb)
			}
			return u == v
		})
	})
}

func TestSubMillisecondTTL(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	prefix := freshPrefix(t, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(prefix))
	for _, ttl := range []time.Duration{time.Nanosecond, 500 * time.Microsecond} {
		if err := st.Save(ctx, "s256:tiny", []byte("v"), ttl); err != nil {
			t.Fatalf("Save with ttl %v: %v", ttl, err)
		}
		time.Sleep(20 * time.Millisecond)
		if v, err := st.Take(ctx, "s256:tiny"); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("Take 20ms after a Save with ttl %v = %q, %v; want state.ErrNotFound", ttl, v, err)
		}
	}
}

func TestBadTTLSendsNothing(t *testing.T) {
	c := unreachable(t)
	rec := &recorder{}
	c.AddHook(rec)
	st := connectredis.NewStateStore(c)
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		if err := st.Save(context.Background(), "k", []byte("v"), ttl); err == nil {
			t.Errorf("Save with ttl %v = nil, want an error", ttl)
		}
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("Save with a bad ttl sent %v, want no command", got)
	}
}

func TestDoneContextSendsNothing(t *testing.T) {
	c := unreachable(t)
	rec := &recorder{}
	c.AddHook(rec)
	st := connectredis.NewStateStore(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Save(ctx, "k", []byte("v"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v, want context.Canceled", err)
	}
	if v, err := st.Take(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Take with a cancelled context = %q, %v; want context.Canceled", v, err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("calls with a cancelled context sent %v, want no command", got)
	}
}

// sentinel is a value whose bytes must appear in no error.
const sentinel = "SENTINEL-VALUE-7f3a9c"

// checkFailure checks that err is a failure that is neither success nor ErrNotFound, and
// that it says nothing of the value.
func checkFailure(t *testing.T, what string, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s = nil, want an error", what)
	case errors.Is(err, state.ErrNotFound):
		t.Errorf("%s = %v, which matches state.ErrNotFound; want another error (fail closed)", what, err)
	case strings.Contains(fmt.Sprintf("%+v", err), sentinel):
		t.Errorf("%s = %v, which contains the value", what, err)
	case !strings.HasPrefix(err.Error(), "redis state store: "):
		t.Errorf("%s = %q, want the prefix %q", what, err, "redis state store: ")
	}
}

func TestClosedClient(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st := connectredis.NewStateStore(c)
	err := st.Save(context.Background(), "s256:"+sentinel, []byte(sentinel), time.Minute)
	checkFailure(t, "Save through a closed client", err)
	if !errors.Is(err, goredis.ErrClosed) {
		t.Errorf("Save through a closed client = %v, want an error matching goredis.ErrClosed", err)
	}
	v, err := st.Take(context.Background(), "s256:"+sentinel)
	checkFailure(t, "Take through a closed client", err)
	if v != nil {
		t.Errorf("Take through a closed client returned %q, want no value", v)
	}
}

func TestServerGone(t *testing.T) {
	st := connectredis.NewStateStore(unreachable(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checkFailure(t, "Save to a closed port", st.Save(ctx, "s256:k", []byte(sentinel), time.Minute))
	v, err := st.Take(ctx, "s256:k")
	checkFailure(t, "Take from a closed port", err)
	if v != nil {
		t.Errorf("Take from a closed port returned %q, want no value", v)
	}
}

func TestTakeServerError(t *testing.T) {
	c := newClient(t)
	prefix := freshPrefix(t, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(prefix))
	// A key of another type makes GETDEL fail on the server.
	if err := c.LPush(context.Background(), prefix+"s256:list", sentinel).Err(); err != nil {
		t.Fatal(err)
	}
	v, err := st.Take(context.Background(), "s256:list")
	checkFailure(t, "Take of a key of the wrong type", err)
	if v != nil {
		t.Errorf("Take of a key of the wrong type returned %q, want no value", v)
	}
}

func TestTakeOwnsSlice(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(freshPrefix(t, c)))
	// Take's result is the caller's to write to. Were it the memory of a string, a
	// one-byte string could be the Go runtime's own, shared by every such string.
	for range 2 {
		if err := st.Save(ctx, "s256:b", []byte("A"), time.Minute); err != nil {
			t.Fatal(err)
		}
		v, err := st.Take(ctx, "s256:b")
		if err != nil || string(v) != "A" {
			t.Fatalf("Take = %q, %v; want %q", v, err, "A")
		}
		v[0] = 'Z'
	}
	if s := string([]byte{'A'}); s != "A" {
		t.Fatalf("a one-byte string built after writing to Take's result is %q", s)
	}
}

func TestNilClient(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewStateStore(nil) did not panic")
		}
	}()
	connectredis.NewStateStore(nil)
}

// clusterClient returns a client of the Redis Cluster of CONNECT_REDIS_CLUSTER_ADDRS (a
// comma-separated list of nodes), closed when the test ends.
func clusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	addrs := serverEnv(t, "CONNECT_REDIS_CLUSTER_ADDRS", "a Redis Cluster")
	c := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:       strings.Split(addrs, ","),
		DialTimeout: patient, ReadTimeout: patient, WriteTimeout: patient, PoolTimeout: patient,
	})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING the cluster %s: %v", addrs, err)
	}
	return c
}

// freshClusterPrefix is freshPrefix on a cluster, whose keys live on several masters.
func freshClusterPrefix(t testing.TB, c *goredis.ClusterClient) string {
	t.Helper()
	prefix := "connect:test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			keys, err := keysUnder(ctx, node, prefix)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := node.Unlink(ctx, k).Err(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return prefix
}

// TestConformanceCluster runs the suite on a Redis Cluster: each command of the store
// touches one key, so it needs no hash tag, and its keys spread over the cluster's masters.
func TestConformanceCluster(t *testing.T) {
	c := clusterClient(t)
	storetest.RunStateStore(t, storetest.StateStore{
		New: func(t *testing.T) state.Store {
			return connectredis.NewStateStore(c, connectredis.WithPrefix(freshClusterPrefix(t, c)))
		},
	})

	ctx := context.Background()
	prefix := freshClusterPrefix(t, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(prefix))
	for i := range 64 {
		if err := st.Save(ctx, fmt.Sprintf("s256:%d", i), []byte("v"), time.Minute); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	var mu sync.Mutex
	masters := 0
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		keys, err := keysUnder(ctx, node, prefix)
		if len(keys) > 0 {
			mu.Lock()
			masters++
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if masters < 2 {
		t.Errorf("64 keys landed on %d master(s), want them spread over the cluster", masters)
	}
	for i := range 64 {
		if v, err := st.Take(ctx, fmt.Sprintf("s256:%d", i)); err != nil || string(v) != "v" {
			t.Fatalf("Take: %q, %v", v, err)
		}
	}
}
