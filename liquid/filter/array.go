package filter

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// MaxRangeElements bounds how many integers a range may expand to in an
// array filter; larger ranges fail with "Memory limits exceeded" instead of
// exhausting memory.
const MaxRangeElements = 1 << 22

// Elements turns a filter input into the list Liquid's array filters work
// on (Ruby Liquid's InputIterator): arrays are flattened, a hash is a list
// of one hash, a range is its integers, nil is empty, a time is Ruby's
// Time#to_a, and any other value is a list of itself. It fails only for
// ranges longer than MaxRangeElements.
func Elements(input any) ([]any, error) {
	switch x := input.(type) {
	case nil:
		return []any{}, nil
	case []any:
		return flatten(x, make([]any, 0, len(x))), nil
	case value.Range:
		if x.Len() > MaxRangeElements {
			return nil, Errorf("Memory limits exceeded")
		}
		return x.Slice(), nil
	case time.Time:
		// Ruby's Array(time) is Time#to_a.
		var zone any
		if name, _ := x.Zone(); name != "" {
			zone = name
		}
		return []any{int64(x.Second()), int64(x.Minute()), int64(x.Hour()), int64(x.Day()),
			int64(x.Month()), int64(x.Year()), int64(x.Weekday()), int64(x.YearDay()), x.IsDST(), zone}, nil
	}
	return []any{input}, nil
}

func flatten(a []any, out []any) []any {
	for _, e := range a {
		if inner, ok := e.([]any); ok {
			out = flatten(inner, out)
			continue
		}
		out = append(out, e)
	}
	return out
}

// indexFailure says how Ruby's item[property] failed.
type indexFailure uint8

const (
	indexOK       indexFailure = iota
	indexTypeErr               // TypeError: the key has the wrong type
	indexNoMethod              // NoMethodError: the item has no []
	indexInternal              // any other Ruby exception (RangeError …)
)

// rubyIndex evaluates Ruby's item[property] for the values Liquid filters
// meet: hashes and drops by key, arrays by position or range, strings by
// position, range or substring, integers by bit.
func rubyIndex(item, property any) (any, indexFailure) {
	switch it := item.(type) {
	case *value.Map:
		if k, ok := property.(string); ok {
			v, _ := it.Get(k)
			return v, indexOK
		}
		return nil, indexOK
	case value.Drop:
		v, _ := it.Get(toS(property))
		return v, indexOK
	case []any:
		if r, ok := property.(value.Range); ok {
			from, to, ok := rangeBounds(int64(len(it)), r)
			if !ok {
				return nil, indexOK
			}
			return append([]any{}, it[from:to]...), indexOK
		}
		i, fail := indexPosition(property)
		if fail != indexOK {
			return nil, fail
		}
		if i < 0 {
			i += int64(len(it))
		}
		if i < 0 || i >= int64(len(it)) {
			return nil, indexOK
		}
		return it[i], indexOK
	case string:
		if sub, ok := property.(string); ok {
			if strings.Contains(it, sub) {
				return sub, indexOK
			}
			return nil, indexOK
		}
		offs := charOffsets(it)
		n := int64(len(offs) - 1)
		if r, ok := property.(value.Range); ok {
			from, to, ok := rangeBounds(n, r)
			if !ok {
				return nil, indexOK
			}
			return it[offs[from]:offs[to]], indexOK
		}
		i, fail := indexPosition(property)
		if fail != indexOK {
			return nil, fail
		}
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, indexOK
		}
		return it[offs[i]:offs[i+1]], indexOK
	case int64, *big.Int:
		return integerBits(toNum(it).i, property)
	}
	return nil, indexNoMethod
}

// rangeBounds applies Ruby's seq[a..b] rules to a sequence of n elements.
func rangeBounds(n int64, r value.Range) (from, to int64, ok bool) {
	from, end := r.Start, r.End
	if from < 0 {
		from += n
	}
	if from < 0 || from > n {
		return 0, 0, false
	}
	if end < 0 {
		end += n
	}
	to = end + 1
	if to > n {
		to = n
	}
	if to < from {
		to = from
	}
	return from, to, true
}

