package connect

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect/internal/syntax"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
	"github.com/connectkit/connect/state"
)

// Limits on the callback (docs/security.md, N1).
const (
	maxCallbackQuery  = 8 << 10
	maxCallbackParams = 50
	maxStateParam     = 128
	maxCode           = 4096
	maxIss            = 2048
	maxErrorCode      = 64
	maxDescription    = 512
	maxClockSkew      = time.Minute
)

// BindingCookie begins the names of the cookies that carry an [Authorization]'s Binding in
// the browser; a flow's cookie is named by [BindingCookieName]. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const BindingCookie = "__Host-connect-binding"

// BindingCookieName is the name of the binding cookie of the flow with the state token:
// [BindingCookie], a hyphen and 16 characters of the state's SHA-256. Each flow has a cookie
// of its own, so that flows started in two tabs do not overwrite each other's binding, and a
// callback clears only its own. [Connector.Callback] reads it when no [WithBinding] is given.
func BindingCookieName(stateToken string) string {
	sum := sha256.Sum256([]byte(stateToken))
	var name [len(BindingCookie) + 1 + 16]byte
	n := copy(name[:], BindingCookie)
	name[n] = '-'
	base64.RawURLEncoding.Encode(name[n+1:], sum[:12])
	return string(name[:])
}

// CallbackOption changes one call of [Connector.Callback].
type CallbackOption interface{ applyCallback(*callbackOptions) }

type callbackOptions struct {
	binding    string
	hasBinding bool
}

type callbackOption func(*callbackOptions)

func (f callbackOption) applyCallback(o *callbackOptions) { f(o) }

// WithBinding gives the binding value of the browser that brought the callback, for
// backends that forward the callback from their own session rather than from a cookie.
func WithBinding(binding string) CallbackOption {
	return callbackOption(func(o *callbackOptions) { o.binding, o.hasBinding = binding, true })
}

// callbackError is an error about the callback request itself: it matches its sentinel and
// ErrInvalidRequest.
type callbackError struct {
	sentinel error
	msg      string
}

func (e *callbackError) Error() string   { return e.sentinel.Error() + ": " + e.msg }
func (e *callbackError) Unwrap() error   { return e.sentinel }
func (e *callbackError) Is(t error) bool { return t == ErrInvalidRequest }

func malformed(msg string) error    { return &callbackError{ErrMalformedCallback, msg} }
func invalidState(msg string) error { return &callbackError{ErrInvalidState, msg} }

// callbackParams are the parameters of an authorization response.
type callbackParams struct {
	state, code, iss, errCode, errDescription, errURI string
	codeParam                                         string     // the name the code came under
	query                                             url.Values // for the provider's callback inputs
}

