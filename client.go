package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// DefaultMaxRetryWait is how long, in all, a [Connector.Client] request waits out the
// Retry-After of 429 and 503 answers unless [Config].MaxRetryWait says otherwise.
const DefaultMaxRetryWait = 30 * time.Second

// Client returns an *http.Client, built on [Config].HTTPClient's Transport
// (http.DefaultTransport when nil) and Timeout, that sends the connection's credential the
// way its provider wants it: a bearer token, an API key in a header or the query, HTTP Basic,
// or custom auth fields in headers, with the API's fixed headers (docs/security.md, R).
//
// The credential goes only to the provider's API hosts, as the catalog declares them and as
// resolved for this connection (a workspace's host, Salesforce's instance URL). A request for
// any other host fails before anything is sent; a redirect to another host is followed
// without the credential. Requests name full URLs; [Connector.APIBaseURL] returns the base
// the API's URLs start with.
//
// For OAuth connections, an expired token is refreshed before the request, one refresh for
// any number of concurrent requests and replicas (see [Connector.TokenSource]); a 401 answer
// forces one refresh and one retry, never more. A 429 answer, and a 503 answer to an
// idempotent method, with a Retry-After header is waited out and retried while the waits add
// up to at most [Config].MaxRetryWait and end before the request's context does; otherwise it
// is returned at once. A request with a body is retried only when its GetBody is set.
//
// The client reads the connection once; it stops sending its credential once the connection
// is deleted (at once through this Connector, else within [TokenRecheckInterval]).
func (c *Connector) Client(ctx context.Context, projectID, connectionID string) (*http.Client, error) {
	u, err := c.use(ctx, projectID, connectionID)
	if err != nil {
		return nil, err
	}
	return c.apiClient(u), nil
}

// apiClient is the *http.Client that sends a connection's credential.
func (c *Connector) apiClient(u *using) *http.Client {
	return &http.Client{Transport: &transport{c: c, u: u}, Timeout: c.httpClient.Timeout}
}

// APIBaseURL returns the base URL of the connection's provider API, resolved for the
// connection: requests through [Connector.Client] name URLs under it.
func (c *Connector) APIBaseURL(ctx context.Context, projectID, connectionID string) (*url.URL, error) {
	u, err := c.use(ctx, projectID, connectionID)
	if err != nil {
		return nil, err
	}
	b := *u.base
	return &b, nil
}

// Verify makes the provider's verification request with the connection's credential: nil
// when the provider accepts it, an error matching [ErrBadCredentials] when it refuses it
// (401 or 403), and one matching [ErrVerifyFailed] for any other answer. A 403 whose Bearer
// challenge says insufficient_scope (RFC 6750 §3.1) is an accepted credential that lacks
// the scope of the verification request: Verify returns nil. The request goes
// only to the connection's API base URL and follows no redirect; an OAuth token is refreshed
// first when due, and once more after a 401.
func (c *Connector) Verify(ctx context.Context, projectID, connectionID string) error {
	u, err := c.use(ctx, projectID, connectionID)
	if err != nil {
		return err
	}
	return c.verify(ctx, u)
}

// Refresh forces an OAuth refresh of the connection now, whatever its token's expiry, and
// returns the new token, saved and with a rotated refresh token kept, as [Connector.TokenSource]
// does: one refresh is in flight per connection, in this Connector and across replicas, and
// callers that ask meanwhile share its token. For client credentials connections a new token
// is fetched. The token is the caller's own.
func (c *Connector) Refresh(ctx context.Context, projectID, connectionID string) (*oauth2.Token, error) {
	rec, cr, err := c.recordCredentials(ctx, projectID, connectionID)
	if err != nil {
		return nil, err
	}
	if !rec.Connection.AuthScheme.isOAuth2() {
		return nil, ErrNotOAuth
	}
	ts := &tokenSource{c: c, ctx: ctx, id: connectionID}
	tok, err := ts.read(ctx, cr.AccessToken)
	if err != nil {
		return nil, err
	}
	out := *tok
	return &out, nil
}

