package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Action is one action object a task rendered.
type Action struct {
	Type    string `json:"type"`
	Options any    `json:"options"`
	Meta    any    `json:"meta,omitempty"`
	// NoPerformEvent is the __perform_event: false control parameter: the
	// action is performed, but no mechanic/actions/perform event follows.
	NoPerformEvent bool `json:"-"`
}

// MarshalJSON encodes the action with its options and meta in key order.
func (a Action) MarshalJSON() ([]byte, error) {
	m := value.NewMap(3)
	m.Set("type", a.Type)
	m.Set("options", a.Options)
	if a.Meta != nil {
		m.Set("meta", a.Meta)
	}
	if a.NoPerformEvent {
		m.Set("__perform_event", false)
	}
	return value.ToJSON(m)
}

// Output is a task run's rendered output, parsed into its objects in the
// order they were rendered.
type Output struct {
	Actions []Action
	Logs    []any
	Errors  []any
}

// OutputError reports text in a task's output that is not a JSON object
// of a known kind, with its position in the output.
type OutputError struct {
	Line, Column int
	Msg          string
}

// Error formats the problem with its line and column in the output.
func (e *OutputError) Error() string {
	return fmt.Sprintf("task output line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// ParseOutput parses rendered task code: whitespace-separated JSON objects,
// each an {"action": …}, {"log": …} or {"error": …}. Anything else is an
// *OutputError pointing at the offending text.
func ParseOutput(out string) (*Output, error) {
	res := &Output{}
	data := []byte(out)
	pos := 0
	for {
		pos = skipSpace(data, pos)
		if pos >= len(data) {
			return res, nil
		}
		if data[pos] != '{' {
			return res, outputErr(data, pos, fmt.Sprintf("expected a JSON object, found %s", snippet(data[pos:])))
		}
		dec := json.NewDecoder(bytes.NewReader(data[pos:]))
		dec.UseNumber()
		v, err := value.DecodeJSON(dec)
		if err != nil {
			off := pos
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = pos + int(se.Offset)
			} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				off = len(data)
			}
			return res, outputErr(data, off, "invalid JSON object: "+err.Error())
		}
		start := pos
		pos += int(dec.InputOffset())
		if err := res.add(v.(*value.Map)); err != nil {
			return res, outputErr(data, start, err.Error())
		}
	}
}

func (o *Output) add(m *value.Map) error {
	if m.Len() != 1 {
		return fmt.Errorf("an output object must have exactly one key (action, log or error), found %d: %v", m.Len(), m.Keys())
	}
	key := m.Keys()[0]
	v, _ := m.Get(key)
	switch key {
	case "log":
		o.Logs = append(o.Logs, v)
	case "error":
		o.Errors = append(o.Errors, v)
	case "action":
		a, err := actionFrom(v)
		if err != nil {
			return err
		}
		o.Actions = append(o.Actions, a)
	default:
		return fmt.Errorf("unknown output object %q (want action, log or error)", key)
	}
	return nil
}

func actionFrom(v any) (Action, error) {
	m, ok := v.(*value.Map)
	if !ok {
		return Action{}, fmt.Errorf("action must be an object with type and options, got %s", value.TypeName(v))
	}
	var a Action
	for _, k := range m.Keys() {
		fv, _ := m.Get(k)
		switch k {
		case "type":
			s, ok := fv.(string)
			if !ok || s == "" {
				return Action{}, fmt.Errorf("action field \"type\" must be a non-empty string")
			}
			a.Type = s
		case "options":
			a.Options = fv
		case "meta":
			a.Meta = fv
		case "__perform_event":
			b, ok := fv.(bool)
			if !ok {
				return Action{}, fmt.Errorf("action field \"__perform_event\" must be true or false")
			}
			a.NoPerformEvent = !b
		default:
			return Action{}, fmt.Errorf("action has unknown field %q", k)
		}
	}
	if a.Type == "" {
		return Action{}, fmt.Errorf("action is missing field \"type\"")
	}
	// Control parameters written inside options (raw JSON output, or an
	// options hash) are moved out, as the action tag does.
	opts, c := action.SplitControl(a.Options)
	a.Options = opts
	if !c.PerformEvent {
		a.NoPerformEvent = true
	}
	if c.HasMeta && a.Meta == nil {
		a.Meta = c.Meta
	}
	return a, nil
}

func skipSpace(data []byte, pos int) int {
	for pos < len(data) {
		switch data[pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			pos++
		default:
			return pos
		}
	}
	return pos
}

func snippet(b []byte) string {
	const max = 40
	s := b
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8.Valid(s) {
			s = s[:len(s)-1]
		}
		return fmt.Sprintf("%q…", s)
	}
	return fmt.Sprintf("%q", s)
}

func outputErr(data []byte, off int, msg string) *OutputError {
	if off > len(data) {
		off = len(data)
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &OutputError{Line: line, Column: col, Msg: msg}
}
