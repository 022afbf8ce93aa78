package catalogdoc_test

import (
	"os"
	"strings"
	"testing"

	"github.com/connectkit/connect/internal/catalogdoc"
	"github.com/connectkit/connect/providers"
)

// TestPageIsCurrent fails when docs/providers.md no longer matches the embedded catalog.
func TestPageIsCurrent(t *testing.T) {
	want := catalogdoc.Render(providers.Default())
	got, err := os.ReadFile("../../docs/providers.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/providers.md is out of date: run `go generate ./providers`")
	}
}

func TestRenderRows(t *testing.T) {
	r := providers.NewRegistry()
	for _, p := range []*providers.Provider{
		{Name: "plain", DisplayName: "Plain | Co", Category: providers.CategoryCRM, Docs: "https://plain.example/docs", AuthURL: "https://plain.example/a", TokenURL: "https://plain.example/t"},
		{Name: "keyed", AuthKinds: []providers.AuthKind{providers.APIKey}},
		{Name: "keyed-too", Category: providers.CategoryCRM, AuthKinds: []providers.AuthKind{providers.APIKey, providers.BasicAuth}},
	} {
		if err := r.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	page := catalogdoc.Render(r)
	for _, want := range []string{
		"3 providers.",
		"| category | providers |\n|---|---:|\n| crm | 2 |\n| - | 1 |\n\n",
		"| auth kind | providers |\n|---|---:|\n| oauth2AuthorizationCode | 1 |\n| apiKey | 2 |\n| basicAuth | 1 |\n\n",
		"## CRM and sales (2)\n\n| provider | auth kinds |",
		"| `keyed-too`  | apiKey, basicAuth | - | - | - | - | - |\n| `plain` Plain \\| Co | oauth2AuthorizationCode | - | supported | `offline_access` scope | space | [docs](https://plain.example/docs) |\n",
		"## Uncategorized (1)\n\n| provider | auth kinds |",
		"| `keyed`  | apiKey | - | - | - | - | - |",
		"| `keyed` | not declared | - | - | - | - |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
