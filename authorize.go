package connect

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/pkce"
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
	rp, err := c.resolveAuthorize(&req)
	if err != nil {
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
	params, scopes, err := authorizeParams(&req, rp, app)
	if err != nil {
		return nil, err
	}
	params.RedirectURI = c.redirectURL
	secrets, err := newFlowSecrets(c.rand, rp.p.PKCE != providers.PKCEUnsupported, req.EnableCSRFProtection)
	if err != nil {
		return nil, err
	}
	params.State, params.CodeChallenge = secrets.state, secrets.challenge
	u, err := AuthorizeURL(params)
	if err != nil {
		return nil, err
	}

	now := c.now()
	s := session{
		ProjectID:    req.ProjectID,
		Provider:     rp.p.Name,
		GroupRef:     req.GroupRef,
		GroupName:    orDefault(req.GroupName, req.GroupRef),
		ConsumerRef:  req.ConsumerRef,
		ConsumerName: orDefault(req.ConsumerName, req.ConsumerRef),
		Workspace:    rp.values["workspace"],
		Metadata:     metadataOnly(rp.values),
		AppID:        app.ID,
		RedirectURI:  c.redirectURL,
		TokenURL:     rp.tokenURL,
		RefreshURL:   rp.refreshURL,
		Scopes:       scopes,
		Verifier:     secrets.verifier,
		CreatedAt:    now,
		ExpiresAt:    now.Add(c.stateTTL),
	}
	if secrets.binding != "" {
		h := sha256.Sum256([]byte(secrets.binding))
		s.BindingHash = h[:]
	}
	if err := c.saveSession(ctx, sctx, &s, secrets.state); err != nil {
		return nil, err
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "connect: authorization started",
		slog.String("provider", s.Provider), slog.String("projectId", s.ProjectID), slog.String("appId", s.AppID))
	return &Authorization{URL: u, State: secrets.state, ExpiresAt: s.ExpiresAt, Binding: Secret(secrets.binding)}, nil
}

// resolvedProvider is a flow's provider with its endpoints rendered from the request's inputs.
type resolvedProvider struct {
	p                             *providers.Provider
	values                        metadata.Values
	authURL, tokenURL, refreshURL string
}

// resolveAuthorize looks the request's provider up, checks the request's inputs (from
// authorizeUrl too, when given) and scopes against it, and renders its endpoints.
func (c *Connector) resolveAuthorize(req *OAuthConnectRequest) (*resolvedProvider, error) {
	workspace, md := req.ProviderWorkspaceRef, req.ProviderMetadata
	if req.AuthorizeURL != "" {
		var err error
		if workspace, md, err = c.inputsFromAuthorizeURL(req); err != nil {
			return nil, err
		}
	}
	var rp resolvedProvider
	var err error
	rp.p, rp.values, rp.authURL, rp.tokenURL, err = c.resolveProvider(req.Provider, providers.OAuth2AuthorizationCode,
		"provider", workspace, md)
	if err != nil {
		return nil, err
	}
	if rp.refreshURL, err = rp.p.RefreshEndpoint(rp.values); err != nil {
		return nil, inputError(err)
	}
	if _, err := checkScopes(req.Scopes, rp.p.Separator()); err != nil {
		return nil, err
	}
	return &rp, nil
}

