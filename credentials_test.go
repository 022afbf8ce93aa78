package connect_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// Sentinel secrets of the connection tests: each is searched for in every output.
const (
	ccAPIKey        = "SENTINEL_APIKEY_7c1e90"
	ccBasicPassword = "SENTINEL_BASICPW_51aa07"
	ccCustomToken   = "SENTINEL_CUSTOM_0b9d33"
	ccClientSecret  = "SENTINEL_CLIENTSECRET_e3f0"
	ccUserPassword  = "SENTINEL_USERPW_88c2d1"
	ccUsername      = "SENTINEL_USERNAME_2f7a"
	ccAccessToken   = "SENTINEL_ACCESS_4d21aa"
	ccRefreshToken  = "SENTINEL_REFRESH_a6b3cc"
	ccAccessToken2  = "SENTINEL_ACCESS2_91e0bb"
	ccRefreshToken2 = "SENTINEL_REFRESH2_7d55ee"
	ccAppSecret     = "SENTINEL_APPSECRET_19fe4c"
)

// ccSentinels lists every sentinel secret.
var ccSentinels = []string{
	ccAPIKey, ccBasicPassword, ccCustomToken, ccClientSecret, ccUserPassword, ccAccessToken,
	ccRefreshToken, ccAccessToken2, ccRefreshToken2, ccAppSecret,
}

// ccNoSentinel fails the test when out contains one of the sentinel secrets.
func ccNoSentinel(t testing.TB, what, out string) {
	t.Helper()
	for _, s := range ccSentinels {
		if strings.Contains(out, s) {
			t.Errorf("%s contains the secret %s: %s", what, s, out)
		}
	}
}

// ccNoSentinelInError checks err.Error(), %v, %+v and %#v of err and its JSON form.
func ccNoSentinelInError(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v"} {
		ccNoSentinel(t, "error "+verb, fmt.Sprintf(verb, err))
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		ccNoSentinel(t, "wrapped error", fmt.Sprintf("%+v", e))
	}
	if j, jerr := json.Marshal(err); jerr == nil {
		ccNoSentinel(t, "JSON of the error", string(j))
	}
}

// ccClock is a settable clock for Config.Now, safe for concurrent use. It starts at the wall
// clock, because x/oauth2 computes a token's expiry from time.Now.
type ccClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCCClock() *ccClock { return &ccClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *ccClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ccClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ccTokenRequest is a request the token endpoint received.
type ccTokenRequest struct {
	Form                   url.Values
	ClientID, ClientSecret string // from HTTP Basic, form-urldecoded
	Basic                  bool
}

// ccTokenServer is an httptest token endpoint that records its requests and answers with
// respond.
type ccTokenServer struct {
	srv *httptest.Server
	URL string // the token endpoint

	mu      sync.Mutex
	reqs    []ccTokenRequest
	delay   time.Duration
	respond func(ccTokenRequest) (status int, body string)
	// contentType is that of the answers; "" means application/json.
	contentType string
}

func newCCTokenServer(t testing.TB, respond func(ccTokenRequest) (int, string)) *ccTokenServer {
	t.Helper()
	s := &ccTokenServer{respond: respond}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/token"
	return s
}

func (s *ccTokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req := ccTokenRequest{Form: r.PostForm}
	if u, p, ok := r.BasicAuth(); ok {
		req.Basic = true
		req.ClientID, _ = url.QueryUnescape(u)
		req.ClientSecret, _ = url.QueryUnescape(p)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	delay, respond, ct := s.delay, s.respond, s.contentType
	s.mu.Unlock()
	time.Sleep(delay)
	status, body := respond(req)
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *ccTokenServer) setRespond(respond func(ccTokenRequest) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = respond
}

func (s *ccTokenServer) setContentType(ct string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contentType = ct
}

func (s *ccTokenServer) setDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

func (s *ccTokenServer) requests() []ccTokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ccTokenRequest(nil), s.reqs...)
}

