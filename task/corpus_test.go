package task

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
)

// corpusDir holds the 360 tasks of the public Mechanic task library.
func corpusDir(t testing.TB) string {
	if dir := os.Getenv("SPROCKET_TASK_CORPUS"); dir != "" {
		return dir
	}
	return shared.For(t, "corpus", "mechanic-tasks", "tasks")
}

type corpusTask struct {
	file string
	data []byte
	task *Task
}

func loadCorpus(t testing.TB) []corpusTask {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []corpusTask
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		out = append(out, corpusTask{file: filepath.Base(f), data: data, task: tk})
	}
	return out
}

func genericJSON(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

// TestCorpusRoundTrip parses every library task, exports it, and checks
// that the export is semantically the input and parses back to the same
// task.
func TestCorpusRoundTrip(t *testing.T) {
	tasks := loadCorpus(t)
	if len(tasks) < 360 {
		t.Errorf("parsed %d library tasks, want 360", len(tasks))
	}
	identical := 0
	for _, c := range tasks {
		out, err := c.task.Export()
		if err != nil {
			t.Errorf("%s: export: %v", c.file, err)
			continue
		}
		if !reflect.DeepEqual(genericJSON(t, c.data), genericJSON(t, out)) {
			t.Errorf("%s: export differs from input as JSON", c.file)
			continue
		}
		again, err := Parse(out)
		if err != nil {
			t.Errorf("%s: reparse: %v", c.file, err)
			continue
		}
		if !reflect.DeepEqual(again, c.task) {
			t.Errorf("%s: Parse(Export(task)) != task", c.file)
		}
		if bytes.Equal(out, c.data) {
			identical++
		} else {
			t.Errorf("%s: export is not byte-identical to the library file", c.file)
		}
	}
	t.Logf("%d/%d library tasks round-trip; %d byte-identical exports", len(tasks), len(tasks), identical)
}

// TestCorpusOptionKeys parses every option key of the library.
func TestCorpusOptionKeys(t *testing.T) {
	kinds := map[Kind]int{}
	n := 0
	for _, c := range loadCorpus(t) {
		for _, key := range c.task.OptionKeys() {
			k, err := ParseOptionKey(key)
			if err != nil {
				t.Errorf("%s: option %q: %v", c.file, key, err)
				continue
			}
			kinds[k.Kind()]++
			n++
		}
	}
	t.Logf("%d option keys (declared and referenced) parse; kinds %v", n, kinds)
}

// TestCorpusValidate checks stored option values: the only complaints
// allowed are unfilled required options, as the library ships templates.
func TestCorpusValidate(t *testing.T) {
	required := 0
	for _, c := range loadCorpus(t) {
		for _, fe := range Validate(c.task.Options) {
			if fe.Message == "is required" {
				required++
				continue
			}
			t.Errorf("%s: %v", c.file, &fe)
		}
		if _, errs := c.task.CoercedOptions(); errs != nil {
			t.Errorf("%s: CoercedOptions: %v", c.file, errs)
		}
	}
	t.Logf("library defaults: %d unfilled required options", required)
}

// TestCorpusMissingOptions lists the library tasks that reference options
// they do not store. The corpus statistics say 14, and a plain
// `options\.(\w+)` scan finds 15 tasks; but in three of those (the
// Airtable, Google Drive and reorder-reminder tasks) every hit is a lookup
// into another object, such as action.options.method, leaving 12.
func TestCorpusMissingOptions(t *testing.T) {
	count := 0
	for _, c := range loadCorpus(t) {
		missing := c.task.MissingOptions()
		if len(missing) == 0 {
			continue
		}
		count++
		t.Logf("%s: %s", strings.TrimSuffix(c.file, ".json"), strings.Join(missing, ", "))
	}
	t.Logf("%d library tasks reference options they do not store", count)
	if count != 12 {
		t.Errorf("tasks with missing options = %d, want 12", count)
	}
}

// TestCorpusSubscriptions parses every stored subscription of the library.
func TestCorpusSubscriptions(t *testing.T) {
	n, delayed := 0, 0
	for _, c := range loadCorpus(t) {
		subs, err := c.task.ParsedSubscriptions()
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		for _, s := range subs {
			n++
			if s.Delay > 0 {
				delayed++
			}
		}
	}
	t.Logf("%d stored subscriptions parse, %d with offsets", n, delayed)
}

// staleSubscriptions are library tasks whose stored subscriptions do not
// match their (Liquid-free) template: the library data is out of date.
var staleSubscriptions = map[string]bool{
	"auto-tag-orders-by-their-risk-level.json":         true, // template adds mechanic/shopify/bulk_operation
	"auto-tag-orders-with-product-vendors.json":        true, // template adds mechanic/user/order
	"set-product-templates-based-on-product-tags.json": true, // same topics, other order
}

// TestCorpusStaticTemplates renders the subscriptions templates that hold
// no Liquid with a pass-through renderer and compares with the stored
// subscriptions.
func TestCorpusStaticTemplates(t *testing.T) {
	n := 0
	for _, c := range loadCorpus(t) {
		if staleSubscriptions[c.file] {
			continue
		}
		tmpl := c.task.SubscriptionsTemplate
		if tmpl == nil || strings.Contains(*tmpl, "{") {
			continue
		}
		got, err := c.task.RenderSubscriptions(t.Context(), passThrough)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if !reflect.DeepEqual(got, c.task.Subscriptions) {
			t.Errorf("%s: rendered %q, stored %q", c.file, got, c.task.Subscriptions)
		}
		n++
	}
	t.Logf("%d Liquid-free subscriptions templates render to the stored subscriptions", n)
}

func BenchmarkParseCorpus(b *testing.B) {
	tasks := loadCorpus(b)
	var size int64
	for _, c := range tasks {
		size += int64(len(c.data))
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		for _, c := range tasks {
			if _, err := Parse(c.data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkExportCorpus(b *testing.B) {
	tasks := loadCorpus(b)
	b.ResetTimer()
	for b.Loop() {
		for _, c := range tasks {
			if _, err := c.task.Export(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
