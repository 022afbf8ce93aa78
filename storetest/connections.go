package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/providers"
)

// ConnectionStore describes a [connect.ConnectionStore] implementation to
// [RunConnectionStore].
type ConnectionStore struct {
	// New returns an empty store, independent of the stores it returned before. Required.
	New func(t *testing.T) connect.ConnectionStore
	// Dump, if set, returns every byte the store keeps at rest for the store New returned
	// (e.g. a dump of its tables). The suite then checks that credentials reach it only as
	// ciphertext.
	Dump func(t *testing.T, store connect.ConnectionStore) []byte
	// Replica, if set, returns another handle on the data of store, as another replica of a
	// service has (its own connection pool, say). The concurrency tests then spread their
	// writers over both.
	Replica func(t *testing.T, store connect.ConnectionStore) connect.ConnectionStore
}

// handles returns the store and, with Replica, its other handle.
func (s ConnectionStore) handles(t *testing.T, st connect.ConnectionStore) []connect.ConnectionStore {
	if s.Replica == nil {
		return []connect.ConnectionStore{st}
	}
	return []connect.ConnectionStore{st, s.Replica(t, st)}
}

// RunConnectionStore runs the [connect.ConnectionStore] conformance suite as subtests of t:
// round trips of every field, versions and conflicts, the one-connection-per-identity key,
// isolation between projects, listing by provider, group and consumer in creation order,
// delete, concurrent updates with no lost update, cancelled contexts and, with Dump, that
// only ciphertext is at rest.
//
// Times are compared with [time.Time.Equal] at microsecond precision: a store must keep
// them to the microsecond at least.
func RunConnectionStore(t *testing.T, s ConnectionStore) {
	t.Helper()
	if s.New == nil {
		t.Fatal("storetest: ConnectionStore.New is nil")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s ConnectionStore)
	}{
		{"RoundTrip", connRoundTrip},
		{"Versions", connVersions},
		{"UniqueID", connUniqueID},
		{"UniqueIdentity", connUniqueIdentity},
		{"ProjectIsolation", connIsolation},
		{"List", connList},
		{"Delete", connDelete},
		{"Copies", connCopies},
		{"ConcurrentUpdates", connConcurrentUpdates},
		{"ConcurrentCreates", connConcurrentCreates},
		{"CancelledContext", connCancelled},
		{"CiphertextAtRest", connCiphertextAtRest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
	}
}

// base is a fixed instant, to the microsecond, from which the suite's times are made.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// record returns a record with every field set.
func record(project, id, provider, group, consumer string, created time.Time) *connect.ConnectionRecord {
	return &connect.ConnectionRecord{
		Connection: connect.Connection{
			ID: id, ProjectID: project, Provider: provider,
			Group:                connect.Group{Ref: group, Name: "Group " + group},
			Consumer:             connect.Consumer{Ref: consumer, Name: "Consumer " + consumer},
			ProviderWorkspaceRef: "acme",
			ProviderMetadata: connect.ProviderMetadata{
				"accountId":   {Value: "1234567_SB1", Source: "input", DisplayName: "Account ID"},
				"instanceUrl": {Value: "https://acme.example.com", Source: "token"},
			},
			ProviderApp: &connect.ConnectionApp{ID: "app-1", ClientID: "client-1"},
			AuthScheme:  connect.AuthSchemeOAuth2AuthorizationCode,
			Status:      connect.StatusWorking,
			Scopes:      []string{"read", "write", "offline_access"},
			CreateTime:  created,
			UpdateTime:  created.Add(time.Second),
		},
		Credentials: []byte("\x00sealed\xffbytes of " + id),
	}
}

func put(t *testing.T, st connect.ConnectionStore, rec *connect.ConnectionRecord) {
	t.Helper()
	if err := st.Put(ctx(t), rec); err != nil {
		t.Fatalf("Put(%s, version %d): %v", rec.Connection.ID, rec.Version, err)
	}
}

