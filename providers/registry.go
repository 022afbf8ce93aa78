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
//
// The providers a registry hands out are shared, with the registry and, for the embedded
// catalog, with every other registry [Default] returned: treat them as read-only, and register
// a changed copy instead.
type Registry struct {
	mu     sync.RWMutex
	base   *catalog             // the embedded catalog, for registries Default made; else nil
	byName map[string]*Provider // the providers registered here, over base's
	names  []string             // sorted; shared with base until the first change
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Provider{}} }

// catalogFiles are the embedded catalog: one JSON file per provider, named after it
// (github.json), holding one provider object in the format of [Load]'s entries.
//
//go:embed catalog/*.json
var catalogFiles embed.FS

// Default returns a registry holding the catalog embedded in this package. Each call returns
// a registry of its own, so providers registered into one are never seen by another; the
// embedded providers themselves are shared by all (see [Registry]). It costs a few
// microseconds at any catalog size: a provider's file is read and checked the first time it
// is looked up, once per process.
func Default() *Registry {
	c := builtin()
	return &Registry{base: c, names: c.names}
}

// builtin is the index of the embedded catalog, read once per process.
var builtin = sync.OnceValue(newCatalog)

// catalog is the embedded catalog: its provider names, sorted, and for each a loader that
// reads, checks and prepares its file once, on first use.
type catalog struct {
	names []string // capacity equals length, so that a registry's insert copies it
	load  map[string]func() (*Provider, error)
}

// newCatalog indexes the embedded catalog by its file names.
func newCatalog() *catalog {
	files, err := fs.Glob(catalogFiles, "catalog/*.json")
	if err != nil {
		panic(err) // the pattern is valid
	}
	c := &catalog{names: make([]string, 0, len(files)), load: make(map[string]func() (*Provider, error), len(files))}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "catalog/"), ".json")
		c.names = append(c.names, name)
		c.load[name] = sync.OnceValues(func() (*Provider, error) { return loadEmbedded(f, name) })
	}
	slices.Sort(c.names)
	return c
}

// loadEmbedded reads, checks and prepares the embedded provider file f, which must describe
// the provider name.
func loadEmbedded(f, name string) (*Provider, error) {
	data, err := catalogFiles.ReadFile(f)
	if err != nil {
		return nil, err
	}
	// The embedded files are held by TestEmbeddedCatalogFiles to what Load checks of a
	// caller's file (names spelt exactly, nothing unknown), so a plain Unmarshal serves.
	var p *Provider
	if err := json.Unmarshal(data, &p); err != nil || p == nil {
		return nil, fmt.Errorf("providers: %s: not a provider object: %v", f, err)
	}
	if p.Name != name {
		return nil, fmt.Errorf("providers: %s holds provider %q", f, p.Name)
	}
	if err := p.Prepare(); err != nil {
		return nil, err
	}
	return p, nil
}

// lookup returns the embedded provider called name, reading it on first use. The embedded
// catalog is checked entry by entry by this package's tests, so a failure here is a build
// defect.
func (c *catalog) lookup(name string) (*Provider, bool) {
	load, ok := c.load[name]
	if !ok {
		return nil, false
	}
	p, err := load()
	if err != nil {
		panic(err)
	}
	return p, true
}

// catalogFile is the format of a catalog file: a JSON object with the list of providers.
type catalogFile struct {
	Providers []*Provider `json:"providers"`
}

// Load reads a catalog file (a JSON object {"providers": [...]}, whose entries have the
// format of the embedded catalog's files) into a new registry. Unknown fields, a provider that
// fails [Provider.Prepare] and a name given twice are errors.
func Load(r io.Reader) (*Registry, error) {
	reg := NewRegistry()
	if err := reg.load(r, false); err != nil {
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

// load reads a catalog file into r; a name r already holds is an error unless replace.
func (r *Registry) load(rd io.Reader, replace bool) error {
	data, err := io.ReadAll(io.LimitReader(rd, maxCatalog+1))
	if err != nil {
		return fmt.Errorf("providers: catalog: %w", err)
	}
	if len(data) > maxCatalog {
		return fmt.Errorf("providers: catalog: larger than %d bytes", maxCatalog)
	}
	// encoding/json matches field names without regard to case; a catalog must spell them
	// exactly, so that a misspelt rule is an error rather than silently applied.
	if err := checkKeys(data, reflect.TypeFor[catalogFile](), "catalog"); err != nil {
		return fmt.Errorf("providers: %w", err)
	}
	var f *catalogFile // nil after a JSON null, which is not a catalog object
	if err := decodeStrict(data, &f); err != nil {
		return fmt.Errorf("providers: catalog: %w", err)
	}
	if f == nil {
		return fmt.Errorf("providers: catalog: null, want an object")
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

// decodeStrict decodes one JSON value into v, refusing unknown fields and anything after
// the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Decoder.More reports false before a stray "}" or "]", so read the next token instead:
	// only the end of the input may follow the value.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the value")
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
	if r.byName == nil {
		r.byName = map[string]*Provider{}
	}
	if i, found := slices.BinarySearch(r.names, p.Name); !found {
		// names may be the embedded catalog's, which every Default registry shares: its
		// capacity is its length, so Insert copies it.
		r.names = slices.Insert(r.names, i, p.Name)
	}
	r.byName[p.Name] = p
}

// Lookup returns the provider registered under name. It does not allocate.
func (r *Registry) Lookup(name string) (*Provider, bool) {
	r.mu.RLock()
	p, ok := r.byName[name]
	base := r.base
	r.mu.RUnlock()
	if ok || base == nil {
		return p, ok
	}
	return base.lookup(name)
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