// authorizeParams applies the provider's rules to the request: the provider's and the app's
// scopes before the request's, how the provider grants refresh tokens, its fixed parameters
// and its default prompt. It returns the builder's inputs but for the redirect URI, the state
// and the challenge, and the scopes asked for as the session keeps them.
func authorizeParams(req *OAuthConnectRequest, rp *resolvedProvider, app *ProviderApp) (
	AuthorizeParams, []string, error) {
	p, authURL := rp.p, rp.authURL
	sep := p.Separator()
	// The app's scopes are scope tokens (ProviderApp.Validate), but only here is the
	// provider's separator known: one of them may not hold it.
	for i, sc := range app.Scopes {
		if strings.Contains(sc, sep) {
			return AuthorizeParams{}, nil, invalid("providerAppId",
				"scope "+strconv.Itoa(i)+" of the provider app holds the provider's scope separator", nil)
		}
	}
	scopes := slices.Concat(p.DefaultScopes, app.Scopes, req.Scopes)
	fixed := p.AuthorizeParams(rp.values)
	offline := false
	if !req.DisableOfflineAccess {
		switch p.Refresh.By {
		case "", providers.RefreshByOfflineAccess:
			offline = true
		case providers.RefreshByScope:
			scopes = append(scopes, p.Refresh.Scope)
		case providers.RefreshByParam:
			fixed.Set(p.Refresh.Param, p.Refresh.Value)
		}
	}
	if len(scopes) > maxScopes {
		return AuthorizeParams{}, nil, invalid("scopes", "with the provider's and the app's scopes, at most 50 scopes", nil)
	}
	if len(fixed) > 0 {
		if strings.Contains(authURL, "?") {
			authURL += "&" + fixed.Encode()
		} else {
			authURL += "?" + fixed.Encode()
		}
	}
	prompt, noPrompt := req.Prompt, false
	if prompt == "" {
		prompt, noPrompt = p.Prompt, p.NoPrompt
	}
	return AuthorizeParams{
		AuthorizeURL:         authURL,
		ClientID:             app.ClientID,
		Scopes:               scopes,
		ScopeSeparator:       sep,
		Prompt:               prompt,
		NoPrompt:             noPrompt,
		AdditionalParams:     req.AdditionalParams,
		DisableOfflineAccess: !offline,
		ClientIDParam:        p.ClientIDParam,
	}, slices.AppendSeq(make([]string, 0, len(scopes)+1), uniqueScopes(scopes, offline)), nil
}

// flowSecrets are the random values of one authorization: the state token, the PKCE verifier
// and its S256 challenge, and the browser binding. Those a flow does not use are empty.
type flowSecrets struct {
	state, verifier, challenge, binding string
}

// newFlowSecrets makes a flow's secrets from r, in the order state, verifier, binding. If r
// fails or ends early there are no secrets and the error matches [ErrRandom]; nothing falls
// back to another source.
func newFlowSecrets(r io.Reader, verifier, binding bool) (flowSecrets, error) {
	var fs flowSecrets
	var err error
	if fs.state, err = state.NewToken(r); err != nil {
		return flowSecrets{}, fmt.Errorf("%w: %v", ErrRandom, err)
	}
	if verifier {
		if fs.verifier, err = pkce.NewVerifierFrom(r); err != nil {
			return flowSecrets{}, fmt.Errorf("%w: %v", ErrRandom, err)
		}
		fs.challenge = pkce.Challenge(fs.verifier)
	}
	if binding {
		// A binding is a value as unguessable as a state token, and of its form.
		if fs.binding, err = state.NewToken(r); err != nil {
			return flowSecrets{}, fmt.Errorf("%w: %v", ErrRandom, err)
		}
	}
	return fs, nil
}

// saveSession saves the pending authorization s under the SHA-256 of its state token, with
// the store calls bounded by sctx. A failure is logged on ctx, which outlives sctx.
func (c *Connector) saveSession(ctx, sctx context.Context, s *session, token string) error {
	rec, err := s.marshal()
	if err != nil {
		return err
	}
	if err := c.states.Save(sctx, state.Key(token), rec, c.stateTTL); err != nil {
		c.log.LogAttrs(ctx, slog.LevelError, "connect: saving the pending authorization failed",
			slog.String("provider", s.Provider), slog.String("projectId", s.ProjectID), slog.Any("error", err))
		return fmt.Errorf("%w: saving the pending authorization: %w", ErrStoreUnavailable, err)
	}
	return nil
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

// metadataOnly returns the inputs but the workspace, or nil when there are none.
func metadataOnly(v metadata.Values) map[string]string {
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
