package providers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/connectkit/connect/internal/syntax"
	"github.com/connectkit/connect/metadata"
)

// API says where a provider's API is and how a connection's credential is sent to it: the
// data connect's Client, Verify and DeleteConnection use.
//
// Credential and header values are templates: "{{name}}" stands for a value of the
// connection. The credential kinds give accessToken and clientId (every OAuth kind; the OAuth
// client's id, which some APIs want in a header of its own), apiKey, username and
// password (basicAuth), and the provider's custom auth fields by name; a provider input may
// stand in any value by its name.
type API struct {
	// BaseURL is the API's base URL, a URL template like AuthURL, e.g.
	// https://{{workspace}}.zendesk.com/api/v2.
	BaseURL string `json:"baseURL"`
	// DefaultBaseURL, when set, is used instead of BaseURL when an optional input BaseURL
	// needs is absent and has no default, as DefaultAuthURL is: e.g. Intercom's US host when
	// no region is given.
	DefaultBaseURL string `json:"defaultBaseURL,omitempty"`
	// BaseURLFrom, when set, names a URL read from the token response (a TokenMetadata
	// entry with url set, e.g. Salesforce's instanceUrl): when the connection has it, its
	// scheme and host replace BaseURL's.
	BaseURLFrom string `json:"baseURLFrom,omitempty"`
	// Hosts are more hosts the credential may be sent to, besides the base URL's, e.g.
	// uploads.github.com: plain host names.
	Hosts []string `json:"hosts,omitempty"`
	// Headers are fixed headers every request carries, e.g. Notion-Version. They may use
	// inputs, never a credential.
	Headers map[string]string `json:"headers,omitempty"`
	// OAuth2 is how an OAuth access token is sent; nil means
	// "Authorization: Bearer {{accessToken}}".
	OAuth2 *Send `json:"oauth2,omitempty"`
	// APIKey is how an API key is sent, for providers accepting the apiKey kind.
	APIKey *Send `json:"apiKey,omitempty"`
	// BasicAuth is how basic credentials are sent; nil means HTTP Basic with
	// {{username}} and {{password}}.
	BasicAuth *Send `json:"basicAuth,omitempty"`
	// CustomAuth is how the custom auth fields are sent, for providers accepting customAuth.
	CustomAuth *Send `json:"customAuth,omitempty"`
	// Verify is a cheap request that succeeds only with a valid credential.
	Verify *Verify `json:"verify,omitempty"`
	// Docs is the documentation of the API's authentication, where these facts come from.
	Docs string `json:"docs,omitempty"`

	baseURL, defaultBaseURL *metadata.Template
}

// Send is how one credential kind is sent: in headers, in query parameters, or by HTTP
// Basic authentication. Every value is a template (see [API]).
type Send struct {
	// Headers are header names and values, e.g. {"X-Api-Key": "{{apiKey}}"} or
	// {"Authorization": "Token token={{apiKey}}"}.
	Headers map[string]string `json:"headers,omitempty"`
	// Query are query parameters, for APIs that take the credential only in the URL.
	Query map[string]string `json:"query,omitempty"`
	// Basic sends HTTP Basic authentication, e.g. the API key as user name and "X" as
	// password.
	Basic *Basic `json:"basic,omitempty"`
}

// Basic is the user name and password of HTTP Basic authentication, as templates.
type Basic struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Verify is a provider's verification request: Path is appended to the API's base URL path.
type Verify struct {
	// Method is GET, HEAD or POST.
	Method string `json:"method"`
	// Path begins with "/" and may carry a query, e.g. /v1/users/me or /users?limit=1. Its
	// path, not its query, may hold placeholders of inputs and token response values, e.g.
	// /locations/{{locationId}}, each filled with one escaped path segment.
	Path string `json:"path"`
	// Body is a JSON body for POST, e.g. a GraphQL query.
	Body string `json:"body,omitempty"`
	// OK, when set, names a top-level JSON boolean of the answer that is true only for a
	// valid credential, for APIs that answer 200 either way (Slack's "ok").
	OK string `json:"ok,omitempty"`
	// Docs is the documentation of the endpoint.
	Docs string `json:"docs,omitempty"`
}

// RevocationStyle is how a provider's revocation endpoint is called.
type RevocationStyle string

