package metadata

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"strings"
)

// Values maps input names to values, as a request gives them or as a provider's Resolve returns
// them in canonical form.
type Values map[string]string

// ValueError reports a value that failed its input's rule. It names the input, never the
// value.
type ValueError struct {
	Input string // the input's name
	Err   error  // ErrMissing or an error matching ErrInvalidValue
}

func (e *ValueError) Error() string { return "metadata: " + e.Input + ": " + trimPrefix(e.Err.Error()) }

// Unwrap returns the cause.
func (e *ValueError) Unwrap() error { return e.Err }

func trimPrefix(s string) string { return strings.TrimPrefix(s, "metadata: ") }

// Template is a provider URL with {{name}} placeholders, such as
// https://{{workspace}}.zendesk.com/oauth/authorizations/new. Make one with [ParseTemplate].
type Template struct {
	raw    string
	parts  []part
	names  []string
	scheme string
	port   string
	query  string
	hosts  Hosts
	// slashes counts the "/" of the path: a value can never add one.
	slashes int
}

type part struct {
	lit   string
	input *Input // nil for a literal
}

// ParseTemplate parses a URL template whose placeholders name inputs. It fails unless every
// placeholder is a declared input of a kind that may stand in a URL, placeholders stand only in
// the host or the path, the URL is absolute https (http only on a loopback address), and it
// has no user info or fragment. Every host the template can render must match hosts, which
// may be nil when the template's host has no placeholder: its own host is then the only one
// allowed.
func ParseTemplate(s string, inputs []Input, hosts Hosts) (*Template, error) {
	t := &Template{raw: s}
	// The template keeps compiled copies of its inputs, so that it never depends on the
	// caller having called Compile (an uncompiled input would skip its pattern).
	compiled := map[string]*Input{}
	rest := s
	for rest != "" {
		i := strings.Index(rest, "{{")
		if j := strings.Index(rest, "}}"); j >= 0 && (i < 0 || j < i) {
			return nil, fmt.Errorf("metadata: template %q: unmatched }}", s)
		}
		if i < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("metadata: template %q: unmatched {{", s)
		}
		name := rest[:j]
		rest = rest[j+2:]
		in := compiled[name]
		if in == nil {
			decl := findInput(inputs, name)
			if decl == nil {
				return nil, fmt.Errorf("metadata: template %q: placeholder {{%s}} is not a declared input", s, name)
			}
			c := *decl
			if err := c.Compile(); err != nil {
				return nil, err
			}
			in = &c
			compiled[name] = in
		}
		if !in.InURL() {
			return nil, fmt.Errorf("metadata: template %q: input %s of kind %s may not stand in a URL", s, name, in.Kind)
		}
		t.parts = append(t.parts, part{input: in})
		t.names = append(t.names, name)
	}

	// Render with each input's sample to learn the URL's shape.
	sample := make(Values, len(t.names))
	for _, p := range t.parts {
		if p.input != nil {
			sample[p.input.Name] = p.input.sample()
		}
	}
	rendered := t.join(sample)
	u, err := url.Parse(rendered)
	if err != nil {
		return nil, fmt.Errorf("metadata: template %q does not parse: %w", s, err)
	}
	if err := CheckURL(u); err != nil {
		return nil, fmt.Errorf("metadata: template %q: %w", s, err)
	}
	if _, err := ParseEndpoint(rendered); err != nil {
		return nil, fmt.Errorf("metadata: template %q: %w", s, err)
	}
	t.slashes = strings.Count(u.EscapedPath(), "/")
	if u.RawQuery != "" && strings.Contains(u.RawQuery, "{{") {
		return nil, fmt.Errorf("metadata: template %q: placeholders may not stand in the query", s)
	}
	if dotSegment(u.Path) {
		return nil, fmt.Errorf("metadata: template %q: path has a . or .. segment", s)
	}
	t.scheme, t.port, t.query = u.Scheme, u.Port(), u.RawQuery

	// Placeholders may stand in the host or the path only.
	authority := strings.Index(s, "://") + 3
	pathStart := authority + strings.IndexAny(s[authority:], "/?")
	if pathStart < authority {
		pathStart = len(s)
	}
	queryStart := strings.IndexByte(s, '?')
	if queryStart < 0 {
		queryStart = len(s)
	}
	hostHasPlaceholder := false
	off := 0
	for _, p := range t.parts {
		if p.input == nil {
			off += len(p.lit)
			continue
		}
		switch {
		case off < authority:
			return nil, fmt.Errorf("metadata: template %q: placeholders may stand only in the host or the path", s)
		case off >= queryStart:
			return nil, fmt.Errorf("metadata: template %q: placeholders may not stand in the query", s)
		case off < pathStart:
			hostHasPlaceholder = true
			if err := p.input.fitsHost(); err != nil {
				return nil, fmt.Errorf("metadata: template %q: %w", s, err)
			}
		default:
			if err := p.input.fitsPath(); err != nil {
				return nil, fmt.Errorf("metadata: template %q: %w", s, err)
			}
		}
		off += 4 + len(p.input.Name)
	}

	if len(hosts) == 0 {
		if hostHasPlaceholder {
			return nil, fmt.Errorf("metadata: template %q has a placeholder in its host but no allowed hosts", s)
		}
		hosts = Hosts{u.Hostname()}
	}
	if err := hosts.Check(); err != nil {
		return nil, err
	}
	if !hosts.Match(u.Hostname()) {
		return nil, fmt.Errorf("metadata: template %q: host %s is not among the allowed hosts", s, u.Hostname())
	}
	t.hosts = hosts
	// Every value of an enum input is known: each must render to an allowed host.
	for _, p := range t.parts {
		if p.input == nil || p.input.Kind != Enum {
			continue
		}
		for _, v := range p.input.Values {
			values := make(Values, len(sample))
			maps.Copy(values, sample)
			values[p.input.Name] = v
			if _, err := t.Render(values); err != nil {
				return nil, fmt.Errorf("metadata: template %q: enum value %q of input %s: %w", s, v, p.input.Name, err)
			}
		}
	}
	return t, nil
}

