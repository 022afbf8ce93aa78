package metadata_test

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/google/go-cmp/cmp"
)

func TestParseTemplate(t *testing.T) {
	text := metadata.Input{Name: "note", Kind: metadata.Text}
	region := metadata.Input{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}}
	tests := []struct {
		name    string
		tmpl    string
		inputs  []metadata.Input
		hosts   metadata.Hosts
		wantErr bool
	}{
		{name: "no placeholder", tmpl: "https://api.example.com/oauth/token"},
		{name: "no placeholder with query", tmpl: "https://api.example.com/oauth/token?v=2"},
		{name: "placeholder in host", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts},
		{name: "placeholder in path", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput}},
		{name: "placeholder in path before a query", tmpl: "https://api.example.com/{{tenant}}/oauth?v=2", inputs: []metadata.Input{tenantInput}},
		{name: "placeholder at the end", tmpl: "https://api.example.com/x/{{tenant}}", inputs: []metadata.Input{tenantInput}},
		{name: "dnsLabel in path", tmpl: "https://api.example.com/{{workspace}}/oauth", inputs: []metadata.Input{workspaceInput}},
		{name: "enum of host names in host", tmpl: "https://{{region}}.api.example.com/", inputs: []metadata.Input{region}, hosts: metadata.Hosts{"us.api.example.com", "eu.api.example.com"}},
		{name: "two placeholders", tmpl: "https://{{workspace}}.zendesk.com/{{tenant}}", inputs: []metadata.Input{workspaceInput, tenantInput}, hosts: zendeskHosts},
		{name: "http on 127.0.0.1", tmpl: "http://127.0.0.1:8080/token"},
		{name: "http on [::1]", tmpl: "http://[::1]:8080/token"},
		{name: "port", tmpl: "https://{{workspace}}.zendesk.com:8443/x", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts},

		{name: "empty", tmpl: "", wantErr: true},
		{name: "undeclared placeholder", tmpl: zendeskAuth, hosts: zendeskHosts, wantErr: true},
		{name: "placeholder of another name", tmpl: "https://{{Workspace}}.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "empty placeholder", tmpl: "https://{{}}.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "placeholder with spaces", tmpl: "https://{{ workspace }}.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "unmatched {{", tmpl: "https://{{workspace.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "unmatched {{ at the end", tmpl: "https://api.example.com/{{", wantErr: true},
		{name: "unmatched }}", tmpl: "https://workspace}}.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "unmatched }} after a placeholder", tmpl: "https://{{workspace}}.zendesk.com/}}", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "text input in path", tmpl: "https://api.example.com/{{note}}", inputs: []metadata.Input{text}, wantErr: true},
		{name: "text input in host", tmpl: "https://{{note}}.example.com/", inputs: []metadata.Input{text}, hosts: metadata.Hosts{"*.example.com"}, wantErr: true},
		{name: "placeholder in query value", tmpl: "https://api.example.com/x?t={{tenant}}", inputs: []metadata.Input{tenantInput}, wantErr: true},
		{name: "placeholder as query", tmpl: "https://api.example.com/x?{{tenant}}", inputs: []metadata.Input{tenantInput}, wantErr: true},
		{name: "placeholder in query of host-only URL", tmpl: "https://api.example.com?t={{tenant}}", inputs: []metadata.Input{tenantInput}, wantErr: true},
		{name: "placeholder in fragment", tmpl: "https://api.example.com/x#{{tenant}}", inputs: []metadata.Input{tenantInput}, wantErr: true},
		{name: "placeholder in scheme", tmpl: "{{scheme}}://api.example.com/x", inputs: []metadata.Input{{Name: "scheme", Kind: metadata.Enum, Values: []string{"https"}}}, hosts: metadata.Hosts{"api.example.com"}, wantErr: true},
		{name: "placeholder in host, no hosts", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, wantErr: true},
		{name: "placeholder in host, empty hosts", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: metadata.Hosts{}, wantErr: true},
		{name: "http", tmpl: "http://api.example.com/token", wantErr: true},
		{name: "http on localhost", tmpl: "http://localhost:8080/token", wantErr: true},
		{name: "http on a private address", tmpl: "http://10.0.0.5/token", wantErr: true},
		{name: "ftp", tmpl: "ftp://api.example.com/token", wantErr: true},
		{name: "javascript", tmpl: "javascript:alert(1)", wantErr: true},
		{name: "scheme-relative", tmpl: "//api.example.com/token", wantErr: true},
		{name: "relative", tmpl: "/oauth/token", wantErr: true},
		{name: "opaque", tmpl: "https:api.example.com/token", wantErr: true},
		{name: "no host", tmpl: "https:///token", wantErr: true},
		{name: "port only", tmpl: "https://:443/token", wantErr: true},
		{name: "user info", tmpl: "https://user@api.example.com/token", wantErr: true},
		{name: "user and password", tmpl: "https://user:pw@api.example.com/token", wantErr: true},
		{name: "user info before placeholder host", tmpl: "https://u@{{workspace}}.zendesk.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "fragment", tmpl: "https://api.example.com/token#frag", wantErr: true},
		{name: "does not parse", tmpl: "https://api.example.com/%zz", wantErr: true},
		{name: "bad host pattern: star", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: metadata.Hosts{"*"}, wantErr: true},
		{name: "bad host pattern: uppercase", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: metadata.Hosts{"*.Zendesk.com"}, wantErr: true},
		{name: "bad host pattern: port", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: metadata.Hosts{"*.zendesk.com", "zendesk.com:443"}, wantErr: true},
		{name: "bad host pattern: double star", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: metadata.Hosts{"**.zendesk.com"}, wantErr: true},
		{name: "template host not allowed", tmpl: "https://api.example.com/token", hosts: zendeskHosts, wantErr: true},
		{name: "template host is the wildcard apex", tmpl: "https://zendesk.com/token", hosts: zendeskHosts, wantErr: true},
		{name: "placeholder host not allowed", tmpl: "https://{{workspace}}.example.com/", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts, wantErr: true},
		{name: "hostname in host needs two-label wildcard", tmpl: "https://{{host}}.zendesk.com/", inputs: []metadata.Input{{Name: "host", Kind: metadata.Hostname}}, hosts: zendeskHosts},
		{name: "pathSegment in host", tmpl: "https://{{tenant}}.zendesk.com/", inputs: []metadata.Input{tenantInput}, hosts: zendeskHosts, wantErr: true},
		{name: "pathSegment as whole host", tmpl: "https://{{tenant}}/", inputs: []metadata.Input{tenantInput}, hosts: zendeskHosts, wantErr: true},
		{name: "enum with a value that is not a host name in host", tmpl: "https://{{region}}.zendesk.com/", inputs: []metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu_west"}}}, hosts: zendeskHosts, wantErr: true},
		{name: "enum with a slash in host", tmpl: "https://{{region}}.zendesk.com/", inputs: []metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"us", "evil.com/"}}}, hosts: zendeskHosts, wantErr: true},
		{name: "enum with a slash in path", tmpl: "https://api.example.com/{{region}}/oauth", inputs: []metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"v1", "a/b"}}}, wantErr: true},
		{name: "enum with a dot-dot in path", tmpl: "https://api.example.com/{{region}}/oauth", inputs: []metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"v1", ".."}}}, wantErr: true},
		{name: "dot-dot segment in the template", tmpl: "https://api.example.com/{{tenant}}/../admin", inputs: []metadata.Input{tenantInput}, wantErr: true},
		{name: "enum without values", tmpl: "https://api.example.com/{{region}}/oauth", inputs: []metadata.Input{{Name: "region", Kind: metadata.Enum}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := metadata.ParseTemplate(tt.tmpl, slices.Clone(tt.inputs), tt.hosts)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("ParseTemplate(%q) = %v, want error: %v", tt.tmpl, err, tt.wantErr)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "metadata: ") {
					t.Errorf("error %q does not start with %q", err, "metadata: ")
				}
				if tmpl != nil {
					t.Errorf("ParseTemplate returned a template with its error")
				}
				return
			}
			if got := tmpl.String(); got != tt.tmpl {
				t.Errorf("String() = %q, want %q", got, tt.tmpl)
			}
		})
	}
}

