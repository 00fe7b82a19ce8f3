package tasksync

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// recorder is a Target that records what it is asked to do.
type recorder struct {
	applied  map[string]string // id → script
	problems map[string]string
	disabled map[string]bool
	fail     error
}

func newRecorder() *recorder {
	return &recorder{applied: map[string]string{}, problems: map[string]string{}, disabled: map[string]bool{}}
}

func (r *recorder) ApplyFolderTask(_ context.Context, id, _ string, t *task.Task) (store.Task, error) {
	if r.fail != nil {
		return store.Task{}, r.fail
	}
	r.applied[id] = t.Script
	delete(r.disabled, id)
	delete(r.problems, id)
	return store.Task{ID: id, Name: t.Name, Enabled: true}, nil
}

func (r *recorder) FolderTaskError(id, _ string, problem error) { r.problems[id] = problem.Error() }

func (r *recorder) DisableFolderTask(_ context.Context, id, _ string) error {
	r.disabled[id] = true
	return nil
}

const exportJSON = `{"docs": null, "name": "A", "options": {}, "script": "{% log 1 %}", "subscriptions": ["user/a/b"], "subscriptions_template": "user/a/b"}`

func write(t *testing.T, p, body string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, filepath.Join(dir, "a.json"), exportJSON, t0)
	write(t, filepath.Join(dir, "b", "task.json"), `{"docs": null, "name": "B", "options": {}, "subscriptions": ["user/a/b"], "subscriptions_template": "user/a/b"}`, t0)
	write(t, filepath.Join(dir, "b", "script.liquid"), `{% log "b1" %}`, t0)
	write(t, filepath.Join(dir, "notes.txt"), "ignored", t0)
	rec := newRecorder()
	s := New(dir, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	a, b := TaskID("a.json"), TaskID("b")

	steps := []struct {
		name   string
		change func()
		check  func() error
	}{
		{"initial load", func() {}, func() error {
			if rec.applied[a] != "{% log 1 %}" || rec.applied[b] != `{% log "b1" %}` || len(rec.applied) != 2 {
				return errors.New("both tasks not applied")
			}
			return nil
		}},
		{"edit a folder file", func() { write(t, filepath.Join(dir, "b", "script.liquid"), `{% log "b2" %}`, t0.Add(time.Second)) }, func() error {
			if rec.applied[b] != `{% log "b2" %}` {
				return errors.New("edit not applied")
			}
			return nil
		}},
		{"a test file change is not a task change", func() {
			delete(rec.applied, b)
			write(t, filepath.Join(dir, "b", "tests", "x.json"), `{}`, t0)
		}, func() error {
			if _, ok := rec.applied[b]; ok {
				return errors.New("re-applied for a test file")
			}
			return nil
		}},
		{"broken JSON keeps the task and reports", func() { write(t, filepath.Join(dir, "a.json"), `{"name": `, t0.Add(time.Second)) }, func() error {
			if rec.problems[a] == "" || rec.applied[a] != "{% log 1 %}" {
				return errors.New("problem not reported")
			}
			return nil
		}},
		{"delete disables", func() { os.Remove(filepath.Join(dir, "a.json")) }, func() error {
			if !rec.disabled[a] {
				return errors.New("not disabled")
			}
			return nil
		}},
		{"re-created file applies again", func() { write(t, filepath.Join(dir, "a.json"), exportJSON, t0.Add(2*time.Second)) }, func() error {
			if rec.disabled[a] || rec.applied[a] == "" {
				return errors.New("not re-applied")
			}
			return nil
		}},
	}
	for _, st := range steps {
		st.change()
		if _, err := s.Sync(ctx); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if err := st.check(); err != nil {
			t.Fatalf("%s: %v (recorder %+v)", st.name, err, rec)
		}
	}
}

// TestSyncTargetError: a task the target refuses is reported and retried
// on its next change.
func TestSyncTargetError(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.json"), exportJSON, time.Unix(1, 0))
	rec := newRecorder()
	rec.fail = errors.New("cannot enable: option x is required")
	s := New(dir, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	n, err := s.Sync(context.Background())
	if err != nil || n != 1 || rec.problems[TaskID("a.json")] == "" {
		t.Fatalf("problems %d, err %v, recorder %+v", n, err, rec)
	}
	if _, err := New(filepath.Join(dir, "missing"), rec, nil, 0).Sync(context.Background()); err == nil {
		t.Error("missing folder: no error")
	}
}
