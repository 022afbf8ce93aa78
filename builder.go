package connect

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

// Limits on the builder's inputs (SECURITY.md item 42).
const (
	maxScopes      = 50
	maxScopeLen    = 256
	maxExtraParams = 32
	maxExtraValue  = 1024
	maxPromptLen   = 256
	maxStateLen    = 512
	maxClientIDLen = 1024
	maxInputURLLen = 2048
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
	// collides, ignoring case, with a parameter the builder sets or AuthorizeURL carries is
	// an error, as is a malformed string.
	AdditionalParams string
	// DisableOfflineAccess stops "offline_access" from being added to the scopes.
	DisableOfflineAccess bool
	// CodeChallenge is the PKCE S256 challenge (43 characters); when set, code_challenge and
	// code_challenge_method=S256 are sent.
	CodeChallenge string
}

// AuthorizeURL builds the URL that sends a user to the provider to grant access: the
// authorization code request of RFC 6749 §4.1.1, with PKCE (RFC 7636) when a challenge is
// given. It does no I/O. Every input error is a *[ValidationError] naming the field (by its
// JSON name) and matching [ErrInvalidRequest]; a colliding additional parameter also matches
// [ErrReservedParam], a bad prompt [ErrInvalidPrompt].
//
// Each parameter the builder sets appears exactly once in the result.
func AuthorizeURL(p AuthorizeParams) (string, error) {
	return buildAuthorizeURL(&p, nil)
}

// checkedParams is what a Connector vouches for when it calls the builder: AuthorizeURL (but
// for its query) and RedirectURI already passed metadata.ParseEndpoint, as its rendered
// endpoints and configured redirect URL have; State is a state token and CodeChallenge was
// made by pkce.Challenge, so neither needs escaping. It carries the redirect URI escaped once
// for all flows.
type checkedParams struct {
	escapedRedirectURI string
	// scopes is set, per call, when every scope was checked already (the request's by
	// checkScopes, the provider's when its catalog loaded, the app's when it was stored) and
	// the list holds each scope once.
	scopes bool
}

