package connecthttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/connecthttp"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

const (
	testRedirect = "https://api.example.com/callbacks/v1/oauth"
	// myKey and otherKey are the API keys of projects my-project and other-project.
	myKey    = "SENTINEL_APIKEY_my_7c1d2e3f"
	otherKey = "SENTINEL_APIKEY_other_4a5b6c"

	sentinelSecret = "SENTINEL_CS_9f8e7d6c5b4a"
	sentinelAT     = "SENTINEL_AT_1b2c3d4e5f"
	sentinelRT     = "SENTINEL_RT_6a7b8c9d0e"
	sentinelCode   = "SENTINEL_CODE_f00dfeed"

	successURL = "https://app.example.com/connected"
	failureURL = "https://app.example.com/failed?from=connect"
	openerURL  = "https://app.example.com"
)

// ampersandConnectBody is the --data of Ampersand's oauth-connect curl example, byte for byte.
const ampersandConnectBody = `
{
  "projectId": "my-project",
  "provider": "salesforce",
  "groupRef": "group-123",
  "consumerRef": "user_123456"
}
`

// versoriInitialiseBody is a body in the shape of Versori's oauth2/initialise for Salesforce.
const versoriInitialiseBody = `{
  "authorizeUrl": "https://login.salesforce.com/services/oauth2/authorize",
  "clientId": "sf-client-id",
  "credential": {"id": "sf-app", "organisationId": "my-project"},
  "scopes": ["api"],
  "additionalParams": "display=popup",
  "disableOfflineAccess": false
}`

// apiKeyConnectionBody is an Ampersand ConnectionRequest for an API key connection.
const apiKeyConnectionBody = `{
  "provider": "keyprov",
  "groupRef": "group-123",
  "groupName": "Organization Name",
  "consumerRef": "user_123456",
  "consumerName": "John Doe",
  "apiKey": "SENTINEL_PROVIDER_KEY_0a1b2c3d"
}`

