package connect_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectkit/connect"
	"github.com/connectkit/connect/providers"
)

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