// The revocation styles. The zero value means RevokeRFC7009.
const (
	// RevokeRFC7009 posts token and token_type_hint, authenticated as at the token endpoint.
	RevokeRFC7009 RevocationStyle = "rfc7009"
	// RevokeBearer posts nothing but the access token as a bearer token, e.g. Dropbox's
	// /2/auth/token/revoke.
	RevokeBearer RevocationStyle = "bearer"
)

// Placement is a credential rendered for one connection: what [API.Credential] returns for
// connect to put on each request.
type Placement struct {
	Header   http.Header // the headers that carry the credential
	Fixed    http.Header // the API's fixed headers, which a request may set otherwise
	Query    url.Values  // nil unless the credential goes in the URL
	Basic    bool        // HTTP Basic with User and Password
	User     string
	Password string
}

// The placeholders each credential kind provides.
var kindValues = map[AuthKind][]string{
	OAuth2AuthorizationCode:   {"accessToken", "clientId"},
	OAuth2ClientCredentials:   {"accessToken", "clientId"},
	OAuth2PasswordCredentials: {"accessToken", "clientId"},
	APIKey:                    {"apiKey"},
	BasicAuth:                 {"username", "password"},
}

// forbiddenHeaders are headers a catalog entry may not set: they frame the request or
// belong to the transport.
var forbiddenHeaders = []string{
	"Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade",
	"Te", "Trailer", "Proxy-Connection", "Cookie", "Proxy-Authorization", "Content-Type",
}

var (
	defaultOAuth2 = &Send{Headers: map[string]string{"Authorization": "Bearer {{accessToken}}"}}
	defaultBasic  = &Send{Basic: &Basic{User: "{{username}}", Password: "{{password}}"}}
)

// send returns how the credential kind is sent: the declared way, else the default, else nil.
func (a *API) send(kind AuthKind) *Send {
	switch kind {
	case OAuth2AuthorizationCode, OAuth2ClientCredentials, OAuth2PasswordCredentials:
		if a.OAuth2 != nil {
			return a.OAuth2
		}
		return defaultOAuth2
	case APIKey:
		return a.APIKey
	case BasicAuth:
		if a.BasicAuth != nil {
			return a.BasicAuth
		}
		return defaultBasic
	case CustomAuth:
		return a.CustomAuth
	}
	return nil
}

