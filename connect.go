// Package connect gives a Go backend what hosted connection platforms sell as a service:
// OAuth authorize URLs for many SaaS providers, the callback and code exchange, connections
// made from API keys and other credentials, and tokens that refresh and persist themselves,
// on stores the backend already runs.
//
// [AuthorizeURL] is the pure builder of authorize URLs. A [Connector], made by [New], runs the
// whole flow: [Connector.AuthorizeURL] checks a request against the provider's rules in a
// [providers.Registry], saves the pending authorization in a [state.Store] and returns the
// URL to send the user to.
package connect

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/connectkit/connect/keyring"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

// Defaults and bounds of the [Config] durations.
const (
	DefaultStateTTL     = 10 * time.Minute // RFC 6749 §4.1.2 recommends codes live at most 10 minutes
	MaxStateTTL         = 30 * time.Minute
	DefaultStoreTimeout = 2 * time.Second
	DefaultExpiryDelta  = 30 * time.Second
	// unknownExpiryAge is how long a token whose expiry the provider did not say is used
	// before it is refreshed, when it can be.
	unknownExpiryAge = time.Hour
)

// Config configures a [Connector]. Zero values mean the defaults documented on each field.
type Config struct {
	// Providers is the provider catalog; nil means providers.Default().
	Providers *providers.Registry
	// Apps holds the projects' provider apps (client ids and secrets); nil means an empty
	// [MemoryAppStore].
	Apps AppStore
	// States holds pending authorizations between the authorize URL and the callback; nil
	// means state.NewMemoryStore(). Use a shared store (Redis, PostgreSQL) when the callback
	// may reach another replica.
	States state.Store
	// Connections keeps connections; nil means NewMemoryConnectionStore().
	Connections ConnectionStore
	// Keyring encrypts credentials at rest (AES-256-GCM, bound to each connection). It may
	// be nil only with a store that does not persist (see [PersistentStore]): the memory
	// store then keeps credentials unencrypted in the process's memory.
	Keyring *keyring.Keyring
	// OnEvent, if set, is called after a connection is created, updated, refreshed or
	// deleted, and when an operation on a connection fails, e.g. to send webhooks. It runs
	// synchronously on the caller's goroutine: hand slow work to another goroutine.
	OnEvent func(context.Context, Event)
	// ExpiryDelta is how long before its expiry a token is refreshed; 0 means
	// DefaultExpiryDelta.
	ExpiryDelta time.Duration
	// RedirectURL is the callback URL registered with the providers: absolute https (plain
	// http only on a loopback address), no fragment. It is required for the OAuth flow.
	RedirectURL string
	// StateTTL is how long a pending authorization lives; 0 means DefaultStateTTL. It may
	// not exceed MaxStateTTL.
	StateTTL time.Duration
	// StoreTimeout bounds the store calls of one operation; 0 means DefaultStoreTimeout. The
	// in-process memory stores never block and are called without it.
	StoreTimeout time.Duration
	// HTTPClient makes the requests to providers; nil means a client that times out after 30
	// seconds. Redirects are never followed, whatever the client's own policy: a copy of it
	// with CheckRedirect set to refuse them is used.
	HTTPClient *http.Client
	// Logger receives debug and error records, never a secret; nil means no logging.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// VerifyOnConnect makes [Connector.Connect] make the provider's verification request
	// with every new credential before storing it, as ConnectionRequest.Verify does for one
	// request; providers without a verification request are not verified.
	VerifyOnConnect bool
	// MaxRetryWait is how long, in all, a request through [Connector.Client] waits out
	// Retry-After answers; 0 means DefaultMaxRetryWait, and a negative value never waits.
	MaxRetryWait time.Duration
	// Rand is the source of state tokens, PKCE verifiers and binding values; nil means
	// crypto/rand. It must be a cryptographically secure source outside tests.
	Rand io.Reader
}

// Connector runs the connection flows. Make one with [New]; it is safe for concurrent use.
type Connector struct {
	providers    *providers.Registry
	apps         AppStore
	states       state.Store
	connections  ConnectionStore
	keys         *keyring.Keyring
	onEvent      func(context.Context, Event)
	expiryDelta  time.Duration
	refreshes    singleflight.Group
	redirectURL  string
	stateTTL     time.Duration
	storeTimeout time.Duration
	httpClient   *http.Client
	log          *slog.Logger
	now          func() time.Time
	rand         io.Reader
	instance     string    // names this Connector in the refresh leases it takes
	deletions    deletions // tells token sources that a connection was deleted
	inMemory     bool      // apps and states are the memory stores, which never block
	verifyAll    bool
	maxRetryWait time.Duration
}

