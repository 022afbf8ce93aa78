package providers

import (
	"bytes"
	"io/fs"
	"testing"
)

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

// TestEmbeddedCatalogSpelling loads each embedded file as a caller's file is loaded, with
// the check of field names that Default skips.
func TestEmbeddedCatalogSpelling(t *testing.T) {
	files, err := fs.Glob(catalogFiles, "catalog/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalog files: %v", err)
	}
	for _, name := range files {
		data, _ := catalogFiles.ReadFile(name)
		if _, err := Load(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
