package providers

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
	dec := json.NewDecoder(r)
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
