// Package taskdir converts a Mechanic task between its single-JSON export
// and an unpacked folder form that diffs well in git: task.json holds the
// metadata (name, options, subscriptions, tags, settings), while the script,
// the docs, the storefront scripts and each preview event live in their own
// files. Pack and Unpack are inverse: packing an unpacked export gives back
// the same bytes.
package taskdir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

// File names of the folder form.
const (
	MetaFile            = "task.json"
	ScriptFile          = "script.liquid"
	DocsFile            = "docs.md"
	OnlineStoreFile     = "online_store.js.liquid"
	OrderStatusFile     = "order_status.js.liquid"
	PreviewEventsFolder = "preview_events"
	TestsFolder         = "tests"
)

// maxFileSize bounds every file read from a task folder.
const maxFileSize = 8 << 20

// textFields maps the task's text fields to the files that hold them.
var textFields = []struct{ field, file string }{
	{task.FieldScript, ScriptFile},
	{task.FieldDocs, DocsFile},
	{task.FieldOnlineStoreJavaScript, OnlineStoreFile},
	{task.FieldOrderStatusJavaScript, OrderStatusFile},
}

// IsDir reports whether dir holds a task in folder form (a task.json next
// to a script.liquid).
func IsDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, MetaFile)); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, ScriptFile))
	return err == nil
}

// Files returns the folder form of a task export: file paths (slash
// separated, relative to the folder) to contents. A text field that is null
// is kept as null in task.json; a string goes to its own file. Preview
// events go to preview_events/NN-slug.json in their order.
func Files(export []byte) (map[string][]byte, error) {
	t, err := task.Parse(export)
	if err != nil {
		return nil, fmt.Errorf("parse task: %w", err)
	}
	canonical, err := t.Export()
	if err != nil {
		return nil, err
	}
	doc, err := value.FromJSON(canonical)
	if err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	m, ok := doc.(*value.Map)
	if !ok {
		return nil, errors.New("task export is not a JSON object")
	}
	files := make(map[string][]byte)
	for _, tf := range textFields {
		v, ok := m.Get(tf.field)
		if !ok {
			continue
		}
		if s, isStr := v.(string); isStr {
			files[tf.file] = []byte(s)
			m.Delete(tf.field)
		}
	}
	if v, ok := m.Get(task.FieldPreviewEventDefinitions); ok {
		if list, _ := v.([]any); len(list) > 0 {
			used := map[string]bool{}
			for i, p := range list {
				desc := ""
				if pm, ok := p.(*value.Map); ok {
					desc, _ = get(pm, "description").(string)
				}
				name := fmt.Sprintf("%02d-%s.json", i+1, slug(desc))
				for used[name] {
					name = fmt.Sprintf("%02d-%s-%d.json", i+1, slug(desc), len(used))
				}
				used[name] = true
				data, err := indent(p)
				if err != nil {
					return nil, fmt.Errorf("preview event %d: %w", i+1, err)
				}
				files[PreviewEventsFolder+"/"+name] = data
			}
			m.Delete(task.FieldPreviewEventDefinitions)
		}
	}
	meta, err := indent(m)
	if err != nil {
		return nil, err
	}
	files[MetaFile] = meta
	return files, nil
}

// get returns the value of key k of m, or nil.
func get(m *value.Map, k string) any {
	v, _ := m.Get(k)
	return v
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a preview event description into a short file name part.
func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" {
		s = "event"
	}
	return s
}

// indent encodes v as two-space-indented JSON with a trailing newline, keys
// in their stored order, non-ASCII unescaped.
func indent(v any) ([]byte, error) {
	compact, err := value.ToJSON(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indent: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// Unpack writes the folder form of a task export into dir, creating it.
// Files of the folder form that the task does not have (a stale docs.md,
// old preview events) are removed; tests/ and other files are kept.
func Unpack(export []byte, dir string) error {
	files, err := Files(export)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, PreviewEventsFolder), 0o755); err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	for _, tf := range textFields {
		if _, ok := files[tf.file]; !ok {
			if err := os.Remove(filepath.Join(dir, tf.file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("unpack: %w", err)
			}
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, PreviewEventsFolder, "*.json"))
	for _, p := range old {
		rel := PreviewEventsFolder + "/" + filepath.Base(p)
		if _, ok := files[rel]; !ok {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("unpack: %w", err)
			}
		}
	}
	for rel, data := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), data, 0o644); err != nil {
			return fmt.Errorf("unpack: %w", err)
		}
	}
	if len(filesUnder(files, PreviewEventsFolder)) == 0 {
		_ = os.Remove(filepath.Join(dir, PreviewEventsFolder)) // only when empty
	}
	return nil
}

