package liquid_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

type rubyCase struct {
	template, data, partials string
	strict                   bool
	want                     string
	fails                    bool
}

func coreDecodeMap(t testing.TB, js string) *value.Map {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatalf("bad JSON %q: %v", js, err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		t.Fatalf("JSON %q is not an object", js)
	}
	return m
}

// TestRubyCases checks templates against outputs recorded from Ruby Liquid.
func TestRubyCases(t *testing.T) {
	eng := liquid.NewEngine()
	for _, c := range rubyCases {
		opts := &liquid.RenderOptions{Strict: c.strict}
		if c.partials != "" {
			pm := coreDecodeMap(t, c.partials)
			ml := liquid.MapLoader{}
			pm.Each(func(k string, v any) bool {
				ml[k] = v.(string)
				return true
			})
			opts.Partials = ml
		}
		tpl, err := eng.ParseOpts(c.template, liquid.ParseOptions{Strict: c.strict})
		var out string
		if err == nil {
			out, err = tpl.RenderMap(context.Background(), coreDecodeMap(t, c.data), opts)
		}
		if c.fails {
			if err == nil {
				t.Errorf("%q (strict=%v): want an error, got output %q", c.template, c.strict, out)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q (strict=%v): unexpected error %v", c.template, c.strict, err)
			continue
		}
		if out != c.want {
			t.Errorf("%q (strict=%v):\n got %q\nwant %q", c.template, c.strict, out, c.want)
		}
	}
}

func render(t testing.TB, eng *liquid.Engine, src string, vars map[string]any, o *liquid.RenderOptions) (string, error) {
	t.Helper()
	tpl, err := eng.Parse(src)
	if err != nil {
		return "", err
	}
	return tpl.Render(context.Background(), vars, o)
}

func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"{% foo %}", "Liquid syntax error (line 1): Unknown tag 'foo'"},
		{"a\nb\n{% foo %}", "Liquid syntax error (line 3): Unknown tag 'foo'"},
		{"{% if x %}\n\n{% endfor %}", "Liquid syntax error (line 3): 'endfor' is not a valid delimiter for if tags. use endif"},
		{"{% for x in y %}", "Liquid syntax error (line 1): 'for' tag was never closed"},
		{"{% liquid\nassign x = 1\nfoo %}", "Liquid syntax error (line 3): Unknown tag 'foo'"},
	}
	eng := liquid.NewEngine()
	for _, tt := range tests {
		_, err := eng.Parse(tt.src)
		var se *liquid.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: want a SyntaxError, got %v", tt.src, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q: got %q, want %q", tt.src, err.Error(), tt.want)
		}
	}
}

