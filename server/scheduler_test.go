package server

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// fakeClock is a scheduler.Clock and store.Clock that moves only when told.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	added   chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, added: make(chan struct{}, 64)}
}

// Now returns the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock passed now+d.
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	select {
	case c.added <- struct{}{}:
	default:
	}
	return ch
}

// Set moves the clock to t, wakes the waiters that are due and returns
// how many it woke.
func (c *fakeClock) Set(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	woken := 0
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
			woken++
			continue
		}
		keep = append(keep, w)
	}
	c.waiters = keep
	return woken
}

// advance sets the clock and, if that woke the scheduler, waits until it
// is done ticking.
func (c *fakeClock) advance(t *testing.T, to time.Time) {
	t.Helper()
	if c.Set(to) > 0 {
		c.waitIdle(t)
	}
}

// waitIdle waits until the scheduler sleeps on the clock again.
func (c *fakeClock) waitIdle(t *testing.T) {
	t.Helper()
	select {
	case <-c.added:
	case <-time.After(10 * time.Second):
		t.Fatal("scheduler did not go back to sleep")
	}
}

// runService serves the service on a loopback port until the returned stop is called.
func runService(t *testing.T, svc *Service) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

// schedulerCounts counts stored scheduler events by topic.
func schedulerCounts(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, topic := range []string{"10min", "15min", "20min", "30min", "hourly", "daily"} {
		evs, _, err := st.ListEvents(context.Background(), store.EventFilter{Topic: "mechanic/scheduler/" + topic, Page: store.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		out[topic] = len(evs)
	}
	return out
}

// TestSchedulerThroughService drives the service's scheduler with a fake
// clock: each slot fires once, repeated ticks in a slot do nothing, and a
// restart on the same data directory does not fire a slot again.
func TestSchedulerThroughService(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 2, 23, 55, 0, 0, time.UTC)
	clock := newFakeClock(start)
	open := func() (*Service, func()) {
		svc, err := Open(context.Background(), Config{DataDir: dir, APIToken: testToken, Clock: clock, StoreClock: clock, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		stop := runService(t, svc)
		clock.waitIdle(t) // first tick done: baselines recorded
		return svc, func() {
			stop()
			if err := svc.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		at   time.Time
		want map[string]int
	}{
		// 23:55 baseline: nothing fires on a fresh install.
		{start.Add(time.Minute), map[string]int{}},
		// Midnight: every topic has a slot.
		{start.Add(5 * time.Minute), map[string]int{"10min": 1, "15min": 1, "20min": 1, "30min": 1, "hourly": 1, "daily": 1}},
		// Later in the same slot: nothing new.
		{start.Add(9 * time.Minute), map[string]int{"10min": 1, "15min": 1, "20min": 1, "30min": 1, "hourly": 1, "daily": 1}},
		// 00:10: only the 10min topic.
		{start.Add(15 * time.Minute), map[string]int{"10min": 2, "15min": 1, "20min": 1, "30min": 1, "hourly": 1, "daily": 1}},
	}
	svc, closeSvc := open()
	for i, s := range steps {
		clock.advance(t, s.at)
		got := schedulerCounts(t, svc.Store())
		for topic, n := range got {
			if n != s.want[topic] {
				t.Fatalf("step %d (%s): %s fired %d times, want %d", i, s.at.Format(time.TimeOnly), topic, n, s.want[topic])
			}
		}
	}
	closeSvc()

	// Restart at the same instant: nothing fires twice.
	svc, closeSvc = open()
	defer closeSvc()
	want := map[string]int{"10min": 2, "15min": 1, "20min": 1, "30min": 1, "hourly": 1, "daily": 1}
	if got := schedulerCounts(t, svc.Store()); !equalCounts(got, want) {
		t.Fatalf("after restart: %v, want %v", got, want)
	}
	// 00:20 after the restart: 10min and 20min fire for 00:20, 15min for
	// the 00:15 slot it missed while down.
	clock.advance(t, start.Add(25*time.Minute))
	want = map[string]int{"10min": 3, "15min": 2, "20min": 2, "30min": 1, "hourly": 1, "daily": 1}
	if got := schedulerCounts(t, svc.Store()); !equalCounts(got, want) {
		t.Fatalf("after restart at 00:20: %v, want %v", got, want)
	}
	// Each scheduler event has exactly one event run.
	evs, _, err := svc.Store().ListEvents(context.Background(), store.EventFilter{Topic: "mechanic/scheduler/10min"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		runs, _, err := svc.Store().ListRuns(context.Background(), store.RunFilter{EventID: e.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Kind != store.KindEvent {
			t.Fatalf("event %s (%s) has runs %v, want one event run", e.ID, e.Data, runs)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
