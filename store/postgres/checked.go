package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

// These methods match store/sqlite's methods of the same names, which the
// server and the pipeline use when the store offers them. The checks read
// the row with FOR UPDATE, so a check and the write it guards cannot be
// separated by another node's write.

// RetryRunChecked is RetryRun with a check of the run as stored, made in
// the same transaction: when check returns an error nothing changes and the
// error is returned (wrapped).
func (s *Store) RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error) {
	var out store.Run
	err := s.inTx(ctx, "retry run", func(tx pgx.Tx) error {
		if check != nil {
			cur, err := scanRun(tx.QueryRow(ctx, `SELECT `+runCols+` FROM runs WHERE id = $1 FOR UPDATE`, id))
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("run", id)
			}
			if err != nil {
				return fmt.Errorf("read run %q: %w", id, err)
			}
			if err := check(cur); err != nil {
				return fmt.Errorf("retry run %q: %w", id, err)
			}
		}
		r, err := s.retryRun(ctx, tx, id)
		out = r
		return err
	})
	return out, err
}

// SetTaskEnabled changes only a task's enabled flag, in one statement: it
// never conflicts with concurrent content updates, and concurrent calls
// apply in order (the last one wins).
func (s *Store) SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error) {
	return s.SetTaskEnabledChecked(ctx, id, enabled, nil)
}

// SetTaskEnabledChecked is SetTaskEnabled with a check of the task as
// stored, made in the same transaction: when check fails nothing changes
// and its error is returned (wrapped).
func (s *Store) SetTaskEnabledChecked(ctx context.Context, id string, enabled bool, check func(store.Task) error) (store.Task, error) {
	var out store.Task
	err := s.inTx(ctx, "set task enabled", func(tx pgx.Tx) error {
		if check != nil {
			cur, err := scanTask(tx.QueryRow(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1 FOR UPDATE`, id))
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("task", id)
			}
			if err != nil {
				return fmt.Errorf("read task %q: %w", id, err)
			}
			if err := check(cur); err != nil {
				return fmt.Errorf("set task %q enabled: %w", id, err)
			}
		}
		t, err := scanTask(tx.QueryRow(ctx, `UPDATE tasks SET enabled = $1, updated_at = $2 WHERE id = $3 RETURNING `+taskCols,
			enabled, s.nowMicro(), id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("task", id)
		}
		if err != nil {
			return fmt.Errorf("set task %q enabled: %w", id, err)
		}
		out = t
		return nil
	})
	return out, err
}

// UpdateTaskContent replaces a task's name, subscriptions and definition
// (never its enabled flag) in one transaction, recording a new version when
// the content changed. check, when set, sees the task as stored (locked)
// and may refuse the update; its error is returned wrapped and nothing
// changes. Concurrent updates apply one after the other.
func (s *Store) UpdateTaskContent(ctx context.Context, id, name string, subscriptions []string, definition json.RawMessage,
	check func(store.Task) error) (store.Task, error) {
	if err := validJSON("task definition", definition); err != nil {
		return store.Task{}, fmt.Errorf("update task: %w", err)
	}
	subs, err := encodeStrings(subscriptions)
	if err != nil {
		return store.Task{}, fmt.Errorf("update task: %w", err)
	}
	var out store.Task
	err = s.inTx(ctx, "update task content", func(tx pgx.Tx) error {
		cur, err := scanTask(tx.QueryRow(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("task", id)
		}
		if err != nil {
			return fmt.Errorf("read task %q: %w", id, err)
		}
		if check != nil {
			if err := check(cur); err != nil {
				return fmt.Errorf("update task %q: %w", id, err)
			}
		}
		def := jsonOrNull(definition)
		out, err = scanTask(tx.QueryRow(ctx, `UPDATE tasks SET name = $1, subscriptions = $2, definition = $3, updated_at = $4 WHERE id = $5 RETURNING `+taskCols,
			name, subs, def, s.nowMicro(), id))
		if err != nil {
			return fmt.Errorf("update task %q: %w", id, err)
		}
		oldSubs, err := encodeStrings(cur.Subscriptions)
		if err != nil {
			return fmt.Errorf("update task %q: %w", id, err)
		}
		if name != cur.Name || subs != oldSubs || def != jsonOrNull(cur.Definition) {
			if err := saveTaskVersion(ctx, tx, id, name, subs, def, micro(out.UpdatedAt)); err != nil {
				return fmt.Errorf("update task %q: %w", id, err)
			}
		}
		return nil
	})
	return out, err
}
