package connect_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

// testRedirect is the Connector's callback URL.
const testRedirect = "https://api.example.com/callbacks/v1/oauth"

// sentinelAppScope is the scope of the default app of project "multi".
const sentinelAppScope = "app.scope"

// Sentinel secrets: each is searched for in every output the tests check.
const (
	sentinelAppSecret     = "SENTINEL_APPSECRET_19fe4c" // the client secret of every provider app
	sentinelCode          = "SENTINEL_CODE_f00dfeed"
	sentinelAccessToken   = "SENTINEL_ACCESS_4d21aa"
	sentinelRefreshToken  = "SENTINEL_REFRESH_a6b3cc"
	sentinelAccessToken2  = "SENTINEL_ACCESS2_91e0bb"
	sentinelRefreshToken2 = "SENTINEL_REFRESH2_7d55ee"
	sentinelAPIKey        = "SENTINEL_APIKEY_7c1e90"
	sentinelBasicPassword = "SENTINEL_BASICPW_51aa07"
	sentinelCustomToken   = "SENTINEL_CUSTOM_0b9d33"
	sentinelClientSecret  = "SENTINEL_CLIENTSECRET_e3f0" // of a connection's own client credentials
	sentinelUserPassword  = "SENTINEL_USERPW_88c2d1"
	sentinelUsername      = "SENTINEL_USERNAME_2f7a"
)

// sentinels lists every sentinel secret but the username, which errors may name.
var sentinels = []string{
	sentinelAppSecret, sentinelCode, sentinelAccessToken, sentinelRefreshToken, sentinelAccessToken2,
	sentinelRefreshToken2, sentinelAPIKey, sentinelBasicPassword, sentinelCustomToken, sentinelClientSecret,
	sentinelUserPassword,
}

// assertNoSecrets fails the test when a sentinel secret, or one of more, shows in v: a string
// (a log, a URL) as it is; any other value in its fmt renderings and its JSON, and an error
// also in its message and in every error it wraps.
func assertNoSecrets(t testing.TB, what string, v any, more ...string) {
	t.Helper()
	var outs []string
	switch v := v.(type) {
	case nil:
		return
	case string:
		outs = []string{v}
	default:
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		if j, err := json.Marshal(v); err == nil {
			outs = append(outs, string(j))
		}
		if err, ok := v.(error); ok {
			outs = append(outs, err.Error())
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				outs = append(outs, fmt.Sprintf("%+v", e))
			}
		}
	}
	for _, out := range outs {
		for _, s := range append(slices.Clone(sentinels), more...) {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a secret (%.12s…): %.300q", what, s, out)
			}
		}
	}
}

// assertField checks that err is a ValidationError naming field.
func assertField(t testing.TB, err error, field string) {
	t.Helper()
	var ve *connect.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, connect.ErrInvalidRequest) {
		t.Fatalf("error = %v, want a *ValidationError matching ErrInvalidRequest", err)
	}
	if !slices.Contains(errorFields(err), field) {
		t.Fatalf("error %q does not name field %q", err, field)
	}
}

