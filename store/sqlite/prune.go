package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// pruneBatch is how many events one prune transaction deletes.
const pruneBatch = 500

// Prune deletes finished events (with their runs) and expired cache entries.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (store.PruneStats, error) {
	var st store.PruneStats
	cut := micro(olderThan)
	for {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("prune: %w", err)
		}
		n, runs, err := s.pruneEventBatch(ctx, cut)
		if err != nil {
			return st, err
		}
		st.Events += n
		st.Runs += runs
		if n == 0 {
			break
		}
	}
	for {
		var n int64
		err := s.inTx(ctx, "prune cache", func(tx *txn) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM cache_entries WHERE key IN
	(SELECT key FROM cache_entries WHERE expires_at <= ? LIMIT ?)`, s.nowMicro(), pruneBatch)
			if err != nil {
				return fmt.Errorf("prune cache: %w", err)
			}
			n, err = res.RowsAffected()
			if err != nil {
				return fmt.Errorf("prune cache: %w", err)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		st.CacheEntries += int(n)
		if n == 0 {
			break
		}
	}
	return st, nil
}

func (s *Store) pruneEventBatch(ctx context.Context, cut int64) (events, runs int, err error) {
	err = s.inTx(ctx, "prune events", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT e.id FROM events e
WHERE e.created_at < ?
  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id
                  AND (r.status IN ('pending', 'running') OR r.stopped_at >= ?))
  AND NOT EXISTS (SELECT 1 FROM events c WHERE c.parent_id = e.id)
ORDER BY e.created_at LIMIT ?`, cut, cut, pruneBatch)
		if err != nil {
			return fmt.Errorf("prune events: select: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("prune events: scan: %w", err)
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("prune events: select: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("prune events: select: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM run_attempts WHERE run_id IN (SELECT id FROM runs WHERE event_id = ?)`, id); err != nil {
				return fmt.Errorf("prune run attempts of %s: %w", id, err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE event_id = ?`, id)
			if err != nil {
				return fmt.Errorf("prune runs of %s: %w", id, err)
			}
			n, _ := res.RowsAffected()
			runs += int(n)
			if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id = ?`, id); err != nil {
				return fmt.Errorf("prune event %s: %w", id, err)
			}
		}
		events = len(ids)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return events, runs, nil
}
