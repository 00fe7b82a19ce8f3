package liquid

import (
	"errors"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// LookupError is a lookup of a lazily fetched value (a value.ContextDrop
// property, a value.Fallback key, the items of a value.Lister) that failed,
// e.g. because a shop's API answered with an error. It always fails the
// render: a value that could not be fetched must not read as nil.
type LookupError struct {
	// Path is the lookup as the template wrote it, e.g. "shop.orders" or
	// "shop.customers[123]"; empty when unknown.
	Path string
	Err  error
}

// Error returns "<path>: <cause>".
func (e *LookupError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *LookupError) Unwrap() error { return e.Err }

func lookupFailed(path string, err error) error {
	var le *LookupError
	if errors.As(err, &le) {
		return err // named by an inner lookup already
	}
	return &LookupError{Path: path, Err: err}
}

// lookup is lookupKey for the lazy kinds of value: context drops and hashes
// with a fallback are asked with the render's context, and may fail.
func (rc *RenderContext) lookup(obj, key any, command int) (any, bool, error) {
	switch o := obj.(type) {
	case *value.Map:
		if f := o.Fallback(); f != nil {
			if k, ok := key.(string); ok && !o.Has(k) {
				v, ok, err := f.Lookup(rc.sh.ctx, k)
				if err != nil || ok {
					return value.Normalize(v), ok, err
				}
			}
		}
	case value.ContextDrop:
		k, ok := key.(string)
		if !ok {
			k = value.ToS(key)
		}
		v, ok, err := o.GetContext(rc.sh.ctx, k)
		if err != nil || !ok {
			return nil, false, err
		}
		return value.Normalize(v), true, nil
	}
	v, ok := lookupKey(obj, key, command)
	return v, ok, nil
}

// materialize turns a value.Lister into the array of its first limit
// items (all when limit < 0); other values are returned as they are.
// from is the expression v came from, to name a failed lookup (nil when
// unknown).
func (rc *RenderContext) materialize(v any, limit int64, from Expression) (any, error) {
	l, ok := v.(value.Lister)
	if !ok {
		return v, nil
	}
	items, err := l.List(rc.sh.ctx, limit)
	if err != nil {
		return nil, lookupFailed(exprPath(from), err)
	}
	for i, it := range items {
		items[i] = value.Normalize(it)
	}
	return items, nil
}

// exprPath names an expression for error messages: the variable lookup it
// is, as written ("shop.orders", "shop.customers[id]"), or "".
func exprPath(e Expression) string {
	switch x := e.(type) {
	case *lookupExpr:
		return x.path(len(x.segs), nil)
	case *variableExpr:
		if x.base != nil && len(x.filters) == 0 {
			return exprPath(x.base)
		}
	}
	return ""
}

// path writes the lookup's name and its first n segments; keys holds the
// evaluated keys of those segments when known.
func (e *lookupExpr) path(n int, keys []any) string {
	var b strings.Builder
	if e.nameExpr != nil {
		b.WriteString("[" + exprPath(e.nameExpr) + "]")
	} else {
		b.WriteString(e.name)
	}
	for i := 0; i < n && i < len(e.segs); i++ {
		seg := &e.segs[i]
		var key any
		switch {
		case i < len(keys):
			key = keys[i]
		case seg.keyExpr != nil:
			b.WriteString("[" + exprPath(seg.keyExpr) + "]")
			continue
		default:
			key = seg.key
		}
		if s, ok := key.(string); ok && seg.keyExpr == nil {
			b.WriteString("." + s)
		} else {
			b.WriteString("[" + value.Inspect(key) + "]")
		}
	}
	return b.String()
}
