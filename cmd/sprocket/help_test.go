package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHelpExitsZero: every way of asking for help prints usage on stdout,
// nothing on stderr, and exits 0 (task lint --help must not open a file
// named --help).
func TestHelpExitsZero(t *testing.T) {
	tests := [][]string{
		{"--help"}, {"-h"}, {"help"}, {"help", "serve"}, {"help", "task"},
		{"liquid", "--help"}, {"liquid", "-h"},
		{"task", "--help"}, {"task", "-h"}, {"task", "help"},
		{"task", "preview", "--help"}, {"task", "preview", "x.json", "-h"},
		{"task", "lint", "--help"},
		{"tasks", "--help"}, {"tasks", "import", "--help"},
		{"serve", "--help"}, {"serve", "-h"},
		{"version", "--help"},
		{"secrets", "--help"}, {"help", "secrets"}, {"secrets", "rotate-key", "--help"}, {"secrets", "rotate-key", "-h"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
			if code != 0 || !strings.Contains(out.String(), "usage: sprocket") || errOut.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
			}
		})
	}
	// Without arguments, usage goes to stderr with exit 2.
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage:") {
		t.Errorf("no arguments: exit %d, stderr %q", code, errOut.String())
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
		if code != 0 || !regexp.MustCompile(`^sprocket \S+.* go1\.\S+ \w+/\w+\n$`).MatchString(out.String()) {
			t.Errorf("%v: exit %d, %q", args, code, out.String())
		}
	}
	if code := run(context.Background(), []string{"version", "extra"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("version extra: exit %d", code)
	}
}

// TestPreviewFormats: the default output to a non-terminal is the JSON
// document (a checked interface), --json forces it, and --text prints the
// readable summary with each event's actions, logs and errors.
func TestPreviewFormats(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.json")
	doc := taskJSON(`{% action "echo", greeting: "hi" %}{% log "noted" %}{% error "careful" %}`, "mechanic/user/trigger", `{}`)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	runOut := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		run(context.Background(), append([]string{"task", "preview", p}, args...), strings.NewReader(""), &out, &errOut)
		return out.String()
	}
	def, js := runOut(), runOut("--json")
	if def != js {
		t.Errorf("default output to a non-terminal differs from --json:\n%s\n%s", def, js)
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(def), &parsed); err != nil || strings.Count(def, "\n") != 1 {
		t.Fatalf("default output is not one JSON line: %v\n%s", err, def)
	}
	text := runOut("--text")
	for _, want := range []string{
		"Subscriptions: mechanic/user/trigger\n",
		"Event 1 of 1: mechanic/user/trigger",
		"  Actions (1):\n    1. echo {\"greeting\":\"hi\"}\n",
		"  Logs (1):\n    1. noted\n",
		"  Errors (1):\n    1. careful\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text summary lacks %q:\n%s", want, text)
		}
	}
	if json.Valid([]byte(text)) {
		t.Error("--text printed JSON")
	}
	// A terminal is recognised as one; a pipe or file is not.
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer counted as a terminal")
	}
	f, err := os.CreateTemp(dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a file counted as a terminal")
	}
}

// TestServeTaskConcurrency: serve's help names --task-concurrency and its
// environment variable; the value parses to the pipeline option (empty:
// the default, 0: no limit) and a bad one stops serve with exit 2 naming
// the flag.
func TestServeTaskConcurrency(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, strings.NewReader(""), &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("serve --help: exit %d", code)
	}
	for _, want := range []string{"-task-concurrency", "SPROCKET_TASK_CONCURRENCY", "0: unlimited"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "", want: 0}, {in: "0", want: -1}, {in: "3", want: 3}, {in: " 12 ", want: 12},
		{in: "-1", wantErr: true}, {in: "many", wantErr: true}, {in: "2.5", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTaskConcurrency(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseTaskConcurrency(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--task-concurrency") {
			t.Errorf("parseTaskConcurrency(%q) error %q does not name the flag", tt.in, err)
		}
	}
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--task-concurrency", "lots"}, strings.NewReader(""), &bytes.Buffer{}, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "--task-concurrency") {
		t.Errorf("serve --task-concurrency lots: exit %d, stderr %q", code, errOut.String())
	}
}

// TestServeMaxQueueAge: serve's help names --max-queue-age and its
// environment variable; 0 means no bound and a bad value stops serve with
// exit 2 naming the flag.
func TestServeMaxQueueAge(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, strings.NewReader(""), &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("serve --help: exit %d", code)
	}
	for _, want := range []string{"-max-queue-age", "SPROCKET_MAX_QUEUE_AGE", "/readyz"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "10m", want: 10 * time.Minute}, {in: " 90s ", want: 90 * time.Second}, {in: "0", want: 0},
		{in: "-1m", wantErr: true}, {in: "ten", wantErr: true}, {in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseMaxQueueAge(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseMaxQueueAge(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--max-queue-age", "soon"}, strings.NewReader(""), &bytes.Buffer{}, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "--max-queue-age") {
		t.Errorf("serve --max-queue-age soon: exit %d, stderr %q", code, errOut.String())
	}
}
