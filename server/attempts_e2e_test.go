package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKilledActionAttemptHistory kills `sprocket serve` with SIGKILL
// while its http action is in flight (the loopback sink holds the first
// request), restarts it on the same data directory and checks that the
// action run is performed again once the dead process's lease ends, that
// both sends carried the same Idempotency-Key, and that the run's record
// tells the story: attempt 1 interrupted, attempt 2 success,
// reperformed_after_interruption true.
func TestKilledActionAttemptHistory(t *testing.T) {
	bin := buildBinary(t)
	var (
		mu       sync.Mutex
		keys     []string
		first    = make(chan struct{})
		release  = make(chan struct{})
		sinkDone = make(chan struct{}, 8)
	)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		if n == 1 {
			close(first)
			<-release // the process performing this attempt is killed meanwhile
			return
		}
		w.WriteHeader(http.StatusOK)
		sinkDone <- struct{}{}
	}))
	defer sink.Close()
	defer close(release)

	script := `{% action "http" %}{"method": "post", "url": {{ "` + sink.URL + `/hook" | json }}, "body": {"n": {{ event.data.n | json }}}}{% endaction %}`
	file := writeTask(t, map[string]any{
		"name": "Forward", "script": script, "options": map[string]any{},
		"subscriptions": []string{"user/orders/new"}, "subscriptions_template": "user/orders/new",
	})
	dir := t.TempDir()
	p := startServe(t, bin, dir, "--run-lease", "2s")
	c := &client{t: t, base: p.base, token: testToken}
	importTasks(t, bin, p.base, file)
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Orders", "topic": "user/orders/new"})
	resp, err := http.Post(p.base+wh["url"].(string), "application/json", strings.NewReader(`{"n": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("webhook status %d", resp.StatusCode)
	}
	select {
	case <-first:
	case <-time.After(60 * time.Second):
		t.Fatalf("the http action never reached the sink\n%s", p.logTail())
	}
	p.kill()

	p2 := startServe(t, bin, dir, "--run-lease", "2s")
	c2 := &client{t: t, base: p2.base, token: testToken}
	select {
	case <-sinkDone:
	case <-time.After(60 * time.Second):
		t.Fatalf("the interrupted action was not performed again\n%s", p2.logTail())
	}
	var acts []any
	eventually(t, 60*time.Second, "the action run to succeed", func() bool {
		acts = c2.want(http.StatusOK, "GET", "/v1/action_runs?status=success", nil)["action_runs"].([]any)
		return len(acts) == 1
	})
	id := acts[0].(map[string]any)["id"].(string)
	run := c2.want(http.StatusOK, "GET", "/v1/action_runs/"+id, nil)
	p2.stop()

	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("Idempotency-Key of the sends = %q, want the same non-empty key twice", keys)
	}
	if run["reperformed_after_interruption"] != true || run["attempts"] != 2.0 {
		t.Errorf("run: reperformed_after_interruption = %v, attempts = %v; want true, 2", run["reperformed_after_interruption"], run["attempts"])
	}
	hist, _ := run["attempts_history"].([]any)
	if len(hist) != 2 {
		t.Fatalf("attempts_history = %v, want 2 attempts", run["attempts_history"])
	}
	a1, a2 := hist[0].(map[string]any), hist[1].(map[string]any)
	if a1["attempt"] != 1.0 || a1["outcome"] != "interrupted" || a1["finished_at"] == nil || a1["error"] == nil || a1["node_id"] == nil {
		t.Errorf("attempt 1 = %v, want interrupted, finished, with an error and a node", a1)
	}
	if a2["attempt"] != 2.0 || a2["outcome"] != "success" || a2["finished_at"] == nil || a2["error"] != nil || a2["node_id"] == a1["node_id"] {
		t.Errorf("attempt 2 = %v, want success on the new process", a2)
	}
}
