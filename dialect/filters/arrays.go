package filters

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// maxPadding bounds how many fill elements in_groups and in_groups_of may
// add beyond the input's own elements.
const maxPadding = 1 << 16

// Randomizer is implemented by filter contexts that supply the random source
// for sample, for example a seeded one in tests.
type Randomizer interface {
	Rand() *rand.Rand
}

func arrayInput(name string, input any) ([]any, error) {
	if input == nil {
		return []any{}, nil
	}
	a, ok := toArray(input)
	if !ok {
		return nil, errorf("%s: expected an array, got %s", name, value.TypeName(input))
	}
	return a, nil
}

// fillWith reads the fill_with option: the padding value, and whether to pad.
func fillWith(kwargs *value.Map) (any, bool) {
	v, ok := kwarg(kwargs, "fill_with")
	if !ok {
		return nil, true
	}
	if b, isBool := v.(bool); isBool && !b {
		return nil, false
	}
	return v, true
}

// inGroups splits an array into n groups of near-equal size, as Rails'
// Array#in_groups does.
func inGroups(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("in_groups", args, 1, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("in_groups", kwargs, "fill_with"); err != nil {
		return nil, err
	}
	a, err := arrayInput("in_groups", input)
	if err != nil {
		return nil, err
	}
	n, err := toInt("in_groups", args[0])
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, errorf("in_groups: number of groups must be positive, was %d", n)
	}
	if n > int64(len(a))+maxPadding {
		return nil, errorf("in_groups: too many groups (%d)", n)
	}
	fill, pad := fillWith(kwargs)
	size := int64(len(a))
	div, mod := size/n, size%n
	out := make([]any, 0, n)
	start := int64(0)
	for i := int64(0); i < n; i++ {
		l := div
		if i < mod {
			l++
		}
		g := append([]any{}, a[start:start+l]...)
		start += l
		if pad && mod > 0 && i >= mod {
			g = append(g, fill)
		}
		out = append(out, g)
	}
	return out, nil
}

// inGroupsOf splits an array into groups of n elements, padding the last
// group unless fill_with is false, as Rails' Array#in_groups_of does.
func inGroupsOf(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("in_groups_of", args, 1, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("in_groups_of", kwargs, "fill_with"); err != nil {
		return nil, err
	}
	a, err := arrayInput("in_groups_of", input)
	if err != nil {
		return nil, err
	}
	n, err := toInt("in_groups_of", args[0])
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, errorf("in_groups_of: group size must be a positive integer, was %d", n)
	}
	fill, pad := fillWith(kwargs)
	out := []any{}
	for i := 0; i < len(a); i += int(min(n, int64(len(a)))) {
		end := min(int64(i)+n, int64(len(a)))
		g := append([]any{}, a[i:end]...)
		if pad && int64(len(g)) < n {
			if n-int64(len(g)) > maxPadding {
				return nil, errorf("in_groups_of: group size %d is too large", n)
			}
			for int64(len(g)) < n {
				g = append(g, fill)
			}
		}
		out = append(out, g)
		if end == int64(len(a)) {
			break
		}
	}
	return out, nil
}

// indexBy builds a hash of the elements keyed by one of their properties;
// later elements win on duplicate keys.
func indexBy(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("index_by", args, 1, 1); err != nil {
		return nil, err
	}
	a, err := arrayInput("index_by", input)
	if err != nil {
		return nil, err
	}
	out := value.NewMap(len(a))
	for _, e := range a {
		k, _ := value.Index(e, args[0])
		out.Set(value.ToS(k), e)
	}
	return out, nil
}

// push returns a new array with the arguments appended.
func push(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	a, err := arrayInput("push", input)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(a)+len(args))
	out = append(out, a...)
	return append(out, args...), nil
}

// unshift returns a new array with the arguments prepended.
func unshift(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	a, err := arrayInput("unshift", input)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(a)+len(args))
	out = append(out, args...)
	return append(out, a...), nil
}

// except drops the given keys from a hash, or the given values from an
// array.
func except(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if m, ok := input.(*value.Map); ok {
		out := m.Clone()
		for _, k := range args {
			out.Delete(value.ToS(k))
		}
		return out, nil
	}
	a, err := arrayInput("except", input)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range a {
		if !slices.ContainsFunc(args, func(x any) bool { return value.Equal(e, x) }) {
			out = append(out, e)
		}
	}
	return out, nil
}

