package metadata_test

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/connectkit/connect/metadata"
)

// fuzzSeeds are values every fuzz target starts from: docs/security.md G1's and G2's
// hostile lists and a few good values.
func fuzzSeeds() []string {
	seeds := []string{
		"acme", "ACME", "Acme-Corp", "acme--uat.sandbox", "1234567_SB1", "contoso.onmicrosoft.com",
		"72f988bf-86f1-41af-91ab-2d7cd011db47", "us", "Société Générale",
		"../admin", "%2e%2e", "a/b", "a?x=1", "a#b", "a\u2028b", "a\u0085b", "a\x7fb", "\xff",
	}
	return append(seeds, hostileWorkspaces...)
}

var fuzzInputs = []metadata.Input{
	{Name: "label"},
	{Name: "label2", Kind: metadata.DNSLabel, UnderscoreToHyphen: true},
	{Name: "host", Kind: metadata.Hostname},
	{Name: "host2", Kind: metadata.Hostname, UnderscoreToHyphen: true},
	{Name: "segment", Kind: metadata.PathSegment},
	{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu-west", "api v2"}},
	{Name: "note", Kind: metadata.Text},
	{Name: "patterned", Pattern: `[0-9]+(?:[_-][Ss][Bb][0-9]+)?`, UnderscoreToHyphen: true},
	{Name: "caseless", Pattern: `[A-Za-z]+`},
}

var hostChars = regexp.MustCompile(`^[a-z0-9.-]+$`)

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	inputs := make([]*metadata.Input, len(fuzzInputs))
	for i, in := range fuzzInputs {
		inputs[i] = compiled(f, in)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, in := range inputs {
			got, err := in.Normalize(value)
			if err != nil {
				if !errors.Is(err, metadata.ErrInvalidValue) && !errors.Is(err, metadata.ErrMissing) {
					t.Fatalf("input %s: Normalize(%q) = %v, want ErrInvalidValue or ErrMissing", in.Name, value, err)
				}
				if got != "" {
					t.Fatalf("input %s: Normalize(%q) returned %q with its error", in.Name, value, got)
				}
				continue
			}
			again, err := in.Normalize(got)
			if err != nil || again != got {
				t.Fatalf("input %s: Normalize(%q) = %q but Normalize(%q) = %q, %v", in.Name, value, got, got, again, err)
			}
			switch in.Kind {
			case "", metadata.DNSLabel:
				if !hostChars.MatchString(got) || strings.Contains(got, ".") || len(got) > 63 {
					t.Fatalf("input %s: Normalize(%q) = %q, not a lowercase LDH label", in.Name, value, got)
				}
				if want := hostForm(value, in.UnderscoreToHyphen); got != want {
					t.Fatalf("input %s: Normalize(%q) = %q, want %q (ASCII case folding only)", in.Name, value, got, want)
				}
			case metadata.Hostname:
				if !hostChars.MatchString(got) || len(got) > 253 {
					t.Fatalf("input %s: Normalize(%q) = %q, not a lowercase host name", in.Name, value, got)
				}
				if want := hostForm(value, in.UnderscoreToHyphen); got != want {
					t.Fatalf("input %s: Normalize(%q) = %q, want %q (ASCII case folding only)", in.Name, value, got, want)
				}
			case metadata.PathSegment:
				if url.PathEscape(got) != got || got == "." || got == ".." || len(got) > 255 {
					t.Fatalf("input %s: Normalize(%q) = %q, not one plain path segment", in.Name, value, got)
				}
			case metadata.Text:
				if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\x00") || len(got) > 255 {
					t.Fatalf("input %s: Normalize(%q) = %q, not printable text", in.Name, value, got)
				}
			}
		}
	})
}

// hostForm is the canonical form of an accepted host value, byte for byte: ASCII letters
// lowercased, "_" rewritten when asked, every other byte kept. A non-ASCII letter that
// Unicode case folding would map to ASCII must not be accepted.
func hostForm(v string, underscoreToHyphen bool) string {
	b := []byte(v)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c == '_' && underscoreToHyphen:
			b[i] = '-'
		}
	}
	return string(b)
}