// using is what sending a connection's credential needs: its provider and kind, the API's
// base URL and hosts resolved for it, and its credentials or, for a stored OAuth connection,
// its token source.
type using struct {
	p       *providers.Provider
	kind    providers.AuthKind
	base    *url.URL
	origins []string        // scheme://host[:port] of each API host, in canonical form
	values  metadata.Values // the connection's inputs and token metadata, for templates
	client  string          // the OAuth client's id
	cr      *credentials    // the credentials; for a stored OAuth connection, the first token
	ts      *tokenSource    // nil unless a stored OAuth connection
	alive   *liveness       // nil unless a stored connection without OAuth tokens
	last    atomic.Pointer[rendered]
}

// use reads a stored connection and resolves what sending its credential needs.
func (c *Connector) use(ctx context.Context, projectID, connectionID string) (*using, error) {
	gen := c.deletions.n.Load()
	rec, cr, err := c.recordCredentials(ctx, projectID, connectionID)
	if err != nil {
		return nil, err
	}
	p, ok := c.providers.Lookup(rec.Connection.Provider)
	if !ok {
		return nil, fmt.Errorf("connect: provider %s is no longer registered", rec.Connection.Provider)
	}
	u, err := newUsing(p, &rec.Connection, cr)
	if err != nil {
		return nil, err
	}
	if rec.Connection.AuthScheme.isOAuth2() {
		// The token source learns of a deletion as it hands out tokens.
		u.ts = &tokenSource{c: c, ctx: ctx, id: connectionID}
		return u, nil
	}
	u.alive = &liveness{c: c, projectID: projectID, id: connectionID}
	u.alive.state.Store(&alive{gen: gen, until: c.now().Add(TokenRecheckInterval)})
	return u, nil
}

// newUsing resolves the API of provider p for a connection and its credentials.
func newUsing(p *providers.Provider, conn *Connection, cr *credentials) (*using, error) {
	values := conn.values()
	base, err := p.APIBaseURL(values)
	if err != nil {
		if errors.Is(err, providers.ErrNoAPI) {
			return nil, fmt.Errorf("%w: %s", ErrNoAPI, p.Name)
		}
		return nil, fmt.Errorf("%w: the base URL of %s cannot be resolved: %w", ErrNoAPI, p.Name, err)
	}
	u := &using{p: p, kind: authKind(conn.AuthScheme), base: base, values: values, cr: cr, client: cr.ClientID}
	if conn.ProviderApp != nil && u.client == "" {
		u.client = conn.ProviderApp.ClientID
	}
	for _, h := range p.APIHosts(base) {
		o := base.Scheme + "://" + h
		if h == base.Hostname() {
			o = origin(base)
		}
		u.origins = append(u.origins, o)
	}
	return u, nil
}

// values are the connection's inputs, its workspace among them, and the values read from the
// token response and the callback, for the provider's templates.
func (c *Connection) values() metadata.Values {
	values := make(metadata.Values, len(c.ProviderMetadata)+1)
	for k, v := range c.ProviderMetadata {
		values[k] = v.Value
	}
	if c.ProviderWorkspaceRef != "" {
		values["workspace"] = c.ProviderWorkspaceRef
	}
	return values
}

// authKind is the credential kind of an auth scheme.
func authKind(s AuthScheme) providers.AuthKind {
	switch s {
	case AuthSchemeOAuth2ClientCredentials:
		return providers.OAuth2ClientCredentials
	case AuthSchemeOAuth2Password:
		return providers.OAuth2PasswordCredentials
	case AuthSchemeAPIKey:
		return providers.APIKey
	case AuthSchemeBasic:
		return providers.BasicAuth
	case AuthSchemeCustom:
		return providers.CustomAuth
	}
	return providers.OAuth2AuthorizationCode
}

// origin is a URL's scheme and host in canonical form: lower case, without the scheme's
// default port.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// allowed reports whether the credential may go to the URL's host.
func (u *using) allowed(target *url.URL) bool {
	o := origin(target)
	for _, a := range u.origins {
		if o == a {
			return true
		}
	}
	return false
}

