package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

// --- tasks -------------------------------------------------------------------

const taskCols = `id, name, enabled, subscriptions, definition, created_at, updated_at`

func scanTask(sc pgx.Row) (store.Task, error) {
	var (
		t                store.Task
		subs             *string
		def              string
		created, updated int64
	)
	if err := sc.Scan(&t.ID, &t.Name, &t.Enabled, &subs, &def, &created, &updated); err != nil {
		return store.Task{}, err
	}
	var err error
	if t.Subscriptions, err = decodeStrings(subs); err != nil {
		return store.Task{}, fmt.Errorf("task %s: %w", t.ID, err)
	}
	t.Definition = []byte(def)
	t.CreatedAt, t.UpdatedAt = fromMicro(created), fromMicro(updated)
	return t, nil
}

// CreateTask creates a task, honouring the idempotency key.
func (s *Store) CreateTask(ctx context.Context, nt store.NewTask) (store.Task, bool, error) {
	if err := validJSON("task definition", nt.Definition); err != nil {
		return store.Task{}, false, fmt.Errorf("create task: %w", err)
	}
	subs, err := encodeStrings(nt.Subscriptions)
	if err != nil {
		return store.Task{}, false, fmt.Errorf("create task: %w", err)
	}
	id := nt.ID
	if id == "" {
		id = store.NewTimeID(s.now())
	}
	now := s.now()
	var (
		out     store.Task
		created bool
	)
	err = s.inTx(ctx, "create task", func(tx pgx.Tx) error {
		if nt.IdempotencyKey != "" {
			// Claim the key first: a concurrent create with the same key
			// waits here for this transaction and then finds the key taken.
			tag, err := tx.Exec(ctx, `INSERT INTO task_idempotency_keys (key, task_id, created_at) VALUES ($1, $2, $3)
ON CONFLICT (key) DO NOTHING`, nt.IdempotencyKey, id, micro(now))
			if err != nil {
				return fmt.Errorf("create task: record idempotency key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				var existing string
				if err := tx.QueryRow(ctx, `SELECT task_id FROM task_idempotency_keys WHERE key = $1`, nt.IdempotencyKey).Scan(&existing); err != nil {
					return fmt.Errorf("create task: check idempotency key: %w", err)
				}
				t, err := scanTask(tx.QueryRow(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1`, existing))
				if errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("create task: idempotency key %q: %w", nt.IdempotencyKey, store.ErrConflict)
				}
				if err != nil {
					return fmt.Errorf("create task: read existing: %w", err)
				}
				out = t
				return nil
			}
		}
		res, err := tx.Exec(ctx, `INSERT INTO tasks (`+taskCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			id, nt.Name, nt.Enabled, subs, jsonOrNull(nt.Definition), micro(now), micro(now))
		if err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("create task %q: id exists: %w", id, store.ErrConflict)
		}
		if err := saveTaskVersion(ctx, tx, id, nt.Name, subs, jsonOrNull(nt.Definition), micro(now)); err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		created = true
		out = store.Task{ID: id, Name: nt.Name, Enabled: nt.Enabled, Subscriptions: nt.Subscriptions,
			Definition: []byte(jsonOrNull(nt.Definition)), CreatedAt: now, UpdatedAt: now}
		if len(out.Subscriptions) == 0 {
			out.Subscriptions = nil
		}
		return nil
	})
	if err != nil {
		return store.Task{}, false, err
	}
	return out, created, nil
}

// GetTask reads a task.
func (s *Store) GetTask(ctx context.Context, id string) (store.Task, error) {
	t, err := scanTask(s.pool.QueryRow(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Task{}, notFound("task", id)
	}
	if err != nil {
		return store.Task{}, fmt.Errorf("get task %q: %w", id, err)
	}
	return t, nil
}

// UpdateTask replaces a task's mutable fields.
func (s *Store) UpdateTask(ctx context.Context, t store.Task) (store.Task, error) {
	if err := validJSON("task definition", t.Definition); err != nil {
		return store.Task{}, fmt.Errorf("update task: %w", err)
	}
	subs, err := encodeStrings(t.Subscriptions)
	if err != nil {
		return store.Task{}, fmt.Errorf("update task: %w", err)
	}
	var out store.Task
	err = s.inTx(ctx, "update task", func(tx pgx.Tx) error {
		var ifUpdated any
		if !t.UpdatedAt.IsZero() {
			ifUpdated = micro(t.UpdatedAt)
		}
		var oldName, oldSubs, oldDef string
		err := tx.QueryRow(ctx, `SELECT name, subscriptions, definition FROM tasks WHERE id = $1 FOR UPDATE`, t.ID).Scan(&oldName, &oldSubs, &oldDef)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("task", t.ID)
		}
		if err != nil {
			return fmt.Errorf("update task %q: %w", t.ID, err)
		}
		out, err = scanTask(tx.QueryRow(ctx, `UPDATE tasks SET name = $1, enabled = $2, subscriptions = $3, definition = $4, updated_at = $5
WHERE id = $6 AND ($7::bigint IS NULL OR updated_at = $7) RETURNING `+taskCols, t.Name, t.Enabled, subs, jsonOrNull(t.Definition), s.nowMicro(), t.ID,
			ifUpdated))
		if errors.Is(err, pgx.ErrNoRows) {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM tasks WHERE id = $1`, t.ID).Scan(&n); err != nil {
				return fmt.Errorf("update task %q: %w", t.ID, err)
			}
			if n == 0 {
				return notFound("task", t.ID)
			}
			return fmt.Errorf("update task %q: changed since %v: %w", t.ID, t.UpdatedAt, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("update task %q: %w", t.ID, err)
		}
		if def := jsonOrNull(t.Definition); t.Name != oldName || subs != oldSubs || def != oldDef {
			if err := saveTaskVersion(ctx, tx, t.ID, t.Name, subs, def, micro(out.UpdatedAt)); err != nil {
				return fmt.Errorf("update task %q: %w", t.ID, err)
			}
		}
		return nil
	})
	return out, err
}

// saveTaskVersion records a task's content as its next version and drops
// versions beyond store.MaxTaskVersions.
func saveTaskVersion(ctx context.Context, tx pgx.Tx, taskID, name, subs, def string, at int64) error {
	var v int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM task_versions WHERE task_id = $1`, taskID).Scan(&v); err != nil {
		return fmt.Errorf("next task version: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO task_versions (task_id, version, name, subscriptions, definition, saved_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		taskID, v, name, subs, def, at); err != nil {
		return fmt.Errorf("save task version: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM task_versions WHERE task_id = $1 AND version <= $2`, taskID, v-store.MaxTaskVersions); err != nil {
		return fmt.Errorf("drop old task versions: %w", err)
	}
	return nil
}

// ListTaskVersions lists a task's versions newest first: all of them,
// as a task keeps at most store.MaxTaskVersions.
func (s *Store) ListTaskVersions(ctx context.Context, taskID string) ([]store.TaskVersion, error) {
	vs, _, err := s.ListTaskVersionsPage(ctx, taskID, store.Page{Limit: store.MaxTaskVersions})
	return vs, err
}

// DeleteTask deletes a task and its idempotency keys.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	return s.inTx(ctx, "delete task", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM tasks WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete task %q: %w", id, err)
		}
		if res.RowsAffected() == 0 {
			return notFound("task", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM task_idempotency_keys WHERE task_id = $1`, id); err != nil {
			return fmt.Errorf("delete task %q keys: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM task_versions WHERE task_id = $1`, id); err != nil {
			return fmt.Errorf("delete task %q versions: %w", id, err)
		}
		return nil
	})
}

// ListTasks lists tasks newest first.
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, string, error) {
	var c conds
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	return listPage(ctx, s.pool, "list tasks", `SELECT `+taskCols+` FROM tasks`, c, f.Page, scanTask,
		func(x store.Task) (time.Time, string) { return x.CreatedAt, x.ID })
}

