package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// buildBinary builds cmd/sprocket into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sprocket binary")
	}
	bin := filepath.Join(t.TempDir(), "sprocket")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/sprocket")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running `sprocket serve`.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  string
	// token is the admin token printed on first start, if any.
	token string
	done  chan struct{} // closed when the process has exited
	err   error         // exit status, valid once done is closed
}

// startServe starts `sprocket serve` on a free loopback port with the
// test token as SPROCKET_API_TOKEN.
func startServe(t *testing.T, bin, dataDir string, args ...string) *proc {
	t.Helper()
	return startServeEnv(t, bin, dataDir, []string{"SPROCKET_API_TOKEN=" + testToken}, args...)
}

// startServeEnv starts `sprocket serve` on a free loopback port with extra
// environment variables.
func startServeEnv(t *testing.T, bin, dataDir string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Test sinks listen on loopback, which the network policy refuses
	// unless allowed.
	// Tests poll the API far faster than Mechanic's rate limits allow;
	// TestServeRateLimits turns them back on.
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn", "--rate-limits=false", "--allow-network", "127.0.0.0/8"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPROCKET_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, log: logPath, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if tok, ok := strings.CutPrefix(sc.Text(), "    spr_"); ok {
				p.token = "spr_" + tok
			}
			if rest, ok := strings.CutPrefix(sc.Text(), "sprocket: listening on "); ok {
				base, _, _ := strings.Cut(rest, " ")
				addr <- base
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case p.base = <-addr:
	case <-p.done:
		t.Fatalf("sprocket serve exited early: %v\n%s", p.err, p.logTail())
	case <-time.After(30 * time.Second):
		t.Fatalf("sprocket serve did not start\n%s", p.logTail())
	}
	return p
}

func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill sends SIGKILL (if still running) and waits for the process.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Fatalf("sprocket serve exited with %v after SIGTERM\n%s", p.err, p.logTail())
		}
	case <-time.After(30 * time.Second):
		p.t.Fatalf("sprocket serve did not stop after SIGTERM\n%s", p.logTail())
	}
}

// eventually polls cond every 50ms until it is true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeTask(t *testing.T, doc map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "task.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func importTasks(t *testing.T, bin, base string, files ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"tasks", "import", "--url", base, "--token", testToken, "--enable"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tasks import: %v\n%s", err, out)
	}
	return string(out)
}

type received struct {
	method, path, contentType string
	body                      []byte
}

