package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/connectkit/connect"
)

// AppStore describes a [connect.AppStore] implementation to [RunAppStore].
type AppStore struct {
	// New returns a store holding apps and nothing else, independent of the stores it
	// returned before. Each app is valid ([connect.ProviderApp.Validate]). Required.
	New func(t *testing.T, apps []connect.ProviderApp) connect.AppStore
	// Dump, if set, returns every byte the store keeps at rest for the store New returned.
	// The suite then checks that client secrets reach it only as ciphertext.
	Dump func(t *testing.T, store connect.AppStore) []byte
}

// RunAppStore runs the [connect.AppStore] conformance suite as subtests of t: the app picked
// by id, the project's only app or its default, ErrAppNotFound when none fits, isolation
// between projects and providers, round trips of every field, concurrent lookups, cancelled
// contexts and, with Dump, that client secrets are only ciphertext at rest.
func RunAppStore(t *testing.T, s AppStore) {
	t.Helper()
	if s.New == nil {
		t.Fatal("storetest: AppStore.New is nil")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s AppStore)
	}{
		{"Lookup", appLookup},
		{"RoundTrip", appRoundTrip},
		{"Isolation", appIsolation},
		{"Concurrent", appConcurrent},
		{"CancelledContext", appCancelled},
		{"CiphertextAtRest", appCiphertextAtRest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
	}
}

const sentinelClientSecret = "SENTINEL-CLIENT-SECRET-7b1f0a"

func app(project, provider, id string, def bool) connect.ProviderApp {
	return connect.ProviderApp{
		ID: id, ProjectID: project, Provider: provider, ClientID: "client-" + id,
		ClientSecret: connect.Secret("secret-of-" + id), Scopes: []string{"read", "write"}, Default: def,
	}
}

func appLookup(t *testing.T, s AppStore) {
	st := s.New(t, []connect.ProviderApp{
		app("proj", "github", "gh-only", false),
		app("proj", "slack", "slack-a", false),
		app("proj", "slack", "slack-b", true),
		app("proj", "slack", "slack-c", false),
		app("proj", "zoom", "zoom-a", false),
		app("proj", "zoom", "zoom-b", false),
		app("proj", "box", "box-a", true),
		app("proj", "box", "box-b", true),
	})
	tests := []struct {
		provider, appID string
		want            string // "" means ErrAppNotFound
	}{
		{"github", "", "gh-only"},
		{"github", "gh-only", "gh-only"},
		{"github", "slack-a", ""}, // another provider's app
		{"slack", "", "slack-b"},  // the default among several
		{"slack", "slack-c", "slack-c"},
		{"zoom", "", ""}, // several, none default
		{"zoom", "zoom-b", "zoom-b"},
		{"box", "", ""}, // several defaults
		{"box", "box-a", "box-a"},
		{"dropbox", "", ""},
		{"github", "missing", ""},
		{"github", "GH-ONLY", ""},
	}
	for _, tt := range tests {
		got, err := st.App(ctx(t), "proj", tt.provider, tt.appID)
		switch {
		case tt.want == "" && !errors.Is(err, connect.ErrAppNotFound):
			t.Errorf("App(proj, %s, %q) = %v, %v; want ErrAppNotFound", tt.provider, tt.appID, got, err)
		case tt.want != "" && (err != nil || got.ID != tt.want):
			t.Errorf("App(proj, %s, %q) = %v, %v; want %s", tt.provider, tt.appID, got, err, tt.want)
		}
	}
}

func appRoundTrip(t *testing.T, s AppStore) {
	full := app("proj", "salesforce", "sf", false)
	full.ClientID = "3MVG9.client-id_with:odd@chars"
	full.ClientSecret = "secret with spaces and ünïcode"
	full.Scopes = []string{"api", "refresh_token", "offline_access"}
	bare := connect.ProviderApp{ID: "bare", ProjectID: "proj", Provider: "stripe", ClientID: "c"}
	st := s.New(t, []connect.ProviderApp{full, bare})
	for _, want := range []connect.ProviderApp{full, bare} {
		got, err := st.App(ctx(t), "proj", want.Provider, want.ID)
		if err != nil {
			t.Fatalf("App(%s): %v", want.ID, err)
		}
		g := *got
		if len(g.Scopes) == 0 {
			g.Scopes = nil
		}
		if g.ID != want.ID || g.ProjectID != want.ProjectID || g.Provider != want.Provider || g.ClientID != want.ClientID ||
			g.ClientSecret != want.ClientSecret || !slices.Equal(g.Scopes, want.Scopes) || g.Default != want.Default {
			t.Errorf("App(%s) = %+v (secret equal: %t), want %+v", want.ID, g, g.ClientSecret == want.ClientSecret, want)
		}
	}
}

func appIsolation(t *testing.T, s AppStore) {
	st := s.New(t, []connect.ProviderApp{
		app("proj-a", "github", "app-a", false),
		app("proj-b", "github", "app-b", false),
		app("proj-b", "github", "same-id", false),
		app("proj-a", "github", "same-id", true),
	})
	if got, err := st.App(ctx(t), "proj-b", "github", "app-a"); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("project B asking for project A's app = %v, %v; want ErrAppNotFound", got, err)
	}
	got, err := st.App(ctx(t), "proj-a", "github", "same-id")
	if err != nil || got.ProjectID != "proj-a" || !got.Default {
		t.Errorf("App(proj-a, same-id) = %v, %v; want project A's", got, err)
	}
	got, err = st.App(ctx(t), "proj-b", "github", "same-id")
	if err != nil || got.ProjectID != "proj-b" || got.Default {
		t.Errorf("App(proj-b, same-id) = %v, %v; want project B's", got, err)
	}
	if got, err := st.App(ctx(t), "proj-c", "github", ""); !errors.Is(err, connect.ErrAppNotFound) {
		t.Errorf("App of a project without apps = %v, %v; want ErrAppNotFound", got, err)
	}
}

func appConcurrent(t *testing.T, s AppStore) {
	st := s.New(t, []connect.ProviderApp{app("proj", "github", "gh", false), app("proj", "slack", "sl", false)})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			provider, want := "github", "gh"
			if i%2 == 1 {
				provider, want = "slack", "sl"
			}
			got, err := st.App(context.Background(), "proj", provider, "")
			if err != nil || got.ID != want {
				errs <- fmt.Errorf("App(%s) = %v, %v; want %s", provider, got, err, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func appCancelled(t *testing.T, s AppStore) {
	st := s.New(t, []connect.ProviderApp{app("proj", "github", "gh", false)})
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := st.App(done, "proj", "github", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("App with a cancelled context = %v, %v; want context.Canceled", got, err)
	}
}

func appCiphertextAtRest(t *testing.T, s AppStore) {
	if s.Dump == nil {
		t.Skip("storetest: AppStore.Dump is nil; the at-rest check needs it")
	}
	a := app("proj", "github", "gh", false)
	a.ClientSecret = sentinelClientSecret
	st := s.New(t, []connect.ProviderApp{a})
	dump := s.Dump(t, st)
	if len(dump) == 0 {
		t.Fatal("Dump returned nothing for a store holding an app")
	}
	if bytes.Contains(dump, []byte(sentinelClientSecret)) {
		t.Error("the store's dump holds the client secret in plaintext")
	}
	got, err := st.App(ctx(t), "proj", "github", "gh")
	if err != nil || got.ClientSecret != sentinelClientSecret {
		t.Errorf("App read back = %v, %v; want the client secret intact", got, err)
	}
}
