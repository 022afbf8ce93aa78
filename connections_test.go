package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/providers"
)

func TestConnectionOwnership(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	r := connectionRequest("keyed")
	r.ProjectID = "projA"
	r.APIKey = sentinelAPIKey
	a := f.connect(t, r)

	tests := []struct {
		name string
		call func() error
	}{
		{"Connection", func() error { _, err := f.c.Connection(ctx, "projB", a.ID); return err }},
		{"Credentials", func() error { _, err := f.c.Credentials(ctx, "projB", a.ID); return err }},
		{"DeleteConnection", func() error { return f.c.DeleteConnection(ctx, "projB", a.ID) }},
		{"store Get", func() error { _, err := f.conns.Get(ctx, "projB", a.ID); return err }},
		{"store Delete", func() error { return f.conns.Delete(ctx, "projB", a.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, connect.ErrConnectionNotFound) {
				t.Errorf("%s from projB = %v, want ErrConnectionNotFound", tt.name, err)
			}
		})
	}
	if conns, err := f.c.Connections(ctx, "projB", connect.ConnectionFilter{}); err != nil || len(conns) != 0 {
		t.Errorf("Connections(projB) = %d, %v; want none", len(conns), err)
	}

	t.Run("store Put over another project's record", func(t *testing.T) {
		rec, err := f.conns.Get(ctx, "projA", a.ID)
		if err != nil {
			t.Fatal(err)
		}
		steal := rec.Clone()
		steal.Connection.ProjectID = "projB"
		steal.Credentials = []byte{0, '{', '}'}
		if err := f.conns.Put(ctx, steal); err == nil {
			t.Errorf("Put of projB's record with A's id at A's version succeeded")
		}
		steal.Version = 0
		if err := f.conns.Put(ctx, steal); !errors.Is(err, connect.ErrConflict) {
			t.Errorf("Put creating projB's record with A's id = %v, want ErrConflict", err)
		}
		after, err := f.conns.Get(ctx, "projA", a.ID)
		if err != nil || after.Version != rec.Version || !bytes.Equal(after.Credentials, rec.Credentials) {
			t.Errorf("A's record changed: %v", err)
		}
	})

	// A's connection is untouched and still usable.
	if got, err := f.c.Connection(ctx, "projA", a.ID); err != nil || got.ID != a.ID {
		t.Fatalf("Connection(projA) = %v, %v", got, err)
	}
	if cr, err := f.c.Credentials(ctx, "projA", a.ID); err != nil || cr.APIKey.Reveal() != sentinelAPIKey {
		t.Errorf("Credentials(projA): %v", err)
	}
	if ev := f.events.ofType(connect.EventConnectionDeleted); len(ev) != 0 {
		t.Errorf("a refused delete emitted %d deleted events", len(ev))
	}
	for _, call := range []func() error{
		func() error { _, err := f.c.Connection(ctx, "", a.ID); return err },
		func() error { return f.c.DeleteConnection(ctx, "", a.ID) },
		func() error { _, err := f.c.Credentials(ctx, "", a.ID); return err },
	} {
		if err := call(); !errors.Is(err, connect.ErrInvalidRequest) {
			t.Errorf("a call without a project = %v, want ErrInvalidRequest", err)
		}
	}
	if err := f.c.DeleteConnection(ctx, "projA", a.ID); err != nil {
		t.Fatalf("DeleteConnection(projA): %v", err)
	}
	if _, err := f.c.Connection(ctx, "projA", a.ID); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("Connection after delete = %v, want ErrConnectionNotFound", err)
	}
}

