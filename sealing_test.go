package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
)

func TestSealedCredentialsAtRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	ids := f.connectAll(t, "proj")

	recs := f.records(t, "proj")
	if len(recs) != len(ids) {
		t.Fatalf("%d records, want %d", len(recs), len(ids))
	}
	for _, rec := range recs {
		name := string(rec.Connection.AuthScheme)
		if len(rec.Credentials) == 0 || rec.Credentials[0] != 1 {
			t.Errorf("%s: credentials begin with %v, want the sealed format byte 1", name, rec.Credentials[:min(1, len(rec.Credentials))])
			continue
		}
		if id, err := keyring.KeyID(rec.Credentials[1:]); err != nil || id != "k1" {
			t.Errorf("%s: sealed under key %q, %v; want k1", name, id, err)
		}
		for _, s := range append(slices.Clone(sentinels), sentinelUsername, "alice", "acme", "machine-client") {
			if bytes.Contains(rec.Credentials, []byte(s)) {
				t.Errorf("%s: the stored credentials contain %q in the clear", name, s)
			}
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assertNoSecrets(t, name+": "+verb+" of the record", fmt.Sprintf(verb, rec))
		}
		j, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, name+": JSON of the record", string(j))
	}
	// Sealed, they still open.
	for _, id := range ids {
		if err := canRead(ctx, f.c, "proj", id); err != nil {
			t.Errorf("connection %s does not open: %v", id, err)
		}
	}
	if cr, err := f.c.Credentials(ctx, "proj", ids[0]); err != nil || cr.APIKey.Reveal() != sentinelAPIKey {
		t.Errorf("Credentials of the API key connection: %v", err)
	}

	// The same secret sealed twice gives two ciphertexts (a fresh nonce each time).
	r := connectionRequest("keyed")
	r.ConsumerRef = "user-2"
	r.APIKey = sentinelAPIKey
	other := f.connect(t, r)
	a, _ := f.conns.Get(ctx, "proj", ids[0])
	b, _ := f.conns.Get(ctx, "proj", other.ID)
	if bytes.Equal(a.Credentials[1:30], b.Credentials[1:30]) || bytes.Equal(a.Credentials[len(a.Credentials)-16:], b.Credentials[len(b.Credentials)-16:]) {
		t.Errorf("two sealings of one API key share their nonce or tag")
	}
}

