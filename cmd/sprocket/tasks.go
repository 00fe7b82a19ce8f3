package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// tasksUsage is the help of "sprocket tasks".
const tasksUsage = `usage: sprocket tasks import [flags] DIR|FILE...
       sprocket tasks export --url URL [--folders] DIR

Imports Mechanic task JSON files (or directories of them) through the API
(--url) or straight into a stopped service's data directory (--data).
Run "sprocket tasks import --help" for the flags.`

// runTasks implements "sprocket tasks <subcommand>".
func runTasks(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "import" {
		return runTasksImport(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "export" {
		return runTasksExport(ctx, args[1:], stdout, stderr)
	}
	if wantsHelp(args) {
		fmt.Fprintln(stdout, tasksUsage)
		return 0
	}
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, tasksUsage)
		return 2
	}
	return runTasksImport(ctx, args[1:], stdout, stderr)
}

// importer stores one task and reports its id and whether it was new.
type importer interface {
	importTask(ctx context.Context, t *task.Task, key string, enable bool) (id string, created bool, err error)
}

// runTasksImport imports task JSON files (one task or an array of tasks
// each) and directories of them (*.json, not recursive), either through
// the API (--url) or directly into a data directory (--data). Each task's
// idempotency key is derived from its content, so importing the same file
// twice creates nothing the second time.
func runTasksImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", os.Getenv("SPROCKET_URL"), "service base URL, e.g. http://127.0.0.1:8080 (env SPROCKET_URL); empty imports directly into --data")
	token := fs.String("token", "", "API token (default: env SPROCKET_API_TOKEN)")
	data := fs.String("data", envOr("SPROCKET_DATA", server.DefaultDataDir), "data directory for a direct import (env SPROCKET_DATA)")
	enable := fs.Bool("enable", false, "enable the imported tasks (tasks are imported disabled)")
	quiet := fs.Bool("q", false, "print only the summary")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sprocket tasks import [flags] DIR|FILE...\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	files, err := taskFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "sprocket tasks import: %v\n", err)
		return 1
	}
	var imp importer
	if *url != "" {
		if *token == "" {
			*token = os.Getenv("SPROCKET_API_TOKEN")
		}
		if *token == "" {
			fmt.Fprintln(stderr, "sprocket tasks import: --url needs --token or SPROCKET_API_TOKEN")
			return 2
		}
		imp = &apiImporter{base: strings.TrimRight(*url, "/"), token: *token, client: &http.Client{Timeout: time.Minute}}
	} else {
		st, err := sqlite.Open(ctx, *data)
		if err != nil {
			fmt.Fprintf(stderr, "sprocket tasks import: %v\n", err)
			return 1
		}
		defer st.Close()
		imp = storeImporter{st: st}
	}
	var created, existing, failed int
	for _, f := range files {
		raw, err := readTaskSource(f)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f, err)
			failed++
			continue
		}
		tasks, err := task.ParseAll(raw)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f, err)
			failed++
			continue
		}
		for i, t := range tasks {
			def, err := t.MarshalJSON()
			if err != nil {
				fmt.Fprintf(stderr, "%s[%d]: %v\n", f, i, err)
				failed++
				continue
			}
			sum := sha256.Sum256(def)
			key := store.DerivedID("task-import", hex.EncodeToString(sum[:]))
			id, isNew, err := imp.importTask(ctx, t, key, *enable)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %q: %v\n", f, t.Name, err)
				failed++
				continue
			}
			state := "created"
			if isNew {
				created++
			} else {
				existing++
				state = "exists "
			}
			if !*quiet {
				fmt.Fprintf(stdout, "%s %s %s\n", state, id, t.Name)
			}
		}
	}
	fmt.Fprintf(stdout, "imported %d tasks from %d files: %d created, %d already present, %d failed\n",
		created+existing, len(files), created, existing, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// readTaskSource reads a task JSON file, or packs a task folder.
func readTaskSource(path string) ([]byte, error) {
	if taskdir.IsDir(path) {
		return taskdir.Pack(path)
	}
	return os.ReadFile(path)
}

// taskFiles expands the arguments: files and task folders as given, other
// directories to their *.json files and task folders in name order.
func taskFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", a, err)
		}
		if !info.IsDir() || taskdir.IsDir(a) {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", a, err)
		}
		subs, err := filepath.Glob(filepath.Join(a, "*", taskdir.MetaFile))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", a, err)
		}
		for _, s := range subs {
			if d := filepath.Dir(s); taskdir.IsDir(d) {
				m = append(m, d)
			}
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

// storeImporter imports directly into a store.
type storeImporter struct {
	st store.Store
}

func (s storeImporter) importTask(ctx context.Context, t *task.Task, key string, enable bool) (string, bool, error) {
	if err := server.ResolveSubscriptions(ctx, t); err != nil {
		return "", false, err
	}
	got, created, err := server.CreateTask(ctx, s.st, t, key)
	if err != nil {
		return "", false, err
	}
	if enable && !got.Enabled {
		got.Enabled = true
		if _, err := s.st.UpdateTask(ctx, got); err != nil {
			return "", false, fmt.Errorf("enable task: %w", err)
		}
	}
	return got.ID, created, nil
}

// apiImporter imports through POST /v1/tasks.
type apiImporter struct {
	base   string
	token  string
	client *http.Client
}

// maxRateLimitWaits bounds how often one request waits out a 429.
const maxRateLimitWaits = 20

// do sends one API request; a 429 answer (the API's rate limits) is
// waited out for its Retry-After and the request sent again.
func (a *apiImporter) do(ctx context.Context, method, path string, body []byte, key string) (int, []byte, error) {
	for i := 0; ; i++ {
		status, b, wait, err := a.once(ctx, method, path, body, key)
		if status != http.StatusTooManyRequests || i >= maxRateLimitWaits {
			return status, b, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case <-t.C:
		}
	}
}

// once sends one API request; for a 429 it also returns how long to wait.
func (a *apiImporter) once(ctx context.Context, method, path string, body []byte, key string) (int, []byte, time.Duration, error) {
	status, b, hdr, err := a.roundTrip(ctx, method, path, body, key)
	if status != http.StatusTooManyRequests {
		return status, b, 0, err
	}
	wait := time.Second
	if n, perr := strconv.Atoi(hdr.Get("Retry-After")); perr == nil && n > 0 {
		wait = time.Duration(min(n, 120)) * time.Second
	}
	return status, b, wait, err
}

func (a *apiImporter) roundTrip(ctx context.Context, method, path string, body []byte, key string) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return resp.StatusCode, b, resp.Header, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error.Message)
		}
		return resp.StatusCode, b, resp.Header, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return resp.StatusCode, b, resp.Header, nil
}

func (a *apiImporter) importTask(ctx context.Context, t *task.Task, key string, enable bool) (string, bool, error) {
	def, err := t.MarshalJSON()
	if err != nil {
		return "", false, err
	}
	status, body, err := a.do(ctx, http.MethodPost, "/v1/tasks", def, key)
	if err != nil {
		return "", false, err
	}
	var got struct {
		ID      string `json:"id"`
		Enabled bool   `json:"enabled"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.ID == "" {
		return "", false, fmt.Errorf("POST /v1/tasks: unexpected answer %.200q", body)
	}
	if enable && !got.Enabled {
		if _, _, err := a.do(ctx, http.MethodPost, "/v1/tasks/"+got.ID+"/enable", nil, ""); err != nil {
			return "", false, err
		}
	}
	return got.ID, status == http.StatusCreated, nil
}
