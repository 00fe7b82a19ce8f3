package dialect

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect/filters"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// TestMemoryChargesDialect checks what Mechanic's decoding filters and
// assignments into hashes and arrays charge to the render's memory budget:
// the decoders their input's bytes plus the value they build.
func TestMemoryChargesDialect(t *testing.T) {
	e := NewEngine(Options{})
	e.RegisterFilter("charged", func(c filter.Context, _ any, _ []any, _ *value.Map) (any, error) {
		return c.(*liquid.RenderContext).MemoryCharged(), nil
	})
	decoded := func(name, in string) int64 {
		out, err := filters.Mechanic()[name](nil, in, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return int64(len(in)) + value.MemorySize(out)
	}
	decoders := []struct{ filter, in string }{
		{"parse_json", `{"a":[1,2,"xyz"],"b":{"c":"hello"}}`},
		{"parse_jsonl", "{\"a\":1}\n{\"b\":[2]}\n"},
		{"parse_csv", "a,b\nc,d\n"},
		{"parse_xml", "<r><a>hi</a><b x=\"1\">yo</b></r>"},
		{"decode_base64", "aGVsbG8gd29ybGQ="},
		{"decode_base64url", "aGVsbG8gd29ybGQ"},
	}
	for _, d := range decoders {
		t.Run(d.filter, func(t *testing.T) {
			want := decoded(d.filter, d.in)
			out := strings.TrimSpace(render(t, e, `{% assign v = in | `+d.filter+` %}{{ 0 | charged }}`, map[string]any{"in": d.in}))
			if got, err := strconv.ParseInt(out, 10, 64); err != nil || got != want {
				t.Errorf("charged %q bytes, want %d (input plus the decoded value)", out, want)
			}
		})
	}
	tests := []struct {
		name     string
		src      string
		min, max int64
	}{
		{"push", `{% assign v = array | push: "a" %}{{ 0 | charged }}`, 24 + 16, 24 + 16*4},
		// split: 2 parts × 48; the deep copy assigned: 24 + 2 slots + 2 bytes.
		{"assign into a hash (deep copy)", `{% assign h = hash %}{% assign v = "1,2" | split: "," %}{% assign h["k"] = v %}{{ 0 | charged }}`, 96 + 24 + 32 + 2, 96 + 24 + 32 + 2},
		{"assign into an array", `{% assign a = array %}{% assign a[0] = "x" %}{% assign a[1] = "y" %}{{ 0 | charged }}`, 24 + 16*4, 24 + 16*4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := strings.TrimSpace(render(t, e, tt.src, nil))
			got, err := strconv.ParseInt(out, 10, 64)
			if err != nil {
				t.Fatalf("output %q", out)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("charged %d bytes, want %d..%d", got, tt.min, tt.max)
			}
		})
	}
}

// TestMemoryLimitDialect: hoarding through Mechanic's features (push,
// assignment into a hash, an input hash changed in place) meets the budget.
func TestMemoryLimitDialect(t *testing.T) {
	const budget = 8 << 20
	grow := `{% assign s = "0123456789abcdef" %}{% for i in (1..14) %}{% assign s = s | append: s %}{% endfor %}`
	tests := []struct {
		name string
		src  string
		fail bool
	}{
		{"push", grow + `{% assign keep = array %}{% for i in (1..40) %}{% assign t = s | append: i %}{% assign keep = keep | push: t %}{% endfor %}`, true},
		{"hash keys", grow + `{% assign keep = hash %}{% for i in (1..40) %}{% assign t = s | append: i %}{% assign keep[i] = t %}{% endfor %}`, true},
		{"array indexes", grow + `{% assign keep = array %}{% for i in (1..40) %}{% assign t = s | append: i %}{% assign keep[keep.size] = t %}{% endfor %}`, true},
		{"an input hash changed in place", grow + `{% assign keep = event.data %}{% for i in (1..40) %}{% assign t = s | append: i %}{% assign keep[i] = t %}{% endfor %}`, true},
		{"parse_json of a large document", grow + `{% assign j = s | json %}{% for i in (1..40) %}{% assign v = j | parse_json %}{% assign keep = keep | append: v %}{% endfor %}`, true},
		{"replacing one key over and over", grow + `{% assign keep = hash %}{% for i in (1..40) %}{% assign t = s | append: i %}{% assign keep["k"] = t %}{% endfor %}{{ keep.k.size }}`, false},
		{"pushing small items", `{% assign keep = array %}{% for i in (1..5000) %}{% assign keep = keep | push: i %}{% endfor %}{{ keep.size }}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := NewEngine(Options{}).Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			env := value.MapOf("event", value.MapOf("data", value.NewMap(0)))
			out, err := tmpl.RenderMap(context.Background(), env, &liquid.RenderOptions{Limits: liquid.Limits{MemoryBytes: budget, OutputBytes: -1}})
			if !tt.fail {
				if err != nil || out == "" {
					t.Fatalf("out %q, err %v", out, err)
				}
				return
			}
			var le *liquid.LimitError
			if !errors.As(err, &le) || le.Limit != "memory" || !strings.Contains(err.Error(), "8 MiB") {
				t.Fatalf("err = %v, want the memory limit of 8 MiB", err)
			}
		})
	}
}