// checkAPI checks the API data and the revocation endpoint.
func (p *Provider) checkAPI() error {
	if err := p.checkRevocation(); err != nil {
		return err
	}
	a := p.API
	if a == nil {
		return nil
	}
	if err := a.parse(p); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// parse checks everything the API declares against the provider p.
func (a *API) parse(p *Provider) error {
	var err error
	if a.baseURL, err = metadata.ParseTemplate(a.BaseURL, p.Inputs, p.Hosts); err != nil {
		return fmt.Errorf("baseURL: %w", err)
	}
	if a.DefaultBaseURL != "" {
		if a.defaultBaseURL, err = metadata.ParseTemplate(a.DefaultBaseURL, p.Inputs, p.Hosts); err != nil {
			return fmt.Errorf("defaultBaseURL: %w", err)
		}
		for _, name := range a.defaultBaseURL.Placeholders() {
			if in := p.input(name); in.Optional && in.Default == "" {
				return fmt.Errorf("defaultBaseURL uses the optional input %s, which has no default", name)
			}
		}
	}
	if strings.ContainsAny(a.BaseURL+a.DefaultBaseURL, "?#") {
		return errors.New("baseURL and defaultBaseURL may not have a query")
	}
	if a.BaseURLFrom != "" && !slices.ContainsFunc(p.TokenMetadata, func(f TokenField) bool { return f.URL && f.Name == a.BaseURLFrom }) {
		return fmt.Errorf("baseURLFrom %s is not a URL read from the token response", a.BaseURLFrom)
	}
	for _, h := range a.Hosts {
		if !syntax.HostName(h) {
			return fmt.Errorf("hosts: %q must be a lowercase host name", h)
		}
	}
	if err := checkDocs("docs", a.Docs); err != nil {
		return err
	}
	if err := a.checkHeaders(p); err != nil {
		return err
	}
	for _, k := range []AuthKind{OAuth2AuthorizationCode, OAuth2ClientCredentials, OAuth2PasswordCredentials, APIKey, BasicAuth, CustomAuth} {
		if !p.Accepts(k) {
			continue
		}
		s := a.send(k)
		if s == nil {
			return fmt.Errorf("%s: the provider accepts it but the API does not say how it is sent", k)
		}
		if err := a.checkSend(p, k, s); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	for k, s := range map[AuthKind]*Send{APIKey: a.APIKey, CustomAuth: a.CustomAuth} {
		if s != nil && !p.Accepts(k) {
			return fmt.Errorf("%s: declared for a credential kind the provider does not accept", k)
		}
	}
	if a.Verify != nil {
		return a.Verify.check(p)
	}
	return nil
}

// checkHeaders checks the fixed headers: valid names outside the transport's, values that
// use inputs only.
func (a *API) checkHeaders(p *Provider) error {
	for name, v := range a.Headers {
		if err := checkHeaderName(name); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
		if c := http.CanonicalHeaderKey(name); c == "Authorization" {
			return fmt.Errorf("headers: %s would carry a credential: declare it with the credential kind", name)
		}
		if err := checkValue(v, p, nil); err != nil {
			return fmt.Errorf("headers: %s: %w", name, err)
		}
	}
	return checkDuplicateHeaders(slices.Collect(maps.Keys(a.Headers)))
}

// checkSend checks how the credential kind k is sent: each header once, never one of the
// fixed headers, every value of the kind used, and nothing but the kind's values and inputs.
func (a *API) checkSend(p *Provider, k AuthKind, s *Send) error {
	if len(s.Headers) == 0 && len(s.Query) == 0 && s.Basic == nil {
		return errors.New("says neither headers, query nor basic")
	}
	own := kindValues[k]
	if k == CustomAuth {
		own = nil
		for _, f := range p.CustomAuth {
			own = append(own, f.Name)
		}
	}
	var values []string
	names := slices.Collect(maps.Keys(a.Headers))
	for name, v := range s.Headers {
		if err := checkHeaderName(name); err != nil {
			return err
		}
		if err := checkValue(v, p, own); err != nil {
			return fmt.Errorf("header %s: %w", name, err)
		}
		names, values = append(names, name), append(values, v)
	}
	if s.Basic != nil {
		names, values = append(names, "Authorization"), append(values, s.Basic.User, s.Basic.Password)
		for _, v := range []string{s.Basic.User, s.Basic.Password} {
			if err := checkValue(v, p, own); err != nil {
				return fmt.Errorf("basic: %w", err)
			}
		}
		if strings.Contains(s.Basic.User, ":") {
			return errors.New("basic: a user name may not hold a colon (RFC 7617)")
		}
	}
	if err := checkDuplicateHeaders(names); err != nil {
		return err
	}
	seen := map[string]bool{}
	for name, v := range s.Query {
		if !syntax.ParamName(name) || Reserved(name) || seen[NormalizeParam(name)] {
			return fmt.Errorf("query parameter %q must be a plain, unreserved name, given once", name)
		}
		seen[NormalizeParam(name)] = true
		if err := checkValue(v, p, own); err != nil {
			return fmt.Errorf("query %s: %w", name, err)
		}
		values = append(values, v)
	}
	for _, name := range own {
		if name == "clientId" {
			continue // not a credential: an API may not need it
		}
		if !slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, "{{"+name+"}}") }) {
			return fmt.Errorf("%s is never sent", name)
		}
	}
	return nil
}

// checkHeaderName checks a header name is a valid token that no transport or framing owns.
func checkHeaderName(name string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("%q is not a valid header name", name)
	}
	if slices.Contains(forbiddenHeaders, http.CanonicalHeaderKey(name)) {
		return fmt.Errorf("header %s may not be set by a provider", name)
	}
	return nil
}

// checkDuplicateHeaders refuses two names that are one header, which would send a credential
// twice or let a fixed header replace it.
func checkDuplicateHeaders(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		c := http.CanonicalHeaderKey(n)
		if seen[c] {
			return fmt.Errorf("header %s is set twice", c)
		}
		seen[c] = true
	}
	return nil
}

// checkValue checks a value template: printable text whose placeholders are the provider's
// inputs or the given credential values.
func checkValue(v string, p *Provider, own []string) error {
	if !syntax.Text(v) || len(v) > 1024 {
		return errors.New("value must be at most 1024 octets of printable text")
	}
	return eachPlaceholder(v, func(name string) error {
		if slices.Contains(own, name) {
			if p.input(name) != nil {
				return fmt.Errorf("{{%s}} is both an input and a credential value", name)
			}
			return nil
		}
		if p.input(name) == nil {
			return fmt.Errorf("{{%s}} is neither an input nor a value of the credential", name)
		}
		return nil
	})
}

