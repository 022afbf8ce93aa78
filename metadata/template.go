package metadata

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/connectkit/connect/internal/syntax"
)

// Values maps input names to values, as a request gives them or as a provider's Resolve returns
// them in canonical form.
type Values map[string]string

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
	if err := t.parsePlaceholders(inputs); err != nil {
		return nil, err
	}
	sample := t.sampleValues()
	host, err := t.checkShape(sample)
	if err != nil {
		return nil, err
	}
	hostHasPlaceholder, err := t.checkPlacement()
	if err != nil {
		return nil, err
	}
	if err := t.setHosts(hosts, host, hostHasPlaceholder); err != nil {
		return nil, err
	}
	if err := t.checkEnums(sample); err != nil {
		return nil, err
	}
	return t, nil
}

// Segment is a piece of a text with placeholders: a literal, or the name of a placeholder.
type Segment struct {
	Lit  string // the literal text, when Name is ""
	Name string // the placeholder's name, written {{Name}}
}

// Split cuts s into literals and {{name}} placeholders: the one syntax of every template,
// of URLs here and of the header values of a provider's API. An unmatched {{ or }} is an
// error; the names are returned as written, for the caller to check.
func Split(s string) ([]Segment, error) {
	var segs []Segment
	for rest := s; rest != ""; {
		i := strings.Index(rest, "{{")
		if j := strings.Index(rest, "}}"); j >= 0 && (i < 0 || j < i) {
			return nil, errors.New("metadata: unmatched }}")
		}
		if i < 0 {
			segs = append(segs, Segment{Lit: rest})
			break
		}
		if i > 0 {
			segs = append(segs, Segment{Lit: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, errors.New("metadata: unmatched {{")
		}
		segs = append(segs, Segment{Name: rest[:j]})
		rest = rest[j+2:]
	}
	return segs, nil
}

// parsePlaceholders splits the template into literals and placeholders, each of a declared
// input that may stand in a URL.
func (t *Template) parsePlaceholders(inputs []Input) error {
	s := t.raw
	segs, err := Split(s)
	if err != nil {
		return fmt.Errorf("metadata: template %q: %s", s, trimPrefix(err.Error()))
	}
	// The template keeps compiled copies of its inputs, so that it never depends on the
	// caller having called Compile (an uncompiled input would skip its pattern).
	compiled := map[string]*Input{}
	for _, seg := range segs {
		if seg.Name == "" {
			t.parts = append(t.parts, part{lit: seg.Lit})
			continue
		}
		name := seg.Name
		in := compiled[name]
		if in == nil {
			decl := findInput(inputs, name)
			if decl == nil {
				return fmt.Errorf("metadata: template %q: placeholder {{%s}} is not a declared input", s, name)
			}
			c := *decl
			if err := c.Compile(); err != nil {
				return err
			}
			in = &c
			compiled[name] = in
		}
		if !in.InURL() {
			return fmt.Errorf("metadata: template %q: input %s of kind %s may not stand in a URL", s, name, in.Kind)
		}
		t.parts = append(t.parts, part{input: in})
		t.names = append(t.names, name)
	}
	return nil
}

// sampleValues returns a value for each placeholder that passes its input's rule.
func (t *Template) sampleValues() Values {
	sample := make(Values, len(t.names))
	for _, p := range t.parts {
		if p.input != nil {
			sample[p.input.Name] = p.input.sample()
		}
	}
	return sample
}

// checkShape renders the template with sample values to learn and check the URL's shape: its
// scheme, port, query and number of path segments, which no value may change. It returns the
// sample URL's host.
func (t *Template) checkShape(sample Values) (string, error) {
	s := t.raw
	rendered := t.join(sample)
	u, err := url.Parse(rendered)
	if err != nil {
		return "", fmt.Errorf("metadata: template %q does not parse: %w", s, err)
	}
	if _, err := ParseEndpoint(rendered); err != nil {
		return "", fmt.Errorf("metadata: template %q: %w", s, err)
	}
	t.slashes = strings.Count(u.EscapedPath(), "/")
	if u.RawQuery != "" && strings.Contains(u.RawQuery, "{{") {
		return "", fmt.Errorf("metadata: template %q: placeholders may not stand in the query", s)
	}
	if syntax.DotSegment(u.EscapedPath()) {
		return "", fmt.Errorf("metadata: template %q: path has a . or .. segment", s)
	}
	t.scheme, t.port, t.query = u.Scheme, u.Port(), u.RawQuery
	return u.Hostname(), nil
}

// checkPlacement checks that placeholders stand in the host or the path only, each with an
// input whose values fit there, and reports whether the host has one.
func (t *Template) checkPlacement() (hostHasPlaceholder bool, err error) {
	s := t.raw
	authority := strings.Index(s, "://") + 3
	pathStart := authority + strings.IndexAny(s[authority:], "/?")
	if pathStart < authority {
		pathStart = len(s)
	}
	queryStart := strings.IndexByte(s, '?')
	if queryStart < 0 {
		queryStart = len(s)
	}
	off := 0
	for _, p := range t.parts {
		if p.input == nil {
			off += len(p.lit)
			continue
		}
		switch {
		case off < authority:
			return false, fmt.Errorf("metadata: template %q: placeholders may stand only in the host or the path", s)
		case off >= queryStart:
			return false, fmt.Errorf("metadata: template %q: placeholders may not stand in the query", s)
		case off < pathStart:
			hostHasPlaceholder = true
			if err := p.input.fitsHost(); err != nil {
				return false, fmt.Errorf("metadata: template %q: %w", s, err)
			}
		default:
			if err := p.input.fitsPath(); err != nil {
				return false, fmt.Errorf("metadata: template %q: %w", s, err)
			}
		}
		off += 4 + len(p.input.Name)
	}
	return hostHasPlaceholder, nil
}

// setHosts checks the allowed hosts and keeps them; a template whose host has no placeholder
// may leave them out, and its own host is then the only one allowed.
func (t *Template) setHosts(hosts Hosts, host string, hostHasPlaceholder bool) error {
	if len(hosts) == 0 {
		if hostHasPlaceholder {
			return fmt.Errorf("metadata: template %q has a placeholder in its host but no allowed hosts", t.raw)
		}
		hosts = Hosts{host}
	}
	if err := hosts.Check(); err != nil {
		return err
	}
	if !hosts.Match(host) {
		return fmt.Errorf("metadata: template %q: host %s is not among the allowed hosts", t.raw, host)
	}
	t.hosts = hosts
	return nil
}

// checkEnums renders every value of every enum input, all of them known in advance: each must
// render to an allowed host.
func (t *Template) checkEnums(sample Values) error {
	for _, p := range t.parts {
		if p.input == nil || p.input.Kind != Enum {
			continue
		}
		for _, v := range p.input.Values {
			values := make(Values, len(sample))
			maps.Copy(values, sample)
			values[p.input.Name] = v
			if _, err := t.Render(values); err != nil {
				return fmt.Errorf("metadata: template %q: enum value %q of input %s: %w", t.raw, v, p.input.Name, err)
			}
		}
	}
	return nil
}

func findInput(inputs []Input, name string) *Input {
	for i := range inputs {
		if inputs[i].Name == name {
			return &inputs[i]
		}
	}
	return nil
}

// sample returns a value that passes the input's rule, for checking a template's shape: the
// first enum value, the default, the example (which lets a whole host be an input, checked
// against the allowed hosts), or a plain name.
func (in *Input) sample() string {
	switch {
	case in.Kind == Enum:
		return in.Values[0]
	case in.Default != "":
		return in.Default
	case in.Example != "":
		return in.Example
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
			if !syntax.HostName(v) {
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
			if !pathSegment(v) {
				return fmt.Errorf("input %s: enum value %q may not stand in a path", in.Name, v)
			}
		}
	}
	return nil
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

// CheckURL checks an endpoint URL net/url has parsed by the rules of [ParseEndpoint]: https
// (plain http only on a loopback address, 127.0.0.0/8 or [::1]), a host name of lowercase LDH
// labels or a loopback address, a valid port, no user info and no fragment.
func CheckURL(u *url.URL) error {
	if err := syntax.CheckURL(u); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}
