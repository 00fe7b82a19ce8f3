package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

const eventCols = `id, topic, data, parent_id, source, shopify_topic, webhook_id, request_id, task_ids, created_at, run_at`

func scanEvent(sc pgx.Row) (store.Event, error) {
	var (
		e                                        store.Event
		data                                     string
		parent, shopifyTopic, webhook, req, tids *string
		created, runAt                           int64
	)
	if err := sc.Scan(&e.ID, &e.Topic, &data, &parent, &e.Source, &shopifyTopic, &webhook, &req, &tids, &created, &runAt); err != nil {
		return store.Event{}, err
	}
	e.Data = []byte(data)
	e.ParentID, e.ShopifyTopic, e.WebhookID, e.RequestID = deref(parent), deref(shopifyTopic), deref(webhook), deref(req)
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
	err := s.inTx(ctx, "insert events", func(tx pgx.Tx) error {
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
	// insertEventSQL inserts an event and, only if it is new, its event run.
	insertEventSQL = `WITH ins AS (
	INSERT INTO events (` + eventCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (id) DO NOTHING RETURNING id)
INSERT INTO runs (id, kind, priority, event_id, seq, status, attempts, run_at, available_at, created_at)
SELECT id, 'event_run', 1, id, 0, 'pending', 0, $11::bigint, $11::bigint, $10::bigint FROM ins
ON CONFLICT (id) DO NOTHING`
	insertRunSQL = `INSERT INTO runs (id, kind, priority, event_id, task_id, parent_run_id, seq, status, attempts, run_at, available_at, created_at,
	action_type, action_options, action_meta) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`
)

// insertEvents inserts events (and their event runs) inside tx, sending
// the inserts as one pipelined batch.
func (s *Store) insertEvents(ctx context.Context, tx pgx.Tx, now time.Time, events []store.NewEvent) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	out := make([]store.Event, len(events))
	b := &pgx.Batch{}
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
		b.Queue(insertEventSQL, e.ID, e.Topic, string(e.Data), nullStr(e.ParentID), e.Source, nullStr(e.ShopifyTopic),
			nullStr(e.WebhookID), nullStr(e.RequestID), tids, micro(now), micro(e.RunAt))
		out[i] = e
	}
	br := tx.SendBatch(ctx, b)
	var existing []int
	for i := range out {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("insert event %s: %w", out[i].ID, err)
		}
		if tag.RowsAffected() == 0 {
			existing = append(existing, i)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	// Already stored (a repeated insert): report the stored events.
	for _, i := range existing {
		stored, err := scanEvent(tx.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, out[i].ID))
		if err != nil {
			return nil, fmt.Errorf("read existing event %s: %w", out[i].ID, err)
		}
		out[i] = stored
	}
	return out, nil
}

// GetEvent reads an event.
func (s *Store) GetEvent(ctx context.Context, id string) (store.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Event{}, notFound("event", id)
	}
	if err != nil {
		return store.Event{}, ctxErr(ctx, err, fmt.Sprintf("get event %q", id))
	}
	return e, nil
}

// ListEvents lists events newest first.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, string, error) {
	var c conds
	if f.Topic != "" {
		c.add("topic = ?", f.Topic)
	}
	if f.ParentID != "" {
		c.add("parent_id = ?", f.ParentID)
	}
	if f.TaskID != "" {
		c.add("id IN (SELECT event_id FROM runs WHERE task_id = ?)", f.TaskID)
	}
	if !f.Since.IsZero() {
		c.add("created_at >= ?", micro(f.Since))
	}
	if !f.Until.IsZero() {
		c.add("created_at < ?", micro(f.Until))
	}
	return listPage(ctx, s.pool, "list events", `SELECT `+eventCols+` FROM events`, c, f.Page, scanEvent,
		func(x store.Event) (time.Time, string) { return x.CreatedAt, x.ID })
}
