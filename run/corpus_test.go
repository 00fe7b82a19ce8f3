package run

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/task"
)

// TestLibraryPreviews loads every library task, checks that it
// round-trips, renders its subscriptions with the real engine and
// previews it: no task may hit a syntax error, an inline Liquid error, an
// output that is not a JSON object stream, or a limit.
func TestLibraryPreviews(t *testing.T) {
	corpusDir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks in %s, want 360", len(files), corpusDir)
	}
	eng := dialect.NewEngine(dialect.Options{})
	r := &Renderer{Engine: eng}
	ctx := context.Background()
	var withActions, logsOnly, withErrors, nothing []string
	failures, anyErrors, totalRuns := 0, 0, 0
	var staleSubs []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := task.Parse(data)
		if err != nil {
			t.Errorf("%s: load: %v", name, err)
			failures++
			continue
		}
		out, err := tk.Export()
		if err != nil {
			t.Errorf("%s: export: %v", name, err)
			continue
		}
		if !bytes.Equal(bytes.TrimSpace(out), bytes.TrimSpace(data)) {
			if jsonEqual(out, data) {
				t.Logf("%s: export round-trips, but not byte for byte", name)
			} else {
				t.Errorf("%s: export does not round-trip", name)
			}
		}
		p, err := r.Preview(ctx, PreviewInput{Task: tk})
		if err != nil {
			t.Errorf("%s: preview: %v", name, err)
			failures++
			continue
		}
		if got, want := strings.Join(p.Subscriptions, "\n"), strings.Join(tk.Subscriptions, "\n"); got != want {
			// A few library exports store subscriptions that are stale
			// against their own template (Ruby Liquid renders the
			// template as we do); report them without failing.
			staleSubs = append(staleSubs, name)
		}
		acts, logs, errs := 0, 0, 0
		totalRuns += len(p.Runs)
		for _, run := range p.Runs {
			if run.Err != nil {
				failures++
				t.Errorf("%s: %s: %v (see dialect/ENGINE_BUGS.md)", name, run.Event.Topic, run.Err)
				continue
			}
			acts += len(run.Result.Output.Actions)
			logs += len(run.Result.Output.Logs)
			errs += len(run.Result.Output.Errors)
		}
		if errs > 0 {
			anyErrors++
		}
		switch {
		case acts > 0:
			withActions = append(withActions, name)
		case errs > 0:
			withErrors = append(withErrors, name)
		case logs > 0:
			logsOnly = append(logsOnly, name)
		default:
			nothing = append(nothing, name)
		}
	}
	t.Logf("%d preview runs", totalRuns)
	t.Logf("%d tasks: %d with ≥1 action; without actions: %d with task-raised errors, %d with logs only, %d with nothing; %d tasks raise errors in some run; %d engine failures",
		len(files), len(withActions), len(withErrors), len(logsOnly), len(nothing), anyErrors, failures)
	sort.Strings(logsOnly)
	t.Logf("no actions, logs only: %s", strings.Join(logsOnly, " "))
	t.Logf("no actions, task-raised errors: %s", strings.Join(withErrors, " "))
	t.Logf("no actions, nothing: %s", strings.Join(nothing, " "))
	t.Logf("stored subscriptions differ from the rendered template: %s", strings.Join(staleSubs, " "))
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestLibraryPreviewDetail prints the errors and logs of the library tasks
// named in $DUMP (space-separated), to explain a task's preview.
func TestLibraryPreviewDetail(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	corpusDir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	r := &Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	for _, name := range strings.Fields(os.Getenv("DUMP")) {
		data, _ := os.ReadFile(filepath.Join(corpusDir, name+".json"))
		tk, _ := task.Parse(data)
		p, err := r.Preview(context.Background(), PreviewInput{Task: tk})
		if err != nil {
			t.Logf("%s: %v", name, err)
			continue
		}
		for _, run := range p.Runs {
			if run.Err != nil {
				t.Logf("%s [%s] ERR %v", name, run.Event.Topic, run.Err)
				continue
			}
			e, _ := json.Marshal(run.Result.Output.Errors)
			l, _ := json.Marshal(run.Result.Output.Logs)
			t.Logf("%s [%s] actions=%d errors=%.300s logs=%.300s", name, run.Event.Topic, len(run.Result.Output.Actions), e, l)
		}
	}
}

// BenchmarkPreviewLibraryTask measures a whole preview (subscriptions,
// parse, one run per preview event) of a typical library task.
func BenchmarkPreviewLibraryTask(b *testing.B) {
	data, err := os.ReadFile(shared.For(b, "corpus", "mechanic-tasks", "tasks", "auto-tag-orders-with-product-vendors.json"))
	if err != nil {
		b.Fatal(err)
	}
	tk, err := task.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	r := &Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	for b.Loop() {
		p, err := r.Preview(context.Background(), PreviewInput{Task: tk})
		if err != nil || len(p.Failed()) > 0 {
			b.Fatal(err, p.Failed())
		}
	}
}
