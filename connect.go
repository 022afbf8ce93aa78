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
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	checked      checkedParams // what the builder need not check again
	stateTTL     time.Duration
	storeTimeout time.Duration
	httpClient   *http.Client
	log          *slog.Logger
	now          func() time.Time
	rand         io.Reader
	instance     string    // names this Connector in the refresh leases it takes
	scratches    sync.Pool // *flowScratch, lent to one AuthorizeURL call at a time
	inMemory     bool      // apps and states are the memory stores, which never block
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
	}
	if c.redirectURL != "" {
		if err := checkRedirectURI(c.redirectURL); err != nil {
			return nil, fmt.Errorf("connect: Config.RedirectURL: %w", err)
		}
		c.checked.escapedRedirectURI = url.QueryEscape(c.redirectURL)
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

// Authorization is a started authorization: send the user to URL.
type Authorization struct {
	// URL is the provider's authorize URL.
	URL string `json:"url"`
	// State is the state token in URL; the callback brings it back.
	State string `json:"state"`
	// ExpiresAt is when the pending authorization lapses.
	ExpiresAt time.Time `json:"expiresAt"`
	// Binding is set when the request enabled CSRF protection: keep it in the browser that
	// starts the flow (an HttpOnly cookie) and hand it to the callback, which refuses the
	// flow without it. Only its SHA-256 is stored.
	Binding Secret `json:"-"`
}

// AuthorizeURL starts an authorization code flow: it checks req, looks the provider up,
// checks its workspace and metadata inputs, picks the provider app, mints a state token and
// a PKCE verifier, builds the authorize URL with the provider's rules, and saves the pending
// authorization under the SHA-256 of the state token. A store failure returns no URL.
//
// Input errors are a *[ValidationError] naming the fields by their JSON names and matching
// [ErrInvalidRequest].
func (c *Connector) AuthorizeURL(ctx context.Context, req OAuthConnectRequest) (*Authorization, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if c.redirectURL == "" {
		return nil, errors.New("connect: Config.RedirectURL is not set")
	}
	workspace, md := req.ProviderWorkspaceRef, req.ProviderMetadata
	if req.AuthorizeURL != "" {
		var err error
		if workspace, md, err = c.inputsFromAuthorizeURL(&req); err != nil {
			return nil, err
		}
	}
	// The inputs map, the scope list and the session buffer are the Connector's, lent to this
	// call and given back cleared: what the flow keeps of them it copies.
	sc := c.scratch()
	defer c.release(sc)
	p, values, authURL, tokenURL, err := c.resolveProvider(req.Provider, providers.OAuth2AuthorizationCode, "provider",
		workspace, md, sc.inputs)
	if err != nil {
		return nil, err
	}
	refreshURL, err := p.RefreshEndpoint(values)
	if err != nil {
		return nil, inputError(err)
	}
	sep := p.Separator()
	if _, err := checkScopes(req.Scopes, sep); err != nil {
		return nil, err
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	app, err := c.app(sctx, req.ProjectID, req.Provider, req.ProviderAppID)
	if err != nil {
		return nil, err
	}
	if req.ClientID != "" && req.ClientID != app.ClientID {
		return nil, invalid("clientId", "is not the client id of the provider app", nil)
	}

	// The app's scopes are scope tokens (ProviderApp.Validate), but only here is the
	// provider's separator known: one of them may not hold it.
	for i, sc := range app.Scopes {
		if strings.Contains(sc, sep) {
			return nil, invalid("providerAppId", "scope "+strconv.Itoa(i)+" of the provider app holds the provider's scope separator", nil)
		}
	}
	scopes := slices.Grow(sc.scopes[:0], len(p.DefaultScopes)+len(app.Scopes)+len(req.Scopes)+1)
	scopes = append(scopes, p.DefaultScopes...)
	scopes = append(scopes, app.Scopes...)
	scopes = append(scopes, req.Scopes...)
	fixed := p.EncodedAuthParams()
	disableOffline := true
	if !req.DisableOfflineAccess {
		switch p.Refresh.By {
		case "", providers.RefreshByOfflineAccess:
			disableOffline = false
		case providers.RefreshByScope:
			scopes = append(scopes, p.Refresh.Scope)
		case providers.RefreshByParam:
			fixed = joinQuery(fixed, url.QueryEscape(p.Refresh.Param)+"="+url.QueryEscape(p.Refresh.Value))
		}
	}
	if len(scopes) > maxScopes {
		return nil, invalid("scopes", "with the provider's and the app's scopes, at most 50 scopes", nil)
	}
	prompt, noPrompt := req.Prompt, false
	if prompt == "" {
		prompt, noPrompt = p.Prompt, p.NoPrompt
	}

	secrets, err := newFlowSecrets(c.rand, p.PKCE != providers.PKCEUnsupported, req.EnableCSRFProtection)
	if err != nil {
		return nil, err
	}
	tok := secrets.state
	scopes = dedupe(scopes, !disableOffline)
	sc.scopes = scopes
	s := session{
		ProjectID:    req.ProjectID,
		Provider:     p.Name,
		GroupRef:     req.GroupRef,
		GroupName:    orDefault(req.GroupName, req.GroupRef),
		ConsumerRef:  req.ConsumerRef,
		ConsumerName: orDefault(req.ConsumerName, req.ConsumerRef),
		Workspace:    values["workspace"],
		Metadata:     metadataOnly(values),
		AppID:        app.ID,
		RedirectURI:  c.redirectURL,
		TokenURL:     tokenURL,
		RefreshURL:   refreshURL,
		Scopes:       scopes,
		Verifier:     secrets.verifier,
	}
	if secrets.binding != "" {
		s.BindingHash = secrets.bindingHash[:]
	}

	if fixed != "" {
		if strings.IndexByte(authURL, '?') >= 0 {
			authURL += "&" + fixed
		} else {
			authURL += "?" + fixed
		}
	}
	checked := c.checked
	checked.scopes = true // the request's by checkScopes above; the provider's and the app's when loaded
	u, err := buildAuthorizeURL(&AuthorizeParams{
		AuthorizeURL:         authURL,
		ClientID:             app.ClientID,
		RedirectURI:          c.redirectURL,
		State:                tok,
		Scopes:               scopes,
		ScopeSeparator:       sep,
		Prompt:               prompt,
		NoPrompt:             noPrompt,
		AdditionalParams:     req.AdditionalParams,
		DisableOfflineAccess: disableOffline,
		CodeChallenge:        secrets.challenge,
	}, &checked)
	if err != nil {
		return nil, err
	}

	// expiresAt, not s.ExpiresAt, goes into the Authorization: escape analysis follows
	// structs whole, and s holding a pointer to the stack must not reach the heap.
	now := c.now()
	expiresAt := now.Add(c.stateTTL)
	s.CreatedAt, s.ExpiresAt = now, expiresAt
	// Save copies what it keeps (state.Store's contract), so the record's buffer goes back
	// to the scratch.
	sc.buf = s.appendTo(sc.buf[:0])
	if err := c.states.Save(sctx, state.Key(tok), sc.buf, c.stateTTL); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "connect: saving the pending authorization failed",
			slog.String("provider", p.Name), slog.String("projectId", req.ProjectID), slog.Any("error", err))
		return nil, fmt.Errorf("%w: saving the pending authorization: %w", ErrStoreUnavailable, err)
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "connect: authorization started",
			slog.String("provider", p.Name), slog.String("projectId", req.ProjectID), slog.String("appId", app.ID))
	}
	return &Authorization{URL: u, State: tok, ExpiresAt: expiresAt, Binding: Secret(secrets.binding)}, nil
}