// sample picks one random element, or with a count an array of that many
// distinct random elements.
func sample(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("sample", args, 0, 1); err != nil {
		return nil, err
	}
	a, err := arrayInput("sample", input)
	if err != nil {
		return nil, err
	}
	intN := rand.IntN
	if r, ok := c.(Randomizer); ok && r.Rand() != nil {
		intN = r.Rand().IntN
	}
	if len(args) == 0 {
		if len(a) == 0 {
			return nil, nil
		}
		return a[intN(len(a))], nil
	}
	n, err := toInt("sample", args[0])
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errorf("sample: negative sample number")
	}
	n = min(n, int64(len(a)))
	pool := append([]any{}, a...)
	for i := 0; i < int(n); i++ {
		j := i + intN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:n], nil
}

// slice takes part of a string or array (offset and length, default 1; an
// array slice of length 1 is the element itself), or the named keys of a
// hash.
func slice(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if m, ok := input.(*value.Map); ok {
		out := value.NewMap(len(args))
		for _, k := range args {
			ks := value.ToS(k)
			if v, ok := m.Get(ks); ok {
				out.Set(ks, v)
			}
		}
		return out, nil
	}
	if err := arity("slice", args, 1, 2); err != nil {
		return nil, err
	}
	off, err := toInt("slice", args[0])
	if err != nil {
		return nil, err
	}
	length := int64(1)
	if len(args) == 2 {
		if length, err = toInt("slice", args[1]); err != nil {
			return nil, err
		}
	}
	if a, ok := toArray(input); ok {
		if len(args) == 1 || length == 1 {
			if off < 0 {
				off += int64(len(a))
			}
			if off < 0 || off >= int64(len(a)) {
				return nil, nil
			}
			return a[off], nil
		}
		lo, hi, ok := sliceBounds(int64(len(a)), off, length)
		if !ok {
			return []any{}, nil
		}
		return append([]any{}, a[lo:hi]...), nil
	}
	s, err := str("slice", input)
	if err != nil {
		return nil, err
	}
	r := []rune(s)
	lo, hi, ok := sliceBounds(int64(len(r)), off, length)
	if !ok {
		return "", nil
	}
	return string(r[lo:hi]), nil
}

// sliceBounds applies Ruby's slice(start, length) rules.
func sliceBounds(size, off, length int64) (int64, int64, bool) {
	if off < 0 {
		off += size
	}
	if off < 0 || off > size || length < 0 {
		return 0, 0, false
	}
	hi := size
	if length < size-off {
		hi = off + length
	}
	return off, hi, true
}

// naturalSegment is one word of a string in the naturally gem's order: a
// number, a text, a number then letters, or letters then a number.
type naturalSegment struct {
	parts []any // int64 or *big.Int (numbers) and strings
}

// naturalKey splits s into words (runs of letters, digits and marks, with
// underscores removed) and each word into its comparable parts.
func naturalKey(s string) []naturalSegment {
	s = strings.ReplaceAll(s, "_", "")
	var segs []naturalSegment
	for _, word := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.M, r) && !unicode.Is(unicode.Pc, r)
	}) {
		segs = append(segs, naturalSegment{parts: wordParts(word)})
	}
	return segs
}

// wordParts is a word as the naturally gem compares it: digits+letters and
// letters+digits become [number, text] and [text, number], all digits a
// number, anything else the text itself.
func wordParts(w string) []any {
	runes := []rune(w)
	isDigit := func(r rune) bool { return unicode.IsDigit(r) }
	split := 0
	for split < len(runes) && isDigit(runes[split]) == isDigit(runes[0]) {
		split++
	}
	rest := runes[split:]
	allSame := func(rs []rune, digit bool) bool {
		for _, r := range rs {
			if isDigit(r) != digit || (!digit && !unicode.IsLetter(r) && !unicode.Is(unicode.M, r)) {
				return false
			}
		}
		return true
	}
	num := func(rs []rune) any {
		n, ok := new(big.Int).SetString(string(rs), 10)
		if !ok {
			return string(rs)
		}
		return value.Int(n)
	}
	head := runes[:split]
	switch {
	case len(rest) == 0 && isDigit(runes[0]):
		return []any{num(head)}
	case len(rest) > 0 && isDigit(runes[0]) && allSame(rest, false):
		return []any{num(head), string(rest)}
	case len(rest) > 0 && !isDigit(runes[0]) && allSame(head, false) && allSame(rest, true):
		return []any{string(head), num(rest)}
	}
	return []any{w}
}

