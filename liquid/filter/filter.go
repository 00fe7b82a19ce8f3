// Package filter defines the signature of Liquid filters and holds the
// standard filters of Shopify's Ruby Liquid 5.4.
//
// A filter is a small function from an input value and its arguments to a
// new value. Filters see values in the canonical representation of package
// value and must not modify their input.
package filter

import (
	"context"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Func is a filter. args holds the positional arguments and kwargs the
// keyword arguments (name: value) in source order; kwargs is nil when there
// are none. A returned error is rendered by the engine as
// "Liquid error: <message>" in lax mode and fails the render in strict mode,
// so its message should read like Ruby Liquid's.
type Func func(c Context, input any, args []any, kwargs *value.Map) (any, error)

// Context is what a filter may learn about the render calling it.
type Context interface {
	// Context is the render's context; long-running filters must honour it.
	Context() context.Context
	// Now is the current time of the render, in its time zone.
	Now() time.Time
}

// Error is a filter failure whose message is shown to the template author.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf builds an *Error.
func Errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}
