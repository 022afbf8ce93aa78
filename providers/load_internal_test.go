package providers

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// The cost of the embedded catalog, in three parts:
//
//	go test -run='^$' -bench='Embedded' -benchmem -count=10 ./providers
//
// BenchmarkFirstDefault is what the first Default pays: the index of the catalog's files.
func BenchmarkFirstDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if c := newCatalog(); len(c.names) == 0 {
			b.Fatal("no providers")
		}
	}
}

// BenchmarkLoadEveryEmbedded reads, checks and prepares every provider of the catalog, which
// a process pays only for the providers it looks up; BenchmarkUnmarshalEveryEmbedded is a
// bare json.Unmarshal of the same files, for comparison.
func BenchmarkLoadEveryEmbedded(b *testing.B) {
	files := embeddedFiles(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			if _, err := loadEmbedded(f, strings.TrimSuffix(strings.TrimPrefix(f, "catalog/"), ".json")); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkUnmarshalEveryEmbedded(b *testing.B) {
	files := embeddedFiles(b)
	data := make([][]byte, len(files))
	for i, f := range files {
		data[i], _ = catalogFiles.ReadFile(f)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range data {
			var p Provider
			if err := json.Unmarshal(d, &p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func embeddedFiles(tb testing.TB) []string {
	files, err := fs.Glob(catalogFiles, "catalog/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no catalog files: %v", err)
	}
	return files
}

// TestEmbeddedCatalogFiles holds each embedded file to what Default trusts without checking
// again: field names spelt exactly (encoding/json would match them in any case), one
// provider named as its file, and an entry that prepares.
func TestEmbeddedCatalogFiles(t *testing.T) {
	for _, f := range embeddedFiles(t) {
		data, _ := catalogFiles.ReadFile(f)
		if err := checkKeys(data, reflect.TypeFor[Provider](), f); err != nil {
			t.Errorf("%v", err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(f, "catalog/"), ".json")
		if !providerName.MatchString(name) {
			t.Errorf("%s: the file name is not a provider name", f)
		}
		if _, err := loadEmbedded(f, name); err != nil {
			t.Errorf("%v", err)
		}
	}
}
