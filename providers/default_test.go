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

func TestDefaultSharesItsProviders(t *testing.T) {
	a, b := providers.Default(), providers.Default()
	pa, _ := a.Lookup("atlassian")
	pb, _ := b.Lookup("atlassian")
	if pa != pb {
		t.Errorf("two Default registries hold two copies of a provider, want one shared")
	}
	// Overriding a provider in one registry leaves the shared one, and the other registry, alone.
	own := *pa
	own.DisplayName = "Our Atlassian"
	if err := a.Register(&own); err != nil {
		t.Fatalf("Register = %v", err)
	}
	if got, _ := a.Lookup("atlassian"); got.DisplayName != "Our Atlassian" {
		t.Errorf("Lookup after Register = %q, want the registered one", got.DisplayName)
	}
	if got, _ := b.Lookup("atlassian"); got != pb || got.DisplayName == "Our Atlassian" {
		t.Errorf("the other registry sees the override")
	}
	if a.Len() != b.Len() {
		t.Errorf("an override changed the count: %d and %d", a.Len(), b.Len())
	}
}

func TestDefaultLookupDoesNotAllocate(t *testing.T) {
	r := providers.Default()
	r.Lookup("github") // read on first use
	if n := testing.AllocsPerRun(100, func() { r.Lookup("github"); r.Lookup("no-such-provider") }); n != 0 {
		t.Errorf("Lookup allocates %.0f times, want 0", n)
	}
	if err := r.Register(named("ours")); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { r.Lookup("ours"); r.Lookup("github") }); n != 0 {
		t.Errorf("Lookup after Register allocates %.0f times, want 0", n)
	}
}
