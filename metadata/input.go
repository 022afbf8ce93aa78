// Package metadata checks the values a provider needs from the caller, such as a Zendesk
// subdomain or a NetSuite account id, and renders the provider URL templates that use them.
//
// A value reaches a URL only after it has passed its [Input]'s rule, and a rendered URL is
// returned only after it has been parsed again and its host fully matched against the
// provider's allowed hosts (see [Template.Render]).
package metadata

import (
	"fmt"
	"regexp"
	resyntax "regexp/syntax"
	"strings"

	"github.com/connectkit/connect/internal/syntax"
)

// Kind names the syntax a metadata value must have.
type Kind string

// The kinds of value an [Input] may take.
const (
	// DNSLabel is one DNS label (RFC 1035 §2.3.1): ASCII letters, digits and hyphens, 1 to 63
	// octets, starting and ending with a letter or digit. Values are lowercased, so ACME and
	// acme are one identity; punycode labels (xn--) are refused. It is the default kind.
	DNSLabel Kind = "dnsLabel"
	// Hostname is one or more DNS labels joined by dots, at most 253 octets, lowercased.
	Hostname Kind = "hostname"
	// PathSegment is one URL path segment of RFC 3986 unreserved characters
	// (A-Z a-z 0-9 - . _ ~), at most 255 octets, never "." or "..". Case is kept.
	PathSegment Kind = "pathSegment"
	// Enum is one of the input's listed Values, compared exactly.
	Enum Kind = "enum"
	// Text is printable text of at most 255 octets with no control characters. Text inputs are
	// stored with a connection but may not appear in a URL template.
	Text Kind = "text"
)

// Limits on values that are not host names (syntax.HostName has those of RFC 1035).
const (
	maxSegment = 255
	maxText    = 255
)

// Input declares one value a provider needs, its rule and where it may lead.
//
// The input named "workspace" is filled from a request's providerWorkspaceRef; any other
// from its providerMetadata.
type Input struct {
	// Name is the key of the value, as it appears in templates ({{name}}) and in
	// providerMetadata.
	Name string `json:"name"`
	// DisplayName is a label for forms, e.g. "Account ID".
	DisplayName string `json:"displayName,omitempty"`
	// Kind is the value's syntax; "" means DNSLabel.
	Kind Kind `json:"kind,omitempty"`
	// Pattern, if set, is a regular expression that the value as given must match in full.
	// It is checked before any normalisation, and the canonical form must match it too, so
	// that a canonical form is always accepted again.
	Pattern string `json:"pattern,omitempty"`
	// Values lists the accepted values of an Enum input.
	Values []string `json:"values,omitempty"`
	// Optional says the value may be absent; Default, if set, is used in its place.
	Optional bool `json:"optional,omitempty"`
	// Default is the value used when an optional input is absent.
	Default string `json:"default,omitempty"`
	// Example is a valid value, shown on the catalog page and used by the catalog's tests;
	// it is checked against the input's rule when the input is compiled.
	Example string `json:"example,omitempty"`
	// UnderscoreToHyphen rewrites "_" as "-" before a host kind is checked, for providers that
	// write identifiers such as NetSuite's 1234567_SB1 as 1234567-sb1 in hostnames.
	UnderscoreToHyphen bool `json:"underscoreToHyphen,omitempty"`

	pattern     *regexp.Regexp
	patternFrom string // the Pattern that pattern was compiled from
}

