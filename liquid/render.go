package liquid

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// ErrLimit is wrapped by every error reporting an exceeded render limit.
var ErrLimit = errors.New("liquid: render limit exceeded")

// LimitError names the limit a render exceeded; it wraps ErrLimit.
type LimitError struct {
	Limit string // "steps", "output bytes", "bytes written", "depth", "memory"
	Max   int64
	// soft marks the depth limit, which Ruby Liquid reports inline as
	// "Nesting too deep" while rendering continues (the step limit still
	// bounds the total work).
	soft bool
}

// Error names the exceeded limit.
func (e *LimitError) Error() string {
	if e.soft {
		return "Liquid error: Nesting too deep"
	}
	if e.Limit == "memory" {
		return "Liquid error: memory limit exceeded: the render would hold more than its budget of " + formatBytes(e.Max) +
			" (strings, arrays and hashes it built)"
	}
	return "Liquid error: " + e.Limit + " limit exceeded (" + strconv.FormatInt(e.Max, 10) + ")"
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// RuntimeError is a Liquid::Error raised while rendering; its message is
// what Ruby Liquid shows after "Liquid error: ".
type RuntimeError struct {
	Msg string
}

// Error returns the message.
func (e *RuntimeError) Error() string { return e.Msg }

// RenderError is a runtime error raised by a node while rendering, with
// the node's line (0 unless the template was parsed with LineNumbers) and
// the partial it is in ("" for the main template).
type RenderError struct {
	Line     int
	Template string
	Err      error
}

// Error formats the error as Ruby Liquid prints it inline, e.g.
// "Liquid error (line 3): divided by 0".
func (e *RenderError) Error() string {
	prefix := "Liquid error"
	msg := e.Err.Error()
	var le *LimitError
	if errors.As(e.Err, &le) {
		if !le.soft {
			return le.Error()
		}
		msg = "Nesting too deep"
	}
	var se *SyntaxError
	if errors.As(e.Err, &se) {
		prefix, msg = "Liquid syntax error", se.Msg
		if se.Line > 0 {
			return se.Error()
		}
	}
	if e.Line > 0 {
		prefix += " ("
		if e.Template != "" {
			prefix += e.Template + " "
		}
		prefix += "line " + strconv.Itoa(e.Line) + ")"
	}
	return prefix + ": " + msg
}

// Unwrap returns the underlying error.
func (e *RenderError) Unwrap() error { return e.Err }

// undefinedError is an undefined variable or filter in strict modes.
type undefinedError struct{ msg string }

func (e *undefinedError) Error() string { return e.msg }

// errorText is the inline form of a render error, as Ruby prints it.
func errorText(err error) string {
	var re *RenderError
	if errors.As(err, &re) {
		return re.Error()
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return "Liquid syntax error: " + se.Msg
	}
	var le *LimitError
	if errors.As(err, &le) {
		return le.Error()
	}
	return "Liquid error: " + err.Error()
}

// Limits bound the work of one render. Zero fields take the defaults;
// negative fields mean unlimited. Exceeding Steps or OutputBytes stops the
// render with an error wrapping ErrLimit, in every mode. Exceeding Depth is
// reported inline as "Liquid error: Nesting too deep", as Ruby Liquid does
// (in strict mode it fails the render); the step limit still bounds the
// work of runaway recursion.
type Limits struct {
	// Steps counts node evaluations, loop iterations and the elements of
	// ranges handed to filters.
	Steps int64
	// OutputBytes bounds the output, each capture and every computed or
	// assigned string; all bytes written, captures included, are bounded by
	// WrittenFactor times OutputBytes.
	OutputBytes int64
	// Depth bounds the nesting of loops, tablerow, include and render.
	Depth int
	// MemoryBytes bounds the memory the render holds: the strings, arrays
	// and hashes it built that its variables still reach, its output and
	// its captures in progress. Allocations are charged as they happen and
	// counted deterministically (see Charge); exceeding the budget stops
	// the render with a "memory limit exceeded" error wrapping ErrLimit.
	MemoryBytes int64
}

// Default limits.
const (
	// WrittenFactor times Limits.OutputBytes bounds all bytes written.
	WrittenFactor      = 64
	DefaultSteps       = 5_000_000
	DefaultOutputBytes = 16 << 20
	DefaultDepth       = 100
	// DefaultMemoryBytes is 16 strings of the largest size a render may
	// build (DefaultOutputBytes); Mechanic documents a per-run memory
	// limit but not its size.
	DefaultMemoryBytes = 16 * DefaultOutputBytes
	// unlimitedMemory stands for no memory limit; it leaves room for
	// additions without overflow.
	unlimitedMemory = 1 << 62
)

func (l Limits) resolved() Limits {
	if l.Steps == 0 {
		l.Steps = DefaultSteps
	} else if l.Steps < 0 {
		l.Steps = 1<<63 - 1
	}
	if l.OutputBytes == 0 {
		l.OutputBytes = DefaultOutputBytes
	} else if l.OutputBytes < 0 {
		l.OutputBytes = 1<<63 - 1
	}
	if l.Depth == 0 {
		l.Depth = DefaultDepth
	} else if l.Depth < 0 {
		l.Depth = 1 << 30
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	} else if l.MemoryBytes < 0 || l.MemoryBytes > unlimitedMemory {
		l.MemoryBytes = unlimitedMemory
	}
	return l
}

// Loader loads the source of a partial for render and include.
type Loader interface {
	Load(name string) (string, error)
}

// MapLoader is a Loader serving partials from a map.
type MapLoader map[string]string

// Load returns the partial called name.
func (m MapLoader) Load(name string) (string, error) {
	if s, ok := m[name]; ok {
		return s, nil
	}
	return "", fmt.Errorf("No such template '%s'", name)
}

// RenderOptions configure one render; the zero value is Ruby's defaults.
type RenderOptions struct {
	Strict          bool // the first runtime error fails the render
	StrictVariables bool // an undefined variable fails the render
	StrictFilters   bool // an undefined filter fails the render
	Partials        Loader
	Limits          Limits
	Now             func() time.Time // current time for filters; default time.Now
	Globals         map[string]any   // read-only variables seen after the render's own
	// Errors, when not nil, receives the runtime errors rendered inline.
	Errors *[]error
}

// depthError is the error for nesting deeper than the depth limit.
func (rc *RenderContext) depthError() error {
	return &LimitError{Limit: "depth", Max: int64(rc.sh.limits.Depth), soft: true}
}

// shared is the state one render shares with its render-tag subcontexts.
type shared struct {
	ctx    context.Context
	eng    *Engine
	opts   *RenderOptions
	limits Limits
	steps  int64
	bytes  int64 // written in total, captures included
	// maxWritten bounds bytes: captures rebuilt in a loop may write far
	// more than they keep, but not without end.
	maxWritten int64
	errors     []error
	partials   map[string]*Template
	spare      [][]byte // capture buffers for reuse
	globals    *value.Map
	now        time.Time
	nowSet     bool

	// Memory accounting (memory.go).
	mem           int64             // held at the last count plus charges since
	charges       int64             // Charge calls, to tell filters that charged
	memCounts     int64             // counts made
	memPeak       int64             // the most a count found held
	heldBuffers   int64             // bytes of the output buffers suspended by captures
	frames        []*RenderContext  // the render's contexts: the template's, then render tags'
	frameBuf      [4]*RenderContext // the first backing store of frames
	inputsChanged bool              // a hash was changed in place: inputs count
}

// RenderContext is the state of one render: variables, output, limits.
// Tags receive it in Node.Render; it is not safe for concurrent use.
type RenderContext struct {
	sh         *shared
	scopes     []*value.Map // scopes[0] is the outermost (assign target)
	env        *value.Map
	counters   *value.Map
	buf        []byte
	interrupts []int // pending break/continue, innermost last
	depth      int   // render-tag nesting (Ruby's base_scope_depth)
	forStack   []*forloopDrop
	offsets    map[string]int64
	cycles     map[string]int
	ifchanged  *string
	noInclude  bool
	template   *Template
	// templateName is the partial being rendered, "" for the main template.
	templateName string
}

const (
	interruptNone = iota
	interruptBreak
	interruptContinue
)

// Context returns the render's context.Context.
func (rc *RenderContext) Context() context.Context { return rc.sh.ctx }

// Now returns the render's current time.
func (rc *RenderContext) Now() time.Time {
	if !rc.sh.nowSet {
		if rc.sh.opts.Now != nil {
			rc.sh.now = rc.sh.opts.Now()
		} else {
			rc.sh.now = time.Now()
		}
		rc.sh.nowSet = true
	}
	return rc.sh.now
}

// Engine returns the engine the template was parsed with.
func (rc *RenderContext) Engine() *Engine { return rc.sh.eng }

// Step charges n steps against the step limit.
func (rc *RenderContext) Step(n int64) error {
	sh := rc.sh
	if n > sh.limits.Steps-sh.steps {
		sh.steps = sh.limits.Steps
		return &LimitError{Limit: "steps", Max: sh.limits.Steps}
	}
	sh.steps += n
	if sh.steps&1023 < n {
		if err := sh.ctx.Err(); err != nil {
			return fmt.Errorf("liquid: render cancelled: %w", err)
		}
	}
	return nil
}

// WriteString appends s to the current output.
func (rc *RenderContext) WriteString(s string) error {
	sh := rc.sh
	n := int64(len(s))
	if n > sh.limits.OutputBytes-int64(len(rc.buf)) {
		return &LimitError{Limit: "output bytes", Max: sh.limits.OutputBytes}
	}
	sh.bytes += n
	if sh.bytes > sh.maxWritten {
		return &LimitError{Limit: "bytes written", Max: sh.maxWritten}
	}
	if n > sh.limits.MemoryBytes-sh.mem {
		if err := rc.countMemory(n); err != nil {
			return err
		}
	} else {
		sh.mem += n
	}
	rc.buf = append(rc.buf, s...)
	return nil
}

// writeBytes is WriteString for a byte slice.
func (rc *RenderContext) writeBytes(b []byte) error {
	sh := rc.sh
	n := int64(len(b))
	if n > sh.limits.OutputBytes-int64(len(rc.buf)) {
		return &LimitError{Limit: "output bytes", Max: sh.limits.OutputBytes}
	}
	sh.bytes += n
	if sh.bytes > sh.maxWritten {
		return &LimitError{Limit: "bytes written", Max: sh.maxWritten}
	}
	if n > sh.limits.MemoryBytes-sh.mem {
		if err := rc.countMemory(n); err != nil {
			return err
		}
	} else {
		sh.mem += n
	}
	rc.buf = append(rc.buf, b...)
	return nil
}

// WriteValue appends v in Liquid's output form.
func (rc *RenderContext) WriteValue(v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return rc.WriteString(x)
	case int64:
		var tmp [24]byte
		return rc.writeBytes(strconv.AppendInt(tmp[:0], x, 10))
	}
	return rc.WriteString(value.ToString(v))
}

