package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

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

// Caps on what a scratch keeps when it goes back: a rare huge flow's buffers are dropped.
const (
	maxPooledSession = 16 << 10
	maxPooledScopes  = 4 * maxScopes
)

// Cookie returns the cookie that keeps the Binding in the browser that starts the flow, for
// a backend to set on its response: named by [BindingCookieName], HttpOnly, Secure, SameSite=Lax
// (the provider's redirect back is a top-level GET), Path=/ (the __Host- prefix requires it)
// and living as long as the pending authorization. It returns nil when the flow has no
// binding.
func (a *Authorization) Cookie(now time.Time) *http.Cookie {
	if a.Binding == "" {
		return nil
	}
	maxAge := int(a.ExpiresAt.Sub(now).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	return &http.Cookie{
		Name: BindingCookieName(a.State), Value: a.Binding.Reveal(), Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}
}