// Compile checks the input's declaration and prepares its pattern. It must be called (a
// provider registry does) before [Input.Normalize] is used.
func (in *Input) Compile() error {
	if !validName(in.Name) {
		return fmt.Errorf("metadata: input name %q must match [a-zA-Z][a-zA-Z0-9_]{0,63}", in.Name)
	}
	switch in.Kind {
	case "", DNSLabel, Hostname, PathSegment, Text:
		if len(in.Values) > 0 {
			return fmt.Errorf("metadata: input %s: values are only for kind enum", in.Name)
		}
	case Enum:
		if len(in.Values) == 0 {
			return fmt.Errorf("metadata: input %s: kind enum needs values", in.Name)
		}
		for _, v := range in.Values {
			if !syntax.Text(v) || v == "" {
				return fmt.Errorf("metadata: input %s: enum value %q is not printable text", in.Name, v)
			}
		}
	default:
		return fmt.Errorf("metadata: input %s: unknown kind %q", in.Name, in.Kind)
	}
	switch {
	case in.Pattern == "":
		in.pattern, in.patternFrom = nil, ""
	case in.pattern != nil && in.patternFrom == in.Pattern:
		// Compiled already (a copy of a compiled input): the regexp is immutable.
	default:
		// Parse the pattern alone first: one such as `a)|(b` would otherwise break out of
		// the anchoring group.
		if _, err := resyntax.Parse(in.Pattern, resyntax.Perl); err != nil {
			return fmt.Errorf("metadata: input %s: pattern: %w", in.Name, err)
		}
		re, err := regexp.Compile(`^(?:` + in.Pattern + `)$`)
		if err != nil {
			return fmt.Errorf("metadata: input %s: pattern: %w", in.Name, err)
		}
		in.pattern, in.patternFrom = re, in.Pattern
	}
	if in.Example != "" {
		if _, err := in.Normalize(in.Example); err != nil {
			return fmt.Errorf("metadata: input %s: example: %w", in.Name, err)
		}
	}
	if in.Default != "" {
		if !in.Optional {
			return fmt.Errorf("metadata: input %s: a default needs optional", in.Name)
		}
		if _, err := in.Normalize(in.Default); err != nil {
			return fmt.Errorf("metadata: input %s: default: %w", in.Name, err)
		}
	}
	return nil
}

// InURL reports whether values of this input's kind may be placed in a URL.
func (in *Input) InURL() bool { return in.Kind != Text }

// Normalize checks value against the input's rule and returns its canonical form, the form
// that is stored and placed in URLs. Normalize of a canonical form returns it unchanged.
// The error never repeats the value, which may be hostile.
func (in *Input) Normalize(value string) (string, error) {
	if value == "" {
		return "", ErrMissing
	}
	if in.pattern != nil && !in.pattern.MatchString(value) {
		return "", fmt.Errorf("%w: does not match the pattern %s", ErrInvalidValue, in.Pattern)
	}
	v, err := in.normalize(value)
	if err != nil {
		return "", err
	}
	if in.pattern != nil && v != value && !in.pattern.MatchString(v) {
		return "", fmt.Errorf("%w: canonical form does not match the pattern %s", ErrInvalidValue, in.Pattern)
	}
	return v, nil
}

func (in *Input) normalize(value string) (string, error) {
	switch in.Kind {
	case "", DNSLabel:
		v := in.hostForm(value)
		if !syntax.Label(v) {
			return "", fmt.Errorf("%w: must be one DNS label (letters, digits and inner hyphens, at most 63)", ErrInvalidValue)
		}
		return v, nil
	case Hostname:
		v := in.hostForm(value)
		if !syntax.HostName(v) {
			return "", fmt.Errorf("%w: must be a host name of DNS labels joined by dots", ErrInvalidValue)
		}
		return v, nil
	case PathSegment:
		if !pathSegment(value) {
			return "", fmt.Errorf("%w: must be one path segment of letters, digits and - . _ ~ (at most 255)", ErrInvalidValue)
		}
		return value, nil
	case Enum:
		for _, v := range in.Values {
			if v == value {
				return value, nil
			}
		}
		return "", fmt.Errorf("%w: must be one of %s", ErrInvalidValue, strings.Join(in.Values, ", "))
	case Text:
		if len(value) > maxText || !syntax.Text(value) {
			return "", fmt.Errorf("%w: must be printable text of at most 255 octets", ErrInvalidValue)
		}
		return value, nil
	}
	return "", fmt.Errorf("%w: unknown kind", ErrInvalidValue)
}

func (in *Input) hostForm(v string) string {
	if in.UnderscoreToHyphen && strings.IndexByte(v, '_') >= 0 {
		v = strings.ReplaceAll(v, "_", "-")
	}
	return lowerASCII(v)
}

// lowerASCII lowercases the ASCII letters of s and nothing else, so that a non-ASCII letter
// such as the Kelvin sign (U+212A) or U+0130 never turns into an ASCII one and still fails
// the label check that follows. strings.ToLower would map them to "k" and "i".
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// pathSegment reports whether s is one path segment of unreserved characters, at most 255
// octets, and not a dot segment that a server would resolve against its neighbours.
func pathSegment(s string) bool {
	return s != "" && len(s) <= maxSegment && s != "." && s != ".." && syntax.UnreservedString(s)
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case ('0' <= c && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}