// integerBits is Ruby's Integer#[]: one two's complement bit, or for a
// range the bits it covers.
func integerBits(n *big.Int, property any) (any, indexFailure) {
	shift := func(by int64) *big.Int {
		if by >= 0 {
			if by > int64(n.BitLen())+1 {
				if n.Sign() < 0 {
					return big.NewInt(-1)
				}
				return new(big.Int)
			}
			return new(big.Int).Rsh(n, uint(by))
		}
		if -by > 1<<20 {
			return nil
		}
		return new(big.Int).Lsh(n, uint(-by))
	}
	if r, ok := property.(value.Range); ok {
		v := shift(r.Start)
		if v == nil {
			return nil, indexInternal
		}
		if r.End < r.Start {
			return value.Int(v), indexOK
		}
		width := r.End - r.Start + 1
		if width > 1<<20 {
			return nil, indexInternal
		}
		mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(width)), big.NewInt(1))
		return value.Int(v.And(v, mask)), indexOK
	}
	var i int64
	switch p := property.(type) {
	case int64:
		i = p
	case *big.Int:
		if p.Sign() < 0 {
			return int64(0), indexOK
		}
		i = math.MaxInt64
	case float64:
		// Ruby converts the Float to a C long for Bignums (beyond 62 bits),
		// which fails out of range; Fixnums accept any finite Float.
		fixnum := n.BitLen() <= 62 && !(n.Sign() < 0 && n.BitLen() == 63)
		switch {
		case math.IsNaN(p) || math.IsInf(p, 0):
			return nil, indexInternal
		case !fixnum && (p >= math.MaxInt64 || p <= math.MinInt64):
			return nil, indexInternal
		case p >= math.MaxInt64:
			i = math.MaxInt64
		case p <= math.MinInt64:
			return int64(0), indexOK
		default:
			i = int64(p)
		}
	default:
		return nil, indexTypeErr
	}
	if i < 0 {
		return int64(0), indexOK
	}
	return int64(shift(i).Bit(0)), indexOK
}

// indexPosition converts an array or string index the way Ruby does:
// Integers as they are, Floats truncated, anything else is a TypeError.
func indexPosition(property any) (int64, indexFailure) {
	switch p := property.(type) {
	case int64:
		return p, indexOK
	case float64:
		if math.IsNaN(p) || math.IsInf(p, 0) || p >= math.MaxInt64 || p <= math.MinInt64 {
			return 0, indexInternal
		}
		return int64(p), indexOK
	case *big.Int:
		return 0, indexInternal
	}
	return 0, indexTypeErr
}

// respondsToIndex reports whether Ruby's item responds to [].
func respondsToIndex(item any) bool {
	switch item.(type) {
	case *value.Map, value.Drop, []any, string, int64, *big.Int:
		return true
	}
	return false
}

// indexError maps a failed item[property] to the error the calling filter
// reports (items without [] are filtered out before these calls).
func indexError(fail indexFailure, property any) error {
	switch fail {
	case indexOK:
		return nil
	case indexTypeErr:
		return propertyError(property)
	}
	return errInternal()
}

func propertyError(property any) error {
	return Errorf("cannot select the property '%s'", toS(property))
}

func size(_ Context, input any, _ []any) (any, error) {
	switch x := input.(type) {
	case int64:
		return int64(8), nil
	case *big.Int:
		return int64((x.BitLen() + 7) / 8), nil
	case *value.Map:
		return int64(x.Len()), nil
	case value.Drop:
		if v, ok := x.Get("size"); ok {
			return value.Normalize(v), nil
		}
		return int64(0), nil
	}
	if n, ok := value.Size(input); ok {
		return n, nil
	}
	return int64(0), nil
}