func TestConnectionIDsAreChecked(t *testing.T) {
	c, err := connect.New(connect.Config{Providers: providers.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct{ project, id, field string }{
		{"proj", "", "id"},
		{"proj", strings.Repeat("a", 256), "id"},
		{"proj", "a/../b", "id"},
		{"proj", "a\nb", "id"},
		{"", "abc", "projectId"},
		{"p q", "abc", "projectId"},
	} {
		_, err := c.Connection(ctx, tt.project, tt.id)
		assertField(t, err, tt.field)
		assertField(t, c.DeleteConnection(ctx, tt.project, tt.id), tt.field)
		_, err = c.Credentials(ctx, tt.project, tt.id)
		assertField(t, err, tt.field)
		if tt.field == "id" {
			_, err = c.TokenSource(ctx, tt.id)
			assertField(t, err, "id")
		}
	}
}

func TestPersistentStoreNeedsKeyring(t *testing.T) {
	tests := []struct {
		name    string
		store   connect.ConnectionStore
		keyring bool
		wantErr bool
	}{
		{"persistent store without keyring", &connStore{MemoryConnectionStore: connect.NewMemoryConnectionStore(), persistent: true}, false, true},
		{"persistent store with keyring", &connStore{MemoryConnectionStore: connect.NewMemoryConnectionStore(), persistent: true}, true, false},
		{"store saying it does not persist", &connStore{MemoryConnectionStore: connect.NewMemoryConnectionStore()}, false, false},
		{"memory store", connect.NewMemoryConnectionStore(), false, false},
		{"default store", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := connect.Config{Providers: testRegistry(t, newTokenServer(t).URL), Connections: tt.store}
			if tt.keyring {
				cfg.Keyring = newKeyring(t, "k1", "k1")
			}
			c, err := connect.New(cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New = %v, %v; want error %t", c, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			r := connectionRequest("keyed")
			r.APIKey = sentinelAPIKey
			if _, err := c.Connect(context.Background(), r); err != nil {
				t.Errorf("Connect: %v", err)
			}
			if p, ok := tt.store.(*connStore); ok && p.persistent {
				recs, _ := p.List(context.Background(), "proj", connect.ConnectionFilter{})
				for _, rec := range recs {
					if bytes.Contains(rec.Credentials, []byte(sentinelAPIKey)) || rec.Credentials[0] != 1 {
						t.Errorf("a persistent store got unsealed credentials")
					}
				}
			}
		})
	}
}

func TestReencryptConnections(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	ids := f.connectAll(t, "proj")
	otherIDs := f.connectAll(t, "other")

	keyIDs := func(project string) []string {
		var out []string
		for _, rec := range f.records(t, project) {
			id, err := keyring.KeyID(rec.Credentials[1:])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}

	rotating := f.again(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k2", "k1", "k2") })
	for _, id := range ids {
		if err := canRead(ctx, rotating, "proj", id); err != nil {
			t.Errorf("the k1+k2 keyring cannot read %s before re-encryption: %v", id, err)
		}
	}
	versions := map[string]int64{}
	for _, rec := range f.records(t, "proj") {
		versions[rec.Connection.ID] = rec.Version
	}

	// Interrupted after the first record, then run again: every record once, none lost.
	f.conns.failPuts(1)
	n, err := rotating.ReencryptConnections(ctx, "proj")
	if err == nil || n != 1 {
		t.Errorf("interrupted ReencryptConnections = %d, %v; want 1 and an error", n, err)
	}
	f.conns.failPuts(-1)
	n, err = rotating.ReencryptConnections(ctx, "proj")
	if err != nil || n != len(ids)-1 {
		t.Fatalf("ReencryptConnections after the interruption = %d, %v; want %d", n, err, len(ids)-1)
	}
	for _, rec := range f.records(t, "proj") {
		if got, want := rec.Version, versions[rec.Connection.ID]+1; got != want {
			t.Errorf("connection %s at version %d, want %d (re-sealed exactly once)", rec.Connection.ID, got, want)
		}
	}
	for i, id := range keyIDs("proj") {
		if id != "k2" {
			t.Errorf("record %d sealed under %s after re-encryption, want k2", i, id)
		}
	}
	if got := keyIDs("other"); slices.ContainsFunc(got, func(s string) bool { return s != "k1" }) {
		t.Errorf("another project's records were re-sealed: %v", got)
	}
	if n, err := rotating.ReencryptConnections(ctx, "proj"); err != nil || n != 0 {
		t.Errorf("second ReencryptConnections = %d, %v; want 0", n, err)
	}

	onlyK2 := f.again(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k2", "k2") })
	for _, id := range ids {
		if err := canRead(ctx, onlyK2, "proj", id); err != nil {
			t.Errorf("the k2 keyring cannot read %s: %v", id, err)
		}
	}
	for _, id := range otherIDs {
		err := canRead(ctx, onlyK2, "other", id)
		if !errors.Is(err, keyring.ErrUnknownKey) {
			t.Errorf("reading a k1 record with only k2 = %v, want keyring.ErrUnknownKey", err)
		}
	}
	if n, err := onlyK2.ReencryptConnections(ctx, "other"); err == nil || n != 0 {
		t.Errorf("re-encrypting k1 records without k1 = %d, %v; want 0 and an error", n, err)
	}
	if n, err := rotating.ReencryptConnections(ctx, "other"); err != nil || n != len(otherIDs) {
		t.Errorf("ReencryptConnections(other) = %d, %v; want %d", n, err, len(otherIDs))
	}
	if n, err := onlyK2.ReencryptConnections(ctx, "proj"); err != nil || n != 0 {
		t.Errorf("ReencryptConnections with only the primary key = %d, %v; want 0", n, err)
	}
	if n, err := f.again(t, func(c *connect.Config) { c.Keyring = nil }).ReencryptConnections(ctx, "proj"); err == nil || n != 0 {
		t.Errorf("ReencryptConnections without a keyring = %d, %v; want an error", n, err)
	}
}

func TestConnectionNeverShowsSecrets(t *testing.T) {
	for _, withKeyring := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyring=%t", withKeyring), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, func(c *connect.Config) {
				if withKeyring {
					c.Keyring = newKeyring(t, "k1", "k1")
				}
			})
			ids := f.connectAll(t, "proj")
			var conns []any
			for _, id := range ids {
				c, err := f.c.Connection(ctx, "proj", id)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c, *c)
			}
			list, err := f.c.Connections(ctx, "proj", connect.ConnectionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				conns = append(conns, c)
			}
			for _, rec := range f.records(t, "proj") {
				conns = append(conns, rec.Connection, &rec.Connection)
			}
			for i, c := range conns {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
					assertNoSecrets(t, fmt.Sprintf("connection %d %s", i, verb), fmt.Sprintf(verb, c))
				}
				j, err := json.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
				assertNoSecrets(t, fmt.Sprintf("connection %d JSON", i), string(j))
				if strings.Contains(string(j), "credentials") {
					t.Errorf("connection %d JSON has a credentials member: %s", i, j)
				}
			}
		})
	}
}

// TestConnectionRecordNeverShowsSecrets prints whole records, which without a keyring hold the
// credentials as plaintext JSON.
func TestConnectionRecordNeverShowsSecrets(t *testing.T) {
	f := newFixture(t)
	f.connectAll(t, "proj")
	for _, rec := range f.records(t, "proj") {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assertNoSecrets(t, verb+" of a record", fmt.Sprintf(verb, rec))
		}
	}
}