// putRefused checks that Put of rec fails with want; what says which Put it is.
func putRefused(t *testing.T, st connect.ConnectionStore, rec *connect.ConnectionRecord, want error, what string) {
	t.Helper()
	if err := st.Put(ctx(t), rec); !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func get(t *testing.T, st connect.ConnectionStore, project, id string) *connect.ConnectionRecord {
	t.Helper()
	rec, err := st.Get(ctx(t), project, id)
	if err != nil {
		t.Fatalf("Get(%q, %s): %v", project, id, err)
	}
	return rec
}

// normal returns a copy of r in which empty slices and maps are nil and times are UTC, so
// that stores which cannot tell nil from empty compare equal.
func normal(r *connect.ConnectionRecord) *connect.ConnectionRecord {
	out := r.Clone()
	c := &out.Connection
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	if len(c.ProviderMetadata) == 0 {
		c.ProviderMetadata = nil
	}
	if len(out.Credentials) == 0 {
		out.Credentials = nil
	}
	c.CreateTime, c.UpdateTime = c.CreateTime.UTC(), c.UpdateTime.UTC()
	return out
}

func sameRecord(got, want *connect.ConnectionRecord) bool {
	g, w := normal(got), normal(want)
	if !g.Connection.CreateTime.Equal(w.Connection.CreateTime) || !g.Connection.UpdateTime.Equal(w.Connection.UpdateTime) {
		return false
	}
	g.Connection.CreateTime, g.Connection.UpdateTime = w.Connection.CreateTime, w.Connection.UpdateTime
	return reflect.DeepEqual(g, w)
}

func wantRecord(t *testing.T, got, want *connect.ConnectionRecord) {
	t.Helper()
	if !sameRecord(got, want) {
		t.Fatalf("record = %+v\n(credentials %q)\nwant %+v\n(credentials %q)", got.Connection, got.Credentials, want.Connection, want.Credentials)
	}
}

func connRoundTrip(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	full := record("proj", "conn-full", "salesforce", "g1", "u1", base)
	put(t, st, full)
	if full.Version != 1 {
		t.Errorf("after creating, rec.Version = %d, want 1", full.Version)
	}
	want := full.Clone()
	wantRecord(t, get(t, st, "proj", "conn-full"), want)
	wantRecord(t, get(t, st, "", "conn-full"), want) // an empty project looks in every project

	// A record with only the required fields, and one with large credentials.
	bare := &connect.ConnectionRecord{Connection: connect.Connection{
		ID: "conn-bare", ProjectID: "proj", Provider: "stripe", Group: connect.Group{Ref: "g2"},
		Consumer: connect.Consumer{Ref: "u2"}, AuthScheme: connect.AuthSchemeAPIKey, Status: connect.StatusCreated,
		CreateTime: base, UpdateTime: base,
	}}
	put(t, st, bare)
	wantRecord(t, get(t, st, "proj", "conn-bare"), bare)

	large := record("proj", "conn-large", "hubspot", "g3", "u3", base)
	large.Credentials = bytes.Repeat([]byte{0, 1, 2, 0xff}, 16<<10)
	put(t, st, large)
	wantRecord(t, get(t, st, "proj", "conn-large"), large)

	// Text a store must keep intact.
	odd := record("proj", "conn-odd", "zendesk", "g'4\"; --", "u\\4%_", base)
	odd.Connection.Group.Name = "Équipe 東京 🚀"
	odd.Connection.ProviderMetadata = connect.ProviderMetadata{"a.b:c@d": {Value: "{\"json\": [1]}"}}
	put(t, st, odd)
	wantRecord(t, get(t, st, "proj", "conn-odd"), odd)

	// An update replaces every field.
	upd := get(t, st, "proj", "conn-full")
	upd.Connection.Status = connect.StatusBadCredentials
	upd.Connection.Scopes = []string{"read"}
	upd.Connection.ProviderMetadata = nil
	upd.Connection.ProviderApp = nil
	upd.Connection.UpdateTime = base.Add(time.Hour)
	upd.Credentials = []byte("rotated")
	put(t, st, upd)
	if upd.Version != 2 {
		t.Errorf("after an update, rec.Version = %d, want 2", upd.Version)
	}
	wantRecord(t, get(t, st, "proj", "conn-full"), upd)
}

func connVersions(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	rec := record("proj", "conn-v", "github", "g", "u", base)
	put(t, st, rec)
	a, b := get(t, st, "proj", "conn-v"), get(t, st, "proj", "conn-v")
	a.Connection.Status = connect.StatusBadCredentials
	put(t, st, a)
	b.Connection.Scopes = []string{"lost"}
	if err := st.Put(ctx(t), b); !errors.Is(err, connect.ErrConflict) {
		t.Fatalf("Put of a stale version = %v, want ErrConflict", err)
	}
	if b.Version != 1 {
		t.Errorf("a refused Put changed rec.Version to %d", b.Version)
	}
	wantRecord(t, get(t, st, "proj", "conn-v"), a)

	ghost := record("proj", "conn-ghost", "github", "g", "u2", base)
	ghost.Version = 3
	putRefused(t, st, ghost, connect.ErrConnectionNotFound, "Put with a version of a record that does not exist")
	if _, err := st.Get(ctx(t), "proj", "conn-ghost"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Get after a refused Put = %v, want ErrConnectionNotFound", err)
	}
	future := get(t, st, "proj", "conn-v")
	future.Version += 5
	putRefused(t, st, future, connect.ErrConflict, "Put with a version ahead of the stored one")
}

func connUniqueID(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	put(t, st, record("proj-a", "conn-1", "github", "g", "u", base))
	again := record("proj-a", "conn-1", "gitlab", "g2", "u2", base)
	putRefused(t, st, again, connect.ErrConflict, "creating an id that exists")
	other := record("proj-b", "conn-1", "gitlab", "g2", "u2", base)
	putRefused(t, st, other, connect.ErrConflict, "creating an id that exists in another project (ids are unique)")
	if got := get(t, st, "", "conn-1"); got.Connection.ProjectID != "proj-a" || got.Connection.Provider != "github" {
		t.Errorf("after refused creates the record is %+v, want the first one", got.Connection)
	}
}

func connUniqueIdentity(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	put(t, st, record("proj", "conn-1", "github", "g", "u", base))
	dup := record("proj", "conn-2", "github", "g", "u", base)
	putRefused(t, st, dup, connect.ErrConflict, "a second connection for the same project, provider, group, consumer and workspace")
	// Any one part different makes another identity.
	for i, r := range []*connect.ConnectionRecord{
		record("proj-2", "conn-p", "github", "g", "u", base),
		record("proj", "conn-v", "gitlab", "g", "u", base),
		record("proj", "conn-g", "github", "g2", "u", base),
		record("proj", "conn-c", "github", "g", "u2", base),
		func() *connect.ConnectionRecord {
			r := record("proj", "conn-w", "github", "g", "u", base)
			r.Connection.ProviderWorkspaceRef = "other"
			return r
		}(),
	} {
		if err := st.Put(ctx(t), r); err != nil {
			t.Errorf("identity %d (%s): Put = %v, want a new connection", i, r.Connection.ID, err)
		}
	}
	// The deleted connection's identity is free again.
	if err := st.Delete(ctx(t), "proj", "conn-1"); err != nil {
		t.Fatal(err)
	}
	put(t, st, record("proj", "conn-3", "github", "g", "u", base))
}

func connIsolation(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	put(t, st, record("proj-a", "conn-a", "github", "g", "u", base))
	put(t, st, record("proj-b", "conn-b", "github", "g", "u", base))
	if r, err := st.Get(ctx(t), "proj-b", "conn-a"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Get of project A's connection through project B = %v, %v; want ErrConnectionNotFound", r, err)
	}
	list, err := st.List(ctx(t), "proj-b", connect.ConnectionFilter{})
	if err != nil || len(list) != 1 || list[0].Connection.ID != "conn-b" {
		t.Errorf("List of project B = %v, %v; want only conn-b", ids(list), err)
	}
	stolen := get(t, st, "proj-a", "conn-a")
	stolen.Connection.ProjectID = "proj-b"
	putRefused(t, st, stolen, connect.ErrConnectionNotFound, "Put of project A's connection as project B")
	if err := st.Delete(ctx(t), "proj-b", "conn-a"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Delete of project A's connection through project B = %v, want ErrConnectionNotFound", err)
	}
	if got := get(t, st, "proj-a", "conn-a"); got.Connection.ProjectID != "proj-a" || got.Version != 1 {
		t.Errorf("project A's connection changed through project B: %+v", got)
	}
}

func ids(recs []*connect.ConnectionRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Connection.ID
	}
	return out
}

