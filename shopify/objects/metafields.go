package objects

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// metafields is a resource's metafield collection (docs:
// platform/liquid/objects/shopify/metafields/**): iterable (the metafield
// objects, as the REST API has them), and narrowed by namespace —
// resource.metafields.namespace is the namespace's collection, and
// resource.metafields.namespace.key the metafield's representation
// ({type, value, metafield}), or, for the deprecated types, its value.
type metafields struct {
	s         *Session
	path      string // e.g. "customers/1/metafields.json"
	namespace string // "" for all namespaces
}

// Get looks key up with the session's context; see collection.Get.
func (m *metafields) Get(key string) (any, bool) {
	v, ok, err := m.GetContext(m.s.ctx, key)
	if err != nil {
		m.s.noteErr(err)
		return nil, false
	}
	return v, ok
}

// GetContext answers size/first/last, a namespace (on the whole
// collection) or a key (within a namespace).
func (m *metafields) GetContext(ctx context.Context, key string) (any, bool, error) {
	switch key {
	case "size", "first", "last":
		items, err := m.List(ctx, -1)
		if err != nil {
			return nil, false, err
		}
		switch key {
		case "size":
			return int64(len(items)), true, nil
		case "first":
			if len(items) > 0 {
				return items[0], true, nil
			}
		case "last":
			if len(items) > 0 {
				return items[len(items)-1], true, nil
			}
		}
		return nil, true, nil
	}
	if m.namespace == "" {
		return &metafields{s: m.s, path: m.path, namespace: key}, true, nil
	}
	items, err := m.List(ctx, -1)
	if err != nil {
		return nil, false, err
	}
	for _, it := range items {
		mf, _ := it.(*value.Map)
		if k, _ := mf.Get("key"); k == key {
			return representation(mf), true, nil
		}
	}
	return nil, true, nil
}

// List reads the metafields (of the namespace, when narrowed).
func (m *metafields) List(ctx context.Context, limit int64) ([]any, error) {
	q := url.Values{}
	if m.namespace != "" {
		q.Set("namespace", m.namespace)
	}
	items, err := m.s.list(ctx, m.path, "metafields", q, limit)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

// LiquidString is the collection's output form: empty.
func (m *metafields) LiquidString() string { return "" }

// deprecatedTypes are the metafield types without a representation object
// (their value is returned directly).
var deprecatedTypes = map[string]bool{"json_string": true, "string": true, "integer": true, "number": true}

// representation is Mechanic's metafield representation of a REST
// metafield: {type, value (typed), metafield}; for deprecated types, the
// typed value itself.
func representation(mf *value.Map) any {
	t, _ := mf.Get("type")
	if t == nil {
		t, _ = mf.Get("value_type") // API versions before 2021-07
	}
	typ, _ := t.(string)
	raw, _ := mf.Get("value")
	v := typedValue(typ, raw)
	if deprecatedTypes[typ] {
		return v
	}
	return value.MapOf("type", typ, "value", v, "metafield", mf)
}

// typedValue parses a metafield's value by its type: JSON types (json,
// json_string, list.*, dimension, volume, weight, rating, money) are
// decoded; integers, decimals and booleans are converted; everything else
// is the string as stored.
func typedValue(typ string, raw any) any {
	s, ok := raw.(string)
	if !ok {
		return raw
	}
	switch {
	case typ == "json" || typ == "json_string" || strings.HasPrefix(typ, "list.") ||
		typ == "dimension" || typ == "volume" || typ == "weight" || typ == "rating" || typ == "money":
		if v, err := value.FromJSON([]byte(s)); err == nil {
			return v
		}
	case typ == "number_integer" || typ == "integer" || typ == "number":
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n
		}
		if typ != "number" {
			break
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f
		}
	case typ == "number_decimal":
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f
		}
	case typ == "boolean":
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return s
}
