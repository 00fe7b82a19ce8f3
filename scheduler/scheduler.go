// Package scheduler fires Sprocket's scheduler events
// (mechanic/scheduler/10min, …/hourly, …/daily, …/monday, …/monthly and the
// rest of the documented set) in the shop's time zone.
//
// # Slots
//
// Each topic has a series of firing instants ("slots"):
//
//   - 10min, 15min, 20min, 30min: every instant whose local wall-clock minute
//     is a multiple of the interval (so 10min fires at :00, :10, … :50);
//   - hourly: every instant whose local wall-clock minute is 0, so in a zone
//     with a half-hour offset it fires at :30 UTC; an hour that repeats when
//     clocks fall back fires twice (it is a real hour), one skipped when they
//     spring forward does not fire;
//   - daily: the first instant of each local calendar day, that is local
//     midnight, or the first existing wall-clock time when a daylight-saving
//     jump skips midnight; a midnight that occurs twice fires once, the first
//     time;
//   - monday … sunday: the daily slot of that weekday;
//   - monthly: the daily slot of the 1st of each month.
//
// # Exactly once, restarts and downtime
//
// The last fired slot of every topic is kept in a Store. A tick fires a topic
// only when its most recent slot is later than the stored one, and the store
// records the new slot and emits the event in one transaction (MarkFired), so
// a slot fires once even when the process restarts or several ticks land in
// the same slot.
//
// Mechanic's documentation does not say what happens to slots missed while
// the scheduler was down. Sprocket fires each topic once for the most recent
// missed slot when it comes back, and skips the older ones (they are logged);
// so after a two-day outage "daily" fires once, for today's midnight, not
// twice. When a topic has no stored slot at all (a fresh install, or a topic
// this version adds), the current slot is recorded as a baseline without
// firing: like Mechanic, a new schedule first fires at its next slot (a
// monthly task installed on the 23rd waits for the 1st).
//
// # Event data
//
// Mechanic documents scheduler event data only as "minimal"; a library task
// ("auto-tag-products-with-their-category") passes event.data for
// mechanic/scheduler/daily to the date filter. Sprocket therefore sets event
// data to the slot time as an RFC 3339 string in the shop's time zone, for
// example "2026-03-08T00:00:00-05:00".
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrAlreadyFired is returned by Store.MarkFired when the stored slot for the
// topic is already at or after the given slot; the scheduler treats it as
// "another tick or process got there first".
var ErrAlreadyFired = errors.New("scheduler: slot already fired")

// Store persists the last fired slot of each topic.
type Store interface {
	// LastFired returns the last slot recorded for topic; ok is false when
	// none was ever recorded.
	LastFired(ctx context.Context, topic string) (slot time.Time, ok bool, err error)
	// MarkFired records slot as the last fired slot of topic and, when emit
	// is not nil, calls emit in the same transaction: if emit fails nothing
	// is recorded and its error is returned. The context passed to emit may
	// carry the store's transaction. MarkFired must check atomically that
	// slot is later than the recorded slot, and return ErrAlreadyFired
	// without calling emit otherwise. A nil emit records a baseline.
	MarkFired(ctx context.Context, topic string, slot time.Time, emit func(ctx context.Context) error) error
}

// Emitter creates scheduler events.
type Emitter interface {
	// Emit creates an event with the given topic and data; it returns once
	// the event is committed (or, when ctx carries a store transaction, once
	// it is part of it).
	Emit(ctx context.Context, topic string, data any) error
}

// Clock tells the time and waits; SystemClock is the real one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the Clock backed by the time package.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Scheduler.
type Config struct {
	// Store persists the last fired slot per topic (required).
	Store Store
	// Emitter creates the events (required).
	Emitter Emitter
	// Location is the shop's time zone; nil means UTC.
	Location *time.Location
	// Topics lists the topics to fire; nil means DefaultTopics().
	Topics []string
	// Clock drives Run; nil means SystemClock.
	Clock Clock
	// Logger receives the scheduler's logs; nil means slog.Default().
	Logger *slog.Logger
	// RetryDelay is how long Run waits after a failed tick before trying
	// again; zero means 30 seconds.
	RetryDelay time.Duration
	// MaxWait caps how long Run sleeps between ticks, so that a wall-clock
	// change or a suspended machine is noticed; zero means one minute.
	MaxWait time.Duration
}

// Scheduler fires scheduler events; create it with New.
type Scheduler struct {
	store      Store
	emitter    Emitter
	schedules  []schedule
	clock      Clock
	log        *slog.Logger
	retryDelay time.Duration
	maxWait    time.Duration

	mu  sync.Mutex
	loc *time.Location
}

