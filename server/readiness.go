package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// readyEvery is how long one reading of the write probe and the queue is
// reused, so that frequent probes cost one write and one queue count a
// second.
const readyEvery = time.Second

// settingReadiness holds the row /readyz rewrites to prove the store
// takes writes: one row for every node (it never grows).
const settingReadiness store.SettingKind = "readiness_probe"

// readyStore is what the readiness checks need of the store.
type readyStore interface {
	PutSetting(ctx context.Context, kind store.SettingKind, key string, value json.RawMessage) (store.Setting, error)
	Stats(ctx context.Context) (store.QueueStats, error)
}

// readiness checks that the store takes writes and that the queue's
// oldest due run has waited at most maxAge, reusing a reading for
// readyEvery.
type readiness struct {
	st     readyStore
	maxAge time.Duration // <= 0: no bound (the age is still reported)
	now    func() time.Time

	mu      sync.Mutex
	at      time.Time
	reading readyReading
}

// readyReading is one reading of the checks.
type readyReading struct {
	writeErr error         // nil: the probe row was written
	statsErr error         // nil: the queue was read
	age      time.Duration // of the oldest due run
}

func newReadiness(st readyStore, maxAge time.Duration) *readiness {
	return &readiness{st: st, maxAge: maxAge, now: time.Now}
}

// check returns the current reading, taking a new one when the last is
// older than readyEvery.
func (r *readiness) check(ctx context.Context) readyReading {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.at.IsZero() && now.Sub(r.at) < readyEvery {
		return r.reading
	}
	var rd readyReading
	raw, _ := json.Marshal(map[string]any{"at": now.UTC()})
	if _, err := r.st.PutSetting(ctx, settingReadiness, "probe", raw); err != nil {
		rd.writeErr = fmt.Errorf("store does not take writes: %w", err)
	}
	if qs, err := r.st.Stats(ctx); err != nil {
		rd.statsErr = fmt.Errorf("queue unreadable: %w", err)
	} else if !qs.OldestDue.IsZero() {
		rd.age = max(0, now.Sub(qs.OldestDue))
	}
	r.at, r.reading = now, rd
	return rd
}

// problem returns why the reading is not ready, or "" when it is.
func (r *readiness) problem(rd readyReading) string {
	switch {
	case rd.writeErr != nil:
		return rd.writeErr.Error()
	case rd.statsErr != nil:
		return rd.statsErr.Error()
	case r.maxAge > 0 && rd.age > r.maxAge:
		return fmt.Sprintf("queue backlogged: the oldest due run has waited %v, over the bound of %v", rd.age.Round(time.Second), r.maxAge)
	}
	return ""
}