// parseCallback checks the shape of the authorization response without touching a store
// (docs/security.md, A3 and N1).
func parseCallback(r *http.Request) (*callbackParams, error) {
	if r.Method != http.MethodGet {
		return nil, malformed("the callback must be a GET")
	}
	raw := r.URL.RawQuery
	// Counted before parsing, so that a flood of parameters is not parsed at all.
	if strings.Count(raw, "&") >= maxCallbackParams {
		return nil, malformed("more than 50 parameters")
	}
	// ParseQuery refuses ";" as a separator and malformed escapes.
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, malformed("the query does not parse")
	}
	p := callbackParams{query: q}
	switch st := q["state"]; {
	case len(st) > 1:
		return nil, invalidState("state is given more than once")
	case len(st) == 1 && len(st[0]) > maxStateParam:
		return nil, invalidState("longer than 128 octets")
	case len(st) == 1:
		p.state = st[0]
	}
	for _, f := range [...]struct {
		name string
		max  int
		dst  *string
	}{
		{"code", maxCode, &p.code},
		{"iss", maxIss, &p.iss},
		{"error", maxErrorCode, &p.errCode},
		// Any length: the description is capped once cleaned, by errorDescription.
		{"error_description", maxCallbackQuery, &p.errDescription},
		{"error_uri", maxIss, &p.errURI},
	} {
		if err := callbackParam(q, f.name, f.max, f.dst); err != nil {
			return nil, err
		}
	}
	if p.code != "" {
		p.codeParam = "code"
	}
	// A provider may name the code otherwise (providers.Provider.CodeParam); which name is
	// its own is checked once the flow, and so the provider, is known.
	for name := range providers.CodeParams() {
		if _, ok := q[name]; !ok {
			continue
		}
		if p.codeParam != "" {
			return nil, malformed("the code is given under two names")
		}
		if err := callbackParam(q, name, maxCode, &p.code); err != nil {
			return nil, err
		}
		p.codeParam = name
	}
	if len(raw) > maxCallbackQuery {
		return nil, malformed("the query is longer than 8 KiB")
	}
	if p.state == "" {
		return nil, invalidState("missing")
	}
	if err := state.CheckToken(p.state); err != nil {
		return nil, invalidState("not a state token")
	}
	switch {
	case p.code != "" && p.errCode != "":
		return nil, malformed("both code and error are given")
	case p.code == "" && p.errCode == "":
		return nil, malformed("neither code nor error is given")
	case p.code != "" && !syntax.Visible(p.code, false):
		return nil, malformed("code has characters outside printable ASCII")
	case p.errCode != "" && !syntax.NQChars(p.errCode):
		return nil, malformed("error has characters RFC 6749 does not allow")
	}
	return &p, nil
}

// callbackParam reads the parameter name of q into dst: given at most once and of at most
// limit octets.
func callbackParam(q url.Values, name string, limit int, dst *string) error {
	switch v := q[name]; {
	case len(v) > 1:
		return malformed(name + " is given more than once")
	case len(v) == 1 && len(v[0]) > limit:
		return malformed(fmt.Sprintf("%s is longer than %d octets", name, limit))
	case len(v) == 1:
		*dst = v[0]
	}
	return nil
}

// Callback completes an authorization code flow from the provider's redirect to the
// backend's callback URL. In this order it: rejects a malformed callback before touching a
// store; takes the pending authorization by its state, once only (a replayed, unknown or
// expired state fails); checks the browser binding when the flow asked for one (from
// the cookie named by [BindingCookieName] or [WithBinding]); checks iss (RFC 9207) when the provider declares its
// issuer; only then returns a provider error as a *[ProviderError]; exchanges the code with
// the PKCE verifier at the token endpoint saved with the flow, never following a redirect;
// reads the provider's token metadata; and saves the connection, updating the one the same
// group and consumer already have with the provider and workspace.
//
// Whatever the outcome, the state cannot be used again. Nothing is saved on any failure, and
// no error repeats a code, token or secret.
func (c *Connector) Callback(ctx context.Context, r *http.Request, opts ...CallbackOption) (*Connection, error) {
	var o callbackOptions
	for _, opt := range opts {
		opt.applyCallback(&o)
	}
	p, err := parseCallback(r)
	if err != nil {
		return nil, err
	}
	if !o.hasBinding {
		if ck, err := r.Cookie(BindingCookieName(p.state)); err == nil {
			o.binding = ck.Value
		}
	}
	s, err := c.takeSession(ctx, p.state)
	if err != nil {
		return nil, err
	}
	prov, err := c.checkResponse(s, p, o.binding)
	if err != nil {
		return nil, err
	}
	sctx, cancel := c.storeContext(ctx)
	app, err := c.app(sctx, s.ProjectID, s.Provider, s.AppID)
	cancel()
	if err != nil {
		return nil, err
	}
	if p.errCode != "" {
		// The app is looked up first so that its secret, too, is kept out of the error.
		perr := providerError(p.errCode, p.errDescription, p.errURI,
			p.state, o.binding, s.Verifier, app.ClientSecret.Reveal())
		c.emit(ctx, EventConnectionError, s.ProjectID, s.Provider, nil, perr)
		return nil, perr
	}
	tok, md, err := c.exchange(ctx, s, prov, app, p)
	if err != nil {
		c.emit(ctx, EventConnectionError, s.ProjectID, s.Provider, nil, err)
		return nil, err
	}
	return c.saveAuthorized(ctx, s, prov, app, tok, md)
}

