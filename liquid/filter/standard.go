package filter

import (
	"strconv"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// impl is a filter body: args holds the positional arguments followed, when
// the template gave keyword arguments, by one hash of them, exactly as Ruby
// Liquid passes them to a filter method.
type impl func(c Context, input any, args []any) (any, error)

// withArity wraps a filter body so that calls with the wrong number of
// arguments fail the way Ruby reports them. required and optional count the
// arguments after the input.
func withArity(required, optional int, f impl) Func {
	return func(c Context, input any, args []any, kwargs *value.Map) (any, error) {
		// Values should arrive canonical; Normalize is cheap for those and
		// makes stray Go ints or maps behave.
		input = value.Normalize(input)
		all := make([]any, 0, len(args)+1)
		for _, a := range args {
			all = append(all, value.Normalize(a))
		}
		if kwargs != nil {
			all = append(all, kwargs)
		}
		given := len(all) + 1
		if len(all) < required || len(all) > required+optional {
			return nil, arityError(given, required+1, required+optional+1)
		}
		return f(c, input, all)
	}
}

func arityError(given, min, max int) error {
	expected := strconv.Itoa(min)
	if max != min {
		expected += ".." + strconv.Itoa(max)
	}
	return Errorf("wrong number of arguments (given %d, expected %s)", given, expected)
}

// errInternal is what Ruby Liquid shows for exceptions that are not its own
// (TypeError, RangeError, NoMethodError …).
func errInternal() error { return &Error{Msg: "internal"} }

// arg returns the i-th optional argument, or def when it was not given.
func arg(args []any, i int, def any) any {
	if i < len(args) {
		return args[i]
	}
	return def
}

// Extensions returns the names of the filters in Standard that Ruby
// Liquid 5.4 does not have (they come from later Liquid releases). A 5.4
// template using one of these names would get its input back unchanged
// instead.
func Extensions() []string {
	return []string{"find", "find_index", "has", "reject", "sum", "squish"}
}

// Standard returns a fresh map holding every standard filter of Ruby
// Liquid 5.4, plus the later additions named by Extensions.
func Standard() map[string]Func {
	m := map[string]Func{
		// math
		"abs":        withArity(0, 0, abs),
		"plus":       withArity(1, 0, plus),
		"minus":      withArity(1, 0, minus),
		"times":      withArity(1, 0, times),
		"divided_by": withArity(1, 0, dividedBy),
		"modulo":     withArity(1, 0, modulo),
		"round":      withArity(0, 1, round),
		"ceil":       withArity(0, 0, ceil),
		"floor":      withArity(0, 0, floor),
		"at_least":   withArity(1, 0, atLeast),
		"at_most":    withArity(1, 0, atMost),

		// strings
		"append":                 withArity(1, 0, appendFilter),
		"prepend":                withArity(1, 0, prependFilter),
		"downcase":               withArity(0, 0, downcase),
		"upcase":                 withArity(0, 0, upcase),
		"capitalize":             withArity(0, 0, capitalize),
		"escape":                 withArity(0, 0, escape),
		"h":                      withArity(0, 0, escape),
		"escape_once":            withArity(0, 0, escapeOnce),
		"url_encode":             withArity(0, 0, urlEncode),
		"url_decode":             withArity(0, 0, urlDecode),
		"base64_encode":          withArity(0, 0, base64Encode),
		"base64_decode":          withArity(0, 0, base64Decode),
		"base64_url_safe_encode": withArity(0, 0, base64URLSafeEncode),
		"base64_url_safe_decode": withArity(0, 0, base64URLSafeDecode),
		"slice":                  withArity(1, 1, slice),
		"truncate":               withArity(0, 2, truncate),
		"truncatewords":          withArity(0, 2, truncatewords),
		"split":                  withArity(1, 0, split),
		"strip":                  withArity(0, 0, strip),
		"lstrip":                 withArity(0, 0, lstrip),
		"rstrip":                 withArity(0, 0, rstrip),
		"squish":                 withArity(0, 0, squish),
		"strip_html":             withArity(0, 0, stripHTML),
		"strip_newlines":         withArity(0, 0, stripNewlines),
		"newline_to_br":          withArity(0, 0, newlineToBr),
		"replace":                withArity(1, 1, replace),
		"replace_first":          withArity(1, 1, replaceFirst),
		"replace_last":           withArity(2, 0, replaceLast),
		"remove":                 withArity(1, 0, remove),
		"remove_first":           withArity(1, 0, removeFirst),
		"remove_last":            withArity(1, 0, removeLast),

		// arrays
		"size":         withArity(0, 0, size),
		"join":         withArity(0, 1, join),
		"first":        withArity(0, 0, first),
		"last":         withArity(0, 0, last),
		"concat":       withArity(1, 0, concat),
		"reverse":      withArity(0, 0, reverse),
		"compact":      withArity(0, 1, compact),
		"uniq":         withArity(0, 1, uniq),
		"map":          withArity(1, 0, mapFilter),
		"sort":         withArity(0, 1, sortFilter),
		"sort_natural": withArity(0, 1, sortNatural),
		"where":        withArity(1, 1, where),
		"reject":       withArity(1, 1, reject),
		"has":          withArity(1, 1, has),
		"find":         withArity(1, 1, find),
		"find_index":   withArity(1, 1, findIndex),
		"sum":          withArity(0, 1, sum),

		// other
		"date":    withArity(1, 0, date),
		"default": withArity(0, 2, defaultFilter),
	}
	return m
}