func TestInlineErrorsAndStrict(t *testing.T) {
	eng := liquid.NewEngine()
	var errs []error
	out, err := render(t, eng, "a{{ 1 | divided_by: 0 }}b", nil, &liquid.RenderOptions{Errors: &errs})
	if err != nil || out != "aLiquid error: divided by 0b" {
		t.Fatalf("lax: got %q, %v", out, err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "divided by 0") {
		t.Fatalf("recorded errors: %v", errs)
	}
	_, err = render(t, eng, "a{{ 1 | divided_by: 0 }}b", nil, &liquid.RenderOptions{Strict: true})
	var re *liquid.RenderError
	if !errors.As(err, &re) || err.Error() != "Liquid error: divided by 0" {
		t.Fatalf("strict: got %v", err)
	}
	tpl, err := eng.ParseOpts("x\n{{ 1 | divided_by: 0 }}", liquid.ParseOptions{LineNumbers: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = tpl.Render(context.Background(), nil, nil)
	if out != "x\nLiquid error (line 2): divided by 0" {
		t.Fatalf("line numbers: got %q", out)
	}
}

func TestStrictVariablesAndFilters(t *testing.T) {
	eng := liquid.NewEngine()
	tests := []struct {
		src  string
		opts liquid.RenderOptions
		fail bool
		want string
	}{
		{"[{{ nope }}]", liquid.RenderOptions{}, false, "[]"},
		{"[{{ nope }}]", liquid.RenderOptions{StrictVariables: true}, true, ""},
		{"[{{ h.nope }}]", liquid.RenderOptions{StrictVariables: true}, true, ""},
		{"[{{ h.a }}]", liquid.RenderOptions{StrictVariables: true}, false, "[1]"},
		{"[{{ 1 | nofilter }}]", liquid.RenderOptions{}, false, "[1]"},
		{"[{{ 1 | nofilter }}]", liquid.RenderOptions{StrictFilters: true}, true, ""},
	}
	for _, tt := range tests {
		o := tt.opts
		out, err := render(t, eng, tt.src, map[string]any{"h": map[string]any{"a": 1}}, &o)
		if tt.fail != (err != nil) {
			t.Errorf("%q: err = %v, want failure %v", tt.src, err, tt.fail)
			continue
		}
		if !tt.fail && out != tt.want {
			t.Errorf("%q: got %q, want %q", tt.src, out, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	eng := liquid.NewEngine()
	tests := []struct {
		name, src string
		limits    liquid.Limits
		partials  liquid.MapLoader
		which     string
	}{
		{"steps", "{% for i in (1..100000000000) %}x{% endfor %}", liquid.Limits{Steps: 1000}, nil, "steps"},
		{"nested steps", "{% for i in (1..1000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}", liquid.Limits{Steps: 10000}, nil, "steps"},
		{"output", "{% for i in (1..1000) %}0123456789{% endfor %}", liquid.Limits{OutputBytes: 100}, nil, "output bytes"},
		{"capture", "{% capture c %}{% for i in (1..1000) %}0123456789{% endfor %}{% endcapture %}", liquid.Limits{OutputBytes: 100}, nil, "output bytes"},
		{"doubling", "{% assign s = 'ab' %}{% for i in (1..100) %}{% assign s = s | append: s %}{% endfor %}", liquid.Limits{OutputBytes: 1000}, nil, "output bytes"},
		{"huge range into a filter", "{{ (1..100000000000) | join }}", liquid.Limits{}, nil, "steps"},
		{"large array sorted in a loop", "{% assign a = (1..6400) | join: ',' | split: ',' %}{% for i in (1..1000) %}{% assign b = a | sort %}{% endfor %}", liquid.Limits{Steps: 50000}, nil, "steps"},
		{"large string split in a loop", "{% assign s = 'abcdefgh' %}{% for i in (1..13) %}{% assign s = s | append: s %}{% endfor %}{% for i in (1..1000) %}{% assign b = s | split: 'a' %}{% endfor %}", liquid.Limits{Steps: 100000}, nil, "steps"},
		{"capture rebuilt in a loop", "{% for i in (1..100000) %}{% capture c %}{{ c }}0123456789{% endcapture %}{% endfor %}", liquid.Limits{OutputBytes: 1 << 20}, nil, "bytes written"},
		{"fork bomb", "{% include 'a' %}", liquid.Limits{Steps: 5000}, liquid.MapLoader{"a": "{% include 'a' %}{% include 'a' %}"}, "steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &liquid.RenderOptions{Limits: tt.limits}
			if tt.partials != nil {
				o.Partials = tt.partials
			}
			_, err := render(t, eng, tt.src, nil, o)
			if !errors.Is(err, liquid.ErrLimit) {
				t.Fatalf("want ErrLimit, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.which) {
				t.Fatalf("error %q does not name the %s limit", err, tt.which)
			}
		})
	}
}

// TestAccumulationWithinDefaultSteps checks that building an array item by
// item, as many Mechanic tasks do with push, is not stopped by the filter
// work charge under the default limits.
func TestAccumulationWithinDefaultSteps(t *testing.T) {
	eng := liquid.NewEngine()
	src := "{% assign one = 'x' | split: ',' %}{% assign a = '' | split: ',' %}{% for i in (1..5000) %}{% assign a = a | concat: one %}{% endfor %}{{ a.size }}"
	out, err := render(t, eng, src, nil, nil)
	if err != nil || out != "5000" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestDepthIsInlineLikeRuby(t *testing.T) {
	eng := liquid.NewEngine()
	out, err := render(t, eng, "a{% render 'r' %}b", nil, &liquid.RenderOptions{Partials: liquid.MapLoader{"r": "{% render 'r' %}"}})
	if err != nil || out != "aLiquid error: Nesting too deepb" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestCancellation(t *testing.T) {
	eng := liquid.NewEngine()
	tpl, err := eng.Parse("{% for i in (1..100000000000) %}{% endfor %}")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tpl.Render(ctx, nil, &liquid.RenderOptions{Limits: liquid.Limits{Steps: -1}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestConcurrentRender(t *testing.T) {
	eng := liquid.NewEngine()
	tpl, err := eng.Parse("{% for x in xs %}{% cycle 'a','b' %}{{ x }}{% increment n %}{% endfor %}{% assign y = xs.size %}{{ y }}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if _, err := eng.Parse("{% if a %}{{ b | upcase }}{% endif %}"); err != nil {
					t.Errorf("concurrent parse: %v", err)
					return
				}
				out, err := tpl.Render(context.Background(), map[string]any{"xs": []any{1, 2, 3}}, nil)
				if err != nil || out != "a10b21a323" {
					t.Errorf("got %q, %v", out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// jsonTag is a custom block tag whose body is kept as raw text.
type jsonTag struct{}

type jsonNode struct {
	body string
	name liquid.Expression
}

func (jsonTag) Parse(p *liquid.TagParser) (liquid.Node, error) {
	body, err := p.RawBody()
	if err != nil {
		return nil, err
	}
	return &jsonNode{body: body, name: p.ParseExpression(p.Markup)}, nil
}

func (n *jsonNode) Render(rc *liquid.RenderContext) error {
	v, err := value.FromJSON([]byte(n.body))
	if err != nil {
		return &liquid.RuntimeError{Msg: "bad JSON"}
	}
	name, err := n.name.Evaluate(rc)
	if err != nil {
		return err
	}
	rc.Set(value.ToS(name), v)
	return nil
}

// wrapTag renders its Liquid body between the values of its arguments.
type wrapTag struct{}

type wrapNode struct {
	args []liquid.Argument
	body *liquid.Body
}

func (wrapTag) Parse(p *liquid.TagParser) (liquid.Node, error) {
	body, err := p.ParseBlock()
	if err != nil {
		return nil, err
	}
	return &wrapNode{args: p.ParseArguments(p.Markup), body: body}, nil
}

func (n *wrapNode) Render(rc *liquid.RenderContext) error {
	inner, err := rc.RenderBody(n.body)
	if err != nil {
		return err
	}
	var before, after any
	for _, a := range n.args {
		v, err := a.Value.Evaluate(rc)
		if err != nil {
			return err
		}
		switch a.Key {
		case "before":
			before = v
		case "after":
			after = v
		}
	}
	if err := rc.WriteValue(before); err != nil {
		return err
	}
	if err := rc.WriteString(strings.ToUpper(inner)); err != nil {
		return err
	}
	return rc.WriteValue(after)
}

// setTag is "{% set h["k"] = value %}", assigning into hashes and arrays.
type setTag struct{}

type setNode struct {
	name string
	keys []liquid.Expression
	val  liquid.Expression
}

func (setTag) Parse(p *liquid.TagParser) (liquid.Node, error) {
	lhs, rhs, ok := strings.Cut(p.Markup, "=")
	if !ok {
		return nil, p.Errorf("bad set")
	}
	lhs = strings.TrimSpace(lhs)
	name, rest, _ := strings.Cut(lhs, "[")
	n := &setNode{name: name}
	for rest != "" {
		k, after, _ := strings.Cut(rest, "]")
		n.keys = append(n.keys, p.ParseExpression(k))
		rest = strings.TrimPrefix(after, "[")
	}
	v, err := p.ParseFilteredExpression(rhs)
	if err != nil {
		return nil, err
	}
	n.val = v
	return n, nil
}

func (n *setNode) Render(rc *liquid.RenderContext) error {
	v, err := n.val.Evaluate(rc)
	if err != nil {
		return err
	}
	keys := make([]any, len(n.keys))
	for i, k := range n.keys {
		if keys[i], err = k.Evaluate(rc); err != nil {
			return err
		}
	}
	return rc.SetPath(n.name, keys, v)
}

func (n *setNode) Blank() bool { return true }

func TestExtensionPoints(t *testing.T) {
	eng := liquid.NewEngine()
	eng.RegisterTag("json", jsonTag{})
	eng.RegisterTag("wrap", wrapTag{})
	eng.RegisterTag("set", setTag{})
	eng.RegisterKeyword("newline", func() any { return "\n" })
	eng.RegisterKeyword("hash", func() any { return value.NewMap(0) })
	eng.RegisterFilter("twice", func(_ filter.Context, in any, _ []any, _ *value.Map) (any, error) {
		return value.ToS(in) + value.ToS(in), nil
	})
	tests := []struct{ src, want string }{
		{`{% json "data" %}{"a": [1, {"b": "{{ not liquid }}"}]}{% endjson %}{{ data.a[1].b }}`, "{{ not liquid }}"},
		{"{% json 'd' %} [1] {%- endjson -%}  {{ d[0] }}", "1"},
		{`{% wrap before: "<", after: x %}hi {{ x }}{% endwrap %}`, "<HI 77"},
		{`a{{ newline }}b`, "a\nb"},
		{`{% assign newline = "N" %}a{{ newline }}b`, "aNb"},
		{`{% assign h = hash %}{% set h["k"] = 1 | plus: 1 %}{% set h["l"] = "x" %}{{ h }}`, `{"k"=>2, "l"=>"x"}`},
		{`{% assign h = hash %}{% assign g = hash %}{% set h["k"] = 1 %}{{ g.size }}`, "0"},
		{`{% set arr[1] = "z" %}{% set arr[-2] = "w" %}{{ arr[1] | twice }}{{ arr[0] }}`, "zzw"},
	}
	for _, tt := range tests {
		out, err := render(t, eng, tt.src, map[string]any{"x": 7, "arr": []any{"x", "y"}}, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if out != tt.want {
			t.Errorf("%q: got %q, want %q", tt.src, out, tt.want)
		}
	}
	if _, err := eng.Parse(`{% json "d" %}{"a": 1}`); err == nil || !strings.Contains(err.Error(), "'json' tag was never closed") {
		t.Errorf("unclosed raw tag: got %v", err)
	}
}

func TestActiveSupportBlank(t *testing.T) {
	src := "{% if n == blank %}1{% endif %}{% if ws == blank %}2{% endif %}{% if e == blank %}3{% endif %}{% if f == blank %}4{% endif %}{% if s == blank %}5{% endif %}{% if 0 == blank %}6{% endif %}{% case e %}{% when blank %}7{% endcase %}"
	vars := map[string]any{"n": nil, "ws": " \n", "e": []any{}, "f": false, "s": "x"}
	plain := liquid.NewEngine()
	if out, err := render(t, plain, src, vars, nil); err != nil || out != "" {
		t.Errorf("plain Ruby: got %q, %v; want nothing blank", out, err)
	}
	as := liquid.NewEngine()
	as.SetActiveSupport(true)
	if out, err := render(t, as, src, vars, nil); err != nil || out != "12347" {
		t.Errorf("ActiveSupport: got %q, %v; want %q", out, err, "12347")
	}
}

type testDrop struct{ calls *int }

func (d testDrop) Get(key string) (any, bool) {
	*d.calls++
	switch key {
	case "name":
		return "drop", true
	case "items":
		return []string{"a", "b"}, true
	}
	return nil, false
}

func TestDrops(t *testing.T) {
	eng := liquid.NewEngine()
	calls := 0
	vars := map[string]any{"d": testDrop{&calls}}
	out, err := render(t, eng, "{{ d.name }} {{ d.items.size }} {{ d.items | join: ',' }} [{{ d.nope }}] {% if d.name == 'drop' %}y{% endif %}", vars, nil)
	if err != nil || out != "drop 2 a,b [] y" {
		t.Fatalf("got %q, %v", out, err)
	}
	if calls != 5 {
		t.Errorf("drop looked up %d times, want 5 (lazily, once per lookup)", calls)
	}
	if _, err := render(t, eng, "{{ d.nope }}", vars, &liquid.RenderOptions{StrictVariables: true}); err == nil {
		t.Errorf("missing drop property with StrictVariables: want an error")
	}
}

func TestNowAndGlobals(t *testing.T) {
	eng := liquid.NewEngine()
	fixed := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var seen time.Time
	eng.RegisterFilter("now", func(c filter.Context, _ any, _ []any, _ *value.Map) (any, error) {
		seen = c.Now()
		return "ok", nil
	})
	out, err := render(t, eng, "{{ shop.name }} {{ x | now }}", nil, &liquid.RenderOptions{
		Now:     func() time.Time { return fixed },
		Globals: map[string]any{"shop": map[string]any{"name": "S"}},
	})
	if err != nil || out != "S ok" || !seen.Equal(fixed) {
		t.Fatalf("got %q, %v, now %v", out, err, seen)
	}
}

func FuzzRender(f *testing.F) {
	for _, c := range rubyCases {
		f.Add(c.template)
	}
	f.Add("{% for i in (1..10) %}{% include 'a' %}{% endfor %}")
	f.Add("{%raw%}{%0{%}0")
	eng := liquid.NewEngine()
	vars := map[string]any{"a": 1, "arr": []any{1, "x", nil}, "h": map[string]any{"k": []any{1, 2}}}
	f.Fuzz(func(t *testing.T, src string) {
		for _, strict := range []bool{false, true} {
			var ie *liquid.InternalError
			tpl, err := eng.ParseOpts(src, liquid.ParseOptions{Strict: strict})
			if errors.As(err, &ie) {
				t.Fatalf("parse panicked: %v", ie.Panic)
			}
			if err != nil {
				continue
			}
			_, err = tpl.Render(context.Background(), vars, &liquid.RenderOptions{
				Limits:   liquid.Limits{Steps: 2000, OutputBytes: 1 << 14, Depth: 20},
				Partials: liquid.MapLoader{"a": src},
			})
			if errors.As(err, &ie) {
				t.Fatalf("render panicked: %v", ie.Panic)
			}
		}
	})
}
