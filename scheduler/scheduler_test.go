package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests need zones even where the system has none
)

type fired struct{ topic, data string }

type recordingEmitter struct {
	mu     sync.Mutex
	events []fired
	fail   error
}

func (e *recordingEmitter) Emit(_ context.Context, topic string, data any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail != nil {
		return e.fail
	}
	e.events = append(e.events, fired{topic, data.(string)})
	return nil
}

func (e *recordingEmitter) take() []fired {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.events
	e.events = nil
	return out
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestScheduler(t *testing.T, store Store, em Emitter, loc *time.Location, topics ...string) *Scheduler {
	t.Helper()
	if len(topics) == 0 {
		topics = nil
	}
	s, err := New(Config{Store: store, Emitter: em, Location: loc, Topics: topics, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestPrevNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	kolkata := mustLoc(t, "Asia/Kolkata")
	havana := mustLoc(t, "America/Havana")
	tests := []struct {
		topic      string
		loc        *time.Location
		at         string
		prev, next string
	}{
		{Topic10Min, time.UTC, "2026-11-23T10:47:13Z", "2026-11-23T10:40:00Z", "2026-11-23T10:50:00Z"},
		{Topic10Min, time.UTC, "2026-11-23T10:50:00Z", "2026-11-23T10:50:00Z", "2026-11-23T11:00:00Z"},
		{Topic15Min, time.UTC, "2026-11-23T10:47:13Z", "2026-11-23T10:45:00Z", "2026-11-23T11:00:00Z"},
		{Topic20Min, time.UTC, "2026-11-23T10:47:13Z", "2026-11-23T10:40:00Z", "2026-11-23T11:00:00Z"},
		{Topic30Min, time.UTC, "2026-11-23T10:29:59Z", "2026-11-23T10:00:00Z", "2026-11-23T10:30:00Z"},
		{TopicHourly, time.UTC, "2026-11-23T10:47:13Z", "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z"},
		// Half-hour offset: local hours start at :30 UTC, and 20-minute
		// slots follow the local clock too.
		{TopicHourly, kolkata, "2026-11-23T10:47:13Z", "2026-11-23T10:30:00Z", "2026-11-23T11:30:00Z"},
		{Topic20Min, kolkata, "2026-11-23T10:47:13Z", "2026-11-23T10:30:00Z", "2026-11-23T10:50:00Z"},
		{TopicDaily, ny, "2026-11-23T10:47:13Z", "2026-11-23T00:00:00-05:00", "2026-11-24T00:00:00-05:00"},
		{TopicDaily, ny, "2026-11-23T04:59:59Z", "2026-11-22T00:00:00-05:00", "2026-11-23T00:00:00-05:00"},
		// 2026-11-23 is a Monday.
		{TopicMonday, ny, "2026-11-23T10:00:00Z", "2026-11-23T00:00:00-05:00", "2026-11-30T00:00:00-05:00"},
		{TopicSunday, ny, "2026-11-23T10:00:00Z", "2026-11-22T00:00:00-05:00", "2026-11-29T00:00:00-05:00"},
		{TopicSaturday, ny, "2026-11-23T10:00:00Z", "2026-11-21T00:00:00-05:00", "2026-11-28T00:00:00-05:00"},
		{TopicMonthly, ny, "2026-11-23T10:00:00Z", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"},
		{TopicMonthly, time.UTC, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		// Spring forward in New York (02:00 → 03:00): hourly skips the
		// missing hour.
		{TopicHourly, ny, "2026-03-08T06:30:00Z", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		// Havana skips midnight on 2026-03-08 (00:00 → 01:00): the day
		// starts at 01:00 daylight time.
		{TopicDaily, havana, "2026-03-08T12:00:00Z", "2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"},
		{TopicSunday, havana, "2026-03-08T12:00:00Z", "2026-03-08T01:00:00-04:00", "2026-03-15T00:00:00-04:00"},
		// Havana repeats midnight on 2026-11-01 (01:00 → 00:00): the day
		// starts at the first one.
		{TopicDaily, havana, "2026-11-01T05:30:00Z", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%s/%s", tt.topic, tt.at, tt.loc), func(t *testing.T) {
			sc, err := scheduleFor(tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, tt.at)
			if got, want := sc.Prev(at, tt.loc), mustTime(t, tt.prev); !got.Equal(want) {
				t.Errorf("Prev = %s, want %s", got.In(tt.loc), want)
			}
			if got, want := sc.Next(at, tt.loc), mustTime(t, tt.next); !got.Equal(want) {
				t.Errorf("Next = %s, want %s", got.In(tt.loc), want)
			}
		})
	}
}

func TestUnknownTopic(t *testing.T) {
	_, err := New(Config{Store: &MemoryStore{}, Emitter: &recordingEmitter{}, Topics: []string{"mechanic/scheduler/weekly"}})
	if err == nil || !strings.Contains(err.Error(), "unknown scheduler topic") {
		t.Fatalf("New with unknown topic: err = %v", err)
	}
	_, err = New(Config{Store: &MemoryStore{}, Emitter: &recordingEmitter{}, Topics: []string{TopicDaily, TopicDaily}})
	if err == nil {
		t.Fatal("New with a duplicate topic succeeded")
	}
	if _, err := New(Config{Emitter: &recordingEmitter{}}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

// TestTicksFireOnce drives one scheduler through a sequence of ticks and
// checks exactly which events each tick emits.
func TestTicksFireOnce(t *testing.T) {
	store := &MemoryStore{}
	em := &recordingEmitter{}
	s := newTestScheduler(t, store, em, time.UTC)
	ctx := context.Background()
	steps := []struct {
		at   string
		want []fired
	}{
		// First start: everything is recorded as a baseline, nothing fires.
		{"2026-11-30T23:43:00Z", nil},
		{"2026-11-30T23:44:59Z", nil},
		{"2026-11-30T23:45:00Z", []fired{{Topic15Min, "2026-11-30T23:45:00Z"}}},
		{"2026-11-30T23:45:00Z", nil},
		{"2026-11-30T23:49:59Z", nil},
		{"2026-11-30T23:50:00.5Z", []fired{{Topic10Min, "2026-11-30T23:50:00Z"}}},
		{"2026-11-30T23:50:30Z", nil},
		// Midnight on Tuesday 1 December fires everything that is due.
		{"2026-12-01T00:00:01Z", []fired{
			{Topic10Min, "2026-12-01T00:00:00Z"},
			{Topic15Min, "2026-12-01T00:00:00Z"},
			{Topic20Min, "2026-12-01T00:00:00Z"},
			{Topic30Min, "2026-12-01T00:00:00Z"},
			{TopicHourly, "2026-12-01T00:00:00Z"},
			{TopicDaily, "2026-12-01T00:00:00Z"},
			{TopicTuesday, "2026-12-01T00:00:00Z"},
			{TopicMonthly, "2026-12-01T00:00:00Z"},
		}},
		{"2026-12-01T00:05:00Z", nil},
		{"2026-12-01T00:10:00Z", []fired{{Topic10Min, "2026-12-01T00:10:00Z"}}},
	}
	for i, st := range steps {
		if err := s.Tick(ctx, mustTime(t, st.at)); err != nil {
			t.Fatalf("step %d: Tick(%s): %v", i, st.at, err)
		}
		if got := em.take(); !slices.Equal(got, st.want) {
			t.Errorf("step %d: Tick(%s) fired %v, want %v", i, st.at, got, st.want)
		}
	}
}

func TestRestartDoesNotDoubleFire(t *testing.T) {
	store := &MemoryStore{}
	ctx := context.Background()
	em1 := &recordingEmitter{}
	s1 := newTestScheduler(t, store, em1, time.UTC, TopicHourly, Topic10Min)
	for _, at := range []string{"2026-11-23T09:55:00Z", "2026-11-23T10:00:00Z"} {
		if err := s1.Tick(ctx, mustTime(t, at)); err != nil {
			t.Fatal(err)
		}
	}
	want := []fired{{TopicHourly, "2026-11-23T10:00:00Z"}, {Topic10Min, "2026-11-23T10:00:00Z"}}
	if got := em1.take(); !slices.Equal(got, want) {
		t.Fatalf("first process fired %v, want %v", got, want)
	}
	// A second process with the same store, started in the same slot.
	em2 := &recordingEmitter{}
	s2 := newTestScheduler(t, store, em2, time.UTC, TopicHourly, Topic10Min)
	if err := s2.Tick(ctx, mustTime(t, "2026-11-23T10:03:00Z")); err != nil {
		t.Fatal(err)
	}
	if got := em2.take(); len(got) != 0 {
		t.Fatalf("restarted process fired %v in an already fired slot", got)
	}
	if err := s2.Tick(ctx, mustTime(t, "2026-11-23T10:10:00Z")); err != nil {
		t.Fatal(err)
	}
	if got, want := em2.take(), []fired{{Topic10Min, "2026-11-23T10:10:00Z"}}; !slices.Equal(got, want) {
		t.Fatalf("restarted process fired %v, want %v", got, want)
	}
}

func TestMissedSlotsFireOnceForMostRecent(t *testing.T) {
	store := &MemoryStore{}
	em := &recordingEmitter{}
	ny := mustLoc(t, "America/New_York")
	s := newTestScheduler(t, store, em, ny, Topic10Min, TopicHourly, TopicDaily, TopicMonday, TopicMonthly)
	ctx := context.Background()
	if err := s.Tick(ctx, mustTime(t, "2026-11-20T12:01:00-05:00")); err != nil {
		t.Fatal(err)
	}
	if got := em.take(); len(got) != 0 {
		t.Fatalf("baseline tick fired %v", got)
	}
	// Down from Friday noon until Tuesday 13:47.
	if err := s.Tick(ctx, mustTime(t, "2026-11-24T13:47:00-05:00")); err != nil {
		t.Fatal(err)
	}
	want := []fired{
		{Topic10Min, "2026-11-24T13:40:00-05:00"},
		{TopicHourly, "2026-11-24T13:00:00-05:00"},
		{TopicDaily, "2026-11-24T00:00:00-05:00"},
		{TopicMonday, "2026-11-23T00:00:00-05:00"},
	}
	if got := em.take(); !slices.Equal(got, want) {
		t.Fatalf("after downtime fired %v, want %v", got, want)
	}
	if err := s.Tick(ctx, mustTime(t, "2026-11-24T13:48:00-05:00")); err != nil {
		t.Fatal(err)
	}
	if got := em.take(); len(got) != 0 {
		t.Fatalf("second tick after downtime fired %v", got)
	}
}

// TestDST ticks every minute across a whole transition day (through the
// next midnight, so hourly counts that day's hours plus one) and counts the
// events of each topic.
func TestDST(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		from, to   string
		wantCounts map[string]int
		wantDaily  []string
	}{
		{
			// New York falls back 02:00 EDT → 01:00 EST: a 25-hour day.
			name: "new york fall back", zone: "America/New_York",
			from: "2026-10-31T23:30:00-04:00", to: "2026-11-02T00:00:00-05:00",
			wantCounts: map[string]int{TopicHourly: 26, TopicDaily: 2, Topic30Min: 51, TopicSunday: 1},
			wantDaily:  []string{"2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		},
		{
			// New York springs forward 02:00 EST → 03:00 EDT: a 23-hour day.
			name: "new york spring forward", zone: "America/New_York",
			from: "2026-03-07T23:30:00-05:00", to: "2026-03-09T00:00:00-04:00",
			wantCounts: map[string]int{TopicHourly: 24, TopicDaily: 2, Topic30Min: 47, TopicSunday: 1},
			wantDaily:  []string{"2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		},
		{
			// Havana skips midnight (00:00 CST → 01:00 CDT).
			name: "havana skipped midnight", zone: "America/Havana",
			from: "2026-03-07T23:30:00-05:00", to: "2026-03-09T00:00:00-04:00",
			wantCounts: map[string]int{TopicHourly: 24, TopicDaily: 2, TopicSunday: 1},
			wantDaily:  []string{"2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"},
		},
		{
			// Havana repeats midnight (01:00 CDT → 00:00 CST): daily once.
			name: "havana repeated midnight", zone: "America/Havana",
			from: "2026-10-31T23:30:00-04:00", to: "2026-11-02T00:00:00-05:00",
			wantCounts: map[string]int{TopicHourly: 26, TopicDaily: 2, TopicSunday: 1},
			wantDaily:  []string{"2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em := &recordingEmitter{}
			s := newTestScheduler(t, &MemoryStore{}, em, mustLoc(t, tt.zone), Topic30Min, TopicHourly, TopicDaily, TopicSunday)
			ctx := context.Background()
			end := mustTime(t, tt.to)
			for at := mustTime(t, tt.from); !at.After(end); at = at.Add(time.Minute) {
				if err := s.Tick(ctx, at); err != nil {
					t.Fatal(err)
				}
			}
			counts := map[string]int{}
			var daily []string
			for _, f := range em.take() {
				counts[f.topic]++
				if f.topic == TopicDaily {
					daily = append(daily, f.data)
				}
			}
			for topic, want := range tt.wantCounts {
				if counts[topic] != want {
					t.Errorf("%s fired %d times, want %d", topic, counts[topic], want)
				}
			}
			if !slices.Equal(daily, tt.wantDaily) {
				t.Errorf("daily fired for %v, want %v", daily, tt.wantDaily)
			}
		})
	}
}

func TestEmitFailureIsRetried(t *testing.T) {
	store := &MemoryStore{}
	em := &recordingEmitter{}
	s := newTestScheduler(t, store, em, time.UTC, TopicHourly)
	ctx := context.Background()
	if err := s.Tick(ctx, mustTime(t, "2026-11-23T09:30:00Z")); err != nil {
		t.Fatal(err)
	}
	em.fail = errors.New("queue is down")
	err := s.Tick(ctx, mustTime(t, "2026-11-23T10:00:00Z"))
	if err == nil || !strings.Contains(err.Error(), "queue is down") {
		t.Fatalf("Tick with failing emitter: err = %v", err)
	}
	if last, _, _ := store.LastFired(ctx, TopicHourly); !last.Equal(mustTime(t, "2026-11-23T09:00:00Z")) {
		t.Fatalf("failed slot was recorded: last = %s", last)
	}
	em.fail = nil
	if err := s.Tick(ctx, mustTime(t, "2026-11-23T10:01:00Z")); err != nil {
		t.Fatal(err)
	}
	if got, want := em.take(), []fired{{TopicHourly, "2026-11-23T10:00:00Z"}}; !slices.Equal(got, want) {
		t.Fatalf("retry fired %v, want %v", got, want)
	}
}

type failingStore struct{ MemoryStore }

func (f *failingStore) LastFired(_ context.Context, topic string) (time.Time, bool, error) {
	if topic == TopicHourly {
		return time.Time{}, false, errors.New("disk on fire")
	}
	return f.MemoryStore.LastFired(context.Background(), topic)
}

func TestStoreFailureDoesNotBlockOtherTopics(t *testing.T) {
	store := &failingStore{}
	em := &recordingEmitter{}
	s := newTestScheduler(t, store, em, time.UTC, TopicHourly, Topic10Min)
	ctx := context.Background()
	_ = s.Tick(ctx, mustTime(t, "2026-11-23T09:55:00Z"))
	err := s.Tick(ctx, mustTime(t, "2026-11-23T10:00:00Z"))
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the store error", err)
	}
	if got, want := em.take(), []fired{{Topic10Min, "2026-11-23T10:00:00Z"}}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

func TestSetLocation(t *testing.T) {
	em := &recordingEmitter{}
	s := newTestScheduler(t, &MemoryStore{}, em, time.UTC, TopicDaily)
	ctx := context.Background()
	if err := s.Tick(ctx, mustTime(t, "2026-11-23T03:00:00Z")); err != nil {
		t.Fatal(err)
	}
	s.SetLocation(mustLoc(t, "America/New_York"))
	if err := s.Tick(ctx, mustTime(t, "2026-11-23T05:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if got, want := em.take(), []fired{{TopicDaily, "2026-11-23T00:00:00-05:00"}}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

type fakeWait struct {
	d  time.Duration
	ch chan time.Time
}

type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan fakeWait
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- fakeWait{d, ch}
	return ch
}

func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func TestRunWithFakeClock(t *testing.T) {
	clock := &fakeClock{now: mustTime(t, "2026-11-23T09:58:30Z"), waits: make(chan fakeWait)}
	em := &recordingEmitter{}
	s, err := New(Config{
		Store: &MemoryStore{}, Emitter: em, Clock: clock, Logger: quietLogger(),
		Topics: []string{TopicHourly, Topic10Min}, MaxWait: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	wantWaits := []time.Duration{90 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i, want := range wantWaits {
		w := <-clock.waits
		if w.d != want {
			t.Errorf("wait %d = %s, want %s", i, w.d, want)
		}
		w.ch <- clock.advance(w.d)
	}
	<-clock.waits // Run is now waiting after the 10:20 tick.
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	want := []fired{
		{TopicHourly, "2026-11-23T10:00:00Z"}, {Topic10Min, "2026-11-23T10:00:00Z"},
		{Topic10Min, "2026-11-23T10:10:00Z"},
		{Topic10Min, "2026-11-23T10:20:00Z"},
	}
	if got := em.take(); !slices.Equal(got, want) {
		t.Fatalf("Run fired %v, want %v", got, want)
	}
}

func BenchmarkTick(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Store: &MemoryStore{}, Emitter: &recordingEmitter{}, Location: loc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 3, 0, 0, time.UTC)
	if err := s.Tick(ctx, at); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.Tick(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
}
