package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// TestPackUnpackCLI round-trips library tasks through "task unpack" and
// "task pack".
func TestPackUnpackCLI(t *testing.T) {
	lib := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	for _, name := range []string{"abandoned-checkout-emails.json", "auto-tag-orders-by-discount-code.json"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(lib, name)
			want, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "task")
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"task", "unpack", src, dir}, nil, &out, &errb); code != 0 {
				t.Fatalf("unpack exit %d: %s", code, errb.String())
			}
			out.Reset()
			if code := run(context.Background(), []string{"task", "pack", dir}, nil, &out, &errb); code != 0 {
				t.Fatalf("pack exit %d: %s", code, errb.String())
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("pack output differs from %s", name)
			}
		})
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"task", "pack", t.TempDir()}, nil, io.Discard, &errb); code != exitInvalid || !strings.Contains(errb.String(), "task.json") {
		t.Errorf("pack of an empty folder: exit %d, %q", code, errb.String())
	}
}

// TestTasksExport imports tasks (one JSON file, one task folder) into a
// real service and exports them back in both forms.
func TestTasksExport(t *testing.T) {
	lib := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	svc, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), APIToken: "tok-export-test-0123456789", DisableScheduler: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ts := httptest.NewServer(svc.Handler())
	defer ts.Close()
	t.Setenv("SPROCKET_API_TOKEN", "tok-export-test-0123456789")

	in := t.TempDir()
	a := filepath.Join(lib, "abandoned-checkout-emails.json")
	b := filepath.Join(lib, "auto-tag-orders-by-discount-code.json")
	data, _ := os.ReadFile(a)
	if err := os.WriteFile(filepath.Join(in, "a.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	bdata, _ := os.ReadFile(b)
	if err := taskdir.Unpack(bdata, filepath.Join(in, "b")); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"tasks", "import", "--url", ts.URL, in}, nil, &out, &errb); code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "2 created") {
		t.Fatalf("import: %s", out.String())
	}
	tests := []struct {
		name string
		args []string
		read func(dir, handle string) ([]byte, error)
	}{
		{"json", nil, func(dir, h string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, h+".json")) }},
		{"folders", []string{"--folders"}, func(dir, h string) ([]byte, error) { return taskdir.Pack(filepath.Join(dir, h)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var out, errb bytes.Buffer
			args := append([]string{"tasks", "export", "--url", ts.URL}, tt.args...)
			if code := run(context.Background(), append(args, dir), nil, &out, &errb); code != 0 {
				t.Fatalf("export exit %d: %s", code, errb.String())
			}
			for h, want := range map[string][]byte{"abandoned-checkout-emails": data, "auto-tag-orders-by-discount-code": bdata} {
				got, err := tt.read(dir, h)
				if err != nil {
					t.Fatalf("%s: %v (wrote %s)", h, err, out.String())
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: exported task differs from the imported file", h)
				}
			}
		})
	}
}

// TestTaskTestCLI runs "sprocket task test" on an example task (exit 0),
// on a copy with a broken expectation (exit 1, a diff in the report) and
// writes JUnit XML.
func TestTaskTestCLI(t *testing.T) {
	src := filepath.Join("..", "..", "examples", "tasks", "customer-signup-email")
	var out, errb bytes.Buffer
	junit := filepath.Join(t.TempDir(), "junit.xml")
	if code := run(context.Background(), []string{"task", "test", "--junit", junit, src}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if x, err := os.ReadFile(junit); err != nil || !strings.Contains(string(x), "<testsuites") {
		t.Fatalf("junit: %v %s", err, x)
	}
	dir := filepath.Join(t.TempDir(), "task")
	data, err := taskdir.Pack(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := taskdir.Unpack(data, dir); err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile(filepath.Join(src, "tests", "new-customer.json"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(test), `"to": "staff@example.com"`, `"to": "boss@example.com"`, 1)
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests", "new-customer.json"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"task", "test", dir}, nil, &out, &errb); code != exitRunFailed {
		t.Fatalf("broken expectation: exit %d, want %d", code, exitRunFailed)
	}
	for _, want := range []string{"FAIL", `-       "to": "boss@example.com"`, `+       "to": "staff@example.com"`, "0 passed, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"task", "test", "--update", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("--update: exit %d: %s", code, out.String())
	}
}