func connList(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	// Created out of order; two share a creation time and are ordered by id.
	recs := []*connect.ConnectionRecord{
		record("proj", "c-4", "github", "g1", "u1", base.Add(4*time.Minute)),
		record("proj", "c-1", "github", "g1", "u2", base.Add(1*time.Minute)),
		record("proj", "c-3b", "slack", "g1", "u1", base.Add(3*time.Minute)),
		record("proj", "c-3a", "slack", "g2", "u1", base.Add(3*time.Minute)),
		record("proj", "c-2", "hubspot", "g2", "u2", base.Add(2*time.Minute)),
		record("other", "c-0", "github", "g1", "u1", base),
	}
	for _, r := range recs {
		put(t, st, r)
	}
	tests := []struct {
		project string
		filter  connect.ConnectionFilter
		want    []string
	}{
		{"proj", connect.ConnectionFilter{}, []string{"c-1", "c-2", "c-3a", "c-3b", "c-4"}},
		{"proj", connect.ConnectionFilter{Provider: "github"}, []string{"c-1", "c-4"}},
		{"proj", connect.ConnectionFilter{GroupRef: "g1"}, []string{"c-1", "c-3b", "c-4"}},
		{"proj", connect.ConnectionFilter{ConsumerRef: "u1"}, []string{"c-3a", "c-3b", "c-4"}},
		{"proj", connect.ConnectionFilter{GroupRef: "g1", ConsumerRef: "u1"}, []string{"c-3b", "c-4"}},
		{"proj", connect.ConnectionFilter{Provider: "slack", GroupRef: "g2", ConsumerRef: "u1"}, []string{"c-3a"}},
		{"proj", connect.ConnectionFilter{Provider: "zoom"}, nil},
		{"proj", connect.ConnectionFilter{GroupRef: "G1"}, nil},
		{"other", connect.ConnectionFilter{}, []string{"c-0"}},
		{"nobody", connect.ConnectionFilter{}, nil},
	}
	for _, tt := range tests {
		got, err := st.List(ctx(t), tt.project, tt.filter)
		if err != nil {
			t.Fatalf("List(%s, %+v): %v", tt.project, tt.filter, err)
		}
		if !slices.Equal(ids(got), tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("List(%s, %+v) = %v, want %v", tt.project, tt.filter, ids(got), tt.want)
		}
	}
	all, err := st.List(ctx(t), "proj", connect.ConnectionFilter{Provider: "github", ConsumerRef: "u2"})
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %v, %v; want c-1", ids(all), err)
	}
	wantRecord(t, all[0], recs[1])
}

