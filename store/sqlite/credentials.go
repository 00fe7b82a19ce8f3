package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

var _ store.CredentialRewriter = (*Store)(nil)

// RewriteCredentials implements store.CredentialRewriter in one write
// transaction.
func (s *Store) RewriteCredentials(ctx context.Context, kinds []store.SettingKind, fn func(loc store.CredentialLocation, value string) (string, error)) (int, error) {
	changed := 0
	err := s.inTx(ctx, "rewrite credentials", func(tx *txn) error {
		changed = 0
		type hook struct{ id, secret string }
		var hooks []hook
		rows, err := tx.QueryContext(ctx, `SELECT id, secret FROM webhooks WHERE secret <> '' ORDER BY id`)
		if err != nil {
			return fmt.Errorf("read webhooks: %w", err)
		}
		for rows.Next() {
			var h hook
			if err := rows.Scan(&h.id, &h.secret); err != nil {
				rows.Close()
				return fmt.Errorf("read webhooks: %w", err)
			}
			hooks = append(hooks, h)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("read webhooks: %w", err)
		}
		for _, h := range hooks {
			ns, err := fn(store.CredentialLocation{Webhook: true, Key: h.id, Field: "secret"}, h.secret)
			if err != nil {
				return err
			}
			if ns == h.secret {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = ? WHERE id = ?`, ns, h.id); err != nil {
				return fmt.Errorf("rewrite webhook %q: %w", h.id, err)
			}
			changed++
		}
		if len(kinds) == 0 {
			return nil
		}
		args := make([]any, len(kinds))
		for i, k := range kinds {
			args[i] = string(k)
		}
		type setting struct {
			kind, key string
			value     []byte
		}
		var sets []setting
		rows, err = tx.QueryContext(ctx, `SELECT kind, key, value FROM settings WHERE kind IN (?`+strings.Repeat(", ?", len(kinds)-1)+`) ORDER BY kind, key`, args...)
		if err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		for rows.Next() {
			var x setting
			if err := rows.Scan(&x.kind, &x.key, &x.value); err != nil {
				rows.Close()
				return fmt.Errorf("read settings: %w", err)
			}
			sets = append(sets, x)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		for _, x := range sets {
			nv, ok, err := store.RewriteSettingValue(store.SettingKind(x.kind), x.key, json.RawMessage(x.value), fn)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE settings SET value = ? WHERE kind = ? AND key = ?`, string(nv), x.kind, x.key); err != nil {
				return fmt.Errorf("rewrite setting %s/%s: %w", x.kind, x.key, err)
			}
			changed++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// ScrubFreed implements store.CredentialRewriter: VACUUM rebuilds the
// database without free pages (which may hold deleted values), and a
// TRUNCATE checkpoint copies the WAL into the database and empties it, so
// no old page version remains in sprocket.db-wal either. A checkpoint that
// a reader blocks is retried for a few seconds, then reported.
func (s *Store) ScrubFreed(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("scrub: vacuum: %w", err)
	}
	var busy, logPages, done int
	for attempt := 0; ; attempt++ {
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil {
			return fmt.Errorf("scrub: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return fmt.Errorf("scrub: checkpoint: readers kept the WAL busy (%d of %d pages copied)", done, logPages)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("scrub: checkpoint: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
