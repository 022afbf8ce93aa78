package providers

import (
	"net/url"
	"slices"

	"github.com/connectkit/connect/metadata"
)

// Resolve checks values against the provider's inputs and returns them in canonical form,
// with the defaults of absent optional inputs filled in. A required input left empty, a value
// failing its rule, or a value for an input the provider does not declare is a
// *[metadata.ValueError] naming the input; values is not changed.
func (p *Provider) Resolve(values metadata.Values) (metadata.Values, error) {
	for name := range values {
		if p.input(name) == nil {
			return nil, &metadata.ValueError{Input: name, Err: ErrUnknownInput}
		}
	}
	out := make(metadata.Values, len(p.Inputs))
	for i := range p.Inputs {
		in := &p.Inputs[i]
		v := values[in.Name]
		if v == "" && in.Optional {
			if in.Default == "" {
				continue
			}
			v = in.Default
		}
		c, err := in.Normalize(v)
		if err != nil {
			return nil, &metadata.ValueError{Input: in.Name, Err: err}
		}
		out[in.Name] = c
	}
	return out, nil
}

// Endpoints renders the authorize and token URLs from values resolved by [Provider.Resolve].
// When an optional input a template needs is absent, the provider's default URL is used;
// without one, the error is a *[metadata.ValueError] for the missing input. authURL is empty
// for providers without an authorize step.
func (p *Provider) Endpoints(values metadata.Values) (authURL, tokenURL string, err error) {
	if authURL, err = render(p.authURL, p.defaultAuthURL, values); err != nil {
		return "", "", err
	}
	if tokenURL, err = render(p.tokenURL, p.defaultTokenURL, values); err != nil {
		return "", "", err
	}
	return authURL, tokenURL, nil
}

// AuthorizeParams returns the provider's fixed authorize parameters, with those that hold an
// input's placeholder given its value from values resolved by [Provider.Resolve], or left
// out when the input has none.
func (p *Provider) AuthorizeParams(values metadata.Values) url.Values {
	q := make(url.Values, len(p.AuthParams))
	for k, v := range p.AuthParams {
		if name, ok := paramInput(v); ok {
			if v = values[name]; v == "" {
				continue
			}
		}
		q.Set(k, v)
	}
	return q
}

// RefreshEndpoint renders the URL where refresh tokens are redeemed, from values resolved by
// [Provider.Resolve]: RefreshURL, or "" when refreshes go to the token URL.
func (p *Provider) RefreshEndpoint(values metadata.Values) (string, error) {
	return render(p.refreshURL, nil, values)
}

func render(t, fallback *metadata.Template, values metadata.Values) (string, error) {
	if t == nil {
		return "", nil
	}
	if fallback != nil {
		for _, name := range t.Placeholders() {
			if values[name] == "" {
				return fallback.Render(values)
			}
		}
	}
	return t.Render(values)
}

// MatchAuthURL reads the provider's inputs from rawURL, which must be the provider's authorize
// URL as [Provider.Endpoints] renders it (without the fixed authorize parameters, which connect
// adds): the values of its placeholders, in canonical form. A value failing its input's rule is
// a *[metadata.ValueError]; a URL that is not the provider's matches [metadata.ErrNoMatch].
func (p *Provider) MatchAuthURL(rawURL string) (metadata.Values, error) {
	if p.authURL == nil {
		return nil, metadata.ErrNoMatch
	}
	values, err := p.authURL.Match(rawURL)
	if err != nil && p.defaultAuthURL != nil {
		if v, derr := p.defaultAuthURL.Match(rawURL); derr == nil {
			return v, nil
		}
	}
	return values, err
}

// Separator returns the scope separator: ScopeSeparator, or a space.
func (p *Provider) Separator() string { return p.scopeSeparator() }

// Accepts reports whether the provider accepts the credential kind.
func (p *Provider) Accepts(k AuthKind) bool {
	if len(p.AuthKinds) == 0 {
		return k == OAuth2AuthorizationCode && p.AuthURL != ""
	}
	return slices.Contains(p.AuthKinds, k)
}

// Input returns the declaration of the named input, or nil.
func (p *Provider) Input(name string) *metadata.Input { return p.input(name) }