// --- webhooks ----------------------------------------------------------------

const webhookCols = `id, name, topic, data_mode, secret, signature_header, created_at, updated_at`

func scanWebhook(sc pgx.Row) (store.Webhook, error) {
	var (
		w                store.Webhook
		mode             string
		created, updated int64
	)
	if err := sc.Scan(&w.ID, &w.Name, &w.Topic, &mode, &w.Secret, &w.SignatureHeader, &created, &updated); err != nil {
		return store.Webhook{}, err
	}
	w.DataMode = store.DataMode(mode)
	w.CreatedAt, w.UpdatedAt = fromMicro(created), fromMicro(updated)
	return w, nil
}

func checkDataMode(m store.DataMode) (store.DataMode, error) {
	switch m {
	case "":
		return store.DataModeAuto, nil
	case store.DataModeAuto, store.DataModeFull:
		return m, nil
	}
	return "", fmt.Errorf("%w: data mode %q", store.ErrInvalid, m)
}

// CreateWebhook stores a webhook.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error) {
	mode, err := checkDataMode(w.DataMode)
	if err != nil {
		return store.Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	w.DataMode = mode
	if w.ID == "" {
		w.ID = store.NewID()
	}
	now := s.now()
	w.CreatedAt, w.UpdatedAt = now, now
	err = s.inTx(ctx, "create webhook", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			w.ID, w.Name, w.Topic, string(w.DataMode), w.Secret, w.SignatureHeader, micro(now), micro(now))
		if err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("create webhook %q: id exists: %w", w.ID, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return store.Webhook{}, err
	}
	return w, nil
}

