package connect_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

func TestConnectorFailsClosed(t *testing.T) {
	t.Run("store error", func(t *testing.T) {
		f := newFixture(t)
		f.states.fail(errors.New("connection refused"))
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrStoreUnavailable) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrStoreUnavailable", a, err)
		}
	})
	t.Run("random source error", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = errReader{} })
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
		if f.states.callCount() != 0 {
			t.Errorf("store called %d times", f.states.callCount())
		}
	})
	t.Run("short random source", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.Rand = io.LimitReader(zeroReader{}, 40) })
		a, err := f.c.AuthorizeURL(context.Background(), oauthRequest("plain"))
		if a != nil || !errors.Is(err, connect.ErrRandom) {
			t.Fatalf("AuthorizeURL = %v, %v; want no URL and ErrRandom", a, err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		f := newFixture(t, func(c *connect.Config) { c.States = state.NewMemoryStore() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a, err := f.c.AuthorizeURL(ctx, oauthRequest("plain"))
		if a != nil || err == nil {
			t.Fatalf("AuthorizeURL = %v, %v; want an error", a, err)
		}
	})
}

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
	c, err := connect.New(connect.Config{Providers: testRegistry(t, newTokenServer(t).URL)})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if _, err := c.AuthorizeURL(context.Background(), oauthRequest("plain")); err == nil {
		t.Errorf("AuthorizeURL without RedirectURL succeeded")
	}
}
