package connect_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/pkce"
	"github.com/connectkit/connect/providers"
)

// The builder and the whole flow, each beside bare x/oauth2 with the same parameters:
//
//	go test -run='^$' -bench=. -benchmem .

var (
	benchScopes   = []string{"openid", "email", "profile", "calendar.read", "contacts.read"}
	benchVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	benchSink     string
)

func BenchmarkAuthorizeURL(b *testing.B) {
	challenge := pkce.Challenge(benchVerifier)
	b.Run("connect", func(b *testing.B) {
		p := connect.AuthorizeParams{
			AuthorizeURL:  "https://accounts.example.com/o/oauth2/v2/auth",
			ClientID:      "1234567890-abcdefghijklmnop.apps.example.com",
			RedirectURI:   "https://api.example.com/callbacks/v1/oauth",
			State:         "yzmtafJ7VRA5aVbZ6VCygLdnFB9F_YqKqCuW13eU87Q",
			Scopes:        benchScopes,
			Prompt:        "consent",
			CodeChallenge: challenge,
		}
		b.ReportAllocs()
		for b.Loop() {
			u, err := connect.AuthorizeURL(p)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = u
		}
	})
	b.Run("x-oauth2", func(b *testing.B) {
		cfg := &oauth2.Config{
			ClientID:    "1234567890-abcdefghijklmnop.apps.example.com",
			Endpoint:    oauth2.Endpoint{AuthURL: "https://accounts.example.com/o/oauth2/v2/auth"},
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
			Scopes:      append(append([]string(nil), benchScopes...), "offline_access"),
		}
		opts := []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("prompt", "consent"),
			oauth2.SetAuthURLParam("code_challenge", challenge),
			oauth2.SetAuthURLParam("code_challenge_method", "S256"),
		}
		b.ReportAllocs()
		for b.Loop() {
			benchSink = cfg.AuthCodeURL("yzmtafJ7VRA5aVbZ6VCygLdnFB9F_YqKqCuW13eU87Q", opts...)
		}
	})
}

func BenchmarkFlow(b *testing.B) {
	b.Run("connect", func(b *testing.B) {
		reg := providers.NewRegistry()
		if err := reg.Register(&providers.Provider{
			Name: "example", AuthURL: "https://{{workspace}}.example.com/o/oauth2/v2/auth",
			TokenURL: "https://{{workspace}}.example.com/token", Hosts: []string{"*.example.com"},
			Inputs: []metadata.Input{{Name: "workspace"}},
		}); err != nil {
			b.Fatal(err)
		}
		// A clock that moves a second per flow, so that the memory store reaches its steady
		// state: sessions expire after ten minutes and are swept.
		var tick atomic.Int64
		start := time.Now()
		c, err := connect.New(connect.Config{
			Providers: reg,
			Apps: connect.NewMemoryAppStore(connect.ProviderApp{ID: "app", ProjectID: "proj", Provider: "example",
				ClientID: "1234567890-abcdefghijklmnop.apps.example.com", ClientSecret: "secret"}),
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
			Now:         func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) },
		})
		if err != nil {
			b.Fatal(err)
		}
		req := connect.OAuthConnectRequest{
			ProjectID: "proj", Provider: "example", GroupRef: "group-123", ConsumerRef: "user_123456",
			ProviderWorkspaceRef: "acme", Scopes: benchScopes, Prompt: "consent",
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			a, err := c.AuthorizeURL(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = a.URL
		}
	})
	// x/oauth2 with what a real flow also needs and connect does: a random state, and the
	// verifier saved under it until the callback (here a map under a mutex).
	b.Run("x-oauth2+state", func(b *testing.B) {
		cfg := &oauth2.Config{
			ClientID:    "1234567890-abcdefghijklmnop.apps.example.com",
			Endpoint:    oauth2.Endpoint{AuthURL: "https://acme.example.com/o/oauth2/v2/auth"},
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
			Scopes:      append(append([]string(nil), benchScopes...), "offline_access"),
		}
		prompt := oauth2.SetAuthURLParam("prompt", "consent")
		var mu sync.Mutex
		pending := map[string]string{}
		b.ReportAllocs()
		for b.Loop() {
			v := oauth2.GenerateVerifier()
			st := oauth2.GenerateVerifier() // 32 random bytes, base64url: a state as good as connect's
			mu.Lock()
			pending[st] = v
			if len(pending) > 600 {
				clear(pending)
			}
			mu.Unlock()
			benchSink = cfg.AuthCodeURL(st, oauth2.S256ChallengeOption(v), prompt)
		}
	})
	b.Run("x-oauth2", func(b *testing.B) {
		cfg := &oauth2.Config{
			ClientID:    "1234567890-abcdefghijklmnop.apps.example.com",
			Endpoint:    oauth2.Endpoint{AuthURL: "https://acme.example.com/o/oauth2/v2/auth"},
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
			Scopes:      append(append([]string(nil), benchScopes...), "offline_access"),
		}
		prompt := oauth2.SetAuthURLParam("prompt", "consent")
		b.ReportAllocs()
		for b.Loop() {
			v := oauth2.GenerateVerifier()
			benchSink = cfg.AuthCodeURL("yzmtafJ7VRA5aVbZ6VCygLdnFB9F_YqKqCuW13eU87Q", oauth2.S256ChallengeOption(v), prompt)
		}
	})
}

