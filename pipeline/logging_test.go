package pipeline

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// logSink collects JSON log lines.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the records with message msg.
func (s *logSink) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestFailureLogs: a run failed for good is logged at WARN with its task,
// run id and error; a run whose automatic retries ran out at ERROR; a
// limit hit at WARN.
func TestFailureLogs(t *testing.T) {
	sink := &logSink{}
	h := newHarness(t, withConfig(func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c.RetrySchedule = store.RetrySchedule{10 * time.Millisecond, 10 * time.Millisecond}
		c.MaxActions = 2
	}))
	h.register("flaky", &flaky{failures: 100})
	bad := h.task("bad", []string{"user/a/b"}, `{"error":"missing config"}`, taskOpts{})
	retried := h.task("retried", []string{"user/c/d"}, `{"action":{"type":"flaky","options":{}}}`, taskOpts{})
	many := h.task("many", []string{"user/e/f"}, strings.Repeat(`{"action":{"type":"echo","options":{}}}`, 3), taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	h.event("user/c/d", `{}`)
	h.event("user/e/f", `{}`)
	h.waitFor("the flaky action to fail for good", func() bool {
		rs := h.runs(store.RunFilter{TaskID: retried.ID, Kind: store.KindAction})
		return len(rs) == 1 && rs[0].Status == store.StatusFailed
	})
	h.waitIdle()

	tests := []struct {
		msg, level, task, errPart string
		n                         int
	}{
		{"pipeline: run failed", "WARN", bad.ID, "missing config", 1},
		{"pipeline: run failed; automatic retries exhausted", "ERROR", retried.ID, "flaky failure 3", 1},
		{"pipeline: run attempt failed; it will be retried", "INFO", retried.ID, "flaky failure", 2},
		{"pipeline: limit hit", "WARN", many.ID, "more than the limit of 2", 1},
	}
	for _, tc := range tests {
		var got []map[string]any
		for _, l := range sink.lines(t, tc.msg) {
			if l["task"] == tc.task {
				got = append(got, l)
			}
		}
		if len(got) != tc.n {
			t.Errorf("%q for task %s: %d lines, want %d", tc.msg, tc.task, len(got), tc.n)
			continue
		}
		for _, l := range got {
			if l["level"] != tc.level || !strings.Contains(l["err"].(string), tc.errPart) {
				t.Errorf("%q: level %v err %v", tc.msg, l["level"], l["err"])
			}
			if tc.msg != "pipeline: limit hit" && (l["run"] == "" || l["run"] == nil || l["kind"] == nil) {
				t.Errorf("%q without run id or kind: %v", tc.msg, l)
			}
		}
	}
}
