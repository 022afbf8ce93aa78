package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
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