// New validates cfg and returns a Scheduler.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("scheduler: Config.Store is required")
	}
	if cfg.Emitter == nil {
		return nil, errors.New("scheduler: Config.Emitter is required")
	}
	topics := cfg.Topics
	if topics == nil {
		topics = DefaultTopics()
	}
	s := &Scheduler{
		store:      cfg.Store,
		emitter:    cfg.Emitter,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		retryDelay: cfg.RetryDelay,
		maxWait:    cfg.MaxWait,
		loc:        cfg.Location,
	}
	seen := make(map[string]bool, len(topics))
	for _, t := range topics {
		if seen[t] {
			return nil, fmt.Errorf("scheduler: topic %q listed twice", t)
		}
		seen[t] = true
		sc, err := scheduleFor(t)
		if err != nil {
			return nil, err
		}
		s.schedules = append(s.schedules, sc)
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.retryDelay <= 0 {
		s.retryDelay = 30 * time.Second
	}
	if s.maxWait <= 0 {
		s.maxWait = time.Minute
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	return s, nil
}

// SetLocation changes the shop's time zone (nil means UTC); slots are
// computed in the new zone from the next tick on.
func (s *Scheduler) SetLocation(loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	s.mu.Lock()
	s.loc = loc
	s.mu.Unlock()
}

func (s *Scheduler) location() *time.Location {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loc
}

// Tick fires every topic whose most recent slot at or before now has not
// fired yet. It tries all topics even when some fail, and returns their
// errors joined.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	loc := s.location()
	var errs []error
	for _, sc := range s.schedules {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.tickTopic(ctx, sc, now, loc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) tickTopic(ctx context.Context, sc schedule, now time.Time, loc *time.Location) error {
	slot := sc.Prev(now, loc)
	last, ok, err := s.store.LastFired(ctx, sc.topic)
	if err != nil {
		return fmt.Errorf("scheduler: reading last slot of %s: %w", sc.topic, err)
	}
	if !ok {
		err := s.store.MarkFired(ctx, sc.topic, slot, nil)
		if err != nil && !errors.Is(err, ErrAlreadyFired) {
			return fmt.Errorf("scheduler: recording first slot of %s: %w", sc.topic, err)
		}
		s.log.InfoContext(ctx, "scheduler: topic starts; first event at its next slot",
			"topic", sc.topic, "baseline", slot, "next", sc.Next(now, loc))
		return nil
	}
	if !slot.After(last) {
		return nil
	}
	if missed := sc.Prev(slot.Add(-time.Nanosecond), loc); missed.After(last) {
		s.log.WarnContext(ctx, "scheduler: slots were missed while not running; firing only the most recent",
			"topic", sc.topic, "last_fired", last, "firing", slot)
	}
	data := slot.In(loc).Format(time.RFC3339)
	err = s.store.MarkFired(ctx, sc.topic, slot, func(ctx context.Context) error {
		return s.emitter.Emit(ctx, sc.topic, data)
	})
	if errors.Is(err, ErrAlreadyFired) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scheduler: firing %s for %s: %w", sc.topic, data, err)
	}
	s.log.InfoContext(ctx, "scheduler: fired", "topic", sc.topic, "slot", data)
	return nil
}

// NextSlot returns the earliest slot of any configured topic strictly after
// t, in the current time zone.
func (s *Scheduler) NextSlot(t time.Time) time.Time {
	loc := s.location()
	var next time.Time
	for i, sc := range s.schedules {
		if n := sc.Next(t, loc); i == 0 || n.Before(next) {
			next = n
		}
	}
	return next
}

// Run ticks at every slot until ctx is cancelled, and then returns
// ctx.Err(). A failed tick is logged and retried after the retry delay.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		now := s.clock.Now()
		var wait time.Duration
		if err := s.Tick(ctx, now); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.ErrorContext(ctx, "scheduler: tick failed; retrying", "error", err, "retry_in", s.retryDelay)
			wait = s.retryDelay
		}
		if len(s.schedules) > 0 {
			if untilNext := s.NextSlot(now).Sub(now); wait == 0 || untilNext < wait {
				wait = untilNext
			}
		}
		if wait <= 0 || wait > s.maxWait {
			wait = s.maxWait
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock.After(wait):
		}
	}
}

// MemoryStore is a Store kept in memory, for tests and single-process use
// where losing the state on restart is acceptable. The zero value is ready.
type MemoryStore struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// LastFired returns the last slot recorded for topic.
func (m *MemoryStore) LastFired(_ context.Context, topic string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.last[topic]
	return t, ok, nil
}

// MarkFired records slot for topic after emit succeeds, holding the lock
// across emit so that concurrent callers cannot both fire the slot.
func (m *MemoryStore) MarkFired(ctx context.Context, topic string, slot time.Time, emit func(ctx context.Context) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.last[topic]; ok && !slot.After(last) {
		return ErrAlreadyFired
	}
	if emit != nil {
		if err := emit(ctx); err != nil {
			return err
		}
	}
	if m.last == nil {
		m.last = make(map[string]time.Time)
	}
	m.last[topic] = slot
	return nil
}
