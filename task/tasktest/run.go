package tasktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/taskdir"
)

// TopicActionsPerform is the topic of a perform step's event.
const TopicActionsPerform = "mechanic/actions/perform"

// Outputs are what one step of a test rendered.
type Outputs struct {
	// Actions are {"type", "options"[, "meta"]} objects.
	Actions []any
	Logs    []any
	Errors  []any
	// RunError is the engine failure, "" when the run rendered.
	RunError string
}

// Step is the result of one step (the event, or the perform follow-up).
type Step struct {
	// Name is "event" or "perform".
	Name string
	// Got are the actual outputs.
	Got Outputs
	// Failures describe each unmet expectation, with a diff where useful.
	Failures []string
}

// Result is the result of one test case.
type Result struct {
	// Case is the test.
	Case *Case
	// Steps are the steps that ran.
	Steps []Step
	// Err is a problem running the test itself (bad event, unknown action
	// index); the test fails with it.
	Err error
}

// Passed reports whether every expectation held.
func (r *Result) Passed() bool {
	if r.Err != nil {
		return false
	}
	for _, s := range r.Steps {
		if len(s.Failures) > 0 {
			return false
		}
	}
	return true
}

// newRenderer returns the renderer for one step.
func newRenderer(c *Case, cache *value.Map, stubs *value.Map) (*run.Renderer, *stubGraphQL) {
	gql := &stubGraphQL{stubs: stubs}
	return NewRenderer(c.Now, cache, gql), gql
}

// NewRenderer returns a renderer with Mechanic's dialect for local runs:
// the time fixed at now, the cache variable reading (and iterating) cache,
// and the shopify filter answered by gql (see StubGraphQL).
func NewRenderer(now time.Time, cache *value.Map, gql dialect.GraphQLClient) *run.Renderer {
	return &run.Renderer{
		Engine:  dialect.NewEngine(dialect.Options{}),
		Cache:   mapCache{m: cache},
		GraphQL: gql,
		Now:     func() time.Time { return now },
	}
}

// StubGraphQL returns a GraphQL client answering from stubs: a map from a
// substring of a query to its response ("*" for any query); other queries
// fail naming the query.
func StubGraphQL(stubs *value.Map) dialect.GraphQLClient {
	return &stubGraphQL{stubs: stubs}
}

// Run runs one test case against the task.
func Run(ctx context.Context, t *task.Task, c *Case) *Result {
	res := &Result{Case: c}
	ev, err := run.EventFromValue(c.Event)
	if err != nil {
		res.Err = err
		return res
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = c.Now
	}
	r, gql := newRenderer(c, c.Cache, c.Shopify)
	first, actions := runStep(ctx, r, gql, t, c, ev, "event", c.Expect)
	res.Steps = append(res.Steps, first)
	if c.Perform == nil {
		return res
	}
	p := c.Perform
	if p.Action >= len(actions) {
		res.Err = fmt.Errorf("perform.action: index %d, but the run rendered %d actions", p.Action, len(actions))
		return res
	}
	a := actions[p.Action]
	opts, _ := action.SplitControl(a.Options)
	runObj := value.NewMap(10)
	runObj.Set("id", run.StableUUID(c.Path+"#perform"))
	runObj.Set("ok", p.OK)
	runObj.Set("error", p.Error)
	runObj.Set("attempts", int64(1))
	ts := c.Now.Format("2006-01-02T15:04:05.000Z07:00")
	runObj.Set("run_at", ts)
	runObj.Set("enqueued_at", ts)
	runObj.Set("started_at", ts)
	runObj.Set("stopped_at", ts)
	runObj.Set("elapsed_time_ms", int64(0))
	runObj.Set("result", p.Result)
	runObj.Set("result_meta", nil)
	data := value.MapOf("type", a.Type, "options", opts, "meta", a.Meta, "run", runObj)
	pev := &run.Event{Topic: TopicActionsPerform, Data: data, Source: "mechanic", CreatedAt: c.Now, Parent: ev}
	stubs := c.Shopify
	if p.Shopify != nil {
		stubs = p.Shopify
	}
	r2, gql2 := newRenderer(c, c.Cache, stubs)
	second, _ := runStep(ctx, r2, gql2, t, c, pev, "perform", p.Expect)
	res.Steps = append(res.Steps, second)
	return res
}

