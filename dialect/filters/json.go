package filters

import (
	"bytes"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// jsonFilter encodes any value as Ruby's JSON generator does.
func jsonFilter(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("json", args, 0, 0); err != nil {
		return nil, err
	}
	b, err := value.ToJSON(input)
	if err != nil {
		return nil, wrapErr("json", err)
	}
	return string(b), nil
}

// parseJSON decodes a JSON document; with silent: true invalid input gives
// nil instead of an error.
func parseJSON(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("parse_json", args, 0, 0); err != nil {
		return nil, err
	}
	if err := checkKwargs("parse_json", kwargs, "silent"); err != nil {
		return nil, err
	}
	silent := kwBool(kwargs, "silent", false)
	s, ok := input.(string)
	if !ok {
		if silent {
			return nil, nil
		}
		return nil, errorf("parse_json: expected a string, got %s", value.TypeName(input))
	}
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		if silent {
			return nil, nil
		}
		return nil, errorf("parse_json: invalid JSON: %s", err.Error())
	}
	return v, nil
}

// jsonl encodes each element of an array as JSON, one per line.
func jsonl(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("jsonl", args, 0, 0); err != nil {
		return nil, err
	}
	items, ok := input.([]any)
	if !ok {
		if input == nil {
			return "", nil
		}
		return nil, errorf("jsonl: expected an array, got %s", value.TypeName(input))
	}
	var b bytes.Buffer
	for i, it := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		j, err := value.ToJSON(it)
		if err != nil {
			return nil, wrapErr("jsonl", err)
		}
		b.Write(j)
	}
	return b.String(), nil
}

// parseJSONL decodes one JSON document per non-blank line.
func parseJSONL(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("parse_jsonl", args, 0, 0); err != nil {
		return nil, err
	}
	s, ok := input.(string)
	if !ok {
		return nil, errorf("parse_jsonl: expected a string, got %s", value.TypeName(input))
	}
	out := []any{}
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		v, err := value.FromJSON([]byte(line))
		if err != nil {
			return nil, errorf("parse_jsonl: invalid JSON on line %d: %s", n+1, err.Error())
		}
		out = append(out, v)
	}
	return out, nil
}

// graphqlArguments renders a hash as a GraphQL argument list, and any other
// value as a GraphQL input value.
func graphqlArguments(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("graphql_arguments", args, 0, 0); err != nil {
		return nil, err
	}
	var b strings.Builder
	if m, ok := input.(*value.Map); ok {
		first := true
		var err error
		m.Each(func(k string, v any) bool {
			if !first {
				b.WriteByte(' ')
			}
			first = false
			b.WriteString(k)
			b.WriteString(": ")
			err = writeGraphQL(&b, v, 0)
			return err == nil
		})
		if err != nil {
			return nil, wrapErr("graphql_arguments", err)
		}
		return b.String(), nil
	}
	if err := writeGraphQL(&b, input, 0); err != nil {
		return nil, wrapErr("graphql_arguments", err)
	}
	return b.String(), nil
}

const maxGraphQLDepth = 100

func writeGraphQL(b *strings.Builder, v any, depth int) error {
	if depth > maxGraphQLDepth {
		return errorf("nesting of %d is too deep", depth)
	}
	switch x := v.(type) {
	case *value.Map:
		if x.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{ ")
		first := true
		var err error
		x.Each(func(k string, e any) bool {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(k)
			b.WriteString(": ")
			err = writeGraphQL(b, e, depth+1)
			return err == nil
		})
		if err != nil {
			return err
		}
		b.WriteString(" }")
		return nil
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeGraphQL(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case value.Range:
		return writeGraphQL(b, x.Slice(), depth)
	}
	j, err := value.ToJSON(v)
	if err != nil {
		return err
	}
	b.Write(j)
	return nil
}
