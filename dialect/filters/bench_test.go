package filters

import (
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func benchFilter(b *testing.B, name string, input any, args []any, kw *value.Map) {
	b.Helper()
	f := Mechanic()[name]
	c := newCtx(b, "America/Chicago")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f(c, input, args, kw); err != nil {
			b.Fatal(err)
		}
	}
}

func orderJSON(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"id":1234567890,"name":"#1001","line_items":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":1,"title":"Short sleeve t-shirt","price":"19.99","quantity":2,"sku":"SKU-1","properties":[{"name":"a","value":"b"}],"taxable":true,"grams":120.5}`)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

func BenchmarkParseJSONOrder100(b *testing.B) {
	benchFilter(b, "parse_json", orderJSON(100), nil, nil)
}

func BenchmarkJSONOrder100(b *testing.B) {
	v, err := value.FromJSON([]byte(orderJSON(100)))
	if err != nil {
		b.Fatal(err)
	}
	benchFilter(b, "json", v, nil, nil)
}

func BenchmarkScanWords(b *testing.B) {
	benchFilter(b, "scan", strings.Repeat("It's a lovely day! ", 50), []any{`[\w']+`}, nil)
}

func BenchmarkCSV1000Rows(b *testing.B) {
	rows := make([]any, 1000)
	for i := range rows {
		rows[i] = []any{int64(i), "Short sleeve t-shirt", "a,b", nil, 19.99}
	}
	benchFilter(b, "csv", rows, nil, nil)
}

func BenchmarkParseCSV1000Rows(b *testing.B) {
	text := strings.Repeat("1,Short sleeve t-shirt,\"a,b\",,19.99\n", 1000)
	benchFilter(b, "parse_csv", text, nil, nil)
}

func BenchmarkDateNowAdvance(b *testing.B) {
	benchFilter(b, "date", "now - 1 day", []any{"%Y-%m-%dT%H:%M:%S%z"}, value.MapOf("tz", "UTC"))
}

func BenchmarkGraphQLArguments(b *testing.B) {
	v, err := value.FromJSON([]byte(orderJSON(20)))
	if err != nil {
		b.Fatal(err)
	}
	benchFilter(b, "graphql_arguments", v, nil, nil)
}
