package server

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileScript keeps 1 MiB strings in an array until something stops it:
// without a memory budget a run would hold 400 MiB.
const hostileScript = `{% assign s = "0123456789abcdef" %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}` +
	`{% assign keep = array %}{% for i in (1..400) %}{% assign t = s | append: i %}{% assign keep = keep | push: t %}{% endfor %}` +
	`{% log kept: keep.size %}`

// TestMemoryCeiling is the proof of the memory budgets, through the real
// binary: `sprocket serve --memory-limit 1GiB`, a hostile task that hoards
// strings triggered by 32 concurrent webhooks, and a light task triggered
// by 8 more at the same time. Every hostile run must end with the memory
// limit error, every light run must succeed, and the process's peak
// resident memory (VmHWM) must stay under the ceiling.
func TestMemoryCeiling(t *testing.T) {
	bin := buildBinary(t)
	const ceiling = 1 << 30
	hostile := writeTask(t, map[string]any{
		"name": "Hoard memory", "script": hostileScript, "options": map[string]any{},
		"subscriptions": []string{"user/hoard/go"}, "subscriptions_template": "user/hoard/go",
	})
	light := writeTask(t, map[string]any{
		"name": "Light work", "script": `{% log n: event.data.n %}{% action "echo", n: event.data.n %}`, "options": map[string]any{},
		"subscriptions": []string{"user/light/go"}, "subscriptions_template": "user/light/go",
	})
	p := startServe(t, bin, t.TempDir(), "--memory-limit", "1GiB")
	c := &client{t: t, base: p.base, token: testToken}
	importTasks(t, bin, p.base, hostile, light)
	taskIDs := map[string]string{}
	for _, tk := range c.want(http.StatusOK, "GET", "/v1/tasks", nil)["tasks"].([]any) {
		tk := tk.(map[string]any)
		taskIDs[tk["name"].(string)] = tk["id"].(string)
	}
	hoardHook := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "hoard", "topic": "user/hoard/go", "data_mode": "auto"})["url"].(string)
	lightHook := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "light", "topic": "user/light/go", "data_mode": "auto"})["url"].(string)

	const nHostile, nLight = 32, 8
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, nHostile+nLight)
	post := func(url string, n int) {
		defer wg.Done()
		resp, err := http.Post(p.base+url, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
		if err != nil {
			errs <- err
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			errs <- fmt.Errorf("webhook %s: status %d", url, resp.StatusCode)
		}
	}
	for i := range nHostile + nLight {
		wg.Add(1)
		if i%5 == 4 && i/5 < nLight {
			go post(lightHook, i)
		} else {
			go post(hoardHook, i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	runs := func(task string) []map[string]any {
		var out []map[string]any
		for _, r := range c.want(http.StatusOK, "GET", "/v1/task_runs?limit=1000&task_id="+taskIDs[task], nil)["task_runs"].([]any) {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	done := func(rs []map[string]any) int {
		n := 0
		for _, r := range rs {
			if r["status"] == "success" || r["status"] == "failed" {
				n++
			}
		}
		return n
	}
	eventually(t, 5*time.Minute, "every run to finish", func() bool {
		return done(runs("Hoard memory")) == nHostile && done(runs("Light work")) == nLight
	})
	elapsed := time.Since(start)
	for _, r := range runs("Hoard memory") {
		msg, _ := r["error"].(string)
		if r["status"] != "failed" || !strings.Contains(msg, "memory limit exceeded") || !strings.Contains(msg, "256 MiB") {
			t.Errorf("hostile run %v: status %v, error %q; want failed with the memory limit of 256 MiB", r["id"], r["status"], msg)
		}
	}
	for _, r := range runs("Light work") {
		if r["status"] != "success" {
			t.Errorf("light run %v: status %v, error %v", r["id"], r["status"], r["error"])
		}
	}
	hwm := procStatusBytes(t, p.cmd.Process.Pid, "VmHWM")
	rss := procStatusBytes(t, p.cmd.Process.Pid, "VmRSS")
	t.Logf("%d hostile + %d light runs finished in %v; peak RSS (VmHWM) %.0f MiB, RSS now %.0f MiB, ceiling %d MiB",
		nHostile, nLight, elapsed.Round(time.Millisecond), float64(hwm)/(1<<20), float64(rss)/(1<<20), ceiling>>20)
	if hwm >= ceiling {
		t.Errorf("peak RSS %d bytes reached the 1 GiB ceiling", hwm)
	}
	p.stop()
}

// procStatusBytes reads a "kB" field of /proc/<pid>/status.
func procStatusBytes(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the process status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 2 && fields[1] == "kB" {
			n, err := strconv.ParseInt(fields[0], 10, 64)
			if err == nil {
				return n << 10
			}
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}
