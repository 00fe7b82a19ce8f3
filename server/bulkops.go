package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/store"
)

// Bulk operations (docs: core/shopify/bulk-operations.md): a shopify action
// that starts one (bulkOperationRunQuery or bulkOperationRunMutation) is
// tracked; when Shopify reports the operation finished — by the
// bulk_operations/finish webhook, or found by polling — its JSONL result is
// downloaded and a mechanic/shopify/bulk_operation event goes to the task
// that started it, and to no other: its data is the BulkOperation's
// attributes with the result's lines as "objects".

const (
	settingBulkOp store.SettingKind = "shopify_bulk_operation"
	// bulkPollEvery is how often unfinished operations are checked when no
	// finish webhook arrives.
	bulkPollEvery = 15 * time.Second
	// maxBulkResultBytes bounds a downloaded JSONL result.
	maxBulkResultBytes = 256 << 20
	// bulkGiveUp ends tracking of an operation that never finishes.
	bulkGiveUp = 7 * 24 * time.Hour
)

// trackedBulkOp is a started bulk operation awaiting its result.
type trackedBulkOp struct {
	ID          string    `json:"id"`
	TaskID      string    `json:"task_id"`
	ActionRunID string    `json:"action_run_id"`
	EventID     string    `json:"event_id"`
	StartedAt   time.Time `json:"started_at"`
}

// bulkOps tracks bulk operations and delivers their results.
type bulkOps struct {
	st     store.Settings
	shop   *shopConn
	events interface {
		Insert(ctx context.Context, ev store.NewEvent) (store.Event, error)
	}
	wake func()
	log  *slog.Logger
	http *http.Client
	kick chan struct{}
	mu   sync.Mutex // one check at a time
}

func newBulkOps(s *Service) *bulkOps {
	return &bulkOps{
		st: s.st, shop: s.shop, events: s.batcher, wake: s.wake, log: s.log,
		http: &http.Client{Timeout: 10 * time.Minute}, kick: make(chan struct{}, 1),
	}
}

// Kick asks for a check soon (a finish webhook arrived).
func (b *bulkOps) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// run checks the tracked operations on kicks and every bulkPollEvery.
func (b *bulkOps) run(ctx context.Context) {
	t := time.NewTicker(bulkPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.kick:
		}
		if err := b.check(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("shopify bulk operations not checked", "error", err)
		}
	}
}