// TestEndToEnd runs the whole path through the binary: a task imported
// with `sprocket tasks import`, a webhook created through the API, a JSON
// POST to the webhook, the task's http action hitting a loopback server
// with the rendered body, the mechanic/actions/perform event reaching the
// task with the response status in its log, and the API listing the event,
// the task runs and the action run as successful.
func TestEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	got := make(chan received, 8)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"accepted":true}`)
	}))
	defer target.Close()

	script := `{% if event.topic == "user/orders/new" %}
{% action "http" %}
{
  "method": "post",
  "url": {{ "` + target.URL + `/orders" | json }},
  "body": {
    "order": {{ event.data.id | json }},
    "note": {{ "Order " | append: event.data.name | append: " total " | append: event.data.total | json }}
  }
}
{% endaction %}
{% elsif event.topic == "mechanic/actions/perform" %}
{% log response_status: action.run.result.status, ok: action.run.ok %}
{% endif %}`
	file := writeTask(t, map[string]any{
		"name":                   "Forward new orders",
		"script":                 script,
		"subscriptions":          []string{"user/orders/new", "mechanic/actions/perform"},
		"subscriptions_template": "user/orders/new\nmechanic/actions/perform",
		"options":                map[string]any{},
	})

	p := startServe(t, bin, t.TempDir())
	c := &client{t: t, base: p.base, token: testToken}
	if out := importTasks(t, bin, p.base, file); !strings.Contains(out, "1 created") {
		t.Fatalf("import output: %s", out)
	}
	tasks := c.want(http.StatusOK, "GET", "/v1/tasks", nil)["tasks"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["enabled"] != true {
		t.Fatalf("tasks after import: %v", tasks)
	}
	taskID := tasks[0].(map[string]any)["id"].(string)
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "New orders", "topic": "user/orders/new", "data_mode": "auto"})

	resp, err := http.Post(p.base+wh["url"].(string), "application/json", strings.NewReader(`{"id": 1001, "name": "#1001", "total": "12.50"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("webhook status %d", resp.StatusCode)
	}

	select {
	case r := <-got:
		if r.method != "POST" || r.path != "/orders" || !strings.HasPrefix(r.contentType, "application/json") {
			t.Fatalf("loopback got %s %s (%s)", r.method, r.path, r.contentType)
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("loopback body %q: %v", r.body, err)
		}
		if body["order"] != 1001.0 || body["note"] != "Order #1001 total 12.50" {
			t.Fatalf("loopback body %s", r.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the http action never reached the loopback server\n%s", p.logTail())
	}

	var runs []any
	eventually(t, 30*time.Second, "two successful task runs", func() bool {
		runs = c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+taskID+"&status=success", nil)["task_runs"].([]any)
		return len(runs) == 2
	})
	evs := c.want(http.StatusOK, "GET", "/v1/events?topic=user/orders/new", nil)["events"].([]any)
	perf := c.want(http.StatusOK, "GET", "/v1/events?topic=mechanic/actions/perform", nil)["events"].([]any)
	if len(evs) != 1 || len(perf) != 1 {
		t.Fatalf("events: %d user/orders/new, %d mechanic/actions/perform; want 1 each", len(evs), len(perf))
	}
	orderEvent := evs[0].(map[string]any)
	performEvent := perf[0].(map[string]any)
	if performEvent["parent_id"] != orderEvent["id"] {
		t.Fatalf("perform event parent %v, want %v", performEvent["parent_id"], orderEvent["id"])
	}
	var performRun map[string]any
	for _, r := range runs {
		r := r.(map[string]any)
		if r["event_id"] == performEvent["id"] {
			performRun = r
		}
	}
	if performRun == nil {
		t.Fatalf("no task run for the perform event among %v", runs)
	}
	logs, _ := json.Marshal(performRun["logs"])
	if !bytes.Contains(logs, []byte("201")) {
		t.Fatalf("perform task run logs %s do not show the response status 201", logs)
	}
	actions := c.want(http.StatusOK, "GET", "/v1/action_runs?task_id="+taskID, nil)["action_runs"].([]any)
	if len(actions) != 1 {
		t.Fatalf("%d action runs, want 1", len(actions))
	}
	ar := actions[0].(map[string]any)
	if ar["status"] != "success" || ar["action"].(map[string]any)["type"] != "http" {
		t.Fatalf("action run %v", ar)
	}
	if res, _ := ar["result"].(map[string]any); res == nil || res["status"] != 201.0 {
		t.Fatalf("action run result %v", ar["result"])
	}
	evRuns := c.want(http.StatusOK, "GET", "/v1/event_runs?event_id="+orderEvent["id"].(string), nil)["event_runs"].([]any)
	if len(evRuns) != 1 || evRuns[0].(map[string]any)["status"] != "success" {
		t.Fatalf("event runs %v", evRuns)
	}

	// A succeeded action run cannot be retried (Mechanic's rule): the
	// request is not sent again.
	arID := ar["id"].(string)
	c.want(http.StatusConflict, "POST", "/v1/runs/"+arID+"/retry", nil)
	select {
	case r := <-got:
		t.Fatalf("a refused retry re-sent the request %s", r.body)
	case <-time.After(200 * time.Millisecond):
	}
	p.stop()
}

