// Package value defines the values Liquid templates compute with, and their
// Ruby semantics: truthiness, equality, ordering, string conversion and
// inspection, as Shopify's Ruby Liquid 5.4 has them.
//
// The canonical Go representations are:
//
//	nil          Ruby nil
//	bool         true / false
//	int64        Integer (fits in 64 bits)
//	*big.Int     Integer (beyond 64 bits; never a value that fits int64)
//	float64      Float
//	string       String
//	[]any        Array
//	*Map         Hash (ordered, string keys)
//	Range        Range of integers
//	time.Time    Time
//	Drop         an object whose properties are computed on demand
//
// Normalize turns other Go values (int, map[string]any, []string, structs
// implementing Drop …) into this representation.
package value

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Drop is an object whose properties are looked up lazily, like a Ruby
// Liquid drop. Get reports whether the property exists.
type Drop interface {
	Get(key string) (any, bool)
}

// Stringer is implemented by drops that have a string form when output.
type Stringer interface {
	LiquidString() string
}

// Range is an inclusive range of integers, as produced by (a..b).
type Range struct {
	Start, End int64
}

// Len returns the number of integers in the range.
func (r Range) Len() int64 {
	if r.End < r.Start {
		return 0
	}
	return r.End - r.Start + 1
}

// Slice expands the range into an array.
func (r Range) Slice() []any {
	n := r.Len()
	out := make([]any, 0, n)
	for i := r.Start; i <= r.End; i++ {
		out = append(out, i)
		if i == math.MaxInt64 {
			break
		}
	}
	return out
}

// String renders the range as Ruby does ("1..5").
func (r Range) String() string {
	return strconv.FormatInt(r.Start, 10) + ".." + strconv.FormatInt(r.End, 10)
}

// Int returns the canonical integer value for b: int64 when it fits,
// otherwise *big.Int.
func Int(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// Normalize converts a Go value into the canonical representation described
// in the package documentation. Values already canonical are returned as is.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, *Map, Range, time.Time, []any:
		return v
	case *big.Int:
		return Int(x)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return normalizeUint(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return normalizeUint(x)
	case float32:
		return float64(x)
	case json.Number:
		return numberFromString(string(x))
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := NewMap(len(keys))
		for _, k := range keys {
			m.Set(k, Normalize(x[k]))
		}
		return m
	case Drop:
		return v
	case *time.Time:
		if x == nil {
			return nil
		}
		return *x
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = Normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		m := NewMap(len(keys))
		for _, k := range keys {
			m.Set(k.String(), Normalize(rv.MapIndex(k).Interface()))
		}
		return m
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
	case reflect.String:
		return rv.String()
	}
	return v
}

func normalizeUint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return new(big.Int).SetUint64(u)
}

// numberFromString parses a JSON number: integers without fraction or
// exponent become Integers, everything else a Float.
func numberFromString(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return Int(b)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return f
}

// Truthy reports whether v counts as true in a condition: everything except
// nil and false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}

// TypeName returns the Ruby class name of v, as used in error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NilClass"
	case bool:
		if v.(bool) {
			return "TrueClass"
		}
		return "FalseClass"
	case int64, *big.Int, int:
		return "Integer"
	case float64:
		return "Float"
	case string:
		return "String"
	case []any:
		return "Array"
	case *Map:
		return "Hash"
	case Range:
		return "Range"
	case time.Time:
		return "Time"
	}
	return fmt.Sprintf("%T", v)
}

// IsNumber reports whether v is an Integer or a Float.
func IsNumber(v any) bool {
	switch v.(type) {
	case int64, float64, *big.Int:
		return true
	}
	return false
}

// IsEmpty reports whether v is an empty string, array or hash (Ruby's
// empty?). Values without empty? are never empty.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case *Map:
		return x.Len() == 0
	}
	return false
}

// IsBlank reports whether v is blank in the Rails sense: nil, false, a
// string of only whitespace, or an empty array or hash.
func IsBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return strings.TrimLeft(x, " \t\n\v\f\r") == ""
	case []any:
		return len(x) == 0
	case *Map:
		return x.Len() == 0
	}
	return false
}