// New checks cfg and returns a Connector.
func New(cfg Config) (*Connector, error) {
	c := &Connector{
		providers:    cfg.Providers,
		apps:         cfg.Apps,
		states:       cfg.States,
		connections:  cfg.Connections,
		keys:         cfg.Keyring,
		onEvent:      cfg.OnEvent,
		expiryDelta:  cfg.ExpiryDelta,
		redirectURL:  cfg.RedirectURL,
		stateTTL:     cfg.StateTTL,
		storeTimeout: cfg.StoreTimeout,
		httpClient:   cfg.HTTPClient,
		log:          cfg.Logger,
		now:          cfg.Now,
		rand:         cfg.Rand,
		verifyAll:    cfg.VerifyOnConnect,
		maxRetryWait: cfg.MaxRetryWait,
	}
	if c.redirectURL != "" {
		if err := checkRedirectURI(c.redirectURL); err != nil {
			return nil, fmt.Errorf("connect: Config.RedirectURL: %w", err)
		}
	}
	switch {
	case c.stateTTL == 0:
		c.stateTTL = DefaultStateTTL
	case c.stateTTL < 0 || c.stateTTL > MaxStateTTL:
		return nil, fmt.Errorf("connect: Config.StateTTL must be between 0 and %s", MaxStateTTL)
	}
	switch {
	case c.storeTimeout == 0:
		c.storeTimeout = DefaultStoreTimeout
	case c.storeTimeout < 0:
		return nil, errors.New("connect: Config.StoreTimeout must not be negative")
	}
	switch {
	case c.maxRetryWait == 0:
		c.maxRetryWait = DefaultMaxRetryWait
	case c.maxRetryWait < 0:
		c.maxRetryWait = -1 // no Retry-After wait is ever short enough
	}
	switch {
	case c.expiryDelta == 0:
		c.expiryDelta = DefaultExpiryDelta
	case c.expiryDelta < 0:
		return nil, errors.New("connect: Config.ExpiryDelta must not be negative")
	}
	if c.connections == nil {
		c.connections = NewMemoryConnectionStore()
	}
	if p, ok := c.connections.(PersistentStore); ok && p.Persistent() && c.keys == nil {
		return nil, errors.New("connect: Config.Keyring is required with a persistent connection store: credentials are never stored unencrypted")
	}
	if c.providers == nil {
		c.providers = providers.Default()
	}
	if c.apps == nil {
		c.apps = NewMemoryAppStore()
	}
	if c.states == nil {
		c.states = state.NewMemoryStore(state.WithClock(c.clock()))
	}
	_, memApps := c.apps.(*MemoryAppStore)
	_, memStates := c.states.(*state.MemoryStore)
	c.inMemory = memApps && memStates
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: 30 * time.Second}
	} else {
		hc := *c.httpClient
		c.httpClient = &hc
	}
	c.httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	c.instance = rand.Text()
	return c, nil
}

func (c *Connector) clock() func() time.Time {
	if c.now != nil {
		return c.now
	}
	return time.Now
}

// storeContext bounds the store calls of one operation by the store timeout.
func (c *Connector) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.inMemory {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.storeTimeout)
}

// app looks the provider app up.
func (c *Connector) app(ctx context.Context, projectID, provider, appID string) (*ProviderApp, error) {
	app, err := c.apps.App(ctx, projectID, provider, appID)
	switch {
	case errors.Is(err, ErrAppNotFound):
		field := "provider"
		if appID != "" {
			field = "providerAppId"
		}
		return nil, &ValidationError{Fields: []FieldError{{Field: field, Message: strings.TrimPrefix(err.Error(), "connect: "), Err: ErrAppNotFound}}}
	case err != nil:
		return nil, fmt.Errorf("%w: looking up the provider app: %w", ErrStoreUnavailable, err)
	case app.Provider != provider || app.ProjectID != projectID:
		return nil, fmt.Errorf("%w: the app store returned an app of another project or provider", ErrStoreUnavailable)
	}
	return app, nil
}

// resolveProvider looks the named provider up, checks that it accepts the credential kind
// (else an error on field), checks the request's workspace and metadata against its inputs,
// and renders its endpoints.
func (c *Connector) resolveProvider(name string, kind providers.AuthKind, field, workspace string, md ProviderMetadata) (
	p *providers.Provider, values metadata.Values, authURL, tokenURL string, err error) {
	p, ok := c.providers.Lookup(name)
	if !ok {
		return nil, nil, "", "", invalid("provider", "is not a known provider", ErrUnknownProvider)
	}
	if !p.Accepts(kind) {
		return nil, nil, "", "", invalid(field, "provider "+p.Name+" does not accept "+string(kind), ErrGrantNotAllowed)
	}
	if values, err = resolveInputs(p, workspace, md); err != nil {
		return nil, nil, "", "", err
	}
	if authURL, tokenURL, err = p.Endpoints(values); err != nil {
		return nil, nil, "", "", inputError(err)
	}
	return p, values, authURL, tokenURL, nil
}

// resolveInputs gathers the workspace and metadata values of a request and checks them
// against the provider's inputs.
func resolveInputs(p *providers.Provider, workspace string, md ProviderMetadata) (metadata.Values, error) {
	values := make(metadata.Values, len(md)+1)
	for k, v := range md {
		if k == "workspace" {
			return nil, invalid("providerMetadata.workspace", "give the workspace as providerWorkspaceRef", nil)
		}
		values[k] = v.Value
	}
	if workspace != "" {
		values["workspace"] = workspace
	}
	resolved, err := p.Resolve(values)
	if err != nil {
		return nil, inputError(err)
	}
	return resolved, nil
}

// inputError turns a metadata.ValueError into a ValidationError naming the request field.
func inputError(err error) error {
	var ve *metadata.ValueError
	if !errors.As(err, &ve) {
		return invalid("providerWorkspaceRef", strings.TrimPrefix(err.Error(), "metadata: "), nil)
	}
	field := "providerMetadata." + ve.Input
	if ve.Input == "workspace" {
		field = "providerWorkspaceRef"
	}
	msg := strings.TrimPrefix(ve.Err.Error(), "metadata: ")
	switch {
	case errors.Is(ve.Err, providers.ErrUnknownInput) && ve.Input == "workspace":
		msg = "the provider takes no workspace"
	case errors.Is(ve.Err, providers.ErrUnknownInput):
		msg = "the provider takes no such metadata"
	case errors.Is(ve.Err, metadata.ErrMissing):
		msg = "required by the provider"
	}
	return invalid(field, msg, nil)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