func connDelete(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	put(t, st, record("proj", "conn-d", "github", "g", "u", base))
	put(t, st, record("proj", "conn-k", "gitlab", "g", "u", base))
	if err := st.Delete(ctx(t), "proj", "conn-d"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := st.Get(ctx(t), "proj", "conn-d"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Get after Delete = %v, want ErrConnectionNotFound", err)
	}
	if err := st.Delete(ctx(t), "proj", "conn-d"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("a second Delete = %v, want ErrConnectionNotFound", err)
	}
	list, err := st.List(ctx(t), "proj", connect.ConnectionFilter{})
	if err != nil || !slices.Equal(ids(list), []string{"conn-k"}) {
		t.Errorf("List after Delete = %v, %v; want [conn-k]", ids(list), err)
	}
	// An update of a deleted record does not bring it back.
	gone := record("proj", "conn-d", "github", "g", "u", base)
	gone.Version = 1
	putRefused(t, st, gone, connect.ErrConnectionNotFound, "Put of a deleted record's version")
	// Its id may be used again.
	put(t, st, record("proj", "conn-d", "github", "g", "u", base))
}

func connCopies(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	rec := record("proj", "conn-c", "github", "g", "u", base)
	put(t, st, rec)
	want := rec.Clone()
	// The caller's record, changed after Put, is not the stored one.
	rec.Connection.Scopes[0] = "changed"
	rec.Connection.ProviderMetadata["accountId"] = connect.MetadataValue{Value: "changed"}
	rec.Connection.ProviderApp.ID = "changed"
	rec.Credentials[0] = 'X'
	got := get(t, st, "proj", "conn-c")
	wantRecord(t, got, want)
	// Nor is a returned record.
	got.Connection.Scopes[0] = "changed"
	got.Connection.ProviderMetadata["accountId"] = connect.MetadataValue{Value: "changed"}
	got.Credentials[0] = 'X'
	wantRecord(t, get(t, st, "proj", "conn-c"), want)
	list, err := st.List(ctx(t), "proj", connect.ConnectionFilter{})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	list[0].Connection.Scopes[0] = "changed"
	wantRecord(t, get(t, st, "proj", "conn-c"), want)
}

// connConcurrentUpdates runs read-modify-write loops from many goroutines, as replicas
// rotating one connection's refresh token do: with optimistic concurrency no update is lost.
func connConcurrentUpdates(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	handles := s.handles(t, st)
	rec := record("proj", "conn-cc", "github", "g", "u", base)
	rec.Connection.Scopes = nil
	put(t, st, rec)
	const writers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				for attempt := 0; ; attempt++ {
					if attempt == 10000 {
						errs <- fmt.Errorf("writer %d: update %d kept conflicting", w, i)
						return
					}
					h := handles[w%len(handles)]
					r, err := h.Get(context.Background(), "proj", "conn-cc")
					if err != nil {
						errs <- err
						return
					}
					r.Connection.Scopes = append(r.Connection.Scopes, fmt.Sprintf("w%d-%d", w, i))
					r.Credentials = fmt.Appendf(nil, "token from writer %d update %d", w, i)
					err = h.Put(context.Background(), r)
					if err == nil {
						break
					}
					if !errors.Is(err, connect.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := get(t, st, "proj", "conn-cc")
	if n := len(got.Connection.Scopes); n != writers*each || got.Version != writers*each+1 {
		t.Fatalf("after %d updates: %d scopes at version %d; want %d at version %d (an update was lost)",
			writers*each, n, got.Version, writers*each, writers*each+1)
	}
	seen := map[string]bool{}
	for _, sc := range got.Connection.Scopes {
		if seen[sc] {
			t.Fatalf("update %s applied twice", sc)
		}
		seen[sc] = true
	}
}

// connConcurrentCreates races creates of one identity under different ids: exactly one wins.
func connConcurrentCreates(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	handles := s.handles(t, st)
	const racers = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	var others []error
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			h := handles[i%len(handles)]
			err := h.Put(context.Background(), record("proj", fmt.Sprintf("conn-race-%d", i), "github", "g", "u", base))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, connect.ErrConflict):
				conflicts++
			default:
				others = append(others, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != racers-1 || others != nil {
		t.Fatalf("%d concurrent creates of one identity: %d created, %d ErrConflict, %v; want 1 and %d", racers, wins, conflicts, others, racers-1)
	}
	list, err := st.List(ctx(t), "proj", connect.ConnectionFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v; want one connection", ids(list), err)
	}
}

func connCancelled(t *testing.T, s ConnectionStore) {
	st := s.New(t)
	put(t, st, record("proj", "conn-x", "github", "g", "u", base))
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Put(done, record("proj", "conn-y", "gitlab", "g", "u", base)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := st.Get(ctx(t), "proj", "conn-y"); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Get after a cancelled Put = %v, want ErrConnectionNotFound", err)
	}
	if _, err := st.Get(done, "proj", "conn-x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := st.List(done, "proj", connect.ConnectionFilter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v, want context.Canceled", err)
	}
	if err := st.Delete(done, "proj", "conn-x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context = %v, want context.Canceled", err)
	}
	get(t, st, "proj", "conn-x")
}

// Sentinels of the at-rest check: none may appear in a dump.
const (
	sentinelAPIKey   = "SENTINEL-API-KEY-5f0c1d"
	sentinelPassword = "SENTINEL-PASSWORD-9a7e2b"
	sentinelCustom   = "SENTINEL-CUSTOM-3c8d4e"
)

// connCiphertextAtRest makes connections through a Connector with a keyring and checks that
// the store's dump holds none of their secrets, while the Connector still reads them back.
func connCiphertextAtRest(t *testing.T, s ConnectionStore) {
	if s.Dump == nil {
		t.Skip("storetest: ConnectionStore.Dump is nil; the at-rest check needs it")
	}
	st := s.New(t)
	reg := providers.NewRegistry()
	err := reg.Register(&providers.Provider{
		Name: "keyed", AuthKinds: []providers.AuthKind{providers.APIKey, providers.BasicAuth, providers.CustomAuth},
		CustomAuth: []providers.Field{{Name: "token", Secret: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := connect.New(connect.Config{Providers: reg, Connections: st, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	reqs := []connect.ConnectionRequest{
		{APIKey: sentinelAPIKey},
		{BasicAuth: &connect.BasicAuth{Username: "user", Password: sentinelPassword}},
		{CustomAuth: map[string]connect.Secret{"token": sentinelCustom}},
	}
	var made []*connect.Connection
	for i, r := range reqs {
		r.ProjectID, r.Provider, r.GroupRef, r.ConsumerRef = "proj", "keyed", "g", fmt.Sprintf("u%d", i)
		conn, err := c.Connect(ctx(t), r)
		if err != nil {
			t.Fatalf("Connect %d: %v", i, err)
		}
		made = append(made, conn)
	}
	dump := s.Dump(t, st)
	if len(dump) == 0 {
		t.Fatal("Dump returned nothing after three connections were stored")
	}
	for _, sentinel := range []string{sentinelAPIKey, sentinelPassword, sentinelCustom} {
		if bytes.Contains(dump, []byte(sentinel)) {
			t.Errorf("the store's dump holds the secret %q in plaintext", sentinel)
		}
	}
	creds, err := c.Credentials(ctx(t), "proj", made[0].ID)
	if err != nil || string(creds.APIKey) != sentinelAPIKey {
		t.Errorf("Credentials read back through the store = %v, %v; want the API key", creds, err)
	}
}
