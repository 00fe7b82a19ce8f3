package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sprocketrun/sprocket/store"
)

// ErrNotRetryable is returned by CanRetry for runs Mechanic would not let
// a user retry.
var ErrNotRetryable = errors.New("run cannot be retried")

// CanRetry applies Mechanic's manual retry rules (docs: core/runs/retries.md):
// a retry discards the run's result, so runs with a meaningful result are
// not retryable. Event runs may be retried when they failed or started no
// task runs, task runs when they failed or created no action runs, action
// runs only when they failed; unfinished runs never. Pipeline.Retry itself
// does not check; an API offering retries to users should.
func CanRetry(r store.Run) error {
	if !r.Status.Finished() {
		return fmt.Errorf("%w: the run is %s", ErrNotRetryable, r.Status)
	}
	if r.Status == store.StatusFailed {
		return nil
	}
	switch r.Kind {
	case store.KindEvent:
		if !listsSomething(r.Result) { // no task runs (or stopped by a filter)
			return nil
		}
		return fmt.Errorf("%w: the event run already created task runs", ErrNotRetryable)
	case store.KindTask:
		if !listsSomething(r.Result) {
			return nil
		}
		return fmt.Errorf("%w: the task run already created action runs", ErrNotRetryable)
	}
	return fmt.Errorf("%w: only failed action runs may be retried", ErrNotRetryable)
}

// listsSomething reports whether a run result is a non-empty array: a
// successful event run's result lists its task runs, a task run's its
// actions.
func listsSomething(b []byte) bool {
	var items []json.RawMessage
	return json.Unmarshal(b, &items) == nil && len(items) > 0
}