// fixture is a handler over a Connector with memory stores, the catalog's salesforce, and a
// test provider whose endpoints are an httptest server acting as the provider.
type fixture struct {
	h        http.Handler
	c        *connect.Connector
	keys     connecthttp.KeyFunc // myKey for my-project, otherKey for other-project
	provider *httptest.Server
	tokens   atomic.Int64 // requests to the token endpoint
	respond  atomic.Pointer[http.HandlerFunc]
	clock    atomic.Pointer[time.Time]
	logs     *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixtureConfig changes the fixture before it is built.
type fixtureConfig struct {
	opts   []connecthttp.Option
	states state.Store
	edit   func(*connect.Config)
}

func newFixture(t testing.TB, opts ...connecthttp.Option) *fixture {
	return newFixtureWith(t, fixtureConfig{opts: opts})
}

func newFixtureWith(t testing.TB, fc fixtureConfig) *fixture {
	t.Helper()
	f := &fixture{logs: &syncBuffer{}}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.clock.Store(&start)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"token_type":"Bearer","expires_in":3600}`, sentinelAT, sentinelRT)
	})
	f.respond.Store(&ok)
	f.provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			f.tokens.Add(1)
		}
		(*f.respond.Load())(w, r)
	}))
	t.Cleanup(f.provider.Close)

	reg := providers.Default()
	for _, p := range []*providers.Provider{
		{Name: "testprov", AuthURL: f.provider.URL + "/authorize", TokenURL: f.provider.URL + "/token"},
		{Name: "keyprov", AuthKinds: []providers.AuthKind{providers.APIKey}},
		{Name: "ccprov", TokenURL: f.provider.URL + "/token", AuthKinds: []providers.AuthKind{providers.OAuth2ClientCredentials}},
		{Name: "apiprov", AuthKinds: []providers.AuthKind{providers.APIKey}, API: &providers.API{
			BaseURL: f.provider.URL + "/api",
			APIKey:  &providers.Send{Headers: map[string]string{"X-Provider-Key": "{{apiKey}}"}},
			Verify:  &providers.Verify{Method: http.MethodGet, Path: "/me"},
		}},
	} {
		if err := reg.Register(p); err != nil {
			t.Fatalf("Register(%s): %v", p.Name, err)
		}
	}
	apps := connect.NewMemoryAppStore(
		connect.ProviderApp{ID: "sf-app", ProjectID: "my-project", Provider: "salesforce", ClientID: "sf-client-id", ClientSecret: sentinelSecret},
		connect.ProviderApp{ID: "test-app", ProjectID: "my-project", Provider: "testprov", ClientID: "test-client", ClientSecret: sentinelSecret},
		connect.ProviderApp{ID: "other-app", ProjectID: "other-project", Provider: "testprov", ClientID: "other-client", ClientSecret: sentinelSecret},
	)
	now := func() time.Time { return *f.clock.Load() }
	cfg := connect.Config{
		Providers: reg, Apps: apps, States: fc.states, RedirectURL: testRedirect, Now: now,
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if fc.edit != nil {
		fc.edit(&cfg)
	}
	c, err := connect.New(cfg)
	if err != nil {
		t.Fatalf("connect.New: %v", err)
	}
	f.c = c
	if f.keys, err = connecthttp.StaticKeys(map[string]string{myKey: "my-project", otherKey: "other-project"}); err != nil {
		t.Fatalf("StaticKeys: %v", err)
	}
	opts := append([]connecthttp.Option{
		connecthttp.WithClock(now),
		connecthttp.WithLogger(slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}, fc.opts...)
	if f.h, err = connecthttp.New(c, f.keys, opts...); err != nil {
		t.Fatalf("connecthttp.New: %v", err)
	}
	return f
}

// advance moves the fixture's clock.
func (f *fixture) advance(d time.Duration) {
	t := f.clock.Load().Add(d)
	f.clock.Store(&t)
}

// setTokenResponse changes what the provider's endpoints answer.
func (f *fixture) setTokenResponse(h http.HandlerFunc) { f.respond.Store(&h) }

// newRequest returns an API request with the key of my-project and a JSON content type.
func newRequest(method, path, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "https://api.example.com"+path, rd)
	r.Header.Set("X-Api-Key", myKey)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// serve runs r through the handler.
func (f *fixture) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

// do serves an API request with the key of my-project.
func (f *fixture) do(method, path, body string) *httptest.ResponseRecorder {
	return f.serve(newRequest(method, path, body))
}

// problemBody is a decoded problem.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// checkProblem checks that rec is a problem with the status and type slug, listing at least
// the fields given, and returns it.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, slug string, fields ...string) problemBody {
	t.Helper()
	var p problemBody
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %q does not decode: %v", rec.Body, err)
	}
	if want := "https://connectkit.dev/problems/" + slug; p.Type != want {
		t.Errorf("type = %q, want %q", p.Type, want)
	}
	if p.Status != status || p.Title != http.StatusText(status) {
		t.Errorf("status, title = %d, %q; want %d, %q", p.Status, p.Title, status, http.StatusText(status))
	}
	for _, want := range fields {
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == want
		}
		if !found {
			t.Errorf("errors %+v do not name field %q", p.Errors, want)
		}
	}
	return p
}

// dump is everything of a response: status, headers and body.
func dump(rec *httptest.ResponseRecorder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", rec.Code)
	_ = rec.Header().Write(&b)
	b.WriteString(rec.Body.String())
	return b.String()
}

// noSentinel fails if s contains any of the values.
func noSentinel(t *testing.T, where, s string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("%s contains %q", where, v)
		}
		if e := url.QueryEscape(v); v != "" && e != v && strings.Contains(s, e) {
			t.Errorf("%s contains %q escaped", where, v)
		}
	}
}

// failingStates is a state.Store that fails.
type failingStates struct {
	save, take error
	inner      *state.MemoryStore
}

func (s *failingStates) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if s.save != nil {
		return s.save
	}
	return s.inner.Save(ctx, key, value, ttl)
}

func (s *failingStates) Take(ctx context.Context, key string) ([]byte, error) {
	if s.take != nil {
		return nil, s.take
	}
	return s.inner.Take(ctx, key)
}

// sentinelState is a well-formed state token that no flow has.
var sentinelState = "SENTINEL_STATE_" + strings.Repeat("A", 28)

// start begins a flow of testprov through the handler and returns its state and, with CSRF
// protection, its binding cookie.
func (f *fixture) start(t *testing.T, csrf bool) (string, *http.Cookie) {
	t.Helper()
	body := `{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c"}`
	if csrf {
		body = `{"projectId":"my-project","provider":"testprov","groupRef":"g","consumerRef":"c","enableCSRFProtection":true}`
	}
	rec := f.do(http.MethodPost, "/v1/oauth-connect", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("start: status = %d; body %s", rec.Code, rec.Body)
	}
	_, u := decodeURL(t, rec)
	var ck *http.Cookie
	if cs := rec.Result().Cookies(); len(cs) == 1 {
		ck = cs[0]
	}
	return u.Query().Get("state"), ck
}

// callback serves the provider's redirect with the query and, if given, cookies.
func (f *fixture) callback(query string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/callbacks/v1/oauth?"+query, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return f.serve(r)
}

// checkCallbackHeaders checks what every callback response carries: the headers, and the
// flow's binding cookie cleared (the flow of the query's state; no cookie without one).
func checkCallbackHeaders(t *testing.T, rec *httptest.ResponseRecorder, query string) {
	t.Helper()
	for k, want := range map[string]string{
		"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	cookies := rec.Result().Cookies()
	q, _ := url.ParseQuery(query)
	if len(q["state"]) != 1 {
		if len(cookies) != 0 {
			t.Errorf("cookies = %v for a callback without one state, want none", cookies)
		}
		return
	}
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v, want the flow's binding cookie cleared", cookies)
	}
	ck, name := cookies[0], connect.BindingCookieName(q.Get("state"))
	if ck.Name != name || ck.Value != "" || ck.MaxAge >= 0 || !ck.HttpOnly || !ck.Secure ||
		ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie = %+v, want %s cleared with HttpOnly, Secure, SameSite=Lax, Path=/", ck, name)
	}
	if raw := rec.Header().Get("Set-Cookie"); !strings.Contains(raw, "Max-Age=0") {
		t.Errorf("Set-Cookie %q lacks Max-Age=0", raw)
	}
}

// decodeURL reads a JSON string answer and parses the URL in it.
func decodeURL(t *testing.T, rec *httptest.ResponseRecorder) (string, *url.URL) {
	t.Helper()
	var s string
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("body %q is not a JSON string: %v", rec.Body, err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("URL %q does not parse: %v", s, err)
	}
	return s, u
}

// startRoutes are the routes that take a JSON body, with a valid body each.
var startRoutes = []struct{ name, path, body string }{
	{"oauth-connect", "/v1/oauth-connect", ampersandConnectBody},
	{"initialise", "/embed/hub-1/connector/salesforce/oauth2/initialise", versoriInitialiseBody},
	{"connections", "/v1/projects/my-project/connections", apiKeyConnectionBody},
}