// buildAuthorizeURL is AuthorizeURL, skipping the checks that checked, if not nil, vouches for.
func buildAuthorizeURL(p *AuthorizeParams, checked *checkedParams) (string, error) {
	base, ownQuery, err := checkAuthorizeURL(p.AuthorizeURL, checked != nil)
	if err != nil {
		return "", err
	}
	if p.ClientID == "" {
		return "", invalid("clientId", "required", nil)
	}
	if len(p.ClientID) > maxClientIDLen || !visible(p.ClientID, true) {
		return "", invalid("clientId", "must be at most 1024 printable characters", nil)
	}
	// The redirect URI and the state, escaped or still to be escaped as they are written.
	redirect, redirectLen, stateLen := p.RedirectURI, 0, len(p.State)
	if checked == nil {
		if err := checkRedirectURI(p.RedirectURI); err != nil {
			return "", err
		}
		redirectLen, stateLen = escapedLen(p.RedirectURI), escapedLen(p.State)
	} else {
		redirect = checked.escapedRedirectURI
		redirectLen = len(redirect)
	}
	if p.State == "" {
		return "", invalid("state", "required", nil)
	}
	if checked == nil && (len(p.State) > maxStateLen || !visible(p.State, true)) {
		return "", invalid("state", "must be at most 512 printable characters", nil)
	}
	sep := p.ScopeSeparator
	switch sep {
	case "":
		sep = " "
	case " ", ",", "+":
	default:
		return "", invalid("scopeSeparator", "must be a space, a comma or +", nil)
	}
	addOffline := !p.DisableOfflineAccess
	var hasOffline bool
	if checked != nil && checked.scopes {
		hasOffline = slices.Contains(p.Scopes, offlineAccess)
	} else if hasOffline, err = checkScopes(p.Scopes, sep); err != nil {
		return "", err
	}
	if hasOffline {
		addOffline = false
	}
	extraLen, hasApproval, err := checkExtraParams(p.AdditionalParams, ownQuery)
	if err != nil {
		return "", err
	}
	rawPrompt := p.Prompt
	if rawPrompt == "" && !hasApproval && !p.NoPrompt {
		rawPrompt = "login"
	}
	prompt, err := parsePrompt(rawPrompt)
	if err != nil {
		return "", err
	}
	if prompt.isNone() && (addOffline || hasOffline) {
		return "", invalid("prompt", "none cannot be used when offline_access is asked for", ErrInvalidPrompt)
	}
	if p.CodeChallenge != "" && checked == nil && !challenge(p.CodeChallenge) {
		return "", invalid("codeChallenge", "must be an S256 challenge of 43 base64url characters", nil)
	}

	// Everything is checked: write the URL.
	size := len(base) + 1 + len(ownQuery) + 1 + len("response_type=code&client_id=") +
		escapedLen(p.ClientID) + len("&redirect_uri=") + redirectLen +
		len("&scope=") + len(offlineAccess) + 3 + len("&state=") + stateLen +
		len("&prompt=") + prompt.size() + extraLen
	if p.CodeChallenge != "" {
		size += len("&code_challenge=") + len(p.CodeChallenge) + len("&code_challenge_method=S256")
	}
	for _, s := range p.Scopes {
		size += escapedLen(s) + 3
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(base)
	b.WriteByte('?')
	if ownQuery != "" {
		b.WriteString(ownQuery)
		b.WriteByte('&')
	}
	b.WriteString("response_type=code&client_id=")
	writeEscaped(&b, p.ClientID)
	b.WriteString("&redirect_uri=")
	if checked == nil {
		writeEscaped(&b, redirect)
	} else {
		b.WriteString(redirect)
	}
	escSep := escapedSeparator(sep)
	deduped := checked != nil && checked.scopes // the Connector's scopes are deduplicated
	n := 0
	for i, s := range p.Scopes {
		if !deduped && seenBefore(p.Scopes, i, s) {
			continue
		}
		if n == 0 {
			b.WriteString("&scope=")
		} else {
			b.WriteString(escSep)
		}
		writeEscaped(&b, s)
		n++
	}
	if addOffline {
		if n == 0 {
			b.WriteString("&scope=")
		} else {
			b.WriteString(escSep)
		}
		b.WriteString(offlineAccess)
	}
	b.WriteString("&state=")
	if checked == nil {
		writeEscaped(&b, p.State)
	} else {
		b.WriteString(p.State)
	}
	if prompt.n > 0 {
		b.WriteString("&prompt=")
		prompt.write(&b)
	}
	if p.CodeChallenge != "" {
		b.WriteString("&code_challenge=")
		b.WriteString(p.CodeChallenge)
		b.WriteString("&code_challenge_method=S256")
	}
	writeExtraParams(&b, p.AdditionalParams)
	if b.Len() > maxURLLen {
		return "", invalid("authorizeUrl", "the authorize URL would exceed "+strconv.Itoa(maxURLLen)+" octets", nil)
	}
	return b.String(), nil
}

// checkAuthorizeURL checks the authorize endpoint and splits off its own query, whose keys must
// be plain and none of them reserved.
func checkAuthorizeURL(raw string, checked bool) (base, query string, err error) {
	const field = "authorizeUrl"
	if raw == "" {
		return "", "", invalid(field, "required", nil)
	}
	if !checked {
		if _, perr := metadata.ParseEndpoint(raw); perr != nil {
			return "", "", invalid(field, strings.TrimPrefix(perr.Error(), "metadata: "), nil)
		}
	}
	base, query, _ = strings.Cut(raw, "?")
	for rest := query; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		key, value, _ := strings.Cut(pair, "=")
		if !plainName(key) || !validEscapes(value) {
			return "", "", invalid(field, "its query must be plain key=value pairs", nil)
		}
		if providers.Reserved(key) {
			return "", "", invalid(field, "its query may not carry "+key, ErrReservedParam)
		}
	}
	return base, query, nil
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

// checkScopes validates each scope and reports whether offline_access is among them.
func checkScopes(scopes []string, sep string) (hasOffline bool, err error) {
	if len(scopes) > maxScopes {
		return false, invalid("scopes", "at most 50 scopes", nil)
	}
	for i, s := range scopes {
		if len(s) > maxScopeLen || !providers.ScopeToken(s) || strings.Contains(s, sep) {
			return false, invalid("scopes["+strconv.Itoa(i)+"]",
				"must be one scope token (RFC 6749 §3.3) of at most 256 octets, without the separator", nil)
		}
		if s == offlineAccess {
			hasOffline = true
		}
	}
	return hasOffline, nil
}

// seenBefore reports whether v is among list[:i].
func seenBefore(list []string, i int, v string) bool {
	for _, s := range list[:i] {
		if s == v {
			return true
		}
	}
	return false
}

// maxPromptValues caps the prompt values; OpenID Connect defines four.
const maxPromptValues = 8

// prompt holds parsed prompt values, each once, in order.
type prompt struct {
	values [maxPromptValues]string
	n      int
}

// parsePrompt parses one or more prompt values joined by "+" or spaces (OpenID Connect Core
// §3.1.2.1): each a lowercase token, duplicates dropped, "none" alone.
func parsePrompt(s string) (prompt, error) {
	var p prompt
	if s == "" {
		return p, nil
	}
	if len(s) > maxPromptLen {
		return p, invalid("prompt", "at most 256 octets", ErrInvalidPrompt)
	}
	none := false
	for rest := s; ; {
		i := strings.IndexByte(rest, '+')
		if j := strings.IndexByte(rest, ' '); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		v := rest
		if i >= 0 {
			v = rest[:i]
		}
		if !promptToken(v) {
			return p, invalid("prompt", "values must be lowercase tokens (a-z, 0-9, _) joined by + or a space", ErrInvalidPrompt)
		}
		if !seenBefore(p.values[:], p.n, v) {
			if p.n == maxPromptValues {
				return p, invalid("prompt", "at most 8 values", ErrInvalidPrompt)
			}
			p.values[p.n] = v
			p.n++
		}
		none = none || v == "none"
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if none && p.n > 1 {
		return p, invalid("prompt", "none cannot be combined with another value", ErrInvalidPrompt)
	}
	return p, nil
}

func (p *prompt) isNone() bool { return p.n == 1 && p.values[0] == "none" }

// size is the room the prompt needs in the URL.
func (p *prompt) size() int {
	n := 0
	for _, v := range p.values[:p.n] {
		n += len(v) + 1
	}
	return n
}

// write writes the values space-separated, which the query form writes as "+" (never %2B).
func (p *prompt) write(b *strings.Builder) {
	for i, v := range p.values[:p.n] {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(v)
	}
}

func promptToken(v string) bool {
	if v == "" || len(v) > 64 || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	for i := 1; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkExtraParams parses additionalParams strictly: key=value pairs joined by "&", keys plain
// and unique (ignoring case), none reserved or already in the authorize URL's query, values
// validly escaped, valid UTF-8 without control characters, at most 1024 octets. It returns
// the room the pairs need once re-escaped and whether approval_prompt is among them.
func checkExtraParams(s, ownQuery string) (size int, hasApproval bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	if len(s) > maxExtraParams*(64+3*maxExtraValue+2) {
		return 0, false, invalid("additionalParams", "too long", nil)
	}
	count := 0
	for rest := s; ; {
		pair, next, more := strings.Cut(rest, "&")
		key, value, hasEq := strings.Cut(pair, "=")
		if count++; count > maxExtraParams {
			return 0, false, invalid("additionalParams", "at most 32 parameters", nil)
		}
		if !hasEq || !plainName(key) {
			if normalized := normalizeKey(key); providers.Reserved(normalized) {
				return 0, false, invalid("additionalParams."+normalized, "is set by connect and may not be given", ErrReservedParam)
			}
			return 0, false, invalid("additionalParams", "must be key=value pairs joined by &, keys of letters, digits and - . _ ~", nil)
		}
		if providers.Reserved(key) {
			return 0, false, invalid("additionalParams."+key, "is set by connect and may not be given", ErrReservedParam)
		}
		if queryHasKey(ownQuery, key) {
			return 0, false, invalid("additionalParams."+key, "is already set by the authorize URL", ErrReservedParam)
		}
		if queryHasKey(s[:len(s)-len(rest)], key) {
			return 0, false, invalid("additionalParams."+key, "is given twice", nil)
		}
		if strings.EqualFold(key, approvalPrompt) {
			hasApproval = true
		}
		var buf [maxExtraValue]byte
		n, ok := unescapeInto(buf[:], value)
		if !ok || !queryChars(value) {
			return 0, false, invalid("additionalParams."+key, "value must be validly escaped (no raw ; # space or quotes) and at most 1024 octets", nil)
		}
		if !utf8.Valid(buf[:n]) || !visibleBytes(buf[:n]) {
			return 0, false, invalid("additionalParams."+key, "value must be UTF-8 text without control characters", nil)
		}
		size += len(key) + 2 + 3*n
		if !more {
			break
		}
		if next == "" {
			return 0, false, invalid("additionalParams", "must not end with &", nil)
		}
		rest = next
	}
	return size, hasApproval, nil
}

// normalizeKey decodes a malformed key and drops what a hostile key may hide a reserved name
// behind (white space and control characters), for the error message only.
func normalizeKey(key string) string {
	var buf [64]byte
	raw := []byte(key)
	if len(key) <= len(buf) {
		if n, ok := unescapeInto(buf[:], key); ok {
			raw = buf[:n]
		}
	}
	out := make([]byte, 0, len(raw))
	for _, c := range raw {
		switch {
		case c <= ' ' || c == 0x7f:
		case 'A' <= c && c <= 'Z':
			out = append(out, c+('a'-'A'))
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// queryHasKey reports whether the raw query q has key, ignoring case.
func queryHasKey(q, key string) bool {
	for rest := q; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		k, _, _ := strings.Cut(pair, "=")
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// writeExtraParams writes the checked pairs of s, each value decoded and escaped again, so
// that nothing in a value can end the pair or the URL.
func writeExtraParams(b *strings.Builder, s string) {
	for rest := s; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		key, value, _ := strings.Cut(pair, "=")
		b.WriteByte('&')
		b.WriteString(key)
		b.WriteByte('=')
		var buf [maxExtraValue]byte
		n, _ := unescapeInto(buf[:], value)
		writeEscapedBytes(b, buf[:n])
	}
}

// unescapeInto decodes a query value ("+" is a space) into dst and reports false when the
// escapes are malformed or the value does not fit.
func unescapeInto(dst []byte, s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if n == len(dst) {
			return 0, false
		}
		c := s[i]
		switch c {
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return 0, false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case '+':
			c = ' '
		}
		dst[n] = c
		n++
	}
	return n, true
}

// queryChars reports whether s has only the characters a query value may carry unescaped
// (RFC 3986 §3.4, without the ";" that some servers split on) besides "%" escapes and "+".
func queryChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreservedByte(c) {
			continue
		}
		switch c {
		case '%', '+', '!', '$', '\'', '(', ')', '*', ',', ':', '@', '/', '?', '=':
			continue
		}
		return false
	}
	return true
}

func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// plainName reports whether s is 1 to 64 of A-Z a-z 0-9 - . _ ~.
func plainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !unreservedByte(s[i]) {
			return false
		}
	}
	return true
}

// unreservedTable holds, at the index of each byte, 1 for the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~) and 0 for every other byte: a constant, one load a byte, a third
// faster than bit sets where it matters (every value the builder escapes is scanned twice).
const unreservedTable = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x01" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x01\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func unreservedByte(c byte) bool { return unreservedTable[c] == 1 }

// visible reports whether s is printable ASCII (spaces allowed when space is true).
func visible(s string, space bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			if c == ' ' && space {
				continue
			}
			return false
		}
	}
	return true
}

// visibleBytes reports whether b, already valid UTF-8, has no control characters.
func visibleBytes(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	// C1 controls are encoded as 0xC2 0x80-0x9F.
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0xc2 && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
			return false
		}
	}
	return true
}

// challenge reports whether s looks like an S256 challenge: 43 base64url characters.
func challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

const upperhex = "0123456789ABCDEF"

// escapedSeparator returns a scope separator (a space, a comma or +) escaped as a query
// component.
func escapedSeparator(sep string) string {
	switch sep {
	case " ":
		return "+"
	case ",":
		return "%2C"
	}
	return "%2B"
}

// escapedLen returns the length of s escaped as a query component.
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreservedByte(c) && c != ' ' {
			n += 2
		}
	}
	return n
}

// writeEscaped writes s escaped as a query component, as url.QueryEscape does.
func writeEscaped(b *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreservedByte(c) {
			continue
		}
		b.WriteString(s[start:i])
		if c == ' ' {
			b.WriteByte('+')
		} else {
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
}

func writeEscapedBytes(b *strings.Builder, s []byte) {
	for _, c := range s {
		switch {
		case unreservedByte(c):
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
	}
}
