package filter

import (
	"math"
	"math/big"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

type fakeDrop map[string]any

func (d fakeDrop) Get(k string) (any, bool) { v, ok := d[k]; return v, ok }

// TestNoPanics calls every filter with many generated inputs and
// arguments, including odd ones (huge numbers, NaN, invalid UTF-8, drops,
// times, ranges), and requires each call to return rather than panic.
func TestNoPanics(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	scalars := []any{
		nil, true, false, int64(0), int64(-1), int64(7), int64(math.MaxInt64), int64(math.MinInt64), huge,
		new(big.Int).Neg(huge), 0.0, math.Copysign(0, -1), 1.5, -2.5, 1e300, 5e-324, math.NaN(), math.Inf(1), math.Inf(-1),
		"", " ", "abc", "a,b,,c", "  x  ", "%", "%-", "%:z", "%E%", "\xff\xfe", "é", "日本語", "1.5", "-0x1A", "9999999999999999999999",
		"2024-01-05T10:00:00Z", "now", "<p>a</p>", "\\0\\k<x>", "aGVsbG8=", "-_", time.Unix(1700000000, 5).UTC(),
		time.Unix(-1e12, 0).In(time.FixedZone("", 3600)), value.Range{Start: -3, End: 4}, value.Range{Start: 5, End: 1},
		value.Range{Start: math.MaxInt64 - 2, End: math.MaxInt64}, fakeDrop{"a": int64(1), "size": int64(3)},
	}
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := r.Intn(10); {
		case depth > 2 || k < 6:
			return scalars[r.Intn(len(scalars))]
		case k < 8:
			n := r.Intn(5)
			a := make([]any, n)
			for i := range a {
				a[i] = gen(depth + 1)
			}
			return a
		default:
			m := value.NewMap(3)
			for _, key := range []string{"a", "b", "title"} {
				if r.Intn(2) == 0 {
					m.Set(key, gen(depth+1))
				}
			}
			return m
		}
	}
	filters := Standard()
	names := make([]string, 0, len(filters))
	for n := range filters {
		names = append(names, n)
	}
	sort.Strings(names)
	ctx := testContext{now: testNow}
	for i := 0; i < 30000; i++ {
		name := names[r.Intn(len(names))]
		in := gen(0)
		args := make([]any, r.Intn(4))
		for j := range args {
			args[j] = gen(1)
		}
		var kw *value.Map
		if r.Intn(10) == 0 {
			kw = value.MapOf("allow_false", r.Intn(2) == 0)
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s(%#v, %#v, %v) panicked: %v", name, in, args, kw, p)
				}
			}()
			_, _ = filters[name](ctx, in, args, kw)
		}()
	}
}