// inputsFromAuthorizeURL reads the provider's inputs from the request's authorizeUrl and
// merges them with its providerWorkspaceRef and providerMetadata, which must agree.
func (c *Connector) inputsFromAuthorizeURL(req *OAuthConnectRequest) (string, ProviderMetadata, error) {
	p, ok := c.providers.Lookup(req.Provider)
	if !ok {
		return "", nil, invalid("provider", "is not a known provider", ErrUnknownProvider)
	}
	values, err := p.MatchAuthURL(req.AuthorizeURL)
	if err != nil {
		var ve *metadata.ValueError
		if errors.As(err, &ve) {
			return "", nil, invalid("authorizeUrl", "its "+ve.Input+" "+strings.TrimPrefix(ve.Err.Error(), "metadata: "), nil)
		}
		return "", nil, invalid("authorizeUrl", "is not the authorize URL of provider "+p.Name, nil)
	}
	workspace := req.ProviderWorkspaceRef
	md := make(ProviderMetadata, len(req.ProviderMetadata)+len(values))
	maps.Copy(md, req.ProviderMetadata)
	for name, v := range values {
		given := req.ProviderMetadata[name].Value
		field := "providerMetadata." + name
		if name == "workspace" {
			given, field = req.ProviderWorkspaceRef, "providerWorkspaceRef"
		}
		if given != "" {
			if canon, err := p.Input(name).Normalize(given); err != nil || canon != v {
				return "", nil, invalid(field, "differs from the one in authorizeUrl", nil)
			}
		}
		if name == "workspace" {
			workspace = v
		} else {
			md[name] = MetadataValue{Value: v}
		}
	}
	return workspace, md, nil
}

