package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFilesActionServed: a task's files action stores its files and the
// service serves them at the URLs of the action run's result; ftp and
// files are registered.
func TestFilesActionServed(t *testing.T) {
	_, c := startPipelineService(t)
	doc := map[string]any{
		"name":          "Make files",
		"script":        `{% action "files" %}{"journal.txt": "hello world!", "data.bin": {"base64": "AAEC/w=="}}{% endaction %}`,
		"subscriptions": []string{"mechanic/user/trigger"},
		"options":       map[string]any{},
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	var result map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for result == nil {
		runs := c.want(http.StatusOK, "GET", "/v1/action_runs?task_id="+id, nil)["action_runs"].([]any)
		if len(runs) == 1 {
			ar := runs[0].(map[string]any)
			if ar["status"] == "success" {
				result, _ = ar["result"].(map[string]any)
			} else if ar["status"] == "failed" || ar["status"] == "error" {
				t.Fatalf("files action run: %v", ar)
			}
		}
		if result == nil && time.Now().After(deadline) {
			t.Fatalf("no successful files action run: %v", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, want := range map[string]string{"journal.txt": "hello world!", "data.bin": "\x00\x01\x02\xff"} {
		f, _ := result[name].(map[string]any)
		u, _ := f["url"].(string)
		if !strings.HasPrefix(u, "/files/") || f["size"] != float64(len(want)) {
			t.Fatalf("result for %s: %v", name, f)
		}
		resp, err := http.Get(c.base + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("GET %s = %d %q, want %q", u, resp.StatusCode, body, want)
		}
	}
}