// placement renders the credential for a request, with tok the access token of an OAuth
// connection. The last one rendered is kept, since a token is used for many requests.
func (u *using) placement(tok string) (*providers.Placement, error) {
	if last := u.last.Load(); last != nil && last.tok == tok {
		return last.pl, nil
	}
	pl, err := u.render(tok)
	if err != nil {
		return nil, err
	}
	u.last.Store(&rendered{tok: tok, pl: pl})
	return pl, nil
}

// rendered is a credential rendered for the access token tok ("" for other credentials).
type rendered struct {
	tok string
	pl  *providers.Placement
}

// render renders the credential for the access token tok.
func (u *using) render(tok string) (*providers.Placement, error) {
	return u.p.Credential(u.kind, func(name string) string {
		if v, ok := u.cr.Custom[name]; ok && u.kind == providers.CustomAuth {
			return v
		}
		switch name {
		case "accessToken":
			return tok
		case "clientId":
			return u.client
		case "apiKey":
			return u.cr.APIKey
		case "username":
			return u.cr.Username
		case "password":
			return u.cr.Password
		}
		return u.values[name]
	})
}

// secrets are the values a failed request's error may not show.
func (u *using) secrets(tok string) []string {
	s := []string{tok, u.cr.APIKey, u.cr.Password, u.cr.AccessToken}
	for _, v := range u.cr.Custom {
		s = append(s, v)
	}
	return s
}

// liveness tells a client of a connection without OAuth tokens whether it still exists,
// reading the store after a deletion through the Connector and at least every
// TokenRecheckInterval, as token sources do for OAuth connections.
type liveness struct {
	c             *Connector
	projectID, id string
	state         atomic.Pointer[alive]
}

// alive is when a connection was last found in the store, and the deletion count then.
type alive struct {
	gen   uint64
	until time.Time
}

// check returns nil while the connection exists.
func (l *liveness) check(ctx context.Context) error {
	if s := l.state.Load(); s.gen == l.c.deletions.n.Load() && l.c.now().Before(s.until) {
		return nil
	}
	gen := l.c.deletions.n.Load()
	if _, err := l.c.record(ctx, l.projectID, l.id); err != nil {
		return err
	}
	l.state.Store(&alive{gen: gen, until: l.c.now().Add(TokenRecheckInterval)})
	return nil
}

// transport sends a connection's credential to its provider's API hosts only.
type transport struct {
	c *Connector
	u *using
}

// baseTransport is the transport the credential's requests go through.
func (c *Connector) baseTransport() http.RoundTripper {
	if c.httpClient.Transport != nil {
		return c.httpClient.Transport
	}
	return http.DefaultTransport
}

