package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// ListWebhooksPage lists one page of webhooks, newest first.
func (s *Store) ListWebhooksPage(ctx context.Context, p store.Page) ([]store.Webhook, string, error) {
	return listPage(ctx, s.r, "list webhooks", `SELECT `+webhookCols+` FROM webhooks`, nil, nil, p, scanWebhook,
		func(w store.Webhook) (time.Time, string) { return w.CreatedAt, w.ID })
}

// ListCacheEndpointsPage lists one page of cache endpoints, newest first.
func (s *Store) ListCacheEndpointsPage(ctx context.Context, p store.Page) ([]store.CacheEndpoint, string, error) {
	return listPage(ctx, s.r, "list cache endpoints", `SELECT `+endpointCols+` FROM cache_endpoints`, nil, nil, p, scanEndpoint,
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+settingCols+` FROM settings WHERE kind = ? AND key > ? ORDER BY key LIMIT ?`,
		string(kind), after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Setting
	for rows.Next() {
		st, err := scanSetting(rows)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
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
	rows, err := s.r.QueryContext(ctx, `SELECT task_id, version, name, subscriptions, definition, saved_at FROM task_versions
WHERE task_id = ? AND version < ? ORDER BY version DESC LIMIT ?`, taskID, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list task versions: %w", err)
	}
	defer rows.Close()
	var out []store.TaskVersion
	for rows.Next() {
		var (
			v       store.TaskVersion
			subs    sql.NullString
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

// StoredBytes is the space the database's live pages take: (page_count −
// freelist_count) × page_size. Pages freed by pruning are on the freelist
// and are reused by new rows, so pruning lowers the figure although the
// file does not shrink. It reads three pragmas on a reader connection.
func (s *Store) StoredBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	for _, q := range []struct {
		pragma string
		dst    *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := s.r.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dst); err != nil {
			return 0, fmt.Errorf("stored bytes: %s: %w", q.pragma, err)
		}
	}
	return (pages - free) * size, nil
}
