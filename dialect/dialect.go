// Package dialect adds Mechanic's Liquid dialect to Sprocket's Liquid
// engine: the action, log, error and permissions tags, assignment into hash
// keys and array indexes, the array, hash and newline keyword literals,
// Mechanic's filters and the shopify GraphQL filter.
//
// Everything is added through the engine's extension points by Register.
// State that belongs to one task run (preview mode, the GraphQL client,
// the queries the shopify filter saw) travels in the render's
// context.Context: see WithRun.
package dialect

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"github.com/sprocketrun/sprocket/dialect/filters"
	"github.com/sprocketrun/sprocket/liquid"
)

// GraphQLClient runs read-only Shopify Admin GraphQL queries for the
// shopify filter.
type GraphQLClient interface {
	// GraphQL runs query with variables (nil or a hash) and returns the
	// whole response: a hash with "data" and possibly "errors" and
	// "extensions".
	GraphQL(ctx context.Context, query string, variables any) (any, error)
}

// Options configure Register.
type Options struct {
	// GraphQL is the client the shopify filter uses when the run state
	// (WithRun) names none. Without any client the filter fails with an
	// error, except in previews, which get an empty GraphQL result.
	GraphQL GraphQLClient
}

// Register adds Mechanic's dialect to e: call it before parsing templates
// with e, since filters and tags are resolved at parse time.
func Register(e *liquid.Engine, opts Options) {
	// Mechanic runs in Rails: "x == blank" uses ActiveSupport's blank?.
	e.SetActiveSupport(true)
	for name, fn := range filters.Mechanic() {
		e.RegisterFilter(name, fn)
	}
	registerNewlineFilters(e)
	e.RegisterFilter("shopify", shopifyFilter(opts.GraphQL))

	registerKeywords(e)

	e.RegisterTag("action", liquid.TagFunc(parseAction))
	e.RegisterTag("log", liquid.TagFunc(func(tp *liquid.TagParser) (liquid.Node, error) {
		return parseObjectTag(tp, "log")
	}))
	e.RegisterTag("error", liquid.TagFunc(func(tp *liquid.TagParser) (liquid.Node, error) {
		return parseObjectTag(tp, "error")
	}))
	e.RegisterTag("permissions", liquid.TagFunc(parsePermissions))
	registerAssign(e)
}

// NewEngine returns a Liquid engine with the standard tags and filters and
// Mechanic's dialect registered.
func NewEngine(opts Options) *liquid.Engine {
	e := liquid.NewEngine()
	Register(e, opts)
	return e
}

// RunState is the state of one task run that the dialect's tags and
// filters consult. Put it in the render's context with WithRun.
type RunState struct {
	// Preview marks a preview run: the shopify filter does not call the
	// API and returns an empty result instead.
	Preview bool
	// GraphQL, when set, is the client the shopify filter uses in this run.
	GraphQL GraphQLClient

	mu      sync.Mutex
	queries []string
	owned   map[*any]int // arrays assign may grow in place → their length
}

// Queries returns the GraphQL queries the shopify filter received during
// the run, in order, for permission inference.
func (s *RunState) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *RunState) addQuery(q string) {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
}

type runKey struct{}

// WithRun returns a context carrying the run state s.
func WithRun(ctx context.Context, s *RunState) context.Context {
	return context.WithValue(ctx, runKey{}, s)
}

// RunFrom returns the run state carried by ctx, or nil.
func RunFrom(ctx context.Context) *RunState {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(runKey{}).(*RunState)
	return s
}

// rePermissions finds {% permissions %} blocks in task code.
var rePermissions = regexp.MustCompile(`(?s)\{%-?\s*permissions\s*-?%\}(.*?)\{%-?\s*endpermissions\s*-?%\}`)

// Permissions returns the scopes declared in the {% permissions %} blocks
// of task code, in order, each once. The block is static: its body is not
// Liquid, and scopes are separated by whitespace or commas (docs:
// platform/liquid/tags/permissions.md).
func Permissions(script string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range rePermissions.FindAllStringSubmatch(script, -1) {
		for _, s := range strings.FieldsFunc(m[1], func(r rune) bool {
			return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
		}) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
