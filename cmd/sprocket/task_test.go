package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func taskJSON(script, subs string, options string) string {
	b, _ := json.Marshal(map[string]any{
		"name":                   "CLI test",
		"script":                 script,
		"subscriptions":          []string{},
		"subscriptions_template": subs,
		"options":                json.RawMessage(options),
		"docs":                   "",
	})
	return string(b)
}

func TestTaskPreviewCommand(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", taskJSON(
		`{% if event.topic == "shopify/orders/create" %}{% action "echo", name: order.name, who: options.who__required %}{% else %}{% log event.data %}{% endif %}{% error "check" %}`,
		"shopify/orders/create\nmechanic/user/text", `{"who__required": null}`))
	syntax := writeFile(t, dir, "syntax.json", taskJSON(`{% if %}`, "mechanic/user/trigger", `{}`))
	inline := writeFile(t, dir, "inline.json", taskJSON(`{{ 1 | divided_by: 0 }}`, "mechanic/user/trigger", `{}`))
	notJSON := writeFile(t, dir, "text.json", taskJSON(`hello`, "mechanic/user/trigger", `{}`))
	broken := writeFile(t, dir, "broken.json", `{"name": 1}`)
	event := writeFile(t, dir, "event.json", `{"topic": "user/a/b", "data": {"x": 1}}`)
	opts := writeFile(t, dir, "opts.json", `{"who__required": "Ann"}`)
	badOpts := writeFile(t, dir, "badopts.json", `{"who__required": "", "n__number": "abc"}`)

	cases := []struct {
		name    string
		args    []string
		code    int
		stdout  string // substring of stdout
		stderrS string // substring of stderr
	}{
		{"preview", []string{"preview", good}, 0,
			`{"subscriptions":["shopify/orders/create","mechanic/user/text"],"sampled_options":["who__required"],"runs":[{"event":{"topic":"shopify/orders/create","data":{"id":5512345678901`, ""},
		{"preview actions", []string{"preview", good}, 0, `"actions":[{"type":"echo","options":{"name":"#1001","who":"sample"}}],"logs":[],"errors":["check"]}`, ""},
		{"options file", []string{"preview", good, "--options", opts}, 0, `"who":"Ann"`, ""},
		{"invalid options file", []string{"preview", good, "--options", badOpts}, 2, "", `option "n__number": `},
		{"empty required option", []string{"preview", good, "--options", badOpts}, 2, "", `option "who__required": `},
		{"event file", []string{"preview", "--event", event, good}, 0, `"runs":[{"event":{"topic":"user/a/b","data":{"x":1}},"actions":[],"logs":[{"x":1}],"errors":["check"]}]`, ""},
		{"syntax error", []string{"preview", syntax}, 2, "", "Liquid syntax error (line 1)"},
		{"bad now", []string{"preview", good, "--now", "yesterday"}, 2, "", "--now"},
		{"inline error", []string{"preview", inline}, 1, `"failure":`, "divided by 0"},
		{"output not JSON", []string{"preview", notJSON}, 1, "", "expected a JSON object"},
		{"unloadable task", []string{"preview", broken}, 2, "", "sprocket task preview"},
		{"missing file", []string{"preview", filepath.Join(dir, "nope.json")}, 2, "", "read task"},
		{"usage", []string{"preview"}, 2, "", "usage"},
		{"lint clean", []string{"lint", good}, 0, "", ""},
		{"lint syntax", []string{"lint", syntax}, 1, "script line 1: Liquid syntax error", "1 problem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runTask(context.Background(), c.args, nil, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %s", code, c.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), c.stdout) {
				t.Errorf("stdout %s\nwant it to contain %s", stdout.String(), c.stdout)
			}
			if !strings.Contains(stderr.String(), c.stderrS) {
				t.Errorf("stderr %s\nwant it to contain %s", stderr.String(), c.stderrS)
			}
		})
	}
}

func TestTaskLintFindings(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "lint.json", taskJSON(
		"{% comment %}{{ x | not_in_comments }}{% endcomment %}\n{{ options.declared | upcase }}\n{{ options.undeclared | no_such_filter: \"a | fake\" }}\n{% assign y = 1 | another_unknown %}",
		"mechanic/user/trigger", `{"declared": "a", "with_liquid": "{% if %}"}`))
	var stdout, stderr bytes.Buffer
	if code := runTask(context.Background(), []string{"lint", p}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	out := stdout.String()
	for _, want := range []string{
		"script line 3: unknown filter no_such_filter",
		"script line 4: unknown filter another_unknown",
		`script line 3: option "undeclared" is referenced but not declared`,
		`option "with_liquid": Liquid syntax error`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"not_in_comments", "fake"} {
		if strings.Contains(out, bad) {
			t.Errorf("lint reports %q:\n%s", bad, out)
		}
	}
}
