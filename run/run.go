package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/dialect/filters"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

// Cache reads the shop's cache for the cache variable; it is read-only in
// a run (writes are cache actions).
type Cache interface {
	// Get returns the value stored under key and whether there is one.
	Get(ctx context.Context, key string) (any, bool, error)
}

// Limits bound one task run. Zero fields take the defaults.
type Limits struct {
	// Steps bounds Liquid node evaluations and loop iterations.
	Steps int64
	// OutputBytes bounds the rendered output (and captures).
	OutputBytes int64
	// Depth bounds the nesting of loops.
	Depth int
	// Timeout bounds the wall time of the run.
	Timeout time.Duration
	// Actions bounds the number of action objects a run may emit.
	Actions int
	// MemoryBytes bounds the memory the run's render holds
	// (liquid.Limits.MemoryBytes; zero: liquid.DefaultMemoryBytes).
	MemoryBytes int64
}

// Default limits of a run. Mechanic documents a 20-second execution limit;
// the others are Sprocket's.
const (
	DefaultTimeout = 20 * time.Second
	DefaultActions = 10_000
)

// BulkOperationScale is how much larger the work, output and memory
// budgets of a run answering mechanic/shopify/bulk_operation are: Mechanic
// gives such runs a larger memory allowance, as they process a whole shop's
// data (docs: core/shopify/bulk-operations.md and the FAQ on memory use),
// without saying how much larger; 4 is Sprocket's choice.
const BulkOperationScale = 4

// forEvent returns the limits of a run for an event: bulk operation
// results get BulkOperationScale times the steps and output bytes.
func (l Limits) forEvent(topic string) Limits {
	if topic != "mechanic/shopify/bulk_operation" {
		return l
	}
	if l.Steps == 0 {
		l.Steps = liquid.DefaultSteps
	}
	if l.OutputBytes == 0 {
		l.OutputBytes = liquid.DefaultOutputBytes
	}
	l.MemoryBytes = l.memory()
	l.Steps *= BulkOperationScale
	l.OutputBytes *= BulkOperationScale
	l.MemoryBytes *= BulkOperationScale
	return l
}

func (l Limits) resolved() Limits {
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Actions == 0 {
		l.Actions = DefaultActions
	}
	return l
}

// Renderer renders task runs. Its fields are read-only once in use; one
// Renderer may render many runs concurrently.
type Renderer struct {
	// Engine is a Liquid engine with Mechanic's dialect registered
	// (dialect.NewEngine); nil means a new one.
	Engine *liquid.Engine
	// Shop is the shop variable: a lazy object over the Shopify shop. Nil
	// means PreviewShop().
	Shop value.Drop
	// Cache serves the cache variable in live runs; nil means an empty
	// cache. Previews never read it.
	Cache Cache
	// GraphQL serves the shopify filter in live runs; nil makes the
	// filter fail with an error there. Previews never call it.
	GraphQL dialect.GraphQLClient
	// Objects, when set, gives live runs (never previews) Shopify-backed
	// variables: it is called once per live run, with the run's context
	// and the task's Shopify API version ("" for the default), and its
	// result supplies the shop variable (in place of Shop) and wraps the
	// event's subject variable (order, customer, …) with lazy REST
	// lookups. Nil keeps Shop and the plain event payloads.
	Objects func(ctx context.Context, apiVersion string) LiveObjects
	// Globals is the globals variable (an empty hash when nil).
	Globals map[string]any
	// Secrets is the secrets variable: each secret's name mapped to the
	// opaque reference templates see in place of its value (docs:
	// platform/liquid/objects/secrets.md); an empty hash when nil.
	Secrets map[string]any
	// SecretSource, when set, lets the signing filters (hmac_*, rsa_*)
	// turn those references into raw values.
	SecretSource filters.SecretSource
	// Templates, when set, keeps parsed scripts across runs (it must be
	// used with this Renderer's Engine only).
	Templates *TemplateCache
	// Limits bound each run.
	Limits Limits
	// Gate, when set, caps each run's memory budget at the gate's
	// capacity (the pipeline enters the gate before rendering).
	Gate *MemoryGate
	// Now is the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives one debug line per run; nil means slog.Default().
	Logger *slog.Logger
}

// LiveObjects are the Shopify-backed variables of one live run
// (*objects.Session of package shopify/objects).
type LiveObjects interface {
	// Shop returns the shop variable.
	Shop() any
	// Wrap returns the subject variable called subject for the event's
	// data, with the lazy lookups of its resource; JSON output and
	// iteration see the data as it is.
	Wrap(subject string, data any) any
	// Err returns a lookup failure that could not be reported where it
	// happened; the run fails with it.
	Err() error
}

