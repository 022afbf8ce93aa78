package connect

import (
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/connectkit/connect/internal/syntax"
	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// Limits on the builder's inputs (docs/security.md, N1).
const (
	maxScopes      = 50
	maxScopeLen    = 256
	maxExtraParams = 32
	maxExtraValue  = 1024
	maxPromptLen   = 256
	maxStateLen    = 512
	maxClientIDLen = 1024
	maxURLLen      = 8000 // RFC 9110 §4.1: recipients should support 8000-octet URIs
	offlineAccess  = "offline_access"
	approvalPrompt = "approval_prompt"
)

// AuthorizeParams are the inputs of [AuthorizeURL], with the semantics of Versori's
// oauth2/initialise request.
type AuthorizeParams struct {
	// AuthorizeURL is the provider's authorize endpoint: absolute https (plain http only on a
	// loopback address), no user info, no fragment. Its own query is kept, and its keys may
	// not be given again in AdditionalParams.
	AuthorizeURL string
	// ClientID is the OAuth client id.
	ClientID string
	// RedirectURI is the callback URL registered with the provider: absolute https (plain
	// http only on a loopback address), no fragment.
	RedirectURI string
	// State is the opaque state value (see the state package for minting one).
	State string
	// Scopes are the scopes asked for, each an RFC 6749 §3.3 token; duplicates are dropped,
	// order is kept.
	Scopes []string
	// ScopeSeparator joins scopes: "" means a space; "," and "+" are also accepted.
	ScopeSeparator string
	// Prompt is one or more prompt values joined by "+" or spaces, such as
	// "consent+select_account", sent space-separated. "" means "login", unless
	// AdditionalParams has approval_prompt or NoPrompt is set; then no prompt is sent.
	// "none" with another value is an error.
	Prompt string
	// NoPrompt sends no prompt when Prompt is empty, for providers that reject one.
	NoPrompt bool
	// AdditionalParams is a URL-encoded query (a=1&b=2) appended to the URL. A key that
	// collides with a parameter the builder sets or AuthorizeURL carries is an error, as is a
	// malformed string. Keys collide when a lenient server reads them as one parameter (see
	// [providers.NormalizeParam]): "redirect.uri" collides with redirect_uri.
	AdditionalParams string
	// DisableOfflineAccess stops "offline_access" from being added to the scopes.
	DisableOfflineAccess bool
	// CodeChallenge is the PKCE S256 challenge (43 characters); when set, code_challenge and
	// code_challenge_method=S256 are sent.
	CodeChallenge string
	// ClientIDParam names the parameter the client id is sent under when it is not client_id,
	// e.g. TikTok's client_key; neither the authorize URL nor AdditionalParams may set it.
	ClientIDParam string
}

// AuthorizeURL builds the URL that sends a user to the provider to grant access: the
// authorization code request of RFC 6749 §4.1.1, with PKCE (RFC 7636) when a challenge is
// given. It does no I/O. Every input error is a *[ValidationError] naming the field (by its
// JSON name) and matching [ErrInvalidRequest]; a colliding additional parameter also matches
// [ErrReservedParam], a bad prompt [ErrInvalidPrompt].
//
// Each parameter the builder sets appears exactly once in the result, under every spelling a
// lenient server may read it by.
func AuthorizeURL(p AuthorizeParams) (string, error) {
	q, err := checkParams(&p)
	if err != nil {
		return "", err
	}
	u := q.write(&p)
	if len(u) > maxURLLen {
		return "", invalid("authorizeUrl", "the authorize URL would exceed "+strconv.Itoa(maxURLLen)+" octets", nil)
	}
	return u, nil
}

// checkedQuery is what checking AuthorizeParams yields for writing the URL.
type checkedQuery struct {
	base, ownQuery string // the authorize endpoint and its own query
	clientIDParam  string // client_id, or the provider's name for it
	sep            string
	addOffline     bool // offline_access is added to the scopes
	prompt         []string
	extra          []extraParam
}

// extraParam is a checked pair of additionalParams, its value escaped again.
type extraParam struct{ key, value string }

// checkParams checks every field of p.
func checkParams(p *AuthorizeParams) (checkedQuery, error) {
	var q checkedQuery
	base, ownQuery, ownNames, err := checkAuthorizeURL(p.AuthorizeURL)
	if err != nil {
		return q, err
	}
	q.base, q.ownQuery = base, ownQuery
	if err := checkClientID(p.ClientID); err != nil {
		return q, err
	}
	q.clientIDParam = "client_id"
	if p.ClientIDParam != "" {
		if !syntax.ParamName(p.ClientIDParam) || providers.Reserved(p.ClientIDParam) {
			return q, invalid("clientIdParam", "must be a plain parameter name the builder does not set", nil)
		}
		name := providers.NormalizeParam(p.ClientIDParam)
		if slices.Contains(ownNames, name) {
			return q, invalid("authorizeUrl", "its query may not carry "+p.ClientIDParam, ErrReservedParam)
		}
		q.clientIDParam, ownNames = p.ClientIDParam, append(ownNames, name)
	}
	if err := checkRedirectURI(p.RedirectURI); err != nil {
		return q, err
	}
	if err := checkState(p.State); err != nil {
		return q, err
	}
	switch q.sep = p.ScopeSeparator; q.sep {
	case "":
		q.sep = " "
	case " ", ",", "+":
	default:
		return q, invalid("scopeSeparator", "must be a space, a comma or +", nil)
	}
	hasOffline, err := checkScopes(p.Scopes, q.sep)
	if err != nil {
		return q, err
	}
	q.addOffline = !p.DisableOfflineAccess && !hasOffline
	extra, hasApproval, err := parseExtraParams(p.AdditionalParams, ownNames)
	if err != nil {
		return q, err
	}
	q.extra = extra
	rawPrompt := p.Prompt
	if rawPrompt == "" && !hasApproval && !p.NoPrompt {
		rawPrompt = "login"
	}
	if q.prompt, err = parsePrompt(rawPrompt); err != nil {
		return q, err
	}
	if slices.Equal(q.prompt, []string{"none"}) && (q.addOffline || hasOffline) {
		return q, invalid("prompt", "none cannot be used when offline_access is asked for", ErrInvalidPrompt)
	}
	if p.CodeChallenge != "" && (len(p.CodeChallenge) != 43 || !syntax.Base64URL(p.CodeChallenge)) {
		return q, invalid("codeChallenge", "must be an S256 challenge of 43 base64url characters", nil)
	}
	return q, nil
}

// write writes the URL of the checked p: the endpoint and its own query, the parameters the
// builder sets, then the additional ones.
func (q *checkedQuery) write(p *AuthorizeParams) string {
	clientID, redirect, state := url.QueryEscape(p.ClientID), url.QueryEscape(p.RedirectURI), url.QueryEscape(p.State)
	sep := url.QueryEscape(q.sep)
	// Space-separated values, which the query form writes as "+" (never %2B); the values
	// themselves need no escaping.
	prompt := strings.Join(q.prompt, "+")
	scopes := uniqueScopes(p.Scopes, q.addOffline)
	// The exact size unless a scope needs escaping.
	size := len(q.base) + 1 + len(q.ownQuery) + 1 + len("response_type=code&=") + len(q.clientIDParam) + len(clientID) +
		len("&redirect_uri=") + len(redirect) + len("&scope=") + len("&state=") + len(state) +
		len("&prompt=") + len(prompt) +
		len("&code_challenge=") + len(p.CodeChallenge) + len("&code_challenge_method=S256")
	for s := range scopes {
		size += len(s) + len(sep)
	}
	for _, e := range q.extra {
		size += 2 + len(e.key) + len(e.value)
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(q.base)
	b.WriteByte('?')
	if q.ownQuery != "" {
		b.WriteString(q.ownQuery)
		b.WriteByte('&')
	}
	b.WriteString("response_type=code&")
	b.WriteString(q.clientIDParam)
	b.WriteByte('=')
	b.WriteString(clientID)
	b.WriteString("&redirect_uri=")
	b.WriteString(redirect)
	next := "&scope="
	for s := range scopes {
		b.WriteString(next)
		b.WriteString(url.QueryEscape(s))
		next = sep
	}
	b.WriteString("&state=")
	b.WriteString(state)
	if prompt != "" {
		b.WriteString("&prompt=")
		b.WriteString(prompt)
	}
	if p.CodeChallenge != "" {
		b.WriteString("&code_challenge=")
		b.WriteString(p.CodeChallenge)
		b.WriteString("&code_challenge_method=S256")
	}
	for _, e := range q.extra {
		b.WriteByte('&')
		b.WriteString(e.key)
		b.WriteByte('=')
		b.WriteString(e.value)
	}
	return b.String()
}

// checkAuthorizeURL checks the authorize endpoint and splits off its own query, whose keys must
// be plain, none of them reserved or given twice. It returns the names lenient servers read
// the keys as.
func checkAuthorizeURL(raw string) (base, query string, names []string, err error) {
	const field = "authorizeUrl"
	if raw == "" {
		return "", "", nil, invalid(field, "required", nil)
	}
	if _, perr := metadata.ParseEndpoint(raw); perr != nil {
		return "", "", nil, invalid(field, strings.TrimPrefix(perr.Error(), "metadata: "), nil)
	}
	base, query, _ = strings.Cut(raw, "?")
	if query == "" {
		return base, "", nil, nil
	}
	for pair := range strings.SplitSeq(query, "&") {
		key, value, _ := strings.Cut(pair, "=")
		if !syntax.ParamName(key) || !syntax.ValidEscapes(value) {
			return "", "", nil, invalid(field, "its query must be plain key=value pairs", nil)
		}
		if providers.Reserved(key) {
			return "", "", nil, invalid(field, "its query may not carry "+key, ErrReservedParam)
		}
		name := providers.NormalizeParam(key)
		if slices.Contains(names, name) {
			return "", "", nil, invalid(field, "its query carries "+key+" twice", nil)
		}
		names = append(names, name)
	}
	return base, query, names, nil
}

func checkRedirectURI(raw string) error {
	const field = "redirectUri"
	if raw == "" {
		return invalid(field, "required", nil)
	}
	if _, err := metadata.ParseEndpoint(raw); err != nil {
		return invalid(field, strings.TrimPrefix(err.Error(), "metadata: "), nil)
	}
	return nil
}

func checkClientID(id string) error {
	if id == "" {
		return invalid("clientId", "required", nil)
	}
	if len(id) > maxClientIDLen || !syntax.Visible(id, true) {
		return invalid("clientId", "must be at most 1024 printable characters", nil)
	}
	return nil
}

func checkState(s string) error {
	if s == "" {
		return invalid("state", "required", nil)
	}
	if len(s) > maxStateLen || !syntax.Visible(s, true) {
		return invalid("state", "must be at most 512 printable characters", nil)
	}
	return nil
}

// checkScopes validates each scope and reports whether offline_access is among them.
func checkScopes(scopes []string, sep string) (hasOffline bool, err error) {
	if len(scopes) > maxScopes {
		return false, invalid("scopes", "at most 50 scopes", nil)
	}
	for i, s := range scopes {
		if len(s) > maxScopeLen || !syntax.ScopeToken(s) || strings.Contains(s, sep) {
			return false, invalid("scopes["+strconv.Itoa(i)+"]",
				"must be one scope token (RFC 6749 §3.3) of at most 256 octets, without the separator", nil)
		}
		if s == offlineAccess {
			hasOffline = true
		}
	}
	return hasOffline, nil
}

// uniqueScopes yields each of scopes once, in order, then offline_access when offline is set
// and it is not among them.
func uniqueScopes(scopes []string, offline bool) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i, s := range scopes {
			if !slices.Contains(scopes[:i], s) && !yield(s) {
				return
			}
		}
		if offline && !slices.Contains(scopes, offlineAccess) {
			yield(offlineAccess)
		}
	}
}

