package dialect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

type renderCase struct {
	name string
	src  string
	vars map[string]any
	want string
}

// render parses and renders src with the dialect in a preview run,
// failing the test on any parse or runtime error.
func render(t *testing.T, e *liquid.Engine, src string, vars map[string]any) string {
	t.Helper()
	tmpl, err := e.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var errs []error
	out, err := tmpl.Render(WithRun(context.Background(), &RunState{Preview: true}), vars, &liquid.RenderOptions{Errors: &errs})
	if err != nil {
		t.Fatalf("render %q: %v", src, err)
	}
	if len(errs) > 0 {
		t.Fatalf("render %q: %v (output %q)", src, errors.Join(errs...), out)
	}
	return out
}

func runCases(t *testing.T, cases []renderCase) {
	t.Helper()
	e := NewEngine(Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.TrimSpace(render(t, e, c.src, c.vars))
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestActionTag(t *testing.T) {
	runCases(t, []renderCase{
		// docs: platform/liquid/tags/action.md, "Block syntax"
		{"block untyped", `{% action %}
  {
    "type": "http",
    "options": {
      "method": "post",
      "url": "https://postman-echo.com/post",
      "body": {{ event.data | json }}
    },
    "meta": {
      "mode": "initial_request"
    }
  }
{% endaction %}`, map[string]any{"event": map[string]any{"data": map[string]any{"a": 1}}},
			`{"action":{"type":"http","options":{"method":"post","url":"https://postman-echo.com/post","body":{"a":1}},"meta":{"mode":"initial_request"}}}`},
		// docs: platform/liquid/tags/action.md, "Block typed syntax"
		{"block typed", `{% action "http" %}
  {
    "method": "post",
    "url": "https://postman-echo.com/post",
    "body": {{ event.data | json }}
  }
{% endaction %}`, map[string]any{"event": map[string]any{"data": "x"}},
			`{"action":{"type":"http","options":{"method":"post","url":"https://postman-echo.com/post","body":"x"}}}`},
		// docs: platform/liquid/tags/action.md, "Tag syntax, positional options"
		{"positional", `{% action "cache", "set", "foo", "bar" %}`, nil,
			`{"action":{"type":"cache","options":["set","foo","bar"]}}`},
		// docs: platform/liquid/tags/action.md, "Tag syntax, mapped options"
		{"mapped", `{% action "echo", foo: "bar", baz: "qux" %}`, nil,
			`{"action":{"type":"echo","options":{"foo":"bar","baz":"qux"}}}`},
		// docs: platform/liquid/tags/action.md, "Tag syntax, single option"
		{"single scalar", `{% action "echo", "foo" %}`, nil,
			`{"action":{"type":"echo","options":"foo"}}`},
		{"single variable", `{% assign action_options = hash %}{% assign action_options["foo"] = "bar" %}{% action "echo", action_options %}`, nil,
			`{"action":{"type":"echo","options":{"foo":"bar"}}}`},
		// library: {% action "shopify" mutation %} (comma-less single option)
		{"comma-less single", `{% capture mutation %}mutation { a }{% endcapture %}{% action "shopify" mutation %}`, nil,
			`{"action":{"type":"shopify","options":"mutation { a }"}}`},
		// library: {% action "echo" __error: "…", key: value %} (comma-less mapped)
		{"comma-less mapped", "{% action \"echo\"\n  __error: \"bad\",\n  n: 2\n%}", nil,
			`{"action":{"type":"echo","options":{"__error":"bad","n":2}}}`},
		// docs: core/tasks/code/action-objects.md, "Meta"
		{"options and meta keywords", `{%- assign options = hash -%}{%- assign options["method"] = "post" -%}{%- assign meta = hash -%}{%- assign meta["mode"] = "initial_request" -%}{%- action "http", options: options, meta: meta -%}`, nil,
			`{"action":{"type":"http","options":{"method":"post"},"meta":{"mode":"initial_request"}}}`},
		{"options then meta positional", `{%- assign options = hash -%}{%- assign options["method"] = "post" -%}{%- assign meta = hash -%}{%- assign meta["mode"] = "initial_request" -%}{%- action "http", options, meta -%}`, nil,
			`{"action":{"type":"http","options":{"method":"post"},"meta":{"mode":"initial_request"}}}`},
		// docs: platform/liquid/tags/action.md, "Control parameters"
		{"positional with control", `{% assign meta = hash %}{% assign meta["source"] = "cache" %}{% action "cache", "set", "foo", "bar", __meta: meta, __perform_event: false %}`, nil,
			`{"action":{"type":"cache","options":["set","foo","bar"],"meta":{"source":"cache"},"__perform_event":false}}`},
		{"mapped with meta", `{% assign meta = hash %}{% assign meta["note"] = "http" %}{% action "http", method: "get", url: "https://postman-echo.com/get", __meta: meta %}`, nil,
			`{"action":{"type":"http","options":{"method":"get","url":"https://postman-echo.com/get"},"meta":{"note":"http"}}}`},
		{"shopify graphql block with meta", `{% assign meta = hash %}{% assign meta["level"] = "info" %}{% action "shopify", __meta: meta %}
  mutation {
    tagsAdd(id: "gid://shopify/Customer/1234567890", tags: ["vip"]) {
      node { id }
    }
  }
{% endaction %}`, nil,
			`{"action":{"type":"shopify","options":"mutation {\n    tagsAdd(id: \"gid://shopify/Customer/1234567890\", tags: [\"vip\"]) {\n      node { id }\n    }\n  }","meta":{"level":"info"}}}`},
		{"block with perform_event false", `{% action "echo", __perform_event: false %}{"a": 1}{% endaction %}`, nil,
			`{"action":{"type":"echo","options":{"a":1},"__perform_event":false}}`},
		{"control parameters in a JSON body", `{% action "http" %}{"method": "get", "__perform_event": false, "__meta": {"m": 1}}{% endaction %}`, nil,
			`{"action":{"type":"http","options":{"method":"get"},"meta":{"m":1},"__perform_event":false}}`},
		{"control parameters in an untyped block", `{% action %}{"type": "echo", "options": {"a": 1, "__meta": 2}}{% endaction %}`, nil,
			`{"action":{"type":"echo","options":{"a":1},"meta":2}}`},
		{"shopify JSON body", `{% action "shopify" %}{"query": "mutation { a }", "variables": {"x": 1}}{% endaction %}`, nil,
			`{"action":{"type":"shopify","options":{"query":"mutation { a }","variables":{"x":1}}}}`},
		{"shopify REST array body", `{% action "shopify" %}["post", "/admin/customers/1/send_invite.json", {}]{% endaction %}`, nil,
			`{"action":{"type":"shopify","options":["post","/admin/customers/1/send_invite.json",{}]}}`},
		{"type from variable", `{% assign t = "echo" %}{% action t, "x" %}`, nil,
			`{"action":{"type":"echo","options":"x"}}`},
		{"filtered value", `{% action "cache", "set", "k", 2 | plus: 3 %}`, nil,
			`{"action":{"type":"cache","options":["set","k",5]}}`},
		{"inside liquid tag", "{% liquid\naction \"email\"\necho '{\"to\": \"a@example.com\"}'\nendaction\n%}", nil,
			`{"action":{"type":"email","options":{"to":"a@example.com"}}}`},
	})
}

func TestLogAndErrorTags(t *testing.T) {
	runCases(t, []renderCase{
		// docs: platform/liquid/tags/log.md
		{"log block", "{% log %}\n  {\n    \"foo\": \"bar\"\n  }\n{% endlog %}", nil, `{"log":{"foo":"bar"}}`},
		{"log single", `{% log "foobar" %}`, nil, `{"log":"foobar"}`},
		{"log mapped", `{% assign details = hash %}{% assign details["foo"] = "bar" %}{% log message: "Something to remember", details: details %}`, nil,
			`{"log":{"message":"Something to remember","details":{"foo":"bar"}}}`},
		{"log variable", `{% assign m = "x" | append: "y" %}{% log m %}`, nil, `{"log":"xy"}`},
		// library: alert-when-daily-order-limit-is-reached, a filter chain inside a pair
		{"log mapped multiline with filters", "{% log\n  message: \"Daily\",\n  pct: n | times: 100.0 | divided_by: max,\n  n: n\n%}", map[string]any{"n": 5, "max": 10},
			`{"log":{"message":"Daily","pct":50.0,"n":5}}`},
		// docs: platform/liquid/tags/error.md
		{"error block", `{% error %}{"message": "oops"}{% enderror %}`, nil, `{"error":{"message":"oops"}}`},
		{"error single", `{% error "Something went wrong" %}`, nil, `{"error":"Something went wrong"}`},
		{"error mapped", `{% error message: "bad", code: 3 %}`, nil, `{"error":{"message":"bad","code":3}}`},
		// docs: platform/liquid/tags/permissions.md — static, no output
		{"permissions", "{% permissions %}\n  read_products\n  write_products\n{% endpermissions %}ok", nil, `ok`},
	})
}

func TestKeywordLiterals(t *testing.T) {
	runCases(t, []renderCase{
		// docs: platform/liquid/keyword-literals/array.md
		{"array", `{% assign weekdays = array %}{% assign weekdays[0] = "Monday" %}{% assign weekdays[1] = "Tuesday" %}{% for weekday in weekdays %}{{ forloop.index0 }}: {{ weekday }} {% endfor %}`, nil,
			`0: Monday 1: Tuesday`},
		{"array is fresh", `{% assign a = array %}{% assign b = array %}{% assign a[0] = 1 %}{{ a | json }}{{ b | json }}`, nil, `[1][]`},
		// docs: platform/liquid/keyword-literals/hash.md
		{"hash", `{% assign h = hash %}{% assign h["a"] = 1 %}{{ h | json }}{{ hash | json }}`, nil, `{"a":1}{}`},
		// docs: platform/liquid/keyword-literals/newline.md
		{"newline append", `{% assign message = "Hello!" | append: newline | append: newline %}{{ message | append: "x" | json }}`, nil, `"Hello!\n\nx"`},
		{"split newline", "{% capture lines %}\nfoo\nbar\nbaz\n{% endcapture %}{{ lines | split: newline | json }}", nil, `["","foo","bar","baz"]`},
		{"split newline crlf", `{{ s | split: newline | json }}`, map[string]any{"s": "a\r\nb\nc\r\n"}, `["a","b","c"]`},
		{"replace newline crlf", `{{ s | replace: newline, ", " }}`, map[string]any{"s": "a\r\nb\nc"}, `a, b, c`},
		{"newline_to_br crlf", `{{ s | newline_to_br | json }}`, map[string]any{"s": "a\r\nb"}, `"a<br />\nb"`},
		{"variable shadows keyword", `{% assign newline = "|" %}{{ "a" | append: newline }}`, nil, `a|`},
	})
}

func TestAssignInto(t *testing.T) {
	runCases(t, []renderCase{
		// docs: platform/liquid/tags/assign.md, "Assigning into arrays"
		{"array indexes", `{% assign x = array %}{% assign x[0] = "one" %}{% assign x[x.size] = "two" %}{% assign the_third_zero_based_index = 2 %}{% assign x[the_third_zero_based_index] = "three" %}{{ x | json }}`, nil,
			`["one","two","three"]`},
		// docs: platform/liquid/tags/assign.md, "Assigning into hashes"
		{"hash keys", `{% assign x = hash %}{% assign x["one"] = 1 %}{% assign x["two"] = 2 %}{% assign three = "three" %}{% assign x[three] = 3 %}{{ x | json }}`, nil,
			`{"one":1,"two":2,"three":3}`},
		// docs: platform/liquid/tags/assign.md, "by value"
		{"by value", `{% assign foo = "bar" %}{% assign x = hash %}{% assign x["foo"] = foo %}{% assign foo = "qux" %}{{ x.foo }}`, nil, `bar`},
		{"by value container", `{% assign src = array %}{% assign src[0] = 1 %}{% assign h = hash %}{% assign h["l"] = src %}{% assign src[1] = 2 %}{{ h | json }}{{ src | json }}`, nil,
			`{"l":[1]}[1,2]`},
		{"nested", `{% assign inputs = hash %}{% assign inputs["t"] = hash %}{% assign inputs["t"]["id"] = "gid://shopify/Product/1" %}{{ inputs | json }}`, nil,
			`{"t":{"id":"gid://shopify/Product/1"}}`},
		{"nested in event data", `{% assign order["note_attributes"][0]["name"] = "x" %}{{ order.note_attributes | json }}`,
			map[string]any{"order": value.MapOf("note_attributes", []any{value.MapOf("name", "a", "value", "b")})},
			`[{"name":"x","value":"b"}]`},
		{"pad past end", `{% assign a = array %}{% assign a[2] = "c" %}{{ a | json }}`, nil, `[null,null,"c"]`},
		{"negative index", `{% assign a = "x,y" | split: "," %}{% assign a[-1] = "z" %}{{ a | json }}`, nil, `["x","z"]`},
		{"integer key on hash is a string", `{% assign h = hash %}{% assign h[1] = "one" %}{{ h | json }}`, nil, `{"1":"one"}`},
		{"dotted", `{% assign h = hash %}{% assign h.k = 1 %}{{ h | json }}`, nil, `{"k":1}`},
		{"filters on the value", `{% assign h = hash %}{% assign h["k"] = "a,b" | split: "," | size %}{{ h.k }}`, nil, `2`},
		{"appends in a loop", `{% assign a = array %}{% for i in (1..5) %}{% assign a[a.size] = i %}{% endfor %}{{ a | json }}`, nil, `[1,2,3,4,5]`},
		{"alias keeps its value", `{% assign a = array %}{% assign a[0] = 1 %}{% assign b = a %}{% assign a[1] = 2 %}{% assign b[1] = 3 %}{{ a | json }}{{ b | json }}`, nil, `[1,2][1,3]`},
		{"filter result is copied", `{% assign a = "1,2,3" | split: "," %}{% assign b = a | slice: 0, 2 %}{% assign b[b.size] = "x" %}{{ a | json }}{{ b | json }}`, nil, `["1","2","3"]["1","2","x"]`},
		{"plain assign unchanged", `{% assign x = "a" | upcase %}{{ x }}`, nil, `A`},
		{"key with spaces and quotes", `{% assign h = hash %}{% assign h["a b]"] = 1 %}{{ h | json }}`, nil, `{"a b]":1}`},
		{"key expression with lookup", `{% assign h = hash %}{% assign k = hash %}{% assign k["n"] = "z" %}{% assign h[k.n] = 1 %}{{ h | json }}`, nil, `{"z":1}`},
	})
}

func TestAssignIntoErrors(t *testing.T) {
	e := NewEngine(Options{})
	cases := []struct{ src, want string }{
		{`{% assign h["a"] = 1 %}`, "cannot assign to h[\"a\"]: h is nil"},
		{`{% assign h = hash %}{% assign h["a"]["b"] = 1 %}`, `cannot assign to h["a"]["b"]: h["a"] is nil`},
		{`{% assign a = array %}{% assign a["x"] = 1 %}`, "no implicit conversion of String into Integer"},
		{`{% assign s = "str" %}{% assign s[0] = 1 %}`, "s is a String, not a hash or an array"},
		{`{% assign a = array %}{% assign a[-2] = 1 %}`, "index -2 too small for array; minimum: -0"},
		{`{% assign a = array %}{% assign a[9223372036854775807] = 1 %}`, "too far past the end of the array"},
	}
	for _, c := range cases {
		tmpl, err := e.Parse(c.src)
		if err != nil {
			t.Fatalf("parse %q: %v", c.src, err)
		}
		var errs []error
		out, err := tmpl.Render(context.Background(), nil, &liquid.RenderOptions{Errors: &errs})
		if err != nil || len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("%s: got %q, errs %v, err %v; want error containing %q", c.src, out, errs, err, c.want)
		}
	}
}

func TestTagErrors(t *testing.T) {
	e := NewEngine(Options{})
	runtime := []struct{ src, want string }{
		{`{% action "http" %}not json{% endaction %}`, `action "http": the body is not valid JSON`},
		{`{% action %}[1]{% endaction %}`, "must be a JSON object"},
		{`{% action nil, "x" %}`, "the action type must be a non-empty string"},
		{`{% log %}{"a": {% endlog %}`, "log: the body is not valid JSON"},
		{`{% error %}{% enderror %}`, "error: the body is empty"},
	}
	for _, c := range runtime {
		tmpl, err := e.Parse(c.src)
		if err != nil {
			t.Fatalf("parse %q: %v", c.src, err)
		}
		var errs []error
		out, _ := tmpl.Render(context.Background(), nil, &liquid.RenderOptions{Errors: &errs})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) || !strings.HasPrefix(out, "Liquid error") {
			t.Errorf("%s: output %q, errors %v; want an inline error containing %q", c.src, out, errs, c.want)
		}
	}
	syntax := []struct{ src, want string }{
		{`{% action "http" %}{}`, "'action' tag was never closed"},
		{`{% log %}{}`, "'log' tag was never closed"},
		{`{% log "a", "b" %}`, "Syntax Error in 'log'"},
		{`{% action "cache", , "x" %}`, "empty argument"},
		{`{% permissions %}read_orders`, "'permissions' tag was never closed"},
	}
	for _, c := range syntax {
		_, err := e.Parse(c.src)
		var se *liquid.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, c.want) {
			t.Errorf("%s: got %v, want syntax error containing %q", c.src, err, c.want)
		}
	}
}

