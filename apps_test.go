package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/connectkit/connect"
)

func TestProviderAppNeverShowsItsSecret(t *testing.T) {
	app := connect.ProviderApp{ID: "a", ProjectID: "p", Provider: "plain", ClientID: "c", ClientSecret: sentinelAppSecret}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outs = append(outs, fmt.Sprintf(verb, app), fmt.Sprintf(verb, &app))
	}
	j, _ := json.Marshal(app)
	outs = append(outs, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("app", "app", app, "secret", app.ClientSecret)
	outs = append(outs, buf.String())
	for _, out := range outs {
		if strings.Contains(out, sentinelAppSecret) {
			t.Errorf("output shows the secret: %s", out)
		}
	}
	if app.ClientSecret.Reveal() != sentinelAppSecret {
		t.Errorf("Reveal = %q", app.ClientSecret.Reveal())
	}
}

func TestMemoryAppStorePut(t *testing.T) {
	s := connect.NewMemoryAppStore()
	err := s.Put(context.Background(), connect.ProviderApp{ID: "a b", Provider: "plain", ClientID: "c\n", Scopes: []string{"a b"}})
	for _, field := range []string{"id", "projectId", "clientId", "scopes[0]"} {
		assertField(t, err, field)
	}
	if _, err := s.App(context.Background(), "", "plain", ""); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("a refused app was stored: %v", err)
	}
	good := connect.ProviderApp{ID: "a", ProjectID: "p", Provider: "plain", ClientID: "c"}
	if err := s.Put(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	good.ClientID = "c2"
	if err := s.Put(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	app, err := s.App(context.Background(), "p", "plain", "")
	if err != nil || app.ClientID != "c2" {
		t.Errorf("App = %v, %v; want the replaced app", app, err)
	}
}
