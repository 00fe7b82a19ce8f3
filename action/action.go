// Package action defines how Sprocket performs action runs: the Performer
// interface every action type implements, the request and result they
// exchange, the three ways a run can go wrong (invalid options, transient
// failure, completed-but-failed) and a Registry that maps action type names
// to performers.
//
// A task run renders action objects {"type": T, "options": O, "meta": M};
// after the task run ends, each becomes an action run, performed by the
// performer registered for T. Its result (or error) is recorded on the run
// and may be handed back to the task as a mechanic/actions/perform event.
//
// Options and results are canonical values of package value: nil, bool,
// int64, *big.Int, float64, string, []any and *value.Map.
package action

import (
	"context"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Performer performs one action run of a particular action type.
//
// Perform returns the run's result on success. On failure it returns an
// error that Classify sorts into invalid options (never retried), a
// transient failure (retried by the queue) or a permanent failure; such an
// error may carry a partial result (see WithResult).
type Performer interface {
	Perform(ctx context.Context, req Request) (Result, error)
}

// Validator is implemented by performers that can check options before the
// action is performed, so that a task run can reject bad options early.
// The error should be a *ValidationError naming the offending option.
type Validator interface {
	Validate(options any) error
}

// PerformEventPolicy is implemented by performers whose action runs never
// produce a mechanic/actions/perform event (the echo action, for one).
type PerformEventPolicy interface {
	// EmitsPerformEvent reports whether runs of this type produce
	// mechanic/actions/perform events.
	EmitsPerformEvent() bool
}

// SecretResolver replaces secret references inside an action option with
// their raw values, immediately before an action uses them. Resolve reports
// whether any secret was resolved, so that performers can redact results.
type SecretResolver interface {
	Resolve(ctx context.Context, v any) (resolved any, used bool, err error)
}

// SecretRedactor is implemented by SecretResolvers that can remove the raw
// values of the secrets they resolved from text, so that results and error
// messages of secret-bearing actions do not expose them.
type SecretRedactor interface {
	Redact(s string) string
}

// RedactValue returns v with redact applied to every string in it, map
// keys included; maps and arrays are copied, v is not modified.
func RedactValue(v any, redact func(string) string) any {
	switch x := v.(type) {
	case string:
		return redact(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = RedactValue(e, redact)
		}
		return out
	case *value.Map:
		out := value.NewMap(x.Len())
		x.Each(func(k string, e any) bool {
			out.Set(redact(k), RedactValue(e, redact))
			return true
		})
		return out
	}
	return v
}

// Request is one action run to perform: the action as the task rendered it
// and metadata about the run.
type Request struct {
	// Type is the action type, e.g. "http".
	Type string
	// Options are the action's options, as rendered by the task, without
	// control parameters (see SplitControl).
	Options any
	// Meta is the action's meta value, if any.
	Meta any
	// TaskID identifies the task that rendered the action.
	TaskID string
	// TaskRunID identifies the task run that rendered the action.
	TaskRunID string
	// EventID identifies the event the task run responded to.
	EventID string
	// RunID identifies this action run.
	RunID string
	// Attempt counts attempts at this run, starting at 1.
	Attempt int
	// Secrets resolves secret references in options; nil means the options
	// contain none that can be resolved.
	Secrets SecretResolver
	// APIVersion is the Shopify Admin API version of the task run that
	// rendered the action ("2026-01"; docs: core/tasks/shopify-api-version.md),
	// which action runs inherit; "" means the connection's default.
	APIVersion string
}

// Result is what a successful action run produced.
type Result struct {
	// Value is the run's result, a canonical JSON value; it becomes
	// action.run.result in a mechanic/actions/perform event.
	Value any
	// Meta holds performance data about the run (action.run.result_meta);
	// nil when there is none.
	Meta *value.Map
}