// RoundTrip sends req with the credential, refreshing, retrying and waiting as
// [Connector.Client] says.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.u.allowed(req.URL) {
		if req.Response != nil {
			// A redirect off the API's hosts is followed, without the credential.
			return t.c.baseTransport().RoundTrip(req)
		}
		closeBody(req)
		return nil, fmt.Errorf("%w: %s", ErrForeignHost, req.URL.Host)
	}
	ctx := req.Context()
	if t.u.alive != nil {
		if err := t.u.alive.check(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	tok, err := t.token(ctx, "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	refreshed, waited := false, time.Duration(0)
	for attempt := 0; ; attempt++ {
		out, err := t.prepare(req, tok, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.c.baseTransport().RoundTrip(out)
		if err != nil {
			return nil, t.hide(err, tok)
		}
		resp.Request = req
		switch {
		case resp.StatusCode == http.StatusUnauthorized && t.u.ts != nil && !refreshed && replayable(req):
			refreshed = true
			newTok, err := t.token(ctx, tok)
			if err != nil {
				// The refresh failed (the connection may now be bad_credentials): the
				// answer the API gave stands.
				return resp, nil
			}
			discard(resp)
			tok = newTok
		case retryable(req, resp):
			d, ok := t.c.retryAfter(ctx, resp, waited)
			if !ok {
				return resp, nil
			}
			discard(resp)
			if !sleep(ctx, d) {
				return nil, fmt.Errorf("connect: waiting out Retry-After: %w", ctx.Err())
			}
			waited += d
		default:
			return resp, nil
		}
	}
}

// token returns the access token to send, other than stale; "" for other credentials.
func (t *transport) token(ctx context.Context, stale string) (string, error) {
	switch {
	case t.u.ts != nil && stale == "":
		tok, err := t.u.ts.token(ctx)
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	case t.u.ts != nil:
		tok, err := t.u.ts.read(ctx, stale)
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	case t.u.kind == providers.OAuth2AuthorizationCode || t.u.kind == providers.OAuth2ClientCredentials ||
		t.u.kind == providers.OAuth2PasswordCredentials:
		return t.u.cr.AccessToken, nil
	}
	return "", nil
}

// prepare returns a copy of req carrying the credential; the caller's request is never
// changed. A retry gets a fresh body from GetBody.
func (t *transport) prepare(req *http.Request, tok string, attempt int) (*http.Request, error) {
	pl, err := t.u.placement(tok)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out := req.Clone(req.Context())
	if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
		if out.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("connect: replaying the request body: %w", err)
		}
	}
	// Copies: a transport of the caller's may change the headers it is given, and the
	// placement is shared by every request with the same token.
	for k, v := range pl.Fixed {
		if _, set := out.Header[k]; !set {
			out.Header[k] = slices.Clone(v)
		}
	}
	for k, v := range pl.Header {
		out.Header[k] = slices.Clone(v)
	}
	if pl.Basic {
		out.SetBasicAuth(pl.User, pl.Password)
	}
	if len(pl.Query) > 0 {
		q := out.URL.Query()
		for k, v := range pl.Query {
			q[k] = v
		}
		out.URL.RawQuery = q.Encode()
	}
	return out, nil
}

// hide returns err, or, when its text shows the credential (a URL carrying a query
// credential, say), an error that says only what kind of failure it was.
func (t *transport) hide(err error, tok string) error {
	return withhold(err, t.u.secrets(tok), "connect: the API request failed")
}

// withhold returns err, or, when its text shows one of the secrets, an error that says what
// failed and whether the context ended, and nothing else.
func withhold(err error, secrets []string, what string) error {
	msg := err.Error()
	if redact(msg, secrets, "") == msg {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", what, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, context.DeadlineExceeded)
	}
	return errors.New(what + " (the error is withheld: it showed a secret)")
}

// replayable reports whether req can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// retryable reports whether resp asks for the request to be sent again later: 429 for any
// method, 503 for idempotent ones (RFC 9110 §9.2.2), with Retry-After, and a body that can
// be sent again.
func retryable(req *http.Request, resp *http.Response) bool {
	if resp.Header.Get("Retry-After") == "" || !replayable(req) {
		return false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
			return true
		}
	}
	return false
}

// retryAfter returns how long resp asks to wait, when that wait keeps the total within
// MaxRetryWait and ends before ctx does.
func (c *Connector) retryAfter(ctx context.Context, resp *http.Response, waited time.Duration) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = max(at.Sub(c.now()), 0)
	} else {
		return 0, false
	}
	if waited+d > c.maxRetryWait {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return 0, false
	}
	return d, true
}

// discard reads a little of a response that is not returned, so that its connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	resp.Body.Close()
}

// closeBody closes a request body that will not be sent, as a RoundTripper must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// verify makes the provider's verification request with the credentials of u.
func (c *Connector) verify(ctx context.Context, u *using) error {
	v := u.p.API.Verify
	if v == nil {
		return fmt.Errorf("%w: %s declares no verification request", ErrNoAPI, u.p.Name)
	}
	path, query, err := v.VerifyPath(u.values)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVerifyFailed, err)
	}
	target := *u.base
	target.RawPath = strings.TrimSuffix(u.base.EscapedPath(), "/") + path
	if target.Path, err = url.PathUnescape(target.RawPath); err != nil {
		return fmt.Errorf("%w: %w", ErrVerifyFailed, err)
	}
	target.RawQuery = query
	var body io.Reader
	if v.Body != "" {
		body = strings.NewReader(v.Body)
	}
	req, err := http.NewRequestWithContext(ctx, v.Method, target.String(), body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVerifyFailed, err)
	}
	if v.Body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(v.Body))), nil }
	}
	hc := c.apiClient(u)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known to the caller, and said below
		}
		return fmt.Errorf("%w: %s %s: %w", ErrVerifyFailed, v.Method, u.p.Name, err)
	}
	defer discard(resp)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if v.OK != "" && !jsonTrue(resp.Body, v.OK) {
			return fmt.Errorf("%w: %s answered its verification request with %s not true", ErrBadCredentials, u.p.Name, v.OK)
		}
		return nil
	case resp.StatusCode == http.StatusForbidden && insufficientScope(resp.Header):
		// The provider took the credential and refused only its scope (RFC 6750 §3.1).
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %s answered %d to its verification request", ErrBadCredentials, u.p.Name, resp.StatusCode)
	}
	return fmt.Errorf("%w: %s answered %d to its verification request", ErrVerifyFailed, u.p.Name, resp.StatusCode)
}