func TestTemplatePlaceholders(t *testing.T) {
	inputs := []metadata.Input{
		{Name: "workspace"},
		{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}},
		{Name: "tenant", Kind: metadata.PathSegment},
		{Name: "unused"},
	}
	hosts := metadata.Hosts{"*.us.example.com", "*.eu.example.com"}
	tests := []struct {
		name string
		tmpl string
		want []string
	}{
		{name: "none", tmpl: "https://api.example.com/x", want: nil},
		{name: "one", tmpl: "https://api.example.com/{{tenant}}", want: []string{"tenant"}},
		{name: "order of appearance", tmpl: "https://{{workspace}}.{{region}}.example.com/{{tenant}}/x", want: []string{"workspace", "region", "tenant"}},
		{name: "other order", tmpl: "https://{{workspace}}.{{region}}.example.com/{{tenant}}/{{workspace}}", want: []string{"workspace", "region", "tenant", "workspace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hosts
			if len(tt.want) == 0 || tt.want[0] == "tenant" {
				h = nil
			}
			tmpl := parse(t, tt.tmpl, inputs, h)
			got := tmpl.Placeholders()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Placeholders() = %q, want %q", got, tt.want)
			}
			if len(got) > 0 {
				got[0] = "changed"
				if again := tmpl.Placeholders(); again[0] == "changed" {
					t.Errorf("Placeholders() shares its slice with the template")
				}
			}
		})
	}
}

