package value

// Map is an ordered hash with string keys: iteration follows insertion
// order, as Ruby's Hash does. The zero value is not usable; call NewMap.
type Map struct {
	keys     []string
	m        map[string]any
	fallback Fallback // answers lookups of missing keys; nil for plain hashes
}

// NewMap returns an empty map with room for n keys.
func NewMap(n int) *Map {
	return &Map{keys: make([]string, 0, n), m: make(map[string]any, n)}
}

// MapOf builds a map from alternating keys and values; values are
// normalized. It is a convenience for tests and literals.
func MapOf(kv ...any) *Map {
	m := NewMap(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), Normalize(kv[i+1]))
	}
	return m
}

// Len returns the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Get returns the value stored under k.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.m[k]
	return v, ok
}

// Has reports whether k is present.
func (m *Map) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Set stores v under k; a new key goes last, an existing key keeps its place.
func (m *Map) Set(k string, v any) {
	if _, ok := m.m[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.m[k] = v
}

// Delete removes k, keeping the order of the other keys.
func (m *Map) Delete(k string) {
	if _, ok := m.m[k]; !ok {
		return
	}
	delete(m.m, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Values returns the values in key order.
func (m *Map) Values() []any {
	out := make([]any, 0, m.Len())
	for _, k := range m.Keys() {
		out = append(out, m.m[k])
	}
	return out
}

// Each calls fn for every entry in order until fn returns false.
func (m *Map) Each(fn func(k string, v any) bool) {
	for _, k := range m.Keys() {
		if !fn(k, m.m[k]) {
			return
		}
	}
}

// Pairs returns the entries as [key, value] arrays, the form a Liquid for
// loop iterates a hash in.
func (m *Map) Pairs() []any {
	out := make([]any, 0, m.Len())
	for _, k := range m.Keys() {
		out = append(out, []any{k, m.m[k]})
	}
	return out
}

// Clone returns a shallow copy, with the same fallback.
func (m *Map) Clone() *Map {
	c := NewMap(m.Len())
	for _, k := range m.Keys() {
		c.Set(k, m.m[k])
	}
	c.fallback = m.fallback
	return c
}