// GetWebhook reads a webhook.
func (s *Store) GetWebhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Webhook{}, notFound("webhook", id)
	}
	if err != nil {
		return store.Webhook{}, fmt.Errorf("get webhook %q: %w", id, err)
	}
	return w, nil
}

// UpdateWebhook replaces a webhook's fields.
func (s *Store) UpdateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error) {
	mode, err := checkDataMode(w.DataMode)
	if err != nil {
		return store.Webhook{}, fmt.Errorf("update webhook: %w", err)
	}
	var out store.Webhook
	err = s.inTx(ctx, "update webhook", func(tx pgx.Tx) error {
		out, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET name = $1, topic = $2, data_mode = $3, secret = $4, signature_header = $5, updated_at = $6
WHERE id = $7 RETURNING `+webhookCols, w.Name, w.Topic, string(mode), w.Secret, w.SignatureHeader, s.nowMicro(), w.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("webhook", w.ID)
		}
		if err != nil {
			return fmt.Errorf("update webhook %q: %w", w.ID, err)
		}
		return nil
	})
	return out, err
}

// DeleteWebhook deletes a webhook.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "webhook", `DELETE FROM webhooks WHERE id = $1`, id)
}

func (s *Store) deleteByID(ctx context.Context, what, q, id string) error {
	return s.inTx(ctx, "delete "+what, func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, q, id)
		if err != nil {
			return fmt.Errorf("delete %s %q: %w", what, id, err)
		}
		if res.RowsAffected() == 0 {
			return notFound(what, id)
		}
		return nil
	})
}

// ListWebhooks lists webhooks newest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]store.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// --- cache endpoints -----------------------------------------------------------

const endpointCols = `id, key, content_type, created_at`

func scanEndpoint(sc pgx.Row) (store.CacheEndpoint, error) {
	var (
		e       store.CacheEndpoint
		created int64
	)
	if err := sc.Scan(&e.ID, &e.Key, &e.ContentType, &created); err != nil {
		return store.CacheEndpoint{}, err
	}
	e.CreatedAt = fromMicro(created)
	return e, nil
}

// CreateCacheEndpoint stores a cache endpoint.
func (s *Store) CreateCacheEndpoint(ctx context.Context, e store.CacheEndpoint) (store.CacheEndpoint, error) {
	if e.Key == "" {
		return store.CacheEndpoint{}, fmt.Errorf("create cache endpoint: %w: empty key", store.ErrInvalid)
	}
	if e.ID == "" {
		e.ID = store.NewID()
	}
	if e.ContentType == "" {
		e.ContentType = "application/json"
	}
	e.CreatedAt = s.now()
	err := s.inTx(ctx, "create cache endpoint", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO cache_endpoints (`+endpointCols+`) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
			e.ID, e.Key, e.ContentType, micro(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("create cache endpoint: %w", err)
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("create cache endpoint %q: id exists: %w", e.ID, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return store.CacheEndpoint{}, err
	}
	return e, nil
}

// GetCacheEndpoint reads a cache endpoint.
func (s *Store) GetCacheEndpoint(ctx context.Context, id string) (store.CacheEndpoint, error) {
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM cache_endpoints WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.CacheEndpoint{}, notFound("cache endpoint", id)
	}
	if err != nil {
		return store.CacheEndpoint{}, fmt.Errorf("get cache endpoint %q: %w", id, err)
	}
	return e, nil
}

// DeleteCacheEndpoint deletes a cache endpoint.
func (s *Store) DeleteCacheEndpoint(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "cache endpoint", `DELETE FROM cache_endpoints WHERE id = $1`, id)
}

// ListCacheEndpoints lists cache endpoints newest first.
func (s *Store) ListCacheEndpoints(ctx context.Context) ([]store.CacheEndpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointCols+` FROM cache_endpoints ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list cache endpoints: %w", err)
	}
	defer rows.Close()
	var out []store.CacheEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list cache endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cache endpoints: %w", err)
	}
	return out, nil
}

