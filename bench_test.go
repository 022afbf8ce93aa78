package connect_test

import (
	"context"
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
