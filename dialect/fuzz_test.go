package dialect

import (
	"context"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid"
)

// FuzzDialect parses and renders arbitrary templates using the dialect's
// tags: neither may panic, and renders stay within their limits.
func FuzzDialect(f *testing.F) {
	for _, s := range []string{
		`{% action "cache", "set", "k", 1 %}`,
		`{% action "echo" a: 1, __meta: 2 %}`,
		`{% action %}{"type": "x", "options": {}}{% endaction %}`,
		`{% action "shopify" %}mutation { a }{% endaction %}`,
		`{% log a: 1 | plus: 2, b: "x" %}`,
		`{% error %}{"e": 1}{% enderror %}`,
		`{% assign a = array %}{% assign a[a.size] = hash %}{% assign a[0]["k"] = newline %}{{ a | json }}`,
		`{% assign h = hash %}{% assign h.x["y"] = 1 %}`,
		`{% permissions %}read_orders{% endpermissions %}`,
		`{% assign a["x" = 1 %}`,
		`{% action "a",, %}`,
	} {
		f.Add(s)
	}
	e := NewEngine(Options{})
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := e.Parse(src)
		if err != nil {
			if err.Error() == "Liquid syntax error: internal parser error" {
				t.Fatalf("parser panicked on %q", src)
			}
			return
		}
		ctx := WithRun(context.Background(), &RunState{Preview: true})
		var errs []error
		_, err = tmpl.Render(ctx, nil, &liquid.RenderOptions{Errors: &errs, Limits: liquid.Limits{Steps: 10000, OutputBytes: 1 << 16}})
		if err != nil {
			errs = append(errs, err)
		}
		for _, err := range errs {
			if strings.HasSuffix(err.Error(), ": internal") {
				t.Fatalf("render panicked on %q: %v", src, err)
			}
		}
	})
}