// takeSession takes the pending authorization of the state from the store, once only, and
// refuses it past its time on the Connector's clock (docs/security.md, A5 to A7).
func (c *Connector) takeSession(ctx context.Context, stateToken string) (*session, error) {
	sctx, cancel := c.storeContext(ctx)
	rec, err := c.states.Take(sctx, state.Key(stateToken))
	cancel()
	switch {
	case errors.Is(err, state.ErrNotFound):
		return nil, ErrStateNotFound
	case err != nil:
		c.log.LogAttrs(ctx, slog.LevelError, "connect: taking the pending authorization failed", slog.Any("error", err))
		return nil, fmt.Errorf("%w: taking the pending authorization: %w", ErrStoreUnavailable, err)
	}
	s, err := unmarshalSession(rec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	now := c.now()
	if !now.Before(s.ExpiresAt) || s.CreatedAt.After(now.Add(maxClockSkew)) {
		return nil, ErrStateExpired
	}
	return s, nil
}

// checkResponse checks that the authorization response belongs to the flow: it comes from
// the browser that started it and from the provider's issuer (docs/security.md, A4, D1 and
// D3), with the code under the provider's name for it. It returns the flow's provider.
func (c *Connector) checkResponse(s *session, p *callbackParams, binding string) (*providers.Provider, error) {
	if len(s.BindingHash) > 0 {
		h := sha256.Sum256([]byte(binding))
		if binding == "" || subtle.ConstantTimeCompare(h[:], s.BindingHash) != 1 {
			return nil, ErrStateBindingMismatch
		}
	}
	prov, ok := c.providers.Lookup(s.Provider)
	if !ok {
		return nil, fmt.Errorf("connect: provider %s is no longer registered", s.Provider)
	}
	if prov.Issuer != "" && p.iss != prov.Issuer {
		return nil, ErrIssuerMismatch
	}
	if want := cmp.Or(prov.CodeParam, "code"); p.code != "" && p.codeParam != want {
		return nil, malformed("the code is not under " + want + ", the provider's name for it")
	}
	return prov, nil
}

// exchange redeems the code with the flow's verifier at the token endpoint saved with the
// flow, and reads the token response: the token and the connection's provider metadata.
func (c *Connector) exchange(ctx context.Context, s *session, prov *providers.Provider, app *ProviderApp, p *callbackParams) (*oauth2.Token, ProviderMetadata, error) {
	code := p.code
	cfg := oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret.Reveal(),
		Endpoint:     oauth2.Endpoint{TokenURL: s.TokenURL, AuthStyle: authStyle(prov)},
		RedirectURL:  s.RedirectURI,
	}
	var opts []oauth2.AuthCodeOption
	if s.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(s.Verifier))
	}
	for _, k := range slices.Sorted(maps.Keys(prov.TokenParams)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, prov.TokenParams[k]))
	}
	tok, err := cfg.Exchange(c.clientContext(ctx, prov), code, opts...)
	if err != nil {
		return nil, nil, tokenError(err, code, s.Verifier, app.ClientSecret.Reveal(), app.ClientID)
	}
	if err := checkToken(tok); err != nil {
		return nil, nil, err
	}
	md := make(ProviderMetadata, len(s.Metadata)+len(prov.TokenMetadata)+len(prov.CallbackInputs))
	for k, v := range s.Metadata {
		md[k] = MetadataValue{Value: v, Source: "input"}
	}
	if err := readCallbackInputs(prov, p.query, md); err != nil {
		return nil, nil, err
	}
	if err := readTokenMetadata(prov, tok, md); err != nil {
		return nil, nil, err
	}
	if len(md) == 0 {
		md = nil
	}
	return tok, md, nil
}

