package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sprocketrun/sprocket/store"
)

// ErrNotRetryable is returned by CanRetry for runs Mechanic would not let
// a user retry.
var ErrNotRetryable = errors.New("run cannot be retried")

// ErrWrongKind is returned by RetryRun when the run is not of the kind the
// caller named (say, an action run id under /v1/task_runs/).
var ErrWrongKind = errors.New("run is of another kind")

// CanRetry applies Mechanic's manual retry rules (docs: core/runs/retries.md):
// a retry discards the run's result, so runs with a meaningful result are
// not retryable. Event runs may be retried when they failed or started no
// task runs, task runs when they failed or created no action runs, action
// runs only when they failed; unfinished runs never. It is the one place
// that decides: RetryRun (and so Pipeline.Retry and the API) call it.
func CanRetry(r store.Run) error {
	if !r.Status.Finished() {
		return fmt.Errorf("%w: the run is %s; only finished runs can be retried", ErrNotRetryable, r.Status)
	}
	if r.Status == store.StatusFailed {
		return nil
	}
	switch r.Kind {
	case store.KindEvent:
		if !listsSomething(r.Result) { // no task runs (or stopped by a filter)
			return nil
		}
		return fmt.Errorf("%w: the event run succeeded and created task runs; only event runs that failed or started no task runs can be retried", ErrNotRetryable)
	case store.KindTask:
		if !listsSomething(r.Result) {
			return nil
		}
		return fmt.Errorf("%w: the task run succeeded and produced actions; only task runs that failed or produced no actions can be retried", ErrNotRetryable)
	}
	return fmt.Errorf("%w: the action run succeeded; only failed action runs can be retried", ErrNotRetryable)
}

// listsSomething reports whether a run result is a non-empty array: a
// successful event run's result lists its task runs, a task run's its
// actions.
func listsSomething(b []byte) bool {
	var items []json.RawMessage
	return json.Unmarshal(b, &items) == nil && len(items) > 0
}

// RetryStore is what RetryRun needs: reading a run and retrying it.
type RetryStore interface {
	// GetRun reads a run.
	GetRun(ctx context.Context, id string) (store.Run, error)
	// RetryRun makes a finished run pending and due now.
	RetryRun(ctx context.Context, id string) (store.Run, error)
}

// checkedRetrier is implemented by stores that can check a run and retry
// it in one transaction (store/sqlite does), so that two concurrent
// retries cannot both pass the check.
type checkedRetrier interface {
	RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error)
}

// RetryRun performs a manual retry of run id after checking it with
// CanRetry and, when kind is not empty, that the run is of that kind
// (ErrWrongKind). Errors wrap ErrNotRetryable, ErrWrongKind,
// store.ErrNotFound or the store's error.
func RetryRun(ctx context.Context, st RetryStore, id string, kind store.RunKind) (store.Run, error) {
	check := func(r store.Run) error {
		if kind != "" && r.Kind != kind {
			return fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, id, kindName(r.Kind), kindName(kind))
		}
		return CanRetry(r)
	}
	if cr, ok := st.(checkedRetrier); ok {
		r, err := cr.RetryRunChecked(ctx, id, check)
		if err != nil {
			return store.Run{}, fmt.Errorf("retry run %s: %w", id, err)
		}
		return r, nil
	}
	cur, err := st.GetRun(ctx, id)
	if err != nil {
		return store.Run{}, fmt.Errorf("retry run %s: %w", id, err)
	}
	if err := check(cur); err != nil {
		return store.Run{}, fmt.Errorf("retry run %s: %w", id, err)
	}
	r, err := st.RetryRun(ctx, id)
	if err != nil {
		return store.Run{}, fmt.Errorf("retry run %s: %w", id, err)
	}
	return r, nil
}

// kindName is a run kind in words ("task run").
func kindName(k store.RunKind) string {
	switch k {
	case store.KindEvent:
		return "event run"
	case store.KindTask:
		return "task run"
	case store.KindAction:
		return "action run"
	}
	return string(k)
}
