package tasktest

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository root, found from this file's location.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestExamples runs the tests of every task under examples/tasks: they
// must all pass, and there must be at least ten tasks with tests.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "tasks", "*", "tests"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("%d example tasks with tests, want at least 10", len(dirs))
	}
	total := 0
	for _, d := range dirs {
		s := RunDir(context.Background(), filepath.Dir(d))
		if s.Err != nil {
			t.Errorf("%s: %v", s.Name, s.Err)
			continue
		}
		for _, r := range s.Results {
			total++
			if !r.Passed() {
				var b bytes.Buffer
				WriteReport(&b, []*Suite{{Name: s.Name, Results: []*Result{r}}})
				t.Errorf("%s", b.String())
			}
		}
	}
	t.Logf("%d tests of %d example tasks", total, len(dirs))
}

// writeTask writes a task folder with the given script and tests.
func writeTask(t *testing.T, script string, tests map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"task.json":     `{"docs": null, "name": "T", "options": {"tag__required": "x"}, "subscriptions": ["shopify/orders/create", "mechanic/actions/perform"], "subscriptions_template": "shopify/orders/create\nmechanic/actions/perform"}` + "\n",
		"script.liquid": script,
	}
	for name, body := range tests {
		files["tests/"+name] = body
	}
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const sampleScript = `{% if event.topic == "mechanic/actions/perform" %}{% log ok: action.run.ok, result: action.run.result, type: action.type %}{% else %}{% assign r = "query { order { tags } }" | shopify %}{% log tags: r.data.order.tags, cached: cache.seen, now: "now" | date: "%Y-%m-%d" %}{% action "shopify" %}mutation { tagsAdd(id: {{ event.data.id | json }}, tags: {{ options.tag__required | json }}) { userErrors { message } } }{% endaction %}{% action "cache", "set", "seen", event.data.id %}{% endif %}`

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		test     string
		pass     bool
		failText string
	}{
		{"exact pass", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "cache": {"seen": 3}, "now": "2025-05-06T10:00:00Z",
			"shopify": {"tags": {"data": {"order": {"tags": ["a"]}}}},
			"expect": {"actions": [{"type": "shopify", "options": "mutation { tagsAdd(id: 7, tags: \"x\") { userErrors { message } } }"}, {"type": "cache", "options": ["set", "seen", 7]}],
			"logs": [{"tags": ["a"], "cached": 3, "now": "2025-05-06"}], "errors": []}}`, true, ""},
		{"exact fail shows diff", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}},
			"expect": {"actions": [{"type": "cache", "options": ["set", "seen", 8]}]}}`, false, "+       7"},
		{"subset pass", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}}, "options": {"tag__required": "y"},
			"expect": {"match": "subset", "actions": [{"type": "cache"}]}}`, true, ""},
		{"subset fail", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}},
			"expect": {"match": "subset", "actions": [{"type": "email"}]}}`, false, "expected action 0 (email) not found"},
		{"logs fail", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}},
			"expect": {"logs": ["nope"]}}`, false, "logs differ"},
		{"unstubbed query fails", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "expect": {}}`, false, "no stubbed shopify response matches"},
		{"perform step", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}},
			"perform": {"action": 0, "result": {"data": {"tagsAdd": {"userErrors": []}}},
				"expect": {"logs": [{"ok": true, "result": {"data": {"tagsAdd": {"userErrors": []}}}, "type": "shopify"}], "actions": []}}}`, true, ""},
		{"perform bad index", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}}, "perform": {"action": 5}}`, false, "index 5"},
		{"run error expected", `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "options": {"tag__required": "{% if %}"}, "expect": {"run_error": "option"}}`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTask(t, sampleScript, map[string]string{"a.json": tt.test})
			s := RunDir(context.Background(), dir)
			if s.Err != nil {
				t.Fatal(s.Err)
			}
			var b bytes.Buffer
			passed, failed := WriteReport(&b, []*Suite{s})
			if got := failed == 0 && passed == 1; got != tt.pass {
				t.Fatalf("passed = %v, want %v; report:\n%s", got, tt.pass, b.String())
			}
			if tt.failText != "" && !strings.Contains(b.String(), tt.failText) {
				t.Errorf("report lacks %q:\n%s", tt.failText, b.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, "must be a JSON object"},
		{`{}`, `missing field "event"`},
		{`{"event": {}, "bogus": 1}`, `unknown field "bogus"`},
		{`{"event": {}, "expect": {"match": "some"}}`, `"expect.match"`},
		{`{"event": {}, "expect": {"actions": [1]}}`, `"expect.actions"[0]`},
		{`{"event": {}, "now": "yesterday"}`, `field "now"`},
		{`{"event": {}, "perform": {"action": -1}}`, `"perform.action"`},
		{`{"event": {}, "cache": []}`, `field "cache": wrong type`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want error with %q", tt.in, err, tt.want)
		}
	}
}

