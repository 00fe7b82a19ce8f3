package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

var _ store.CredentialRewriter = (*Store)(nil)

// RewriteCredentials implements store.CredentialRewriter in one
// transaction; the rows read are locked until it commits.
func (s *Store) RewriteCredentials(ctx context.Context, kinds []store.SettingKind, fn func(loc store.CredentialLocation, value string) (string, error)) (int, error) {
	changed := 0
	err := s.inTx(ctx, "rewrite credentials", func(tx pgx.Tx) error {
		changed = 0
		type hook struct{ id, secret string }
		var hooks []hook
		rows, err := tx.Query(ctx, `SELECT id, secret FROM webhooks WHERE secret <> '' ORDER BY id FOR UPDATE`)
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
		rows.Close()
		if err := rows.Err(); err != nil {
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
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET secret = $1 WHERE id = $2`, ns, h.id); err != nil {
				return fmt.Errorf("rewrite webhook %q: %w", h.id, err)
			}
			changed++
		}
		if len(kinds) == 0 {
			return nil
		}
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		type setting struct {
			kind, key string
			value     []byte
		}
		var sets []setting
		rows, err = tx.Query(ctx, `SELECT kind, key, value::text FROM settings WHERE kind = ANY($1) ORDER BY kind, key FOR UPDATE`, names)
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
		rows.Close()
		if err := rows.Err(); err != nil {
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
			if _, err := tx.Exec(ctx, `UPDATE settings SET value = $1 WHERE kind = $2 AND key = $3`, string(nv), x.kind, x.key); err != nil {
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

// ScrubFreed implements store.CredentialRewriter: VACUUM FULL rewrites the
// settings and webhooks tables, so the dead row versions an update leaves
// behind (which still hold the old values) are gone from the table files.
// PostgreSQL's WAL segments, replicas and backups keep older versions
// until they are recycled; that is outside what a store can clean.
func (s *Store) ScrubFreed(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `VACUUM FULL settings, webhooks`); err != nil {
		return fmt.Errorf("scrub: vacuum: %w", err)
	}
	return nil
}
