package liquid_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// memEngine is a core engine with a "charged" filter that outputs the
// bytes charged to the render's memory budget so far.
func memEngine() *liquid.Engine {
	eng := liquid.NewEngine()
	eng.RegisterFilter("charged", func(c filter.Context, _ any, _ []any, _ *value.Map) (any, error) {
		return c.(*liquid.RenderContext).MemoryCharged(), nil
	})
	return eng
}

func renderMem(t *testing.T, eng *liquid.Engine, src string, env *value.Map, lim liquid.Limits) (string, error) {
	t.Helper()
	tmpl, err := eng.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return tmpl.RenderMap(context.Background(), env, &liquid.RenderOptions{Limits: lim})
}

// TestMemoryCharges checks what each filter and tag charges to the memory
// budget: the bytes or slots it builds, nothing for values it passes on.
func TestMemoryCharges(t *testing.T) {
	env := func() *value.Map {
		return value.MapOf("arr", []any{"a", "bb", "ccc"}, "big", strings.Repeat("x", 1000))
	}
	slice := func(n int64) int64 { return value.SliceHeaderBytes + value.SlotBytes*n }
	tests := []struct {
		name     string
		src      string
		min, max int64 // bytes charged, inclusive
	}{
		{"literal assign", `{% assign a = "hello" %}{{ 0 | charged }}`, 0, 0},
		{"variable assign", `{% assign a = big %}{% assign b = a %}{{ 0 | charged }}`, 0, 0},
		{"append", `{% assign a = "abc" | append: "de" %}{{ 0 | charged }}`, 5, 5},
		{"prepend", `{% assign a = "abc" | prepend: "de" %}{{ 0 | charged }}`, 5, 5},
		{"append to input", `{% assign a = big | append: big %}{{ 0 | charged }}`, 2000, 2000},
		{"join", `{% assign a = arr | join: "-" %}{{ 0 | charged }}`, 9, 9},
		{"split", `{% assign a = "a,b,c" | split: "," %}{{ 0 | charged }}`, 144, 144},
		{"replace", `{% assign a = "aXbXc" | replace: "X", "yy" %}{{ 0 | charged }}`, 9, 9},
		{"replace_first", `{% assign a = "aXbXc" | replace_first: "X", "yy" %}{{ 0 | charged }}`, 7, 7},
		{"upcase (new string)", `{% assign a = "abc" | upcase %}{{ 0 | charged }}`, 3, 3},
		{"strip (same string)", `{% assign a = "abc" | strip %}{{ 0 | charged }}`, 0, 0},
		{"capture", `{% capture c %}hello{% endcapture %}{{ 0 | charged }}`, 10, 10},
		{"output", `{{ "abc" }}{{ 0 | charged }}`, 3, 3},
		{"sort", `{% assign a = arr | sort %}{{ 0 | charged }}`, slice(3), slice(8)},
		{"reverse", `{% assign a = arr | reverse %}{{ 0 | charged }}`, slice(3), slice(8)},
		{"map", `{% assign a = arr | map: "size" %}{{ 0 | charged }}`, slice(3), slice(8)},
		{"concat", `{% assign a = arr | concat: arr %}{{ 0 | charged }}`, slice(6), slice(12)},
		{"where", `{% assign a = arr | where: "x" %}{{ 0 | charged }}`, slice(0), slice(8)},
		// A string result that is not the input is charged as new, even one
		// taken out of an array: an overestimate the next count corrects.
		{"first", `{% assign a = arr | first %}{{ 0 | charged }}`, 1, 1},
		{"first of numbers", `{% assign a = "1,2" | split: "," | map: "size" | first %}{{ 0 | charged }}`, 96 + slice(2), 96 + slice(8)},
		{"size (number)", `{% assign a = arr | size %}{{ 0 | charged }}`, 0, 0},
	}
	eng := memEngine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := renderMem(t, eng, tt.src, env(), liquid.Limits{})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			got, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(out), "abc"), 10, 64)
			if err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("charged %d bytes, want %d..%d", got, tt.min, tt.max)
			}
		})
	}
}

