// Package liquid is Sprocket's Liquid template engine, faithful to
// Shopify's Ruby Liquid 5.4: templates are parsed once into a tree of nodes
// and rendered many times, concurrently, within step, output and depth
// limits.
//
// Parsing follows Ruby's lax error mode by default (the strict parser is
// tried first and Ruby's lax regexps take over when it fails); ParseOptions
// selects strict mode. Rendering reproduces Ruby's output byte for byte,
// including inline "Liquid error: …" messages in lax mode.
//
// Extending the language: RegisterTag adds a Tag, whose Parse receives a
// *TagParser with the tag's markup and line. It can parse expressions
// (ParseExpression, ParseFilteredExpression, ParseCondition,
// ParseArguments) and read its body as Liquid (ParseBody, ParseBlock) or as
// raw text (RawBody), and returns a Node. At render time Node.Render gets a
// *RenderContext to read and set variables (Get, Set, SetLocal, SetPath),
// render bodies (Render, RenderBody), write output, report errors and
// charge steps. RegisterKeyword adds literals such as "newline" that
// evaluate afresh unless a variable shadows them, and RegisterFilter adds
// filters (package filter).
package liquid

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Engine holds the tags, filters and keyword literals templates use.
// Configure it before parsing; it must not be changed while in use.
type Engine struct {
	filters       map[string]filter.Func
	tags          map[string]Tag
	keywords      map[string]func() any
	activeSupport bool
}

// SetActiveSupport switches "x == blank" to Rails semantics, as in a Rails
// app such as Mechanic where ActiveSupport defines blank?: nil, false,
// whitespace-only strings and empty arrays and hashes are blank. Plain Ruby
// Liquid 5.4 (the default) has no blank? and such comparisons are false.
func (e *Engine) SetActiveSupport(on bool) { e.activeSupport = on }

// NewEngine returns an engine with all standard tags and filters.
func NewEngine() *Engine {
	e := &Engine{
		filters:  map[string]filter.Func{},
		tags:     map[string]Tag{},
		keywords: map[string]func() any{},
	}
	maps.Copy(e.filters, standardFilters())
	registerStandardTags(e)
	return e
}

// RegisterFilter adds or replaces a filter.
func (e *Engine) RegisterFilter(name string, fn filter.Func) { e.filters[name] = fn }

// RegisterTag adds or replaces a tag.
func (e *Engine) RegisterTag(name string, t Tag) { e.tags[name] = t }

// RegisterKeyword makes name a literal whose value is computed by fn on
// each evaluation, unless a variable of that name exists.
func (e *Engine) RegisterKeyword(name string, fn func() any) { e.keywords[name] = fn }

// Filter returns the filter registered under name.
func (e *Engine) Filter(name string) (filter.Func, bool) {
	f, ok := e.filters[name]
	return f, ok
}

// ParseOptions configure parsing.
type ParseOptions struct {
	// Strict is Ruby's error_mode :strict: markup the lax parser tolerates
	// becomes a syntax error.
	Strict bool
	// LineNumbers makes runtime errors carry their line, as Ruby's
	// line_numbers option does: "Liquid error (line 3): …".
	LineNumbers bool
}

// Template is a parsed template. It is immutable and safe to render from
// many goroutines at once.
type Template struct {
	sizeHint    int // initial output buffer size
	root        *Body
	eng         *Engine
	strict      bool
	lineNumbers bool
}

// Parse parses source in lax error mode (Ruby's default).
func (e *Engine) Parse(source string) (*Template, error) {
	return e.ParseOpts(source, ParseOptions{})
}

// ParseOpts parses source with options.
func (e *Engine) ParseOpts(source string, o ParseOptions) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &InternalError{Panic: r}
		}
	}()
	p := &parser{eng: e, strict: o.Strict}
	root, err := p.parseDocument(source)
	if err != nil {
		return nil, err
	}
	return &Template{root: root, eng: e, strict: o.Strict, lineNumbers: o.LineNumbers, sizeHint: min(max(len(source), 256), 1<<16)}, nil
}

// Render renders the template with vars (normalized with value.Normalize).
// In lax mode runtime errors are rendered inline as Ruby does and the error
// result is nil; exceeded limits, cancellation, and (in the strict modes)
// runtime errors fail the render. The output produced before a failure is
// returned with the error.
func (t *Template) Render(ctx context.Context, vars map[string]any, o *RenderOptions) (string, error) {
	if o == nil {
		o = &RenderOptions{}
	}
	env := value.NewMap(len(vars))
	for k, v := range vars {
		env.Set(k, value.Normalize(v))
	}
	return t.RenderMap(ctx, env, o)
}

// RenderMap is Render with variables already in canonical form. The engine
// does not modify env itself, but tags that assign into existing hashes or
// arrays (SetPath) change them in place, as Ruby does.
func (t *Template) RenderMap(ctx context.Context, env *value.Map, o *RenderOptions) (out string, err error) {
	if o == nil {
		o = &RenderOptions{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sh := &shared{ctx: ctx, eng: t.eng, opts: o, limits: o.Limits.resolved()}
	sh.maxWritten = sh.limits.OutputBytes * WrittenFactor
	if sh.maxWritten/WrittenFactor != sh.limits.OutputBytes {
		sh.maxWritten = 1<<63 - 1
	}
	if len(o.Globals) > 0 {
		sh.globals = value.NewMap(len(o.Globals))
		for k, v := range o.Globals {
			sh.globals.Set(k, value.Normalize(v))
		}
	}
	if env == nil {
		env = value.NewMap(0)
	}
	rc := &RenderContext{sh: sh, env: env, template: t, buf: make([]byte, 0, t.sizeHint)}
	rc.scopes = []*value.Map{value.NewMap(8)}
	sh.frames = append(sh.frameBuf[:0], rc)
	defer func() {
		if r := recover(); r != nil {
			out, err = string(rc.buf), &InternalError{Panic: r}
		}
		if o.Errors != nil {
			*o.Errors = append(*o.Errors, sh.errors...)
		}
	}()
	err = rc.renderBody(t.root)
	if err != nil {
		var le *LimitError
		var re *RenderError
		if !errors.As(err, &le) && !errors.As(err, &re) {
			err = &RenderError{Err: err}
		}
	}
	return string(rc.buf), err
}

// InternalError is a bug in the engine (a recovered panic); it is never
// expected and is reported like Ruby's internal errors.
type InternalError struct {
	Panic any
}

// Error returns the message Ruby shows for internal errors.
func (e *InternalError) Error() string { return "Liquid error: internal" }

// FilterNames returns the names of the registered filters, sorted (for
// editor completion).
func (e *Engine) FilterNames() []string { return slices.Sorted(maps.Keys(e.filters)) }

// TagNames returns the names of the registered tags, sorted (for editor
// completion).
func (e *Engine) TagNames() []string { return slices.Sorted(maps.Keys(e.tags)) }
