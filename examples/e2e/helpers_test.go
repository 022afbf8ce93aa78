package e2e_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/examples/authserver"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
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

// The test's own view of the servers waits as long as a starved machine needs: what it
// reads decides whether a promise held, so it must not fail for slowness itself.
const patient = time.Minute

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
	cl.redis = goredis.NewClient(&goredis.Options{
		Addr: redisAddr, DialTimeout: patient, ReadTimeout: patient, WriteTimeout: patient, PoolTimeout: patient,
	})
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
		cl.deleteStates()
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

func (cl *cluster) deleteStates() {
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
	consumer     string
	url          bool // AuthorizeURL returned a URL
	authorizeErr error
	// unsaved says why the URL handed out is not known to have its pending authorization in
	// Redis, read right after AuthorizeURL returned; "" when it had.
	unsaved             string
	redirected          bool // the user's decision came back to the callback
	conn                *connect.Connection
	callbackErr         error
	authorize, callback time.Duration
	authorizeAt         time.Time
}

// flow runs one flow: the authorize URL from one replica, the user's consent at the
// authorization server, and the callback at another replica picked at random.
func (cl *cluster) flow(ctx context.Context, consumer string) flowResult {
	r := flowResult{consumer: consumer, authorizeAt: time.Now()}
	a, err := cl.replica().AuthorizeURL(ctx, connect.OAuthConnectRequest{
		ProjectID: "proj", Provider: "local", GroupRef: "group-1", ConsumerRef: consumer,
	})
	r.authorize = time.Since(r.authorizeAt)
	r.url = a != nil && a.URL != ""
	if err != nil {
		r.authorizeErr = err
		return r
	}
	switch n, err := cl.redis.Exists(ctx, cl.prefix+state.Key(a.State)).Result(); {
	case err != nil:
		r.unsaved = fmt.Sprintf("reading Redis: %v", err)
	case n != 1:
		r.unsaved = "its pending authorization is not in Redis"
	}
	loc, err := cl.as.Decide(a.URL, true, "ada", "lovelace")
	if err != nil {
		r.callbackErr = fmt.Errorf("Decide: %w", err)
		return r
	}
	r.redirected = true
	start := time.Now()
	r.conn, r.callbackErr = cl.replica().Callback(ctx, httptest.NewRequest(http.MethodGet, loc.String(), nil))
	r.callback = time.Since(start)
	return r
}

// failedCleanly reports whether err is a failure a starved or broken store may cause and a
// caller can act on: it matches connect.ErrStoreUnavailable and names the store and the
// operation that failed (the stores' messages start with "redis state store: save",
// "postgres: put connection" and so on). Any other error of a flow between working
// replicas breaks a promise: a URL without its session, a lost state, a code refused.
func failedCleanly(err error) bool {
	if !errors.Is(err, connect.ErrStoreUnavailable) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "redis state store: ") || strings.Contains(msg, "postgres: ")
}

// storeCall finds the store and the call in a store's error message.
var storeCall = regexp.MustCompile(`(redis state store|postgres): [a-z]+( [a-z]+)?`)

// tally is what a run of flows came to: how many succeeded, how many failed cleanly, and
// every broken promise.
type tally struct {
	flows, succeeded int
	// cleanAuthorize and cleanCallback count the flows refused with an error naming the
	// store that failed; storedAnyway counts the failed callbacks whose connection was saved
	// all the same (the store's answer was lost, not the write): never a loss.
	cleanAuthorize, cleanCallback, storedAnyway int
	// failedCalls counts the clean failures by the store call that failed.
	failedCalls map[string]int
	// codeRequests counts the authorization_code requests the server saw; redirects, the
	// callbacks that could send one.
	codeRequests, redirects int
	statesLeft              int
	connections             []string // the ids of every stored connection
	broken                  []string
}

func (tl *tally) breaks(format string, args ...any) {
	tl.broken = append(tl.broken, fmt.Sprintf(format, args...))
}

