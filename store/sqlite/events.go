package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

const eventCols = `id, topic, data, parent_id, source, shopify_topic, webhook_id, request_id, task_ids, created_at, run_at`

func scanEvent(sc interface{ Scan(...any) error }) (store.Event, error) {
	var (
		e                                        store.Event
		data                                     string
		parent, shopifyTopic, webhook, req, tids sql.NullString
		created, runAt                           int64
	)
	if err := sc.Scan(&e.ID, &e.Topic, &data, &parent, &e.Source, &shopifyTopic, &webhook, &req, &tids, &created, &runAt); err != nil {
		return store.Event{}, err
	}
	e.Data = []byte(data)
	e.ParentID, e.ShopifyTopic, e.WebhookID, e.RequestID = parent.String, shopifyTopic.String, webhook.String, req.String
	var err error
	if e.TaskIDs, err = decodeStrings(tids); err != nil {
		return store.Event{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	e.CreatedAt, e.RunAt = fromMicro(created), fromMicro(runAt)
	return e, nil
}

// InsertEvents inserts events and their event runs in one transaction.
func (s *Store) InsertEvents(ctx context.Context, events []store.NewEvent) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	var out []store.Event
	err := s.inTx(ctx, "insert events", func(tx *txn) error {
		var err error
		out, err = s.insertEvents(ctx, tx, s.now(), events)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const (
	insertEventSQL = `INSERT INTO events (` + eventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	insertRunSQL   = `INSERT INTO runs (id, kind, priority, event_id, task_id, parent_run_id, seq, status, attempts, run_at, available_at, created_at,
	action_type, action_options, action_meta) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
)

// insertEvents inserts events (and their event runs) inside tx.
func (s *Store) insertEvents(ctx context.Context, tx *txn, now time.Time, events []store.NewEvent) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	out := make([]store.Event, len(events))
	for i, ne := range events {
		if ne.Topic == "" {
			return nil, fmt.Errorf("insert event: %w: empty topic", store.ErrInvalid)
		}
		if err := validJSON("event data", ne.Data); err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		e := store.Event{
			ID: ne.ID, Topic: ne.Topic, Data: []byte(jsonOrNull(ne.Data)), ParentID: ne.ParentID, Source: ne.Source,
			ShopifyTopic: ne.ShopifyTopic, WebhookID: ne.WebhookID, RequestID: ne.RequestID, CreatedAt: now, RunAt: ne.RunAt.UTC(),
		}
		if len(ne.TaskIDs) > 0 {
			e.TaskIDs = ne.TaskIDs
		}
		if e.ID == "" {
			e.ID = store.NewTimeID(now)
		}
		if e.RunAt.IsZero() || e.RunAt.Before(now) {
			e.RunAt = now
		}
		e.RunAt = e.RunAt.Truncate(time.Microsecond)
		var tids any
		if len(e.TaskIDs) > 0 {
			enc, err := encodeStrings(e.TaskIDs)
			if err != nil {
				return nil, fmt.Errorf("insert event: %w", err)
			}
			tids = enc
		}
		res, err := tx.ExecContext(ctx, insertEventSQL, e.ID, e.Topic, string(e.Data), nullStr(e.ParentID), e.Source, nullStr(e.ShopifyTopic),
			nullStr(e.WebhookID), nullStr(e.RequestID), tids, micro(now), micro(e.RunAt))
		if err != nil {
			return nil, fmt.Errorf("insert event %s: %w", e.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("insert event %s: %w", e.ID, err)
		} else if n == 0 {
			// Already stored (a repeated insert): report the stored event.
			stored, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE id = ?`, e.ID))
			if err != nil {
				return nil, fmt.Errorf("read existing event %s: %w", e.ID, err)
			}
			out[i] = stored
			continue
		}
		if _, err := tx.ExecContext(ctx, insertRunSQL, store.EventRunID(e.ID), string(store.KindEvent), store.KindEvent.Priority(), e.ID,
			nil, nil, 0, micro(e.RunAt), micro(e.RunAt), micro(now), nil, nil, nil); err != nil {
			return nil, fmt.Errorf("insert event run for %s: %w", e.ID, err)
		}
		out[i] = e
	}
	return out, nil
}

// GetEvent reads an event.
func (s *Store) GetEvent(ctx context.Context, id string) (store.Event, error) {
	e, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Event{}, notFound("event", id)
	}
	if err != nil {
		return store.Event{}, fmt.Errorf("get event %q: %w", id, err)
	}
	return e, nil
}

// ListEvents lists events newest first.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, string, error) {
	var (
		conds []string
		args  []any
	)
	if f.Topic != "" {
		conds = append(conds, "topic = ?")
		args = append(args, f.Topic)
	}
	if f.ParentID != "" {
		conds = append(conds, "parent_id = ?")
		args = append(args, f.ParentID)
	}
	if f.TaskID != "" {
		conds = append(conds, "id IN (SELECT event_id FROM runs WHERE task_id = ?)")
		args = append(args, f.TaskID)
	}
	if !f.Since.IsZero() {
		conds = append(conds, "created_at >= ?")
		args = append(args, micro(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "created_at < ?")
		args = append(args, micro(f.Until))
	}
	return listPage(ctx, s.r, "list events", `SELECT `+eventCols+` FROM events`, conds, args, f.Page, scanEvent,
		func(x store.Event) (time.Time, string) { return x.CreatedAt, x.ID })
}
