package webhook

import (
	"errors"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatalf("ToJSON: %v", err)
	}
	return string(b)
}

// TestParseNestedQuery checks the Rack-style parameter rules behind the
// docs' sample ("hash[key]=hash_value&array[]=array_value"). Every expected
// value was checked against Rack 2.2's Utils.parse_nested_query.
func TestParseNestedQuery(t *testing.T) {
	tests := []struct {
		in, want string // want "" means a parse error
	}{
		{"a=1&b=2", `{"a":"1","b":"2"}`},
		{"a=1&a=2", `{"a":"2"}`},
		{"b=1&a=2&b=3", `{"b":"3","a":"2"}`},
		{"a&b=&c=3", `{"a":null,"b":"","c":"3"}`},
		{"a[]=1&a[]=2", `{"a":["1","2"]}`},
		{"a[b]=1&a[c]=2", `{"a":{"b":"1","c":"2"}}`},
		{"a[b][c]=1", `{"a":{"b":{"c":"1"}}}`},
		{"a[][x]=1&a[][y]=2&a[][x]=3", `{"a":[{"x":"1","y":"2"},{"x":"3"}]}`},
		{"a[][x][y]=1&a[][x][z]=2", `{"a":[{"x":{"y":"1","z":"2"}}]}`},
		{"a[][]=1&a[][]=2", `{"a":[["1"],["2"]]}`},
		{"a[b][]=1&a[b][]=2", `{"a":{"b":["1","2"]}}`},
		{"key=value&hash[key]=hash_value&array[]=array_value", `{"key":"value","hash":{"key":"hash_value"},"array":["array_value"]}`},
		{"a+b=c+d&e%20f=g%26h", `{"a b":"c d","e f":"g&h"}`},
		{"a=1;b=2; c=3", `{"a":"1","b":"2","c":"3"}`},
		{"a=1&&b=2", `{"a":"1","b":"2"}`},
		{"=x&y=", `{"y":""}`},
		{"[]=1", `{}`},
		{"a[=1", `{"a[":"1"}`},
		{"a[b]c=1", `{"a":{"b":{"c":"1"}}}`},
		{"a]=1", `{"a":"1"}`},
		{"]a[b=1", `{"a":{"b":"1"}}`},
		{"x[y][][z]=1&x[y][][w]=2&x[y][][z]=3", `{"x":{"y":[{"z":"1","w":"2"},{"z":"3"}]}}`},
		{"a[]&a[]=1", `{"a":[null,"1"]}`},
		{"a[b]&a[b][c]=1", `{"a":{"b":{"c":"1"}}}`},
		{"a[b]=1&a[b][c]=2", ""},
		{"a=1&a[b]=2", ""},
		{"a[]=1&a[b]=2", ""},
		{"a[b]=1&a[]=2", ""},
		{"a=%zz", ""},
		// Not from Rack: text that is not UTF-8 is read as Windows-1252.
		{"first_name=Jos%E9&sym=%80%99&n%E9=1", `{"first_name":"José","sym":"€™","né":"1"}`},
		{"utf8=%C3%A9%E2%82%AC", `{"utf8":"é€"}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseNestedQuery(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parse succeeded with %s, want an error", toJSON(t, got))
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if s := toJSON(t, got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

func TestParseNestedQueryTypeErrorIsTyped(t *testing.T) {
	if _, err := parseNestedQuery("a=1&a[b]=2"); !errors.Is(err, errParamType) {
		t.Fatalf("err = %v, want errParamType", err)
	}
}

func TestParseNestedQueryLimits(t *testing.T) {
	deep := "a"
	for range maxParamDepth + 1 {
		deep += "[x]"
	}
	if _, err := parseNestedQuery(deep + "=1"); err == nil {
		t.Error("parameters nested too deep were accepted")
	}
	many := make([]byte, 0, 3*maxParamCount)
	for range maxParamCount {
		many = append(many, "a&"...)
	}
	if _, err := parseNestedQuery(string(many)); err == nil {
		t.Error("too many parameters were accepted")
	}
}

func BenchmarkParseNestedQuery(b *testing.B) {
	qs := "key=value&hash[key]=hash_value&array[]=array_value&a[][x]=1&a[][y]=2&a[][x]=3&customer[email]=x%40example.com"
	for b.Loop() {
		if _, err := parseNestedQuery(qs); err != nil {
			b.Fatal(err)
		}
	}
}