func FuzzRender(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	zendesk := parse(f, "https://{{workspace}}.zendesk.com/x", []metadata.Input{workspaceInput}, zendeskHosts)
	path := parse(f, "https://api.example.com/{{tenant}}/oauth", []metadata.Input{tenantInput}, nil)
	f.Fuzz(func(t *testing.T, value string) {
		tests := []struct {
			tmpl     *metadata.Template
			name     string
			host     func(string) bool
			segments []string // the path's segments, "*" for the placeholder
		}{
			{tmpl: zendesk, name: "workspace", host: zendeskHost.MatchString, segments: []string{"", "x"}},
			{tmpl: path, name: "tenant", host: func(h string) bool { return h == "api.example.com" }, segments: []string{"", "*", "oauth"}},
		}
		for _, tt := range tests {
			got, err := tt.tmpl.Render(metadata.Values{tt.name: value})
			if err != nil {
				var ve *metadata.ValueError
				if !errors.As(err, &ve) && !errors.Is(err, metadata.ErrInvalidValue) {
					t.Fatalf("%s: Render(%q) = %v, want a *ValueError or ErrInvalidValue", tt.tmpl, value, err)
				}
				if got != "" {
					t.Fatalf("%s: Render(%q) returned %q with its error", tt.tmpl, value, got)
				}
				continue
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("%s: Render(%q) = %q, which does not parse: %v", tt.tmpl, value, got, err)
			}
			switch {
			case u.Scheme != "https":
				t.Fatalf("%s: Render(%q) = %q: scheme %q", tt.tmpl, value, got, u.Scheme)
			case u.User != nil:
				t.Fatalf("%s: Render(%q) = %q: user info", tt.tmpl, value, got)
			case u.Fragment != "" || strings.Contains(got, "#"):
				t.Fatalf("%s: Render(%q) = %q: fragment", tt.tmpl, value, got)
			case u.RawQuery != "" || u.ForceQuery:
				t.Fatalf("%s: Render(%q) = %q: query", tt.tmpl, value, got)
			case u.Port() != "" || !tt.host(u.Host):
				t.Fatalf("%s: Render(%q) = %q: host %q", tt.tmpl, value, got, u.Host)
			}
			segs := strings.Split(u.EscapedPath(), "/")
			if len(segs) != len(tt.segments) {
				t.Fatalf("%s: Render(%q) = %q: path has %d segments, want %d", tt.tmpl, value, got, len(segs), len(tt.segments))
			}
			for i, want := range tt.segments {
				if want == "*" {
					if segs[i] == "" || segs[i] == "." || segs[i] == ".." {
						t.Fatalf("%s: Render(%q) = %q: placeholder segment %q", tt.tmpl, value, got, segs[i])
					}
				} else if segs[i] != want {
					t.Fatalf("%s: Render(%q) = %q: segment %d is %q, want %q", tt.tmpl, value, got, i, segs[i], want)
				}
			}
		}
	})
}

// fuzzTemplateInputs are the declarations FuzzParseTemplate picks from, each with a value
// that passes its rule.
var fuzzTemplateInputs = []struct {
	input  metadata.Input
	sample string
}{
	{metadata.Input{Name: "workspace"}, "acme"},
	{metadata.Input{Name: "workspace", Kind: metadata.Hostname}, "acme.eu"},
	{metadata.Input{Name: "workspace", Kind: metadata.PathSegment}, "acme"},
	{metadata.Input{Name: "workspace", Kind: metadata.Enum, Values: []string{"us", "eu"}}, "eu"},
	{metadata.Input{Name: "workspace", Kind: metadata.Text}, "Acme Corp"},
	{metadata.Input{Name: "workspace", Optional: true, Default: "us"}, ""},
	// Not compiled by the caller: ParseTemplate must still check it, and not panic.
	{metadata.Input{Name: "workspace", Kind: metadata.Enum}, "us"},
	{metadata.Input{Name: "workspace", Pattern: `[a-z]+`}, "acme"},
	{metadata.Input{Name: "workspace", Kind: metadata.Enum, Values: []string{"v1", "a/b", ".."}}, "a/b"},
}

