package connect

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/connectkit/connect/internal/syntax"
)

// ProviderApp is a project's OAuth client at a provider: the client id and secret that a
// provider issued when the app was registered with it.
//
// Printing a ProviderApp with fmt or log/slog, or marshalling it to JSON, never shows the
// client secret.
type ProviderApp struct {
	ID           string   `json:"id"`
	ProjectID    string   `json:"projectId"`
	Provider     string   `json:"provider"`
	ClientID     string   `json:"clientId"`
	ClientSecret Secret   `json:"clientSecret"`
	Scopes       []string `json:"scopes,omitempty"`
	// Default marks the app used when a request names no providerAppId and the project has
	// several apps for the provider.
	Default bool `json:"default,omitempty"`
}

// Validate checks the app's fields and returns a *[ValidationError] naming each bad one by its
// JSON name. Stores call it before they keep an app.
func (a *ProviderApp) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }
	for _, f := range []struct{ name, value string }{
		{"id", a.ID}, {"projectId", a.ProjectID}, {"provider", a.Provider},
	} {
		if f.value == "" {
			add(f.name, "required")
		} else if len(f.value) > 255 || !syntax.Ident(f.value) {
			add(f.name, "must be letters, digits and . _ : @ - (at most 255)")
		}
	}
	if a.ClientID == "" {
		add("clientId", "required")
	} else if len(a.ClientID) > maxClientIDLen || !syntax.Visible(a.ClientID, false) {
		add("clientId", "must be at most 1024 printable characters")
	}
	if len(a.ClientSecret) > 4096 || !syntax.Text(string(a.ClientSecret)) {
		add("clientSecret", "must be at most 4096 octets of text")
	}
	for i, s := range a.Scopes {
		if !syntax.ScopeToken(s) || len(s) > maxScopeLen {
			add(fmt.Sprintf("scopes[%d]", i), "must be one scope token (RFC 6749 §3.3)")
		}
	}
	if fields != nil {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// AppStore finds provider apps.
type AppStore interface {
	// App returns the app of the project for the provider. A non-empty appID picks that
	// app, which must belong to the project and the provider; an empty appID picks the
	// project's only app for the provider, or the one marked Default among several. When
	// none fits, the error matches [ErrAppNotFound]. Any other error means the store failed.
	// The caller may not change the returned app.
	App(ctx context.Context, projectID, provider, appID string) (*ProviderApp, error)
}

// MemoryAppStore is an [AppStore] held in memory, safe for concurrent use.
type MemoryAppStore struct {
	mu   sync.RWMutex
	apps []*storedApp
}

// storedApp is an app with the result of its check, done once when it is stored.
type storedApp struct {
	ProviderApp
	err error
}

func newStoredApp(a ProviderApp) *storedApp {
	a.Scopes = slices.Clone(a.Scopes)
	s := &storedApp{ProviderApp: a}
	if err := a.Validate(); err != nil {
		s.err = fmt.Errorf("connect: provider app %s: %w", a.ID, err)
	}
	return s
}

// NewMemoryAppStore returns a store holding copies of apps. Apps whose fields are invalid are
// refused when they are looked up, not silently dropped; use [MemoryAppStore.Put] to learn
// of a bad app at once.
func NewMemoryAppStore(apps ...ProviderApp) *MemoryAppStore {
	s := &MemoryAppStore{}
	for _, a := range apps {
		s.apps = append(s.apps, newStoredApp(a))
	}
	return s
}

// Put checks app and adds it, replacing an app with the same project and id.
func (s *MemoryAppStore) Put(_ context.Context, app ProviderApp) error {
	if err := app.Validate(); err != nil {
		return err
	}
	stored := newStoredApp(app)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.apps {
		if a.ProjectID == app.ProjectID && a.ID == app.ID {
			s.apps[i] = stored
			return nil
		}
	}
	s.apps = append(s.apps, stored)
	return nil
}

// App implements [AppStore].
func (s *MemoryAppStore) App(ctx context.Context, projectID, provider, appID string) (*ProviderApp, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found, def *storedApp
	n, defaults := 0, 0
	for _, a := range s.apps {
		if a.ProjectID != projectID || a.Provider != provider {
			continue
		}
		if appID != "" {
			if a.ID == appID {
				return checked(a)
			}
			continue
		}
		n++
		found = a
		if a.Default {
			defaults++
			def = a
		}
	}
	switch {
	case appID != "":
		return nil, fmt.Errorf("%w: no app %s for provider %s in project %s", ErrAppNotFound, appID, provider, projectID)
	case n == 1:
		return checked(found)
	case defaults == 1:
		return checked(def)
	case n == 0:
		return nil, fmt.Errorf("%w: project %s has no app for provider %s", ErrAppNotFound, projectID, provider)
	}
	return nil, fmt.Errorf("%w: project %s has %d apps for provider %s and %d marked default; name one with providerAppId",
		ErrAppNotFound, projectID, n, provider, defaults)
}

func checked(a *storedApp) (*ProviderApp, error) {
	if a.err != nil {
		return nil, a.err
	}
	return &a.ProviderApp, nil
}
