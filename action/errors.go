package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind sorts the errors of an action run by what the queue should do next.
type Kind int

const (
	// KindNone is the kind of a nil error.
	KindNone Kind = iota
	// KindInvalid means the action's options are wrong; the run fails at
	// once and is never retried.
	KindInvalid
	// KindTransient means the run may succeed if tried again later (a
	// connection error, a timeout, a 5xx response with error_on_5xx).
	KindTransient
	// KindFailed means the action was performed, or could not be, in a way
	// that retrying will not change; the run fails without retries.
	KindFailed
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindInvalid:
		return "invalid"
	case KindTransient:
		return "transient"
	case KindFailed:
		return "failed"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ValidationError reports an action option that is missing or wrong. It is
// permanent: performing the same options again would fail the same way.
type ValidationError struct {
	// Type is the action type, e.g. "http".
	Type string
	// Field names the option, as a path such as "headers.Accept" or
	// "files.report.csv"; empty when the options as a whole are wrong.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error returns e.g. `http action: option "method": must be one of ...`.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(" action: ")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "option %q: ", e.Field)
	} else {
		b.WriteString("options: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Invalid returns a *ValidationError for option field of action type typ.
func Invalid(typ, field, format string, args ...any) *ValidationError {
	return &ValidationError{Type: typ, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// kindError attaches a kind and an optional result to an error.
type kindError struct {
	kind   Kind
	err    error
	result *Result
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// Transient marks err as transient: the queue should retry the run. It
// returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: KindTransient, err: err}
}

// Failed marks err as a permanent failure of a performed action: the run
// fails and is not retried. It returns nil for a nil err.
func Failed(err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: KindFailed, err: err}
}

// WithResult attaches a result to err, for runs that completed but count as
// failures (an HTTP 5xx response with error_on_5xx, say); the recorder may
// keep it alongside the error. The kind of err is kept. It returns nil for a
// nil err.
func WithResult(err error, res Result) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: Classify(err), err: err, result: &res}
}

// ResultOf returns the result attached to err by WithResult, if any.
func ResultOf(err error) (Result, bool) {
	var ke *kindError
	for e := err; errors.As(e, &ke); e = ke.err {
		if ke.result != nil {
			return *ke.result, true
		}
	}
	return Result{}, false
}

// Classify tells what kind of error err is. Errors wrapping a
// *ValidationError are KindInvalid; errors marked with Transient, and
// context cancellation or deadline errors (the worker gave up on the run,
// not the action), are KindTransient; errors marked with Failed and all
// other errors are KindFailed. The outermost mark wins.
func Classify(err error) Kind {
	if err == nil {
		return KindNone
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return KindInvalid
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindTransient
	}
	return KindFailed
}

// Retryable reports whether the queue should retry a run that failed with
// err.
func Retryable(err error) bool {
	return Classify(err) == KindTransient
}
