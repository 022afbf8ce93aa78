package metadata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
)

func TestInputCompile(t *testing.T) {
	tests := []struct {
		name    string
		in      metadata.Input
		wantErr bool
	}{
		{name: "minimal", in: metadata.Input{Name: "workspace"}},
		{name: "name of 64", in: metadata.Input{Name: "a" + strings.Repeat("b_9", 21)}},
		{name: "every kind: dnsLabel", in: metadata.Input{Name: "w", Kind: metadata.DNSLabel}},
		{name: "every kind: hostname", in: metadata.Input{Name: "w", Kind: metadata.Hostname}},
		{name: "every kind: pathSegment", in: metadata.Input{Name: "w", Kind: metadata.PathSegment}},
		{name: "every kind: text", in: metadata.Input{Name: "w", Kind: metadata.Text}},
		{name: "every kind: enum", in: metadata.Input{Name: "w", Kind: metadata.Enum, Values: []string{"us", "eu"}}},
		{name: "pattern", in: metadata.Input{Name: "w", Pattern: `[a-z]+`}},
		{name: "optional with default", in: metadata.Input{Name: "w", Optional: true, Default: "us"}},
		{name: "optional without default", in: metadata.Input{Name: "w", Optional: true}},

		{name: "empty name", in: metadata.Input{Name: ""}, wantErr: true},
		{name: "name starting with a digit", in: metadata.Input{Name: "1abc"}, wantErr: true},
		{name: "name starting with underscore", in: metadata.Input{Name: "_abc"}, wantErr: true},
		{name: "name with hyphen", in: metadata.Input{Name: "a-b"}, wantErr: true},
		{name: "name with dot", in: metadata.Input{Name: "a.b"}, wantErr: true},
		{name: "name with space", in: metadata.Input{Name: "a b"}, wantErr: true},
		{name: "name with braces", in: metadata.Input{Name: "a}}"}, wantErr: true},
		{name: "name non-ASCII", in: metadata.Input{Name: "é"}, wantErr: true},
		{name: "name of 65", in: metadata.Input{Name: strings.Repeat("a", 65)}, wantErr: true},
		{name: "unknown kind", in: metadata.Input{Name: "w", Kind: "email"}, wantErr: true},
		{name: "kind in wrong case", in: metadata.Input{Name: "w", Kind: "DNSLabel"}, wantErr: true},
		{name: "enum without values", in: metadata.Input{Name: "w", Kind: metadata.Enum}, wantErr: true},
		{name: "enum with an empty value", in: metadata.Input{Name: "w", Kind: metadata.Enum, Values: []string{"us", ""}}, wantErr: true},
		{name: "enum with a control character", in: metadata.Input{Name: "w", Kind: metadata.Enum, Values: []string{"us\n"}}, wantErr: true},
		{name: "values on default kind", in: metadata.Input{Name: "w", Values: []string{"us"}}, wantErr: true},
		{name: "values on hostname", in: metadata.Input{Name: "w", Kind: metadata.Hostname, Values: []string{"us"}}, wantErr: true},
		{name: "values on text", in: metadata.Input{Name: "w", Kind: metadata.Text, Values: []string{"us"}}, wantErr: true},
		{name: "bad pattern", in: metadata.Input{Name: "w", Pattern: `(`}, wantErr: true},
		{name: "bad pattern that anchoring would close", in: metadata.Input{Name: "w", Pattern: `a)|(b`}, wantErr: true},
		{name: "default without optional", in: metadata.Input{Name: "w", Default: "us"}, wantErr: true},
		{name: "default failing its kind", in: metadata.Input{Name: "w", Optional: true, Default: "-us"}, wantErr: true},
		{name: "default failing its pattern", in: metadata.Input{Name: "w", Optional: true, Default: "us", Pattern: `[0-9]+`}, wantErr: true},
		{name: "default not among enum values", in: metadata.Input{Name: "w", Kind: metadata.Enum, Values: []string{"us"}, Optional: true, Default: "eu"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := in.Compile()
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Compile() = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Errorf("Compile() error %q does not start with %q", err, "metadata: ")
			}
		})
	}
}