// CheckSize fails when a computed string is bigger than the output limit.
func (rc *RenderContext) CheckSize(v any) error {
	if s, ok := v.(string); ok && int64(len(s)) > rc.sh.limits.OutputBytes {
		return &LimitError{Limit: "output bytes", Max: rc.sh.limits.OutputBytes}
	}
	return nil
}

// RenderBody renders body into a string instead of the output.
func (rc *RenderContext) RenderBody(b *Body) (string, error) {
	saved := rc.buf
	sh := rc.sh
	if n := len(sh.spare); n > 0 {
		rc.buf = sh.spare[n-1][:0]
		sh.spare = sh.spare[:n-1]
	} else {
		rc.buf = nil
	}
	sh.heldBuffers += int64(len(saved))
	err := rc.renderBody(b)
	if err == nil {
		// The captured string is a copy of the buffer.
		err = rc.Charge(int64(len(rc.buf)))
	}
	var out string
	if err == nil {
		out = string(rc.buf)
	}
	sh.heldBuffers -= int64(len(saved))
	if cap(rc.buf) <= 1<<16 {
		sh.spare = append(sh.spare, rc.buf)
	}
	rc.buf = saved
	return out, err
}

// Render renders body into the current output.
func (rc *RenderContext) Render(b *Body) error { return rc.renderBody(b) }