func join(c Context, input any, args []any) (any, error) {
	glue := toS(arg(args, 0, " "))
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(elems))
	total := int64(0)
	for i, e := range elems {
		parts[i] = toS(e)
		total += int64(len(parts[i])) + int64(len(glue))
	}
	// Charged before joining: the result of a long array of long strings
	// must fail on the budget, not be allocated first.
	if err := Charge(c, total); err != nil {
		return nil, err
	}
	return strings.Join(parts, glue), nil
}

func first(_ Context, input any, _ []any) (any, error) {
	switch x := input.(type) {
	case []any:
		if len(x) > 0 {
			return x[0], nil
		}
	case *value.Map:
		if x.Len() > 0 {
			k := x.Keys()[0]
			v, _ := x.Get(k)
			return []any{k, v}, nil
		}
	case value.Range:
		return x.Start, nil
	}
	return nil, nil
}

func last(_ Context, input any, _ []any) (any, error) {
	switch x := input.(type) {
	case []any:
		if len(x) > 0 {
			return x[len(x)-1], nil
		}
	case value.Range:
		return x.End, nil
	}
	return nil, nil
}

func concat(_ Context, input any, args []any) (any, error) {
	other, ok := args[0].([]any)
	if !ok {
		return nil, Errorf("concat filter requires an array argument")
	}
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	return append(elems, other...), nil
}

func reverse(_ Context, input any, _ []any) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(elems)-1; i < j; i, j = i+1, j-1 {
		elems[i], elems[j] = elems[j], elems[i]
	}
	return elems, nil
}

// propertyOf is item[property] with Ruby's failures mapped to Liquid's:
// a TypeError becomes "cannot select the property", and stop is true when
// the item has no [] at all (the filter then returns nil).
func propertyOf(item, property any) (v any, stop bool, err error) {
	v, fail := rubyIndex(item, property)
	switch fail {
	case indexTypeErr:
		return nil, false, propertyError(property)
	case indexNoMethod:
		return nil, true, nil
	case indexInternal:
		return nil, false, errInternal()
	}
	return v, false, nil
}

func compact(_ Context, input any, args []any) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	property := arg(args, 0, nil)
	out := make([]any, 0, len(elems))
	for _, e := range elems {
		v := e
		if property != nil {
			var stop bool
			var err error
			v, stop, err = propertyOf(e, property)
			if err != nil {
				return nil, err
			}
			if stop {
				return nil, nil
			}
		}
		if v != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func uniq(_ Context, input any, args []any) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	property := arg(args, 0, nil)
	if len(elems) <= 1 {
		// Ruby's uniq returns short arrays without calling its block.
		return elems, nil
	}
	seen := make(map[string]bool, len(elems))
	out := make([]any, 0, len(elems))
	for _, e := range elems {
		k := e
		if property != nil {
			var stop bool
			var err error
			k, stop, err = propertyOf(e, property)
			if err != nil {
				return nil, err
			}
			if stop {
				return nil, nil
			}
		}
		key := eqlKey(k)
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// eqlKey encodes v so that two values get the same key exactly when Ruby's
// hash-based uniq considers them equal (eql?): 1 and 1.0 differ, arrays and
// hashes compare by content.
func eqlKey(v any) string {
	var b strings.Builder
	writeEqlKey(&b, v)
	return b.String()
}

func writeEqlKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("n;")
	case bool:
		if x {
			b.WriteString("t;")
		} else {
			b.WriteString("f;")
		}
	case int64:
		b.WriteString("i" + strconv.FormatInt(x, 10) + ";")
	case *big.Int:
		b.WriteString("i" + x.String() + ";")
	case float64:
		if x == 0 {
			x = 0
		}
		b.WriteString("d" + strconv.FormatFloat(x, 'g', -1, 64) + ";")
	case string:
		b.WriteString("s" + strconv.Itoa(len(x)) + ":" + x)
	case []any:
		b.WriteString("a" + strconv.Itoa(len(x)) + "[")
		for _, e := range x {
			writeEqlKey(b, e)
		}
		b.WriteString("]")
	case *value.Map:
		pairs := make([]string, 0, x.Len())
		x.Each(func(k string, e any) bool {
			pairs = append(pairs, eqlKey(k)+eqlKey(e))
			return true
		})
		sort.Strings(pairs)
		b.WriteString("h" + strconv.Itoa(len(pairs)) + "{")
		for _, p := range pairs {
			b.WriteString(p)
		}
		b.WriteString("}")
	case value.Range:
		b.WriteString("r" + x.String() + ";")
	case time.Time:
		b.WriteString("T" + strconv.FormatInt(x.Unix(), 10) + "." + strconv.Itoa(x.Nanosecond()) + ";")
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map {
			fmt.Fprintf(b, "p%T@%x;", v, rv.Pointer())
			return
		}
		fmt.Fprintf(b, "o%T%#v;", v, v)
	}
}

