package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// ListWebhooksPage lists one page of webhooks, newest first.
func (s *Store) ListWebhooksPage(ctx context.Context, p store.Page) ([]store.Webhook, string, error) {
	return listPage(ctx, s.pool, "list webhooks", `SELECT `+webhookCols+` FROM webhooks`, conds{}, p, scanWebhook,
		func(w store.Webhook) (time.Time, string) { return w.CreatedAt, w.ID })
}

// ListCacheEndpointsPage lists one page of cache endpoints, newest first.
func (s *Store) ListCacheEndpointsPage(ctx context.Context, p store.Page) ([]store.CacheEndpoint, string, error) {
	return listPage(ctx, s.pool, "list cache endpoints", `SELECT `+endpointCols+` FROM cache_endpoints`, conds{}, p, scanEndpoint,
		func(e store.CacheEndpoint) (time.Time, string) { return e.CreatedAt, e.ID })
}

// ListSettingsPage lists one page of a kind's settings by key.
func (s *Store) ListSettingsPage(ctx context.Context, kind store.SettingKind, p store.Page) ([]store.Setting, string, error) {
	what := "list settings " + string(kind)
	after := ""
	if p.Cursor != "" {
		k, err := store.DecodeKeyCursor(p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		after = k
	}
	limit := p.EffectiveLimit()
	// COLLATE "C" orders keys bytewise, as SQLite does.
	rows, err := s.pool.Query(ctx, `SELECT `+settingCols+` FROM settings WHERE kind = $1 AND key COLLATE "C" > $2 ORDER BY key COLLATE "C" LIMIT $3`,
		string(kind), after, limit+1)
	if err != nil {
		return nil, "", ctxErr(ctx, err, what)
	}
	out, err := collect(ctx, rows, what, scanSetting)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeKeyCursor(out[limit-1].Key)
	}
	return out, next, nil
}

// ListTaskVersionsPage lists one page of a task's versions, newest first.
func (s *Store) ListTaskVersionsPage(ctx context.Context, taskID string, p store.Page) ([]store.TaskVersion, string, error) {
	if _, err := s.GetTask(ctx, taskID); err != nil {
		return nil, "", err
	}
	before := int64(math.MaxInt32)
	if p.Cursor != "" {
		v, err := store.DecodeVersionCursor(p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list task versions: %w", err)
		}
		before = int64(v)
	}
	limit := p.EffectiveLimit()
	rows, err := s.pool.Query(ctx, `SELECT task_id, version, name, subscriptions, definition, saved_at FROM task_versions
WHERE task_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3`, taskID, before, limit+1)
	if err != nil {
		return nil, "", ctxErr(ctx, err, "list task versions")
	}
	defer rows.Close()
	var out []store.TaskVersion
	for rows.Next() {
		var (
			v       store.TaskVersion
			subs    *string
			def     string
			savedAt int64
		)
		if err := rows.Scan(&v.TaskID, &v.Version, &v.Name, &subs, &def, &savedAt); err != nil {
			return nil, "", fmt.Errorf("list task versions: %w", err)
		}
		if v.Subscriptions, err = decodeStrings(subs); err != nil {
			return nil, "", fmt.Errorf("list task versions: %w", err)
		}
		v.Definition, v.SavedAt = json.RawMessage(def), fromMicro(savedAt)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list task versions: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeKeyCursor(strconv.Itoa(out[limit-1].Version))
	}
	return out, next, nil
}

// StoredBytes is the size of the schema's tables with their indexes and
// TOAST (pg_total_relation_size summed over the tables of the store's
// schema), read from the catalog without scanning any table. PostgreSQL
// keeps a table's files at their size after rows are deleted (VACUUM makes
// the space reusable for new rows), so the figure falls after pruning only
// when VACUUM truncates or a VACUUM FULL rewrites the tables.
func (s *Store) StoredBytes(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint
FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'm')`).Scan(&n)
	if err != nil {
		return 0, ctxErr(ctx, err, "stored bytes")
	}
	return n, nil
}
