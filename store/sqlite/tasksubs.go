package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sprocketrun/sprocket/store"
)

// TaskSubscriptions lists tasks without their definitions (Definition is
// nil): the cheap read the run pipeline makes for every event run to match
// subscriptions. With enabledOnly, only enabled tasks; with ids, only those
// tasks (missing ids are skipped). Order is unspecified.
func (s *Store) TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error) {
	q := `SELECT id, name, enabled, subscriptions, created_at, updated_at FROM tasks`
	var conds []string
	var args []any
	if enabledOnly {
		conds = append(conds, "enabled = 1")
	}
	if len(ids) > 0 {
		conds = append(conds, "id IN (?"+strings.Repeat(", ?", len(ids)-1)+")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("task subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.Task
	for rows.Next() {
		var (
			t                store.Task
			subs             sql.NullString
			created, updated int64
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Enabled, &subs, &created, &updated); err != nil {
			return nil, fmt.Errorf("task subscriptions: %w", err)
		}
		if t.Subscriptions, err = decodeStrings(subs); err != nil {
			return nil, fmt.Errorf("task subscriptions: task %s: %w", t.ID, err)
		}
		t.CreatedAt, t.UpdatedAt = fromMicro(created), fromMicro(updated)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("task subscriptions: %w", err)
	}
	return out, nil
}