func runStep(ctx context.Context, r *run.Renderer, gql *stubGraphQL, t *task.Task, c *Case, ev *run.Event, name string, want *Expect) (Step, []run.Action) {
	step := Step{Name: name}
	out, err := r.Run(ctx, run.Input{Task: t, Event: ev, Options: c.Options})
	var actions []run.Action
	if err != nil {
		step.Got.RunError = err.Error()
	}
	if out != nil && out.Output != nil {
		actions = out.Output.Actions
		for _, a := range actions {
			am := value.MapOf("type", a.Type, "options", a.Options)
			if a.Meta != nil {
				am.Set("meta", a.Meta)
			}
			step.Got.Actions = append(step.Got.Actions, am)
		}
		step.Got.Logs = append([]any{}, out.Output.Logs...)
		step.Got.Errors = append([]any{}, out.Output.Errors...)
	}
	if step.Got.Actions == nil {
		step.Got.Actions = []any{}
	}
	if step.Got.Logs == nil {
		step.Got.Logs = []any{}
	}
	if step.Got.Errors == nil {
		step.Got.Errors = []any{}
	}
	for _, q := range gql.unmatched() {
		step.Failures = append(step.Failures, fmt.Sprintf("no stubbed shopify response matches the query %q (add a key of \"shopify\" that is a substring of it)", oneLine(q)))
	}
	step.Failures = append(step.Failures, compare(want, step.Got)...)
	return step, actions
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// compare checks the outputs against the expectations.
func compare(want *Expect, got Outputs) []string {
	var out []string
	switch {
	case want.RunError != nil && got.RunError == "":
		out = append(out, fmt.Sprintf("expected the run to fail with %q, but it rendered", *want.RunError))
	case want.RunError != nil && !strings.Contains(got.RunError, *want.RunError):
		out = append(out, fmt.Sprintf("run error %q does not contain %q", got.RunError, *want.RunError))
	case want.RunError == nil && got.RunError != "":
		out = append(out, "the run failed: "+got.RunError)
	}
	if want.Actions != nil {
		if want.Match == MatchSubset {
			if msg := subsetActions(want.Actions, got.Actions); msg != "" {
				out = append(out, "actions: "+msg+"\n"+Diff(want.Actions, got.Actions))
			}
		} else if !deepEqual(want.Actions, got.Actions) {
			out = append(out, "actions differ (- expected, + actual):\n"+Diff(want.Actions, got.Actions))
		}
	}
	if want.Logs != nil && !deepEqual(want.Logs, got.Logs) {
		out = append(out, "logs differ (- expected, + actual):\n"+Diff(want.Logs, got.Logs))
	}
	if want.Errors != nil && !deepEqual(want.Errors, got.Errors) {
		out = append(out, "errors differ (- expected, + actual):\n"+Diff(want.Errors, got.Errors))
	}
	return out
}

// subsetActions checks that each expected action appears, in order, among
// the actual ones with at least its expected fields.
func subsetActions(want, got []any) string {
	j := 0
	for i, w := range want {
		found := false
		for ; j < len(got); j++ {
			if subset(w, got[j]) {
				found = true
				j++
				break
			}
		}
		if !found {
			return fmt.Sprintf("expected action %d (%s) not found in order among the %d actual actions (- expected, + actual):", i, typeOf(w), len(got))
		}
	}
	return ""
}

func typeOf(a any) string {
	if m, ok := a.(*value.Map); ok {
		t, _ := m.Get("type")
		return fmt.Sprint(t)
	}
	return "?"
}

// subset reports whether want is contained in got: objects key by key
// (recursively), everything else exactly.
func subset(want, got any) bool {
	wm, ok := want.(*value.Map)
	if !ok {
		return deepEqual(want, got)
	}
	gm, ok := got.(*value.Map)
	if !ok {
		return false
	}
	for _, k := range wm.Keys() {
		wv, _ := wm.Get(k)
		gv, has := gm.Get(k)
		if !has || !subset(wv, gv) {
			return false
		}
	}
	return true
}

// deepEqual compares JSON values: objects ignoring key order, numbers by
// value.
func deepEqual(a, b any) bool {
	a, b = value.Normalize(a), value.Normalize(b)
	switch x := a.(type) {
	case *value.Map:
		y, ok := b.(*value.Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.Keys() {
			xv, _ := x.Get(k)
			yv, has := y.Get(k)
			if !has || !deepEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	ja, err1 := value.ToJSON(a)
	jb, err2 := value.ToJSON(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// mapCache is the cache state of a test.
type mapCache struct{ m *value.Map }

// Get returns the cached value of key.
func (c mapCache) Get(_ context.Context, key string) (any, bool, error) {
	if c.m == nil {
		return nil, false, nil
	}
	v, ok := c.m.Get(key)
	return v, ok, nil
}

// Keys returns the cached keys, for iteration.
func (c mapCache) Keys() []string {
	if c.m == nil {
		return nil
	}
	return c.m.Keys()
}

// stubGraphQL answers the shopify filter from a test's stubs.
type stubGraphQL struct {
	stubs *value.Map
	mu    sync.Mutex
	miss  []string
}

// errNoStub is returned for a query no stub matches.
var errNoStub = errors.New("no stubbed shopify response matches this query")

// GraphQL returns the response of the first stub whose key occurs in query.
func (s *stubGraphQL) GraphQL(_ context.Context, query string, _ any) (any, error) {
	if s.stubs != nil {
		for _, k := range s.stubs.Keys() {
			if k != "*" && strings.Contains(query, k) {
				v, _ := s.stubs.Get(k)
				return v, nil
			}
		}
		if v, ok := s.stubs.Get("*"); ok {
			return v, nil
		}
	}
	s.mu.Lock()
	s.miss = append(s.miss, query)
	s.mu.Unlock()
	return nil, fmt.Errorf("%w: %s", errNoStub, oneLine(query))
}

func (s *stubGraphQL) unmatched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.miss...)
}

// CaseFiles lists the test files of a task folder (tests/*.json), sorted.
func CaseFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list tests of %s: %w", dir, err)
	}
	sort.Strings(m)
	return m, nil
}

// Update rewrites the case's file with the actual outputs as its
// expectations, keeping the match mode and the other fields.
func Update(res *Result) error {
	c := res.Case
	if res.Err != nil {
		return fmt.Errorf("test %s: %w", c.Path, res.Err)
	}
	set := func(parent *value.Map, key string, e *Expect, got Outputs) {
		m := value.NewMap(4)
		if e != nil && e.doc != nil {
			m = e.doc
		}
		m.Set("actions", got.Actions)
		m.Set("logs", got.Logs)
		m.Set("errors", got.Errors)
		if got.RunError != "" {
			m.Set("run_error", got.RunError)
		} else {
			m.Delete("run_error")
		}
		parent.Set(key, m)
	}
	for _, s := range res.Steps {
		switch s.Name {
		case "event":
			set(c.Doc, "expect", c.Expect, s.Got)
		case "perform":
			set(c.Perform.doc, "expect", c.Perform.Expect, s.Got)
		}
	}
	data, err := indentJSON(c.Doc)
	if err != nil {
		return fmt.Errorf("test %s: %w", c.Path, err)
	}
	if err := os.WriteFile(c.Path, data, 0o644); err != nil {
		return fmt.Errorf("update test: %w", err)
	}
	return nil
}

// RunDir runs the tests of the task folder dir.
func RunDir(ctx context.Context, dir string) *Suite {
	start := time.Now()
	s := &Suite{Name: dir}
	defer func() { s.Elapsed = time.Since(start) }()
	t, err := taskdir.Load(dir)
	if err != nil {
		s.Err = err
		return s
	}
	files, err := CaseFiles(dir)
	if err != nil {
		s.Err = err
		return s
	}
	if len(files) == 0 {
		s.Err = fmt.Errorf("%s: no tests (tests/*.json)", dir)
		return s
	}
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			s.Results = append(s.Results, &Result{Case: &Case{Path: f}, Err: err})
			continue
		}
		s.Results = append(s.Results, Run(ctx, t, c))
	}
	return s
}

// List returns the test's cache entries in key order, as the service's
// cache lists them.
func (c mapCache) List(_ context.Context, limit int) ([]run.CacheEntry, error) {
	keys := c.Keys()
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]run.CacheEntry, len(keys))
	for i, k := range keys {
		v, _ := c.m.Get(k)
		out[i] = run.CacheEntry{Key: k, Value: v}
	}
	return out, nil
}
