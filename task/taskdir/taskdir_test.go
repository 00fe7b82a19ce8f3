package taskdir

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
)

// TestCorpusRoundTrip unpacks every library task into a folder and packs it
// again: the result must be the library file, byte for byte.
func TestCorpusRoundTrip(t *testing.T) {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 360 {
		t.Fatalf("found %d library tasks, want 360", len(paths))
	}
	root := t.TempDir()
	withEvents, withoutDocs := 0, 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(root, strings.TrimSuffix(filepath.Base(p), ".json"))
		if err := Unpack(data, out); err != nil {
			t.Errorf("%s: unpack: %v", filepath.Base(p), err)
			continue
		}
		if !IsDir(out) {
			t.Errorf("%s: unpacked folder not recognised", filepath.Base(p))
		}
		if m, _ := filepath.Glob(filepath.Join(out, PreviewEventsFolder, "*.json")); len(m) > 0 {
			withEvents++
		}
		if _, err := os.Stat(filepath.Join(out, DocsFile)); err != nil {
			withoutDocs++
		}
		packed, err := Pack(out)
		if err != nil {
			t.Errorf("%s: pack: %v", filepath.Base(p), err)
			continue
		}
		if !bytes.Equal(packed, data) {
			t.Errorf("%s: pack(unpack(task)) differs from the library file", filepath.Base(p))
		}
	}
	t.Logf("%d tasks round-trip; %d with preview event files, %d without docs.md", len(paths), withEvents, withoutDocs)
}

func TestAssembleErrors(t *testing.T) {
	meta := []byte(`{"name":"x","options":{},"subscriptions":[],"subscriptions_template":"","docs":null}`)
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"no task.json", map[string][]byte{ScriptFile: []byte("")}, "task.json: missing"},
		{"no script", map[string][]byte{MetaFile: meta}, "script.liquid: missing"},
		{"bad json", map[string][]byte{MetaFile: []byte("{"), ScriptFile: nil}, "task.json"},
		{"script twice", map[string][]byte{MetaFile: []byte(`{"name":"x","script":"a"}`), ScriptFile: []byte("b")}, `field "script" is also in script.liquid`},
		{"bad preview event", map[string][]byte{MetaFile: meta, ScriptFile: nil, "preview_events/01-a.json": []byte("[")}, "preview_events/01-a.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestUnpackRemovesStaleFiles checks that unpacking over an existing folder
// drops files the task no longer has and keeps tests/.
func TestUnpackRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	for rel, data := range map[string]string{
		DocsFile: "old", OnlineStoreFile: "old", "preview_events/09-old.json": "{}", "tests/a.json": "{}",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	export := []byte(`{"docs":null,"name":"x","options":{},"script":"{% log 1 %}","subscriptions":[],"subscriptions_template":""}`)
	if err := Unpack(export, dir); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{DocsFile, OnlineStoreFile, "preview_events/09-old.json"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s still exists", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tests/a.json")); err != nil {
		t.Errorf("tests/a.json removed: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ScriptFile))
	if err != nil || string(got) != "{% log 1 %}" {
		t.Errorf("script.liquid = %q, %v", got, err)
	}
}

// BenchmarkFilesAssembleCorpus measures splitting every library task into
// its folder files and assembling it back (in memory).
func BenchmarkFilesAssembleCorpus(b *testing.B) {
	dir := shared.For(b, "corpus", "mechanic-tasks", "tasks")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		b.Fatal(err)
	}
	var docs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, data)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, d := range docs {
			files, err := Files(d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Assemble(files); err != nil {
				b.Fatal(err)
			}
		}
	}
}