func (s *ccTokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// ccTokenJSON is a token response; an empty refresh token is left out.
func ccTokenJSON(access, refresh string, expiresIn int) string {
	m := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": expiresIn}
	if refresh != "" {
		m["refresh_token"] = refresh
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// ccRespondToken answers every request with one token.
func ccRespondToken(access, refresh string, expiresIn int) func(ccTokenRequest) (int, string) {
	return func(ccTokenRequest) (int, string) { return http.StatusOK, ccTokenJSON(access, refresh, expiresIn) }
}

// ccUnusedTokenURL is a loopback token endpoint that the tests never reach.
const ccUnusedTokenURL = "http://127.0.0.1:1/token"

// ccRegistry holds one provider per credential kind; the OAuth ones use tokenURL.
func ccRegistry(t testing.TB, tokenURL string) *providers.Registry {
	t.Helper()
	authURL := strings.TrimSuffix(tokenURL, "/token") + "/authorize"
	reg := providers.NewRegistry()
	for _, p := range []*providers.Provider{
		{Name: "keyed", AuthKinds: []providers.AuthKind{providers.APIKey}},
		{Name: "basic", AuthKinds: []providers.AuthKind{providers.BasicAuth}},
		{
			Name: "custom", AuthKinds: []providers.AuthKind{providers.CustomAuth},
			CustomAuth: []providers.Field{
				{Name: "apiToken", Secret: true, Pattern: `[A-Za-z0-9_]{8,}`, MaxLength: 40},
				{Name: "region", Optional: true, Pattern: `eu|us`},
				{Name: "subdomain"},
			},
		},
		{Name: "machine", TokenURL: tokenURL, AuthKinds: []providers.AuthKind{providers.OAuth2ClientCredentials}},
		{Name: "pwd", TokenURL: tokenURL, AuthKinds: []providers.AuthKind{providers.OAuth2PasswordCredentials}},
		{Name: "oauth", AuthURL: authURL, TokenURL: tokenURL, AuthKinds: []providers.AuthKind{providers.OAuth2AuthorizationCode}},
		{
			Name: "wsp", AuthURL: "https://{{workspace}}.wsp.example/oauth/authorize",
			TokenURL: "https://{{workspace}}.wsp.example/oauth/token",
			Hosts:    metadata.Hosts{"*.wsp.example"}, Inputs: []metadata.Input{{Name: "workspace"}},
			AuthKinds: []providers.AuthKind{providers.APIKey, providers.OAuth2AuthorizationCode},
		},
		{
			Name: "acct", AuthKinds: []providers.AuthKind{providers.APIKey},
			Inputs: []metadata.Input{{Name: "accountId", Kind: metadata.Text}},
		},
	} {
		if err := reg.Register(p); err != nil {
			t.Fatalf("Register(%s): %v", p.Name, err)
		}
	}
	return reg
}

// ccApps holds the app of the projects "proj" and "other" for the "oauth" provider.
func ccApps() *connect.MemoryAppStore {
	return connect.NewMemoryAppStore(
		connect.ProviderApp{ID: "oauth-app", ProjectID: "proj", Provider: "oauth", ClientID: "oauth-client", ClientSecret: ccAppSecret},
		connect.ProviderApp{ID: "oauth-app", ProjectID: "other", Provider: "oauth", ClientID: "oauth-client", ClientSecret: ccAppSecret},
	)
}

// ccKeyring returns a keyring sealing with primary and holding the keys ids (each key
// derived from its id).
func ccKeyring(t testing.TB, primary string, ids ...string) *keyring.Keyring {
	t.Helper()
	keys := map[string][]byte{}
	for _, id := range ids {
		k := sha256.Sum256([]byte("connect test key " + id))
		keys[id] = k[:]
	}
	kr, err := keyring.New(primary, keys)
	if err != nil {
		t.Fatalf("keyring.New: %v", err)
	}
	return kr
}

// ccSyncBuffer is a bytes.Buffer safe for concurrent writers.
type ccSyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *ccSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *ccSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ccEvents records the events of Config.OnEvent.
type ccEvents struct {
	mu     sync.Mutex
	events []connect.Event
}

func (e *ccEvents) record(_ context.Context, ev connect.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *ccEvents) all() []connect.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]connect.Event(nil), e.events...)
}

