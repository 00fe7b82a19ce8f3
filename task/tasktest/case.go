// Package tasktest runs a task's tests: JSON files in a task folder's
// tests/ directory, each an event (with option overrides, cache state,
// stubbed shopify filter responses and a fixed time) and the outputs the
// task must render for it (actions, logs, errors), optionally followed by a
// mechanic/actions/perform step with a stubbed action result. Tests render
// the task locally, as the service would, without performing anything.
package tasktest

import (
	"fmt"
	"os"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Match modes for expected actions.
const (
	// MatchExact: the actions are exactly the expected ones, in order.
	MatchExact = "exact"
	// MatchSubset: every expected action appears among the actual ones, in
	// order, with at least the expected options (objects compared key by
	// key, other values exactly).
	MatchSubset = "subset"
)

// maxCaseSize bounds a test file.
const maxCaseSize = 8 << 20

// Case is one test file.
type Case struct {
	// Path is the file the case was read from.
	Path string
	// Doc is the file as ordered JSON (kept to rewrite it with --update).
	Doc *value.Map
	// Description labels the case in reports.
	Description string
	// Event is the event: {"topic", "data", ...} as run.EventFromValue reads it.
	Event *value.Map
	// Options override the task's stored option values.
	Options *value.Map
	// Cache is the cache state the run sees.
	Cache *value.Map
	// Shopify maps a substring of a GraphQL query to the response the
	// shopify filter returns for it; the first key found in the query wins,
	// "*" matches any query. A query no key matches fails the test.
	Shopify *value.Map
	// Now fixes the current time; zero means 2024-01-01T00:00:00Z.
	Now time.Time
	// Expect are the expected outputs of the run.
	Expect *Expect
	// Perform, when set, is a follow-up mechanic/actions/perform step.
	Perform *Perform
}

// Expect are the expected outputs of one step. Nil fields are not checked.
type Expect struct {
	// Match is MatchExact (default) or MatchSubset.
	Match string
	// Actions are the expected actions as {"type", "options"} objects.
	Actions []any
	// Logs are the expected log values, compared exactly.
	Logs []any
	// Errors are the expected error values, compared exactly.
	Errors []any
	// RunError, when set, is a substring of the expected engine failure.
	RunError *string
	// doc is the "expect" object of the file, nil when absent.
	doc *value.Map
}

// Perform is a follow-up step: the task runs again for the
// mechanic/actions/perform event of one of its actions.
type Perform struct {
	// Action is the index of the action (in the first step's actual
	// output) whose result the event carries.
	Action int
	// OK reports whether the action succeeded (default true).
	OK bool
	// Error is the action's error when OK is false.
	Error any
	// Result is the stubbed action result (action.run.result).
	Result any
	// Shopify, when set, replaces the case's stubbed responses for this step.
	Shopify *value.Map
	// Expect are the expected outputs of the perform step.
	Expect *Expect
	doc    *value.Map
}

// DefaultNow is the time tests run at when they fix none.
var DefaultNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Load reads and checks one test file. Errors name the file and field.
func Load(path string) (*Case, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("test %s: %w", path, err)
	}
	if st.Size() > maxCaseSize {
		return nil, fmt.Errorf("test %s: larger than %d bytes", path, maxCaseSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("test %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("test %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse reads a test case from JSON.
func Parse(data []byte) (*Case, error) {
	v, err := value.FromJSON(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("a test must be a JSON object, got %s", value.TypeName(v))
	}
	c := &Case{Doc: doc, Now: DefaultNow}
	for _, k := range doc.Keys() {
		f, _ := doc.Get(k)
		switch k {
		case "description":
			c.Description, ok = f.(string)
		case "event":
			c.Event, ok = f.(*value.Map)
		case "options":
			c.Options, ok = f.(*value.Map)
		case "cache":
			c.Cache, ok = f.(*value.Map)
		case "shopify":
			c.Shopify, ok = f.(*value.Map)
		case "now":
			var s string
			if s, ok = f.(string); ok {
				if c.Now, err = time.Parse(time.RFC3339, s); err != nil {
					return nil, fmt.Errorf("field \"now\": %w", err)
				}
			}
		case "expect":
			if c.Expect, err = parseExpect("expect", f); err != nil {
				return nil, err
			}
		case "perform":
			if c.Perform, err = parsePerform(f); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown field %q (want description, event, options, cache, shopify, now, expect, perform)", k)
		}
		if !ok {
			return nil, fmt.Errorf("field %q: wrong type %s", k, value.TypeName(f))
		}
		ok = true
	}
	if c.Event == nil {
		return nil, fmt.Errorf("missing field \"event\"")
	}
	if c.Expect == nil {
		c.Expect = &Expect{}
	}
	return c, nil
}

func parseExpect(field string, v any) (*Expect, error) {
	m, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("field %q: must be an object, got %s", field, value.TypeName(v))
	}
	e := &Expect{Match: MatchExact, doc: m}
	for _, k := range m.Keys() {
		f, _ := m.Get(k)
		name := field + "." + k
		switch k {
		case "match":
			s, _ := f.(string)
			if s != MatchExact && s != MatchSubset {
				return nil, fmt.Errorf("field %q: want %q or %q", name, MatchExact, MatchSubset)
			}
			e.Match = s
		case "actions", "logs", "errors":
			l, ok := f.([]any)
			if !ok {
				return nil, fmt.Errorf("field %q: must be an array, got %s", name, value.TypeName(f))
			}
			switch k {
			case "actions":
				for i, a := range l {
					am, ok := a.(*value.Map)
					if !ok || !am.Has("type") {
						return nil, fmt.Errorf("field %q[%d]: must be an object with \"type\"", name, i)
					}
				}
				e.Actions = l
			case "logs":
				e.Logs = l
			default:
				e.Errors = l
			}
		case "run_error":
			s, ok := f.(string)
			if !ok {
				return nil, fmt.Errorf("field %q: must be a string", name)
			}
			e.RunError = &s
		default:
			return nil, fmt.Errorf("unknown field %q (want match, actions, logs, errors, run_error)", name)
		}
	}
	return e, nil
}

func parsePerform(v any) (*Perform, error) {
	m, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("field \"perform\": must be an object, got %s", value.TypeName(v))
	}
	p := &Perform{OK: true, doc: m}
	for _, k := range m.Keys() {
		f, _ := m.Get(k)
		name := "perform." + k
		var err error
		switch k {
		case "action":
			n, ok := f.(int64)
			if !ok || n < 0 {
				return nil, fmt.Errorf("field %q: must be an action index (0, 1, ...)", name)
			}
			p.Action = int(n)
		case "ok":
			b, ok := f.(bool)
			if !ok {
				return nil, fmt.Errorf("field %q: must be true or false", name)
			}
			p.OK = b
		case "error":
			p.Error = f
		case "result":
			p.Result = f
		case "shopify":
			if p.Shopify, ok = f.(*value.Map); !ok {
				return nil, fmt.Errorf("field %q: must be an object", name)
			}
		case "expect":
			if p.Expect, err = parseExpect(name, f); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown field %q (want action, ok, error, result, shopify, expect)", name)
		}
	}
	if p.Expect == nil {
		p.Expect = &Expect{}
	}
	return p, nil
}
