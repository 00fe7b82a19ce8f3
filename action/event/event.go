// Package event implements Mechanic's event action: it creates a custom
// user/… event, a child of the event whose task run rendered the action,
// either at once or at a later run_at time, optionally restricted to
// specific tasks (docs: core/actions/event.md).
//
// Options:
//
//	topic     required; "user/<subject>/<verb>"
//	data      required (may be null); any JSON value
//	run_at    optional; a Unix timestamp (integer, or a string of digits)
//	          or a time string such as "2026-12-16T14:30:00-05:00";
//	          a time in the past means now
//	task_id   optional; one task UUID allowed to respond
//	task_ids  optional; an array of task UUIDs (not with task_id)
package event

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Type is the action type name the event action is registered under.
const Type = "event"

// Source is the event source recorded on events this action creates.
const Source = "user"

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Spec is a parsed event action.
type Spec struct {
	// Topic is the new event's topic.
	Topic string
	// Data is the event data as JSON.
	Data []byte
	// DataValue is the event data as a value.
	DataValue any
	// RunAt is when the event's run is due; zero means now.
	RunAt time.Time
	// TaskIDs restricts delivery to these tasks; empty means any subscriber.
	TaskIDs []string
}

// Parse reads event action options. Time strings without a zone are read
// in loc (UTC when nil). Errors are *action.ValidationError values naming
// the offending option.
func Parse(options any, loc *time.Location) (Spec, error) {
	m, ok := options.(*value.Map)
	if !ok {
		return Spec{}, action.Invalid(Type, "", "options must be a hash with topic and data, got %s", value.TypeName(options))
	}
	if loc == nil {
		loc = time.UTC
	}
	var spec Spec
	var err error
	m.Each(func(k string, v any) bool {
		switch k {
		case "topic", "data", "run_at", "task_id", "task_ids":
		default:
			err = action.Invalid(Type, k, "unknown option (want topic, data, run_at, task_id or task_ids)")
		}
		return err == nil
	})
	if err != nil {
		return Spec{}, err
	}
	topic, ok := m.Get("topic")
	if !ok || topic == nil {
		return Spec{}, action.Invalid(Type, "topic", "is required")
	}
	ts, ok := topic.(string)
	if !ok {
		return Spec{}, action.Invalid(Type, "topic", "must be a string, got %s", value.TypeName(topic))
	}
	if !strings.HasPrefix(ts, "user/") || !task.ValidTopic(ts) {
		return Spec{}, action.Invalid(Type, "topic", "%q must have the form user/<subject>/<verb> (lowercase letters, digits and underscores)", ts)
	}
	spec.Topic = ts
	data, ok := m.Get("data")
	if !ok {
		return Spec{}, action.Invalid(Type, "data", "is required (it may be null)")
	}
	if spec.Data, err = value.ToJSON(data); err != nil {
		return Spec{}, action.Invalid(Type, "data", "is not JSON: %v", err)
	}
	spec.DataValue = data
	if v, ok := m.Get("run_at"); ok && v != nil {
		if spec.RunAt, err = parseTime(v, loc); err != nil {
			return Spec{}, action.Invalid(Type, "run_at", "%v", err)
		}
	}
	one, hasOne := m.Get("task_id")
	many, hasMany := m.Get("task_ids")
	hasOne, hasMany = hasOne && one != nil, hasMany && many != nil
	switch {
	case hasOne && hasMany:
		return Spec{}, action.Invalid(Type, "task_ids", "cannot be used together with task_id")
	case hasOne:
		id, ok := one.(string)
		if !ok || !uuidPattern.MatchString(id) {
			return Spec{}, action.Invalid(Type, "task_id", "must be a task UUID string, got %s", value.Inspect(one))
		}
		spec.TaskIDs = []string{strings.ToLower(id)}
	case hasMany:
		arr, ok := many.([]any)
		if !ok {
			return Spec{}, action.Invalid(Type, "task_ids", "must be an array of task UUID strings, got %s", value.TypeName(many))
		}
		if len(arr) == 0 {
			return Spec{}, action.Invalid(Type, "task_ids", "must name at least one task")
		}
		for i, e := range arr {
			id, ok := e.(string)
			if !ok || !uuidPattern.MatchString(id) {
				return Spec{}, action.Invalid(Type, "task_ids."+strconv.Itoa(i), "must be a task UUID string, got %s", value.Inspect(e))
			}
			spec.TaskIDs = append(spec.TaskIDs, strings.ToLower(id))
		}
	}
	return spec, nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 MST",
	time.RFC1123Z,
	time.RFC1123,
	time.RubyDate,
	time.UnixDate,
	time.ANSIC,
}