// Input is one task run to render.
type Input struct {
	// Task is the task to run.
	Task *task.Task
	// TaskID is the task's UUID (task.id); empty means a stable id derived
	// from the task's name.
	TaskID string
	// TaskCreatedAt is task.created_at; zero means unknown (nil).
	TaskCreatedAt time.Time
	// Event is the event the task processes.
	Event *Event
	// Options, when not nil, replace the stored values of these option
	// keys before the options are rendered and coerced.
	Options *value.Map
}

// Result is a rendered task run.
type Result struct {
	// Text is the rendered task code.
	Text string
	// Output is Text parsed into actions, logs and errors.
	Output *Output
	// Options are the option values the run saw.
	Options *value.Map
	// OptionErrors are options whose values could not be coerced (the run
	// saw them as stored).
	OptionErrors []task.FieldError
	// Permissions are the scopes the task declares with {% permissions %}.
	Permissions []string
	// Queries are the GraphQL queries the shopify filter received.
	Queries []string
}

// ErrorKind classifies why a run failed.
type ErrorKind string

// Kinds of run failures.
const (
	KindSyntax  ErrorKind = "syntax"  // the task code or an option is not valid Liquid
	KindRender  ErrorKind = "render"  // a Liquid runtime error while rendering
	KindLimit   ErrorKind = "limit"   // a run limit was exceeded or the run timed out
	KindOutput  ErrorKind = "output"  // the output is not a stream of action/log/error objects
	KindActions ErrorKind = "actions" // too many actions
)

// Error is a task run that failed in the engine (as opposed to a task that
// rendered error objects, which is a successful render).
type Error struct {
	Kind ErrorKind
	// Where names the template: "script" or "option <key>".
	Where string
	Err   error
}

// Error formats the failure as "<where>: <kind> error: <cause>".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s error: %v", e.Where, e.Kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func (r *Renderer) engine() *liquid.Engine {
	if r.Engine != nil {
		return r.Engine
	}
	return dialect.NewEngine(dialect.Options{})
}

func (r *Renderer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Renderer) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Run renders in.Task for in.Event. A task that renders error objects is
// not a failure here: its Result.Output.Errors say so. The returned error
// is an *Error when the engine failed; the partial Result (rendered text so
// far) is returned with it when there is one.
func (r *Renderer) Run(ctx context.Context, in Input) (*Result, error) {
	eng := r.engine()
	tmpl, ok := r.Templates.lookup(in.Task.Script)
	if !ok {
		var err error
		if tmpl, err = parseScript(eng, in.Task.Script); err != nil {
			return nil, err
		}
		r.Templates.store(in.Task.Script, tmpl)
	}
	return r.runParsed(ctx, eng, tmpl, in)
}

func parseScript(eng *liquid.Engine, script string) (*liquid.Template, error) {
	tmpl, err := eng.ParseOpts(script, liquid.ParseOptions{LineNumbers: true})
	if err != nil {
		return nil, &Error{Kind: KindSyntax, Where: "script", Err: err}
	}
	return tmpl, nil
}

