// Package catalogdoc renders a provider registry as the human-readable catalog page,
// docs/providers.md, which `go generate ./providers` writes and a test keeps current.
package catalogdoc

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/connectkit/connect/providers"
)

// Render returns the catalog page of r: a summary of how many providers there are in each
// category and accept each auth kind, then a section per category, with the count in its
// heading, that has a row per provider for its auth kinds, inputs, PKCE and refresh-token
// rule, and one for its API, credential placement, verification and revocation.
func Render(r *providers.Registry) string {
	var b strings.Builder
	names := r.Names()
	b.WriteString("# Provider catalog\n\n")
	b.WriteString("Generated from the embedded catalog (`providers/catalog/*.json`) by `go generate ./providers`;\n")
	b.WriteString("do not edit. Each provider's facts come from the documentation linked in its row.\n\n")
	byCategory, byKind := map[string]int{}, map[string]int{}
	for _, name := range names {
		p, _ := r.Lookup(name)
		byCategory[category(p)]++
		for _, k := range kinds(p) {
			byKind[k]++
		}
	}
	fmt.Fprintf(&b, "%d providers.\n\n", len(names))
	// Categories in their fixed order, then any uncategorized ("-"); auth kinds in the order
	// of the rows' auth kinds column.
	var cs []string
	for _, c := range providers.Categories() {
		cs = append(cs, string(c))
	}
	summary(&b, "category", append(cs, "-"), byCategory)
	summary(&b, "auth kind", kindNames, byKind)
	b.WriteString("Providers by category: for each, its OAuth rules, then how its connections are used\n")
	b.WriteString("(where its API is, how `Connector.Client` sends each credential kind, the request\n")
	b.WriteString("`Connector.Verify` makes, and where `DeleteConnection` revokes an OAuth grant).\n")
	for _, c := range append(cs, "-") {
		var in []*providers.Provider
		for _, name := range names {
			if p, _ := r.Lookup(name); category(p) == c {
				in = append(in, p)
			}
		}
		if len(in) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n", categoryTitle(c), len(in))
		b.WriteString("| provider | auth kinds | inputs | PKCE | refresh token | scope separator | docs |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, p := range in {
			fmt.Fprintf(&b, "| `%s` %s | %s | %s | %s | %s | %s | %s |\n",
				p.Name, cell(p.DisplayName), strings.Join(kinds(p), ", "), inputs(p), pkce(p),
				refresh(p), separator(p), docs(p))
		}
		b.WriteString("\n| provider | API base URL | credentials | verification | revocation | API docs |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, p := range in {
			fmt.Fprintf(&b, "| `%s` | %s |\n", p.Name, apiCells(p))
		}
	}
	return b.String()
}

// categoryTitle is a category's heading on the page.
func categoryTitle(c string) string {
	if c == "-" {
		return "Uncategorized"
	}
	return categoryTitles[c]
}

// categoryTitles name the categories for people.
var categoryTitles = map[string]string{
	"crm": "CRM and sales", "support": "Customer support", "productivity": "Productivity",
	"devtools": "Developer tools", "accounting": "Accounting and payments", "hr": "HR and recruiting",
	"marketing": "Marketing", "commerce": "Commerce", "communication": "Communication",
	"identity": "Identity", "storage": "Storage", "analytics": "Analytics", "social": "Social",
	"other": "Other",
}

// apiCells renders the API data of p as the cells after the provider's name.
func apiCells(p *providers.Provider) string {
	a := p.API
	revocation := "-"
	if p.RevocationURL != "" {
		revocation = "`" + p.RevocationURL + "`"
		if p.RevocationStyle == providers.RevokeBearer {
			revocation += " (bearer)"
		}
	}
	if a == nil {
		return "not declared | - | - | " + revocation + " | -"
	}
	base := "`" + a.BaseURL + "`"
	if a.DefaultBaseURL != "" {
		base += ", else `" + a.DefaultBaseURL + "`"
	}
	if a.BaseURLFrom != "" {
		base += ", host from `" + a.BaseURLFrom + "`"
	}
	for _, h := range a.Hosts {
		base += ", `" + h + "`"
	}
	verify := "-"
	if a.Verify != nil {
		verify = "`" + a.Verify.Method + " " + a.Verify.Path + "`"
	}
	apiDocs := "-"
	if a.Docs != "" {
		apiDocs = "[docs](" + a.Docs + ")"
	}
	var sends []string
	for _, k := range []struct {
		name string
		kind providers.AuthKind
		send *providers.Send
	}{
		{"oauth2", providers.OAuth2AuthorizationCode, a.OAuth2}, {"oauth2", providers.OAuth2ClientCredentials, a.OAuth2},
		{"apiKey", providers.APIKey, a.APIKey}, {"basicAuth", providers.BasicAuth, a.BasicAuth},
		{"customAuth", providers.CustomAuth, a.CustomAuth},
	} {
		if !p.Accepts(k.kind) || slices.ContainsFunc(sends, func(s string) bool { return strings.HasPrefix(s, k.name+":") }) {
			continue
		}
		sends = append(sends, k.name+": "+send(k.send, k.name))
	}
	for _, h := range slices.Sorted(maps.Keys(a.Headers)) {
		sends = append(sends, "header `"+h+": "+cell(a.Headers[h])+"`")
	}
	return base + " | " + strings.Join(sends, "; ") + " | " + verify + " | " + revocation + " | " + apiDocs
}

// send describes how a credential kind is sent; nil is the kind's default.
func send(s *providers.Send, kind string) string {
	if s == nil {
		if kind == "basicAuth" {
			return "HTTP Basic"
		}
		return "bearer"
	}
	var parts []string
	for _, h := range slices.Sorted(maps.Keys(s.Headers)) {
		parts = append(parts, "header `"+h+": "+cell(s.Headers[h])+"`")
	}
	for _, q := range slices.Sorted(maps.Keys(s.Query)) {
		parts = append(parts, "query `"+q+"`")
	}
	if s.Basic != nil {
		parts = append(parts, "HTTP Basic `"+cell(s.Basic.User)+"`:`"+cell(s.Basic.Password)+"`")
	}
	return strings.Join(parts, ", ")
}

// summary writes a table of counts: one row for each key of order that counts holds, then
// any other keys of counts in sorted order.
func summary(b *strings.Builder, what string, order []string, counts map[string]int) {
	keys := slices.Clone(order)
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	fmt.Fprintf(b, "| %s | providers |\n|---|---:|\n", what)
	for _, k := range keys {
		if n := counts[k]; n > 0 {
			fmt.Fprintf(b, "| %s | %d |\n", cell(k), n)
		}
	}
	b.WriteString("\n")
}

func category(p *providers.Provider) string {
	if p.Category == "" {
		return "-"
	}
	return cell(string(p.Category))
}

// kindNames are the auth kinds in the order the page lists them.
var kindNames = []string{
	string(providers.OAuth2AuthorizationCode), string(providers.OAuth2ClientCredentials),
	string(providers.OAuth2PasswordCredentials), string(providers.APIKey), string(providers.BasicAuth),
	string(providers.CustomAuth),
}

func kinds(p *providers.Provider) []string {
	var out []string
	for _, k := range kindNames {
		if p.Accepts(providers.AuthKind(k)) {
			out = append(out, k)
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
