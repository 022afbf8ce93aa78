package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/examples/authserver"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/stores/postgres"
	connectredis "github.com/connectkit/connect/stores/redis"
)

// servers returns the addresses of the Redis and PostgreSQL servers the multi-replica tests
// run against. Without them the tests skip, or fail when CONNECT_REQUIRE_SERVERS=1 (as in CI).
func servers(t *testing.T) (redisAddr, postgresURL string) {
	t.Helper()
	redisAddr, postgresURL = os.Getenv("CONNECT_REDIS_ADDR"), os.Getenv("CONNECT_POSTGRES_URL")
	if redisAddr != "" && postgresURL != "" {
		return redisAddr, postgresURL
	}
	msg := `set CONNECT_REDIS_ADDR and CONNECT_POSTGRES_URL (e.g. eval "$(scripts/services)") to run against Redis and PostgreSQL`
	if os.Getenv("CONNECT_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", ""
}

// cluster is a local authorization server and several replicas of a backend, each a
// Connector with its own Redis client and PostgreSQL pool, sharing one Redis key prefix and
// one PostgreSQL schema, as replicas behind a load balancer share their servers.
type cluster struct {
	as       *authserver.Server
	srv      *httptest.Server
	replicas []*connect.Connector
	redis    *goredis.Client // the test's own view of Redis
	prefix   string
	pool     *pgxpool.Pool // the test's own view of PostgreSQL
	schema   string
}

type clusterConfig struct {
	replicas            int
	redisAddr, pgURL    string // the addresses the replicas dial (a proxy's, for faults)
	accessTokenLifespan time.Duration
	expiryDelta         time.Duration
	storeTimeout        time.Duration
}

func newCluster(t *testing.T, cc clusterConfig) *cluster {
	t.Helper()
	redisAddr, pgURL := servers(t)
	if cc.redisAddr == "" {
		cc.redisAddr = redisAddr
	}
	if cc.pgURL == "" {
		cc.pgURL = pgURL
	}
	ctx := context.Background()
	as, err := authserver.New(authserver.Config{
		Clients: []authserver.Client{{
			ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURL},
			Scopes:     []string{"read", "write", "offline_access"},
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		Users:               []authserver.User{{Username: "ada", Password: "lovelace"}},
		AccessTokenLifespan: cc.accessTokenLifespan,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(as.Handler())
	t.Cleanup(srv.Close)
	as.SetIssuer(srv.URL)

	suffix := rand.Text()[:12]
	cl := &cluster{as: as, srv: srv, prefix: "connect-e2e:" + suffix + ":", schema: "e2e_" + strings.ToLower(suffix)}
	cl.redis = goredis.NewClient(&goredis.Options{Addr: redisAddr})
	t.Cleanup(func() { cl.redis.Close() })
	if cl.pool, err = pgxpool.New(ctx, pgURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.pool.Close)
	if err := postgres.Migrate(ctx, cl.pool, postgres.WithSchema(cl.schema)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	t.Cleanup(func() {
		_, _ = cl.pool.Exec(context.Background(), "DROP SCHEMA "+cl.schema+" CASCADE")
		cl.deleteStates(t)
	})

	keys, err := keyring.New("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	reg := providers.NewRegistry()
	if err := reg.Register(&providers.Provider{
		Name: "local", AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token", Issuer: srv.URL,
		PKCE: providers.PKCERequired, Prompt: "consent",
	}); err != nil {
		t.Fatal(err)
	}
	for i := range cc.replicas {
		rc := goredis.NewClient(&goredis.Options{Addr: cc.redisAddr, MaxRetries: -1})
		t.Cleanup(func() { rc.Close() })
		pcfg, err := pgxpool.ParseConfig(cc.pgURL)
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		apps, err := postgres.NewAppStore(pool, keys, postgres.WithSchema(cl.schema))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := apps.Put(ctx, connect.ProviderApp{ID: "app-1", ProjectID: "proj", Provider: "local",
				ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"read"}}); err != nil {
				t.Fatalf("AppStore.Put: %v", err)
			}
		}
		c, err := connect.New(connect.Config{
			Providers:    reg,
			Apps:         apps,
			States:       connectredis.NewStateStore(rc, connectredis.WithPrefix(cl.prefix)),
			Connections:  postgres.NewConnectionStore(pool, postgres.WithSchema(cl.schema)),
			Keyring:      keys,
			RedirectURL:  redirectURL,
			HTTPClient:   srv.Client(),
			ExpiryDelta:  cc.expiryDelta,
			StoreTimeout: cc.storeTimeout,
		})
		if err != nil {
			t.Fatal(err)
		}
		cl.replicas = append(cl.replicas, c)
	}
	return cl
}

// states counts the pending authorizations left in Redis.
func (cl *cluster) states(t *testing.T) int {
	t.Helper()
	keys, err := cl.redis.Keys(context.Background(), cl.prefix+"*").Result()
	if err != nil {
		t.Fatalf("Redis KEYS: %v", err)
	}
	return len(keys)
}

func (cl *cluster) deleteStates(t *testing.T) {
	keys, err := cl.redis.Keys(context.Background(), cl.prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		cl.redis.Del(context.Background(), keys...)
	}
}

// replica picks a replica at random, as a load balancer does.
func (cl *cluster) replica() *connect.Connector {
	var b [1]byte
	_, _ = rand.Read(b[:])
	return cl.replicas[int(b[0])%len(cl.replicas)]
}

// flowResult is what one authorize-then-callback flow saw.
type flowResult struct {
	consumer             string
	url                  bool // AuthorizeURL returned a URL
	authorizeErr         error
	conn                 *connect.Connection
	callbackErr          error
	authorize, callback  time.Duration
	authorizeAt, endedAt time.Time
}

// flow runs one flow: the authorize URL from one replica, the user's consent at the
// authorization server, and the callback at another replica picked at random.
func (cl *cluster) flow(ctx context.Context, consumer string) flowResult {
	r := flowResult{consumer: consumer, authorizeAt: time.Now()}
	a, err := cl.replica().AuthorizeURL(ctx, connect.OAuthConnectRequest{
		ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: consumer,
	})
	r.authorize = time.Since(r.authorizeAt)
	if err != nil {
		r.authorizeErr = err
		r.endedAt = time.Now()
		return r
	}
	r.url = a.URL != ""
	loc, err := cl.as.Decide(a.URL, true, "ada", "lovelace")
	if err != nil {
		r.callbackErr = fmt.Errorf("Decide: %w", err)
		r.endedAt = time.Now()
		return r
	}
	start := time.Now()
	r.conn, r.callbackErr = cl.replica().Callback(ctx, httptest.NewRequest(http.MethodGet, loc.String(), nil))
	r.callback = time.Since(start)
	r.endedAt = time.Now()
	return r
}

// loadFlows is the number of flows of TestMultiReplicaLoad: CONNECT_LOAD_FLOWS, or a short
// run by default.
func loadFlows(t *testing.T) int {
	if v := os.Getenv("CONNECT_LOAD_FLOWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CONNECT_LOAD_FLOWS=%q is not a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 100
	}
	return 1000
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

// TestMultiReplicaLoad runs authorize-then-callback flows through three replicas sharing
// Redis and PostgreSQL, each callback sent to a replica at random, while other goroutines
// keep refreshing a few hot connections through random replicas (the access tokens live two
// seconds). Afterwards every flow has exactly one connection, no pending authorization is
// left in Redis, and every connection still refreshes: no rotated refresh token was lost.
//
// CONNECT_LOAD_FLOWS sets the number of flows (10000 for the full run; 1000 by default).
func TestMultiReplicaLoad(t *testing.T) {
	cl := newCluster(t, clusterConfig{replicas: 3, accessTokenLifespan: 2 * time.Second, expiryDelta: 500 * time.Millisecond})
	flows := loadFlows(t)
	const workers = 16
	ctx := context.Background()

	var (
		hot    atomic.Pointer[[]string]
		hotMu  sync.Mutex
		hotIDs []string
	)
	results := make([]flowResult, flows)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				results[i] = cl.flow(ctx, fmt.Sprintf("user-%05d", i))
				if c := results[i].conn; c != nil {
					// The first eight connections become the hot ones.
					hotMu.Lock()
					if len(hotIDs) < 8 {
						if hotIDs = append(hotIDs, c.ID); len(hotIDs) == 8 {
							ids := slices.Clone(hotIDs)
							hot.Store(&ids)
						}
					}
					hotMu.Unlock()
				}
			}
		})
	}

	// Refreshers: the tokens of the first connections, fetched through random replicas over
	// and over while the flows run. Their access tokens expire every two seconds, so the
	// replicas keep racing to refresh the same connections.
	stop := make(chan struct{})
	var tokenCalls, tokenErrs atomic.Int64
	var rwg sync.WaitGroup
	for w := range 6 {
		rwg.Go(func() {
			for n := w; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ids := hot.Load()
				if ids == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				id := (*ids)[n%len(*ids)]
				ts, err := cl.replica().TokenSource(ctx, id)
				if err == nil {
					_, err = ts.Token()
				}
				tokenCalls.Add(1)
				if err != nil {
					tokenErrs.Add(1)
					t.Errorf("refreshing %s: %v", id, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	start := time.Now()
	for i := range flows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	rwg.Wait()

	var authLat, cbLat []time.Duration
	failed := 0
	for _, r := range results {
		if r.authorizeErr != nil || r.callbackErr != nil {
			failed++
			if failed <= 5 {
				t.Errorf("flow %s: authorize %v, callback %v", r.consumer, r.authorizeErr, r.callbackErr)
			}
			continue
		}
		authLat = append(authLat, r.authorize)
		cbLat = append(cbLat, r.callback)
	}
	if failed > 0 {
		t.Fatalf("%d of %d flows failed", failed, flows)
	}

	// Every flow has exactly one connection, and the store holds nothing else.
	all, err := cl.replicas[0].Connections(ctx, "proj", connect.ConnectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byConsumer := map[string]int{}
	for _, c := range all {
		byConsumer[c.Consumer.Ref]++
	}
	lost := 0
	for _, r := range results {
		if byConsumer[r.consumer] != 1 {
			lost++
			if lost <= 5 {
				t.Errorf("consumer %s has %d connections, want 1", r.consumer, byConsumer[r.consumer])
			}
		}
	}
	if len(all) != flows || lost != 0 {
		t.Fatalf("%d connections for %d flows, %d flows without exactly one", len(all), flows, lost)
	}
	if n := cl.states(t); n != 0 {
		t.Errorf("%d pending authorizations left in Redis, want 0", n)
	}

	// No token was lost: each connection still refreshes, through any replica. The access
	// tokens have expired by now (they lived two seconds), so every Token call refreshes.
	time.Sleep(2 * time.Second)
	var vwg sync.WaitGroup
	var vmu sync.Mutex
	var broken []string
	ids := make(chan string)
	for range workers {
		vwg.Go(func() {
			for id := range ids {
				ts, err := cl.replica().TokenSource(ctx, id)
				if err == nil {
					_, err = ts.Token()
				}
				if err != nil {
					vmu.Lock()
					broken = append(broken, fmt.Sprintf("%s: %v", id, err))
					vmu.Unlock()
				}
			}
		})
	}
	for _, c := range all {
		ids <- c.ID
	}
	close(ids)
	vwg.Wait()
	if len(broken) > 0 {
		t.Fatalf("%d connections no longer refresh (a rotated refresh token was lost), e.g. %v", len(broken), broken[:min(3, len(broken))])
	}

	perReplica := float64(flows) / elapsed.Seconds() / float64(len(cl.replicas))
	report(t, "load: %d flows through %d replicas in %v: %.0f flows/s in all, %.0f per replica",
		flows, len(cl.replicas), elapsed.Round(time.Millisecond), float64(flows)/elapsed.Seconds(), perReplica)
	report(t, "load: AuthorizeURL p50 %v p99 %v; Callback p50 %v p99 %v",
		percentile(authLat, 0.5).Round(time.Microsecond), percentile(authLat, 0.99).Round(time.Microsecond),
		percentile(cbLat, 0.5).Round(time.Microsecond), percentile(cbLat, 0.99).Round(time.Microsecond))
	report(t, "load: %d token requests on hot connections during the run (%d errors), refresh_token grants at the server: %d; connections lost: 0; states left: 0",
		tokenCalls.Load(), tokenErrs.Load(), cl.as.TokenRequests()["refresh_token"])
}

// report logs a figure of the multi-replica tests and, when CONNECT_TEST_REPORT names a file,
// appends it there, so that scripts/test prints the figures without -v.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf(format, args...)
	name := os.Getenv("CONNECT_TEST_REPORT")
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Errorf("CONNECT_TEST_REPORT: %v", err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, format+"\n", args...); err != nil {
		t.Errorf("CONNECT_TEST_REPORT: %v", err)
	}
}
