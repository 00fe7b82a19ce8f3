package dialect

import (
	"regexp"
	"strings"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// registerKeywords adds the keyword literals (docs:
// platform/liquid/keyword-literals/*): array and hash are a new empty value
// on every evaluation, newline is "\n". A variable of the same name shadows
// the keyword.
func registerKeywords(e *liquid.Engine) {
	e.RegisterKeyword("array", func() any { return []any{} })
	e.RegisterKeyword("hash", func() any { return value.NewMap(0) })
	e.RegisterKeyword("newline", func() any { return "\n" })
}

// reNewline is what Mechanic's filters use when given newline.
var reNewline = regexp.MustCompile(`\r?\n`)

// registerNewlineFilters wraps split and replace so that a "\n" pattern
// matches /\r?\n/, as Mechanic does when those filters are given the
// newline keyword (docs: platform/liquid/keyword-literals/newline.md).
//
// Deviation: the engine passes values, not the expressions that produced
// them, so any "\n" argument gets this treatment, not only the keyword
// (a literal newline string, or a captured one). Splitting by "\n" or by
// /\r?\n/ differs only for text containing "\r\n", where the regexp is
// what a task author wants. newline_to_br already uses /\r?\n/ in Liquid
// 5.4 and needs no wrapper.
func registerNewlineFilters(e *liquid.Engine) {
	if split, ok := e.Filter("split"); ok {
		e.RegisterFilter("split", func(c filter.Context, in any, args []any, kw *value.Map) (any, error) {
			if len(args) == 1 && args[0] == "\n" {
				if _, isStr := in.(string); isStr || in == nil {
					s := value.ToS(in)
					if err := filter.Charge(c, 48*int64(strings.Count(s, "\n")+1)); err != nil {
						return nil, err
					}
					return splitNewlines(s), nil
				}
			}
			return split(c, in, args, kw)
		})
	}
	if replace, ok := e.Filter("replace"); ok {
		e.RegisterFilter("replace", func(c filter.Context, in any, args []any, kw *value.Map) (any, error) {
			if len(args) == 2 && args[0] == "\n" && kw == nil {
				if _, isStr := in.(string); isStr || in == nil {
					s, repl := value.ToS(in), value.ToS(args[1])
					if err := filter.Charge(c, int64(len(s))+int64(strings.Count(s, "\n"))*int64(len(repl))); err != nil {
						return nil, err
					}
					return reNewline.ReplaceAllLiteralString(s, repl), nil
				}
			}
			return replace(c, in, args, kw)
		})
	}
}

// splitNewlines is Ruby's String#split(/\r?\n/): trailing empty strings
// are removed, and an empty string gives an empty array.
func splitNewlines(s string) []any {
	parts := reNewline.Split(s, -1)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

// graphqlOperationFields returns the top-level field names (or aliases)
// of the first operation in a GraphQL document, best effort.
func graphqlOperationFields(q string) []string {
	i := strings.IndexByte(q, '{')
	if i < 0 {
		return nil
	}
	var out []string
	depth, parens := 0, 0
	for j := i; j < len(q); j++ {
		c := q[j]
		switch {
		case c == '#':
			for j < len(q) && q[j] != '\n' {
				j++
			}
		case c == '"':
			j++
			for j < len(q) && q[j] != '"' {
				if q[j] == '\\' {
					j++
				}
				j++
			}
		case c == '(':
			parens++
		case c == ')':
			parens--
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return out
			}
		case depth == 1 && parens == 0 && (isNameStart(c)):
			k := j
			for k < len(q) && isNameChar(q[k]) {
				k++
			}
			name := q[j:k]
			rest := strings.TrimLeft(q[k:], " \t\r\n,")
			if strings.HasPrefix(rest, ":") {
				// an alias: the response key is the alias; skip the field name
				rest = strings.TrimLeft(rest[1:], " \t\r\n")
				m := 0
				for m < len(rest) && isNameChar(rest[m]) {
					m++
				}
				j = len(q) - len(rest) + m - 1
			} else {
				j = k - 1
			}
			if name != "fragment" && !strings.HasPrefix(name, "__") || name == "__typename" {
				out = append(out, name)
			}
		}
	}
	return out
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// emptyGraphQLResult is what the shopify filter returns in preview or
// without a client: {"data": {<top-level field>: nil, …}}. Library tasks
// test event.preview after the query and substitute stub data, so the
// empty shape only has to keep lookups such as result.data.orders.edges
// quiet (nil) until then.
func emptyGraphQLResult(query string) *value.Map {
	data := value.NewMap(2)
	for _, f := range graphqlOperationFields(query) {
		data.Set(f, nil)
	}
	return value.MapOf("data", data)
}

// shopifyFilter is {{ query | shopify }} and {{ query | shopify: variables:
// vars }}; a single hash argument with a "variables" key is accepted too
// (docs: platform/liquid/filters/README.md, shopify).
func shopifyFilter(def GraphQLClient) filter.Func {
	return func(c filter.Context, in any, args []any, kw *value.Map) (any, error) {
		q, ok := in.(string)
		if !ok {
			if in == nil {
				return nil, filter.Errorf("shopify: expected a GraphQL query string, got nil")
			}
			q = value.ToS(in)
		}
		var vars any
		if kw != nil {
			if v, ok := kw.Get("variables"); ok {
				vars = v
			}
		}
		if vars == nil && len(args) == 1 {
			if m, ok := args[0].(*value.Map); ok {
				if v, ok := m.Get("variables"); ok {
					vars = v
				} else {
					vars = m
				}
			}
		}
		ctx := c.Context()
		st := RunFrom(ctx)
		client := def
		if st != nil {
			st.addQuery(q)
			if st.GraphQL != nil {
				client = st.GraphQL
			}
			if st.Preview {
				return emptyGraphQLResult(q), nil
			}
		}
		if client == nil {
			// Outside a preview an empty result would pass for the shop's
			// answer; say that no shop can be asked instead.
			return nil, filter.Errorf("shopify: no Shopify client here: connect a shop, or render as a preview")
		}
		res, err := client.GraphQL(ctx, q, vars)
		if err != nil {
			return nil, filter.Errorf("shopify: %v", err)
		}
		return value.Normalize(res), nil
	}
}
