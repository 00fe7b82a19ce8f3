package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers (a log sink).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLoggedService runs the service with its pipeline in-process,
// logging at level into the returned buffer.
func startLoggedService(t *testing.T, level slog.Level, o PipelineOptions) (*Service, *client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})),
		NewPipeline: StandardPipeline(withLoopback(o)),
		Previewer:   NewPreviewer(),
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, serveInProcess(t, svc, nil), logs
}

// TestRunawayTaskPaused: a task that fans out events to itself is paused
// by the event-rate guard; the API shows the task disabled with the
// reason, the log says so at WARN, and enabling it clears the pause.
func TestRunawayTaskPaused(t *testing.T) {
	_, c, logs := startLoggedService(t, slog.LevelWarn, PipelineOptions{MaxChildEventsPerMinute: 20})
	script := `{% for i in (1..10) %}{% action "event", topic: "user/fan/out", data: i, task_id: task.id %}{% endfor %}`
	doc := map[string]any{"name": "Fan out", "script": script, "subscriptions": []string{"mechanic/user/trigger", "user/fan/out"}, "options": map[string]any{}}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	var task map[string]any
	eventually(t, 20*time.Second, "the runaway task to be paused", func() bool {
		task = c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)
		return task["enabled"] == false
	})
	p, ok := task["paused"].(map[string]any)
	if !ok || !strings.Contains(p["reason"].(string), "event-rate guard") || p["paused_at"] == nil {
		t.Fatalf("paused task answers paused=%v", task["paused"])
	}
	failed := c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+id+"&status=failed", nil)["task_runs"].([]any)
	guarded := 0
	for _, f := range failed {
		if strings.Contains(f.(map[string]any)["error"].(string), "event-rate guard") {
			guarded++
		}
	}
	if guarded == 0 {
		t.Fatalf("no failed run names the guard: %v", failed)
	}
	eventually(t, 5*time.Second, "the pause in the log", func() bool {
		return strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "runaway task paused") && strings.Contains(logs.String(), id)
	})
	on := c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	if on["enabled"] != true {
		t.Fatal("enable failed")
	}
	if _, still := c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)["paused"]; still {
		t.Fatal("enabled task still shows its pause")
	}
}