func TestInputInURL(t *testing.T) {
	tests := []struct {
		kind metadata.Kind
		want bool
	}{
		{"", true},
		{metadata.DNSLabel, true},
		{metadata.Hostname, true},
		{metadata.PathSegment, true},
		{metadata.Enum, true},
		{metadata.Text, false},
	}
	for _, tt := range tests {
		in := metadata.Input{Name: "w", Kind: tt.kind}
		if got := in.InURL(); got != tt.want {
			t.Errorf("Input{Kind: %q}.InURL() = %v, want %v", tt.kind, got, tt.want)
		}
	}
}

// normalizeCase is one value given to Normalize: want is the canonical form, or "" with
// wantErr the sentinel the error must match.
type normalizeCase struct {
	name    string
	value   string
	want    string
	wantErr error
}

func runNormalize(t *testing.T, in *metadata.Input, tests []normalizeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := in.Normalize(tt.value)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Normalize(%q) = %q, %v; want error %v", tt.value, got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("Normalize(%q) returned %q with its error, want \"\"", tt.value, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, nil", tt.value, got, err, tt.want)
			}
			again, err := in.Normalize(got)
			if err != nil || again != got {
				t.Errorf("Normalize(Normalize(%q)) = %q, %v; want %q, nil (idempotent)", tt.value, again, err, got)
			}
		})
	}
}

var (
	errInvalid = metadata.ErrInvalidValue
	errMissing = metadata.ErrMissing
)

func TestNormalizeDNSLabel(t *testing.T) {
	a63 := strings.Repeat("a", 63)
	tests := []normalizeCase{
		{name: "lowercase", value: "acme", want: "acme"},
		{name: "uppercase is lowercased", value: "ACME", want: "acme"},
		{name: "mixed case with hyphen", value: "Acme-Corp", want: "acme-corp"},
		{name: "digits", value: "1234567", want: "1234567"},
		{name: "single character", value: "a", want: "a"},
		{name: "inner double hyphen", value: "acme--uat", want: "acme--uat"},
		{name: "63 octets", value: a63, want: a63},
		{name: "63 octets uppercase", value: strings.ToUpper(a63), want: a63},
		{name: "empty", value: "", wantErr: errMissing},
		{name: "64 octets", value: a63 + "a", wantErr: errInvalid},
		{name: "leading hyphen", value: "-a", wantErr: errInvalid},
		{name: "trailing hyphen", value: "a-", wantErr: errInvalid},
		{name: "only hyphen", value: "-", wantErr: errInvalid},
		{name: "underscore", value: "a_b", wantErr: errInvalid},
		{name: "dot", value: "a.b", wantErr: errInvalid},
		{name: "punycode", value: "xn--80ak6aa92e", wantErr: errInvalid},
		{name: "punycode uppercase", value: "XN--80AK6AA92E", wantErr: errInvalid},
		{name: "space", value: "acme evil", wantErr: errInvalid},
		{name: "NUL", value: "acme\x00", wantErr: errInvalid},
		{name: "Cyrillic a", value: "\u0430cme", wantErr: errInvalid},
		{name: "fullwidth", value: "ａｃｍｅ", wantErr: errInvalid},
		{name: "Kelvin sign beside uppercase", value: "ACME\u212A", wantErr: errInvalid},
		{name: "Kelvin sign alone", value: "\u212A", wantErr: errInvalid},
		{name: "long s beside uppercase", value: "ACME\u017F", wantErr: errInvalid},
		{name: "dotted capital I", value: "ACME\u0130", wantErr: errInvalid},
		{name: "port", value: "acme:8443", wantErr: errInvalid},
		{name: "invalid UTF-8", value: "ACME\xff", wantErr: errInvalid},
	}
	runNormalize(t, compiled(t, metadata.Input{Name: "workspace"}), tests)
	t.Run("explicit kind", func(t *testing.T) {
		runNormalize(t, compiled(t, metadata.Input{Name: "workspace", Kind: metadata.DNSLabel}), tests)
	})
}

