package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTasksDirHotReload runs `sprocket serve --tasks-dir` on a folder with
// one task folder: the task is loaded enabled and marked as managed; an
// edited script runs within a second; a broken script keeps the previous
// version running and reports the error; API edits are refused; deleting
// the folder disables the task.
func TestTasksDirHotReload(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	taskDir := filepath.Join(dir, "ping")
	if err := os.MkdirAll(taskDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(taskDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("task.json", `{"docs": null, "name": "Ping", "options": {}, "subscriptions": ["user/ping/test"], "subscriptions_template": "user/ping/test"}`+"\n")
	write("script.liquid", `{% log version: "one", data: event.data %}`)
	p := startServe(t, bin, t.TempDir(), "--tasks-dir", dir)
	c := &client{t: t, base: p.base, token: testToken}

	tasks := c.want(http.StatusOK, "GET", "/v1/tasks", nil)["tasks"].([]any)
	if len(tasks) != 1 {
		t.Fatalf("tasks: %v\n%s", tasks, p.logTail())
	}
	tk := tasks[0].(map[string]any)
	id, _ := tk["id"].(string)
	if tk["managed_by"] != "ping" || tk["enabled"] != true || tk["folder_error"] != nil {
		t.Fatalf("task not loaded enabled and managed: %v", tk)
	}

	// runLogs sends an event and returns the logs of its task run.
	n := 0
	runLogs := func() string {
		t.Helper()
		n++
		ev := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/ping/test", "data": n})
		evID, _ := ev["id"].(string)
		var logs string
		eventually(t, 30*time.Second, "the task run of event "+evID, func() bool {
			runs := c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+id+"&status=success", nil)["task_runs"].([]any)
			for _, r := range runs {
				r := r.(map[string]any)
				if r["event_id"] == evID {
					b, _ := json.Marshal(r["logs"])
					logs = string(b)
					return true
				}
			}
			return false
		})
		return logs
	}
	if logs := runLogs(); !strings.Contains(logs, `"one"`) {
		t.Fatalf("first run logs %s", logs)
	}

	scriptOf := func() string {
		got := c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)
		s, _ := got["script"].(string)
		return s
	}
	write("script.liquid", `{% log version: "two", data: event.data %}`)
	eventually(t, time.Second, "the edited script loaded within a second", func() bool { return strings.Contains(scriptOf(), `"two"`) })
	if logs := runLogs(); !strings.Contains(logs, `"two"`) {
		t.Fatalf("run after the edit logs %s", logs)
	}

	write("script.liquid", `{% if %}broken`)
	var folderErr string
	eventually(t, time.Second, "the broken script reported", func() bool {
		got := c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)
		folderErr, _ = got["folder_error"].(string)
		return folderErr != ""
	})
	if !strings.Contains(folderErr, "syntax") || !strings.Contains(scriptOf(), `"two"`) {
		t.Fatalf("broken file: folder_error %q, script %q", folderErr, scriptOf())
	}
	if logs := runLogs(); !strings.Contains(logs, `"two"`) {
		t.Fatalf("run with a broken file logs %s; want the previous version", logs)
	}
	if !strings.Contains(p.logTail(), "previous version keeps running") {
		t.Errorf("log does not report the broken file:\n%s", p.logTail())
	}

	out := c.want(http.StatusConflict, "PUT", "/v1/tasks/"+id, map[string]any{"name": "X", "script": "", "subscriptions": []string{}, "options": map[string]any{}, "force": true})
	if msg, _ := errorField(t, out); !strings.Contains(msg, "managed by the tasks folder") {
		t.Errorf("PUT answer %v", out)
	}
	c.want(http.StatusConflict, "POST", "/v1/tasks/"+id+"/disable", nil)
	c.want(http.StatusConflict, "DELETE", "/v1/tasks/"+id, nil)

	write("script.liquid", `{% log version: "three" %}`)
	eventually(t, time.Second, "the fixed script loaded", func() bool { return strings.Contains(scriptOf(), `"three"`) })

	if err := os.RemoveAll(taskDir); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the deleted task disabled", func() bool {
		return c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)["enabled"] == false
	})
}