// startedBulkOp finds the bulk operation id in a shopify action's result.
func startedBulkOp(res any) string {
	m, ok := res.(*value.Map)
	if !ok {
		return ""
	}
	if d, ok := m.Get("data"); ok {
		if dm, ok := d.(*value.Map); ok {
			m = dm
		}
	}
	for _, f := range []string{"bulkOperationRunQuery", "bulkOperationRunMutation"} {
		v, _ := m.Get(f)
		fm, _ := v.(*value.Map)
		if fm == nil {
			continue
		}
		op, _ := fm.Get("bulkOperation")
		om, _ := op.(*value.Map)
		if om == nil {
			continue
		}
		id, _ := om.Get("id")
		if s, ok := id.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// track records a started operation.
func (b *bulkOps) track(ctx context.Context, op trackedBulkOp) error {
	raw, err := json.Marshal(op)
	if err != nil {
		return err
	}
	if _, err := b.st.PutSetting(ctx, settingBulkOp, op.ID, raw); err != nil {
		return fmt.Errorf("track bulk operation %s: %w", op.ID, err)
	}
	b.Kick()
	return nil
}

// bulkTracking wraps the shopify performer: a successful run that started
// a bulk operation has it tracked before the run completes, so the result
// cannot be missed.
type bulkTracking struct {
	action.Performer
	ops *bulkOps
}

// Perform implements action.Performer.
func (p bulkTracking) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	res, err := p.Performer.Perform(ctx, req)
	if err != nil {
		return res, err
	}
	if id := startedBulkOp(res.Value); id != "" {
		if terr := p.ops.track(ctx, trackedBulkOp{ID: id, TaskID: req.TaskID, ActionRunID: req.RunID, EventID: req.EventID, StartedAt: time.Now().UTC()}); terr != nil {
			return res, action.Transient(terr)
		}
	}
	return res, nil
}

// Validate forwards to the wrapped performer's validator.
func (p bulkTracking) Validate(options any) error {
	if v, ok := p.Performer.(action.Validator); ok {
		return v.Validate(options)
	}
	return nil
}

const bulkOpQuery = `query SprocketBulkOperation($id: ID!) { node(id: $id) { ... on BulkOperation { id status type errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query } } }`

// check looks at every tracked operation and delivers the finished ones.
func (b *bulkOps) check(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	list, err := b.st.ListSettings(ctx, settingBulkOp)
	if err != nil {
		return fmt.Errorf("list bulk operations: %w", err)
	}
	for _, s := range list {
		var op trackedBulkOp
		if err := json.Unmarshal(s.Value, &op); err != nil {
			b.log.Error("unreadable bulk operation record dropped", "key", s.Key, "error", err)
			_ = b.st.DeleteSetting(ctx, settingBulkOp, s.Key)
			continue
		}
		if err := b.checkOne(ctx, op); err != nil {
			b.log.Warn("shopify bulk operation", "id", op.ID, "task", op.TaskID, "error", err)
		}
	}
	return nil
}

func (b *bulkOps) checkOne(ctx context.Context, op trackedBulkOp) error {
	vars, _ := json.Marshal(map[string]any{"id": op.ID})
	resp, err := b.shop.GraphQL(ctx, shopify.GraphQLRequest{Query: bulkOpQuery, Variables: vars})
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("%s", resp.Errors[0].Message)
	}
	var d struct {
		Node json.RawMessage `json:"node"`
	}
	if err := json.Unmarshal(resp.Data, &d); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	if len(d.Node) == 0 || string(d.Node) == "null" {
		if time.Since(op.StartedAt) > bulkGiveUp {
			return b.st.DeleteSetting(ctx, settingBulkOp, op.ID)
		}
		return errors.New("the shop does not know the operation (yet)")
	}
	attrsV, err := value.FromJSON(d.Node)
	if err != nil {
		return err
	}
	attrs, _ := attrsV.(*value.Map)
	if attrs == nil {
		return errors.New("unexpected bulk operation shape")
	}
	status, _ := attrs.Get("status")
	switch status {
	case "CREATED", "RUNNING", "CANCELING":
		if time.Since(op.StartedAt) > bulkGiveUp {
			b.log.Error("shopify bulk operation given up", "id", op.ID, "task", op.TaskID)
			return b.st.DeleteSetting(ctx, settingBulkOp, op.ID)
		}
		return nil
	}
	objects := []any{}
	if u, _ := attrs.Get("url"); u != nil {
		if s, ok := u.(string); ok && s != "" {
			if objects, err = b.download(ctx, s); err != nil {
				return fmt.Errorf("download the result: %w", err)
			}
		}
	}
	attrs.Set("objects", objects)
	raw, err := value.ToJSON(attrs)
	if err != nil {
		return err
	}
	_, err = b.events.Insert(ctx, store.NewEvent{
		ID: store.DerivedID("bulk-operation", op.ID), Topic: "mechanic/shopify/bulk_operation",
		Data: raw, Source: "mechanic", ParentID: op.EventID, TaskIDs: []string{op.TaskID},
	})
	if err != nil {
		return fmt.Errorf("store the bulk_operation event: %w", err)
	}
	b.wake()
	b.log.Info("shopify bulk operation finished", "id", op.ID, "status", status, "objects", len(objects), "task", op.TaskID)
	return b.st.DeleteSetting(ctx, settingBulkOp, op.ID)
}

// download reads a JSONL result, line by line, within maxBulkResultBytes.
func (b *bulkOps) download(ctx context.Context, url string) ([]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxBulkResultBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	out := []any{}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		v, err := value.FromJSON(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("the result is larger than %d bytes", maxBulkResultBytes)
	}
	return out, nil
}