func findInput(inputs []Input, name string) *Input {
	for i := range inputs {
		if inputs[i].Name == name {
			return &inputs[i]
		}
	}
	return nil
}

// sample returns a value that passes the input's rule, for checking a template's shape.
func (in *Input) sample() string {
	if in.Kind == Enum {
		return in.Values[0]
	}
	if in.Default != "" {
		return in.Default
	}
	return "sample0"
}

// fitsHost reports whether every value of the input is a host name or part of one.
func (in *Input) fitsHost() error {
	switch in.Kind {
	case "", DNSLabel, Hostname:
		return nil
	case Enum:
		for _, v := range in.Values {
			if !hostname(v) {
				return fmt.Errorf("input %s: enum value %q may not stand in a host", in.Name, v)
			}
		}
		return nil
	}
	return fmt.Errorf("input %s of kind %s may not stand in a host", in.Name, in.Kind)
}

// fitsPath reports whether every value of the input stays within one path segment.
func (in *Input) fitsPath() error {
	if in.Kind == Enum {
		for _, v := range in.Values {
			if !unreserved(v) || v == "." || v == ".." {
				return fmt.Errorf("input %s: enum value %q may not stand in a path", in.Name, v)
			}
		}
	}
	return nil
}

// dotSegment reports whether path has a "." or ".." segment, which a server would resolve
// against its neighbours.
func dotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// String returns the template as written.
func (t *Template) String() string { return t.raw }

// Placeholders returns the names of the template's placeholders in order of appearance.
func (t *Template) Placeholders() []string { return append([]string(nil), t.names...) }

// Hosts returns the hosts the template may render.
func (t *Template) Hosts() Hosts { return t.hosts }

