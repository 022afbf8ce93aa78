package providers

import "testing"

// BenchmarkLoadEmbeddedCatalog is the cost of reading and checking the whole embedded
// catalog, paid once per process by the first Default.
func BenchmarkLoadEmbeddedCatalog(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := defaultCatalog(); err != nil {
			b.Fatal(err)
		}
	}
}