// insufficientScope reports whether the WWW-Authenticate fields of an answer hold a Bearer
// challenge whose error is insufficient_scope (RFC 6750 §3.1). A field is a list of
// challenges, each a scheme followed by a token68 or by auth-params (RFC 9110 §11.6.1), so a
// parameter belongs to the scheme last named before it; quoted strings are read whole, so
// that their content is never taken for a parameter.
func insufficientScope(h http.Header) bool {
	for _, field := range h.Values("Www-Authenticate") {
		scheme := ""
		for i := 0; i < len(field); {
			if c := field[i]; c == ' ' || c == '\t' || c == ',' {
				i++
				continue
			}
			name, j := httpToken(field, i)
			if name == "" {
				i = nextItem(field, i)
				continue
			}
			k := skipSpace(field, j)
			if k == len(field) || field[k] != '=' {
				scheme, i = name, k // a challenge begins
				continue
			}
			value, end := paramValue(field, skipSpace(field, k+1))
			if strings.EqualFold(scheme, "Bearer") && strings.EqualFold(name, "error") && value == "insufficient_scope" {
				return true
			}
			i = nextItem(field, end)
		}
	}
	return false
}

// httpToken returns the RFC 9110 token at s[i:] and the index after it.
func httpToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", s[j]) >= 0) {
		j++
	}
	return s[i:j], j
}

// skipSpace returns the index of the first byte at or after i that is no space or tab.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// paramValue returns the auth-param value at s[i:], a token or a quoted string unescaped,
// and the index after it.
func paramValue(s string, i int) (string, int) {
	if i == len(s) || s[i] != '"' {
		return httpToken(s, i)
	}
	var b strings.Builder
	for i++; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1
		case '\\':
			if i++; i == len(s) {
				return b.String(), i
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), i
}

// nextItem returns the index of the comma ending the list item at s[i:], outside quoted
// strings, or len(s).
func nextItem(s string, i int) int {
	quoted := false
	for ; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == ',':
			return i
		}
	}
	return i
}

// verifyNew verifies the credentials of a connection being made, before anything is stored.
// asked says the request asked for it, which a provider without a verification request
// then fails; otherwise such a provider is not verified.
func (c *Connector) verifyNew(ctx context.Context, p *providers.Provider, conn *Connection, cr *credentials, asked bool) error {
	if p.API == nil || p.API.Verify == nil {
		if asked {
			return invalid("verify", "provider "+p.Name+" declares no verification request", ErrNoAPI)
		}
		return nil
	}
	u, err := newUsing(p, conn, cr)
	if err == nil {
		err = c.verify(ctx, u)
	}
	if err != nil {
		c.emit(ctx, EventConnectionError, conn.ProjectID, p.Name, nil, err)
	}
	return err
}

// maxVerifyBody bounds the part of a verification answer that is read.
const maxVerifyBody = 1 << 16

// jsonTrue reports whether the JSON object in r has the top-level field set to true.
func jsonTrue(r io.Reader, field string) bool {
	var obj map[string]json.RawMessage
	if json.NewDecoder(io.LimitReader(r, maxVerifyBody)).Decode(&obj) != nil {
		return false
	}
	return string(obj[field]) == "true"
}