// TestUpdate writes the actual outputs into a test's expectations; the
// test then passes and keeps its other fields.
func TestUpdate(t *testing.T) {
	dir := writeTask(t, sampleScript, map[string]string{"a.json": `{"description": "d", "event": {"topic": "shopify/orders/create", "data": {"id": 9}}, "shopify": {"*": {"data": {}}}, "expect": {"actions": []}, "perform": {"action": 1}}`})
	s := RunDir(context.Background(), dir)
	if s.Results[0].Passed() {
		t.Fatal("test passes before the update")
	}
	for _, r := range s.Results {
		if err := Update(r); err != nil {
			t.Fatal(err)
		}
	}
	s = RunDir(context.Background(), dir)
	if !s.Results[0].Passed() {
		var b bytes.Buffer
		WriteReport(&b, []*Suite{s})
		t.Fatalf("test fails after the update:\n%s", b.String())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "tests", "a.json"))
	for _, want := range []string{`"description": "d"`, `"seen",`, `"perform": {`, `"type": "cache"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("updated test lacks %s:\n%s", want, data)
		}
	}
}

// TestJUnit checks the JUnit XML for the schema's required elements and
// attributes: testsuites > testsuite[name, tests] > testcase[name,
// classname] with failure[message] for a failed test.
func TestJUnit(t *testing.T) {
	dir := writeTask(t, sampleScript, map[string]string{
		"a.json": `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}}, "expect": {"match": "subset", "actions": [{"type": "cache"}]}}`,
		"b.json": `{"event": {"topic": "shopify/orders/create", "data": {"id": 7}}, "shopify": {"*": {"data": {}}}, "expect": {"actions": []}}`,
	})
	var b bytes.Buffer
	if err := WriteJUnit(&b, []*Suite{RunDir(context.Background(), dir)}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Name     string `xml:"name,attr"`
			Tests    *int   `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, b.String())
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name == "" || doc.Suites[0].Tests == nil || *doc.Suites[0].Tests != 2 || doc.Suites[0].Failures != 1 {
		t.Fatalf("bad testsuite: %s", b.String())
	}
	cases := doc.Suites[0].Cases
	if len(cases) != 2 || cases[0].Name == "" || cases[0].Classname == "" || cases[0].Failure != nil || cases[1].Failure == nil || cases[1].Failure.Message == "" {
		t.Fatalf("bad testcases: %s", b.String())
	}
}

// TestCacheIteration: a test's cache state is iterable in key order.
func TestCacheIteration(t *testing.T) {
	dir := writeTask(t, `{% capture keys %}{% for kv in cache %}{{ kv[0] }}={{ kv[1] }},{% endfor %}{% endcapture %}{% log keys %}`, map[string]string{
		"a.json": `{"event": {"topic": "shopify/orders/create", "data": {}}, "cache": {"z": 1, "a": "x"}, "expect": {"logs": ["a=x,z=1,"], "actions": []}}`,
	})
	s := RunDir(context.Background(), dir)
	if s.Err != nil || !s.Results[0].Passed() {
		var b bytes.Buffer
		WriteReport(&b, []*Suite{s})
		t.Fatalf("%v\n%s", s.Err, b.String())
	}
}