func TestNormalizeHostname(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	h253 := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("b", 61)
	h254 := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("b", 62)
	tests := []normalizeCase{
		{name: "one label", value: "acme", want: "acme"},
		{name: "two labels", value: "acme--uat.sandbox", want: "acme--uat.sandbox"},
		{name: "uppercase", value: "Acme.Sandbox", want: "acme.sandbox"},
		{name: "253 octets", value: h253, want: h253},
		{name: "label of 63", value: l63 + ".b", want: l63 + ".b"},
		{name: "empty", value: "", wantErr: errMissing},
		{name: "254 octets", value: h254, wantErr: errInvalid},
		{name: "label of 64", value: l63 + "a.b", wantErr: errInvalid},
		{name: "empty label", value: "a..b", wantErr: errInvalid},
		{name: "leading dot", value: ".a", wantErr: errInvalid},
		{name: "trailing dot", value: "a.", wantErr: errInvalid},
		{name: "only dots", value: "..", wantErr: errInvalid},
		{name: "hyphen at label end", value: "a-.b", wantErr: errInvalid},
		{name: "hyphen at label start", value: "a.-b", wantErr: errInvalid},
		{name: "punycode label", value: "a.xn--80ak6aa92e", wantErr: errInvalid},
		{name: "underscore", value: "a_b.c", wantErr: errInvalid},
		{name: "slash", value: "evil.com/", wantErr: errInvalid},
		{name: "fragment", value: "evil.com#", wantErr: errInvalid},
		{name: "user info", value: "a@evil.com", wantErr: errInvalid},
		{name: "port", value: "evil.com:443", wantErr: errInvalid},
		{name: "IPv6", value: "[::1]", wantErr: errInvalid},
		{name: "Kelvin sign beside uppercase", value: "A.\u212A", wantErr: errInvalid},
	}
	runNormalize(t, compiled(t, metadata.Input{Name: "host", Kind: metadata.Hostname}), tests)
}