// check holds the results of flows (each of its own consumer) to connect's promises, reading
// Redis and PostgreSQL through the test's own patient clients: every URL handed out had its
// session saved; every failure is an error naming what failed, with no URL or connection
// beside it; every successful callback's connection is stored once and readable; no
// consumer has two connections, and no connection belongs to no flow; no code was sent to
// the token endpoint twice; and no pending authorization is left but those a failed store
// call may have left behind. It returns the figures and the broken promises, which
// tally.fail reports.
func (cl *cluster) check(t *testing.T, results []flowResult) tally {
	t.Helper()
	ctx := context.Background()
	tl := tally{flows: len(results), failedCalls: map[string]int{}}
	leftBehind := 0 // failures after which a state may stay in Redis until it expires
	for _, r := range results {
		switch {
		case r.authorizeErr != nil:
			if r.url {
				tl.breaks("flow %s: AuthorizeURL returned a URL with its error %v", r.consumer, r.authorizeErr)
			}
			if !failedCleanly(r.authorizeErr) {
				tl.breaks("flow %s: AuthorizeURL failed with %v; want ErrStoreUnavailable naming the store", r.consumer, r.authorizeErr)
				continue
			}
			tl.cleanAuthorize++
			tl.failedCalls[storeCall.FindString(r.authorizeErr.Error())]++
			leftBehind++ // a Save whose answer was lost may have been done
		case r.callbackErr != nil:
			if r.conn != nil {
				tl.breaks("flow %s: Callback returned a connection with its error %v", r.consumer, r.callbackErr)
			}
			if !failedCleanly(r.callbackErr) {
				tl.breaks("flow %s: Callback failed with %v; want ErrStoreUnavailable naming the store", r.consumer, r.callbackErr)
				break
			}
			tl.cleanCallback++
			tl.failedCalls[storeCall.FindString(r.callbackErr.Error())]++
			if strings.Contains(r.callbackErr.Error(), "taking the pending authorization") {
				leftBehind++ // a Take whose command never ran
			}
		case r.conn == nil:
			tl.breaks("flow %s: Callback returned neither a connection nor an error", r.consumer)
		default:
			tl.succeeded++
		}
		if r.unsaved != "" {
			tl.breaks("flow %s: a URL was handed out, but %s", r.consumer, r.unsaved)
		}
		if r.redirected {
			tl.redirects++
		}
	}

	recs, err := postgres.NewConnectionStore(cl.pool, postgres.WithSchema(cl.schema)).List(ctx, "proj", connect.ConnectionFilter{})
	if err != nil {
		t.Fatalf("listing the stored connections: %v", err)
	}
	stored := map[string][]string{} // consumer: connection ids
	for _, rec := range recs {
		tl.connections = append(tl.connections, rec.Connection.ID)
		stored[rec.Connection.Consumer.Ref] = append(stored[rec.Connection.Consumer.Ref], rec.Connection.ID)
	}
	flowOf := map[string]bool{}
	for _, r := range results {
		flowOf[r.consumer] = true
		ids := stored[r.consumer]
		switch {
		case len(ids) > 1:
			tl.breaks("consumer %s has %d connections %v, want at most 1", r.consumer, len(ids), ids)
		case r.conn != nil && r.callbackErr == nil && (len(ids) != 1 || ids[0] != r.conn.ID):
			tl.breaks("flow %s: Callback reported connection %s, but the store holds %v (lost)", r.consumer, r.conn.ID, ids)
		case r.callbackErr != nil && len(ids) == 1:
			tl.storedAnyway++
		}
	}
	for consumer, ids := range stored {
		if !flowOf[consumer] {
			tl.breaks("connections %v of consumer %s belong to no flow", ids, consumer)
		}
	}
	// Every reported connection is readable through a replica, when its store answers.
	for _, r := range results {
		if r.conn == nil || r.callbackErr != nil {
			continue
		}
		if err := retryClean(func() error {
			_, err := cl.replica().Connection(ctx, "proj", r.conn.ID)
			return err
		}); err != nil {
			tl.breaks("connection %s of flow %s is not readable: %v", r.conn.ID, r.consumer, err)
		}
	}

	tl.codeRequests = cl.as.TokenRequests()["authorization_code"]
	if tl.codeRequests > tl.redirects || tl.codeRequests < tl.succeeded {
		tl.breaks("%d authorization_code requests at the server for %d callbacks, %d of them successful; want one per callback at most",
			tl.codeRequests, tl.redirects, tl.succeeded)
	}
	if tl.statesLeft = cl.states(t); tl.statesLeft > leftBehind {
		tl.breaks("%d pending authorizations left in Redis, but only %d failed store calls may leave one", tl.statesLeft, leftBehind)
	}

	if tl.succeeded == 0 {
		tl.breaks("none of %d flows succeeded: nothing shows that the flow works at all", tl.flows)
	}
	return tl
}

// fail reports the broken promises of the tally as errors of the test.
func (tl tally) fail(t *testing.T) {
	t.Helper()
	for i, b := range tl.broken {
		if i == 10 {
			t.Errorf("... and %d more", len(tl.broken)-i)
			break
		}
		t.Error(b)
	}
}

// String is the tally as the reports print it.
func (tl tally) String() string {
	return fmt.Sprintf("%d flows: %d succeeded, %d failed cleanly at AuthorizeURL and %d at Callback (ErrStoreUnavailable naming the store: %v; %d of those connections were saved all the same); %d code exchanges for %d callbacks; %d states left; %d broken promises",
		tl.flows, tl.succeeded, tl.cleanAuthorize, tl.cleanCallback, tl.failedCalls, tl.storedAnyway, tl.codeRequests, tl.redirects, tl.statesLeft, len(tl.broken))
}

// retryClean calls f until it succeeds or fails other than cleanly, at most five times,
// backing off in between: a starved store failing cleanly says nothing of what it holds.
func retryClean(f func() error) error {
	var err error
	for i := range 5 {
		if err = f(); err == nil || !failedCleanly(err) {
			return err
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	return err
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