// flowScratch is what one AuthorizeURL call borrows from its Connector: the map its inputs
// resolve into, its scope list and the buffer its session is encoded into.
type flowScratch struct {
	inputs metadata.Values
	scopes []string
	buf    []byte
}

// Caps on what a scratch keeps when it goes back: a rare huge flow's buffers are dropped.
const (
	maxPooledSession = 16 << 10
	maxPooledScopes  = 4 * maxScopes
)

func (c *Connector) scratch() *flowScratch {
	if sc, ok := c.scratches.Get().(*flowScratch); ok {
		return sc
	}
	return &flowScratch{inputs: make(metadata.Values, 4)}
}

// release clears sc, so that it holds no input, scope or session of the flow it served,
// and gives it back. The scope list is cleared to its capacity, since deduplication leaves
// scopes past its end; the buffer only to its length, since past it every byte is zero: a
// new or grown buffer comes zeroed, and release leaves it so.
func (c *Connector) release(sc *flowScratch) {
	clear(sc.inputs)
	clear(sc.scopes[:cap(sc.scopes)])
	clear(sc.buf)
	sc.buf = sc.buf[:0]
	if cap(sc.scopes) > maxPooledScopes {
		sc.scopes = nil
	}
	if cap(sc.buf) > maxPooledSession {
		sc.buf = nil
	}
	c.scratches.Put(sc)
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
// and renders its endpoints. The inputs are put in into when it is not nil (an empty map).
func (c *Connector) resolveProvider(name string, kind providers.AuthKind, field, workspace string, md ProviderMetadata,
	into metadata.Values) (
	p *providers.Provider, values metadata.Values, authURL, tokenURL string, err error) {
	p, ok := c.providers.Lookup(name)
	if !ok {
		return nil, nil, "", "", invalid("provider", "is not a known provider", ErrUnknownProvider)
	}
	if !p.Accepts(kind) {
		return nil, nil, "", "", invalid(field, "provider "+p.Name+" does not accept "+string(kind), ErrGrantNotAllowed)
	}
	if values, err = resolveInputs(p, workspace, md, into); err != nil {
		return nil, nil, "", "", err
	}
	if authURL, tokenURL, err = p.Endpoints(values); err != nil {
		return nil, nil, "", "", inputError(err)
	}
	return p, values, authURL, tokenURL, nil
}

// resolveInputs gathers the workspace and metadata values of a request, in into when it is
// not nil (an empty map), and checks them against the provider's inputs.
func resolveInputs(p *providers.Provider, workspace string, md ProviderMetadata, into metadata.Values) (metadata.Values, error) {
	values := into
	if values == nil {
		values = make(metadata.Values, len(md)+1)
	}
	for k, v := range md {
		if k == "workspace" {
			return nil, invalid("providerMetadata.workspace", "give the workspace as providerWorkspaceRef", nil)
		}
		values[k] = v.Value
	}
	if workspace != "" {
		values["workspace"] = workspace
	}
	if err := p.ResolveInPlace(values); err != nil {
		return nil, inputError(err)
	}
	return values, nil
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

func metadataOnly(v metadata.Values) map[string]string {
	if _, ok := v["workspace"]; len(v) == 0 || len(v) == 1 && ok {
		return nil // the common case: no metadata but the workspace
	}
	var m map[string]string
	for k, val := range v {
		if k == "workspace" {
			continue
		}
		if m == nil {
			m = make(map[string]string, len(v))
		}
		m[k] = val
	}
	return m
}

// dedupe drops repeated scopes in place, keeping the order, and appends offline_access when
// asked and missing.
func dedupe(scopes []string, offline bool) []string {
	out := scopes[:0]
	for _, s := range scopes {
		if !seenBefore(out, len(out), s) {
			out = append(out, s)
		}
	}
	if offline && !seenBefore(out, len(out), offlineAccess) {
		out = append(out, offlineAccess)
	}
	return out
}

func joinQuery(a, b string) string {
	if a == "" {
		return b
	}
	return a + "&" + b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