// eachPlaceholder calls f with the name of each {{name}} in v, and refuses an unclosed one
// or a name that is not an identifier.
func eachPlaceholder(v string, f func(name string) error) error {
	segs, err := metadata.Split(v)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if seg.Name == "" && seg.Lit != "" {
			continue
		}
		if !syntax.Ident(seg.Name) {
			return fmt.Errorf("{{%s}} is not a placeholder name", seg.Name)
		}
		if err := f(seg.Name); err != nil {
			return err
		}
	}
	return nil
}

// expand fills the placeholders of v from vals; every template was checked at load.
func expand(v string, vals func(string) string) string {
	if !strings.Contains(v, "{{") {
		return v
	}
	segs, _ := metadata.Split(v)
	var b strings.Builder
	for _, seg := range segs {
		if seg.Name == "" {
			b.WriteString(seg.Lit)
		} else {
			b.WriteString(vals(seg.Name))
		}
	}
	return b.String()
}

// check checks the verification request.
func (v *Verify) check(p *Provider) error {
	switch v.Method {
	case http.MethodGet, http.MethodHead:
		if v.Body != "" {
			return fmt.Errorf("verify: %s takes no body", v.Method)
		}
	case http.MethodPost:
	default:
		return fmt.Errorf("verify: method %q must be GET, HEAD or POST", v.Method)
	}
	path, query, _ := strings.Cut(v.Path, "?")
	err := eachPlaceholder(path, func(name string) error {
		if p.input(name) == nil && !slices.ContainsFunc(p.TokenMetadata, func(f TokenField) bool { return f.Name == name }) {
			return fmt.Errorf("verify: {{%s}} is neither an input nor a value of the token response", name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	plain := expand(path, func(string) string { return "x" })
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || !syntax.PathChars(plain) ||
		!syntax.QueryChars(query) || strings.Contains(query, "{{") || syntax.DotSegment(plain) {
		return fmt.Errorf("verify: path %q must be an absolute path without dot segments, placeholders only in the path", v.Path)
	}
	if v.OK != "" && !syntax.Ident(v.OK) {
		return fmt.Errorf("verify: ok %q must be a plain field name", v.OK)
	}
	if len(v.Body) > 4096 || !syntax.Text(v.Body) {
		return errors.New("verify: body must be at most 4096 octets of printable text")
	}
	return checkDocs("verify docs", v.Docs)
}

// checkRevocation checks the revocation endpoint, which refresh tokens reach and so is held
// to the token URL's rules.
func (p *Provider) checkRevocation() error {
	p.revocationURL = nil
	switch p.RevocationStyle {
	case "", RevokeRFC7009, RevokeBearer:
	default:
		return fmt.Errorf("revocationStyle %q must be rfc7009 or bearer", p.RevocationStyle)
	}
	if p.RevocationURL == "" {
		if p.RevocationStyle != "" || p.RevocationDocs != "" {
			return errors.New("revocationStyle and revocationDocs need a revocationURL")
		}
		return nil
	}
	if p.TokenURL == "" {
		return errors.New("revocationURL needs a tokenURL")
	}
	t, err := metadata.ParseTemplate(p.RevocationURL, p.Inputs, p.Hosts)
	if err != nil {
		return fmt.Errorf("revocationURL: %w", err)
	}
	for _, name := range t.Placeholders() {
		if in := p.input(name); in.Optional && in.Default == "" {
			return fmt.Errorf("revocationURL uses the optional input %s, which has no default", name)
		}
	}
	p.revocationURL = t
	return checkDocs("revocationDocs", p.RevocationDocs)
}

// checkDocs checks a documentation link: empty, or an https URL.
func checkDocs(field, docs string) error {
	if docs == "" {
		return nil
	}
	if u, err := url.Parse(docs); err != nil || u.Scheme != "https" || !syntax.HostName(u.Hostname()) {
		return fmt.Errorf("%s %q must be an https URL", field, docs)
	}
	return nil
}

// ErrNoAPI is returned for a provider whose catalog entry says nothing of its API.
var ErrNoAPI = errors.New("providers: the provider declares no API")

// APIBaseURL renders the API's base URL for a connection from its values: the provider's
// inputs resolved by [Provider.Resolve], and the values read from the token response. The
// error names the input at fault, never a value.
func (p *Provider) APIBaseURL(values metadata.Values) (*url.URL, error) {
	if p.API == nil {
		return nil, ErrNoAPI
	}
	a := p.API
	if from := values[a.BaseURLFrom]; a.BaseURLFrom != "" && from != "" {
		e, err := metadata.ParseEndpoint(from)
		if err != nil || !p.Hosts.Match(e.Host) {
			return nil, &metadata.ValueError{Input: a.BaseURLFrom, Err: metadata.ErrInvalidValue}
		}
		// The base URL's path is kept; a path with placeholders needs them filled.
		base := a.BaseURL
		if strings.Contains(pathOf(base), "{{") {
			var err error
			if base, err = render(a.baseURL, a.defaultBaseURL, values); err != nil {
				return nil, err
			}
		}
		host := e.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if e.Port != "" {
			host += ":" + e.Port
		}
		return url.Parse(e.Scheme + "://" + host + pathOf(base))
	}
	s, err := render(a.baseURL, a.defaultBaseURL, values)
	if err != nil {
		return nil, err
	}
	return url.Parse(s)
}

// pathOf returns the path of an absolute URL or URL template: all after its authority.
func pathOf(raw string) string {
	rest := raw[strings.Index(raw, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}

// APIHosts returns the hosts a connection's credential may be sent to: its base URL's host
// and the API's other hosts.
func (p *Provider) APIHosts(base *url.URL) []string {
	if p.API == nil {
		return nil
	}
	return append([]string{base.Hostname()}, p.API.Hosts...)
}

// Credential renders how a connection's credential of kind k is sent, from vals: the
// credential's values by placeholder name (accessToken, apiKey, username, password, custom
// fields) and the connection's inputs. A rendered value that cannot be sent (a line break in
// a header, a colon in a basic user name) is an error naming where it goes, never the value.
func (p *Provider) Credential(k AuthKind, vals func(name string) string) (*Placement, error) {
	if p.API == nil {
		return nil, ErrNoAPI
	}
	s := p.API.send(k)
	if s == nil {
		return nil, fmt.Errorf("providers: %s: the API does not say how %s is sent", p.Name, k)
	}
	pl := &Placement{Header: make(http.Header, len(s.Headers)), Fixed: make(http.Header, len(p.API.Headers))}
	for name, v := range p.API.Headers {
		if err := setHeader(pl.Fixed, name, expand(v, vals)); err != nil {
			return nil, err
		}
	}
	for name, v := range s.Headers {
		if err := setHeader(pl.Header, name, expand(v, vals)); err != nil {
			return nil, err
		}
	}
	if s.Basic != nil {
		pl.Basic, pl.User, pl.Password = true, expand(s.Basic.User, vals), expand(s.Basic.Password, vals)
		if strings.Contains(pl.User, ":") || !syntax.Text(pl.User) || !syntax.Text(pl.Password) {
			return nil, fmt.Errorf("providers: %s: the basic credentials cannot be sent: a user name with a colon or a control character", p.Name)
		}
	}
	if len(s.Query) > 0 {
		pl.Query = make(url.Values, len(s.Query))
		for name, v := range s.Query {
			pl.Query.Set(name, expand(v, vals))
		}
	}
	return pl, nil
}

// setHeader sets a rendered header, refusing a value that could split the request.
func setHeader(h http.Header, name, value string) error {
	if value == "" || !httpguts.ValidHeaderFieldValue(value) || strings.TrimSpace(value) != value {
		return fmt.Errorf("providers: header %s: the value cannot be sent in a header", name)
	}
	h.Set(name, value)
	return nil
}

// RevocationEndpoint renders the revocation URL from values resolved by [Provider.Resolve],
// or "" when the provider has none.
func (p *Provider) RevocationEndpoint(values metadata.Values) (string, error) {
	return render(p.revocationURL, nil, values)
}

// VerifyPath returns the verification request's path and query with its placeholders filled
// from values, each escaped as one path segment; the error names a value the connection lacks.
func (v *Verify) VerifyPath(values map[string]string) (path, query string, err error) {
	path, query, _ = strings.Cut(v.Path, "?")
	var missing string
	path = expand(path, func(name string) string {
		// A dot segment would lead the request off the path it was declared on.
		if v := values[name]; (v == "" || v == "." || v == "..") && missing == "" {
			missing = name
		}
		return url.PathEscape(values[name])
	})
	if missing != "" {
		return "", "", fmt.Errorf("providers: the verification request needs a value of %s, which the connection lacks", missing)
	}
	return path, query, nil
}
