package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeLogs runs the binary with --log-format json: every log line is
// a JSON object; a webhook rejected for its signature is logged at WARN
// with the reason and never the body; a failed task run at WARN with its
// task, run id and error. --log-json still works; a bad format is refused.
func TestServeLogs(t *testing.T) {
	bin := buildBinary(t)
	p := startServe(t, bin, t.TempDir(), "--log-format", "json", "--log-level", "info")
	c := &client{t: t, base: p.base, token: testToken}
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{
		"name": "signed", "topic": "user/signed/in", "secret": "s3cret", "signature_header": "X-Signature",
	})
	resp, err := http.Post(p.base+wh["url"].(string), "application/json", strings.NewReader(`{"card":"4111-SECRET-BODY"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned webhook: %d", resp.StatusCode)
	}
	doc := map[string]any{"name": "Fails", "script": `{% error "bad input" %}`, "subscriptions": []string{"mechanic/user/trigger"}, "options": map[string]any{}}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})

	var rejected, failed map[string]any
	eventually(t, 20*time.Second, "the failed run in the log", func() bool {
		raw, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "SECRET-BODY") {
			t.Fatalf("the log contains the webhook body:\n%s", raw)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line is not JSON: %q", l)
			}
			switch m["msg"] {
			case "webhook: request rejected":
				rejected = m
			case "pipeline: run failed":
				failed = m
			}
		}
		return rejected != nil && failed != nil
	})
	if rejected["level"] != "WARN" || !strings.Contains(rejected["reason"].(string), "X-Signature") || rejected["status"] != 401.0 {
		t.Errorf("rejected webhook line %v", rejected)
	}
	if failed["level"] != "WARN" || failed["task"] != id || failed["run"] == nil || !strings.Contains(failed["err"].(string), "bad input") {
		t.Errorf("failed run line %v", failed)
	}
	p.stop()

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"serve", "--log-format", "xml"}, 2},
		{[]string{"serve", "--log-level", "loud"}, 2},
	} {
		if code := exitCode(t, bin, tc.args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
	q := startServe(t, bin, t.TempDir(), "--log-json", "--log-level", "info")
	q.stop()
	raw, _ := os.ReadFile(q.log)
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("--log-json line is not JSON: %q", l)
		}
	}
}

// exitCode runs the binary with args (no server data) and returns its exit code.
func exitCode(t *testing.T, bin string, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("%v: %v", args, err)
	return -1
}

// TestServeRateLimits: `sprocket serve` applies Mechanic's limits by
// default: the 121st API request within a minute from one IP answers 429
// with Retry-After, before the token is even checked.
func TestServeRateLimits(t *testing.T) {
	bin := buildBinary(t)
	// The failed-authentication bound (TestFailedAuthLimit) is off here:
	// these requests carry no token.
	p := startServe(t, bin, t.TempDir(), "--rate-limits=true", "--auth-failures-per-minute=0")
	for i := 1; i <= 121; i++ {
		resp, err := http.Get(p.base + "/v1/tasks")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusUnauthorized
		if i == 121 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
		if i == 121 && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	p.stop()
}