// ToString converts v to the text Liquid outputs for it: nil is empty,
// arrays are their elements' strings concatenated, hashes are inspected.
func ToString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		var b strings.Builder
		writeFlat(&b, x)
		return b.String()
	}
	return ToS(v)
}

func writeFlat(b *strings.Builder, a []any) {
	for _, e := range a {
		if inner, ok := e.([]any); ok {
			writeFlat(b, inner)
			continue
		}
		b.WriteString(ToString(e))
	}
}

// ToS is Ruby's to_s: like ToString, except that arrays are inspected.
func ToS(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case *big.Int:
		return x.String()
	case float64:
		return FormatFloat(x)
	case string:
		return x
	case []any, *Map:
		return Inspect(v)
	case Range:
		return x.String()
	case time.Time:
		return FormatTime(x)
	case Stringer:
		return x.LiquidString()
	case fmt.Stringer:
		return x.String()
	}
	return ""
}

// FormatTime renders a time as Ruby's Time#to_s does.
func FormatTime(t time.Time) string {
	if t.Location() == time.UTC {
		return t.Format("2006-01-02 15:04:05 UTC")
	}
	return t.Format("2006-01-02 15:04:05 -0700")
}

// FormatFloat renders f as Ruby's Float#to_s: shortest round-trip digits,
// always with a fraction, and exponent notation for large and small
// magnitudes exactly where Ruby switches to it.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// Shortest digits and decimal exponent.
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	epos := strings.IndexByte(s, 'e')
	mant, expStr := s[:epos], s[epos+1:]
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // position of the decimal point relative to digits
	var out string
	switch {
	case decpt > 0 && decpt < len(digits):
		out = digits[:decpt] + "." + digits[decpt:]
	case decpt > 0 && decpt <= 15:
		out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	case decpt <= 0 && decpt > -4:
		out = "0." + strings.Repeat("0", -decpt) + digits
	default:
		frac := digits[1:]
		if frac == "" {
			frac = "0"
		}
		sign := "+"
		e := decpt - 1
		if e < 0 {
			sign = "-"
			e = -e
		}
		out = fmt.Sprintf("%s.%se%s%02d", digits[:1], frac, sign, e)
	}
	if neg {
		return "-" + out
	}
	return out
}

// Inspect renders v as Ruby's inspect does (Ruby 3.1 style: {"a"=>1}).
func Inspect(v any) string {
	var b strings.Builder
	inspect(&b, v, 0)
	return b.String()
}

func inspect(b *strings.Builder, v any, depth int) {
	if depth > 64 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case string:
		b.WriteString(InspectString(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			inspect(b, e, depth+1)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(InspectString(k))
			b.WriteString("=>")
			inspect(b, x.m[k], depth+1)
		}
		b.WriteByte('}')
	case Drop:
		if s, ok := v.(Stringer); ok {
			b.WriteString(s.LiquidString())
			return
		}
		fmt.Fprintf(b, "#<%T>", v)
	default:
		b.WriteString(ToS(v))
	}
}