// TestDurability posts 2,000 webhooks while the server is killed with
// SIGKILL midway, restarts it on the same data directory and checks that
// every acknowledged request has exactly one event, that every event has
// exactly one event run and one task run per subscribed task, and that all
// runs finish.
func TestDurability(t *testing.T) {
	bin := buildBinary(t)
	const total, killAt, senders = 2000, 1000, 32
	dir := t.TempDir()
	var files []string
	for i, name := range []string{"Count orders", "Log orders"} {
		files = append(files, writeTask(t, map[string]any{
			"name":                   name,
			"script":                 fmt.Sprintf(`{%% log task: %d, n: event.data.n %%}`, i),
			"subscriptions":          []string{"user/orders/new"},
			"subscriptions_template": "user/orders/new",
			"options":                map[string]any{},
		}))
	}
	p := startServe(t, bin, dir, "--run-lease", "3s")
	c := &client{t: t, base: p.base, token: testToken}
	importTasks(t, bin, p.base, files...)
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Orders", "topic": "user/orders/new"})
	url := p.base + wh["url"].(string)

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var (
		acked   = make([]bool, total)
		nAcked  atomic.Int64
		nFailed atomic.Int64
		next    atomic.Int64
		once    sync.Once
		wg      sync.WaitGroup
	)
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				resp, err := hc.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, i)))
				if err != nil {
					nFailed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					nFailed.Add(1)
					continue
				}
				acked[i] = true
				if nAcked.Add(1) >= killAt {
					once.Do(p.kill)
				}
			}
		})
	}
	wg.Wait()
	if nAcked.Load() < killAt || nAcked.Load() == total {
		t.Fatalf("acked %d of %d: the kill did not land mid-way", nAcked.Load(), total)
	}

	p2 := startServe(t, bin, dir, "--run-lease", "3s")
	c2 := &client{t: t, base: p2.base, token: testToken}
	eventually(t, 90*time.Second, "the queue to drain", func() bool {
		st := c2.want(http.StatusOK, "GET", "/v1/shop/status", nil)
		return st["waiting"] == 0.0 && st["running"] == 0.0 && st["scheduled"] == 0.0
	})
	p2.stop()

	st, err := sqlite.Open(context.Background(), dir, sqlite.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	perN := make(map[int]int)
	var events, taskRuns, unfinished int
	pg := store.Page{Limit: store.MaxPageLimit}
	for {
		evs, next, err := st.ListEvents(ctx, store.EventFilter{Topic: "user/orders/new", Page: pg})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			events++
			var d struct{ N int }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatalf("event %s data %s: %v", e.ID, e.Data, err)
			}
			perN[d.N]++
			runs, _, err := st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Page: store.Page{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			byTask := map[string]int{}
			nEvent := 0
			for _, r := range runs {
				if !r.Status.Finished() {
					unfinished++
				}
				switch r.Kind {
				case store.KindEvent:
					nEvent++
				case store.KindTask:
					byTask[r.TaskID]++
					taskRuns++
					if r.Status != store.StatusSuccess {
						t.Errorf("task run %s: %s %s", r.ID, r.Status, r.Error)
					}
				}
			}
			if nEvent != 1 || len(byTask) != 2 {
				t.Fatalf("event %s (n=%d): %d event runs, task runs by task %v; want 1 and one per task", e.ID, d.N, nEvent, byTask)
			}
			for tid, n := range byTask {
				if n != 1 {
					t.Fatalf("event %s: task %s ran %d times", e.ID, tid, n)
				}
			}
		}
		if next == "" {
			break
		}
		pg.Cursor = next
	}
	missing := 0
	for i, ok := range acked {
		switch {
		case ok && perN[i] == 0:
			missing++
		case perN[i] > 1:
			t.Errorf("request %d has %d events", i, perN[i])
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged requests have no event", missing)
	}
	if unfinished > 0 {
		t.Fatalf("%d runs did not finish", unfinished)
	}
	t.Logf("durability: %d requests, %d acknowledged (2xx), %d failed at or after the kill; %d events stored (%d committed without an ack); %d task runs (2 per event), all finished",
		total, nAcked.Load(), nFailed.Load(), events, events-int(nAcked.Load()), taskRuns)
}

// TestImportLibrary imports the whole task library directory in one
// command, directly into a data directory, twice (the second time creates
// nothing), then serves that directory and lists the tasks, all disabled.
func TestImportLibrary(t *testing.T) {
	lib := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(lib, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks in %s, want 360", len(files), lib)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func() string {
		out, err := exec.Command(bin, "tasks", "import", "-q", "--data", dir, lib).CombinedOutput()
		if err != nil {
			t.Fatalf("tasks import: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	n := len(files)
	if got, want := run(), fmt.Sprintf("imported %d tasks from %d files: %d created, 0 already present, 0 failed", n, n, n); got != want {
		t.Fatalf("first import: %q, want %q", got, want)
	}
	if got, want := run(), fmt.Sprintf("imported %d tasks from %d files: 0 created, %d already present, 0 failed", n, n, n); got != want {
		t.Fatalf("second import: %q, want %q", got, want)
	}
	p := startServe(t, bin, dir)
	c := &client{t: t, base: p.base, token: testToken}
	tasks := c.want(http.StatusOK, "GET", "/v1/tasks?limit=1000", nil)["tasks"].([]any)
	if len(tasks) != n {
		t.Fatalf("listed %d tasks, want %d", len(tasks), n)
	}
	for _, x := range tasks {
		if x.(map[string]any)["enabled"] != false {
			t.Fatalf("imported task enabled: %v", x.(map[string]any)["name"])
		}
	}
	p.stop()
}

// TestFirstStartToken starts the binary without SPROCKET_API_TOKEN: the
// first start prints a new admin token once and keeps only its hash; a
// restart prints nothing and still accepts the token.
func TestFirstStartToken(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startServeEnv(t, bin, dir, nil)
	if p.token == "" {
		t.Fatal("first start printed no token")
	}
	c := &client{t: t, base: p.base, token: p.token}
	c.want(http.StatusOK, "GET", "/v1/tasks", nil)
	bad := &client{t: t, base: p.base, token: p.token + "x"}
	bad.want(http.StatusUnauthorized, "GET", "/v1/tasks", nil)
	p.stop()
	stored, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), p.token) {
		t.Fatal("the token itself is stored")
	}
	p2 := startServeEnv(t, bin, dir, nil)
	if p2.token != "" {
		t.Fatal("restart printed a token again")
	}
	c.base = p2.base
	c.want(http.StatusOK, "GET", "/v1/tasks", nil)
	p2.stop()
}
