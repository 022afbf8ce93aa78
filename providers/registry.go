package providers

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
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

//go:embed catalog.json
var catalog []byte

// Default returns a new registry holding the catalog embedded in this package. Each call
// returns a registry of its own, so changes to one are never seen by another.
func Default() *Registry {
	r, err := Load(bytes.NewReader(catalog))
	if err != nil {
		// The catalog is checked by this package's tests; a failure here is a build defect.
		panic(err)
	}
	return r
}

// catalogFile is the format of a catalog file: a JSON object with the list of providers.
type catalogFile struct {
	Providers []*Provider `json:"providers"`
}

// Load reads a catalog file (a JSON object {"providers": [...]}, the format of the embedded
// catalog) into a new registry. Unknown fields, a provider that fails [Provider.Prepare] and
// a name given twice are errors.
func Load(r io.Reader) (*Registry, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCatalog+1))
	if err != nil {
		return nil, fmt.Errorf("providers: catalog: %w", err)
	}
	if len(data) > maxCatalog {
		return nil, fmt.Errorf("providers: catalog: larger than %d bytes", maxCatalog)
	}
	// encoding/json matches field names without regard to case; a catalog must spell them
	// exactly, so that a misspelt rule is an error rather than silently applied.
	if err := checkKeys(data, reflect.TypeFor[catalogFile](), "catalog"); err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f *catalogFile // nil after a JSON null, which is not a catalog object
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("providers: catalog: %w", err)
	}
	if f == nil {
		return nil, fmt.Errorf("providers: catalog: null, want an object")
	}
	// Decoder.More reports false before a stray "}" or "]", so read the next token instead:
	// only the end of the input may follow the catalog object.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("providers: catalog: data after the catalog object")
	}
	reg := NewRegistry()
	for _, p := range f.Providers {
		if p == nil {
			return nil, fmt.Errorf("providers: catalog: null provider")
		}
		if _, dup := reg.byName[p.Name]; dup {
			return nil, fmt.Errorf("providers: catalog: %s given twice", p.Name)
		}
		if err := reg.Register(p); err != nil {
			return nil, err
		}
	}
	return reg, nil
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
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byName[p.Name]; !ok {
		i, _ := slices.BinarySearch(r.names, p.Name)
		r.names = slices.Insert(r.names, i, p.Name)
	}
	r.byName[p.Name] = p
	return nil
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