func TestPermissions(t *testing.T) {
	got := Permissions("{% permissions %}\n  read_products\n  write_products, read_orders\n{% endpermissions %}{% permissions %}read_orders{% endpermissions %}")
	want := []string{"read_products", "write_products", "read_orders"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

type fakeClient struct {
	query string
	vars  any
}

func (f *fakeClient) GraphQL(_ context.Context, q string, vars any) (any, error) {
	f.query, f.vars = q, vars
	return map[string]any{"data": map[string]any{"shop": map[string]any{"name": "Live"}}}, nil
}

func TestShopifyFilter(t *testing.T) {
	e := NewEngine(Options{})
	src := `{% assign v = hash %}{% assign v["n"] = 1 %}{% assign r = "query Q($n: Int) { shop { name } orders(first: $n) { edges { node { id } } } alias: product(id: \"x\") { id } }" | shopify: variables: v %}{{ r | json }}`
	tmpl, err := e.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	// preview: no API call, an empty GraphQL-shaped result, the query recorded
	client := &fakeClient{}
	st := &RunState{Preview: true, GraphQL: client}
	out, err := tmpl.Render(WithRun(context.Background(), st), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"data":{"shop":null,"orders":null,"alias":null}}`; out != want {
		t.Errorf("preview: got %s, want %s", out, want)
	}
	if client.query != "" || len(st.Queries()) != 1 {
		t.Errorf("preview called the client (%q) or did not record the query (%v)", client.query, st.Queries())
	}
	// live: the client's response, with the variables passed through
	st = &RunState{GraphQL: client}
	out, err = tmpl.Render(WithRun(context.Background(), st), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"data":{"shop":{"name":"Live"}}}`; out != want {
		t.Errorf("live: got %s, want %s", out, want)
	}
	if m, ok := client.vars.(*value.Map); !ok || value.Inspect(m) != `{"n"=>1}` {
		t.Errorf("live: variables %v", client.vars)
	}
	// no run state and no client outside a preview: an error, not an
	// empty result that would pass for the shop's answer
	var errs []error
	out, err = tmpl.Render(context.Background(), nil, &liquid.RenderOptions{Errors: &errs})
	if err != nil || len(errs) != 1 || !strings.Contains(errs[0].Error(), "no Shopify client") || strings.Contains(out, `"data"`) {
		t.Errorf("no client: %q, %v, %v; want the no-client error and no data", out, err, errs)
	}
}

func TestAssignCopyIsCharged(t *testing.T) {
	// Copying ever deeper values costs steps, so it cannot outrun the limit.
	e := NewEngine(Options{})
	tmpl, err := e.Parse(`{% assign n = hash %}{% for i in (1..100000) %}{% assign n["c"] = n %}{% endfor %}done`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Render(context.Background(), nil, &liquid.RenderOptions{Limits: liquid.Limits{Steps: 20000}})
	if !errors.Is(err, liquid.ErrLimit) {
		t.Errorf("got %v, want a steps limit error", err)
	}
}

// TestConcurrentRender renders one parsed template that uses the dialect's
// tags, keyword literals and element assignment from many goroutines at
// once (run with -race): each render must see only its own state.
func TestConcurrentRender(t *testing.T) {
	e := NewEngine(Options{})
	tmpl, err := e.Parse(`{% assign h = hash %}{% assign h["n"] = n %}{% assign a = array %}{% assign a[a.size] = n %}` +
		`{% action "echo", n: h.n, a: a %}{% log n %}{% capture q %}query { n{{ n }} }{% endcapture %}{% assign r = q | shopify %}{% if r.data == nil %}{% error "no data" %}{% endif %}`)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	outs := make([]string, workers)
	errs := make([]error, workers)
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer func() { done <- w }()
			outs[w], errs[w] = tmpl.Render(WithRun(context.Background(), &RunState{Preview: true}), map[string]any{"n": int64(w)}, nil)
		}(w)
	}
	for range workers {
		<-done
	}
	for w := 0; w < workers; w++ {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		want := render(t, e, `{% action "echo", n: n, a: l %}{% log n %}`, map[string]any{"n": int64(w), "l": []any{int64(w)}})
		if !strings.HasPrefix(outs[w], want) {
			t.Errorf("worker %d: got %q, want it to start with %q", w, outs[w], want)
		}
	}
}
