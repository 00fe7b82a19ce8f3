package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Unit is the unit of a subscription offset, in its plural form.
type Unit string

// The offset units Mechanic accepts, singular or plural ("+1.hour",
// "+2.hours") (docs: core/tasks/subscriptions.md, "Offsets").
const (
	Seconds Unit = "seconds"
	Minutes Unit = "minutes"
	Hours   Unit = "hours"
	Days    Unit = "days"
	Weeks   Unit = "weeks"
	Months  Unit = "months"
	Years   Unit = "years"
)

// unitSeconds gives each unit's length in seconds. Months and years use the
// average lengths Ruby on Rails' ActiveSupport::Duration uses (a month is
// 1/12 of 365.2425 days); RunAt uses calendar arithmetic instead.
var unitSeconds = map[Unit]int64{
	Seconds: 1,
	Minutes: 60,
	Hours:   3600,
	Days:    86400,
	Weeks:   7 * 86400,
	Months:  2629746,
	Years:   31556952,
}

// parseUnit accepts a unit in singular or plural form.
func parseUnit(s string) (Unit, bool) {
	u := Unit(s)
	if _, ok := unitSeconds[u]; ok {
		return u, true
	}
	u = Unit(s + "s")
	if _, ok := unitSeconds[u]; ok {
		return u, true
	}
	return "", false
}

// Subscription is one parsed subscription line: an event topic and an
// optional offset (delay) such as "+1.hour".
type Subscription struct {
	// Topic is the event topic, "domain/subject/verb".
	Topic string
	// Delay is the offset as a duration (zero without an offset); months
	// and years use average lengths, see RunAt for calendar arithmetic.
	Delay time.Duration
	// Amount is the number of units in the offset (0 without one).
	Amount int64
	// Unit is the offset unit, empty without an offset.
	Unit Unit
}

// topicPattern is the three-part topic form: domain/subject/verb of
// lowercase letters, digits and underscores (docs: core/events/topics.md).
var topicPattern = regexp.MustCompile(`^[a-z0-9_]+/[a-z0-9_]+/[a-z0-9_]+$`)

// offsetPattern is "+N.unit".
var offsetPattern = regexp.MustCompile(`^\+([0-9]+)\.([a-z]+)$`)

// ValidTopic reports whether topic has the form domain/subject/verb, each
// part made of lowercase letters, digits and underscores. User topics
// (user/…) follow the same form with any subject and verb.
func ValidTopic(topic string) bool {
	return topicPattern.MatchString(topic)
}

