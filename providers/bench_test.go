package providers_test

import (
	"testing"

	"github.com/connectkit/connect/metadata"
	"github.com/connectkit/connect/providers"
)

func BenchmarkDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		providers.Default()
	}
}

func BenchmarkLookup(b *testing.B) {
	r := benchRegistry(b, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := r.Lookup("p123"); !ok {
			b.Fatal("Lookup(p123) = false")
		}
	}
}

// TestLookupDoesNotAllocate holds BenchmarkLookup's 0 allocs/op.
func TestLookupDoesNotAllocate(t *testing.T) {
	r := benchRegistry(t, 200)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := r.Lookup("p123"); !ok {
			t.Fatal("Lookup(p123) = false")
		}
		r.Lookup("absent")
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per call, want 0", allocs)
	}
}

// BenchmarkEndpoints renders a provider's authorize and token URLs from one workspace value,
// with the checks of every render: the value's rule, the parse of the rendered URL, its shape
// and its host.
func BenchmarkEndpoints(b *testing.B) {
	p := lookup(b, providers.Default(), "zendesk")
	values, err := p.Resolve(metadata.Values{"workspace": "acme"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Endpoints(values); err != nil {
			b.Fatal(err)
		}
	}
}
