package liquid

import (
	"github.com/sprocketrun/sprocket/liquid/filter"
)

// standardFilters returns the filters NewEngine registers: Ruby Liquid
// 5.4's standard filters.
func standardFilters() map[string]filter.Func {
	return filter.Standard()
}