// maxPromptValues caps the prompt values; OpenID Connect defines four.
const maxPromptValues = 8

// parsePrompt parses one or more prompt values joined by "+" or spaces (OpenID Connect Core
// §3.1.2.1): each a lowercase token, "none" alone. It returns them each once, in order.
func parsePrompt(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxPromptLen {
		return nil, invalid("prompt", "at most 256 octets", ErrInvalidPrompt)
	}
	var values []string
	for v := range strings.SplitSeq(strings.ReplaceAll(s, "+", " "), " ") {
		if !syntax.PromptValue(v) {
			return nil, invalid("prompt", "values must be lowercase tokens (a-z, 0-9, _) joined by + or a space", ErrInvalidPrompt)
		}
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	switch {
	case len(values) > maxPromptValues:
		return nil, invalid("prompt", "at most 8 values", ErrInvalidPrompt)
	case len(values) > 1 && slices.Contains(values, "none"):
		return nil, invalid("prompt", "none cannot be combined with another value", ErrInvalidPrompt)
	}
	return values, nil
}

// parseExtraParams parses additionalParams strictly: key=value pairs joined by "&", keys
// plain, values validly escaped (no raw ";", "#", space or quote), valid UTF-8 without control
// characters once decoded, at most 1024 octets. No key may be read by a lenient server (see
// [providers.NormalizeParam]) as a reserved parameter, as one of ownNames (the authorize URL's
// own), or as another key of s. It returns the pairs, each value escaped again, and whether
// approval_prompt is among them.
func parseExtraParams(s string, ownNames []string) (params []extraParam, hasApproval bool, err error) {
	const field = "additionalParams"
	if s == "" {
		return nil, false, nil
	}
	if len(s) > maxExtraParams*(64+3*maxExtraValue+2) {
		return nil, false, invalid(field, "too long", nil)
	}
	pairs := strings.Split(s, "&")
	if len(pairs) > maxExtraParams {
		return nil, false, invalid(field, "at most 32 parameters", nil)
	}
	params = make([]extraParam, 0, len(pairs))
	names := make([]string, 0, len(pairs))
	for _, pair := range pairs {
		key, value, hasEq := strings.Cut(pair, "=")
		name, err := extraKey(key)
		if err != nil {
			return nil, false, err
		}
		if !hasEq {
			return nil, false, invalid(field, "must be key=value pairs joined by &, keys of letters, digits and - . _ ~", nil)
		}
		switch {
		case slices.Contains(ownNames, name):
			return nil, false, invalid(field+"."+key, "is already set by the authorize URL", ErrReservedParam)
		case slices.Contains(names, name):
			return nil, false, invalid(field+"."+key, "is given twice", nil)
		}
		names = append(names, name)
		hasApproval = hasApproval || name == approvalPrompt
		if !syntax.QueryChars(value) {
			return nil, false, invalid(field+"."+key, "value must be validly escaped (no raw ; # space or quotes)", nil)
		}
		decoded, err := url.QueryUnescape(value)
		if err != nil || len(decoded) > maxExtraValue {
			return nil, false, invalid(field+"."+key, "value must be at most 1024 octets once decoded", nil)
		}
		if !syntax.Text(decoded) {
			return nil, false, invalid(field+"."+key, "value must be UTF-8 text without control characters", nil)
		}
		params = append(params, extraParam{key: key, value: url.QueryEscape(decoded)})
	}
	return params, hasApproval, nil
}

// extraKey checks a key of additionalParams and returns the name a lenient server reads it
// as. A key read as a reserved parameter is refused first, under whatever spelling, so that
// the error says why.
func extraKey(key string) (name string, err error) {
	const field = "additionalParams"
	decoded, derr := url.QueryUnescape(key)
	if derr != nil {
		decoded = key
	}
	name = providers.NormalizeParam(decoded)
	if providers.Reserved(name) {
		if !syntax.ParamName(key) {
			// The field names the parameter the key is read as: the key itself may hold
			// anything.
			return "", invalid(field+"."+name, "is read as "+name+", which connect sets", ErrReservedParam)
		}
		if name != strings.ToLower(key) {
			return "", invalid(field+"."+key, "is read as "+name+" by servers that rewrite parameter names, and connect sets "+name, ErrReservedParam)
		}
		return "", invalid(field+"."+key, "is set by connect and may not be given", ErrReservedParam)
	}
	if !syntax.ParamName(key) {
		return "", invalid(field, "must be key=value pairs joined by &, keys of letters, digits and - . _ ~", nil)
	}
	return name, nil
}