// ParseSubscription parses one subscription, `topic` or `topic+N.unit`,
// ignoring surrounding whitespace. Units are seconds, minutes, hours, days,
// weeks, months or years, singular or plural; N is a non-negative integer
// (docs: core/tasks/subscriptions.md).
func ParseSubscription(line string) (Subscription, error) {
	s := strings.TrimSpace(line)
	if s == "" {
		return Subscription{}, errors.New("empty subscription")
	}
	topic, offset, hasOffset := strings.Cut(s, "+")
	if !ValidTopic(topic) {
		return Subscription{}, fmt.Errorf("invalid topic %q: want domain/subject/verb of lowercase letters, digits and underscores", topic)
	}
	sub := Subscription{Topic: topic}
	if !hasOffset {
		return sub, nil
	}
	m := offsetPattern.FindStringSubmatch("+" + offset)
	if m == nil {
		return Subscription{}, fmt.Errorf("invalid offset %q in %q: want +N.unit, such as +1.hour or +3.days", "+"+offset, s)
	}
	unit, ok := parseUnit(m[2])
	if !ok {
		return Subscription{}, fmt.Errorf("invalid offset unit %q in %q: want seconds, minutes, hours, days, weeks, months or years", m[2], s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > math.MaxInt64/int64(time.Second)/unitSeconds[unit] {
		return Subscription{}, fmt.Errorf("offset %q in %q is too large", "+"+offset, s)
	}
	sub.Amount = n
	sub.Unit = unit
	sub.Delay = time.Duration(n*unitSeconds[unit]) * time.Second
	return sub, nil
}

// String writes the subscription back as topic[+N.unit], with the unit
// singular when N is 1.
func (s Subscription) String() string {
	if s.Unit == "" {
		return s.Topic
	}
	u := string(s.Unit)
	if s.Amount == 1 {
		u = strings.TrimSuffix(u, "s")
	}
	return s.Topic + "+" + strconv.FormatInt(s.Amount, 10) + "." + u
}

// RunAt returns when a task run for an event at t is due. Seconds, minutes
// and hours add elapsed time; days, weeks, months and years advance the
// calendar in t's location, keeping the wall-clock time, as Rails does.
func (s Subscription) RunAt(t time.Time) time.Time {
	n := int(s.Amount)
	switch s.Unit {
	case Days:
		return t.AddDate(0, 0, n)
	case Weeks:
		return t.AddDate(0, 0, 7*n)
	case Months:
		return addMonths(t, n)
	case Years:
		return addMonths(t, 12*n)
	}
	return t.Add(s.Delay)
}

// addMonths advances t by n calendar months, clamping the day to the end of
// a shorter month (Jan 31 + 1 month = Feb 28/29), as Rails does.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// SubscriptionError is an invalid line of rendered subscriptions.
type SubscriptionError struct {
	// Line is the 1-based line number in the rendered template.
	Line int
	// Text is the offending line, trimmed.
	Text string
	// Err says what is wrong.
	Err error
}

// Error formats the problem with its line number.
func (e *SubscriptionError) Error() string {
	return fmt.Sprintf("subscriptions line %d: %v", e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *SubscriptionError) Unwrap() error { return e.Err }

// RenderFunc renders a Liquid template with the given variables.
type RenderFunc func(ctx context.Context, tmpl string, vars map[string]any) (string, error)

// SubscriptionsFromTemplate renders a subscriptions template with the
// variable "options" bound to the task's option values, then parses the
// output one subscription per line: lines are trimmed and blank lines
// skipped (docs: core/tasks/subscriptions.md, "Using Liquid"). Every invalid
// line is reported as a *SubscriptionError, joined with errors.Join.
func SubscriptionsFromTemplate(ctx context.Context, tmpl string, render func(ctx context.Context, tmpl string, vars map[string]any) (string, error), options *value.Map) ([]Subscription, error) {
	if options == nil {
		options = value.NewMap(0)
	}
	out, err := render(ctx, tmpl, map[string]any{"options": options})
	if err != nil {
		return nil, fmt.Errorf("render subscriptions template: %w", err)
	}
	return ParseSubscriptions(out)
}

// ParseSubscriptions parses rendered subscriptions text, one per line,
// trimming lines and skipping blank ones. Every invalid line is reported as
// a *SubscriptionError, joined with errors.Join.
func ParseSubscriptions(text string) ([]Subscription, error) {
	subs, _, err := parseLines(text)
	return subs, err
}

// parseLines parses subscription lines, also returning the trimmed text of
// each.
func parseLines(text string) ([]Subscription, []string, error) {
	var (
		subs  []Subscription
		lines []string
		errs  []error
	)
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sub, err := ParseSubscription(line)
		if err != nil {
			errs = append(errs, &SubscriptionError{Line: i + 1, Text: line, Err: err})
			continue
		}
		subs = append(subs, sub)
		lines = append(lines, line)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return subs, lines, nil
}

// RenderSubscriptions renders the task's subscriptions template with its
// stored options and returns the valid subscription lines, trimmed, as
// Mechanic stores them when a task is saved. A task without a template has
// no subscriptions.
func (t *Task) RenderSubscriptions(ctx context.Context, render RenderFunc) ([]string, error) {
	if t.SubscriptionsTemplate == nil {
		return []string{}, nil
	}
	out, err := render(ctx, *t.SubscriptionsTemplate, map[string]any{"options": t.Options})
	if err != nil {
		return nil, fmt.Errorf("task %q: render subscriptions template: %w", t.Name, err)
	}
	_, lines, err := parseLines(out)
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", t.Name, err)
	}
	if lines == nil {
		lines = []string{}
	}
	return lines, nil
}

// ParsedSubscriptions parses the task's stored subscriptions.
func (t *Task) ParsedSubscriptions() ([]Subscription, error) {
	var errs []error
	out := make([]Subscription, 0, len(t.Subscriptions))
	for i, line := range t.Subscriptions {
		s, err := ParseSubscription(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscriptions[%d]: %w", i, err))
			continue
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("task %q: %w", t.Name, errors.Join(errs...))
	}
	return out, nil
}
