package dialect

import (
	"context"
	"testing"
)

// BenchmarkAssignAppend measures {% assign a[a.size] = i %} in a loop of
// 10,000 iterations: appends are amortised, not a copy per append.
func BenchmarkAssignAppend(b *testing.B) {
	e := NewEngine(Options{})
	tmpl, err := e.Parse(`{% assign a = array %}{% for i in (1..10000) %}{% assign a[a.size] = i %}{% endfor %}{{ a.size }}`)
	if err != nil {
		b.Fatal(err)
	}
	ctx := WithRun(context.Background(), &RunState{})
	for b.Loop() {
		out, err := tmpl.Render(WithRun(ctx, &RunState{}), nil, nil)
		if err != nil || out != "10000" {
			b.Fatalf("%q %v", out, err)
		}
	}
}

// BenchmarkActionTag measures rendering a mapped action tag.
func BenchmarkActionTag(b *testing.B) {
	e := NewEngine(Options{})
	tmpl, err := e.Parse(`{% action "shopify" %}mutation { tagsAdd(id: {{ id | json }}, tags: ["a"]) { userErrors { message } } }{% endaction %}{% action "echo", a: 1, b: id %}`)
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]any{"id": "gid://shopify/Order/1"}
	for b.Loop() {
		if _, err := tmpl.Render(context.Background(), vars, nil); err != nil {
			b.Fatal(err)
		}
	}
}