// Render fills the placeholders with values. Each value is first checked against its input's
// rule and put in canonical form (an absent optional value takes its default); the rendered
// URL is then parsed again and must keep the template's scheme, port and query, have no user
// info or fragment, and its host must fully match one of the allowed hosts. An error is a
// *[ValueError] naming the input at fault, or an error matching [ErrInvalidValue].
func (t *Template) Render(values Values) (string, error) {
	if len(t.names) == 0 {
		return t.raw, nil
	}
	var b strings.Builder
	b.Grow(len(t.raw) + 32*len(t.names))
	for _, p := range t.parts {
		if p.input == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := p.input.resolve(values[p.input.Name])
		if err != nil {
			return "", &ValueError{Input: p.input.Name, Err: err}
		}
		b.WriteString(v)
	}
	s := b.String()
	e, err := ParseEndpoint(s)
	if err != nil {
		return "", fmt.Errorf("%w: rendered URL: %v", ErrInvalidValue, trimPrefix(err.Error()))
	}
	if e.Scheme != t.scheme || e.Port != t.port || e.Query != t.query || strings.Count(e.Path, "/") != t.slashes {
		return "", fmt.Errorf("%w: rendered URL changed shape", ErrInvalidValue)
	}
	if !t.hosts.Match(e.Host) {
		return "", fmt.Errorf("%w: the rendered host is not among the provider's allowed hosts", ErrInvalidValue)
	}
	return s, nil
}

// ErrNoMatch is matched by the error of [Template.Match] for a URL the template cannot render.
var ErrNoMatch = errors.New("metadata: the URL is not one the template renders")

// Match is Render in reverse: it reads the values of the placeholders from rawURL, a URL the
// template rendered, checks each against its input's rule, and returns them when rendering
// them gives rawURL back, byte for byte. A value that fails its rule is a *[ValueError]
// naming the input; any other mismatch matches [ErrNoMatch]. The URL is never in the error.
func (t *Template) Match(rawURL string) (Values, error) {
	if len(rawURL) > MaxEndpointLen {
		return nil, ErrNoMatch
	}
	values := make(Values, len(t.names))
	rest := rawURL
	for i, p := range t.parts {
		if p.input == nil {
			var ok bool
			if rest, ok = strings.CutPrefix(rest, p.lit); !ok {
				return nil, ErrNoMatch
			}
			continue
		}
		// A placeholder runs up to the first occurrence of the literal after it: no input of
		// a URL holds that literal's first character where it stands (a DNS label has no dot,
		// a path segment no slash), so the first occurrence is the only one that can match.
		end := len(rest)
		if i+1 < len(t.parts) {
			next := t.parts[i+1]
			if next.input != nil {
				return nil, ErrNoMatch // two placeholders side by side cannot be told apart
			}
			if end = strings.Index(rest, next.lit); end < 0 {
				return nil, ErrNoMatch
			}
		}
		v := rest[:end]
		rest = rest[end:]
		if prev, seen := values[p.input.Name]; seen && prev != v {
			return nil, ErrNoMatch
		}
		c, err := p.input.Normalize(v)
		if err != nil {
			return nil, &ValueError{Input: p.input.Name, Err: err}
		}
		values[p.input.Name] = c
	}
	if rest != "" {
		return nil, ErrNoMatch
	}
	if r, err := t.Render(values); err != nil || r != rawURL {
		if err != nil {
			return nil, err
		}
		return nil, ErrNoMatch
	}
	return values, nil
}

// resolve applies an absent optional value's default, then the input's rule.
func (in *Input) resolve(v string) (string, error) {
	if v == "" && in.Optional {
		if in.Default == "" {
			return "", ErrMissing
		}
		v = in.Default
	}
	return in.Normalize(v)
}

func (t *Template) join(values Values) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.input == nil {
			b.WriteString(p.lit)
		} else {
			b.WriteString(values[p.input.Name])
		}
	}
	return b.String()
}

// CheckURL checks an endpoint URL: absolute, https (plain http only on a loopback address
// such as 127.0.0.1 or [::1]), a host, no user info and no fragment.
func CheckURL(u *url.URL) error {
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("metadata: URL must be absolute https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return errors.New("metadata: URL must have a host")
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return errors.New("metadata: URL must be https (plain http only on loopback)")
	case u.User != nil:
		return errors.New("metadata: URL must not carry user info")
	case u.Fragment != "":
		return errors.New("metadata: URL must not carry a fragment")
	}
	return nil
}

// IsLoopback reports whether host is a loopback IP address (127.0.0.0/8 or ::1).
func IsLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
