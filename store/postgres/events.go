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
	// One statement, atomic on its own: no explicit transaction (and so
	// one round trip) on the ack path.
	out, err := s.insertEvents(ctx, s.pool, s.now(), events)
	if err != nil {
		return nil, ctxErr(ctx, err, "insert events")
	}
	return out, nil
}

const (
	// insertEventsSQL inserts a batch of events given as column arrays and,
	// for each event that is new, its event run; it returns the new ids.
	insertEventsSQL = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
	AS t(id, topic, data, parent_id, source, shopify_topic, webhook_id, request_id, task_ids, run_at)),
ins AS (
	INSERT INTO events (` + eventCols + `)
	SELECT id, topic, data, parent_id, source, shopify_topic, webhook_id, request_id, task_ids, $11::bigint, run_at FROM input
	ON CONFLICT (id) DO NOTHING RETURNING id, run_at),
runs_ins AS (
	INSERT INTO runs (id, kind, priority, event_id, seq, status, attempts, run_at, available_at, created_at)
	SELECT id, 'event_run', 1, id, 0, 'pending', 0, run_at, run_at, $11::bigint FROM ins
	ON CONFLICT (id) DO NOTHING)
SELECT id FROM ins`
	insertRunSQL = `INSERT INTO runs (id, kind, priority, event_id, task_id, parent_run_id, seq, status, attempts, run_at, available_at, created_at,
	action_type, action_options, action_meta) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`
)

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// eventArgs validates events, completes their ids and times, and returns
// them with the arguments of insertEventsSQL.
func eventArgs(now time.Time, events []store.NewEvent) ([]store.Event, []any, error) {
	n := len(events)
	out := make([]store.Event, n)
	var (
		ids, topics, data, sources                          = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		parents, shopifyTopics, webhooks, requests, taskIDs = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		runAts                                              = make([]int64, n)
	)
	for i, ne := range events {
		if ne.Topic == "" {
			return nil, nil, fmt.Errorf("insert event: %w: empty topic", store.ErrInvalid)
		}
		if err := validJSON("event data", ne.Data); err != nil {
			return nil, nil, fmt.Errorf("insert event: %w", err)
		}
		e := store.Event{
			ID: ne.ID, Topic: ne.Topic, Data: []byte(jsonOrNull(ne.Data)), ParentID: ne.ParentID, Source: ne.Source,
			ShopifyTopic: ne.ShopifyTopic, WebhookID: ne.WebhookID, RequestID: ne.RequestID, CreatedAt: now, RunAt: ne.RunAt.UTC(),
		}
		if len(ne.TaskIDs) > 0 {
			e.TaskIDs = ne.TaskIDs
			enc, err := encodeStrings(e.TaskIDs)
			if err != nil {
				return nil, nil, fmt.Errorf("insert event: %w", err)
			}
			taskIDs[i] = &enc
		}
		if e.ID == "" {
			e.ID = store.NewTimeID(now)
		}
		if e.RunAt.IsZero() || e.RunAt.Before(now) {
			e.RunAt = now
		}
		e.RunAt = e.RunAt.Truncate(time.Microsecond)
		ids[i], topics[i], data[i], sources[i] = e.ID, e.Topic, string(e.Data), e.Source
		parents[i], shopifyTopics[i], webhooks[i], requests[i] = optStr(e.ParentID), optStr(e.ShopifyTopic), optStr(e.WebhookID), optStr(e.RequestID)
		runAts[i] = micro(e.RunAt)
		out[i] = e
	}
	return out, []any{ids, topics, data, parents, sources, shopifyTopics, webhooks, requests, taskIDs, runAts, micro(now)}, nil
}

// insertEvents inserts events (and their event runs) with one statement on
// q (the pool, or a transaction), then reads back the events that already
// existed.
func (s *Store) insertEvents(ctx context.Context, q querier, now time.Time, events []store.NewEvent) ([]store.Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	n := len(events)
	out, args, err := eventArgs(now, events)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, insertEventsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	if len(inserted) == n {
		return out, nil
	}
	// Some were already stored (a repeated insert, or the same id twice in
	// the batch): report the stored events.
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	for i := range out {
		if isNew[out[i].ID] {
			delete(isNew, out[i].ID) // a second occurrence in the batch is "existing"
			continue
		}
		stored, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, out[i].ID))
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
