package liquid

import (
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// standardFilters returns the filters NewEngine registers. Until package
// filter exports its standard set, a few basic ones live here.
func standardFilters() map[string]filter.Func {
	return map[string]filter.Func{
		"upcase": func(_ filter.Context, in any, _ []any, _ *value.Map) (any, error) {
			return strings.ToUpper(value.ToS(in)), nil
		},
		"append": func(_ filter.Context, in any, args []any, _ *value.Map) (any, error) {
			if len(args) != 1 {
				return nil, filter.Errorf("wrong number of arguments (given %d, expected 2)", len(args)+1)
			}
			return value.ToS(in) + value.ToS(args[0]), nil
		},
		"plus": func(_ filter.Context, in any, args []any, _ *value.Map) (any, error) {
			a, _ := in.(int64)
			b, _ := args[0].(int64)
			return a + b, nil
		},
		"divided_by": func(_ filter.Context, in any, args []any, _ *value.Map) (any, error) {
			a, _ := in.(int64)
			b, _ := args[0].(int64)
			if b == 0 {
				return nil, filter.Errorf("divided by 0")
			}
			return a / b, nil
		},
	}
}
