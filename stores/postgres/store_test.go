package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/state"
	"github.com/connectkit/connect/stores/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// versions returns the versions recorded in the schema's schema_migrations.
func versions(t *testing.T, pool *pgxpool.Pool, schema string) []int {
	t.Helper()
	rows, err := pool.Query(ctx(t), "SELECT version FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var allVersions = []int{1, 2, 3}

func TestMigrateIdempotent(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	for i := range 3 {
		if err := postgres.Migrate(ctx(t), pool, postgres.WithSchema(schema)); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		if got := versions(t, pool, schema); !slices.Equal(got, allVersions) {
			t.Fatalf("after Migrate #%d the versions are %v, want %v", i+1, got, allVersions)
		}
	}
	// The stores work on the migrated schema.
	st := postgres.NewStateStore(pool, postgres.WithSchema(schema))
	if err := st.Save(ctx(t), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateConcurrent starts 8 replicas, each with its own pool, that all
// migrate one new schema at once.
func TestMigrateConcurrent(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	const replicas = 8
	pools := make([]*pgxpool.Pool, replicas)
	for i := range pools {
		pools[i] = newPool(t)
		if err := pools[i].Ping(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = postgres.Migrate(context.Background(), pools[i], postgres.WithSchema(schema))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate = %v, want nil", i, err)
		}
	}
	// Each version is recorded once (it is the primary key), and the tables of
	// every version are there.
	if got := versions(t, pool, schema); !slices.Equal(got, allVersions) {
		t.Errorf("versions = %v, want %v", got, allVersions)
	}
	var tables int
	err := pool.QueryRow(ctx(t), "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables)
	if err != nil || tables != 4 {
		t.Errorf("%d tables in the schema (%v), want 4", tables, err)
	}
}

func TestMigrateCancelled(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := postgres.Migrate(done, offlinePool(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Migrate with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestBadSchema needs no server: a bad name is refused before any query.
func TestBadSchema(t *testing.T) {
	pool := offlinePool(t)
	kr := testKeyring(t)
	for _, name := range []string{
		"", "Connect", "1abc", "a-b", "a b", `a"b`, "a;DROP SCHEMA public", "pg_catalog", "pg_x",
		"été", "a\x00b", strings.Repeat("a", 64),
	} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			opt := postgres.WithSchema(name)
			if err := postgres.Migrate(ctx(t), pool, opt); err == nil {
				t.Error("Migrate = nil, want an error")
			}
			if _, err := postgres.NewAppStore(pool, kr, opt); err == nil {
				t.Error("NewAppStore = nil error, want one")
			}
			cs := postgres.NewConnectionStore(pool, opt)
			if _, err := cs.Get(ctx(t), "p", "id"); err == nil || errors.Is(err, connect.ErrConnectionNotFound) {
				t.Errorf("ConnectionStore.Get = %v, want a configuration error", err)
			}
			if err := cs.Put(ctx(t), &connect.ConnectionRecord{Connection: connect.Connection{ID: "i", ProjectID: "p"}}); err == nil {
				t.Error("ConnectionStore.Put = nil, want an error")
			}
			ss := postgres.NewStateStore(pool, opt)
			if err := ss.Save(ctx(t), "k", []byte("v"), time.Minute); err == nil {
				t.Error("StateStore.Save = nil, want an error")
			}
			if _, err := ss.Take(ctx(t), "k"); err == nil || errors.Is(err, state.ErrNotFound) {
				t.Errorf("StateStore.Take = %v, want a configuration error", err)
			}
		})
	}
	for _, name := range []string{"connect", "_x", "a1_b2", strings.Repeat("a", 63)} {
		if _, err := postgres.NewAppStore(pool, kr, postgres.WithSchema(name)); err != nil {
			t.Errorf("WithSchema(%q): %v, want it accepted", name, err)
		}
	}
}

func TestNilPoolAndKeyring(t *testing.T) {
	if _, err := postgres.NewAppStore(offlinePool(t), nil); err == nil {
		t.Error("NewAppStore with a nil keyring = nil error, want one (fail closed)")
	}
	if _, err := postgres.NewAppStore(nil, testKeyring(t)); err == nil {
		t.Error("NewAppStore with a nil pool = nil error, want one")
	}
	if err := postgres.Migrate(ctx(t), nil); err == nil {
		t.Error("Migrate with a nil pool = nil, want an error")
	}
	if _, err := postgres.NewStateStore(nil).Take(ctx(t), "k"); err == nil || errors.Is(err, state.ErrNotFound) {
		t.Errorf("Take on a nil pool = %v, want an error", err)
	}
	if _, err := postgres.NewConnectionStore(nil).List(ctx(t), "p", connect.ConnectionFilter{}); err == nil {
		t.Error("List on a nil pool = nil error, want one")
	}
}

// TestConnectorNeedsKeyring: the store is persistent, so connect.New refuses it
// without a keyring.
func TestConnectorNeedsKeyring(t *testing.T) {
	st := postgres.NewConnectionStore(offlinePool(t))
	if !st.Persistent() {
		t.Fatal("Persistent() = false")
	}
	if _, err := connect.New(connect.Config{Connections: st}); err == nil {
		t.Error("connect.New with this store and no keyring = nil error, want one")
	}
	if _, err := connect.New(connect.Config{Connections: st, Keyring: testKeyring(t)}); err != nil {
		t.Errorf("connect.New with a keyring: %v", err)
	}
}

// TestStoresNeedMigrate: the stores never create their tables, and a missing
// table is an error, never "not found".
func TestStoresNeedMigrate(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	opt := postgres.WithSchema(schema)
	const key, value = "s256:KEY-SENTINEL", "VALUE-SENTINEL"
	ss := postgres.NewStateStore(pool, opt)
	err := ss.Save(ctx(t), key, []byte(value), time.Minute)
	if err == nil {
		t.Fatal("Save on a schema never migrated = nil, want an error")
	}
	if strings.Contains(err.Error(), "SENTINEL") {
		t.Errorf("Save error %q shows the key or value", err)
	}
	if _, err := ss.Take(ctx(t), key); err == nil || errors.Is(err, state.ErrNotFound) {
		t.Errorf("Take on a schema never migrated = %v, want an error other than ErrNotFound", err)
	}
	cs := postgres.NewConnectionStore(pool, opt)
	if _, err := cs.Get(ctx(t), "p", "id"); err == nil || errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Get on a schema never migrated = %v, want an error other than ErrConnectionNotFound", err)
	}
	as, err := postgres.NewAppStore(pool, testKeyring(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.App(ctx(t), "p", "github", ""); err == nil || errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("App on a schema never migrated = %v, want an error other than ErrAppNotFound", err)
	}
	var n int
	if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("the stores created the schema (%d, %v)", n, err)
	}
}

func TestStateExpiredTakeDeletes(t *testing.T) {
	pool := testPool(t)
	schema := migrated(t, pool)
	clk := newClock()
	st := postgres.NewStateStore(pool, postgres.WithSchema(schema), postgres.WithClock(clk.Now))
	if err := st.Save(ctx(t), "k", []byte("v"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Second)
	if v, err := st.Take(ctx(t), "k"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Take of an expired entry = %q, %v; want ErrNotFound", v, err)
	}
	if n := countRows(t, pool, schema, "states"); n != 0 {
		t.Errorf("%d rows after a Take of an expired entry, want 0 (deleted anyway)", n)
	}
}

func countRows(t *testing.T, pool *pgxpool.Pool, schema, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM "+pgx.Identifier{schema, table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeleteExpired(t *testing.T) {
	pool := testPool(t)
	schema := migrated(t, pool)
	clk := newClock()
	st := postgres.NewStateStore(pool, postgres.WithSchema(schema), postgres.WithClock(clk.Now))
	for key, ttl := range map[string]time.Duration{"10s": 10 * time.Second, "1m": time.Minute, "1h": time.Hour} {
		if err := st.Save(ctx(t), key, []byte(key), ttl); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		advance time.Duration
		want    int64
		left    int
	}{
		{0, 0, 3},
		{10 * time.Second, 1, 2}, // "10s" expires at exactly this instant
		{10 * time.Second, 0, 2},
		{time.Minute, 1, 1},
		{time.Minute, 0, 1},
	}
	for i, tt := range tests {
		clk.Advance(tt.advance)
		got, err := st.DeleteExpired(ctx(t))
		if err != nil || got != tt.want {
			t.Fatalf("step %d: DeleteExpired = %d, %v; want %d", i, got, err, tt.want)
		}
		if n := countRows(t, pool, schema, "states"); n != tt.left {
			t.Fatalf("step %d: %d rows left, want %d", i, n, tt.left)
		}
	}
	if v, err := st.Take(ctx(t), "1h"); err != nil || string(v) != "1h" {
		t.Errorf("Take of the unexpired entry = %q, %v", v, err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.DeleteExpired(done); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteExpired with a cancelled context = %v, want context.Canceled", err)
	}
}

func app(project, provider, id, secret string) connect.ProviderApp {
	return connect.ProviderApp{ID: id, ProjectID: project, Provider: provider, ClientID: "client-" + id, ClientSecret: connect.Secret(secret)}
}

// TestAppSecretBinding: a sealed client secret moved to another row (another
// app, provider or project) does not open there.
func TestAppSecretBinding(t *testing.T) {
	pool := testPool(t)
	schema := migrated(t, pool)
	st, err := postgres.NewAppStore(pool, testKeyring(t), postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []connect.ProviderApp{
		app("proj", "github", "a", "SECRET-OF-A"),
		app("proj", "github", "b", "secret-of-b"),
		app("proj", "gitlab", "g", "secret-of-g"),
		app("proj2", "github", "a", "secret-of-proj2-a"),
	} {
		if err := st.Put(ctx(t), a); err != nil {
			t.Fatal(err)
		}
	}
	apps := pgx.Identifier{schema, "apps"}.Sanitize()
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx(t), sql); err != nil {
			t.Fatal(err)
		}
	}
	// Copy proj/a's sealed secret into three other rows.
	exec("UPDATE " + apps + " SET client_secret = (SELECT client_secret FROM " + apps +
		" WHERE project_id = 'proj' AND id = 'a') WHERE NOT (project_id = 'proj' AND id = 'a')")
	for _, tt := range []struct{ project, provider, id string }{
		{"proj", "github", "b"},  // another app
		{"proj", "gitlab", "g"},  // another app and provider
		{"proj2", "github", "a"}, // the same id and provider in another project
	} {
		got, err := st.App(ctx(t), tt.project, tt.provider, tt.id)
		switch {
		case err == nil:
			t.Errorf("App(%s, %s, %s) with a moved secret = %v, want an error", tt.project, tt.provider, tt.id, got)
		case errors.Is(err, connect.ErrAppNotFound):
			t.Errorf("App(%s, %s, %s) with a moved secret = %v; want a store error, not ErrAppNotFound", tt.project, tt.provider, tt.id, err)
		case !errors.Is(err, keyring.ErrDecrypt):
			t.Errorf("App(%s, %s, %s) = %v, want keyring.ErrDecrypt", tt.project, tt.provider, tt.id, err)
		case strings.Contains(err.Error(), "SECRET-OF-A"):
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	// Moving the app itself to another provider breaks it too.
	exec("UPDATE " + apps + " SET provider = 'bitbucket' WHERE project_id = 'proj' AND id = 'a'")
	if got, err := st.App(ctx(t), "proj", "bitbucket", ""); err == nil || errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("App of an app moved to another provider = %v, %v; want a decrypt error", got, err)
	}
	exec("UPDATE " + apps + " SET provider = 'github' WHERE project_id = 'proj' AND id = 'a'")
	if got, err := st.App(ctx(t), "proj", "github", "a"); err != nil || got.ClientSecret != "SECRET-OF-A" {
		t.Errorf("App(proj, github, a) back in its row = %v, %v", got, err)
	}
	// The column holds keyring ciphertext.
	var sealed []byte
	if err := pool.QueryRow(ctx(t), "SELECT client_secret FROM "+apps+" WHERE project_id = 'proj' AND id = 'a'").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if id, err := keyring.KeyID(sealed); err != nil || id != "k1" || bytes.Contains(sealed, []byte("SECRET-OF-A")) {
		t.Errorf("client_secret column: key id %q, %v; want ciphertext sealed with k1", id, err)
	}
}

func TestAppPutDelete(t *testing.T) {
	pool := testPool(t)
	schema := migrated(t, pool)
	st, err := postgres.NewAppStore(pool, testKeyring(t), postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	bad := app("proj", "github", "bad id", "s")
	var verr *connect.ValidationError
	if err := st.Put(ctx(t), bad); !errors.As(err, &verr) {
		t.Errorf("Put of an invalid app = %v, want a *connect.ValidationError", err)
	}
	if n := countRows(t, pool, schema, "apps"); n != 0 {
		t.Errorf("%d rows after an invalid Put, want 0", n)
	}
	a := app("proj", "github", "a", "one")
	if err := st.Put(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	a.ClientSecret, a.Default, a.Scopes = "two", true, []string{"repo"}
	if err := st.Put(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	got, err := st.App(ctx(t), "proj", "github", "")
	if err != nil || got.ClientSecret != "two" || !got.Default || !slices.Equal(got.Scopes, []string{"repo"}) {
		t.Errorf("App after an upsert = %v, %v; want the second version", got, err)
	}
	if n := countRows(t, pool, schema, "apps"); n != 1 {
		t.Errorf("%d rows after an upsert, want 1", n)
	}
	if err := st.Delete(ctx(t), "other", "a"); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("Delete from another project = %v, want ErrAppNotFound", err)
	}
	if err := st.Delete(ctx(t), "proj", "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := st.Delete(ctx(t), "proj", "a"); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("a second Delete = %v, want ErrAppNotFound", err)
	}
	if _, err := st.App(ctx(t), "proj", "github", "a"); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("App after Delete = %v, want ErrAppNotFound", err)
	}
}

// TestDumpSeesBytes checks the test's own dump: plaintext put in a bytea column
// shows in it, so the suites' at-rest checks are not vacuous.
func TestDumpSeesBytes(t *testing.T) {
	pool := testPool(t)
	schema := migrated(t, pool)
	st := postgres.NewConnectionStore(pool, postgres.WithSchema(schema))
	rec := &connect.ConnectionRecord{
		Connection:  connect.Connection{ID: "c", ProjectID: "p", Provider: "x", CreateTime: time.Now(), UpdateTime: time.Now()},
		Credentials: []byte("PLAINTEXT-SENTINEL"),
	}
	if err := st.Put(ctx(t), rec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dump(t, pool, schema), []byte("PLAINTEXT-SENTINEL")) {
		t.Error("the dump misses bytes stored in a bytea column")
	}
}

// TestUpdateToTakenIdentity: an update that would give a record the identity of
// another is refused by the unique key.
func TestUpdateToTakenIdentity(t *testing.T) {
	pool := testPool(t)
	st := postgres.NewConnectionStore(pool, postgres.WithSchema(migrated(t, pool)))
	mk := func(id, consumer string) *connect.ConnectionRecord {
		return &connect.ConnectionRecord{Connection: connect.Connection{
			ID: id, ProjectID: "p", Provider: "github", Group: connect.Group{Ref: "g"}, Consumer: connect.Consumer{Ref: consumer},
		}, Credentials: []byte("x")}
	}
	a, b := mk("a", "u1"), mk("b", "u2")
	for _, r := range []*connect.ConnectionRecord{a, b} {
		if err := st.Put(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	b.Connection.Consumer.Ref = "u1"
	if err := st.Put(ctx(t), b); !errors.Is(err, connect.ErrConflict) {
		t.Errorf("update to another record's identity = %v, want ErrConflict", err)
	}
	if b.Version != 1 {
		t.Errorf("a refused update changed rec.Version to %d", b.Version)
	}
}