// saveAuthorized saves the connection a flow made, with its tokens.
func (c *Connector) saveAuthorized(ctx context.Context, s *session, prov *providers.Provider, app *ProviderApp, tok *oauth2.Token, md ProviderMetadata) (*Connection, error) {
	conn := &Connection{
		ProjectID:            s.ProjectID,
		Provider:             s.Provider,
		Group:                Group{Ref: s.GroupRef, Name: s.GroupName},
		Consumer:             Consumer{Ref: s.ConsumerRef, Name: s.ConsumerName},
		ProviderWorkspaceRef: s.Workspace,
		ProviderMetadata:     md,
		ProviderApp:          &ConnectionApp{ID: app.ID, ClientID: app.ClientID},
		AuthScheme:           AuthSchemeOAuth2AuthorizationCode,
		Status:               StatusWorking,
		Scopes:               grantedScopes(tok, s.Scopes, prov.Separator()),
	}
	cr := &credentials{
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType,
		Expiry: c.expiry(tok), ObtainedAt: c.now(), TokenURL: s.TokenURL, RefreshURL: s.RefreshURL,
	}
	return c.upsert(ctx, conn, cr)
}

// authStyle maps a provider's client authentication to x/oauth2's. AutoDetect, which may send
// the secret twice, is never used.
func authStyle(p *providers.Provider) oauth2.AuthStyle {
	if p.TokenAuth == providers.TokenAuthParams {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// clientContext carries the Connector's HTTP client to x/oauth2, the one way it takes one.
func (c *Connector) clientContext(ctx context.Context, p *providers.Provider) context.Context {
	hc := c.httpClient
	if p.ClientIDParam != "" {
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		renamed := *hc
		renamed.Transport = clientIDTransport{base: base, name: p.ClientIDParam}
		hc = &renamed
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// clientIDTransport sends the client id of a token request under the provider's name for it
// (providers.Provider.ClientIDParam, e.g. TikTok's client_key) instead of the client_id that
// x/oauth2 writes in the form body.
type clientIDTransport struct {
	base http.RoundTripper
	name string
}

func (t clientIDTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("connect: the token request body is not a form")
	}
	if id, ok := form["client_id"]; ok {
		form[t.name] = id
		delete(form, "client_id")
	}
	enc := form.Encode()
	out := r.Clone(r.Context())
	out.Body, out.ContentLength = io.NopCloser(strings.NewReader(enc)), int64(len(enc))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
	return t.base.RoundTrip(out)
}

// tokenError turns an error of x/oauth2 into one of connect's: a provider's error response
// becomes a *ProviderError made by providerError, with the secrets of the request kept out
// of it; the response body, which may echo them too, is dropped (docs/security.md, H2).
func tokenError(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= 300 && re.Response.StatusCode < 400 {
			return fmt.Errorf("%w (%d)", ErrUnexpectedRedirect, re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			return fmt.Errorf("%w: %w", ErrExchangeFailed, providerError(re.ErrorCode, re.ErrorDescription, re.ErrorURI, secrets...))
		}
		if re.Response != nil {
			return fmt.Errorf("%w: the token endpoint answered %d", ErrExchangeFailed, re.Response.StatusCode)
		}
		return fmt.Errorf("%w: the token endpoint refused the request", ErrExchangeFailed)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, context.DeadlineExceeded) || errors.Is(ue.Err, context.Canceled) {
			return fmt.Errorf("%w: %w", ErrExchangeFailed, ue.Err)
		}
		return fmt.Errorf("%w: the token endpoint could not be reached", ErrExchangeFailed)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %w", ErrExchangeFailed, err)
	}
	return fmt.Errorf("%w: the token response is not valid", ErrExchangeFailed)
}

// providerError makes the *ProviderError of an error response, at the callback or at the
// token endpoint. Apps log these errors and render them in pages, and a provider may echo
// what it was sent, so each field is cleaned by its own rule and none may hold one of the
// secrets of the request (docs/security.md, H2 and K1).
func providerError(code, description, uri string, secrets ...string) *ProviderError {
	return &ProviderError{
		Code:        errorCode(code, secrets),
		Description: errorDescription(description, secrets),
		URI:         errorURI(uri, secrets),
	}
}

// errorCode keeps an error code's letters, digits, "_", "-" and ".", the characters of every
// registered code, replacing any other byte (markup, say) and the secrets with "_", capped
// at 64 octets.
func errorCode(s string, secrets []string) string {
	b := []byte(redact(s, secrets, "_"))
	for i, c := range b {
		if !syntax.ErrorCodeChar(c) {
			b[i] = '_'
		}
	}
	// Replacing bytes may have spelt a secret out again.
	s = redact(string(b), secrets, "_")
	return s[:min(len(s), maxErrorCode)]
}

// errorDescription keeps the characters RFC 6749 allows in error_description, dropping also
// < > & ' which could mark up a page, and the secrets, capped at 512 octets.
func errorDescription(s string, secrets []string) string {
	s = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && syntax.NQSChar(byte(r)) && !strings.ContainsRune("<>&'", r) {
			return r
		}
		return -1
	}, redact(s, secrets, redacted))
	// Dropping bytes may have spelt a secret out again.
	s = redact(s, secrets, redacted)
	return s[:min(len(s), maxDescription)]
}

