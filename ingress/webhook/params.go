package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Limits of the nested parameter parser. They bound the work a request can
// cause; exceeding one makes the parameters unparsable.
const (
	maxParamDepth = 100
	maxParamCount = 4096
)

// errParamType reports parameters whose names need conflicting structures,
// such as "a=1&a[b]=2".
var errParamType = errors.New("conflicting parameter types")

// parseNestedQuery interprets a form-encoded string (a URL query or an
// application/x-www-form-urlencoded body) as nested parameters, following
// the Rack/Rails conventions that Mechanic's samples show:
//
//   - pairs are separated by "&" or ";" (spaces after a separator are
//     ignored); "+" and %XX escapes are decoded in names and values;
//   - "a=1" sets a string; a bare "a" sets null; a repeated plain name keeps
//     the last value;
//   - "a[b]=1" builds a hash, "a[]=1&a[]=2" an array, and
//     "a[][x]=1&a[][y]=2&a[][x]=3" an array of hashes, starting a new hash
//     whenever the key is already set in the last one.
//
// Names and values that are not valid UTF-8 are read as Windows-1252
// (toUTF8). An invalid escape, conflicting structures or a limit exceeded
// return an error: the string then counts as "parsing failed".
func parseNestedQuery(qs string) (*value.Map, error) {
	params := value.NewMap(4)
	if qs == "" {
		return params, nil
	}
	if n := strings.Count(qs, "&") + strings.Count(qs, ";"); n >= maxParamCount {
		return nil, fmt.Errorf("%d parameters exceed the limit of %d", n+1, maxParamCount)
	}
	for _, pair := range splitPairs(qs) {
		if pair == "" {
			continue
		}
		rawName, rawVal, hasVal := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, fmt.Errorf("parameter name %q: %w", rawName, err)
		}
		name = toUTF8(name)
		var v any
		if hasVal {
			s, err := url.QueryUnescape(rawVal)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", name, err)
			}
			v = toUTF8(s)
		}
		if _, err := normalizeParam(params, name, v, maxParamDepth); err != nil {
			return nil, err
		}
	}
	return params, nil
}

// splitPairs splits on "&" and ";" and drops spaces that follow a separator.
func splitPairs(qs string) []string {
	parts := strings.FieldsFunc(qs, func(r rune) bool { return r == '&' || r == ';' })
	// FieldsFunc drops empty fields, which the parser skips anyway.
	for i, p := range parts {
		parts[i] = strings.TrimLeft(p, " ")
	}
	return parts
}

// splitParamName splits a parameter name into its first key and the rest:
// leading brackets are skipped, the key is the following run of
// non-bracket characters, and closing brackets right after it are dropped.
// "a[b][c]" gives ("a", "[b][c]"); "[]" gives ("", "").
func splitParamName(name string) (key, after string) {
	i := 0
	for i < len(name) && (name[i] == '[' || name[i] == ']') {
		i++
	}
	j := i
	for j < len(name) && name[j] != '[' && name[j] != ']' {
		j++
	}
	if j == i {
		return "", ""
	}
	key = name[i:j]
	for j < len(name) && name[j] == ']' {
		j++
	}
	return key, name[j:]
}

// normalizeParam stores value v under the (possibly nested) name in params
// and returns the container to store at the caller's level: params itself,
// a one-element array for a bare "[]" name, or nil when the name has no key.
func normalizeParam(params *value.Map, name string, v any, depth int) (any, error) {
	if depth <= 0 {
		return nil, fmt.Errorf("parameters nested deeper than %d levels", maxParamDepth)
	}
	key, after := splitParamName(name)
	if key == "" {
		if v != nil && name == "[]" {
			return []any{v}, nil
		}
		return nil, nil
	}
	switch {
	case after == "":
		params.Set(key, v)
	case after == "[":
		params.Set(name, v)
	case after == "[]":
		arr, err := arrayParam(params, key)
		if err != nil {
			return nil, err
		}
		params.Set(key, append(arr, v))
	case strings.HasPrefix(after, "[]") && len(after) > 2:
		child := after[2:]
		if len(child) > 2 && child[0] == '[' && child[len(child)-1] == ']' && !strings.ContainsAny(child[1:len(child)-1], "[]") {
			child = child[1 : len(child)-1]
		}
		arr, err := arrayParam(params, key)
		if err != nil {
			return nil, err
		}
		if n := len(arr); n > 0 {
			if last, ok := arr[n-1].(*value.Map); ok && !hasNestedKey(last, child) {
				if _, err := normalizeParam(last, child, v, depth-1); err != nil {
					return nil, err
				}
				params.Set(key, arr)
				return params, nil
			}
		}
		elem, err := normalizeParam(value.NewMap(2), child, v, depth-1)
		if err != nil {
			return nil, err
		}
		params.Set(key, append(arr, elem))
	default:
		cur, _ := params.Get(key)
		var child *value.Map
		switch c := cur.(type) {
		case nil:
			child = value.NewMap(2)
		case *value.Map:
			child = c
		default:
			return nil, fmt.Errorf("%w: expected a hash for parameter %q", errParamType, key)
		}
		res, err := normalizeParam(child, after, v, depth-1)
		if err != nil {
			return nil, err
		}
		params.Set(key, res)
	}
	return params, nil
}

// arrayParam returns the array stored under key, or an empty one when the
// key is unset or null.
func arrayParam(params *value.Map, key string) ([]any, error) {
	cur, _ := params.Get(key)
	switch c := cur.(type) {
	case nil:
		return []any{}, nil
	case []any:
		return c, nil
	default:
		return nil, fmt.Errorf("%w: expected an array for parameter %q", errParamType, key)
	}
}

// hasNestedKey reports whether the bracketed path key ("x" or "x][y" style
// remainders) is already set in m; a path containing "[]" never is.
func hasNestedKey(m *value.Map, key string) bool {
	if strings.Contains(key, "[]") {
		return false
	}
	var cur any = m
	for _, part := range strings.FieldsFunc(key, func(r rune) bool { return r == '[' || r == ']' }) {
		h, ok := cur.(*value.Map)
		if !ok {
			return false
		}
		next, ok := h.Get(part)
		if !ok {
			return false
		}
		cur = next
	}
	return true
}
