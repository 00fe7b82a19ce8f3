package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
)

func TestLiquidCommand(t *testing.T) {
	in := strings.Join([]string{
		`{"template": "{{ a }}-{% for x in xs %}{{ x }}{% endfor %}", "data": {"a": 12345678901234567890, "xs": [1, 2.0, "s"]}}`,
		`{"template": "{% if %}"}`,
		`not json`,
		`{"data": {}}`,
		``,
		`{"template": "{% include 'p' %}", "partials": {"p": "[{{ k }}]"}, "data": {"k": {"b": 1, "a": 2}}}`,
		`{"template": "{{ 1 | divided_by: 0 }}"}`,
		`{"template": "{{ 1 | divided_by: 0 }}", "strict": true}`,
		`{"template": "{{ x | nosuchfilter }}", "data": {"x": "<&>"}}`,
		`{"template": "ok", "data": [1]}`,
		`{"template": "{{ s | slice: 0 }}", "data": {"s": "é"}}`,
		`{"template": "{{ '/2E=' | base64_decode }}"}`,
	}, "\n")
	want := []string{
		`{"output":"12345678901234567890-12.0s"}`,
		`{"error":"Liquid syntax error (line 1): Syntax Error in tag 'if' - Valid syntax: if [expression]"}`,
		`{"error":"invalid request: invalid character 'o' in literal null (expecting 'u')"}`,
		`{"error":"invalid request: missing \"template\""}`,
		`{"error":"invalid request: empty line"}`,
		`{"output":"[{\"b\"=>1, \"a\"=>2}]"}`,
		`{"output":"Liquid error: divided by 0"}`,
		`{"error":"Liquid error: divided by 0"}`,
		`{"output":"<&>"}`,
		`{"error":"invalid request: \"data\" must be an object"}`,
		`{"output":"é"}`,
		`{"output_b64":"/2E="}`,
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"liquid"}, strings.NewReader(in), &out, &errOut); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, errOut.String())
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// TestLiquidLineTimeout checks that a render past its deadline stops with
// an error naming the time limit (the deadline here has already passed).
func TestLiquidLineTimeout(t *testing.T) {
	res := renderLine(context.Background(), liquid.NewEngine(), []byte(`{"template": "{% for i in (1..100000) %}{{ i }}{% endfor %}"}`), time.Nanosecond)
	if res.Error == nil || *res.Error != "Liquid error: render took longer than 1ns" {
		t.Fatalf("got %+v", res)
	}
}

func TestLiquidCommandManyLines(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&in, `{"template": "{{ n | plus: 1 }}", "data": {"n": %d}}`+"\n", i)
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"liquid"}, strings.NewReader(in.String()), &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("got %d lines", len(lines))
	}
	for i, l := range lines {
		var r struct{ Output string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Output != fmt.Sprint(i+1) {
			t.Fatalf("line %d: %s", i+1, l)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"nope"}, strings.NewReader(""), &bytes.Buffer{}, &errOut); code != 2 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("stderr %q", errOut.String())
	}
}
