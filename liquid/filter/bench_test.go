package filter

import (
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func benchFilter(b *testing.B, name string, input any, args ...any) {
	b.Helper()
	fn := Standard()[name]
	ctx := testContext{now: testNow}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fn(ctx, input, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlusInt(b *testing.B)      { benchFilter(b, "plus", int64(40), int64(2)) }
func BenchmarkPlusFloat(b *testing.B)    { benchFilter(b, "plus", 0.1, 0.2) }
func BenchmarkTimesString(b *testing.B)  { benchFilter(b, "times", "19.99", int64(3)) }
func BenchmarkDividedByInt(b *testing.B) { benchFilter(b, "divided_by", int64(1000), int64(7)) }
func BenchmarkRound(b *testing.B)        { benchFilter(b, "round", 3.14159, int64(2)) }
func BenchmarkAppend(b *testing.B)       { benchFilter(b, "append", "hello", " world") }
func BenchmarkUpcase(b *testing.B)       { benchFilter(b, "upcase", "Hello World, this is Liquid") }
func BenchmarkEscape(b *testing.B)       { benchFilter(b, "escape", `<a href="x">Tom & Jerry's</a>`) }
func BenchmarkSplit(b *testing.B)        { benchFilter(b, "split", "a,b,c,d,e,f,g,h", ",") }
func BenchmarkTruncatewords(b *testing.B) {
	benchFilter(b, "truncatewords", "the quick brown fox jumps over the lazy dog", int64(4))
}
func BenchmarkStripHTML(b *testing.B) {
	benchFilter(b, "strip_html", "<p>Hello <b>world</b><script>x()</script> and <i>more</i></p>")
}

func productList(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = value.MapOf("title", "Product", "price", int64((i*7919)%1000), "available", i%3 != 0)
	}
	return out
}

func BenchmarkMap100(b *testing.B)   { benchFilter(b, "map", productList(100), "price") }
func BenchmarkWhere100(b *testing.B) { benchFilter(b, "where", productList(100), "available") }
func BenchmarkSort100(b *testing.B)  { benchFilter(b, "sort", productList(100), "price") }
func BenchmarkJoin100(b *testing.B) {
	arr := make([]any, 100)
	for i := range arr {
		arr[i] = int64(i)
	}
	benchFilter(b, "join", arr, ", ")
}
func BenchmarkDateISO(b *testing.B) {
	benchFilter(b, "date", "2024-01-15T10:30:00-05:00", "%Y-%m-%d %H:%M")
}
func BenchmarkDateNow(b *testing.B) { benchFilter(b, "date", "now", "%B %-d, %Y") }

func BenchmarkStrftime(b *testing.B) {
	t := time.Unix(1700000000, 0).UTC()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Strftime(t, "%a, %d %b %Y %H:%M:%S %z"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkModuloFloat(b *testing.B) { benchFilter(b, "modulo", 10.5, 3.2) }