func TestTemplateHosts(t *testing.T) {
	tests := []struct {
		name  string
		tmpl  string
		hosts metadata.Hosts
		want  metadata.Hosts
	}{
		{name: "given", tmpl: zendeskAuth, hosts: zendeskHosts, want: zendeskHosts},
		{name: "the template's own host when none given", tmpl: "https://api.example.com/token", want: metadata.Hosts{"api.example.com"}},
		{name: "the loopback host when none given", tmpl: "http://[::1]:8080/token", want: metadata.Hosts{"::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parse(t, tt.tmpl, []metadata.Input{workspaceInput}, tt.hosts).Hosts()
			if !slices.Equal(got, tt.want) {
				t.Errorf("Hosts() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderHostileWorkspace(t *testing.T) {
	tmpl := parse(t, zendeskAuth, []metadata.Input{workspaceInput}, zendeskHosts)
	for _, v := range hostileWorkspaces {
		t.Run(v, func(t *testing.T) {
			got, err := tmpl.Render(metadata.Values{"workspace": v})
			if err == nil {
				t.Fatalf("Render(workspace=%q) = %q, want an error", v, got)
			}
			if got != "" {
				t.Errorf("Render(workspace=%q) returned %q with its error", v, got)
			}
			var ve *metadata.ValueError
			if !(errors.As(err, &ve) && ve.Input == "workspace") && !errors.Is(err, metadata.ErrInvalidValue) {
				t.Errorf("Render(workspace=%q) = %v, want a *ValueError for workspace or ErrInvalidValue", v, err)
			}
		})
	}
}

func TestRender(t *testing.T) {
	region := metadata.Input{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}, Optional: true, Default: "us"}
	optTenant := metadata.Input{Name: "tenant", Kind: metadata.PathSegment, Optional: true}
	host := metadata.Input{Name: "host", Kind: metadata.Hostname}
	hostHosts := metadata.Hosts{"*.example.com", "*.eu.example.com"}
	tests := []struct {
		name    string
		tmpl    string
		inputs  []metadata.Input
		hosts   metadata.Hosts
		values  metadata.Values
		want    string
		wantErr error  // matched with errors.Is
		wantIn  string // the *ValueError's Input, if any
	}{
		{name: "workspace", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: metadata.Values{"workspace": "acme"}, want: "https://acme.zendesk.com/oauth/authorizations/new"},
		{name: "workspace lowercased", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: metadata.Values{"workspace": "ACME"}, want: "https://acme.zendesk.com/oauth/authorizations/new"},
		{name: "extra values ignored", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: metadata.Values{"workspace": "acme", "other": "evil.com#"}, want: "https://acme.zendesk.com/oauth/authorizations/new"},
		{name: "workspace absent", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: nil, wantErr: metadata.ErrMissing, wantIn: "workspace"},
		{name: "port kept", tmpl: "https://{{workspace}}.zendesk.com:8443/x", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: metadata.Values{"workspace": "acme"}, want: "https://acme.zendesk.com:8443/x"},
		{name: "query kept", tmpl: "https://{{workspace}}.zendesk.com/x?a=1&b=2", inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: metadata.Values{"workspace": "acme"}, want: "https://acme.zendesk.com/x?a=1&b=2"},
		{name: "tenant domain", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "contoso.onmicrosoft.com"}, want: "https://api.example.com/contoso.onmicrosoft.com/oauth"},
		{name: "tenant GUID", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, want: "https://api.example.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth"},
		{name: "tenant traversal", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "../admin"}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant encoded dots", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "%2e%2e"}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant slash", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "a/b"}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant query", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "a?x=1"}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant fragment", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "a#b"}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant dot dot", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": ".."}, wantErr: metadata.ErrInvalidValue, wantIn: "tenant"},
		{name: "tenant dot completing a dot-dot segment", tmpl: "https://api.example.com/.{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "."}, wantErr: metadata.ErrInvalidValue},
		{name: "two tenants forming a dot-dot segment", tmpl: "https://api.example.com/{{tenant}}{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: metadata.Values{"tenant": "."}, wantErr: metadata.ErrInvalidValue},
		{name: "optional with default absent", tmpl: "https://{{region}}.api.example.com/x", inputs: []metadata.Input{region}, hosts: metadata.Hosts{"us.api.example.com", "eu.api.example.com"},
			values: nil, want: "https://us.api.example.com/x"},
		{name: "optional with default empty", tmpl: "https://{{region}}.api.example.com/x", inputs: []metadata.Input{region}, hosts: metadata.Hosts{"us.api.example.com", "eu.api.example.com"},
			values: metadata.Values{"region": ""}, want: "https://us.api.example.com/x"},
		{name: "optional with default given", tmpl: "https://{{region}}.api.example.com/x", inputs: []metadata.Input{region}, hosts: metadata.Hosts{"us.api.example.com", "eu.api.example.com"},
			values: metadata.Values{"region": "eu"}, want: "https://eu.api.example.com/x"},
		{name: "optional with default, bad value", tmpl: "https://{{region}}.api.example.com/x", inputs: []metadata.Input{region}, hosts: metadata.Hosts{"us.api.example.com", "eu.api.example.com"},
			values: metadata.Values{"region": "ap"}, wantErr: metadata.ErrInvalidValue, wantIn: "region"},
		{name: "optional without default absent", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{optTenant},
			values: nil, wantErr: metadata.ErrMissing, wantIn: "tenant"},
		{name: "optional without default given", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{optTenant},
			values: metadata.Values{"tenant": "common"}, want: "https://api.example.com/common/oauth"},
		{name: "hostname one label", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{host}, hosts: hostHosts,
			values: metadata.Values{"host": "Acme"}, want: "https://acme.example.com/oauth"},
		{name: "hostname two labels", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{host}, hosts: hostHosts,
			values: metadata.Values{"host": "Acme.EU"}, want: "https://acme.eu.example.com/oauth"},
		{name: "hostname not allowed", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{host}, hosts: hostHosts,
			values: metadata.Values{"host": "evil.com"}, wantErr: metadata.ErrInvalidValue},
		{name: "hostname under the wrong suffix", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{host}, hosts: hostHosts,
			values: metadata.Values{"host": "a.b"}, wantErr: metadata.ErrInvalidValue},
		{name: "hostname of three labels", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{host}, hosts: hostHosts,
			values: metadata.Values{"host": "a.b.eu"}, wantErr: metadata.ErrInvalidValue},
		{name: "no placeholders", tmpl: "https://api.example.com/oauth/token?v=2", values: metadata.Values{"workspace": "evil.com#"},
			want: "https://api.example.com/oauth/token?v=2"},
		{name: "no placeholders, nil values", tmpl: "http://127.0.0.1:8080/token", want: "http://127.0.0.1:8080/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := parse(t, tt.tmpl, tt.inputs, tt.hosts)
			got, err := tmpl.Render(tt.values)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Render(%q) = %q, %v; want %q, nil", tt.values, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Render(%q) = %q, %v; want error %v", tt.values, got, err, tt.wantErr)
			}
			if got != "" {
				t.Errorf("Render(%q) returned %q with its error", tt.values, got)
			}
			if tt.wantIn != "" {
				var ve *metadata.ValueError
				if !errors.As(err, &ve) || ve.Input != tt.wantIn {
					t.Errorf("Render(%q) = %v (%T), want a *ValueError for %s", tt.values, err, err, tt.wantIn)
				}
			}
		})
	}
}

