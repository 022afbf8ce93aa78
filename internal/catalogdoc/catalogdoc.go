// Package catalogdoc renders a provider registry as the human-readable catalog page,
// docs/providers.md, which `go generate ./providers` writes and a test keeps current.
package catalogdoc

import (
	"fmt"
	"sort"
	"strings"

	"github.com/connectkit/connect/providers"
)

// Render returns the catalog page of r: one row per provider with its auth kinds, inputs,
// PKCE and refresh-token rule, and counts by auth kind.
func Render(r *providers.Registry) string {
	var b strings.Builder
	names := r.Names()
	b.WriteString("# Provider catalog\n\n")
	b.WriteString("Generated from the embedded catalog (`providers/catalog/*.json`) by `go generate ./providers`;\n")
	b.WriteString("do not edit. Each provider's facts come from the documentation linked in its row.\n\n")
	counts := map[string]int{}
	for _, name := range names {
		p, _ := r.Lookup(name)
		for _, k := range kinds(p) {
			counts[k]++
		}
	}
	fmt.Fprintf(&b, "%d providers. By auth kind: ", len(names))
	ks := make([]string, 0, len(counts))
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, counts[k])
	}
	b.WriteString(".\n\n")
	b.WriteString("| provider | auth kinds | inputs | PKCE | refresh token | scope separator | docs |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, name := range names {
		p, _ := r.Lookup(name)
		fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s | %s | %s |\n",
			p.Name, cell(p.DisplayName), strings.Join(kinds(p), ", "), inputs(p), pkce(p), refresh(p),
			separator(p), docs(p))
	}
	return b.String()
}

func kinds(p *providers.Provider) []string {
	var out []string
	for _, k := range []providers.AuthKind{providers.OAuth2AuthorizationCode, providers.OAuth2ClientCredentials,
		providers.OAuth2PasswordCredentials, providers.APIKey, providers.BasicAuth, providers.CustomAuth} {
		if p.Accepts(k) {
			out = append(out, string(k))
		}
	}
	return out
}

func inputs(p *providers.Provider) string {
	if len(p.Inputs) == 0 {
		return "-"
	}
	var parts []string
	for _, in := range p.Inputs {
		kind := string(in.Kind)
		if kind == "" {
			kind = "dnsLabel"
		}
		s := "`" + in.Name + "` (" + kind
		if in.Optional {
			s += ", optional"
		}
		if in.Default != "" {
			s += ", default `" + in.Default + "`"
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, "; ")
}

func pkce(p *providers.Provider) string {
	if p.AuthURL == "" {
		return "-"
	}
	if p.PKCE == "" {
		return string(providers.PKCESupported)
	}
	return string(p.PKCE)
}

func refresh(p *providers.Provider) string {
	if p.AuthURL == "" && !p.Accepts(providers.OAuth2PasswordCredentials) {
		return "-"
	}
	switch p.Refresh.By {
	case "", providers.RefreshByOfflineAccess:
		return "`offline_access` scope"
	case providers.RefreshByScope:
		return "scope `" + p.Refresh.Scope + "`"
	case providers.RefreshByParam:
		return "`" + p.Refresh.Param + "=" + p.Refresh.Value + "`"
	case providers.RefreshByDefault:
		return "always"
	case providers.RefreshByApproval:
		return "approved apps only"
	}
	return "none"
}

func separator(p *providers.Provider) string {
	if p.AuthURL == "" {
		return "-"
	}
	if s := p.Separator(); s != " " {
		return "`" + s + "`"
	}
	return "space"
}

func docs(p *providers.Provider) string {
	if p.Docs == "" {
		return "-"
	}
	return "[docs](" + p.Docs + ")"
}

// cell escapes text for a table cell.
func cell(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) }
