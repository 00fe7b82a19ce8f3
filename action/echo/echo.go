// Package echo implements Mechanic's echo action: it has no effects and
// returns the options it was given as its result, which makes it a safe
// stand-in for another action while developing a task.
//
// An "__error" option makes the run fail with that message instead, without
// failing the task run that rendered it. Echo runs never produce
// mechanic/actions/perform events.
package echo

import (
	"context"
	"errors"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type name echo is registered under.
const Type = "echo"

// ErrorOption is the option that forces the run to fail with its value as
// the error message.
const ErrorOption = "__error"

// Performer performs echo actions. The zero value is ready to use.
type Performer struct{}

// New returns an echo performer.
func New() *Performer { return &Performer{} }

// Validate accepts any JSON value, which is all echo asks of its options.
func (*Performer) Validate(options any) error {
	if err := action.CheckJSON(options); err != nil {
		return &action.ValidationError{Type: Type, Msg: err.Error()}
	}
	return nil
}

// EmitsPerformEvent reports false: echo runs produce no
// mechanic/actions/perform events.
func (*Performer) EmitsPerformEvent() bool { return false }

// Perform returns the options as the result, or fails permanently with the
// message given by an "__error" option (unless that is nil or false, as
// Ruby would treat them).
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	if err := p.Validate(req.Options); err != nil {
		return action.Result{}, err
	}
	if m, ok := req.Options.(*value.Map); ok {
		if v, ok := m.Get(ErrorOption); ok && value.Truthy(v) {
			return action.Result{}, action.Failed(errors.New(value.ToS(v)))
		}
	}
	return action.Result{Value: req.Options}, nil
}