// --- scheduler -----------------------------------------------------------------

// LastTick returns the last fired tick of an interval.
func (s *Store) LastTick(ctx context.Context, name string) (time.Time, bool, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT last_tick FROM scheduler_state WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last tick %q: %w", name, err)
	}
	return fromMicro(v), true, nil
}

// FireTick records a tick and inserts its events atomically, once per
// tick across every node: one conditional upsert decides, under the row's
// lock, whether tick is later than the last fired tick.
func (s *Store) FireTick(ctx context.Context, name string, tick time.Time, events []store.NewEvent) (bool, error) {
	fired := false
	err := s.inTx(ctx, "fire tick", func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `INSERT INTO scheduler_state (name, last_tick, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET last_tick = excluded.last_tick, updated_at = excluded.updated_at
WHERE scheduler_state.last_tick < excluded.last_tick`, name, micro(tick), micro(now))
		if err != nil {
			return fmt.Errorf("fire tick %q: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if _, err := s.insertEvents(ctx, tx, now, events); err != nil {
			return fmt.Errorf("fire tick %q: %w", name, err)
		}
		fired = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return fired, nil
}

// --- settings --------------------------------------------------------------------

const settingCols = `kind, key, value, created_at, updated_at`

func scanSetting(sc pgx.Row) (store.Setting, error) {
	var (
		st               store.Setting
		kind, value      string
		created, updated int64
	)
	if err := sc.Scan(&kind, &st.Key, &value, &created, &updated); err != nil {
		return store.Setting{}, err
	}
	st.Kind, st.Value = store.SettingKind(kind), json.RawMessage(value)
	st.CreatedAt, st.UpdatedAt = fromMicro(created), fromMicro(updated)
	return st, nil
}

// PutSetting creates or replaces a setting.
func (s *Store) PutSetting(ctx context.Context, kind store.SettingKind, key string, value json.RawMessage) (store.Setting, error) {
	if kind == "" || key == "" {
		return store.Setting{}, fmt.Errorf("put setting: %w: empty kind or key", store.ErrInvalid)
	}
	if len(value) == 0 || !json.Valid(value) {
		return store.Setting{}, fmt.Errorf("put setting %s/%s: %w: value is not valid JSON", kind, key, store.ErrInvalid)
	}
	var out store.Setting
	err := s.inTx(ctx, "put setting", func(tx pgx.Tx) error {
		now := s.nowMicro()
		st, err := scanSetting(tx.QueryRow(ctx, `INSERT INTO settings (`+settingCols+`) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at RETURNING `+settingCols,
			string(kind), key, string(value), now, now))
		if err != nil {
			return fmt.Errorf("put setting %s/%s: %w", kind, key, err)
		}
		out = st
		return nil
	})
	return out, err
}

// GetSetting reads a setting.
func (s *Store) GetSetting(ctx context.Context, kind store.SettingKind, key string) (store.Setting, error) {
	st, err := scanSetting(s.pool.QueryRow(ctx, `SELECT `+settingCols+` FROM settings WHERE kind = $1 AND key = $2`, string(kind), key))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Setting{}, notFound("setting "+string(kind), key)
	}
	if err != nil {
		return store.Setting{}, fmt.Errorf("get setting %s/%s: %w", kind, key, err)
	}
	return st, nil
}

// DeleteSetting deletes a setting.
func (s *Store) DeleteSetting(ctx context.Context, kind store.SettingKind, key string) error {
	return s.inTx(ctx, "delete setting", func(tx pgx.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM settings WHERE kind = $1 AND key = $2`, string(kind), key)
		if err != nil {
			return fmt.Errorf("delete setting %s/%s: %w", kind, key, err)
		}
		if res.RowsAffected() == 0 {
			return notFound("setting "+string(kind), key)
		}
		return nil
	})
}

// ListSettings lists a kind's settings by key.
func (s *Store) ListSettings(ctx context.Context, kind store.SettingKind) ([]store.Setting, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+settingCols+` FROM settings WHERE kind = $1 ORDER BY key`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list settings %s: %w", kind, err)
	}
	defer rows.Close()
	var out []store.Setting
	for rows.Next() {
		st, err := scanSetting(rows)
		if err != nil {
			return nil, fmt.Errorf("list settings %s: %w", kind, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list settings %s: %w", kind, err)
	}
	return out, nil
}