func (r *Renderer) runParsed(ctx context.Context, eng *liquid.Engine, tmpl *liquid.Template, in Input) (*Result, error) {
	if in.Event == nil {
		return nil, fmt.Errorf("run: no event")
	}
	lim := r.Limits.forEvent(in.Event.Topic).resolved()
	if lim.MemoryBytes > 0 {
		lim.MemoryBytes = r.Gate.clamp(lim.MemoryBytes)
	} else if lim.MemoryBytes == 0 && r.Gate != nil {
		lim.MemoryBytes = r.Gate.clamp(liquid.DefaultMemoryBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	st := &dialect.RunState{Preview: in.Event.Preview, GraphQL: r.GraphQL}
	ctx = dialect.WithRun(ctx, st)
	if r.SecretSource != nil {
		ctx = filters.WithSecrets(ctx, r.SecretSource)
	}
	now := r.now()
	ropts := func(errs *[]error) *liquid.RenderOptions {
		return &liquid.RenderOptions{
			Limits: liquid.Limits{Steps: lim.Steps, OutputBytes: lim.OutputBytes, Depth: lim.Depth, MemoryBytes: lim.MemoryBytes},
			Now:    func() time.Time { return now },
			Errors: errs,
		}
	}

	// The variables option values see: everything but options and task.
	var live LiveObjects
	if !in.Event.Preview && r.Objects != nil {
		live = r.Objects(ctx, in.Task.ShopifyAPIVersion)
	}
	subject := func(name, topic string) any {
		v := subjectValue(topic, in.Event.Data)
		if live != nil {
			return live.Wrap(name, v)
		}
		return v
	}
	env := value.NewMap(12)
	ev := in.Event.Value()
	env.Set("event", ev)
	if live != nil {
		env.Set("shop", live.Shop())
	} else {
		env.Set("shop", r.shop())
	}
	env.Set("cache", r.cache(ctx, in.Event.Preview))
	topic := in.Event.Topic
	if shopifyTopic := in.Event.shopifyTopic(); shopifyTopic != "" {
		// custom Shopify webhooks: the subject follows the Shopify topic
		topic = shopifyTopic
	}
	if name, ok := SubjectVariable(topic); ok {
		env.Set(name, subject(name, topic))
	}
	if name, ok := SubjectVariable(in.Event.Topic); ok && name != "" && !env.Has(name) {
		env.Set(name, subject(name, in.Event.Topic))
	}

	res := &Result{Permissions: dialect.Permissions(in.Task.Script)}
	opts, optErrs, err := r.options(ctx, eng, in, env, ropts)
	if err != nil {
		return nil, err
	}
	res.Options, res.OptionErrors = opts, optErrs

	env.Set("options", opts)
	env.Set("task", taskValue(in, opts))
	env.Set("globals", mapOrEmpty(r.Globals))
	env.Set("secrets", mapOrEmpty(r.Secrets))

	var errs []error
	start := time.Now()
	text, err := tmpl.RenderMap(ctx, env, ropts(&errs))
	if err == nil && ctx.Err() != nil {
		// The time ran out in a step that did not notice (a slow read
		// that ignores its context): the limit holds for the run as a
		// whole, so the result does not count.
		err = fmt.Errorf("the run took longer than its %v wall-time limit: %w", lim.Timeout, context.Cause(ctx))
	}
	res.Text = text
	res.Queries = st.Queries()
	r.logger().Debug("task run rendered", "task", in.Task.Name, "topic", in.Event.Topic,
		"preview", in.Event.Preview, "bytes", len(text), "elapsed", time.Since(start))
	if err != nil {
		return res, classify("script", err)
	}
	if len(errs) > 0 {
		return res, &Error{Kind: KindRender, Where: "script", Err: errors.Join(errs...)}
	}
	if live != nil {
		if err := live.Err(); err != nil {
			return res, &Error{Kind: KindRender, Where: "script", Err: fmt.Errorf("Shopify lookup: %w", err)}
		}
	}
	out, err := ParseOutput(text)
	res.Output = out
	if err != nil {
		return res, &Error{Kind: KindOutput, Where: "script", Err: err}
	}
	if len(out.Actions) > lim.Actions {
		return res, &Error{Kind: KindActions, Where: "script", Err: fmt.Errorf("%d actions, more than the limit of %d", len(out.Actions), lim.Actions)}
	}
	return res, nil
}

// classify wraps a failed render's error with its kind.
func classify(where string, err error) error {
	if errors.Is(err, liquid.ErrLimit) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &Error{Kind: KindLimit, Where: where, Err: err}
	}
	return &Error{Kind: KindRender, Where: where, Err: err}
}

func (r *Renderer) shop() any {
	if r.Shop != nil {
		return r.Shop
	}
	return PreviewShop()
}

func (r *Renderer) cache(ctx context.Context, preview bool) any {
	if preview || r.Cache == nil {
		return value.NewMap(0)
	}
	return &cacheDrop{ctx: ctx, c: r.Cache}
}

func mapOrEmpty(m map[string]any) *value.Map {
	out := value.NewMap(len(m))
	for k, v := range m {
		out.Set(k, value.Normalize(v))
	}
	return out
}

// CacheLister is implemented by caches whose live entries can be listed,
// for {% for keyval in cache %}.
type CacheLister interface {
	// List returns up to limit live entries in key order.
	List(ctx context.Context, limit int) ([]CacheEntry, error)
}

// CacheEntry is one cache entry as the cache variable iterates it.
type CacheEntry struct {
	Key   string
	Value any
}

// MaxCacheIteration bounds the entries {% for keyval in cache %} reads: a
// cache holding more fails the loop (a for loop with a limit reads only
// that many).
const MaxCacheIteration = 10_000

// cacheDrop looks cache keys up lazily (cache["key"] or cache.key) and
// lists the live entries as [key, value] pairs when iterated.
type cacheDrop struct {
	ctx context.Context
	c   Cache
}

// Get returns the cached value of key; a failing cache reads as a miss
// (the engine calls GetContext, which reports the failure).
func (d *cacheDrop) Get(key string) (any, bool) {
	v, ok, err := d.GetContext(d.ctx, key)
	if err != nil {
		return nil, false
	}
	return v, ok
}

// GetContext returns the cached value of key, failing the render when the
// cache cannot be read.
func (d *cacheDrop) GetContext(ctx context.Context, key string) (any, bool, error) {
	v, ok, err := d.c.Get(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("cache key %q: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	return value.Normalize(v), true, nil
}

// List returns the first limit live entries (all when limit < 0) as
// [key, value] pairs in key order, as Liquid iterates a hash. More than
// MaxCacheIteration entries without a smaller limit is an error.
func (d *cacheDrop) List(ctx context.Context, limit int64) ([]any, error) {
	l, ok := d.c.(CacheLister)
	if !ok {
		return nil, errors.New("this cache cannot be iterated")
	}
	n := MaxCacheIteration + 1
	if limit >= 0 && limit < MaxCacheIteration {
		n = int(limit)
	}
	if n == 0 {
		return []any{}, nil
	}
	entries, err := l.List(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("iterate cache: %w", err)
	}
	if len(entries) > MaxCacheIteration {
		return nil, fmt.Errorf("iterate cache: more than %d live keys; use a for loop limit", MaxCacheIteration)
	}
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = []any{e.Key, value.Normalize(e.Value)}
	}
	return out, nil
}

// options renders text-like option values as Liquid (with event, shop,
// cache and the subject variable), then coerces them by their flags.
func (r *Renderer) options(ctx context.Context, eng *liquid.Engine, in Input, env *value.Map, ropts func(*[]error) *liquid.RenderOptions) (*value.Map, []task.FieldError, error) {
	t := *in.Task
	stored := in.Task.Options
	if stored == nil {
		stored = value.NewMap(0)
	}
	rendered := value.NewMap(stored.Len())
	var firstErr error
	render := func(key, s string) string {
		if firstErr != nil || !strings.Contains(s, "{{") && !strings.Contains(s, "{%") {
			return s
		}
		tmpl, err := eng.Parse(s)
		if err != nil {
			firstErr = &Error{Kind: KindSyntax, Where: "option " + key, Err: err}
			return s
		}
		var errs []error
		out, err := tmpl.RenderMap(ctx, env, ropts(&errs))
		if err != nil {
			firstErr = classify("option "+key, err)
		} else if len(errs) > 0 {
			firstErr = &Error{Kind: KindRender, Where: "option " + key, Err: errors.Join(errs...)}
		}
		return out
	}
	set := func(key string, v any) {
		switch x := v.(type) {
		case string:
			v = render(key, x)
		case []any:
			arr := make([]any, len(x))
			for i, e := range x {
				if s, ok := e.(string); ok {
					arr[i] = render(key, s)
				} else {
					arr[i] = e
				}
			}
			v = arr
		case *value.Map:
			// keyval options: each value is a text input
			m := value.NewMap(x.Len())
			x.Each(func(k string, e any) bool {
				if s, ok := e.(string); ok {
					e = render(key, s)
				}
				m.Set(k, e)
				return true
			})
			v = m
		}
		rendered.Set(key, v)
	}
	stored.Each(func(k string, v any) bool {
		if in.Options != nil {
			if o, ok := in.Options.Get(k); ok {
				v = o
			}
		}
		set(k, v)
		return true
	})
	if in.Options != nil {
		in.Options.Each(func(k string, v any) bool {
			if !rendered.Has(k) {
				set(k, v)
			}
			return true
		})
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	t.Options = rendered
	opts, errs := t.CoercedOptions()
	return opts, errs, nil
}

// taskValue is the task variable: id, name, created_at and options.
func taskValue(in Input, opts *value.Map) *value.Map {
	m := value.NewMap(6)
	id := in.TaskID
	if id == "" {
		id = StableUUID("task:" + in.Task.Name)
	}
	m.Set("id", id)
	m.Set("name", in.Task.Name)
	// docs: platform/liquid/objects/task.md — created_at is a string
	if in.TaskCreatedAt.IsZero() {
		m.Set("created_at", nil)
	} else {
		m.Set("created_at", in.TaskCreatedAt.Format(time.RFC3339))
	}
	m.Set("options", opts)
	subs := make([]any, len(in.Task.Subscriptions))
	for i, s := range in.Task.Subscriptions {
		subs[i] = s
	}
	m.Set("subscriptions", subs)
	if in.Task.ShopifyAPIVersion != "" {
		m.Set("shopify_api_version", in.Task.ShopifyAPIVersion)
	}
	return m
}