func (e *ccEvents) ofType(t connect.EventType) []connect.Event {
	var out []connect.Event
	for _, ev := range e.all() {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// ccFixture is a Connector over a memory connection store, with a settable clock, a debug
// JSON log and an event recorder.
type ccFixture struct {
	c      *connect.Connector
	cfg    connect.Config
	store  *connect.MemoryConnectionStore
	clock  *ccClock
	srv    *ccTokenServer // nil when the test needs no token endpoint
	logs   *ccSyncBuffer
	events *ccEvents
}

func newCCFixture(t testing.TB, srv *ccTokenServer, edit ...func(*connect.Config)) *ccFixture {
	t.Helper()
	tokenURL := ccUnusedTokenURL
	if srv != nil {
		tokenURL = srv.URL
	}
	f := &ccFixture{
		store: connect.NewMemoryConnectionStore(), clock: newCCClock(), srv: srv,
		logs: &ccSyncBuffer{}, events: &ccEvents{},
	}
	f.cfg = connect.Config{
		Providers:   ccRegistry(t, tokenURL),
		Apps:        ccApps(),
		Connections: f.store,
		Logger:      slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         f.clock.Now,
		OnEvent:     f.events.record,
	}
	for _, e := range edit {
		e(&f.cfg)
	}
	c, err := connect.New(f.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.c = c
	return f
}

// again returns another Connector over the same stores, keyring and clock: a second process.
func (f *ccFixture) again(t testing.TB, edit ...func(*connect.Config)) *connect.Connector {
	t.Helper()
	cfg := f.cfg
	cfg.OnEvent = nil
	for _, e := range edit {
		e(&cfg)
	}
	c, err := connect.New(cfg)
	if err != nil {
		t.Fatalf("New (second connector): %v", err)
	}
	return c
}

// records returns the store's records of the project.
func (f *ccFixture) records(t testing.TB, projectID string) []*connect.ConnectionRecord {
	t.Helper()
	recs, err := f.store.List(context.Background(), projectID, connect.ConnectionFilter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return recs
}

// connect runs Connect and fails the test on an error.
func (f *ccFixture) connect(t testing.TB, req connect.ConnectionRequest) *connect.Connection {
	t.Helper()
	conn, err := f.c.Connect(context.Background(), req)
	if err != nil {
		t.Fatalf("Connect(%s): %v", req.Provider, err)
	}
	return conn
}

// count returns how many connections the project has.
func (f *ccFixture) count(t testing.TB, projectID string) int {
	t.Helper()
	conns, err := f.c.Connections(context.Background(), projectID, connect.ConnectionFilter{})
	if err != nil {
		t.Fatalf("Connections: %v", err)
	}
	return len(conns)
}

// ccReq is a ConnectionRequest of project "proj" without credentials.
func ccReq(provider string) connect.ConnectionRequest {
	return connect.ConnectionRequest{ProjectID: "proj", Provider: provider, GroupRef: "group-1", ConsumerRef: "user-1"}
}

// ccImport is a request importing tokens for the "oauth" provider; an empty refresh token
// is left out, a zero expiry too.
func ccImport(access, refresh string, expiresAt time.Time) connect.ConnectionRequest {
	r := ccReq("oauth")
	ac := &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: connect.Secret(access)}}
	if !expiresAt.IsZero() {
		ac.AccessToken.ExpiresAt = &expiresAt
	}
	if refresh != "" {
		ac.RefreshToken = &connect.TokenValue{Token: connect.Secret(refresh)}
	}
	r.OAuth2AuthorizationCode = ac
	return r
}

// ccFields returns the field names of a *ValidationError, or nil.
func ccFields(err error) []string {
	var ve *connect.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestConnectAPIKey(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		key      string
		field    string // "" means success
		sentinel error
	}{
		{name: "accepted", provider: "keyed", key: ccAPIKey},
		{name: "at the 4 KiB limit", provider: "keyed", key: ccAPIKey + strings.Repeat("k", 4096-len(ccAPIKey))},
		{name: "provider without apiKey", provider: "basic", key: ccAPIKey, field: "apiKey", sentinel: connect.ErrGrantNotAllowed},
		{name: "OAuth provider", provider: "oauth", key: ccAPIKey, field: "apiKey", sentinel: connect.ErrGrantNotAllowed},
		{name: "CRLF header injection", provider: "keyed", key: ccAPIKey + "\r\nX-Injected: 1", field: "apiKey"},
		{name: "over 4 KiB", provider: "keyed", key: ccAPIKey + strings.Repeat("k", 4097-len(ccAPIKey)), field: "apiKey"},
		{name: "unknown provider", provider: "nope", key: ccAPIKey, field: "provider", sentinel: connect.ErrUnknownProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCCFixture(t, nil)
			r := ccReq(tt.provider)
			r.APIKey = connect.Secret(tt.key)
			conn, err := f.c.Connect(context.Background(), r)
			if tt.field != "" {
				if conn != nil {
					t.Errorf("Connect returned %+v with an error", conn)
				}
				if got := ccFields(err); !errors.Is(err, connect.ErrInvalidRequest) || !cmp.Equal(got, []string{tt.field}) {
					t.Fatalf("error = %v (fields %q); want a ValidationError naming only %q", err, got, tt.field)
				}
				if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
					t.Errorf("error %v does not match %v", err, tt.sentinel)
				}
				ccNoSentinelInError(t, err)
				if got := f.count(t, "proj"); got != 0 {
					t.Errorf("%d connections stored after a refused request, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.ID == "" || conn.AuthScheme != connect.AuthSchemeAPIKey || conn.Status != connect.StatusCreated {
				t.Errorf("connection id %q, scheme %q, status %q; want an id, %q, %q",
					conn.ID, conn.AuthScheme, conn.Status, connect.AuthSchemeAPIKey, connect.StatusCreated)
			}
			if !conn.CreateTime.Equal(f.clock.Now()) || !conn.UpdateTime.Equal(f.clock.Now()) {
				t.Errorf("create/update time = %v/%v, want the clock's %v", conn.CreateTime, conn.UpdateTime, f.clock.Now())
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if got := cr.APIKey.Reveal(); got != tt.key {
				t.Errorf("Credentials().APIKey = %.40q..., want the key given", got)
			}
			if cr.AuthScheme != connect.AuthSchemeAPIKey || cr.Username != "" || cr.Password != "" {
				t.Errorf("Credentials = %+v, want only the API key", cr)
			}
			if got := f.count(t, "proj"); got != 1 {
				t.Errorf("%d connections stored, want 1", got)
			}
		})
	}
}

func TestConnectBasicAuth(t *testing.T) {
	tests := []struct {
		name   string
		basic  connect.BasicAuth
		fields []string // nil means success
	}{
		{name: "stored", basic: connect.BasicAuth{Username: "alice@example.com", Password: ccBasicPassword}},
		{name: "username with a colon", basic: connect.BasicAuth{Username: "ali:ce", Password: ccBasicPassword}, fields: []string{"basicAuth.username"}},
		{name: "no password", basic: connect.BasicAuth{Username: "alice"}, fields: []string{"basicAuth.password"}},
		{name: "password with LF", basic: connect.BasicAuth{Username: "alice", Password: ccBasicPassword + "\n"}, fields: []string{"basicAuth.password"}},
		{name: "username too long", basic: connect.BasicAuth{Username: strings.Repeat("u", 257), Password: ccBasicPassword}, fields: []string{"basicAuth.username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCCFixture(t, nil)
			r := ccReq("basic")
			b := tt.basic
			r.BasicAuth = &b
			conn, err := f.c.Connect(context.Background(), r)
			if tt.fields != nil {
				if got := ccFields(err); conn != nil || !errors.Is(err, connect.ErrInvalidRequest) || !cmp.Equal(got, tt.fields) {
					t.Fatalf("Connect = %v, %v (fields %q); want a ValidationError naming %q", conn, err, got, tt.fields)
				}
				ccNoSentinelInError(t, err)
				if got := f.count(t, "proj"); got != 0 {
					t.Errorf("%d connections stored, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.AuthScheme != connect.AuthSchemeBasic || conn.Status != connect.StatusCreated {
				t.Errorf("scheme %q, status %q; want %q, %q", conn.AuthScheme, conn.Status, connect.AuthSchemeBasic, connect.StatusCreated)
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if cr.Username != tt.basic.Username || cr.Password.Reveal() != ccBasicPassword || cr.APIKey != "" {
				t.Errorf("Credentials = %q / %q, want %q / the password", cr.Username, cr.Password.Reveal(), tt.basic.Username)
			}
		})
	}
}

func TestConnectCustomAuth(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]connect.Secret
		fields []string // nil means success
	}{
		{name: "required fields", values: map[string]connect.Secret{"apiToken": ccCustomToken, "subdomain": "acme"}},
		{name: "with the optional field", values: map[string]connect.Secret{"apiToken": ccCustomToken, "subdomain": "acme", "region": "eu"}},
		{name: "at maxLength", values: map[string]connect.Secret{"apiToken": connect.Secret(ccCustomToken + strings.Repeat("a", 40-len(ccCustomToken))), "subdomain": "acme"}},
		{name: "unknown field", values: map[string]connect.Secret{"apiToken": ccCustomToken, "subdomain": "acme", "foo": ccCustomToken},
			fields: []string{"customAuth.foo"}},
		{name: "missing required field", values: map[string]connect.Secret{"apiToken": ccCustomToken}, fields: []string{"customAuth.subdomain"}},
		{name: "pattern mismatch", values: map[string]connect.Secret{"apiToken": ccCustomToken + "!", "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "pattern is anchored", values: map[string]connect.Secret{"apiToken": ccCustomToken, "subdomain": "acme", "region": "euro"},
			fields: []string{"customAuth.region"}},
		{name: "longer than maxLength", values: map[string]connect.Secret{"apiToken": connect.Secret(ccCustomToken + strings.Repeat("a", 41-len(ccCustomToken))), "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "control character", values: map[string]connect.Secret{"apiToken": ccCustomToken + "\r\n", "subdomain": "acme"},
			fields: []string{"customAuth.apiToken"}},
		{name: "several errors", values: map[string]connect.Secret{"apiToken": ccCustomToken + "!", "bar": ccCustomToken},
			fields: []string{"customAuth.apiToken", "customAuth.bar", "customAuth.subdomain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCCFixture(t, nil)
			r := ccReq("custom")
			r.CustomAuth = tt.values
			conn, err := f.c.Connect(context.Background(), r)
			if tt.fields != nil {
				got := ccFields(err)
				if conn != nil || !errors.Is(err, connect.ErrInvalidRequest) ||
					!cmp.Equal(got, tt.fields, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
					t.Fatalf("Connect = %v, %v (fields %q); want a ValidationError naming %q", conn, err, got, tt.fields)
				}
				ccNoSentinelInError(t, err)
				if got := f.count(t, "proj"); got != 0 {
					t.Errorf("%d connections stored, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.AuthScheme != connect.AuthSchemeCustom {
				t.Errorf("scheme %q, want %q", conn.AuthScheme, connect.AuthSchemeCustom)
			}
			cr, err := f.c.Credentials(context.Background(), "proj", conn.ID)
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			got := map[string]string{}
			for k, v := range cr.Custom {
				got[k] = v.Reveal()
			}
			want := map[string]string{}
			for k, v := range tt.values {
				want[k] = v.Reveal()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Credentials().Custom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConnectClientCredentials(t *testing.T) {
	ctx := context.Background()
	srv := newCCTokenServer(t, func(r ccTokenRequest) (int, string) {
		if r.Form.Get("grant_type") != "client_credentials" || !r.Basic || r.ClientID != "machine-client" || r.ClientSecret != ccClientSecret {
			return http.StatusUnauthorized, `{"error":"invalid_client"}`
		}
		if r.Form.Has("client_secret") {
			return http.StatusBadRequest, `{"error":"invalid_request","error_description":"two client authentications"}`
		}
		access := ccAccessToken
		if n := r.Form.Get("n"); n != "" {
			access += n
		}
		return http.StatusOK, ccTokenJSON(access, ccRefreshToken, 3600)
	})
	f := newCCFixture(t, srv)
	r := ccReq("machine")
	r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "machine-client", ClientSecret: ccClientSecret, Scopes: []string{"read", "write"}}
	conn := f.connect(t, r)

	if conn.Status != connect.StatusWorking || conn.AuthScheme != connect.AuthSchemeOAuth2ClientCredentials {
		t.Errorf("status %q, scheme %q; want %q, %q", conn.Status, conn.AuthScheme, connect.StatusWorking, connect.AuthSchemeOAuth2ClientCredentials)
	}
	if diff := cmp.Diff([]string{"read", "write"}, conn.Scopes); diff != "" {
		t.Errorf("Scopes (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 1 || reqs[0].Form.Get("scope") != "read write" {
		t.Fatalf("token requests = %+v, want one asking for scope %q", reqs, "read write")
	}
	// Without a keyring the memory store keeps plaintext JSON: the refresh token must not be there.
	for _, rec := range f.records(t, "proj") {
		if bytes.Contains(rec.Credentials, []byte(ccRefreshToken)) {
			t.Errorf("the stored credentials keep the refresh token of a client credentials grant")
		}
	}

	ts, err := f.c.TokenSource(ctx, conn.ID)
	if err != nil {
		t.Fatalf("TokenSource: %v", err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != ccAccessToken || tok.RefreshToken != "" {
		t.Errorf("Token = %q refresh %q; want the fetched access token and no refresh token", tok.AccessToken, tok.RefreshToken)
	}
	if got := srv.count(); got != 1 {
		t.Errorf("the valid token cost %d token requests, want 1", got)
	}

	// After expiry, a new token comes from the client credentials grant again.
	srv.setRespond(func(r ccTokenRequest) (int, string) {
		if r.Form.Get("grant_type") != "client_credentials" || r.ClientSecret != ccClientSecret || r.Form.Has("refresh_token") {
			return http.StatusBadRequest, `{"error":"unsupported_grant_type"}`
		}
		return http.StatusOK, ccTokenJSON(ccAccessToken2, ccRefreshToken2, 3600)
	})
	f.clock.Advance(2 * time.Hour)
	tok, err = ts.Token()
	if err != nil {
		t.Fatalf("Token after expiry: %v", err)
	}
	if tok.AccessToken != ccAccessToken2 {
		t.Errorf("Token after expiry = %q, want %q", tok.AccessToken, ccAccessToken2)
	}
	reqs = srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d token requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if g := r.Form.Get("grant_type"); g != "client_credentials" || r.Form.Has("refresh_token") {
			t.Errorf("request %d: grant_type %q, refresh_token %q; want client_credentials and none", i, g, r.Form.Get("refresh_token"))
		}
	}
	for _, rec := range f.records(t, "proj") {
		if bytes.Contains(rec.Credentials, []byte(ccRefreshToken2)) {
			t.Errorf("the refreshed credentials keep the refresh token")
		}
	}
}

func TestConnectClientCredentialsErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		code     string // the ProviderError code, if any
	}{
		{name: "invalid_client", status: http.StatusUnauthorized, body: `{"error":"invalid_client"}`, sentinel: connect.ErrExchangeFailed, code: "invalid_client"},
		{name: "description echoing the secret", status: http.StatusUnauthorized,
			body: `{"error":"invalid_client","error_description":"secret ` + ccClientSecret + ` is wrong"}`, sentinel: connect.ErrExchangeFailed, code: "invalid_client"},
		{name: "HTML error page echoing the request", status: http.StatusBadGateway,
			body: "<html>client_secret=" + ccClientSecret + "&grant_type=client_credentials</html>", sentinel: connect.ErrExchangeFailed},
		{name: "200 with an error", status: http.StatusOK, body: `{"error":"unauthorized_client","secret":"` + ccClientSecret + `"}`,
			sentinel: connect.ErrExchangeFailed, code: "unauthorized_client"},
		{name: "no access token", status: http.StatusOK, body: `{"token_type":"Bearer","note":"` + ccClientSecret + `"}`, sentinel: connect.ErrExchangeFailed},
		{name: "MAC token type", status: http.StatusOK, body: `{"access_token":"` + ccAccessToken + `","token_type":"mac"}`, sentinel: connect.ErrExchangeFailed},
		{name: "invalid JSON", status: http.StatusOK, body: `{"access_token":"` + ccAccessToken, sentinel: connect.ErrExchangeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newCCTokenServer(t, func(ccTokenRequest) (int, string) { return tt.status, tt.body })
			f := newCCFixture(t, srv)
			r := ccReq("machine")
			r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "machine-client", ClientSecret: ccClientSecret}
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil || !errors.Is(err, tt.sentinel) {
				t.Fatalf("Connect = %v, %v; want no connection and %v", conn, err, tt.sentinel)
			}
			var pe *connect.ProviderError
			if tt.code != "" && (!errors.As(err, &pe) || pe.Code != tt.code) {
				t.Errorf("error %v carries no ProviderError with code %q", err, tt.code)
			}
			ccNoSentinelInError(t, err)
			ccNoSentinel(t, "the log", f.logs.String())
			if got := f.count(t, "proj"); got != 0 {
				t.Errorf("%d connections stored after a failed grant, want 0", got)
			}
			evs := f.events.all()
			if len(evs) != 1 || evs[0].Type != connect.EventConnectionError || evs[0].Connection != nil ||
				evs[0].ProjectID != "proj" || evs[0].Provider != "machine" || !errors.Is(evs[0].Err, tt.sentinel) {
				t.Errorf("events = %+v, want one connection.error for proj/machine without a connection", evs)
			}
			for _, ev := range evs {
				ccNoSentinel(t, "the event", fmt.Sprintf("%+v", ev))
			}
		})
	}
}

func TestConnectPasswordGrant(t *testing.T) {
	t.Run("provider without the grant", func(t *testing.T) {
		srv := newCCTokenServer(t, ccRespondToken(ccAccessToken, ccRefreshToken, 3600))
		f := newCCFixture(t, srv)
		r := ccReq("machine")
		r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{
			Username: ccUsername, Password: ccUserPassword, ClientID: "pwd-client", ClientSecret: ccClientSecret,
		}
		conn, err := f.c.Connect(context.Background(), r)
		if conn != nil || !errors.Is(err, connect.ErrGrantNotAllowed) || !errors.Is(err, connect.ErrInvalidRequest) {
			t.Fatalf("Connect = %v, %v; want ErrGrantNotAllowed", conn, err)
		}
		assertField(t, err, "oauth2PasswordCredentials")
		ccNoSentinelInError(t, err)
		if srv.count() != 0 || f.count(t, "proj") != 0 {
			t.Errorf("%d token requests, %d connections; want none", srv.count(), f.count(t, "proj"))
		}
	})

	respond := func(r ccTokenRequest) (int, string) {
		switch {
		case r.Form.Get("grant_type") != "password" || r.ClientID != "pwd-client" || r.ClientSecret != ccClientSecret:
			return http.StatusUnauthorized, `{"error":"invalid_client"}`
		case r.Form.Get("username") != ccUsername || r.Form.Get("password") != ccUserPassword:
			return http.StatusBadRequest, `{"error":"invalid_grant","error_description":"wrong password ` + r.Form.Get("password") + ` for ` + r.Form.Get("username") + `"}`
		}
		return http.StatusOK, ccTokenJSON(ccAccessToken, ccRefreshToken, 3600)
	}
	for _, withKeyring := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyring=%t", withKeyring), func(t *testing.T) {
			srv := newCCTokenServer(t, respond)
			f := newCCFixture(t, srv, func(c *connect.Config) {
				if withKeyring {
					c.Keyring = ccKeyring(t, "k1", "k1")
				}
			})
			r := ccReq("pwd")
			r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{
				Username: ccUsername, Password: ccUserPassword + "x", ClientID: "pwd-client", ClientSecret: ccClientSecret,
			}
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil || !errors.Is(err, connect.ErrExchangeFailed) {
				t.Fatalf("Connect with a wrong password = %v, %v; want ErrExchangeFailed", conn, err)
			}
			ccNoSentinelInError(t, err)
			if out := fmt.Sprintf("%+v", err); strings.Contains(out, ccUsername) {
				t.Errorf("the error names the username: %s", out)
			}
			if got := f.count(t, "proj"); got != 0 {
				t.Fatalf("%d connections after a refused password, want 0", got)
			}

			r.OAuth2PasswordCredentials.Password = ccUserPassword
			conn = f.connect(t, r)
			if conn.Status != connect.StatusWorking || conn.AuthScheme != connect.AuthSchemeOAuth2Password {
				t.Errorf("status %q, scheme %q; want %q, %q", conn.Status, conn.AuthScheme, connect.StatusWorking, connect.AuthSchemeOAuth2Password)
			}
			recs := f.records(t, "proj")
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			for _, rec := range recs {
				for _, s := range []string{ccUserPassword, ccUsername} {
					if bytes.Contains(rec.Credentials, []byte(s)) {
						t.Errorf("the stored credentials contain %s", s)
					}
				}
				j, _ := json.Marshal(rec)
				if bytes.Contains(j, []byte(ccUserPassword)) {
					t.Errorf("the record's JSON contains the password")
				}
			}
			logs := f.logs.String()
			for _, s := range []string{ccUserPassword, ccUsername, ccClientSecret, ccAccessToken, ccRefreshToken} {
				if strings.Contains(logs, s) {
					t.Errorf("the log contains %s:\n%s", s, logs)
				}
			}
			// The tokens work: the stored access token comes back without a request.
			ts, err := f.c.TokenSource(context.Background(), conn.ID)
			if err != nil {
				t.Fatalf("TokenSource: %v", err)
			}
			if tok, err := ts.Token(); err != nil || tok.AccessToken != ccAccessToken {
				t.Errorf("Token = %v, %v; want %s", tok, err, ccAccessToken)
			}
			if got := srv.count(); got != 2 {
				t.Errorf("%d token requests, want 2 (the refused and the accepted grant)", got)
			}
		})
	}
}

func TestConnectImportTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("access token only", func(t *testing.T) {
		f := newCCFixture(t, nil)
		conn := f.connect(t, ccImport(ccAccessToken, "", f.clock.Now().Add(time.Hour)))
		if conn.AuthScheme != connect.AuthSchemeOAuth2AuthorizationCode || conn.Status != connect.StatusCreated {
			t.Errorf("scheme %q, status %q; want %q, %q", conn.AuthScheme, conn.Status, connect.AuthSchemeOAuth2AuthorizationCode, connect.StatusCreated)
		}
		ts, err := f.c.TokenSource(ctx, conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != ccAccessToken || !tok.Expiry.Equal(f.clock.Now().Add(time.Hour)) {
			t.Errorf("Token = %+v, %v; want the imported token expiring in an hour", tok, err)
		}
	})
	t.Run("refresh token without an app", func(t *testing.T) {
		f := newCCFixture(t, nil)
		r := ccImport(ccAccessToken, ccRefreshToken, time.Time{})
		r.ProjectID = "noapp"
		conn, err := f.c.Connect(ctx, r)
		if conn != nil || !errors.Is(err, connect.ErrAppNotFound) {
			t.Fatalf("Connect = %v, %v; want ErrAppNotFound", conn, err)
		}
		assertField(t, err, "oauth2AuthorizationCode.refreshToken")
		ccNoSentinelInError(t, err)
		if got := f.count(t, "noapp"); got != 0 {
			t.Errorf("%d connections stored, want 0", got)
		}
	})
	t.Run("access token only without an app", func(t *testing.T) {
		f := newCCFixture(t, nil)
		r := ccImport(ccAccessToken, "", time.Time{})
		r.ProjectID = "noapp"
		conn := f.connect(t, r)
		if conn.ProviderApp != nil {
			t.Errorf("ProviderApp = %+v, want none", conn.ProviderApp)
		}
	})
	t.Run("refresh uses the project's app", func(t *testing.T) {
		srv := newCCTokenServer(t, func(r ccTokenRequest) (int, string) {
			if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != ccRefreshToken ||
				r.ClientID != "oauth-client" || r.ClientSecret != ccAppSecret {
				return http.StatusBadRequest, `{"error":"invalid_request"}`
			}
			return http.StatusOK, ccTokenJSON(ccAccessToken2, "", 3600)
		})
		f := newCCFixture(t, srv)
		conn := f.connect(t, ccImport(ccAccessToken, ccRefreshToken, f.clock.Now().Add(time.Hour)))
		if conn.ProviderApp == nil || conn.ProviderApp.ID != "oauth-app" || conn.ProviderApp.ClientID != "oauth-client" {
			t.Fatalf("ProviderApp = %+v, want oauth-app / oauth-client", conn.ProviderApp)
		}
		ts, err := f.c.TokenSource(ctx, conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := ts.Token(); err != nil || tok.AccessToken != ccAccessToken || srv.count() != 0 {
			t.Fatalf("Token before expiry = %v, %v after %d requests; want the imported token, no request", tok, err, srv.count())
		}
		f.clock.Advance(2 * time.Hour)
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != ccAccessToken2 {
			t.Fatalf("Token after expiry = %v, %v; want %s", tok, err, ccAccessToken2)
		}
		if got := srv.count(); got != 1 {
			t.Errorf("%d token requests, want 1", got)
		}
	})
}

func TestConnectUpsert(t *testing.T) {
	ctx := context.Background()
	f := newCCFixture(t, nil)
	r := ccReq("keyed")
	r.APIKey = "first-key"
	first := f.connect(t, r)

	f.clock.Advance(time.Minute)
	r.APIKey = ccAPIKey
	second := f.connect(t, r)
	if second.ID != first.ID {
		t.Errorf("second Connect made connection %s, want the update of %s", second.ID, first.ID)
	}
	if !second.CreateTime.Equal(first.CreateTime) {
		t.Errorf("CreateTime = %v, want it kept at %v", second.CreateTime, first.CreateTime)
	}
	if !second.UpdateTime.Equal(first.UpdateTime.Add(time.Minute)) {
		t.Errorf("UpdateTime = %v, want %v", second.UpdateTime, first.UpdateTime.Add(time.Minute))
	}
	if cr, err := f.c.Credentials(ctx, "proj", first.ID); err != nil || cr.APIKey.Reveal() != ccAPIKey {
		t.Errorf("Credentials after the update: %v; want the new key", err)
	}
	if got := f.count(t, "proj"); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
	var types []connect.EventType
	for _, e := range f.events.all() {
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]connect.EventType{connect.EventConnectionCreated, connect.EventConnectionUpdated}, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	others := []struct {
		name string
		edit func(*connect.ConnectionRequest)
	}{
		{"another consumer", func(r *connect.ConnectionRequest) { r.ConsumerRef = "user-2" }},
		{"another group", func(r *connect.ConnectionRequest) { r.GroupRef = "group-2" }},
		{"another project", func(r *connect.ConnectionRequest) { r.ProjectID = "proj2" }},
	}
	for i, o := range others {
		r2 := ccReq("keyed")
		r2.APIKey = ccAPIKey
		o.edit(&r2)
		c := f.connect(t, r2)
		if c.ID == first.ID {
			t.Errorf("%s: Connect updated connection %s, want a new one", o.name, first.ID)
		}
		if got, want := f.count(t, "proj")+f.count(t, "proj2"), 2+i; got != want {
			t.Errorf("%s: %d connections, want %d", o.name, got, want)
		}
	}

	// Two workspaces of one provider are two connections.
	w := ccReq("wsp")
	w.APIKey = ccAPIKey
	w.ProviderWorkspaceRef = "acme"
	a := f.connect(t, w)
	w.ProviderWorkspaceRef = "other"
	b := f.connect(t, w)
	if a.ID == b.ID {
		t.Errorf("connections of two workspaces share id %s", a.ID)
	}
}

func TestConnectCredentialKindCount(t *testing.T) {
	tests := []struct {
		name string
		edit func(*connect.ConnectionRequest)
	}{
		{"none", func(*connect.ConnectionRequest) {}},
		{"apiKey and basicAuth", func(r *connect.ConnectionRequest) {
			r.APIKey = ccAPIKey
			r.BasicAuth = &connect.BasicAuth{Username: "u", Password: ccBasicPassword}
		}},
		{"apiKey and imported tokens", func(r *connect.ConnectionRequest) {
			r.APIKey = ccAPIKey
			r.OAuth2AuthorizationCode = &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: ccAccessToken}}
		}},
		{"client credentials and password", func(r *connect.ConnectionRequest) {
			r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "c", ClientSecret: ccClientSecret}
			r.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{Username: "u", Password: ccUserPassword, ClientID: "c", ClientSecret: ccClientSecret}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCCFixture(t, nil)
			r := ccReq("keyed")
			tt.edit(&r)
			conn, err := f.c.Connect(context.Background(), r)
			if conn != nil {
				t.Errorf("Connect returned %+v", conn)
			}
			assertField(t, err, "credentials")
			ccNoSentinelInError(t, err)
			if got := f.count(t, "proj"); got != 0 {
				t.Errorf("%d connections stored, want 0", got)
			}
		})
	}
}

func TestConnectWorkspaceAndMetadata(t *testing.T) {
	tests := []struct {
		name      string
		provider  string
		workspace string
		metadata  connect.ProviderMetadata
		field     string // "" means success
		wantWS    string
		wantMD    connect.ProviderMetadata
	}{
		{name: "workspace missing", provider: "wsp", field: "providerWorkspaceRef"},
		{name: "hostile workspace", provider: "wsp", workspace: "evil.com#", field: "providerWorkspaceRef"},
		{name: "workspace with a dot", provider: "wsp", workspace: "a.b", field: "providerWorkspaceRef"},
		{name: "workspace given as metadata", provider: "wsp", metadata: connect.ProviderMetadata{"workspace": {Value: "acme"}}, field: "providerMetadata.workspace"},
		{name: "workspace for a provider without one", provider: "keyed", workspace: "acme", field: "providerWorkspaceRef"},
		{name: "unknown metadata", provider: "keyed", metadata: connect.ProviderMetadata{"region": {Value: "eu"}}, field: "providerMetadata.region"},
		{name: "metadata missing", provider: "acct", field: "providerMetadata.accountId"},
		{name: "metadata from a token source", provider: "acct", metadata: connect.ProviderMetadata{"accountId": {Value: "1", Source: "token"}}, field: "providerMetadata.accountId.source"},
		{name: "workspace normalised", provider: "wsp", workspace: "Acme", wantWS: "acme"},
		{name: "metadata kept", provider: "acct", metadata: connect.ProviderMetadata{"accountId": {Value: "1234567"}},
			wantMD: connect.ProviderMetadata{"accountId": {Value: "1234567", Source: "input"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCCFixture(t, nil)
			r := ccReq(tt.provider)
			r.APIKey = ccAPIKey
			r.ProviderWorkspaceRef = tt.workspace
			r.ProviderMetadata = tt.metadata
			conn, err := f.c.Connect(context.Background(), r)
			if tt.field != "" {
				if conn != nil {
					t.Errorf("Connect returned %+v", conn)
				}
				assertField(t, err, tt.field)
				ccNoSentinelInError(t, err)
				if got := f.count(t, "proj"); got != 0 {
					t.Errorf("%d connections stored, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.ProviderWorkspaceRef != tt.wantWS {
				t.Errorf("ProviderWorkspaceRef = %q, want %q", conn.ProviderWorkspaceRef, tt.wantWS)
			}
			if diff := cmp.Diff(tt.wantMD, conn.ProviderMetadata); diff != "" {
				t.Errorf("ProviderMetadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConnectionOwnership(t *testing.T) {
	ctx := context.Background()
	f := newCCFixture(t, nil)
	r := ccReq("keyed")
	r.ProjectID = "projA"
	r.APIKey = ccAPIKey
	a := f.connect(t, r)

	tests := []struct {
		name string
		call func() error
	}{
		{"Connection", func() error { _, err := f.c.Connection(ctx, "projB", a.ID); return err }},
		{"Credentials", func() error { _, err := f.c.Credentials(ctx, "projB", a.ID); return err }},
		{"DeleteConnection", func() error { return f.c.DeleteConnection(ctx, "projB", a.ID) }},
		{"store Get", func() error { _, err := f.store.Get(ctx, "projB", a.ID); return err }},
		{"store Delete", func() error { return f.store.Delete(ctx, "projB", a.ID) }},
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
		rec, err := f.store.Get(ctx, "projA", a.ID)
		if err != nil {
			t.Fatal(err)
		}
		steal := rec.Clone()
		steal.Connection.ProjectID = "projB"
		steal.Credentials = []byte{0, '{', '}'}
		if err := f.store.Put(ctx, steal); err == nil {
			t.Errorf("Put of projB's record with A's id at A's version succeeded")
		}
		steal.Version = 0
		if err := f.store.Put(ctx, steal); !errors.Is(err, connect.ErrConflict) {
			t.Errorf("Put creating projB's record with A's id = %v, want ErrConflict", err)
		}
		after, err := f.store.Get(ctx, "projA", a.ID)
		if err != nil || after.Version != rec.Version || !bytes.Equal(after.Credentials, rec.Credentials) {
			t.Errorf("A's record changed: %v", err)
		}
	})

	// A's connection is untouched and still usable.
	if got, err := f.c.Connection(ctx, "projA", a.ID); err != nil || got.ID != a.ID {
		t.Fatalf("Connection(projA) = %v, %v", got, err)
	}
	if cr, err := f.c.Credentials(ctx, "projA", a.ID); err != nil || cr.APIKey.Reveal() != ccAPIKey {
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

func TestCredentialsNeverShowSecrets(t *testing.T) {
	f := newCCFixture(t, nil)
	r := ccReq("custom")
	r.CustomAuth = map[string]connect.Secret{"apiToken": ccCustomToken, "subdomain": "acme"}
	custom := f.connect(t, r)
	r = ccReq("basic")
	r.BasicAuth = &connect.BasicAuth{Username: "alice", Password: ccBasicPassword}
	basic := f.connect(t, r)
	r = ccReq("keyed")
	r.APIKey = ccAPIKey
	keyed := f.connect(t, r)
	for _, id := range []string{custom.ID, basic.ID, keyed.ID} {
		cr, err := f.c.Credentials(context.Background(), "proj", id)
		if err != nil {
			t.Fatal(err)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			ccNoSentinel(t, verb+" of Credentials", fmt.Sprintf(verb, cr))
			ccNoSentinel(t, verb+" of *Credentials", fmt.Sprintf(verb, *cr))
		}
		j, err := json.Marshal(cr)
		if err != nil {
			t.Fatal(err)
		}
		ccNoSentinel(t, "JSON of Credentials", string(j))
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "creds", cr)
		ccNoSentinel(t, "slog of Credentials", buf.String())
	}
}

func TestConnectStoreFailure(t *testing.T) {
	f := newCCFixture(t, nil)
	failing := f.again(t, func(c *connect.Config) {
		c.Connections = &ccFlakyStore{MemoryConnectionStore: f.store, puts: 0}
		c.OnEvent = f.events.record
	})
	r := ccReq("keyed")
	r.APIKey = ccAPIKey
	conn, err := failing.Connect(context.Background(), r)
	if conn != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
		t.Fatalf("Connect with a failing store = %v, %v; want ErrStoreUnavailable", conn, err)
	}
	ccNoSentinelInError(t, err)
	if got := f.count(t, "proj"); got != 0 {
		t.Errorf("%d connections stored, want 0", got)
	}
	evs := f.events.all()
	if len(evs) != 1 || evs[0].Type != connect.EventConnectionError || !errors.Is(evs[0].Err, connect.ErrStoreUnavailable) {
		t.Errorf("events = %+v, want one connection.error", evs)
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

func TestTokenSourceForIsScopedByProject(t *testing.T) {
	f := newCallbackFixture(t)
	conn, err := f.c.Callback(context.Background(), callbackRequest("code=c&state="+f.begin(t).State))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.TokenSourceFor(context.Background(), "other-project", conn.ID); !errors.Is(err, connect.ErrConnectionNotFound) {
		t.Errorf("TokenSourceFor(another project) = %v, want ErrConnectionNotFound", err)
	}
	ts, err := f.c.TokenSourceFor(context.Background(), conn.ProjectID, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(); err != nil || tok.AccessToken != sentinelAT {
		t.Errorf("Token = %v, %v", tok, err)
	}
	_, err = f.c.TokenSourceFor(context.Background(), "", conn.ID)
	assertField(t, err, "projectId")
}