func TestSealedCredentialsBoundToConnection(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	r := connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	a := f.connect(t, r)
	r.ConsumerRef = "user-2"
	r.APIKey = "the-key-of-b"
	b := f.connect(t, r)

	put := func(t *testing.T, id string, creds []byte) {
		t.Helper()
		rec, err := f.conns.Get(ctx, "proj", id)
		if err != nil {
			t.Fatal(err)
		}
		rec.Credentials = creds
		if err := f.conns.Put(ctx, rec); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	recA, err := f.conns.Get(ctx, "proj", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sealedA := recA.Credentials

	t.Run("A's ciphertext in B", func(t *testing.T) {
		put(t, b.ID, sealedA)
		cr, err := f.c.Credentials(ctx, "proj", b.ID)
		if err == nil {
			t.Fatalf("Credentials(B) with A's ciphertext succeeded (API key is A's: %t)", cr.APIKey.Reveal() == sentinelAPIKey)
		}
		assertNoSecrets(t, "the error", err)
	})

	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			out := bytes.Clone(b)
			out[i] ^= 1
			return out
		}
	}
	n := len(sealedA)
	tests := []struct {
		name   string
		change func([]byte) []byte
	}{
		{"format byte", flip(0)},
		{"keyring version", flip(1)},
		{"key id length", flip(2)},
		{"key id", flip(3)},
		{"nonce", flip(6)},
		{"ciphertext", flip(n / 2)},
		{"tag", flip(n - 1)},
		{"truncated", func(b []byte) []byte { return b[:n-1] }},
		{"only the format byte", func(b []byte) []byte { return b[:1] }},
		{"empty", func([]byte) []byte { return nil }},
		{"appended byte", func(b []byte) []byte { return append(bytes.Clone(b), 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, a.ID, tt.change(sealedA))
			cr, err := f.c.Credentials(ctx, "proj", a.ID)
			if err == nil {
				t.Fatalf("Credentials of altered ciphertext succeeded (API key intact: %t)", cr.APIKey.Reveal() == sentinelAPIKey)
			}
			assertNoSecrets(t, "the error", err)
		})
	}
	put(t, a.ID, sealedA)
	if cr, err := f.c.Credentials(ctx, "proj", a.ID); err != nil || cr.APIKey.Reveal() != sentinelAPIKey {
		t.Errorf("the restored ciphertext does not open: %v", err)
	}

	t.Run("tokens of another connection", func(t *testing.T) {
		x := f.connect(t, importRequest(sentinelAccessToken, "", f.clock.Now().Add(time.Hour)))
		imp := importRequest("token-of-y", "", f.clock.Now().Add(time.Hour))
		imp.ConsumerRef = "user-2"
		y := f.connect(t, imp)
		recX, _ := f.conns.Get(ctx, "proj", x.ID)
		put(t, y.ID, recX.Credentials)
		ts, err := f.c.TokenSource(ctx, y.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := ts.Token(); err == nil {
			t.Errorf("Token of Y with X's sealed tokens = %q, want an error", tok.AccessToken)
		}
	})
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

func TestSealedCredentialsNoDowngrade(t *testing.T) {
	ctx := context.Background()
	plain := newFixture(t)
	ids := plain.connectAll(t, "proj")
	sealed := plain.again(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	for _, id := range ids {
		err := canRead(ctx, sealed, "proj", id)
		if err == nil {
			t.Errorf("a Connector with a keyring read the plaintext credentials of %s", id)
		}
		assertNoSecrets(t, "the error", err)
	}

	// And the other way: a Connector without a keyring cannot read sealed credentials.
	f := newFixture(t, func(c *connect.Config) { c.Keyring = newKeyring(t, "k1", "k1") })
	ids = f.connectAll(t, "proj")
	unsealed := f.again(t, func(c *connect.Config) { c.Keyring = nil })
	for _, id := range ids {
		err := canRead(ctx, unsealed, "proj", id)
		if err == nil {
			t.Errorf("a Connector without a keyring read the sealed credentials of %s", id)
		}
		assertNoSecrets(t, "the error", err)
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

func TestConnectionEvents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	r := connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	keyed := f.connect(t, r)
	f.clock.Advance(time.Second)
	f.connect(t, r)
	refreshed := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(-time.Minute)))
	if tok, err := getToken(t, f.c, refreshed.ID); err != nil || tok.AccessToken != sentinelAccessToken2 {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	bad := importRequest(sentinelAccessToken, sentinelRefreshToken+"-revoked", f.clock.Now().Add(-time.Minute))
	bad.ConsumerRef = "user-2"
	failing := f.connect(t, bad)
	if _, err := getToken(t, f.c, failing.ID); !errors.Is(err, connect.ErrBadCredentials) {
		t.Fatalf("Token with a revoked refresh token = %v, want ErrBadCredentials", err)
	}
	f.clock.Advance(time.Second)
	if err := f.c.DeleteConnection(ctx, "proj", keyed.ID); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		typ      connect.EventType
		provider string
		id       string
	}{
		{connect.EventConnectionCreated, "keyed", keyed.ID},
		{connect.EventConnectionUpdated, "keyed", keyed.ID},
		{connect.EventConnectionCreated, "oauth", refreshed.ID},
		{connect.EventConnectionRefreshed, "oauth", refreshed.ID},
		{connect.EventConnectionCreated, "oauth", failing.ID},
		{connect.EventConnectionError, "oauth", failing.ID},
		{connect.EventConnectionDeleted, "keyed", keyed.ID},
	}
	got := f.events.all()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Type != w.typ || e.ProjectID != "proj" || e.Provider != w.provider || e.Connection == nil || e.Connection.ID != w.id {
			t.Errorf("event %d = %s %s/%s connection %v; want %s proj/%s connection %s",
				i, e.Type, e.ProjectID, e.Provider, e.Connection, w.typ, w.provider, w.id)
		}
		if (e.Type == connect.EventConnectionError) != (e.Err != nil) {
			t.Errorf("event %d (%s) has Err %v", i, e.Type, e.Err)
		}
		if e.Time.IsZero() || e.Time.After(f.clock.Now()) {
			t.Errorf("event %d at %v, want a time on the Connector's clock", i, e.Time)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			assertNoSecrets(t, fmt.Sprintf("event %d %s", i, verb), fmt.Sprintf(verb, e))
		}
		if e.Err != nil {
			assertNoSecrets(t, "the error", e.Err)
		}
		j, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, fmt.Sprintf("event %d JSON", i), string(j))
	}
	if s := got[3].Connection.Status; s != connect.StatusWorking {
		t.Errorf("refreshed event's connection status %q, want working", s)
	}
	if s := got[5].Connection.Status; s != connect.StatusBadCredentials {
		t.Errorf("error event's connection status %q, want bad_credentials", s)
	}
	// The event's connection is a copy: changing it changes nothing stored.
	got[3].Connection.Status = "tampered"
	if c, err := f.c.Connection(ctx, "proj", refreshed.ID); err != nil || c.Status != connect.StatusWorking {
		t.Errorf("changing an event's connection changed the store: %v, %v", c, err)
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

// TestLegacySealedCredentials: connections stored before the JSON records (binary
// credentials, sealed under k1 in testdata/legacy) still open, and ReencryptConnections
// re-seals them once, in the current format.
func TestLegacySealedCredentials(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile("testdata/legacy/connections-sealed-k1.json")
	if err != nil {
		t.Fatal(err)
	}
	var legacy []struct {
		Connection  connect.Connection `json:"connection"`
		Credentials []byte             `json:"credentials"`
	}
	if err := json.Unmarshal(raw, &legacy); err != nil {
		t.Fatal(err)
	}
	keys := newKeyring(t, "k1", "k1")
	f := newFixture(t, func(c *connect.Config) {
		c.Keyring = keys
		c.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC) }
	})
	for _, l := range legacy {
		if err := f.conns.Put(ctx, &connect.ConnectionRecord{Connection: l.Connection, Credentials: l.Credentials}); err != nil {
			t.Fatal(err)
		}
	}

	// read returns what the connection's credentials give through the public API.
	read := func(t *testing.T, id string) any {
		t.Helper()
		if id != "legacy-oauth" {
			cr, err := f.c.Credentials(ctx, "proj", id)
			if err != nil {
				t.Fatalf("Credentials(%s): %v", id, err)
			}
			return cr
		}
		ts, err := f.c.TokenSource(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("Token(%s): %v", id, err)
		}
		return [2]any{tok.AccessToken, tok.Expiry.UTC()}
	}
	want := map[string]any{
		"legacy-apikey": &connect.Credentials{AuthScheme: connect.AuthSchemeAPIKey, APIKey: "SENTINEL_APIKEY_legacy_2b8f"},
		"legacy-basic":  &connect.Credentials{AuthScheme: connect.AuthSchemeBasic, Username: "alice", Password: "SENTINEL_PASSWORD_legacy_7e3a"},
		"legacy-custom": &connect.Credentials{AuthScheme: connect.AuthSchemeCustom,
			Custom: map[string]connect.Secret{"apiToken": "SENTINEL_CUSTOM_legacy_4d6c", "subdomain": "acme"}},
		"legacy-oauth": [2]any{"SENTINEL_ACCESS_legacy_5c1d", time.Date(2025, 6, 1, 13, 0, 1, 0, time.UTC)},
	}
	check := func(t *testing.T) {
		for _, l := range legacy {
			id := l.Connection.ID
			if got := read(t, id); !reflect.DeepEqual(got, want[id]) {
				t.Errorf("%s reads %#v, want %#v", id, got, want[id])
			}
		}
	}
	t.Run("read", check)

	n, err := f.c.ReencryptConnections(ctx, "proj")
	if err != nil || n != len(legacy) {
		t.Fatalf("ReencryptConnections = %d, %v; want %d", n, err, len(legacy))
	}
	for _, rec := range f.records(t, "proj") {
		plain, err := connect.OpenCredentials(keys, rec)
		if err != nil || !bytes.HasPrefix(plain, []byte(`{"v":3,"data":{`)) {
			t.Errorf("%s re-sealed as %.7q, %v; want a JSON record of version 3", rec.Connection.ID, plain, err)
		}
	}
	t.Run("read after ReencryptConnections", check)
	if n, err := f.c.ReencryptConnections(ctx, "proj"); err != nil || n != 0 {
		t.Errorf("second ReencryptConnections = %d, %v; want 0", n, err)
	}
}

// TestCredentialsNeverStoredChanged: a token that is not UTF-8 text (a form-encoded token
// response can give one), which the stored record (JSON) cannot hold as it is, is refused
// rather than stored with its bytes replaced.
func TestCredentialsNeverStoredChanged(t *testing.T) {
	const access = "SENTINEL_ACCESS_\xff\xfe_bytes"
	for _, withKeyring := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyring=%t", withKeyring), func(t *testing.T) {
			f := newFixture(t, func(c *connect.Config) {
				if withKeyring {
					c.Keyring = newKeyring(t, "k1", "k1")
				}
			})
			f.srv.setHeader("Content-Type", "application/x-www-form-urlencoded")
			f.srv.setRespond(func(tokenRequest) (int, string) {
				return http.StatusOK, "access_token=" + url.QueryEscape(access) + "&token_type=bearer&expires_in=3600"
			})
			r := machineRequest()
			conn, err := f.c.Connect(context.Background(), r)
			if err != nil {
				f.assertRefused(t, err)
				return
			}
			tok, err := getToken(t, f.c, conn.ID)
			if err != nil || tok.AccessToken != access {
				t.Errorf("the stored access token reads back as %q, %v; want it unchanged", tok.AccessToken, err)
			}
		})
	}
}