// TestRenderErrorOmitsValue checks that no Render error repeats the value at fault, including
// errors found only after the URL is rendered.
func TestRenderErrorOmitsValue(t *testing.T) {
	tests := []struct {
		name   string
		tmpl   string
		inputs []metadata.Input
		hosts  metadata.Hosts
		values []string
	}{
		{
			name: "dnsLabel in host", tmpl: zendeskAuth, inputs: []metadata.Input{workspaceInput}, hosts: zendeskHosts,
			values: []string{sentinel + ".evil.com#", "a@" + sentinel + "#", sentinel + "\r\n", strings.Repeat(sentinel, 6)},
		},
		{
			name: "hostname in host", tmpl: "https://{{host}}.example.com/oauth", inputs: []metadata.Input{{Name: "host", Kind: metadata.Hostname}}, hosts: metadata.Hosts{"*.example.com"},
			values: []string{sentinel + ".evil.com", "evil." + sentinel, sentinel + ".a", sentinel + "/"},
		},
		{
			name: "pathSegment in path", tmpl: "https://api.example.com/{{tenant}}/oauth", inputs: []metadata.Input{tenantInput},
			values: []string{"../" + sentinel, sentinel + "?x=1", sentinel + "#", sentinel + "%2f"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := parse(t, tt.tmpl, tt.inputs, tt.hosts)
			name := tmpl.Placeholders()[0]
			for _, v := range tt.values {
				got, err := tmpl.Render(metadata.Values{name: v})
				if err == nil {
					t.Errorf("Render(%s=%q) = %q, want an error", name, v, got)
					continue
				}
				if strings.Contains(err.Error(), sentinel) {
					t.Errorf("Render(%s=%q) error %q repeats the value", name, v, err)
				}
			}
		})
	}
}

