package store_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDs(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		version byte
	}{
		{"random", store.NewID(), '4'},
		{"time", store.NewTimeID(time.Now()), '7'},
		{"derived", store.DerivedID("run", "task"), '8'},
	}
	for _, tc := range tests {
		if !uuidRE.MatchString(tc.id) || tc.id[14] != tc.version {
			t.Errorf("%s id %q is not a version-%c UUID", tc.name, tc.id, tc.version)
		}
	}
	if store.NewID() == store.NewID() {
		t.Error("NewID repeats")
	}
	if store.DerivedID("a", "b") != store.DerivedID("a", "b") {
		t.Error("DerivedID is not deterministic")
	}
	for _, pair := range [][2][]string{{{"a", "b"}, {"ab"}}, {{"a", "bc"}, {"ab", "c"}}, {{"x"}, {"y"}}} {
		if store.DerivedID(pair[0]...) == store.DerivedID(pair[1]...) {
			t.Errorf("DerivedID(%q) == DerivedID(%q)", pair[0], pair[1])
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := store.NewTimeID(t0), store.NewTimeID(t0.Add(time.Millisecond))
	if a >= b {
		t.Errorf("NewTimeID not ordered by time: %s >= %s", a, b)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	c := store.EncodeCursor(at, "some-id|with-bar")
	gotT, gotID, err := store.DecodeCursor(c)
	if err != nil || !gotT.Equal(at) || gotID != "some-id|with-bar" {
		t.Fatalf("DecodeCursor = %v %q %v", gotT, gotID, err)
	}
	for _, bad := range []string{"!!", "bm9waXBl", "eHx5"} { // not base64, "nopipe", "x|y"
		if _, _, err := store.DecodeCursor(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPageLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, store.DefaultPageLimit}, {-3, store.DefaultPageLimit}, {7, 7}, {5000, store.MaxPageLimit}} {
		if got := (store.Page{Limit: tc.in}).EffectiveLimit(); got != tc.want {
			t.Errorf("EffectiveLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	s := store.RetrySchedule{time.Second, 2 * time.Second}
	for _, tc := range []struct {
		attempt int
		delay   time.Duration
		ok      bool
	}{{0, 0, false}, {1, time.Second, true}, {2, 2 * time.Second, true}, {3, 0, false}} {
		d, ok := s.Next(tc.attempt)
		if d != tc.delay || ok != tc.ok {
			t.Errorf("Next(%d) = %v %v, want %v %v", tc.attempt, d, ok, tc.delay, tc.ok)
		}
	}
	if s.MaxAttempts() != 3 {
		t.Errorf("MaxAttempts = %d", s.MaxAttempts())
	}
	if got := store.RunKind("x").Priority(); got != 0 || store.RunKind("x").Valid() {
		t.Errorf("unknown kind has priority %d", got)
	}
	if !store.StatusFailed.Finished() || store.StatusRunning.Finished() {
		t.Error("Finished is wrong")
	}
}

// memInserter records batches; it fails batches holding a "bad" topic.
type memInserter struct {
	mu      sync.Mutex
	batches [][]store.NewEvent
}

func (m *memInserter) InsertEvents(_ context.Context, evs []store.NewEvent) ([]store.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		if e.Topic == "bad" {
			return nil, errors.New("bad topic")
		}
		out[i] = store.Event{ID: e.ID, Topic: e.Topic}
	}
	m.batches = append(m.batches, slices.Clone(evs))
	return out, nil
}

func TestEventBatcher(t *testing.T) {
	m := &memInserter{}
	b := store.NewEventBatcher(m, store.BatcherOptions{MaxBatch: 10, MaxWait: 20 * time.Millisecond})
	var wg sync.WaitGroup
	results := make([]error, 30)
	for i := range 30 {
		wg.Go(func() {
			topic := "ok"
			if i == 7 {
				topic = "bad"
			}
			ev, err := b.Insert(t.Context(), store.NewEvent{Topic: topic})
			if err == nil && (ev.ID == "" || ev.Topic != "ok") {
				err = errors.New("wrong event back")
			}
			results[i] = err
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if (i == 7) != (err != nil) {
			t.Errorf("insert %d: err = %v", i, err)
		}
	}
	total := 0
	for _, batch := range m.batches {
		if len(batch) > 10 {
			t.Errorf("batch of %d exceeds MaxBatch", len(batch))
		}
		total += len(batch)
	}
	if total != 29 {
		t.Errorf("%d events stored, want 29", total)
	}
	if _, err := b.Insert(t.Context(), store.NewEvent{Topic: "ok"}); !errors.Is(err, store.ErrBatcherClosed) {
		t.Errorf("Insert after Close = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b2 := store.NewEventBatcher(m, store.BatcherOptions{})
	defer b2.Close()
	if _, err := b2.Insert(ctx, store.NewEvent{Topic: "ok"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Insert with cancelled ctx = %v", err)
	}
}
