package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

// pruneBatch is how many events one prune transaction deletes.
const pruneBatch = 500

// Prune deletes finished events (with their runs) and expired cache
// entries, in batches of pruneBatch events per transaction. Rows being
// changed by other nodes are skipped (SKIP LOCKED) and left to a later pass.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (store.PruneStats, error) {
	var st store.PruneStats
	cut := micro(olderThan)
	for {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("prune: %w", err)
		}
		var events, runs int64
		err := s.inTx(ctx, "prune events", func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `WITH old AS (
	SELECT e.id FROM events e
	WHERE e.created_at < $1
	  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id
	                  AND (r.status IN ('pending', 'running') OR r.stopped_at >= $1))
	  AND NOT EXISTS (SELECT 1 FROM events c WHERE c.parent_id = e.id)
	ORDER BY e.created_at LIMIT $2
	FOR UPDATE SKIP LOCKED),
del_attempts AS (DELETE FROM run_attempts WHERE run_id IN (SELECT id FROM runs WHERE event_id IN (SELECT id FROM old))),
del_runs AS (DELETE FROM runs WHERE event_id IN (SELECT id FROM old) RETURNING 1),
del_events AS (DELETE FROM events WHERE id IN (SELECT id FROM old) RETURNING 1)
SELECT (SELECT COUNT(*) FROM del_events), (SELECT COUNT(*) FROM del_runs)`, cut, pruneBatch).Scan(&events, &runs)
			if err != nil {
				return fmt.Errorf("prune events: %w", err)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		st.Events += int(events)
		st.Runs += int(runs)
		if events == 0 {
			break
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("prune: %w", err)
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM cache_entries WHERE key IN
	(SELECT key FROM cache_entries WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.nowMicro(), pruneBatch)
		if err != nil {
			return st, ctxErr(ctx, err, "prune cache")
		}
		st.CacheEntries += int(tag.RowsAffected())
		if tag.RowsAffected() == 0 {
			break
		}
	}
	return st, nil
}