func (rc *RenderContext) renderBody(b *Body) error {
	if b == nil {
		return nil
	}
	for i, n := range b.nodes {
		if t, ok := n.(textNode); ok {
			if err := rc.WriteString(string(t)); err != nil {
				return err
			}
			continue
		}
		if err := rc.Step(1); err != nil {
			return err
		}
		if err := n.Render(rc); err != nil {
			if err := rc.handleError(err, n, b.lines[i]); err != nil {
				return err
			}
		}
		if len(rc.interrupts) > 0 {
			return nil
		}
	}
	return nil
}

// isFatal reports whether err must stop the render.
func (rc *RenderContext) isFatal(err error) bool {
	if rc.sh.opts.Strict {
		return true
	}
	var le *LimitError
	if errors.As(err, &le) && le.soft {
		return false
	}
	if errors.Is(err, ErrLimit) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var le2 *LookupError
	if errors.As(err, &le2) {
		return true // a value that could not be fetched must not read as nil
	}
	var ue *undefinedError
	return errors.As(err, &ue)
}

// handleError records a node's error and renders it inline, or returns it
// when it is fatal.
func (rc *RenderContext) handleError(err error, n Node, line int) error {
	err = rc.located(err, line)
	if rc.isFatal(err) {
		return err
	}
	rc.sh.errors = append(rc.sh.errors, err)
	if _, isOut := n.(*outputNode); isOut || !nodeBlank(n) {
		return rc.WriteString(errorText(err))
	}
	return nil
}