// BenchmarkValidate is the share of the flow spent in validator/v10.
func BenchmarkValidate(b *testing.B) {
	req := connect.OAuthConnectRequest{
		ProjectID: "proj", Provider: "example", GroupRef: "group-123", ConsumerRef: "user_123456",
		ProviderWorkspaceRef: "acme", Scopes: benchScopes, Prompt: "consent",
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := req.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallback is connect's whole callback (state take, session decode, app lookup,
// exchange through x/oauth2, connection lookup and save) beside x/oauth2's bare Exchange,
// both against the same httptest token endpoint.
func BenchmarkCallback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	b.Run("connect", func(b *testing.B) {
		reg := providers.NewRegistry()
		if err := reg.Register(&providers.Provider{Name: "local", AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token"}); err != nil {
			b.Fatal(err)
		}
		c, err := connect.New(connect.Config{
			Providers: reg,
			Apps: connect.NewMemoryAppStore(connect.ProviderApp{ID: "app", ProjectID: "proj", Provider: "local",
				ClientID: "client", ClientSecret: "secret"}),
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
			HTTPClient:  srv.Client(),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		// Flows are started in large batches while the clock is stopped (stopping it is not
		// free, so not often). A hundred consumers take turns, so callbacks create and update
		// connections in a store of steady size.
		const batch = 4096
		reqs := make([]*http.Request, batch)
		start := func(from int) {
			for i := range reqs {
				a, err := c.AuthorizeURL(ctx, connect.OAuthConnectRequest{ProjectID: "proj", Provider: "local",
					GroupRef: "g", ConsumerRef: fmt.Sprint("user-", (from+i)%100)})
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = httptest.NewRequest(http.MethodGet, "/callbacks/v1/oauth?code=abc&state="+a.State, nil)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%batch == 0 {
				b.StopTimer()
				start(i)
				b.StartTimer()
			}
			if _, err := c.Callback(ctx, reqs[i%batch]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("x-oauth2", func(b *testing.B) {
		cfg := &oauth2.Config{
			ClientID: "client", ClientSecret: "secret",
			Endpoint:    oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader},
			RedirectURL: "https://api.example.com/callbacks/v1/oauth",
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
		verifier := oauth2.GenerateVerifier()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cfg.Exchange(ctx, "abc", oauth2.VerifierOption(verifier)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTokenSource is a token source of a connection whose token is valid for hours, with the
// token already handed out once.
func benchTokenSource(b *testing.B) oauth2.TokenSource {
	c, err := connect.New(connect.Config{Providers: testRegistry(b, newTokenServer(b).URL), Apps: testApps()})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := c.Connect(context.Background(), importRequest(sentinelAccessToken, sentinelRefreshToken, time.Now().Add(3*time.Hour)))
	if err != nil {
		b.Fatal(err)
	}
	ts, err := c.TokenSource(context.Background(), conn.ID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ts.Token(); err != nil {
		b.Fatal(err)
	}
	return ts
}

func BenchmarkTokenSource(b *testing.B) {
	ts := benchTokenSource(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReuseTokenSource is the baseline of BenchmarkTokenSource: x/oauth2's cache of a
// valid token.
func BenchmarkReuseTokenSource(b *testing.B) {
	ts := oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(&oauth2.Token{
		AccessToken: sentinelAccessToken, RefreshToken: sentinelRefreshToken, Expiry: time.Now().Add(3 * time.Hour),
	}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientRequest is a GET through Connector.Client with a valid OAuth token, against
// an httptest server, beside a bare http.Client on the same transport that sets the same
// header itself:
//
//	go test -run='^$' -bench=ClientRequest -benchmem -count=10 . | benchstat -col /impl -
func BenchmarkClientRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	b.Cleanup(transport.CloseIdleConnections)
	reg := providers.NewRegistry()
	p := &providers.Provider{
		Name: "bench", AuthURL: srv.URL + "/authorize", TokenURL: srv.URL + "/token",
		API: &providers.API{BaseURL: srv.URL + "/api", Verify: &providers.Verify{Method: http.MethodGet, Path: "/me"}},
	}
	if err := reg.Register(p); err != nil {
		b.Fatal(err)
	}
	c, err := connect.New(connect.Config{Providers: reg, HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		b.Fatal(err)
	}
	req := connectionRequest("bench")
	req.OAuth2AuthorizationCode = &connect.OAuth2AuthorizationCode{AccessToken: &connect.TokenValue{Token: "bench-token"}}
	conn, err := c.Connect(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	hc, err := c.Client(context.Background(), "proj", conn.ID)
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Client{Transport: transport} // the Timeout of Config.HTTPClient, which Client keeps
	url := srv.URL + "/api/items"
	for _, bc := range []struct {
		name string
		do   func() (*http.Response, error)
	}{
		{"impl=connect", func() (*http.Response, error) { return hc.Get(url) }},
		{"impl=bare", func() (*http.Response, error) {
			r, _ := http.NewRequest(http.MethodGet, url, nil)
			r.Header.Set("Authorization", "Bearer bench-token")
			return bare.Do(r)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := bc.do()
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