// InspectString quotes s as Ruby's String#inspect does.
func InspectString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case 0x1b:
			b.WriteString(`\e`)
		case '#':
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$' || s[i+1] == '@') {
				b.WriteString(`\#`)
			} else {
				b.WriteByte('#')
			}
		default:
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
					fmt.Fprintf(&b, `\x%02X`, s[i])
					continue
				}
			}
			switch {
			case rubyPrintable(r):
				b.WriteRune(r)
			case r > 0xFFFF:
				fmt.Fprintf(&b, `\u{%X}`, r)
			default:
				fmt.Fprintf(&b, `\u%04X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rubyPrintable reports whether Ruby's String#inspect prints r as is:
// controls (but NEL), line and paragraph separators and unassigned code
// points are escaped; format and private-use characters are not.
func rubyPrintable(r rune) bool {
	switch {
	case r == 0x85:
		return true
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
		unicode.Zs, unicode.Cf, unicode.Co)
}

// ToFloat converts a number to float64; ok is false for non-numbers.
func ToFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	}
	return 0, false
}

// Equal reports whether a == b in Ruby: numbers compare by value across
// Integer and Float, arrays and hashes compare element-wise.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64, float64, *big.Int:
		if !IsNumber(b) {
			return false
		}
		c, _ := compareNumbers(a, b)
		return c == 0 && !isNaN(a) && !isNaN(b)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.m[k]
			if !ok || !Equal(x.m[k], yv) {
				return false
			}
		}
		return true
	case Range:
		y, ok := b.(Range)
		return ok && x == y
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	defer func() { _ = recover() }() // uncomparable dynamic types
	return a == b
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

// compareNumbers compares two numbers exactly.
func compareNumbers(a, b any) (int, bool) {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			case x == y:
				return 0, true
			}
			return 0, false // NaN
		}
	}
	if isNaN(a) || isNaN(b) {
		return 0, false
	}
	if f, ok := a.(float64); ok && math.IsInf(f, 0) {
		if math.IsInf(f, 1) {
			return 1, true
		}
		return -1, true
	}
	if f, ok := b.(float64); ok && math.IsInf(f, 0) {
		if math.IsInf(f, 1) {
			return -1, true
		}
		return 1, true
	}
	return toRat(a).Cmp(toRat(b)), true
}

func toRat(v any) *big.Rat {
	switch x := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(x)
	case *big.Int:
		return new(big.Rat).SetInt(x)
	case float64:
		r, _ := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		if r == nil {
			r = new(big.Rat)
			r.SetFloat64(x)
		}
		return r
	}
	return new(big.Rat)
}

// ErrNotComparable is returned by Compare when either side has no ordering
// operators in Ruby (nil, booleans, arrays, hashes, ranges): Liquid treats
// such comparisons as false.
var ErrNotComparable = fmt.Errorf("values are not comparable")

// CompareError is a failed comparison between two comparable but
// incompatible values, e.g. an Integer and a String. Its message is Ruby's.
type CompareError struct {
	Left, Right any
}

func (e *CompareError) Error() string {
	var right string
	switch e.Right.(type) {
	case nil, bool, int64, float64:
		right = Inspect(e.Right)
	default:
		right = TypeName(e.Right)
	}
	return "comparison of " + TypeName(e.Left) + " with " + right + " failed"
}

func comparable(v any) bool {
	switch v.(type) {
	case int64, float64, *big.Int, string, time.Time:
		return true
	}
	return false
}

// Compare orders a and b as Ruby's <=> does for Integers, Floats, Strings
// and Times. It returns ErrNotComparable when either value has no ordering,
// and a *CompareError when both do but cannot be compared with each other.
func Compare(a, b any) (int, error) {
	if !comparable(a) || !comparable(b) {
		return 0, ErrNotComparable
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), nil
		}
	default:
		if IsNumber(b) {
			c, ok := compareNumbers(a, b)
			if !ok {
				return 0, &CompareError{a, b}
			}
			return c, nil
		}
	}
	return 0, &CompareError{a, b}
}

// Size returns the size Liquid reports for v (.size): length of strings
// (in characters), arrays and hashes; ok is false when v has no size.
func Size(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		return int64(len([]rune(x))), true
	case []any:
		return int64(len(x)), true
	case *Map:
		return int64(x.Len()), true
	case Range:
		return x.Len(), true
	}
	return 0, false
}

// Index looks up key in obj the way a filter such as map or where does:
// hashes and drops by string key, arrays by integer index (negative counts
// from the end). ok is false when there is no such element.
func Index(obj, key any) (any, bool) {
	switch o := obj.(type) {
	case *Map:
		k, isStr := key.(string)
		if !isStr {
			k = ToS(key)
		}
		return o.Get(k)
	case []any:
		i, isInt := key.(int64)
		if !isInt {
			return nil, false
		}
		if i < 0 {
			i += int64(len(o))
		}
		if i < 0 || i >= int64(len(o)) {
			return nil, false
		}
		return o[i], true
	case Drop:
		k, isStr := key.(string)
		if !isStr {
			k = ToS(key)
		}
		return o.Get(k)
	}
	return nil, false
}
