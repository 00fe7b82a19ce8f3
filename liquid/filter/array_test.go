package filter

import (
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func products() []any {
	return []any{
		value.MapOf("title", "B", "price", 2, "tags", []any{"x"}),
		value.MapOf("title", "a", "price", 1),
		value.MapOf("title", "C", "price", nil),
	}
}

// Expected values are Ruby Liquid 5.4.0's (5.13.0's for the later filters).
func TestArrayFilters(t *testing.T) {
	mixed := []any{int64(1), "a", nil}
	runFilterCases(t, []filterCase{
		{filter: "size", input: "日本", want: "2"},
		{name: "size of integer", filter: "size", input: 5, want: "8"},
		{name: "size of hash", filter: "size", input: value.MapOf("a", 1, "b", 2), want: "2"},
		{name: "size of float", filter: "size", input: 1.5, want: "0"},
		{filter: "join", input: []any{int64(1), []any{int64(2), nil, 1.5}, value.MapOf("a", 1)}, args: []any{","}, want: `1,2,,1.5,{"a"=>1}`},
		{name: "join default glue", filter: "join", input: value.Range{Start: 1, End: 3}, want: "1 2 3"},
		{name: "huge range", filter: "join", input: value.Range{Start: 1, End: 1 << 40}, err: "Memory limits exceeded"},
		{filter: "first", input: []any{"x", "y"}, want: "x"},
		{name: "first of hash", filter: "first", input: value.MapOf("a", 1), want: "a1"},
		{name: "first of string", filter: "first", input: "abc", want: ""},
		{filter: "last", input: value.Range{Start: 1, End: 4}, want: "4"},
		{filter: "concat", input: []any{int64(1), []any{int64(2)}}, args: []any{[]any{[]any{int64(3)}}}, want: "123"},
		{name: "concat needs array", filter: "concat", input: []any{}, args: []any{"x"}, err: "concat filter requires an array argument"},
		{filter: "reverse", input: "abc", want: "abc"},
		{filter: "compact", input: []any{nil, int64(1), nil, int64(2)}, want: "12"},
		{name: "compact property", filter: "compact", input: products(), args: []any{"price"}, want: `{"title"=>"B", "price"=>2, "tags"=>["x"]}{"title"=>"a", "price"=>1}`},
		{filter: "uniq", input: []any{int64(1), 1.0, "1", int64(1)}, want: "11.01"},
		{name: "uniq single item skips property", filter: "uniq", input: 5, args: []any{"a"}, want: "5"},
		{name: "uniq property error", filter: "uniq", input: []any{int64(5), int64(3)}, args: []any{"x"}, err: "cannot select the property 'x'"},
		{filter: "map", input: products(), args: []any{"title"}, want: "BaC"},
		{name: "map bits of integers", filter: "map", input: []any{[]any{int64(1), int64(2)}, []any{int64(0), int64(5)}}, args: []any{1}, want: "0100"},
		{name: "map property error", filter: "map", input: mixed, args: []any{"x"}, err: "cannot select the property 'x'"},
		{filter: "sort", input: []any{int64(3), 1.5, int64(-2)}, want: "-21.53"},
		{name: "sort nils last", filter: "sort", input: products(), args: []any{"price"}, want: `{"title"=>"a", "price"=>1}{"title"=>"B", "price"=>2, "tags"=>["x"]}{"title"=>"C", "price"=>nil}`},
		{name: "sort incompatible", filter: "sort", input: mixed, err: "cannot sort values of incompatible types"},
		{name: "sort property on nil items", filter: "sort", input: mixed, args: []any{"x"}, want: ""},
		{filter: "sort_natural", input: []any{"b", "A", "c", "a", "B"}, want: "AabBc"},
		{filter: "where", input: products(), args: []any{"price", 1}, want: `{"title"=>"a", "price"=>1}`},
		{name: "where truthy", filter: "where", input: products(), args: []any{"tags"}, want: `{"title"=>"B", "price"=>2, "tags"=>["x"]}`},
		{name: "where nil item", filter: "where", input: []any{nil}, args: []any{"x"}, want: ""},
		{name: "where hash input", filter: "where", input: value.MapOf("x", 1), args: []any{"x"}, want: `{"x"=>1}`},
		{filter: "reject", input: products(), args: []any{"price", 1}, want: `{"title"=>"B", "price"=>2, "tags"=>["x"]}{"title"=>"C", "price"=>nil}`},
		{filter: "has", input: products(), args: []any{"title", "C"}, want: "true"},
		{name: "has on empty", filter: "has", input: []any{}, args: []any{"x"}, want: "false"},
		{filter: "find", input: products(), args: []any{"price", 2}, want: `{"title"=>"B", "price"=>2, "tags"=>["x"]}`},
		{filter: "find_index", input: products(), args: []any{"title", "C"}, want: "2"},
		{filter: "sum", input: []any{int64(1), "2.5", nil, []any{int64(3)}}, want: "6.5"},
		{name: "sum property", filter: "sum", input: products(), args: []any{"price"}, want: "3"},
		{filter: "default", input: nil, args: []any{"d"}, want: "d"},
		{name: "default false", filter: "default", input: false, args: []any{"d"}, want: "d"},
		{name: "default allow_false", filter: "default", input: false, args: []any{"d"}, kwargs: value.MapOf("allow_false", true), want: "false"},
		{name: "default empty array", filter: "default", input: []any{}, args: []any{"d"}, want: "d"},
		{name: "default zero", filter: "default", input: 0, args: []any{"d"}, want: "0"},
		{name: "default only keyword", filter: "default", input: nil, kwargs: value.MapOf("allow_false", true), want: `{"allow_false"=>true}`},
	})
}

func TestExtensionsNotIn54(t *testing.T) {
	std := Standard()
	for _, name := range Extensions() {
		if _, ok := std[name]; !ok {
			t.Errorf("extension %q missing from Standard()", name)
		}
	}
	// The public filter methods of Ruby Liquid 5.4.0's StandardFilters.
	ruby54 := strings.Fields(`abs append at_least at_most base64_decode base64_encode
		base64_url_safe_decode base64_url_safe_encode capitalize ceil compact concat date default
		divided_by downcase escape escape_once first floor h join last lstrip map minus modulo
		newline_to_br plus prepend remove remove_first remove_last replace replace_first replace_last
		reverse round rstrip size slice sort sort_natural split strip strip_html strip_newlines times
		truncate truncatewords uniq upcase url_decode url_encode where`)
	for _, name := range ruby54 {
		if _, ok := std[name]; !ok {
			t.Errorf("Liquid 5.4 filter %q missing", name)
		}
	}
	if want := len(ruby54) + len(Extensions()); len(std) != want {
		t.Errorf("Standard() has %d filters, want %d", len(std), want)
	}
}