// errorURI keeps error_uri only when it is an absolute https URL of printable characters that
// holds none of the secrets, in any escaping: a URI is dropped, not cut, since what is left of
// it would still lead to a page that might show the rest.
func errorURI(s string, secrets []string) string {
	if e, err := metadata.ParseEndpoint(s); err != nil || e.Scheme != "https" || !syntax.Visible(s, false) {
		return ""
	}
	forms := []string{s}
	if u, err := url.PathUnescape(s); err == nil {
		forms = append(forms, u)
	}
	if u, err := url.QueryUnescape(s); err == nil {
		forms = append(forms, u)
	}
	for _, f := range forms {
		if redact(f, secrets, "") != f {
			return ""
		}
	}
	return s
}

// redact replaces each secret of at least four characters in s with mark, as it is and as a
// form-encoded body would carry it (a provider may echo the body of the request).
func redact(s string, secrets []string, mark string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, mark)
			s = strings.ReplaceAll(s, url.QueryEscape(sec), mark)
		}
	}
	return s
}

// maxTokenLifetime is the longest a token is taken to last (docs/security.md, M1): a token
// response that claims more, up to never expiring, gets a year and is then refreshed.
const maxTokenLifetime = 365 * 24 * time.Hour

// expiry computes a token's expiry on the Connector's clock from the token response's
// expires_in, read from the raw response rather than from x/oauth2, which keeps it in an int32
// that wraps. Without expires_in, a numeric expires_at (the Unix time some providers, Front
// among them, send instead) is used. Either is bounded by the one rule of tokenLifetime. Zero
// means the provider did not say. Every path that obtains a token (code exchange, refresh,
// client credentials and password grants) calls checkToken first, which refuses an
// expires_in that is not a number of seconds.
func (c *Connector) expiry(tok *oauth2.Token) time.Time {
	now := c.now()
	secs, known, err := expiresIn(tok.Extra("expires_in"))
	if err != nil {
		return now // refused by checkToken already; should it get here, it is not used
	}
	if !known {
		at, ok := expiresAt(tok.Extra("expires_at"))
		if !ok {
			return time.Time{}
		}
		secs = time.Unix(at, 0).Sub(now).Seconds()
	}
	return now.Add(tokenLifetime(secs))
}

// tokenLifetime bounds a lifetime in seconds: a negative one means the token has expired
// already, one above maxTokenLifetime is clamped to it.
func tokenLifetime(secs float64) time.Duration {
	return time.Duration(max(0, min(secs, maxTokenLifetime.Seconds())) * float64(time.Second))
}

