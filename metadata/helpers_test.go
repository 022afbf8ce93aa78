package metadata_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
)

// sentinel is embedded in hostile values; no error text may repeat it.
const sentinel = "zqsentinelzq"

// compiled returns a compiled copy of in, failing the test if it does not compile.
func compiled(t testing.TB, in metadata.Input) *metadata.Input {
	t.Helper()
	if err := in.Compile(); err != nil {
		t.Fatalf("Compile(%+v) = %v, want nil", in, err)
	}
	return &in
}

// zendeskAuth is Zendesk's authorize URL template, with its workspace in the host.
const zendeskAuth = "https://{{workspace}}.zendesk.com/oauth/authorizations/new"

// The inputs and hosts of the templates the tests parse.
var (
	workspaceInput = metadata.Input{Name: "workspace", Kind: metadata.DNSLabel}
	tenantInput    = metadata.Input{Name: "tenant", Kind: metadata.PathSegment}
	zendeskHosts   = metadata.Hosts{"*.zendesk.com"}
)

// parse compiles the inputs and parses the template, failing the test on an error.
func parse(t testing.TB, s string, inputs []metadata.Input, hosts metadata.Hosts) *metadata.Template {
	t.Helper()
	inputs = slices.Clone(inputs)
	for i := range inputs {
		inputs[i] = *compiled(t, inputs[i])
	}
	tmpl, err := metadata.ParseTemplate(s, inputs, hosts)
	if err != nil {
		t.Fatalf("ParseTemplate(%q) = %v, want nil", s, err)
	}
	return tmpl
}

// hostileWorkspaces is the list of docs/security.md, G1; every value must be rejected.
var hostileWorkspaces = []string{
	"evil.com#", "evil.com/", "evil.com?", `evil.com\`, "a@evil.com#", "evil.com%2f", "evil.com%23",
	"a.b", "..", ".", "-acme", "acme-", "a_b", strings.Repeat("a", 64),
	"\u0430cme",  // Cyrillic а
	"ａｃｍｅ",       // fullwidth
	"ACME\u212A", // Kelvin sign, which strings.ToLower maps to k
	"xn--80ak6aa92e", "acme:8443", "127.0.0.1#", "[::1]#", "acme\x00", "acme evil", "",
	"acme\r\nX: 1", "acme%00", "evil.com:443#", "evil.com?x=", "%65vil",
}

// zendeskHost is an oracle written apart from Hosts.Match.
var zendeskHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.zendesk\.com$`)