// TestRenderUncompiledInputs checks that ParseTemplate does not rely on its caller having
// compiled the inputs: a pattern still applies.
func TestRenderUncompiledInputs(t *testing.T) {
	inputs := []metadata.Input{{Name: "workspace", Pattern: `[a-z]+`}}
	tmpl, err := metadata.ParseTemplate(zendeskAuth, inputs, zendeskHosts)
	if err != nil {
		t.Fatalf("ParseTemplate = %v", err)
	}
	if got, err := tmpl.Render(metadata.Values{"workspace": "acme1"}); err == nil {
		t.Errorf("Render(workspace=acme1) = %q, want an error from the pattern", got)
	}
	if got, err := tmpl.Render(metadata.Values{"workspace": "acme"}); err != nil {
		t.Errorf("Render(workspace=acme) = %q, %v; want success", got, err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{url: "https://api.example.com/oauth/token"},
		{url: "https://api.example.com"},
		{url: "https://api.example.com:8443/x?a=1"},
		{url: "HTTPS://api.example.com/"},
		{url: "http://127.0.0.1/cb"},
		{url: "http://127.0.0.1:8080/cb"},
		{url: "http://127.1.2.3/cb"},
		{url: "http://[::1]/cb"},
		{url: "http://[::1]:8080/cb"},

		{url: "http://api.example.com/token", wantErr: true},
		{url: "http://localhost/cb", wantErr: true},
		{url: "http://0.0.0.0/cb", wantErr: true},
		{url: "http://10.0.0.5/cb", wantErr: true},
		{url: "http://[2001:db8::1]/cb", wantErr: true},
		{url: "https://[2001:db8::1]/x", wantErr: true},
		{url: "https://API.example.com/", wantErr: true},
		{url: "https://xn--80ak6aa92e.com/", wantErr: true},
		{url: "http://[0:0:0:0:0:0:0:1]/cb", wantErr: true},
		{url: "https://api.example.com:0/", wantErr: true},
		{url: "ftp://api.example.com/", wantErr: true},
		{url: "javascript:alert(1)", wantErr: true},
		{url: "data:text/html,x", wantErr: true},
		{url: "//api.example.com/x", wantErr: true},
		{url: "/x", wantErr: true},
		{url: "", wantErr: true},
		{url: "https:api.example.com", wantErr: true},
		{url: "https:///x", wantErr: true},
		{url: "https://:443/x", wantErr: true},
		{url: "https://user@api.example.com/", wantErr: true},
		{url: "https://user:pw@api.example.com/", wantErr: true},
		{url: "https://:@api.example.com/", wantErr: true},
		{url: "https://api.example.com/#frag", wantErr: true},
		{url: "https://api.example.com/?x=1#frag", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatalf("url.Parse(%q) = %v", tt.url, err)
			}
			err = metadata.CheckURL(u)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("CheckURL(%q) = %v, want error: %v", tt.url, err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Errorf("error %q does not start with %q", err, "metadata: ")
			}
		})
	}
}

