package providers_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connect/providers"
)

// named returns a minimal valid provider called name.
func named(name string) *providers.Provider {
	p := minimal()
	p.Name = name
	return p
}

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

func TestLoad(t *testing.T) {
	const valid = `{"providers": [
		{"name": "zendesk-test", "authURL": "https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		 "tokenURL": "https://{{workspace}}.zendesk.com/oauth/tokens", "hosts": ["*.zendesk.com"],
		 "inputs": [{"name": "workspace"}], "refresh": {"by": "none"}},
		{"name": "acme", "authURL": "https://auth.example.com/authorize", "tokenURL": "https://auth.example.com/token",
		 "authParams": {"audience": "api"}, "scopeSeparator": ","}
	]}`
	tests := []struct {
		name      string
		catalog   string
		wantNames []string
		wantErr   string // a substring of the error
	}{
		{name: "valid", catalog: valid, wantNames: []string{"acme", "zendesk-test"}},
		{name: "empty list", catalog: `{"providers": []}`, wantNames: nil},
		{name: "trailing whitespace", catalog: "{\"providers\": []}\n\t ", wantNames: nil},
		{name: "empty input", catalog: ``, wantErr: "providers: catalog"},
		{name: "not JSON", catalog: `providers:`, wantErr: "providers: catalog"},
		{name: "a list, not an object", catalog: `[]`, wantErr: "providers: catalog"},
		{name: "null, not an object", catalog: `null`, wantErr: "providers: catalog"},
		{name: "null providers", catalog: `{"providers": null}`, wantNames: nil},
		{name: "truncated", catalog: valid[:len(valid)-3], wantErr: "providers: catalog"},
		{name: "unknown top-level field", catalog: `{"providers": [], "version": 2}`, wantErr: "version"},
		{name: "unknown provider field", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "authEndpoint": "x"}]}`, wantErr: "authEndpoint"},
		{name: "unknown input field", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "inputs": [{"name": "w", "regex": "x"}]}]}`, wantErr: "regex"},
		{name: "duplicate name", catalog: `{"providers": [
			{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t"},
			{"name": "acme", "authURL": "https://b.example.com/a", "tokenURL": "https://b.example.com/t"}]}`, wantErr: "acme given twice"},
		{name: "trailing object", catalog: `{"providers": []} {"providers": []}`, wantErr: "providers: catalog"},
		{name: "trailing garbage", catalog: `{"providers": []} x`, wantErr: "providers: catalog"},
		{name: "trailing brace", catalog: `{"providers": []}}`, wantErr: "providers: catalog"},
		{name: "trailing bracket", catalog: `{"providers": []}]`, wantErr: "providers: catalog"},
		{name: "null provider", catalog: `{"providers": [null]}`, wantErr: "null provider"},
		{name: "invalid provider", catalog: `{"providers": [{"name": "acme", "authURL": "http://a.example.com/a", "tokenURL": "https://a.example.com/t"}]}`, wantErr: "providers: acme"},
		{name: "reserved fixed param", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "authParams": {"state": "fixed"}}]}`, wantErr: "reserved"},
		{name: "pkce plain", catalog: `{"providers": [{"name": "acme", "authURL": "https://a.example.com/a", "tokenURL": "https://a.example.com/t", "pkce": "plain"}]}`, wantErr: "pkce"},
		{name: "wrong type", catalog: `{"providers": [{"name": 1}]}`, wantErr: "providers: catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := providers.Load(strings.NewReader(tt.catalog))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v, %v; want an error containing %q", r, err, tt.wantErr)
				}
				if r != nil {
					t.Errorf("Load returned a registry with its error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Load = %v, want nil", err)
			}
			if diff := cmp.Diff(tt.wantNames, r.Names()); diff != "" {
				t.Errorf("Names() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadPrepares(t *testing.T) {
	r, err := providers.Load(strings.NewReader(`{"providers": [
		{"name": "zendesk-test", "authURL": "https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		 "tokenURL": "https://{{workspace}}.zendesk.com/oauth/tokens", "hosts": ["*.zendesk.com"],
		 "inputs": [{"name": "workspace", "pattern": "[a-z0-9-]+"}],
		 "authParams": {"b": "2", "a": "1"}}]}`))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	p, ok := r.Lookup("zendesk-test")
	if !ok {
		t.Fatalf("Lookup(zendesk-test) = false")
	}
	if got, want := p.EncodedAuthParams(), "a=1&b=2"; got != want {
		t.Errorf("EncodedAuthParams() = %q, want %q", got, want)
	}
	authURL, _, err := p.Endpoints(map[string]string{"workspace": "acme"})
	if err != nil || authURL != "https://acme.zendesk.com/oauth/authorizations/new" {
		t.Errorf("Endpoints(acme) = %q, %v", authURL, err)
	}
	// The pattern loaded from the file applies.
	if _, err := p.Resolve(map[string]string{"workspace": "ACME"}); err == nil {
		t.Errorf("Resolve(ACME) = nil error, want the pattern to refuse it")
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

func TestLoadRefusesMisspeltFieldNames(t *testing.T) {
	for _, catalog := range []string{
		`{"providers": [{"name": "a", "authUrl": "https://a.example/auth", "tokenURL": "https://a.example/token"}]}`,
		`{"Providers": []}`,
		`{"providers": [{"name": "a", "authURL": "https://a.example/auth", "tokenURL": "https://a.example/token", "refresh": {"By": "none"}}]}`,
		`{"providers": [{"name": "a", "authURL": "https://a.example/auth", "tokenURL": "https://a.example/token", "inputs": [{"Name": "workspace"}]}]}`,
	} {
		if _, err := providers.Load(strings.NewReader(catalog)); err == nil || !strings.Contains(err.Error(), "case-sensitive") {
			t.Errorf("Load(%s) = %v, want an error about a misspelt field", catalog, err)
		}
	}
}