// errorFields returns the field names of a *ValidationError, or nil.
func errorFields(err error) []string {
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

// clock is a settable clock for Config.Now, safe for concurrent use. It starts at the wall
// clock, which the state stores and the provider servers keep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tokenRequest is a request a token endpoint received.
type tokenRequest struct {
	Path                   string
	Form                   url.Values
	Authorization          string // the header as sent
	ClientID, ClientSecret string // from HTTP Basic, form-urldecoded
	Basic                  bool
}

// tokenServer is a provider's token endpoint on httptest: it records the requests it
// receives and answers each with respond.
type tokenServer struct {
	srv *httptest.Server
	URL string // the token endpoint

	mu      sync.Mutex
	reqs    []tokenRequest
	delay   time.Duration
	header  http.Header // of every answer; its Content-Type defaults to application/json
	respond func(tokenRequest) (status int, body string)
}

// newTokenServer starts a token endpoint that answers with answerGrants.
func newTokenServer(t testing.TB) *tokenServer {
	t.Helper()
	s := &tokenServer{respond: answerGrants, header: http.Header{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/token"
	return s
}

func (s *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req := tokenRequest{Path: r.URL.Path, Form: r.PostForm, Authorization: r.Header.Get("Authorization")}
	if u, p, ok := r.BasicAuth(); ok {
		req.Basic = true
		req.ClientID, _ = url.QueryUnescape(u)
		req.ClientSecret, _ = url.QueryUnescape(p)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	delay, respond, header := s.delay, s.respond, s.header.Clone()
	s.mu.Unlock()
	time.Sleep(delay)
	status, body := respond(req)
	for k, v := range header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *tokenServer) setRespond(respond func(tokenRequest) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = respond
}

// setHeader sets a header of every answer; "" removes it.
func (s *tokenServer) setHeader(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		s.header.Del(key)
		return
	}
	s.header.Set(key, value)
}

func (s *tokenServer) setDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

func (s *tokenServer) requests() []tokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// tokenJSON is a token response; an empty refresh token is left out.
func tokenJSON(access, refresh string, expiresIn int) string {
	m := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": expiresIn}
	if refresh != "" {
		m["refresh_token"] = refresh
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// answerGrants is a token endpoint's default: the code, client credentials and password
// grants get the sentinel tokens with scopes "read write"; the sentinel refresh token gets
// the second pair, any other refresh token invalid_grant, with a description that echoes it.
func answerGrants(r tokenRequest) (int, string) {
	switch r.Form.Get("grant_type") {
	case "authorization_code", "client_credentials", "password":
		b, _ := json.Marshal(map[string]any{"access_token": sentinelAccessToken, "refresh_token": sentinelRefreshToken,
			"token_type": "Bearer", "expires_in": 3600, "scope": "read write"})
		return http.StatusOK, string(b)
	case "refresh_token":
		if rt := r.Form.Get("refresh_token"); rt != sentinelRefreshToken {
			return http.StatusBadRequest, `{"error":"invalid_grant","error_description":"` + rt + ` is revoked"}`
		}
		return http.StatusOK, tokenJSON(sentinelAccessToken2, sentinelRefreshToken2, 3600)
	}
	return http.StatusBadRequest, `{"error":"unsupported_grant_type"}`
}

// answerToken answers every request with one token.
func answerToken(access, refresh string, expiresIn int) func(tokenRequest) (int, string) {
	return func(tokenRequest) (int, string) { return http.StatusOK, tokenJSON(access, refresh, expiresIn) }
}

// answerRefresh answers refresh_token grants of the "oauth" app: the refresh token
// oldRefresh gives newAccess (and newRefresh, when not empty); any other request is refused.
func answerRefresh(oldRefresh, newAccess, newRefresh string) func(tokenRequest) (int, string) {
	return func(r tokenRequest) (int, string) {
		switch {
		case r.Form.Get("grant_type") != "refresh_token" || r.ClientID != "oauth-client" || r.ClientSecret != sentinelAppSecret:
			return http.StatusBadRequest, `{"error":"invalid_request"}`
		case r.Form.Get("refresh_token") != oldRefresh:
			return http.StatusBadRequest, `{"error":"invalid_grant"}`
		}
		return http.StatusOK, tokenJSON(newAccess, newRefresh, 3600)
	}
}

// testRegistry holds the providers the tests exercise: the flow's rules (plain, sfdc, desk,
// suite, goog, nopkce, keyonly), one per credential kind (keyed, basic, custom, machine, pwd,
// oauth, wsp, acct), and acme, a plain OAuth provider. The OAuth providers on loopback
// (acme, oauth, machine, pwd) have their token endpoint at tokenURL.
func testRegistry(t testing.TB, tokenURL string) *providers.Registry {
	t.Helper()
	authURL := strings.TrimSuffix(tokenURL, "/token") + "/authorize"
	reg := providers.NewRegistry()
	for _, p := range []*providers.Provider{
		{Name: "plain", AuthURL: "https://auth.plain.example/authorize", TokenURL: "https://auth.plain.example/token"},
		{
			Name: "sfdc", AuthURL: "https://{{workspace}}.my.salesforce.com/services/oauth2/authorize",
			TokenURL:        "https://{{workspace}}.my.salesforce.com/services/oauth2/token",
			DefaultAuthURL:  "https://login.salesforce.com/services/oauth2/authorize",
			DefaultTokenURL: "https://login.salesforce.com/services/oauth2/token",
			Hosts:           metadata.Hosts{"login.salesforce.com", "*.my.salesforce.com", "*.sandbox.my.salesforce.com"},
			Inputs:          []metadata.Input{{Name: "workspace", Kind: metadata.Hostname, Optional: true}},
			Refresh:         providers.Refresh{By: providers.RefreshByScope, Scope: "refresh_token"},
		},
		{
			Name: "desk", AuthURL: "https://{{workspace}}.desk.example/oauth/authorizations/new",
			TokenURL: "https://{{workspace}}.desk.example/oauth/tokens",
			Hosts:    metadata.Hosts{"*.desk.example"}, Inputs: []metadata.Input{{Name: "workspace"}},
			Refresh: providers.Refresh{By: providers.RefreshByNone}, NoPrompt: true, ScopeSeparator: ",",
		},
		{
			Name: "suite", AuthURL: "https://{{accountId}}.app.suite.example/authorize.nl",
			TokenURL: "https://{{accountId}}.api.suite.example/token",
			Hosts:    metadata.Hosts{"*.app.suite.example", "*.api.suite.example"},
			Inputs: []metadata.Input{{Name: "accountId", Pattern: `[0-9A-Za-z]+(_[0-9A-Za-z]+)?|[0-9a-z]+(-[0-9a-z]+)?`,
				UnderscoreToHyphen: true}},
			DefaultScopes: []string{"rest"}, Prompt: "consent",
		},
		{
			Name: "goog", AuthURL: "https://accounts.goog.example/o/oauth2/v2/auth", TokenURL: "https://oauth2.goog.example/token",
			Refresh: providers.Refresh{By: providers.RefreshByParam, Param: "access_type", Value: "offline"},
			Prompt:  "consent", AuthParams: map[string]string{"include_granted_scopes": "true"},
		},
		{
			Name: "nopkce", AuthURL: "https://auth.nopkce.example/authorize", TokenURL: "https://auth.nopkce.example/token",
			PKCE: providers.PKCEUnsupported, Refresh: providers.Refresh{By: providers.RefreshByDefault},
		},
		{Name: "keyonly", AuthKinds: []providers.AuthKind{providers.APIKey}},
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
		{Name: "acme", AuthURL: authURL, TokenURL: tokenURL},
	} {
		if err := reg.Register(p); err != nil {
			t.Fatalf("Register(%s): %v", p.Name, err)
		}
	}
	return reg
}

// editProvider returns a Config edit that changes the provider name of Config.Providers.
func editProvider(t testing.TB, name string, edit func(*providers.Provider)) func(*connect.Config) {
	return func(c *connect.Config) {
		t.Helper()
		p, ok := c.Providers.Lookup(name)
		if !ok {
			t.Fatalf("no provider %s", name)
		}
		cp := *p
		edit(&cp)
		if err := c.Providers.Register(&cp); err != nil {
			t.Fatalf("Register(%s): %v", name, err)
		}
	}
}

// testApps holds an app of project "proj" for every OAuth provider of testRegistry, the
// "oauth" app of project "other", two apps of project "multi" (a2 the default) and two of
// project "ambiguous" (no default).
func testApps() *connect.MemoryAppStore {
	var apps []connect.ProviderApp
	for _, p := range []string{"plain", "sfdc", "desk", "suite", "goog", "nopkce", "acme", "oauth"} {
		apps = append(apps, connect.ProviderApp{ID: p + "-app", ProjectID: "proj", Provider: p, ClientID: p + "-client", ClientSecret: sentinelAppSecret})
	}
	return connect.NewMemoryAppStore(append(apps,
		connect.ProviderApp{ID: "oauth-app", ProjectID: "other", Provider: "oauth", ClientID: "oauth-client", ClientSecret: sentinelAppSecret},
		connect.ProviderApp{ID: "a1", ProjectID: "multi", Provider: "plain", ClientID: "c1", ClientSecret: sentinelAppSecret},
		connect.ProviderApp{ID: "a2", ProjectID: "multi", Provider: "plain", ClientID: "c2", ClientSecret: sentinelAppSecret, Default: true, Scopes: []string{sentinelAppScope}},
		connect.ProviderApp{ID: "b1", ProjectID: "ambiguous", Provider: "plain", ClientID: "c1"},
		connect.ProviderApp{ID: "b2", ProjectID: "ambiguous", Provider: "plain", ClientID: "c2"},
	)...)
}

// newKeyring returns a keyring sealing with primary and holding the keys ids (each key
// derived from its id).
func newKeyring(t testing.TB, primary string, ids ...string) *keyring.Keyring {
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

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventLog records the events of Config.OnEvent.
type eventLog struct {
	mu     sync.Mutex
	events []connect.Event
}

func (l *eventLog) record(_ context.Context, e connect.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []connect.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *eventLog) types() []connect.EventType {
	var out []connect.EventType
	for _, e := range l.all() {
		out = append(out, e.Type)
	}
	return out
}

func (l *eventLog) ofType(t connect.EventType) []connect.Event {
	var out []connect.Event
	for _, e := range l.all() {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// recordingStore is a state.Store that records what is saved, counts its calls, and fails
// every call once fail is set.
type recordingStore struct {
	state.Store
	mu    sync.Mutex
	saved map[string][]byte
	ttls  map[string]time.Duration
	err   error
	calls int
}

func newRecordingStore(inner state.Store) *recordingStore {
	return &recordingStore{Store: inner, saved: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *recordingStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return s.err
	}
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("store call without a deadline")
	}
	s.saved[key] = bytes.Clone(value)
	s.ttls[key] = ttl
	return s.Store.Save(ctx, key, value, ttl)
}

func (s *recordingStore) Take(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	s.calls++
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.Store.Take(ctx, key)
}

// fail makes every later call fail with err.
func (s *recordingStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *recordingStore) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *recordingStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.saved)
}

// connStore is a memory connection store that can be made to fail, to be slow, to pause, or
// to say that it persists.
type connStore struct {
	*connect.MemoryConnectionStore
	persistent bool

	mu        sync.Mutex
	limited   bool          // Put fails once puts is spent
	puts      int           // successful Puts left
	outage    int           // Puts that fail next, as while the store is down
	listDelay time.Duration // how late List answers, after reading
	paused    chan struct{} // when set, the next Get reads, closes paused and waits for resume
	resume    chan struct{}
}

func (s *connStore) Persistent() bool { return s.persistent }

func (s *connStore) Put(ctx context.Context, rec *connect.ConnectionRecord) error {
	s.mu.Lock()
	if s.limited && s.puts == 0 {
		s.mu.Unlock()
		return errors.New("disk full")
	}
	if s.outage > 0 {
		s.outage--
		s.mu.Unlock()
		return errors.New("connection refused")
	}
	s.puts--
	s.mu.Unlock()
	return s.MemoryConnectionStore.Put(ctx, rec)
}

func (s *connStore) List(ctx context.Context, projectID string, f connect.ConnectionFilter) ([]*connect.ConnectionRecord, error) {
	recs, err := s.MemoryConnectionStore.List(ctx, projectID, f)
	s.mu.Lock()
	delay := s.listDelay
	s.mu.Unlock()
	time.Sleep(delay) // the answer is read, then late
	return recs, err
}

func (s *connStore) Get(ctx context.Context, projectID, id string) (*connect.ConnectionRecord, error) {
	rec, err := s.MemoryConnectionStore.Get(ctx, projectID, id)
	s.mu.Lock()
	paused, resume := s.paused, s.resume
	s.paused = nil
	s.mu.Unlock()
	if paused != nil {
		close(paused)
		<-resume
	}
	return rec, err
}

// failPuts lets n more Puts succeed, then fails every one; n < 0 lifts the limit.
func (s *connStore) failPuts(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.puts = n >= 0, n
}

// failNextPuts makes the next n Puts fail, as while the store is down, and the ones after
// succeed.
func (s *connStore) failNextPuts(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = n
}

// setListDelay makes List answer d late, after reading.
func (s *connStore) setListDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listDelay = d
}

// pauseNextGet makes the next Get hold its record back: paused is closed once it has read,
// and it returns once resume is closed.
func (s *connStore) pauseNextGet() (paused, resume chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused, s.resume = make(chan struct{}), make(chan struct{})
	return s.paused, s.resume
}

// fixture is a Connector over the test registry and apps, a recording state store and a
// memory connection store, with a token endpoint for its OAuth providers, a settable clock, a
// debug JSON log and an event recorder.
type fixture struct {
	c      *connect.Connector
	cfg    connect.Config
	srv    *tokenServer
	states *recordingStore
	conns  *connStore
	clock  *clock
	logs   *syncBuffer
	events *eventLog
}

func newFixture(t testing.TB, edit ...func(*connect.Config)) *fixture {
	t.Helper()
	f := &fixture{
		srv: newTokenServer(t), states: newRecordingStore(state.NewMemoryStore()),
		conns: &connStore{MemoryConnectionStore: connect.NewMemoryConnectionStore()},
		clock: newClock(), logs: &syncBuffer{}, events: &eventLog{},
	}
	f.cfg = connect.Config{
		Providers:   testRegistry(t, f.srv.URL),
		Apps:        testApps(),
		States:      f.states,
		Connections: f.conns,
		RedirectURL: testRedirect,
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

// again returns another Connector over the same stores, keyring and clock, without the
// event recorder: a second process.
func (f *fixture) again(t testing.TB, edit ...func(*connect.Config)) *connect.Connector {
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

// oauthRequest is a request of project "proj" to connect provider.
func oauthRequest(provider string) connect.OAuthConnectRequest {
	return connect.OAuthConnectRequest{ProjectID: "proj", Provider: provider, GroupRef: "group-123", ConsumerRef: "user_123456"}
}

// start runs AuthorizeURL and parses the URL.
func (f *fixture) start(t testing.TB, req connect.OAuthConnectRequest) (*connect.Authorization, *url.URL, url.Values) {
	t.Helper()
	a, err := f.c.AuthorizeURL(context.Background(), req)
	if err != nil {
		t.Fatalf("AuthorizeURL: %v", err)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatalf("URL %q does not parse: %v", a.URL, err)
	}
	return a, u, u.Query()
}

// begin starts a flow of provider acme.
func (f *fixture) begin(t testing.TB, edit ...func(*connect.OAuthConnectRequest)) *connect.Authorization {
	t.Helper()
	req := oauthRequest("acme")
	for _, e := range edit {
		e(&req)
	}
	a, _, _ := f.start(t, req)
	return a
}

// callbackRequest builds the provider's redirect to the callback.
func callbackRequest(query string) *http.Request {
	return httptest.NewRequest(http.MethodGet, "https://api.example.com/callbacks/v1/oauth?"+query, nil)
}

// connectionRequest is a ConnectionRequest of project "proj" without credentials.
func connectionRequest(provider string) connect.ConnectionRequest {
	return connect.ConnectionRequest{ProjectID: "proj", Provider: provider, GroupRef: "group-1", ConsumerRef: "user-1"}
}

// importRequest is a request importing tokens for the "oauth" provider; an empty refresh
// token is left out, a zero expiry too.
func importRequest(access, refresh string, expiresAt time.Time) connect.ConnectionRequest {
	r := connectionRequest("oauth")
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

// machineRequest is a request connecting the client credentials provider "machine".
func machineRequest() connect.ConnectionRequest {
	r := connectionRequest("machine")
	r.OAuth2ClientCredentials = &connect.OAuth2ClientCredentials{ClientID: "machine-client", ClientSecret: sentinelClientSecret}
	return r
}

// connect runs Connect and fails the test on an error.
func (f *fixture) connect(t testing.TB, req connect.ConnectionRequest) *connect.Connection {
	t.Helper()
	conn, err := f.c.Connect(context.Background(), req)
	if err != nil {
		t.Fatalf("Connect(%s): %v", req.Provider, err)
	}
	return conn
}

// connectExpired imports an expired access token with the sentinel refresh token.
func (f *fixture) connectExpired(t testing.TB) *connect.Connection {
	t.Helper()
	return f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(-time.Minute)))
}

// connectAll makes one connection of each credential kind in the project and returns their ids.
func (f *fixture) connectAll(t testing.TB, projectID string) []string {
	t.Helper()
	keyed := connectionRequest("keyed")
	keyed.APIKey = sentinelAPIKey
	basic := connectionRequest("basic")
	basic.BasicAuth = &connect.BasicAuth{Username: "alice", Password: sentinelBasicPassword}
	custom := connectionRequest("custom")
	custom.CustomAuth = map[string]connect.Secret{"apiToken": sentinelCustomToken, "subdomain": "acme"}
	pwd := connectionRequest("pwd")
	pwd.OAuth2PasswordCredentials = &connect.OAuth2PasswordCredentials{
		Username: sentinelUsername, Password: sentinelUserPassword, ClientID: "pwd-client", ClientSecret: sentinelClientSecret,
	}
	var ids []string
	for _, r := range []connect.ConnectionRequest{
		keyed, basic, custom, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(time.Hour)), machineRequest(), pwd,
	} {
		r.ProjectID = projectID
		ids = append(ids, f.connect(t, r).ID)
	}
	return ids
}

// records returns the store's records of the project.
func (f *fixture) records(t testing.TB, projectID string) []*connect.ConnectionRecord {
	t.Helper()
	recs, err := f.conns.List(context.Background(), projectID, connect.ConnectionFilter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return recs
}

// count returns how many connections the project has.
func (f *fixture) count(t testing.TB, projectID string) int {
	t.Helper()
	conns, err := f.c.Connections(context.Background(), projectID, connect.ConnectionFilter{})
	if err != nil {
		t.Fatalf("Connections: %v", err)
	}
	return len(conns)
}

// getToken returns the token of c's token source for the connection.
func getToken(t testing.TB, c *connect.Connector, id string) (*oauth2.Token, error) {
	t.Helper()
	ts, err := c.TokenSource(context.Background(), id)
	if err != nil {
		t.Fatalf("TokenSource(%s): %v", id, err)
	}
	return ts.Token()
}

// canRead checks that c opens the credentials of the connection.
func canRead(ctx context.Context, c *connect.Connector, projectID, id string) error {
	conn, err := c.Connection(ctx, projectID, id)
	if err != nil {
		return err
	}
	switch conn.AuthScheme {
	case connect.AuthSchemeOAuth2AuthorizationCode, connect.AuthSchemeOAuth2ClientCredentials, connect.AuthSchemeOAuth2Password:
		ts, err := c.TokenSource(ctx, id)
		if err != nil {
			return err
		}
		_, err = ts.Token()
		return err
	}
	_, err = c.Credentials(ctx, projectID, id)
	return err
}

// errReader is a random source that fails.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// zeroReader is a random source of zeros.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// staleStateStore is a memory state store whose clock stands still: it keeps returning
// records past their TTL, as a lagging replica might.
func staleStateStore() *state.MemoryStore {
	return state.NewMemoryStore(state.WithClock(func() time.Time { return time.Unix(0, 0) }))
}

// assertRefused checks that a refused request shows no secret in its error and left nothing
// stored in project "proj".
func (f *fixture) assertRefused(t testing.TB, err error) {
	t.Helper()
	assertNoSecrets(t, "the error", err)
	if got := f.count(t, "proj"); got != 0 {
		t.Errorf("%d connections stored after a refused request, want 0", got)
	}
}

// apiRequest is a request a provider's API received.
type apiRequest struct {
	Method, Host, Path, Query string
	Header                    http.Header
	Body                      string
}

// apiServer is a provider's API on httptest: it records the requests it receives and answers
// each with respond (200 and a small JSON body by default).
type apiServer struct {
	srv *httptest.Server
	URL string // the API's base URL

	mu      sync.Mutex
	reqs    []apiRequest
	respond func(apiRequest) (status int, header http.Header)
	body    string // of every answer; {"ok":true} when empty
}

func newAPIServer(t testing.TB) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/api"
	return s
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := apiRequest{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	respond, answer := s.respond, cmp.Or(s.body, `{"ok":true}`)
	s.mu.Unlock()
	status, header := http.StatusOK, http.Header(nil)
	if respond != nil {
		status, header = respond(req)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (s *apiServer) setBody(body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

func (s *apiServer) setRespond(respond func(apiRequest) (int, http.Header)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = respond
}

func (s *apiServer) requests() []apiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// withAPI returns a Config edit that gives the test providers that connect with each
// credential kind an API at base: oauth and machine take the default bearer header, keyonly
// an X-Api-Key header, keyed a query parameter, basic HTTP Basic, custom two headers, and
// each has a fixed version header and a verification request, GET /me. The oauth and machine
// providers revoke at the token server's /revoke.
func withAPI(t testing.TB, base, tokenURL string) func(*connect.Config) {
	return func(c *connect.Config) {
		t.Helper()
		verify := &providers.Verify{Method: http.MethodGet, Path: "/me"}
		fixed := map[string]string{"Api-Version": "2024-01"}
		revoke := strings.TrimSuffix(tokenURL, "/token") + "/revoke"
		for name, api := range map[string]*providers.API{
			"oauth":   {},
			"machine": {},
			"keyonly": {APIKey: &providers.Send{Headers: map[string]string{"X-Api-Key": "{{apiKey}}"}}},
			"keyed":   {APIKey: &providers.Send{Query: map[string]string{"api_key": "{{apiKey}}"}}},
			"basic":   {},
			"custom": {CustomAuth: &providers.Send{Headers: map[string]string{
				"X-Token": "{{apiToken}}", "X-Where": "{{subdomain}}/{{region}}",
			}}},
		} {
			api.BaseURL, api.Verify, api.Headers = base, verify, fixed
			editProvider(t, name, func(p *providers.Provider) {
				p.API = api
				if p.TokenURL != "" {
					p.RevocationURL = revoke
				}
			})(c)
		}
	}
}
