package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLiquidDialect renders JSON lines with Mechanic's dialect.
func TestLiquidDialect(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"action and log with event, options and cache iteration",
			`{"template": "{% log n: event.data.n %}{% capture keys %}{% for kv in cache %}{{ kv[0] }}{% endfor %}{% endcapture %}{% action \"cache\", \"set\", keys, options.x__number %}", "event": {"topic": "shopify/orders/create", "data": {"n": 3}}, "options": {"x__number": 1}, "cache": {"b": 2, "a": 1}}`,
			`{"output":"{\"log\":{\"n\":3}}{\"action\":{\"type\":\"cache\",\"options\":[\"set\",\"ab\",1]}}","actions":[{"type":"cache","options":["set","ab",1]}],"logs":[{"n":3}],"errors":[]}`},
		{"mechanic filters and fixed now", `{"template": "{% log d: \"now\" | date: \"%Y-%m-%d\", s: \"a b\" | handleize %}", "now": "2024-02-03T12:05:06Z"}`,
			`{"output":"{\"log\":{\"d\":\"2024-02-03\",\"s\":\"a-b\"}}","actions":[],"logs":[{"d":"2024-02-03","s":"a-b"}],"errors":[]}`},
		{"stubbed shopify filter", `{"template": "{% assign r = \"query { shop { name } }\" | shopify %}{% error r.data.shop.name %}", "shopify": {"shop": {"data": {"shop": {"name": "Acme"}}}}}`,
			`{"output":"{\"error\":\"Acme\"}","actions":[],"logs":[],"errors":["Acme"]}`},
		{"plain text is not an action stream", `{"template": "Hello"}`, `"output":"Hello","output_error":"script: output error: task output line 1, column 1: expected a JSON object`},
		{"liquid error", `{"template": "{% if %}"}`, `{"error":"script: syntax error`},
		{"bad field", `{"template": "x", "colour": 1}`, `{"error":"invalid request: unknown field \"colour\"`},
		{"missing template", `{"event": {"topic": "a/b/c"}}`, `{"error":"invalid request: missing \"template\""}`},
		{"bad event", `{"template": "x", "event": {"data": {}}}`, `{"error":"event: missing \"topic\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"liquid", "--dialect"}, strings.NewReader(tt.line+"\n"), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if got := out.String(); !strings.Contains(got, tt.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestConsole renders template lines against an event file, with a
// continued line, a JSON request and a command.
func TestConsole(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"topic": "shopify/orders/create", "data": {"name": "#1001"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache.json")
	if err := os.WriteFile(cache, []byte(`{"seen": 4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{% log order.name %}`,
		`{% action "echo" \`,
		`  n: cache.seen %}`,
		`:cache ` + cache,
		`{% action "echo" n: cache.seen %}`,
		`{"template": "{% log event.topic %}", "event": {"topic": "mechanic/user/trigger"}}`,
		`:bogus x`,
		`:quit`,
		`{% log "not reached" %}`,
	}, "\n") + "\n"
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"console", "--json", "--event", event}, strings.NewReader(in), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`"logs":["#1001"]`,
		`"actions":[{"type":"echo","options":{"n":null}}]`,
		`"actions":[{"type":"echo","options":{"n":4}}]`,
		`"logs":["mechanic/user/trigger"]`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %s, want %s", i, lines[i], w)
		}
	}
	if !strings.Contains(errb.String(), "unknown command :bogus") {
		t.Errorf("stderr = %q", errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"console"}, strings.NewReader("{% log 1 %}\n"), &out, &errb); code != 0 || out.String() != "{\"log\":1}\nlog: 1\n" {
		t.Errorf("readable output: exit %d, %q", code, out.String())
	}
}
