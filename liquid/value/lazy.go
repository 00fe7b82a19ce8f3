package value

import "context"

// ContextDrop is implemented by drops whose properties come from a service
// (a shop's API, say): a lookup needs the render's context and can fail.
// The engine calls GetContext instead of Get and fails the render when it
// returns an error, so that a failed lookup never reads as nil.
type ContextDrop interface {
	Drop
	// GetContext returns the property key, whether it exists, and the
	// error that kept it from being looked up.
	GetContext(ctx context.Context, key string) (any, bool, error)
}

// Lister is implemented by drops that stand for a list whose items are
// fetched on demand. Loops, and filters, which need an array, read such a
// drop through List; a failure fails the render.
type Lister interface {
	// List returns the first limit items, or all of them when limit < 0.
	List(ctx context.Context, limit int64) ([]any, error)
}

// Fallback answers lookups of keys a Map does not hold (see
// Map.SetFallback). Lookup reports whether it has the key and the error
// that kept it from being looked up.
type Fallback interface {
	Lookup(ctx context.Context, key string) (any, bool, error)
}

// SetFallback makes template lookups of keys m does not hold ask f: a hash
// with extra, computed properties, such as an API resource with lazily
// fetched associations. Everything else — iteration, size, JSON, equality,
// filters — sees only the keys m holds. A nil f removes the fallback.
func (m *Map) SetFallback(f Fallback) { m.fallback = f }

// Fallback returns the map's fallback, nil when it has none.
func (m *Map) Fallback() Fallback {
	if m == nil {
		return nil
	}
	return m.fallback
}