func TestTemplateMatch(t *testing.T) {
	zendesk := parse(t, zendeskAuth, []metadata.Input{workspaceInput}, zendeskHosts)
	tenant := parse(t, "https://login.example.com/{{tenant}}/oauth2/authorize?v=2", []metadata.Input{tenantInput}, nil)
	host := parse(t, "https://{{host}}.my.salesforce.com/services/oauth2/authorize", []metadata.Input{{Name: "host", Kind: metadata.Hostname}},
		metadata.Hosts{"*.my.salesforce.com", "*.sandbox.my.salesforce.com"})
	region := parse(t, "https://{{region}}.example.com/{{workspace}}/authorize",
		[]metadata.Input{{Name: "region", Kind: metadata.Enum, Values: []string{"us", "eu"}}, workspaceInput}, metadata.Hosts{"us.example.com", "eu.example.com"})
	fixed := parse(t, "https://app.example.com/oauth/authorize", nil, nil)
	tests := []struct {
		tmpl    *metadata.Template
		url     string
		want    metadata.Values
		wantErr string // "" for success; "input" for a *ValueError; "match" for ErrNoMatch
	}{
		{zendesk, "https://acme.zendesk.com/oauth/authorizations/new", metadata.Values{"workspace": "acme"}, ""},
		{zendesk, "https://acme-2.zendesk.com/oauth/authorizations/new", metadata.Values{"workspace": "acme-2"}, ""},
		{zendesk, "https://ACME.zendesk.com/oauth/authorizations/new", nil, "match"}, // not as the template renders it
		{zendesk, "https://a.b.zendesk.com/oauth/authorizations/new", nil, "match"},
		{zendesk, "https://evil.com/x.zendesk.com/oauth/authorizations/new", nil, "input"},
		{zendesk, "https://evil.com#.zendesk.com/oauth/authorizations/new", nil, "input"},
		{zendesk, "https://acme.zendesk.com/oauth/authorizations/new?prompt=none", nil, "match"},
		{zendesk, "https://acme.zendesk.com/oauth/authorizations/newer", nil, "match"},
		{zendesk, "https://.zendesk.com/oauth/authorizations/new", nil, "input"},
		{zendesk, "http://acme.zendesk.com/oauth/authorizations/new", nil, "match"},
		{zendesk, "", nil, "match"},
		{tenant, "https://login.example.com/contoso/oauth2/authorize?v=2", metadata.Values{"tenant": "contoso"}, ""},
		{tenant, "https://login.example.com/contoso/oauth2/authorize", nil, "match"},
		{tenant, "https://login.example.com/../oauth2/authorize?v=2", nil, "input"},
		{tenant, "https://login.example.com/a/b/oauth2/authorize?v=2", nil, "input"},
		{host, "https://acme.my.salesforce.com/services/oauth2/authorize", metadata.Values{"host": "acme"}, ""},
		{host, "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize", metadata.Values{"host": "acme--uat.sandbox"}, ""},
		{host, "https://a.b.c.my.salesforce.com/services/oauth2/authorize", nil, "match"}, // renders, but not to an allowed host
		{host, "https://evil.example/.my.salesforce.com/services/oauth2/authorize", nil, "input"},
		{region, "https://eu.example.com/acme/authorize", metadata.Values{"region": "eu", "workspace": "acme"}, ""},
		{region, "https://ap.example.com/acme/authorize", nil, "input"},
		{fixed, "https://app.example.com/oauth/authorize", metadata.Values{}, ""},
		{fixed, "https://app.example.com/oauth/authorize/", nil, "match"},
		{fixed, "https://app.example.com.evil.com/oauth/authorize", nil, "match"},
	}
	for _, tt := range tests {
		got, err := tt.tmpl.Match(tt.url)
		var ve *metadata.ValueError
		switch {
		case tt.wantErr == "" && (err != nil || !maps.Equal(got, tt.want)):
			t.Errorf("%s.Match(%q) = %v, %v; want %v", tt.tmpl, tt.url, got, err, tt.want)
		case tt.wantErr == "input" && !errors.As(err, &ve):
			t.Errorf("%s.Match(%q) = %v, %v; want a *ValueError", tt.tmpl, tt.url, got, err)
		case tt.wantErr == "match" && !errors.Is(err, metadata.ErrNoMatch) && !errors.Is(err, metadata.ErrInvalidValue):
			t.Errorf("%s.Match(%q) = %v, %v; want ErrNoMatch", tt.tmpl, tt.url, got, err)
		}
		if err != nil && tt.url != "" && strings.Contains(err.Error(), tt.url) {
			t.Errorf("%s.Match(%q): the error %q holds the URL", tt.tmpl, tt.url, err)
		}
	}
}