// expiresIn reads an expires_in member as x/oauth2 leaves it in the raw response: a float64
// from JSON, an int64 or float64 from a form-encoded body, or a string (PayPal sends the
// number as one) of an optional "-" and digits. Absent, null, empty and zero mean the
// provider did not say (docs/security.md, M1). Anything else is an error.
func expiresIn(v any) (secs float64, known bool, err error) {
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		secs = float64(v)
	case float64:
		secs = v
	case string:
		digits := strings.TrimPrefix(v, "-")
		if v == "" {
			return 0, false, nil
		}
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return 0, false, errExpiresIn
		}
		// Digits always parse, to ±Inf when too many, which tokenLifetime clamps.
		secs, _ = strconv.ParseFloat(v, 64)
	default:
		return 0, false, errExpiresIn
	}
	if math.IsNaN(secs) || secs != math.Trunc(secs) {
		return 0, false, errExpiresIn
	}
	return secs, secs != 0, nil
}

var errExpiresIn = fmt.Errorf("%w: the token response's expires_in is not a whole number of seconds", ErrExchangeFailed)

// expiresAt reads an expires_at member: whole Unix seconds, as a JSON number or a string of
// digits. Anything else, zero included, is not an expiry.
func expiresAt(v any) (int64, bool) {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		f = float64(n)
	default:
		return 0, false
	}
	// Beyond the year 9999, or before 1970, the member is not a Unix time in seconds.
	if f <= 0 || f > 253402300799 || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// checkToken refuses a token response connect cannot use: one without an access token, of
// another type than Bearer (RFC 6750), or whose expires_in is not a number of seconds.
func checkToken(tok *oauth2.Token) error {
	if tok.AccessToken == "" {
		return fmt.Errorf("%w: the token response has no access_token", ErrExchangeFailed)
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return fmt.Errorf("%w: the token type is not Bearer", ErrExchangeFailed)
	}
	if _, _, err := expiresIn(tok.Extra("expires_in")); err != nil {
		return err
	}
	return nil
}

// readCallbackInputs copies the provider's callback inputs from the authorization response
// into md, each checked against its input's rule.
func readCallbackInputs(p *providers.Provider, q url.Values, md ProviderMetadata) error {
	for _, name := range p.CallbackInputs {
		v := q[name]
		if len(v) == 0 {
			continue
		}
		canon, err := p.Input(name).Normalize(v[0])
		if len(v) > 1 || err != nil {
			return fmt.Errorf("%w: the callback's %s is not valid", ErrMalformedCallback, name)
		}
		md[name] = MetadataValue{Value: canon, Source: "callback"}
	}
	return nil
}

// readTokenMetadata copies the provider's token metadata fields into md. A URL must be an
// https endpoint on one of the provider's hosts.
func readTokenMetadata(p *providers.Provider, tok *oauth2.Token, md ProviderMetadata) error {
	for _, f := range p.TokenMetadata {
		v := extraString(tok.Extra(f.Field))
		if v == "" {
			continue
		}
		if f.URL {
			e, err := metadata.ParseEndpoint(v)
			if err != nil || e.Scheme != "https" || !p.Hosts.Match(e.Host) {
				return fmt.Errorf("%w: the token response's %s is not a URL on the provider's hosts", ErrExchangeFailed, f.Field)
			}
		} else if len(v) > 255 || !syntax.Text(v) {
			return fmt.Errorf("%w: the token response's %s is not short text", ErrExchangeFailed, f.Field)
		}
		md[f.Name] = MetadataValue{Value: v, Source: "token"}
	}
	return nil
}

// extraString is a token response value as text: a string as it is, a whole number (Polar's
// x_user_id) in decimal, anything else "".
func extraString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return v.String()
		}
	}
	return ""
}

// grantedScopes returns the scopes the token response names, else those asked for.
func grantedScopes(tok *oauth2.Token, asked []string, sep string) []string {
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return asked
	}
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || string(r) == sep }) {
		if syntax.ScopeToken(f) && len(f) <= maxScopeLen && len(out) < maxScopes && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
