package providers_test

import (
	"slices"
	"testing"

	"github.com/connectkit/connect/providers"
)

// TestDefaultIsFresh checks that each Default call returns a registry of its own.
func TestDefaultIsFresh(t *testing.T) {
	a, b := providers.Default(), providers.Default()
	if err := a.Register(&providers.Provider{Name: "zendesk", AuthURL: "https://example.com/a", TokenURL: "https://example.com/t"}); err != nil {
		t.Fatal(err)
	}
	if p := lookup(t, b, "zendesk"); p.AuthURL != "https://{{workspace}}.zendesk.com/oauth/authorizations/new" {
		t.Errorf("a change to one registry is seen by another: %s", p.AuthURL)
	}
}

// TestDefaultDistinct checks that each Default call returns a registry of its own. It does
// not depend on the catalog's content, which catalog_test.go checks.
func TestDefaultDistinct(t *testing.T) {
	var r1, r2 *providers.Registry
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Skipf("the embedded catalog does not load (checked by catalog_test.go): %v", v)
			}
		}()
		r1, r2 = providers.Default(), providers.Default()
	}()
	if r1 == r2 {
		t.Fatalf("Default() returned the same registry twice")
	}
	if !slices.Equal(r1.Names(), r2.Names()) {
		t.Fatalf("Default() registries differ: %q and %q", r1.Names(), r2.Names())
	}
	const name = "connect-test-only-provider"
	before := r2.Len()
	if err := r1.Register(named(name)); err != nil {
		t.Fatalf("Register = %v", err)
	}
	if _, ok := r1.Lookup(name); !ok {
		t.Errorf("Lookup in the registry registered into = false, want true")
	}
	if _, ok := r2.Lookup(name); ok {
		t.Errorf("a provider registered into one Default registry shows in another")
	}
	if r2.Len() != before || slices.Contains(r2.Names(), name) {
		t.Errorf("the other Default registry changed: Len %d, want %d", r2.Len(), before)
	}
	if _, ok := providers.Default().Lookup(name); ok {
		t.Errorf("a provider registered into one Default registry shows in a new one")
	}
}

func TestDefaultProvidersAreCopies(t *testing.T) {
	a, b := providers.Default(), providers.Default()
	pa, _ := a.Lookup("atlassian") // has fixed authorize params
	pb, _ := b.Lookup("atlassian")
	if pa == pb {
		t.Fatal("two Default registries share a provider")
	}
	pa.AuthParams["x"] = "y"
	pa.DefaultScopes = append(pa.DefaultScopes, "changed")
	pa.Inputs = append(pa.Inputs, pa.Inputs...)
	if _, ok := pb.AuthParams["x"]; ok || len(pb.DefaultScopes) == len(pa.DefaultScopes) {
		t.Errorf("a change to one Default's provider shows in another's: %v %v", pb.AuthParams, pb.DefaultScopes)
	}
}