var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
	"January 2, 2006 15:04",
	"January 2, 2006",
	"Jan 2, 2006",
}

func parseTime(v any, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			return time.Time{}, fmt.Errorf("%s is not a Unix timestamp", value.FormatFloat(x))
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case *big.Int:
		return time.Time{}, errors.New("is out of range for a Unix timestamp")
	case time.Time:
		return x.UTC(), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, errors.New("is an empty string; want a Unix timestamp or a time")
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), nil
			}
		}
		for _, l := range localLayouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot read %q as a time; want a Unix timestamp or a time such as 2026-12-16T14:30:00Z", x)
	}
	return time.Time{}, fmt.Errorf("must be a Unix timestamp or a time string, got %s", value.TypeName(v))
}

// NewEvent turns the spec into the child event of parentEventID with id.
func (s Spec) NewEvent(id, parentEventID string) store.NewEvent {
	return store.NewEvent{ID: id, Topic: s.Topic, Data: s.Data, ParentID: parentEventID, Source: Source, TaskIDs: s.TaskIDs, RunAt: s.RunAt}
}

// Result describes the created event as an action result: id, topic, data,
// parent_id, run_at (RFC 3339 or null) and task_ids (or null).
func (s Spec) Result(id, parentEventID string) *value.Map {
	m := value.NewMap(6)
	m.Set("id", id)
	m.Set("topic", s.Topic)
	m.Set("data", s.DataValue)
	m.Set("parent_id", parentEventID)
	if s.RunAt.IsZero() {
		m.Set("run_at", nil)
	} else {
		m.Set("run_at", s.RunAt.Format(time.RFC3339Nano))
	}
	if len(s.TaskIDs) == 0 {
		m.Set("task_ids", nil)
	} else {
		ids := make([]any, len(s.TaskIDs))
		for i, id := range s.TaskIDs {
			ids[i] = id
		}
		m.Set("task_ids", ids)
	}
	return m
}

// Performer performs event actions. With PerformEffects (the pipeline's
// path) the child event is returned as an effect and committed together
// with the action run; Perform inserts it directly through Events.
type Performer struct {
	// Events receives the events Perform inserts; it may be nil when only
	// PerformEffects is used.
	Events store.EventInserter
	// Location reads run_at strings without a zone (UTC when nil).
	Location *time.Location
}

// New returns an event performer inserting into ins (which may be nil).
func New(ins store.EventInserter, loc *time.Location) *Performer {
	return &Performer{Events: ins, Location: loc}
}

// Validate checks event options, naming the offending option.
func (p *Performer) Validate(options any) error {
	_, err := Parse(options, p.Location)
	return err
}

// ChildEventID returns the id of the event created by the action run with
// the given idempotency key; repeating the run yields the same id.
func ChildEventID(key string) string { return store.DerivedID(key, "event-action") }

// PerformEffects returns the child event as an effect, its id derived from
// key so that a repeated run commits it once.
func (p *Performer) PerformEffects(_ context.Context, req action.Request, key string) (action.Result, store.Effects, error) {
	opts, _ := action.SplitControl(req.Options)
	spec, err := Parse(opts, p.Location)
	if err != nil {
		return action.Result{}, store.Effects{}, err
	}
	id := ChildEventID(key)
	return action.Result{Value: spec.Result(id, req.EventID)},
		store.Effects{Events: []store.NewEvent{spec.NewEvent(id, req.EventID)}}, nil
}

// Perform inserts the child event directly, its id derived from the run id.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	spec, err := Parse(req.Options, p.Location)
	if err != nil {
		return action.Result{}, err
	}
	if p.Events == nil {
		return action.Result{}, action.Failed(errors.New("event action: no event store configured"))
	}
	id := ChildEventID(req.RunID)
	if _, err := p.Events.InsertEvents(ctx, []store.NewEvent{spec.NewEvent(id, req.EventID)}); err != nil {
		return action.Result{}, action.Transient(fmt.Errorf("event action: %w", err))
	}
	return action.Result{Value: spec.Result(id, req.EventID)}, nil
}
