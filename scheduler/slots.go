package scheduler

import (
	"fmt"
	"time"
)

// Scheduler topic names, as documented in the Mechanic event topic list.
const (
	Topic10Min     = "mechanic/scheduler/10min"
	Topic15Min     = "mechanic/scheduler/15min"
	Topic20Min     = "mechanic/scheduler/20min"
	Topic30Min     = "mechanic/scheduler/30min"
	TopicHourly    = "mechanic/scheduler/hourly"
	TopicDaily     = "mechanic/scheduler/daily"
	TopicMonday    = "mechanic/scheduler/monday"
	TopicTuesday   = "mechanic/scheduler/tuesday"
	TopicWednesday = "mechanic/scheduler/wednesday"
	TopicThursday  = "mechanic/scheduler/thursday"
	TopicFriday    = "mechanic/scheduler/friday"
	TopicSaturday  = "mechanic/scheduler/saturday"
	TopicSunday    = "mechanic/scheduler/sunday"
	TopicMonthly   = "mechanic/scheduler/monthly"
)

// DefaultTopics returns every documented scheduler topic, in the order the
// scheduler fires them when several fall due at the same instant.
func DefaultTopics() []string {
	return []string{
		Topic10Min, Topic15Min, Topic20Min, Topic30Min, TopicHourly,
		TopicDaily,
		TopicMonday, TopicTuesday, TopicWednesday, TopicThursday, TopicFriday, TopicSaturday, TopicSunday,
		TopicMonthly,
	}
}

// schedule describes when one topic falls due. Sub-daily schedules
// (every > 0) fire at each instant whose local wall-clock minute is a
// multiple of every (60 means on the hour); day-based schedules fire at the
// first instant of each local calendar day accepted by day.
type schedule struct {
	topic string
	every int
	day   func(d civil) bool
}

// civil is a calendar date without a time zone.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// add returns the date n days after c (n may be negative).
func (c civil) add(n int) civil {
	return civilOf(time.Date(c.y, c.m, c.d+n, 12, 0, 0, 0, time.UTC))
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (c civil) before(o civil) bool {
	if c.y != o.y {
		return c.y < o.y
	}
	if c.m != o.m {
		return c.m < o.m
	}
	return c.d < o.d
}

// scheduleFor returns the schedule of a documented scheduler topic.
func scheduleFor(topic string) (schedule, error) {
	weekday := func(w time.Weekday) func(civil) bool {
		return func(d civil) bool { return d.weekday() == w }
	}
	switch topic {
	case Topic10Min:
		return schedule{topic: topic, every: 10}, nil
	case Topic15Min:
		return schedule{topic: topic, every: 15}, nil
	case Topic20Min:
		return schedule{topic: topic, every: 20}, nil
	case Topic30Min:
		return schedule{topic: topic, every: 30}, nil
	case TopicHourly:
		return schedule{topic: topic, every: 60}, nil
	case TopicDaily:
		return schedule{topic: topic, day: func(civil) bool { return true }}, nil
	case TopicMonday:
		return schedule{topic: topic, day: weekday(time.Monday)}, nil
	case TopicTuesday:
		return schedule{topic: topic, day: weekday(time.Tuesday)}, nil
	case TopicWednesday:
		return schedule{topic: topic, day: weekday(time.Wednesday)}, nil
	case TopicThursday:
		return schedule{topic: topic, day: weekday(time.Thursday)}, nil
	case TopicFriday:
		return schedule{topic: topic, day: weekday(time.Friday)}, nil
	case TopicSaturday:
		return schedule{topic: topic, day: weekday(time.Saturday)}, nil
	case TopicSunday:
		return schedule{topic: topic, day: weekday(time.Sunday)}, nil
	case TopicMonthly:
		return schedule{topic: topic, day: func(d civil) bool { return d.d == 1 }}, nil
	}
	return schedule{}, fmt.Errorf("scheduler: unknown scheduler topic %q", topic)
}

// isSlot reports whether t is a firing instant of a sub-daily schedule.
func (s schedule) isSlot(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	return lt.Second() == 0 && lt.Nanosecond() == 0 && lt.Minute()%s.every == 0
}

// Prev returns the most recent firing instant at or before t.
func (s schedule) Prev(t time.Time, loc *time.Location) time.Time {
	if s.every > 0 {
		lt := t.In(loc)
		c := t.Add(-time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond()))
		// Offsets change on whole minutes, so stepping back minute by minute
		// finds the slot; at most an hour plus a transition is scanned.
		for i := 0; i < 3*60; i++ {
			if s.isSlot(c, loc) {
				return c
			}
			c = c.Add(-time.Minute)
		}
		return c
	}
	d := civilOf(t.In(loc))
	for i := 0; i < 400; i++ {
		if s.day(d) {
			if start := dayStart(d, loc); !start.After(t) {
				return start
			}
		}
		d = d.add(-1)
	}
	return dayStart(d, loc)
}

// Next returns the earliest firing instant strictly after t.
func (s schedule) Next(t time.Time, loc *time.Location) time.Time {
	if s.every > 0 {
		c := s.Prev(t, loc)
		for i := 0; i < 3*60; i++ {
			c = c.Add(time.Minute)
			if c.After(t) && s.isSlot(c, loc) {
				return c
			}
		}
		return c
	}
	d := civilOf(t.In(loc))
	for i := 0; i < 400; i++ {
		d = d.add(1)
		if s.day(d) {
			if start := dayStart(d, loc); start.After(t) {
				return start
			}
		}
	}
	return dayStart(d, loc)
}

// dayStart returns the first instant whose local date in loc is d or later.
// This is local midnight, except on days where midnight is skipped by a
// daylight-saving jump (then it is the first wall-clock time that exists),
// and on days where midnight repeats (then it is the earlier one).
func dayStart(d civil, loc *time.Location) time.Time {
	guess := time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc).Unix()
	// Offsets never move by more than a day, so the window brackets the
	// answer: lo is still on an earlier date and hi is on d or later.
	lo, hi := guess-30*3600, guess+30*3600
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if civilOf(time.Unix(mid, 0).In(loc)).before(d) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}