func FuzzParseTemplate(f *testing.F) {
	seeds := []string{
		zendeskAuth,
		"https://{{workspace}}.zendesk.com/x",
		"https://api.example.com/{{workspace}}/oauth",
		"https://api.example.com/{{workspace}}/oauth?v=2",
		"https://api.example.com/x?t={{workspace}}",
		"http://127.0.0.1:8080/{{workspace}}",
		"http://[::1]/{{workspace}}",
		"https://{{workspace}}.zendesk.com:8443/x#{{workspace}}",
		"https://u@{{workspace}}.zendesk.com/",
		"{{workspace}}://api.example.com/",
		"https://api.example.com/.{{workspace}}/x",
		"https://{{workspace}}{{workspace}}.zendesk.com/",
		"https://{{workspace",
		"}}",
		"https://",
		"",
	}
	for i, s := range seeds {
		f.Add(s, uint8(i), false, "acme")
	}
	f.Add(zendeskAuth, uint8(0), false, "evil.com#")
	f.Add("https://api.example.com/{{workspace}}/oauth", uint8(2), true, "../admin")
	hosts := metadata.Hosts{"*.zendesk.com", "*.eu.zendesk.com", "api.example.com", "127.0.0.1", "::1"}
	f.Fuzz(func(t *testing.T, tmpl string, kind uint8, noHosts bool, value string) {
		decl := fuzzTemplateInputs[int(kind)%len(fuzzTemplateInputs)]
		h := hosts
		if noHosts {
			h = nil
		}
		parsed, err := metadata.ParseTemplate(tmpl, []metadata.Input{decl.input}, h)
		if err != nil {
			if parsed != nil {
				t.Fatalf("ParseTemplate(%q) returned a template with its error", tmpl)
			}
			if !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Fatalf("ParseTemplate(%q) error %q does not start with %q", tmpl, err, "metadata: ")
			}
			return
		}
		if parsed.String() != tmpl {
			t.Fatalf("String() = %q, want %q", parsed.String(), tmpl)
		}
		segments := -1 // the path's segment count, from the first successful render
		for _, v := range []string{decl.sample, value} {
			got, err := parsed.Render(metadata.Values{"workspace": v})
			if err != nil {
				var ve *metadata.ValueError
				if !errors.As(err, &ve) && !errors.Is(err, metadata.ErrInvalidValue) {
					t.Fatalf("%s: Render(%q) = %v, want a *ValueError or ErrInvalidValue", tmpl, v, err)
				}
				continue
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("%s: Render(%q) = %q, which does not parse: %v", tmpl, v, got, err)
			}
			if err := metadata.CheckURL(u); err != nil {
				t.Fatalf("%s: Render(%q) = %q: %v", tmpl, v, got, err)
			}
			if !parsed.Hosts().Match(u.Hostname()) {
				t.Fatalf("%s: Render(%q) = %q: host %q is not allowed by %q", tmpl, v, got, u.Hostname(), parsed.Hosts())
			}
			for seg := range strings.SplitSeq(u.Path, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("%s: Render(%q) = %q: path has a dot segment", tmpl, v, got)
				}
			}
			// A value never adds or removes a path segment.
			n := strings.Count(u.EscapedPath(), "/")
			if segments < 0 {
				segments = n
			} else if n != segments {
				t.Fatalf("%s: Render(%q) = %q: %d path segments, want %d", tmpl, v, got, n, segments)
			}
		}
	})
}

// FuzzMatch holds Template.Match to Render: a URL that Render made matches, giving back the
// values it was made from; and a URL that matches is exactly what its values render.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, "https://"+s+".zendesk.com/x")
	}
	f.Add("acme", "https://login.example.com/acme/oauth")
	zendesk := parse(f, "https://{{workspace}}.zendesk.com/x", []metadata.Input{workspaceInput}, zendeskHosts)
	path := parse(f, "https://login.example.com/{{tenant}}/oauth", []metadata.Input{tenantInput}, nil)
	f.Fuzz(func(t *testing.T, value, rawURL string) {
		for _, tt := range []struct {
			tmpl *metadata.Template
			name string
		}{{zendesk, "workspace"}, {path, "tenant"}} {
			if rendered, err := tt.tmpl.Render(metadata.Values{tt.name: value}); err == nil {
				got, err := tt.tmpl.Match(rendered)
				if err != nil {
					t.Fatalf("%s: Match(Render(%q) = %q) = %v", tt.tmpl, value, rendered, err)
				}
				if again, err := tt.tmpl.Render(got); err != nil || again != rendered {
					t.Fatalf("%s: Match(%q) = %v, which renders %q, %v", tt.tmpl, rendered, got, again, err)
				}
			}
			got, err := tt.tmpl.Match(rawURL)
			if err != nil {
				if len(rawURL) >= 16 && strings.Contains(err.Error(), rawURL) {
					t.Fatalf("%s: Match(%q): the error holds the URL", tt.tmpl, rawURL)
				}
				continue
			}
			if again, err := tt.tmpl.Render(got); err != nil || again != rawURL {
				t.Fatalf("%s: Match(%q) = %v, which renders %q, %v", tt.tmpl, rawURL, got, again, err)
			}
		}
	})
}

// FuzzParseEndpoint checks ParseEndpoint against net/url: whatever it accepts, net/url parses
// to the same parts, with no user info and no fragment.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{
		"https://login.salesforce.com/services/oauth2/authorize", "http://127.0.0.1:9000/a?b=c", "http://[::1]:1/",
		"https://a@b.example/", "https://a.example/#x", "https://a.example:443/p%20q?x=%2F&y", "https://evil.com\\@a.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, err := metadata.ParseEndpoint(raw)
		if err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("ParseEndpoint accepted %q, which net/url rejects: %v", raw, err)
		}
		if u.Scheme != e.Scheme || u.Hostname() != e.Host || u.Port() != e.Port || u.EscapedPath() != e.Path && u.RawPath != e.Path ||
			u.RawQuery != e.Query || u.User != nil || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("ParseEndpoint(%q) = %+v; net/url reads %#v", raw, e, u)
		}
		if metadata.CheckURL(u) != nil {
			t.Fatalf("ParseEndpoint accepted %q, which CheckURL rejects: %v", raw, metadata.CheckURL(u))
		}
	})
}