func TestNormalizePathSegment(t *testing.T) {
	s255 := strings.Repeat("a", 255)
	tests := []normalizeCase{
		{name: "tenant domain", value: "contoso.onmicrosoft.com", want: "contoso.onmicrosoft.com"},
		{name: "GUID", value: "72f988bf-86f1-41af-91ab-2d7cd011db47", want: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{name: "case kept", value: "Common", want: "Common"},
		{name: "every unreserved symbol", value: "a-b.c_d~e", want: "a-b.c_d~e"},
		{name: "three dots", value: "...", want: "..."},
		{name: "255 octets", value: s255, want: s255},
		{name: "empty", value: "", wantErr: errMissing},
		{name: "256 octets", value: s255 + "a", wantErr: errInvalid},
		{name: "dot dot", value: "..", wantErr: errInvalid},
		{name: "dot", value: ".", wantErr: errInvalid},
		{name: "slash", value: "a/b", wantErr: errInvalid},
		{name: "query", value: "a?x=1", wantErr: errInvalid},
		{name: "fragment", value: "a#b", wantErr: errInvalid},
		{name: "encoded dots", value: "%2e%2e", wantErr: errInvalid},
		{name: "encoded slash", value: "a%2fb", wantErr: errInvalid},
		{name: "traversal", value: "../admin", wantErr: errInvalid},
		{name: "backslash", value: `a\b`, wantErr: errInvalid},
		{name: "semicolon", value: "a;b", wantErr: errInvalid},
		{name: "space", value: "a b", wantErr: errInvalid},
		{name: "non-ASCII", value: "caf\u00e9", wantErr: errInvalid},
	}
	runNormalize(t, compiled(t, metadata.Input{Name: "tenant", Kind: metadata.PathSegment}), tests)
}

func TestNormalizeEnum(t *testing.T) {
	tests := []normalizeCase{
		{name: "first", value: "us", want: "us"},
		{name: "second", value: "eu-west", want: "eu-west"},
		{name: "with space", value: "api v2", want: "api v2"},
		{name: "empty", value: "", wantErr: errMissing},
		{name: "other case", value: "US", wantErr: errInvalid},
		{name: "prefix", value: "u", wantErr: errInvalid},
		{name: "extension", value: "us1", wantErr: errInvalid},
		{name: "surrounding space", value: " us", wantErr: errInvalid},
		{name: "not listed", value: "ap", wantErr: errInvalid},
	}
	in := metadata.Input{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu-west", "api v2"}}
	runNormalize(t, compiled(t, in), tests)
}

func TestNormalizeText(t *testing.T) {
	t255 := strings.Repeat("é", 127) + "a"
	tests := []normalizeCase{
		{name: "plain", value: "Acme Corp", want: "Acme Corp"},
		{name: "symbols", value: `a/b?c#d&e=f"<>\`, want: `a/b?c#d&e=f"<>\`},
		{name: "non-ASCII", value: "Société Générale", want: "Société Générale"},
		{name: "tab is a control", value: "a\tb", wantErr: errInvalid},
		{name: "255 octets", value: t255, want: t255},
		{name: "empty", value: "", wantErr: errMissing},
		{name: "256 octets", value: t255 + "a", wantErr: errInvalid},
		{name: "CR", value: "a\rb", wantErr: errInvalid},
		{name: "LF", value: "a\nb", wantErr: errInvalid},
		{name: "CRLF header injection", value: "a\r\nX-Injected: 1", wantErr: errInvalid},
		{name: "NUL", value: "a\x00", wantErr: errInvalid},
		{name: "DEL", value: "a\x7f", wantErr: errInvalid},
		{name: "ESC", value: "a\x1b[31m", wantErr: errInvalid},
		{name: "NEL U+0085", value: "a\u0085b", wantErr: errInvalid},
		{name: "C1 U+009F", value: "a\u009fb", wantErr: errInvalid},
		{name: "line separator U+2028", value: "a\u2028b", wantErr: errInvalid},
		{name: "paragraph separator U+2029", value: "a\u2029b", wantErr: errInvalid},
		{name: "invalid UTF-8", value: "a\xffb", wantErr: errInvalid},
		{name: "truncated UTF-8", value: "a\xc3", wantErr: errInvalid},
		{name: "encoded surrogate", value: "\xed\xa0\x80", wantErr: errInvalid},
	}
	runNormalize(t, compiled(t, metadata.Input{Name: "company", Kind: metadata.Text}), tests)
}

func TestNormalizePattern(t *testing.T) {
	tests := []struct {
		name  string
		input metadata.Input
		cases []normalizeCase
	}{
		{
			name:  "checked on the raw value, before lowercasing",
			input: metadata.Input{Name: "w", Pattern: `[a-z0-9]+`},
			cases: []normalizeCase{
				{name: "matching", value: "acme1", want: "acme1"},
				{name: "uppercase fails the pattern", value: "ACME", wantErr: errInvalid},
				{name: "hyphen fails the pattern", value: "acme-1", wantErr: errInvalid},
			},
		},
		{
			name:  "checked on the raw value, before underscore rewriting",
			input: metadata.Input{Name: "w", Pattern: `[0-9]+`, UnderscoreToHyphen: true},
			cases: []normalizeCase{
				{name: "digits", value: "1234567", want: "1234567"},
				{name: "underscore fails the pattern", value: "1234567_1", wantErr: errInvalid},
			},
		},
		{
			name:  "anchored in full",
			input: metadata.Input{Name: "w", Pattern: `ab|cd`},
			cases: []normalizeCase{
				{name: "first alternative", value: "ab", want: "ab"},
				{name: "second alternative", value: "cd", want: "cd"},
				{name: "prefix match only", value: "abx", wantErr: errInvalid},
				{name: "suffix match only", value: "xcd", wantErr: errInvalid},
				{name: "both", value: "abcd", wantErr: errInvalid},
			},
		},
		{
			name:  "kind rule applies after the pattern",
			input: metadata.Input{Name: "w", Pattern: `.+`},
			cases: []normalizeCase{
				{name: "valid label", value: "acme", want: "acme"},
				{name: "pattern passes, kind fails", value: "a.b", wantErr: errInvalid},
				{name: "empty is missing", value: "", wantErr: errMissing},
			},
		},
		{
			name:  "NetSuite account id",
			input: metadata.Input{Name: "accountId", Pattern: `[0-9]+(?:[_-][Ss][Bb][0-9]+)?`, UnderscoreToHyphen: true},
			cases: []normalizeCase{
				{name: "production", value: "1234567", want: "1234567"},
				{name: "sandbox", value: "1234567_SB1", want: "1234567-sb1"},
				{name: "sandbox canonical", value: "1234567-sb1", want: "1234567-sb1"},
				{name: "not an account", value: "acme", wantErr: errInvalid},
			},
		},
		{
			name:  "pattern on a path segment GUID",
			input: metadata.Input{Name: "tenant", Kind: metadata.PathSegment, Pattern: `[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}`},
			cases: []normalizeCase{
				{name: "GUID", value: "72f988bf-86f1-41af-91ab-2d7cd011db47", want: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
				{name: "name", value: "contoso.onmicrosoft.com", wantErr: errInvalid},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runNormalize(t, compiled(t, tt.input), tt.cases)
		})
	}
}

// TestNormalizePatternCanonicalForm checks that a value is accepted only when its canonical
// form also passes the pattern, so that Normalize stays idempotent (Resolve's output is
// normalised again when a template renders it).
func TestNormalizePatternCanonicalForm(t *testing.T) {
	in := compiled(t, metadata.Input{Name: "w", Pattern: `[A-Z]+`})
	if got, err := in.Normalize("ACME"); err == nil {
		if again, err := in.Normalize(got); err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v: not idempotent", "ACME", got, got, again, err)
		}
	}
}

func TestNormalizeUnderscoreToHyphen(t *testing.T) {
	tests := []struct {
		name  string
		input metadata.Input
		cases []normalizeCase
	}{
		{
			name:  "dnsLabel",
			input: metadata.Input{Name: "accountId", UnderscoreToHyphen: true},
			cases: []normalizeCase{
				{name: "NetSuite sandbox", value: "1234567_SB1", want: "1234567-sb1"},
				{name: "already canonical", value: "1234567-sb1", want: "1234567-sb1"},
				{name: "leading underscore", value: "_a", wantErr: errInvalid},
				{name: "trailing underscore", value: "a_", wantErr: errInvalid},
				{name: "punycode by underscores", value: "xn__80ak6aa92e", wantErr: errInvalid},
			},
		},
		{
			name:  "hostname",
			input: metadata.Input{Name: "host", Kind: metadata.Hostname, UnderscoreToHyphen: true},
			cases: []normalizeCase{
				{name: "two labels", value: "1234567_SB1.app", want: "1234567-sb1.app"},
				{name: "underscore at label start", value: "a._b", wantErr: errInvalid},
			},
		},
		{
			name:  "off by default",
			input: metadata.Input{Name: "accountId"},
			cases: []normalizeCase{
				{name: "underscore rejected", value: "1234567_SB1", wantErr: errInvalid},
			},
		},
		{
			name:  "path segment keeps underscores",
			input: metadata.Input{Name: "tenant", Kind: metadata.PathSegment, UnderscoreToHyphen: true},
			cases: []normalizeCase{
				{name: "kept", value: "a_B", want: "a_B"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runNormalize(t, compiled(t, tt.input), tt.cases)
		})
	}
}

// TestNormalizeErrorOmitsValue checks that an error never repeats the value it rejects.
func TestNormalizeErrorOmitsValue(t *testing.T) {
	inputs := []metadata.Input{
		{Name: "label"},
		{Name: "host", Kind: metadata.Hostname},
		{Name: "segment", Kind: metadata.PathSegment},
		{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}},
		{Name: "note", Kind: metadata.Text},
		{Name: "patterned", Pattern: `[0-9]+`},
	}
	values := []string{
		sentinel + ".evil.com#",
		sentinel + "/",
		"a@" + sentinel + "#",
		sentinel + "\r\nX: 1",
		sentinel + "\x00",
		sentinel + strings.Repeat("a", 300),
		"../" + sentinel,
		sentinel + " evil",
		sentinel + "\xff",
	}
	for _, input := range inputs {
		in := compiled(t, input)
		for _, v := range values {
			_, err := in.Normalize(v)
			if err == nil {
				if in.Kind != metadata.Text {
					t.Errorf("input %s: Normalize(%q) = nil error, want an error", in.Name, v)
				}
				continue
			}
			if !errors.Is(err, metadata.ErrInvalidValue) {
				t.Errorf("input %s: Normalize(%q) = %v, want ErrInvalidValue", in.Name, v, err)
			}
			if strings.Contains(err.Error(), sentinel) {
				t.Errorf("input %s: error %q repeats the value", in.Name, err)
			}
		}
	}
}