func compareNatural(a, b []naturalSegment) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		pa, pb := a[i].parts, b[i].parts
		for j := 0; j < len(pa) && j < len(pb); j++ {
			if c := comparePart(pa[j], pb[j]); c != 0 {
				return c
			}
		}
		if c := len(pa) - len(pb); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func comparePart(x, y any) int {
	xs, xStr := x.(string)
	ys, yStr := y.(string)
	switch {
	case xStr && yStr:
		return strings.Compare(xs, ys)
	case xStr:
		return 1
	case yStr:
		return -1
	}
	c, _ := value.Compare(x, y)
	return c
}

// sortNaturally sorts an array in human order (numbers by value, words
// case-sensitively), optionally by a property of each element.
func sortNaturally(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("sort_naturally", args, 0, 1); err != nil {
		return nil, err
	}
	a, err := arrayInput("sort_naturally", input)
	if err != nil {
		return nil, err
	}
	type item struct {
		v   any
		key []naturalSegment
	}
	items := make([]item, len(a))
	for i, e := range a {
		k := e
		if len(args) == 1 {
			k, _ = value.Index(e, args[0])
		}
		items[i] = item{e, naturalKey(value.ToS(k))}
	}
	slices.SortStableFunc(items, func(x, y item) int { return compareNatural(x.key, y.key) })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, nil
}

// sum adds up an array of numbers; any other element is an error.
func sum(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("sum", args, 0, 1); err != nil {
		return nil, err
	}
	a, err := arrayInput("sum", input)
	if err != nil {
		return nil, err
	}
	var total any = int64(0)
	for _, e := range a {
		if len(args) == 1 {
			e, _ = value.Index(e, args[0])
		}
		if !value.IsNumber(e) {
			return nil, errorf("sum: %s can't be coerced into a number", value.Inspect(e))
		}
		total = addNumbers(total, e)
	}
	return total, nil
}

// addNumbers adds two Integers or Floats as Ruby does.
func addNumbers(x, y any) any {
	xi, xInt := x.(int64)
	yi, yInt := y.(int64)
	if xInt && yInt {
		s := xi + yi
		if (s > xi) == (yi > 0) {
			return s
		}
		return value.Int(new(big.Int).Add(big.NewInt(xi), big.NewInt(yi)))
	}
	_, xf := x.(float64)
	_, yf := y.(float64)
	if xf || yf {
		fx, _ := value.ToFloat(x)
		fy, _ := value.ToFloat(y)
		return fx + fy
	}
	return value.Int(new(big.Int).Add(toBig(x), toBig(y)))
}

func toBig(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case *big.Int:
		return x
	}
	return new(big.Int)
}

// compact removes nil elements from a flattened array (or elements whose
// property is nil), or keys with nil values from a hash.
func compact(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("compact", args, 0, 1); err != nil {
		return nil, err
	}
	if m, ok := input.(*value.Map); ok && len(args) == 0 {
		out := value.NewMap(m.Len())
		m.Each(func(k string, v any) bool {
			if v != nil {
				out.Set(k, v)
			}
			return true
		})
		return out, nil
	}
	a, err := arrayInput("compact", input)
	if err != nil {
		return nil, err
	}
	// Like Ruby Liquid's InputIterator, nested arrays are flattened first.
	a = flatten(a, nil, 0)
	out := []any{}
	for _, e := range a {
		v := e
		if len(args) == 1 {
			v, _ = value.Index(e, args[0])
		}
		if v != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// flatten appends the elements of a, and of arrays nested in it, to out.
func flatten(a []any, out []any, depth int) []any {
	for _, e := range a {
		if inner, ok := e.([]any); ok && depth < 100 {
			out = flatten(inner, out, depth+1)
			continue
		}
		out = append(out, e)
	}
	return out
}

// keys returns the keys of a hash, or nil for nil.
func keys(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("keys", args, 0, 0); err != nil {
		return nil, err
	}
	if input == nil {
		return nil, nil // nil has no keys; lets "| default: …" apply
	}
	m, ok := input.(*value.Map)
	if !ok {
		return nil, errorf("keys: expected a hash, got %s", value.TypeName(input))
	}
	out := make([]any, 0, m.Len())
	for _, k := range m.Keys() {
		out = append(out, k)
	}
	return out, nil
}

// values returns the values of a hash, or nil for nil.
func values(_ filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("values", args, 0, 0); err != nil {
		return nil, err
	}
	if input == nil {
		return nil, nil // nil has no keys; lets "| default: …" apply
	}
	m, ok := input.(*value.Map)
	if !ok {
		return nil, errorf("values: expected a hash, got %s", value.TypeName(input))
	}
	return m.Values(), nil
}
