package main

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/connectkit/connect/providers"
)

// runOut runs the command with o and returns its output.
func runOut(t *testing.T, o options) (string, error) {
	t.Helper()
	var b strings.Builder
	err := run(&b, o)
	return b.String(), err
}

func defaults(provider string) options {
	return options{provider: provider, clientID: "demo-client-id", redirect: "https://api.example.com/callbacks/v1/oauth"}
}

// TestList checks that -list gives, for each provider, the flags its inputs need.
func TestList(t *testing.T) {
	out, err := runOut(t, options{list: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			lines[f[0]] = sc.Text()
		}
	}
	catalog := providers.Default()
	var workspace, meta, optional int
	for _, name := range catalog.Names() {
		p, _ := catalog.Lookup(name)
		line, ok := lines[name]
		if !ok {
			t.Errorf("-list lacks %s", name)
			continue
		}
		if !p.Accepts(providers.OAuth2AuthorizationCode) {
			if !strings.Contains(line, "no OAuth authorize flow") {
				t.Errorf("%s: %q, want it to say it has no OAuth authorize flow", name, line)
			}
			continue
		}
		for _, in := range p.Inputs {
			want := "-meta " + in.Name + "="
			if in.Name == "workspace" {
				want, workspace = "-workspace ", workspace+1
			} else {
				meta++
			}
			if in.Optional {
				want, optional = "["+want, optional+1
			}
			if !strings.Contains(line, want) {
				t.Errorf("%s: %q lacks %q", name, line, want)
			}
		}
	}
	if workspace == 0 || meta == 0 || optional == 0 {
		t.Errorf("checked %d workspace, %d metadata and %d optional inputs; want some of each", workspace, meta, optional)
	}
}

func TestListFilters(t *testing.T) {
	catalog := providers.Default()
	for _, tc := range []struct {
		category, kind string
		keep           func(*providers.Provider) bool
	}{
		{"crm", "", func(p *providers.Provider) bool { return p.Category == providers.CategoryCRM }},
		{"", "apiKey", func(p *providers.Provider) bool { return p.Accepts(providers.APIKey) }},
		{"accounting", "oauth2AuthorizationCode", func(p *providers.Provider) bool {
			return p.Category == providers.CategoryAccounting && p.Accepts(providers.OAuth2AuthorizationCode)
		}},
	} {
		out, err := runOut(t, options{list: true, category: tc.category, kind: tc.kind})
		if err != nil {
			t.Fatalf("-list -category %q -kind %q: %v", tc.category, tc.kind, err)
		}
		listed := map[string]bool{}
		for _, line := range strings.Split(out, "\n")[1:] {
			if f := strings.Fields(line); len(f) > 0 {
				listed[f[0]] = true
			}
		}
		want := 0
		for _, name := range catalog.Names() {
			p, _ := catalog.Lookup(name)
			if tc.keep(p) != listed[name] {
				t.Errorf("-category %q -kind %q: %s listed %v, want %v", tc.category, tc.kind, name, listed[name], tc.keep(p))
			}
			if tc.keep(p) {
				want++
			}
		}
		if want == 0 || !strings.Contains(out, fmt.Sprintf("\n%d providers.", want)) {
			t.Errorf("-category %q -kind %q: want %d providers counted, got:\n%s", tc.category, tc.kind, want, out)
		}
	}
	for _, bad := range []options{{list: true, category: "crms"}, {list: true, kind: "oauth"}, {category: "crm"}} {
		if _, err := runOut(t, bad); err == nil {
			t.Errorf("%+v: no error, want one naming the flag", bad)
		}
	}
}

// TestErrorsNameFlags checks that errors name the flags, not the request's JSON fields.
func TestErrorsNameFlags(t *testing.T) {
	catalog := providers.Default()
	// A provider that needs a workspace, and one that needs a metadata input.
	var needsWorkspace, needsMeta, metaName string
	for _, name := range catalog.Names() {
		p, _ := catalog.Lookup(name)
		if !p.Accepts(providers.OAuth2AuthorizationCode) {
			continue
		}
		for _, in := range p.Inputs {
			switch {
			case in.Optional:
			case in.Name == "workspace" && needsWorkspace == "" && len(p.Inputs) == 1:
				needsWorkspace = name
			case in.Name != "workspace" && needsMeta == "" && len(p.Inputs) == 1:
				needsMeta, metaName = name, in.Name
			}
		}
	}
	if needsWorkspace == "" || needsMeta == "" {
		t.Fatal("the catalog has no provider needing just a workspace, or just a metadata input")
	}
	withScopes := defaults("salesforce")
	withScopes.scopes = "read,a b"
	badMeta := defaults(needsMeta)
	badMeta.meta = metaName
	tests := []struct {
		name string
		o    options
		want string
	}{
		{"workspace", defaults(needsWorkspace), "-workspace: "},
		{"metadata", defaults(needsMeta), "-meta " + metaName + ": "},
		{"scopes", withScopes, "-scopes: "},
		{"provider", defaults("no-such-provider"), "-provider: "},
		{"meta syntax", badMeta, "-meta: give name=value pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOut(t, tt.o)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want one starting %q", err, tt.want)
			}
			for _, wire := range []string{"providerWorkspaceRef", "providerMetadata", "scopes[", "connect: invalid request"} {
				if strings.Contains(err.Error(), wire) {
					t.Errorf("error %q names %s", err, wire)
				}
			}
		})
	}
}

func TestAuthorizeURL(t *testing.T) {
	o := defaults("zendesk")
	o.workspace = "acme"
	out, err := runOut(t, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"https://acme.zendesk.com/", "code_challenge_method=S256", "__Host-connect-binding-", "not printed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "never-printed") {
		t.Error("the output has the client secret")
	}
}
