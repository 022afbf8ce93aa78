package providers_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/providers"
)

func TestNewRegistry(t *testing.T) {
	r := providers.NewRegistry()
	if got := r.Len(); got != 0 {
		t.Errorf("Len() = %d, want 0", got)
	}
	if got := r.Names(); len(got) != 0 {
		t.Errorf("Names() = %q, want none", got)
	}
	if p, ok := r.Lookup("acme"); ok || p != nil {
		t.Errorf("Lookup(acme) = %v, %v; want nil, false", p, ok)
	}
	if providers.NewRegistry() == r {
		t.Errorf("NewRegistry returned the same registry twice")
	}
}

func TestRegister(t *testing.T) {
	r := providers.NewRegistry()
	first := named("acme")
	first.DisplayName = "First"
	if err := r.Register(first); err != nil {
		t.Fatalf("Register(acme) = %v", err)
	}
	if got, ok := r.Lookup("acme"); !ok || got != first {
		t.Fatalf("Lookup(acme) = %v, %v; want the registered provider", got, ok)
	}

	// An invalid provider is refused and changes nothing.
	bad := named("acme")
	bad.PKCE = "plain"
	if err := r.Register(bad); err == nil {
		t.Fatalf("Register(pkce plain) = nil, want an error")
	}
	if err := r.Register(named("Bad Name")); err == nil {
		t.Fatalf("Register(bad name) = nil, want an error")
	}
	if err := r.Register(nil); err == nil {
		t.Fatalf("Register(nil) = nil, want an error")
	}
	if got, ok := r.Lookup("acme"); !ok || got != first {
		t.Errorf("after failed Register: Lookup(acme) = %v, %v; want the first provider", got, ok)
	}
	if got := r.Len(); got != 1 {
		t.Errorf("after failed Register: Len() = %d, want 1", got)
	}

	// A provider of the same name replaces the first.
	second := named("acme")
	second.DisplayName = "Second"
	if err := r.Register(second); err != nil {
		t.Fatalf("Register(second acme) = %v", err)
	}
	if got, ok := r.Lookup("acme"); !ok || got != second {
		t.Errorf("Lookup(acme) = %v, %v; want the second provider", got, ok)
	}
	if got := r.Names(); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("Names() = %q, want [acme]", got)
	}
	if got := r.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1", got)
	}

	// Lookup is exact.
	for _, name := range []string{"ACME", "acme ", "acm", ""} {
		if p, ok := r.Lookup(name); ok || p != nil {
			t.Errorf("Lookup(%q) = %v, %v; want nil, false", name, p, ok)
		}
	}
}

func TestNamesSorted(t *testing.T) {
	want := []string{"0day", "a", "a-b", "aa", "ab", "acme", "b", "github", "google", "salesforce", "z9", "zendesk"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		order := slices.Clone(want)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		r := providers.NewRegistry()
		for _, name := range order {
			if err := r.Register(named(name)); err != nil {
				t.Fatalf("Register(%s) = %v", name, err)
			}
		}
		// Registering again keeps one entry per name.
		if err := r.Register(named(order[0])); err != nil {
			t.Fatalf("Register(%s) again = %v", order[0], err)
		}
		got := r.Names()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d, order %q: Names() mismatch (-want +got):\n%s", round, order, diff)
		}
		if r.Len() != len(want) {
			t.Errorf("Len() = %d, want %d", r.Len(), len(want))
		}
		got[0] = "changed"
		if r.Names()[0] == "changed" {
			t.Fatalf("Names() shares its slice with the registry")
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := providers.NewRegistry()
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				// Distinct providers, and some names every worker shares.
				if err := r.Register(named(fmt.Sprintf("p%d-%d", w, i))); err != nil {
					t.Errorf("Register = %v", err)
					return
				}
				if err := r.Register(named(fmt.Sprintf("shared-%d", i%5))); err != nil {
					t.Errorf("Register = %v", err)
					return
				}
			}
		})
		wg.Go(func() {
			for i := range rounds {
				if p, ok := r.Lookup(fmt.Sprintf("shared-%d", i%5)); ok && p.Name != fmt.Sprintf("shared-%d", i%5) {
					t.Errorf("Lookup returned %s", p.Name)
				}
				names := r.Names()
				if !slices.IsSorted(names) {
					t.Errorf("Names() = %q, not sorted", names)
				}
				_ = r.Len()
			}
		})
	}
	wg.Wait()
	if got, want := r.Len(), workers*rounds+5; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got := r.Names(); len(got) != r.Len() || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Names() has %d sorted unique names, want %d", len(got), r.Len())
	}
}