func filesUnder(files map[string][]byte, folder string) []string {
	var out []string
	for rel := range files {
		if strings.HasPrefix(rel, folder+"/") {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}

// ReadFiles reads the files of the folder form from dir (not tests/).
func ReadFiles(dir string) (map[string][]byte, error) {
	files := make(map[string][]byte)
	read := func(rel string) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Size() > maxFileSize {
			return fmt.Errorf("%s: larger than %d bytes", p, maxFileSize)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = data
		return nil
	}
	if err := read(MetaFile); err != nil {
		return nil, fmt.Errorf("task folder %s: %w", dir, err)
	}
	for _, tf := range textFields {
		if err := read(tf.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("task folder %s: %w", dir, err)
		}
	}
	events, err := filepath.Glob(filepath.Join(dir, PreviewEventsFolder, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("task folder %s: %w", dir, err)
	}
	for _, p := range events {
		if err := read(PreviewEventsFolder + "/" + filepath.Base(p)); err != nil {
			return nil, fmt.Errorf("task folder %s: %w", dir, err)
		}
	}
	return files, nil
}

// Assemble builds the task export from the files of the folder form, as
// returned by Files or ReadFiles. Errors name the file at fault.
func Assemble(files map[string][]byte) ([]byte, error) {
	metaData, ok := files[MetaFile]
	if !ok {
		return nil, fmt.Errorf("%s: missing", MetaFile)
	}
	doc, err := value.FromJSON(metaData)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", MetaFile, err)
	}
	meta, ok := doc.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON object", MetaFile)
	}
	if _, ok := files[ScriptFile]; !ok {
		return nil, fmt.Errorf("%s: missing", ScriptFile)
	}
	for _, tf := range textFields {
		data, ok := files[tf.file]
		if !ok {
			continue
		}
		if _, dup := meta.Get(tf.field); dup && get(meta, tf.field) != nil {
			return nil, fmt.Errorf("%s: field %q is also in %s; keep it in one place", MetaFile, tf.field, tf.file)
		}
		meta.Set(tf.field, string(data))
	}
	if events := filesUnder(files, PreviewEventsFolder); len(events) > 0 {
		if v, dup := meta.Get(task.FieldPreviewEventDefinitions); dup {
			if l, _ := v.([]any); len(l) > 0 {
				return nil, fmt.Errorf("%s: field %q is also in %s/; keep it in one place", MetaFile, task.FieldPreviewEventDefinitions, PreviewEventsFolder)
			}
		}
		list := make([]any, 0, len(events))
		for _, rel := range events {
			ev, err := value.FromJSON(files[rel])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			list = append(list, ev)
		}
		meta.Set(task.FieldPreviewEventDefinitions, list)
	}
	// The export's fields are in alphabetical order; restore it.
	keys := meta.Keys()
	sort.Strings(keys)
	sorted := value.NewMap(len(keys))
	for _, k := range keys {
		sorted.Set(k, get(meta, k))
	}
	compact, err := value.ToJSON(sorted)
	if err != nil {
		return nil, fmt.Errorf("encode task: %w", err)
	}
	t, err := task.Parse(compact)
	if err != nil {
		return nil, fmt.Errorf("task folder: %w", err)
	}
	return t.Export()
}

// Pack reads the task folder dir and returns its task export.
func Pack(dir string) ([]byte, error) {
	files, err := ReadFiles(dir)
	if err != nil {
		return nil, err
	}
	out, err := Assemble(files)
	if err != nil {
		return nil, fmt.Errorf("task folder %s: %w", dir, err)
	}
	return out, nil
}

// Load reads a task in either form: a folder (packed) or a JSON export file.
func Load(path string) (*task.Task, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load task: %w", err)
	}
	var data []byte
	if st.IsDir() {
		data, err = Pack(path)
	} else {
		if st.Size() > maxFileSize {
			return nil, fmt.Errorf("load task %s: larger than %d bytes", path, maxFileSize)
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("load task: %w", err)
	}
	t, err := task.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