// located attaches the node's line and template name to err, once.
func (rc *RenderContext) located(err error, line int) error {
	var re *RenderError
	if errors.As(err, &re) {
		return err
	}
	var le *LimitError
	if errors.As(err, &le) && !le.soft {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if !rc.template.lineNumbers {
		line = 0
	}
	return &RenderError{Line: line, Template: rc.templateName, Err: err}
}

// ReportError records err like a failed node: it fails the render in strict
// mode, otherwise it is kept and its message written inline.
func (rc *RenderContext) ReportError(err error) error {
	if rc.isFatal(err) {
		return err
	}
	rc.sh.errors = append(rc.sh.errors, err)
	return rc.WriteString(errorText(err))
}

// Errors returns the errors recorded so far in this render.
func (rc *RenderContext) Errors() []error { return rc.sh.errors }

func (rc *RenderContext) undefinedVariable(name string) error {
	if rc.sh.opts.StrictVariables {
		return &undefinedError{"undefined variable " + name}
	}
	return nil
}

func (rc *RenderContext) findVariable(name string) (any, bool) {
	for i := len(rc.scopes) - 1; i >= 0; i-- {
		if v, ok := rc.scopes[i].Get(name); ok {
			return v, true
		}
	}
	if rc.counters != nil {
		if v, ok := rc.counters.Get(name); ok {
			return v, true
		}
	}
	if v, ok := rc.env.Get(name); ok {
		return v, true
	}
	if v, ok := rc.sh.globals.Get(name); ok {
		return v, true
	}
	return nil, false
}

// Get returns the variable called name as a template would see it.
func (rc *RenderContext) Get(name string) (any, bool) { return rc.findVariable(name) }

// Set assigns a variable in the template's outermost scope, as assign does.
func (rc *RenderContext) Set(name string, v any) { rc.scopes[0].Set(name, v) }

// SetLocal assigns a variable in the innermost scope (like a loop variable).
func (rc *RenderContext) SetLocal(name string, v any) { rc.scopes[len(rc.scopes)-1].Set(name, v) }

// PushScope opens a new innermost scope; PopScope closes it.
// Like Ruby, the depth counted is the render nesting plus the open scopes.
func (rc *RenderContext) PushScope() error {
	if rc.depth+len(rc.scopes)+1 > rc.sh.limits.Depth {
		return rc.depthError()
	}
	rc.scopes = append(rc.scopes, value.NewMap(2))
	return nil
}

// PopScope closes the innermost scope opened by PushScope.
func (rc *RenderContext) PopScope() {
	rc.scopes = rc.scopes[:len(rc.scopes)-1]
}

// Interrupted reports whether a break or continue is pending.
func (rc *RenderContext) Interrupted() bool { return len(rc.interrupts) > 0 }

// popInterrupt removes the innermost pending interrupt.
func (rc *RenderContext) popInterrupt() int {
	n := len(rc.interrupts)
	if n == 0 {
		return interruptNone
	}
	it := rc.interrupts[n-1]
	rc.interrupts = rc.interrupts[:n-1]
	return it
}

// SetPath assigns v at name[k1][k2]…: the last container must already be a
// hash (string key) or an array (integer index within bounds, negative from
// the end); intermediate hashes are not created.
func (rc *RenderContext) SetPath(name string, keys []any, v any) error {
	if len(keys) == 0 {
		rc.Set(name, v)
		return nil
	}
	rc.NoteInPlaceChange()
	obj, _ := rc.findVariable(name)
	for i, k := range keys {
		last := i == len(keys)-1
		switch o := obj.(type) {
		case *value.Map:
			ks, ok := k.(string)
			if !ok {
				ks = value.ToS(k)
			}
			if last {
				o.Set(ks, v)
				return nil
			}
			obj, _ = o.Get(ks)
		case []any:
			idx, ok := k.(int64)
			if !ok {
				return &RuntimeError{Msg: "no implicit conversion of " + value.TypeName(k) + " into Integer"}
			}
			if idx < 0 {
				idx += int64(len(o))
			}
			if idx < 0 || idx >= int64(len(o)) {
				return &RuntimeError{Msg: "index " + strconv.FormatInt(idx, 10) + " outside of array"}
			}
			if last {
				o[idx] = v
				return nil
			}
			obj = o[idx]
		default:
			return &RuntimeError{Msg: "cannot assign into " + value.TypeName(obj)}
		}
	}
	return nil
}

func (rc *RenderContext) applyFilter(f *filterCall, input any) (any, error) {
	fn := f.fn
	if fn == nil {
		fn = rc.sh.eng.filters[f.name]
		if fn == nil {
			if rc.sh.opts.StrictFilters {
				return nil, &undefinedError{"undefined filter " + f.name}
			}
			return input, nil
		}
	}
	if err := rc.chargeRange(input); err != nil {
		return nil, err
	}
	if _, lazy := input.(value.Lister); lazy {
		var err error
		if input, err = rc.materialize(input, -1, nil); err != nil {
			return nil, err
		}
	}
	var args []any
	if len(f.args) > 0 {
		args = make([]any, len(f.args))
		for i, a := range f.args {
			v, err := a.Evaluate(rc)
			if err != nil {
				return nil, err
			}
			if _, lazy := v.(value.Lister); lazy {
				if v, err = rc.materialize(v, -1, a); err != nil {
					return nil, err
				}
			}
			if err := rc.chargeRange(v); err != nil {
				return nil, err
			}
			args[i] = v
		}
	}
	var kw *value.Map
	if len(f.kwKeys) > 0 {
		kw = value.NewMap(len(f.kwKeys))
		for i, k := range f.kwKeys {
			v, err := f.kwArgs[i].Evaluate(rc)
			if err != nil {
				return nil, err
			}
			kw.Set(k, v)
		}
	}
	charges := rc.sh.charges
	out, err := callFilter(fn, rc, input, args, kw)
	if err != nil {
		return nil, err
	}
	switch out.(type) {
	case nil, string, int64, float64, bool, []any, *value.Map:
	default:
		out = value.Normalize(out)
	}
	if s, ok := out.(string); ok {
		sh := rc.sh
		if int64(len(s)) > sh.limits.OutputBytes {
			return nil, &LimitError{Limit: "output bytes", Max: sh.limits.OutputBytes}
		}
		if s != input {
			// A new string: its bytes count as written.
			if sh.bytes += int64(len(s)); sh.bytes > sh.maxWritten {
				return nil, &LimitError{Limit: "bytes written", Max: sh.maxWritten}
			}
		}
	}
	if rc.sh.charges == charges {
		// The filter did not charge for its result: charge what is new
		// in it (the elements of a new array or hash already exist).
		if err := rc.chargeResult(out, input); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadPartial parses (once per render) the partial called name.
func (rc *RenderContext) loadPartial(name string) (*Template, error) {
	if t, ok := rc.sh.partials[name]; ok {
		return t, nil
	}
	if rc.sh.opts.Partials == nil {
		return nil, &RuntimeError{Msg: "This liquid context does not allow includes."}
	}
	src, err := rc.sh.opts.Partials.Load(name)
	if err != nil {
		return nil, &RuntimeError{Msg: err.Error()}
	}
	t, err := rc.sh.eng.ParseOpts(src, ParseOptions{Strict: rc.template.strict, LineNumbers: rc.template.lineNumbers})
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) && !rc.template.lineNumbers {
			return nil, &SyntaxError{Msg: se.Msg}
		}
		return nil, err
	}
	if rc.sh.partials == nil {
		rc.sh.partials = map[string]*Template{}
	}
	rc.sh.partials[name] = t
	return t, nil
}

// forloopDrop is the forloop object.
type forloopDrop struct {
	name   string
	length int64
	index  int64
	parent *forloopDrop
}

func (f *forloopDrop) Get(key string) (any, bool) {
	switch key {
	case "name":
		return f.name, true
	case "length":
		return f.length, true
	case "index":
		return f.index + 1, true
	case "index0":
		return f.index, true
	case "rindex":
		return f.length - f.index, true
	case "rindex0":
		return f.length - f.index - 1, true
	case "first":
		return f.index == 0, true
	case "last":
		return f.index == f.length-1, true
	case "parentloop":
		if f.parent == nil {
			return nil, true
		}
		return f.parent, true
	}
	return nil, false
}

// LiquidString is how Ruby prints the drop.
func (f *forloopDrop) LiquidString() string { return "Liquid::ForloopDrop" }

type tablerowDrop struct {
	length, index, row, col, cols int64
}

func (t *tablerowDrop) Get(key string) (any, bool) {
	switch key {
	case "length":
		return t.length, true
	case "index":
		return t.index + 1, true
	case "index0":
		return t.index, true
	case "rindex":
		return t.length - t.index, true
	case "rindex0":
		return t.length - t.index - 1, true
	case "first":
		return t.index == 0, true
	case "last":
		return t.index == t.length-1, true
	case "col":
		return t.col, true
	case "col0":
		return t.col - 1, true
	case "row":
		return t.row, true
	case "col_first":
		return t.col == 1, true
	case "col_last":
		return t.col == t.cols, true
	}
	return nil, false
}

// LiquidString is how Ruby prints the drop.
func (t *tablerowDrop) LiquidString() string { return "Liquid::TablerowloopDrop" }

// Filter work charges: how many elements of an array or hash, and how
// many bytes of a string, handed to a filter count as one step. They are
// coarse so that the common accumulation {% assign a = a | push: x %}
// over thousands of items stays well within the default step budget.
const (
	elementsPerStep    = 64
	stringBytesPerStep = 256
)

// chargeRange charges the work a filter may do on a value handed to it: a
// step per element of a range (which the filter may expand), a step per
// elementsPerStep elements of an array or hash and per stringBytesPerStep
// bytes of a string. A huge range fails on the step limit instead of
// exhausting memory, and a loop that sorts or splits a large value on
// every iteration runs out of steps instead of running for hours.
func (rc *RenderContext) chargeRange(v any) error {
	var n int64
	switch x := v.(type) {
	case value.Range:
		n = x.Len()
	case []any:
		n = int64(len(x)) / elementsPerStep
	case *value.Map:
		n = int64(x.Len()) / elementsPerStep
	case string:
		n = int64(len(x)) / stringBytesPerStep
	}
	if n == 0 {
		return nil
	}
	return rc.Step(n)
}

// callFilter runs a filter, turning a panic into Ruby's internal error.
func callFilter(fn filter.Func, rc *RenderContext, input any, args []any, kw *value.Map) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &RuntimeError{Msg: "internal"}
		}
	}()
	return fn(rc, input, args, kw)
}
