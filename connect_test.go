package connect_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

const (
	testRedirect     = "https://api.example.com/callbacks/v1/oauth"
	sentinelSecret   = "SENTINEL_CS_9f8e7d6c5b4a"
	sentinelAppScope = "app.scope"
)

// recordingStore is a state.Store that records what is saved and can be made to fail.
type recordingStore struct {
	mu    sync.Mutex
	inner *state.MemoryStore
	saved map[string][]byte
	ttls  map[string]time.Duration
	fail  error
	calls int
}

func newRecordingStore() *recordingStore {
	return &recordingStore{inner: state.NewMemoryStore(), saved: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *recordingStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return s.fail
	}
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("store call without a deadline")
	}
	s.saved[key] = bytes.Clone(value)
	s.ttls[key] = ttl
	return s.inner.Save(ctx, key, value, ttl)
}

func (s *recordingStore) Take(ctx context.Context, key string) ([]byte, error) {
	return s.inner.Take(ctx, key)
}

func (s *recordingStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.saved)
}

// testRegistry holds providers whose rules the flow tests exercise.
func testRegistry(t testing.TB) *providers.Registry {
	t.Helper()
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
		{
			Name: "keyonly", AuthKinds: []providers.AuthKind{providers.APIKey},
		},
	} {
		if err := reg.Register(p); err != nil {
			t.Fatalf("Register(%s): %v", p.Name, err)
		}
	}
	return reg
}

func testApps() *connect.MemoryAppStore {
	var apps []connect.ProviderApp
	for _, p := range []string{"plain", "sfdc", "desk", "suite", "goog", "nopkce"} {
		apps = append(apps, connect.ProviderApp{ID: p + "-app", ProjectID: "proj", Provider: p, ClientID: p + "-client", ClientSecret: sentinelSecret})
	}
	apps = append(apps,
		connect.ProviderApp{ID: "a1", ProjectID: "multi", Provider: "plain", ClientID: "c1", ClientSecret: sentinelSecret},
		connect.ProviderApp{ID: "a2", ProjectID: "multi", Provider: "plain", ClientID: "c2", ClientSecret: sentinelSecret, Default: true, Scopes: []string{sentinelAppScope}},
		connect.ProviderApp{ID: "b1", ProjectID: "ambiguous", Provider: "plain", ClientID: "c1"},
		connect.ProviderApp{ID: "b2", ProjectID: "ambiguous", Provider: "plain", ClientID: "c2"},
	)
	return connect.NewMemoryAppStore(apps...)
}

type fixture struct {
	c      *connect.Connector
	states *recordingStore
	logs   *bytes.Buffer
	now    time.Time
}

func newFixture(t testing.TB, edit ...func(*connect.Config)) *fixture {
	t.Helper()
	f := &fixture{states: newRecordingStore(), logs: &bytes.Buffer{}, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	cfg := connect.Config{
		Providers:   testRegistry(t),
		Apps:        testApps(),
		States:      f.states,
		RedirectURL: testRedirect,
		Logger:      slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         func() time.Time { return f.now },
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := connect.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.c = c
	return f
}

func request(provider string) connect.OAuthConnectRequest {
	return connect.OAuthConnectRequest{ProjectID: "proj", Provider: provider, GroupRef: "group-123", ConsumerRef: "user_123456"}
}

// start runs AuthorizeURL and parses the URL.
func (f *fixture) start(t *testing.T, req connect.OAuthConnectRequest) (*connect.Authorization, *url.URL, url.Values) {
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

func TestConnectorFailsClosed(t *testing.T) {
	t.Run("store error", func(t *testing.T) {
		f := newFixture(t)
		f.states.fail = errors.New("connection refused")
		a, err := f.c.AuthorizeURL(context.Background(), request("plain"))
		if a != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrStoreUnavailable", a, err)
		}
	})
	t.Run("random source error", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = errReader{} })
		a, err := f.c.AuthorizeURL(context.Background(), request("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
		if f.states.calls != 0 {
			t.Errorf("store called %d times", f.states.calls)
		}
	})
	t.Run("short random source", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = io.LimitReader(zeroReader{}, 40) })
		a, err := f.c.AuthorizeURL(context.Background(), request("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.States = state.NewMemoryStore() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a, err := f.c.AuthorizeURL(ctx, request("plain"))
		if a != nil || err == nil {
			t.Fatalf("AuthorizeURL = %v, %v; want an error", a, err)
		}
	})
}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  connect.Config
	}{
		{"redirect plain http", connect.Config{RedirectURL: "http://app.example.com/cb"}},
		{"redirect with fragment", connect.Config{RedirectURL: "https://app.example.com/cb#x"}},
		{"redirect relative", connect.Config{RedirectURL: "/cb"}},
		{"state TTL too long", connect.Config{StateTTL: time.Hour}},
		{"negative state TTL", connect.Config{StateTTL: -time.Second}},
		{"negative store timeout", connect.Config{StoreTimeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Providers = providers.NewRegistry()
			if c, err := connect.New(tt.cfg); err == nil {
				t.Errorf("New = %v, want an error", c)
			}
		})
	}
	c, err := connect.New(connect.Config{Providers: testRegistry(t)})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if _, err := c.AuthorizeURL(context.Background(), request("plain")); err == nil {
		t.Errorf("AuthorizeURL without RedirectURL succeeded")
	}
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }
