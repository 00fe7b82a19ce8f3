package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewHandler(t *testing.T) {
	tests := []struct {
		format string
		check  func(line string) bool
	}{
		{"text", func(l string) bool {
			return strings.Contains(l, "level=WARN") && strings.Contains(l, `msg="run failed"`)
		}},
		{"json", func(l string) bool {
			var m map[string]any
			return json.Unmarshal([]byte(l), &m) == nil && m["level"] == "WARN" && m["msg"] == "run failed"
		}},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		h, err := NewHandler(&buf, slog.LevelWarn, tc.format)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(h)
		log.Info("dropped below the level")
		log.Warn("run failed", "run", "r1")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 1 || !tc.check(lines[0]) {
			t.Errorf("%s: %q", tc.format, buf.String())
		}
	}
	if _, err := NewHandler(&bytes.Buffer{}, slog.LevelInfo, "xml"); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("level loud accepted")
	}
	if l, err := ParseLevel("warn"); err != nil || l != slog.LevelWarn {
		t.Errorf("ParseLevel(warn) = %v, %v", l, err)
	}
}

// TestRateLimit: a warning repeated in a burst is written up to the burst
// size; once the rate allows again, the next line says how many were
// suppressed. Other messages and lower levels are not affected.
func TestRateLimit(t *testing.T) {
	var buf bytes.Buffer
	base, _ := NewHandler(&buf, slog.LevelDebug, "json")
	h := RateLimit(base, 3, time.Second).(*limited)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.l.now = func() time.Time { return now }
	log := slog.New(h).With("component", "test")
	for range 100 {
		log.Warn("store write failed")
		log.Info("request")
	}
	log.Error("another failure")
	now = now.Add(time.Second)
	log.Warn("store write failed")

	var warn, info, other int
	var suppressed float64
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch m["msg"] {
		case "store write failed":
			warn++
			if s, ok := m["suppressed"].(float64); ok {
				suppressed = s
			}
		case "request":
			info++
		case "another failure":
			other++
		}
	}
	if warn != 4 || suppressed != 97 || info != 100 || other != 1 {
		t.Errorf("warn %d (suppressed %v), info %d, other %d; want 4 (97), 100, 1", warn, suppressed, info, other)
	}
}