func mapFilter(_ Context, input any, args []any) (any, error) {
	property := args[0]
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		if s, ok := property.(string); ok && s == "to_liquid" {
			out[i] = e
			continue
		}
		if !respondsToIndex(e) {
			out[i] = nil
			continue
		}
		v, fail := rubyIndex(e, property)
		if err := indexError(fail, property); err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Spaceship is Ruby's a <=> b for Liquid values; ok is false where Ruby
// returns nil (values that cannot be ordered against each other).
func Spaceship(a, b any) (int, bool) {
	if aa, ok := a.([]any); ok {
		bb, ok := b.([]any)
		if !ok {
			return 0, false
		}
		for i := 0; i < len(aa) && i < len(bb); i++ {
			c, ok := Spaceship(aa[i], bb[i])
			if !ok {
				return 0, false
			}
			if c != 0 {
				return c, true
			}
		}
		switch {
		case len(aa) < len(bb):
			return -1, true
		case len(aa) > len(bb):
			return 1, true
		}
		return 0, true
	}
	c, err := value.Compare(a, b)
	if err == nil {
		return c, true
	}
	if err == value.ErrNotComparable && value.Equal(a, b) {
		return 0, true
	}
	return 0, false
}

func errIncompatibleSort() error {
	return &Error{Msg: "cannot sort values of incompatible types"}
}

func nilSafeCompare(a, b any) (int, error) {
	if c, ok := Spaceship(a, b); ok {
		return c, nil
	}
	switch {
	case a == nil:
		return 1, nil
	case b == nil:
		return -1, nil
	}
	return 0, errIncompatibleSort()
}

func nilSafeCasecmp(a, b any) (int, error) {
	if a != nil && b != nil {
		return asciiCasecmp(toS(a), toS(b)), nil
	}
	if a == nil {
		return 1, nil
	}
	return -1, nil
}

// asciiCasecmp is Ruby's String#casecmp: bytewise after folding A-Z.
func asciiCasecmp(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lowerASCII(a[i]), lowerASCII(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// mergeSort sorts a stably with the comparisons in the same order as the
// C library merge sort Ruby's Array#sort uses, so that the first failing
// comparison is the same one Ruby meets.
func mergeSort(a []any, cmp func(x, y any) (int, error)) error {
	if len(a) <= 1 {
		return nil
	}
	tmp := make([]any, len(a))
	return mergeSortRec(a, tmp, cmp)
}

func mergeSortRec(a, tmp []any, cmp func(x, y any) (int, error)) error {
	n := len(a)
	if n <= 1 {
		return nil
	}
	n1 := n / 2
	left, right := a[:n1], a[n1:]
	if err := mergeSortRec(left, tmp, cmp); err != nil {
		return err
	}
	if err := mergeSortRec(right, tmp, cmp); err != nil {
		return err
	}
	i, j, k := 0, 0, 0
	for i < len(left) && j < len(right) {
		c, err := cmp(left[i], right[j])
		if err != nil {
			return err
		}
		if c <= 0 {
			tmp[k] = left[i]
			i++
		} else {
			tmp[k] = right[j]
			j++
		}
		k++
	}
	for i < len(left) {
		tmp[k] = left[i]
		i++
		k++
	}
	copy(a, tmp[:k])
	return nil
}

func sortBy(input any, args []any, cmp func(a, b any) (int, error)) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return []any{}, nil
	}
	property := arg(args, 0, nil)
	if property == nil {
		if err := mergeSort(elems, cmp); err != nil {
			return nil, err
		}
		return elems, nil
	}
	for _, e := range elems {
		if !respondsToIndex(e) {
			return nil, nil
		}
	}
	err = mergeSort(elems, func(a, b any) (int, error) {
		x, fa := rubyIndex(a, property)
		if err := indexError(fa, property); err != nil {
			return 0, err
		}
		y, fb := rubyIndex(b, property)
		if err := indexError(fb, property); err != nil {
			return 0, err
		}
		return cmp(x, y)
	})
	if err != nil {
		return nil, err
	}
	return elems, nil
}

func sortFilter(_ Context, input any, args []any) (any, error) {
	return sortBy(input, args, nilSafeCompare)
}

func sortNatural(_ Context, input any, args []any) (any, error) {
	return sortBy(input, args, nilSafeCasecmp)
}

// selectBy runs Liquid's property test over the input items, calling visit
// with each item and whether it matches until visit returns false. ok is
// false when an item has no properties at all (the filter returns nil).
func selectBy(input any, args []any, visit func(i int, item any, match bool) bool) (ok bool, err error) {
	property := args[0]
	target := arg(args, 1, nil)
	elems, err := Elements(input)
	if err != nil {
		return false, err
	}
	for i, e := range elems {
		v, stop, err := propertyOf(e, property)
		if err != nil {
			return false, err
		}
		if stop {
			return false, nil
		}
		var match bool
		if target == nil {
			match = value.Truthy(v)
		} else {
			match = value.Equal(v, target)
		}
		if !visit(i, e, match) {
			break
		}
	}
	return true, nil
}

func where(_ Context, input any, args []any) (any, error) {
	out := []any{}
	ok, err := selectBy(input, args, func(_ int, item any, match bool) bool {
		if match {
			out = append(out, item)
		}
		return true
	})
	if err != nil || !ok {
		return nil, err
	}
	return out, nil
}

func reject(_ Context, input any, args []any) (any, error) {
	out := []any{}
	ok, err := selectBy(input, args, func(_ int, item any, match bool) bool {
		if !match {
			out = append(out, item)
		}
		return true
	})
	if err != nil || !ok {
		return nil, err
	}
	return out, nil
}

func has(_ Context, input any, args []any) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return false, nil
	}
	found := false
	ok, err := selectBy(input, args, func(_ int, _ any, match bool) bool {
		found = match
		return !match
	})
	if err != nil || !ok {
		return nil, err
	}
	return found, nil
}

func find(_ Context, input any, args []any) (any, error) {
	var found any
	ok, err := selectBy(input, args, func(_ int, item any, match bool) bool {
		if match {
			found = item
		}
		return !match
	})
	if err != nil || !ok {
		return nil, err
	}
	return found, nil
}

func findIndex(_ Context, input any, args []any) (any, error) {
	var found any
	ok, err := selectBy(input, args, func(i int, _ any, match bool) bool {
		if match {
			found = int64(i)
		}
		return !match
	})
	if err != nil || !ok {
		return nil, err
	}
	return found, nil
}

func sum(_ Context, input any, args []any) (any, error) {
	elems, err := Elements(input)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return int64(0), nil
	}
	property := arg(args, 0, nil)
	values := make([]any, len(elems))
	for i, e := range elems {
		switch {
		case property == nil:
			values[i] = e
		case respondsToIndex(e):
			v, fail := rubyIndex(e, property)
			if err := indexError(fail, property); err != nil {
				return nil, err
			}
			values[i] = v
		default:
			values[i] = int64(0)
		}
	}
	total := intNumber(new(big.Int))
	flat, _ := Elements(values)
	for _, v := range flat {
		total = addNum(total, toNum(v))
	}
	return total.value(), nil
}