// TestMemoryLimit checks which templates the budget stops: those that
// hold more than it, not those that only allocate more than it over time.
func TestMemoryLimit(t *testing.T) {
	const budget = 8 << 20
	tests := []struct {
		name string
		src  string
		env  *value.Map
		fail bool
	}{
		{
			name: "doubling a string past the budget",
			src:  `{% assign s = "0123456789abcdef" %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}{{ s.size }}`,
			fail: true,
		},
		{
			name: "strings kept in many variables",
			src: `{% assign s = "0123456789abcdef" %}{% for i in (1..18) %}{% assign s = s | append: s %}{% endfor %}` +
				`{% assign a = s | append: "a" %}{% assign b = s | append: "b" %}{% assign c = s | append: "c" %}` +
				`{% assign d = s | append: "d" %}{% assign e = s | append: "e" %}{% assign f = s | append: "f" %}` +
				`{% assign g = s | append: "g" %}{% assign h = s | append: "h" %}`,
			fail: true,
		},
		{
			name: "splitting into many parts",
			src:  `{% assign s = "," %}{% for i in (1..18) %}{% assign s = s | append: s %}{% endfor %}{% assign p = s | split: "," %}{% assign q = s | split: "," %}`,
			fail: true,
		},
		{
			name: "joining past the budget",
			src:  `{% assign s = "0123456789abcdef" %}{% for i in (1..17) %}{% assign s = s | append: s %}{% endfor %}{% assign arr = s | split: "z" %}{% for i in (1..5) %}{% assign arr = arr | concat: arr %}{% endfor %}{% assign j = arr | join: "" %}`,
			fail: true,
		},
		{
			name: "captures kept growing",
			src:  `{% capture s %}0123456789abcdef{% endcapture %}{% for i in (1..30) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}`,
			fail: true,
		},
		{
			name: "appending in a loop, keeping only the last string",
			src:  `{% for i in (1..4000) %}{% assign s = s | append: "0123456789" %}{% endfor %}{{ s.size }}`,
		},
		{
			name: "capturing in a loop, keeping only the last string",
			src:  `{% for i in (1..4000) %}{% capture s %}{{ s }}0123456789{% endcapture %}{% endfor %}{{ s.size }}`,
		},
		{
			name: "an input larger than the budget",
			src:  `{% assign x = big %}{% for i in (1..4000) %}{% assign s = s | append: "0123456789" %}{% endfor %}{{ x.size }}`,
			env:  value.MapOf("big", strings.Repeat("x", 2*budget)),
		},
		{
			name: "a render tag's variables",
			src:  `{% render "grow" %}`,
			fail: true,
		},
	}
	eng := memEngine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := eng.Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			opts := &liquid.RenderOptions{
				Limits:   liquid.Limits{MemoryBytes: budget, OutputBytes: -1},
				Partials: liquid.MapLoader{"grow": `{% assign s = "0123456789abcdef" %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}`},
			}
			out, err := tmpl.RenderMap(context.Background(), tt.env, opts)
			if !tt.fail {
				if err != nil {
					t.Fatalf("render failed: %v", err)
				}
				if out == "" {
					t.Fatal("empty output")
				}
				return
			}
			if !errors.Is(err, liquid.ErrLimit) {
				t.Fatalf("err = %v, want a limit error", err)
			}
			var le *liquid.LimitError
			if !errors.As(err, &le) || le.Limit != "memory" || le.Max != budget {
				t.Fatalf("err = %#v, want the memory limit", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "memory limit exceeded") || !strings.Contains(msg, "8 MiB") {
				t.Errorf("message %q does not name the memory limit and its budget", msg)
			}
		})
	}
}

// TestMemoryDeterministic checks that the same render charges the same
// bytes every time: the budget does not depend on the process.
func TestMemoryDeterministic(t *testing.T) {
	eng := memEngine()
	src := `{% for i in (1..3000) %}{% assign s = s | append: "0123456789" %}{% assign p = s | split: "5" %}{% endfor %}{{ 0 | charged }}`
	var first string
	for i := range 3 {
		out, err := renderMem(t, eng, src, nil, liquid.Limits{MemoryBytes: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out
		} else if out != first {
			t.Fatalf("run %d charged %s, run 0 %s", i, out, first)
		}
	}
}

// TestMemoryUnlimited checks that a negative budget turns the limit off.
func TestMemoryUnlimited(t *testing.T) {
	src := `{% assign s = "0123456789abcdef" %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}{{ s.size }}`
	out, err := renderMem(t, memEngine(), src, nil, liquid.Limits{MemoryBytes: -1, OutputBytes: -1})
	if err != nil || out != "1048576" {
		t.Fatalf("out %q, err %v", out, err)
	}
	if _, err := renderMem(t, memEngine(), src, nil, liquid.Limits{MemoryBytes: 1 << 20, OutputBytes: -1}); err == nil {
		t.Fatal("a 1 MiB budget allowed a 1 MiB string built by doubling")
	}
}
