package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// taskPack implements "sprocket task pack DIR": the task export of a task
// folder on stdout.
func taskPack(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprintln(stdout, "usage: sprocket task pack DIR > task.json")
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: sprocket task pack DIR > task.json")
		return exitInvalid
	}
	out, err := taskdir.Pack(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "sprocket task pack: %v\n", err)
		return exitInvalid
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "sprocket task pack: %v\n", err)
		return exitRunFailed
	}
	return 0
}

// taskUnpack implements "sprocket task unpack TASK.json DIR".
func taskUnpack(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: sprocket task unpack TASK.json DIR"
	if wantsHelp(args) {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	if len(args) != 2 {
		fmt.Fprintln(stderr, usage)
		return exitInvalid
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "sprocket task unpack: %v\n", err)
		return exitInvalid
	}
	if err := taskdir.Unpack(data, args[1]); err != nil {
		fmt.Fprintf(stderr, "sprocket task unpack: %s: %v\n", args[0], err)
		return exitInvalid
	}
	return 0
}

// exportMaxPages bounds the pages "tasks export" reads from the API.
const exportMaxPages = 10000

// runTasksExport implements "sprocket tasks export --url URL DIR": every
// task of a running service, written as DIR/<handle>.json or, with
// --folders, as DIR/<handle>/ in the folder form.
func runTasksExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", os.Getenv("SPROCKET_URL"), "service base URL, e.g. http://127.0.0.1:8080 (env SPROCKET_URL)")
	token := fs.String("token", "", "API token (default: env SPROCKET_API_TOKEN)")
	folders := fs.Bool("folders", false, "write each task as a folder (task.json, script.liquid, docs.md, ...) instead of one JSON file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sprocket tasks export --url URL [--folders] DIR\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	pos, err := splitArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || *base == "" {
		fs.Usage()
		return 2
	}
	if *token == "" {
		*token = os.Getenv("SPROCKET_API_TOKEN")
	}
	if *token == "" {
		fmt.Fprintln(stderr, "sprocket tasks export: --url needs --token or SPROCKET_API_TOKEN")
		return 2
	}
	dir := pos[0]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "sprocket tasks export: %v\n", err)
		return 1
	}
	api := &apiImporter{base: strings.TrimRight(*base, "/"), token: *token, client: &http.Client{Timeout: time.Minute}}
	used := map[string]bool{}
	n, failed := 0, 0
	cursor := ""
	for page := 0; page < exportMaxPages; page++ {
		path := "/v1/tasks?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		_, body, err := api.do(ctx, http.MethodGet, path, nil, "")
		if err != nil {
			fmt.Fprintf(stderr, "sprocket tasks export: %v\n", err)
			return 1
		}
		var list struct {
			Tasks      []json.RawMessage `json:"tasks"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			fmt.Fprintf(stderr, "sprocket tasks export: GET %s: %v\n", path, err)
			return 1
		}
		for _, raw := range list.Tasks {
			name, export, err := exportDocument(raw)
			if err != nil {
				fmt.Fprintf(stderr, "sprocket tasks export: %v\n", err)
				failed++
				continue
			}
			h := uniqueHandle(handleOf(name), used)
			target := filepath.Join(dir, h+".json")
			if *folders {
				target = filepath.Join(dir, h)
				err = taskdir.Unpack(export, target)
			} else {
				err = os.WriteFile(target, export, 0o644)
			}
			if err != nil {
				fmt.Fprintf(stderr, "sprocket tasks export: %s: %v\n", name, err)
				failed++
				continue
			}
			fmt.Fprintln(stdout, target)
			n++
		}
		if list.NextCursor == "" {
			break
		}
		cursor = list.NextCursor
	}
	fmt.Fprintf(stderr, "exported %d tasks, %d failed\n", n, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// exportDocument turns one task of the API's task list into a task export,
// keeping only the fields of a task document.
func exportDocument(raw json.RawMessage) (string, []byte, error) {
	v, err := value.FromJSON(raw)
	if err != nil {
		return "", nil, fmt.Errorf("task list: %w", err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		return "", nil, errors.New("task list: an element is not an object")
	}
	id, _ := m.Get("id")
	doc := value.NewMap(m.Len())
	for _, f := range task.Fields() {
		if fv, ok := m.Get(f); ok {
			doc.Set(f, fv)
		}
	}
	compact, err := value.ToJSON(doc)
	if err != nil {
		return "", nil, fmt.Errorf("task %v: %w", id, err)
	}
	t, err := task.Parse(compact)
	if err != nil {
		return "", nil, fmt.Errorf("task %v: %w", id, err)
	}
	out, err := t.Export()
	return t.Name, out, err
}

var nonHandle = regexp.MustCompile(`[^a-z0-9]+`)

// handleOf makes a file name from a task name, as the library's handles.
func handleOf(name string) string {
	h := strings.Trim(nonHandle.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(h) > 80 {
		h = strings.TrimRight(h[:80], "-")
	}
	if h == "" {
		h = "task"
	}
	return h
}

func uniqueHandle(h string, used map[string]bool) string {
	out := h
	for i := 2; used[out]; i++ {
		out = fmt.Sprintf("%s-%d", h, i)
	}
	used[out] = true
	return out
}
