package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// TestReadyzQueueAge: on a real SQLite store with no pipeline working the
// queue, /readyz stays ready while the oldest due run is younger than the
// bound and reports the backlog (503, with the age) once it is older;
// with no bound it stays ready.
func TestReadyzQueueAge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		later  time.Duration // how long after the event the probe runs
		status int
	}{
		{"young backlog", time.Minute, 30 * time.Second, http.StatusOK},
		{"old backlog", time.Minute, 2 * time.Minute, http.StatusServiceUnavailable},
		{"no bound", 0, 24 * time.Hour, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, c := openTestService(t, Config{MaxQueueAge: tc.maxAge})
			c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/ready/age"})
			svc.ready.now = func() time.Time { return time.Now().Add(tc.later) }
			r := c.want(tc.status, "GET", "/readyz", nil)
			age, _ := r["queue_oldest_due_age_seconds"].(float64)
			if age < tc.later.Seconds()-5 || age > tc.later.Seconds()+5 {
				t.Errorf("queue_oldest_due_age_seconds = %v, want about %v", r["queue_oldest_due_age_seconds"], tc.later.Seconds())
			}
			if r["store_writable"] != true {
				t.Errorf("store_writable = %v", r["store_writable"])
			}
			msg, _ := r["error"].(string)
			if backlogged := strings.Contains(msg, "queue backlogged"); backlogged != (tc.status != http.StatusOK) {
				t.Errorf("error = %q", msg)
			}
		})
	}
}

// failingReadyStore refuses writes, or the queue read.
type failingReadyStore struct {
	writeErr, statsErr error
	oldest             time.Time
	writes             int
}

func (f *failingReadyStore) PutSetting(context.Context, store.SettingKind, string, json.RawMessage) (store.Setting, error) {
	f.writes++
	return store.Setting{}, f.writeErr
}

func (f *failingReadyStore) Stats(context.Context) (store.QueueStats, error) {
	return store.QueueStats{OldestDue: f.oldest}, f.statsErr
}

// TestReadinessChecks: a store refusing writes or its queue read is not
// ready, naming why; readings are reused for readyEvery.
func TestReadinessChecks(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		st     *failingReadyStore
		maxAge time.Duration
		want   string // "" for ready
	}{
		{"healthy", &failingReadyStore{}, 10 * time.Minute, ""},
		{"read-only store", &failingReadyStore{writeErr: errors.New("attempt to write a readonly database")}, 0, "store does not take writes: attempt to write a readonly database"},
		{"queue unreadable", &failingReadyStore{statsErr: errors.New("connection reset")}, 0, "queue unreadable: connection reset"},
		{"backlog", &failingReadyStore{oldest: now.Add(-11 * time.Minute)}, 10 * time.Minute, "queue backlogged: the oldest due run has waited 11m0s, over the bound of 10m0s"},
		{"within bound", &failingReadyStore{oldest: now.Add(-9 * time.Minute)}, 10 * time.Minute, ""},
		{"backlog without a bound", &failingReadyStore{oldest: now.Add(-24 * time.Hour)}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReadiness(tt.st, tt.maxAge)
			clock := now
			r.now = func() time.Time { return clock }
			if got := r.problem(r.check(context.Background())); got != tt.want {
				t.Errorf("problem = %q, want %q", got, tt.want)
			}
			clock = clock.Add(readyEvery / 2)
			r.check(context.Background())
			if tt.st.writes != 1 {
				t.Errorf("%d probe writes within %v, want 1", tt.st.writes, readyEvery)
			}
			clock = clock.Add(readyEvery)
			r.check(context.Background())
			if tt.st.writes != 2 {
				t.Errorf("%d probe writes after %v, want 2", tt.st.writes, readyEvery)
			}
		})
	}
}