func TestParseTemplateChecksEveryEnumHost(t *testing.T) {
	inputs := []metadata.Input{*compiled(t, metadata.Input{Name: "dc", Kind: metadata.Enum, Values: []string{"com", "eu", "evil.example"}})}
	_, err := metadata.ParseTemplate("https://accounts.zoho.{{dc}}/oauth/v2/auth", inputs,
		metadata.Hosts{"accounts.zoho.com", "accounts.zoho.eu"})
	if err == nil {
		t.Fatal("a template whose enum value renders off the allowed hosts parsed")
	}
	inputs[0].Values = inputs[0].Values[:2]
	if _, err := metadata.ParseTemplate("https://accounts.zoho.{{dc}}/oauth/v2/auth", inputs,
		metadata.Hosts{"accounts.zoho.com", "accounts.zoho.eu"}); err != nil {
		t.Errorf("ParseTemplate: %v", err)
	}
}
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []metadata.Segment
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "plain", want: []metadata.Segment{{Lit: "plain"}}},
		{in: "Token token={{apiKey}}", want: []metadata.Segment{{Lit: "Token token="}, {Name: "apiKey"}}},
		{in: "{{a}}{{b}}/x", want: []metadata.Segment{{Name: "a"}, {Name: "b"}, {Lit: "/x"}}},
		{in: "{{}}", want: []metadata.Segment{{Name: ""}}},
		{in: "a{{b", wantErr: true},
		{in: "a}}b", wantErr: true},
		{in: "}}{{a}}", wantErr: true},
	} {
		got, err := metadata.Split(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("Split(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
			t.Errorf("Split(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}
