package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

// TaskSubscriptions lists tasks without their definitions (Definition is
// nil): the cheap read the run pipeline makes for every event run to match
// subscriptions. With enabledOnly, only enabled tasks; with ids, only those
// tasks (missing ids are skipped). Order is unspecified.
func (s *Store) TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error) {
	var c conds
	if enabledOnly {
		c.parts = append(c.parts, "enabled")
	}
	if len(ids) > 0 {
		c.add("id = ANY(?)", ids)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, enabled, subscriptions, created_at, updated_at FROM tasks`+c.where(), c.args...)
	if err != nil {
		return nil, ctxErr(ctx, err, "task subscriptions")
	}
	return collect(ctx, rows, "task subscriptions", func(r pgx.Row) (store.Task, error) {
		var (
			t                store.Task
			subs             *string
			created, updated int64
		)
		if err := r.Scan(&t.ID, &t.Name, &t.Enabled, &subs, &created, &updated); err != nil {
			return t, err
		}
		var err error
		if t.Subscriptions, err = decodeStrings(subs); err != nil {
			return t, fmt.Errorf("task %s: %w", t.ID, err)
		}
		t.CreatedAt, t.UpdatedAt = fromMicro(created), fromMicro(updated)
		return t, nil
	})
}
