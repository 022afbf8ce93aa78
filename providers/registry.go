package providers

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Registry holds providers by name. It is a value: build one with [NewRegistry], [Default] or
// [Load], add or override providers with [Registry.Register]. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]*Provider
	names  []string // sorted
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Provider{}} }

// catalogFiles are the embedded catalog: JSON files in the format [Load] reads, one per group
// of providers.
//
//go:embed catalog/*.json
var catalogFiles embed.FS

// Default returns a new registry holding the catalog embedded in this package. Each call
// returns a registry of its own, so changes to one are never seen by another.
func Default() *Registry {
	base, err := builtin()
	if err != nil {
		// The catalog is checked by this package's tests; a failure here is a build defect.
		panic(err)
	}
	base.mu.RLock()
	defer base.mu.RUnlock()
	r := &Registry{byName: make(map[string]*Provider, len(base.byName)), names: slices.Clone(base.names)}
	for name, p := range base.byName {
		r.byName[name] = p.clone()
	}
	return r
}

// builtin is the embedded catalog, read and checked once per process. Its providers are
// never handed out: Default gives copies, so that nothing a caller does reaches another
// registry.
var builtin = sync.OnceValues(defaultCatalog)

// defaultCatalog loads every embedded catalog file, in name order; a provider given in two
// files is an error.
func defaultCatalog() (*Registry, error) {
	files, err := fs.Glob(catalogFiles, "catalog/*.json")
	if err != nil {
		return nil, err
	}
	reg := NewRegistry()
	for _, name := range files {
		data, err := catalogFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if err := reg.load(bytes.NewReader(data), false, true); err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, name)
		}
	}
	return reg, nil
}

// catalogFile is the format of a catalog file: a JSON object with the list of providers.
type catalogFile struct {
	Providers []*Provider `json:"providers"`
}

// Load reads a catalog file (a JSON object {"providers": [...]}, the format of the embedded
// catalog) into a new registry. Unknown fields, a provider that fails [Provider.Prepare] and
// a name given twice are errors.
func Load(r io.Reader) (*Registry, error) {
	reg := NewRegistry()
	if err := reg.load(r, false, false); err != nil {
		return nil, err
	}
	return reg, nil
}

// LoadFile reads a catalog file in the format [Load] reads into r, checked the same way; its
// providers replace those of the same name, so a file can extend or override the built-in
// catalog. On any error r is left unchanged.
func (r *Registry) LoadFile(rd io.Reader) error {
	staged, err := Load(rd)
	if err != nil {
		return err
	}
	staged.mu.RLock()
	defer staged.mu.RUnlock()
	for _, name := range staged.names {
		r.add(staged.byName[name])
	}
	return nil
}

// load reads a catalog file into r; a name r already holds is an error unless replace. The
// embedded catalog is trusted to spell its field names exactly (TestEmbeddedCatalogSpelling
// holds it to that), which saves a second pass over it.
func (r *Registry) load(rd io.Reader, replace, trusted bool) error {
	data, err := io.ReadAll(io.LimitReader(rd, maxCatalog+1))
	if err != nil {
		return fmt.Errorf("providers: catalog: %w", err)
	}
	if len(data) > maxCatalog {
		return fmt.Errorf("providers: catalog: larger than %d bytes", maxCatalog)
	}
	// encoding/json matches field names without regard to case; a catalog must spell them
	// exactly, so that a misspelt rule is an error rather than silently applied.
	if !trusted {
		if err := checkKeys(data, reflect.TypeFor[catalogFile](), "catalog"); err != nil {
			return fmt.Errorf("providers: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f *catalogFile // nil after a JSON null, which is not a catalog object
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("providers: catalog: %w", err)
	}
	if f == nil {
		return fmt.Errorf("providers: catalog: null, want an object")
	}
	// Decoder.More reports false before a stray "}" or "]", so read the next token instead:
	// only the end of the input may follow the catalog object.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("providers: catalog: data after the catalog object")
	}
	seen := map[string]bool{}
	for _, p := range f.Providers {
		if p == nil {
			return fmt.Errorf("providers: catalog: null provider")
		}
		if _, dup := r.Lookup(p.Name); seen[p.Name] || dup && !replace {
			return fmt.Errorf("providers: catalog: %s given twice", p.Name)
		}
		seen[p.Name] = true
		if err := p.Prepare(); err != nil {
			return err
		}
	}
	for _, p := range f.Providers {
		r.add(p)
	}
	return nil
}

// maxCatalog bounds the size of a catalog file.
const maxCatalog = 32 << 20

// checkKeys reports the first object key in data that is not exactly the JSON name of a
// field of t (for structs, and through slices and pointers of them).
func checkKeys(data []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		var items []json.RawMessage
		if t.Elem().Kind() == reflect.Uint8 || json.Unmarshal(data, &items) != nil {
			return nil // not a list of objects, or a type error the decoder reports
		}
		for i, item := range items {
			if err := checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: unknown field %q (names are case-sensitive)", path, k)
			}
			if err := checkKeys(v, ft, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Register checks p with [Provider.Prepare] and adds it, replacing any provider of the same
// name. The registry keeps p: do not change it afterwards.
func (r *Registry) Register(p *Provider) error {
	if p == nil {
		return fmt.Errorf("providers: nil provider")
	}
	if err := p.Prepare(); err != nil {
		return err
	}
	r.add(p)
	return nil
}

// add puts a prepared provider in the registry.
func (r *Registry) add(p *Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byName[p.Name]; !ok {
		i, _ := slices.BinarySearch(r.names, p.Name)
		r.names = slices.Insert(r.names, i, p.Name)
	}
	r.byName[p.Name] = p
}

// Lookup returns the provider registered under name.
func (r *Registry) Lookup(name string) (*Provider, bool) {
	r.mu.RLock()
	p, ok := r.byName[name]
	r.mu.RUnlock()
	return p, ok
}

// Names returns the names of the registered providers, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.names)
}

// Len returns the number of registered providers.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.names)
}
