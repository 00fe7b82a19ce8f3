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

// Charger is implemented by contexts that keep a memory budget (the
// engine's render context): Charge counts n bytes a filter is about to
// allocate, ChargeValue the memory of a value it built (a parsed document),
// and each fails once the render holds more than its budget. A filter that
// charges for its result is not charged again by the engine.
type Charger interface {
	Charge(n int64) error
	ChargeValue(v any) error
}

// Charge charges n bytes to c's memory budget before a filter allocates
// them; contexts without a budget accept everything.
func Charge(c Context, n int64) error {
	if ch, ok := c.(Charger); ok {
		return ch.Charge(n)
	}
	return nil
}

// ChargeValue charges the memory of v, a value a filter built, to c's
// memory budget.
func ChargeValue(c Context, v any) error {
	if ch, ok := c.(Charger); ok {
		return ch.ChargeValue(v)
	}
	return nil
}
