package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/ingress/shopifyhook"
	"github.com/sprocketrun/sprocket/shopify/subscriptions"
	"github.com/sprocketrun/sprocket/store"
)

// webhookSyncEvery is how often the shop's webhook subscriptions are
// reconciled without a task change.
const webhookSyncEvery = 10 * time.Minute

// webhookSync keeps the shop's webhook subscriptions matching the
// shopify/… topics of the enabled tasks.
type webhookSync struct {
	s    *Service
	kick chan struct{}

	mu   sync.Mutex
	last syncReport
}

// syncReport is the outcome of the last reconciliation, for the status API.
type syncReport struct {
	At      time.Time         `json:"at"`
	URI     string            `json:"uri"`
	Topics  []string          `json:"topics"`
	Created []string          `json:"created"`
	Deleted []string          `json:"deleted"`
	Failed  map[string]string `json:"failed"`
	Error   string            `json:"error,omitempty"`
	// ScriptTags maps script paths whose script tag could not be made to why.
	ScriptTags map[string]string `json:"script_tags_failed,omitempty"`
}

func newWebhookSync(s *Service) *webhookSync {
	return &webhookSync{s: s, kick: make(chan struct{}, 1)}
}

// Kick asks for a reconciliation soon (after a task change).
func (w *webhookSync) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run reconciles at start, on each kick (debounced) and periodically.
func (w *webhookSync) run(ctx context.Context) {
	t := time.NewTicker(webhookSyncEvery)
	defer t.Stop()
	for {
		if err := w.once(ctx); err != nil && ctx.Err() == nil {
			w.s.log.Warn("shopify webhook subscriptions not reconciled", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
			select { // let a burst of task changes settle
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// uri is where the shop should deliver webhooks, "" when no public URL is set.
func (w *webhookSync) uri() string {
	base := w.s.cfg.Shopify.PublicURL
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + shopifyhook.Path
}

// once reconciles now; without a connection or a public URL it does nothing.
func (w *webhookSync) once(ctx context.Context) error {
	conn := w.s.shop.current()
	uri := w.uri()
	if conn == nil || uri == "" {
		return nil
	}
	topics, err := w.topics(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := subscriptions.Reconcile(ctx, conn.client, uri, topics)
	rep := syncReport{At: time.Now().UTC(), URI: uri, Topics: topics, Created: res.Created, Deleted: res.Deleted, Failed: res.Failed}
	w.s.scripts.invalidate()
	rep.ScriptTags = w.s.scripts.syncScriptTags(ctx, w.s.shop, w.s.cfg.Shopify.PublicURL)
	if err != nil {
		rep.Error = err.Error()
	}
	w.mu.Lock()
	w.last = rep
	w.mu.Unlock()
	if err != nil {
		return err
	}
	for topic, why := range res.Failed {
		w.s.log.Warn("shopify webhook subscription failed", "topic", topic, "reason", why)
	}
	if len(res.Created)+len(res.Deleted) > 0 {
		w.s.log.Info("shopify webhook subscriptions reconciled", "created", strings.Join(res.Created, ","), "deleted", strings.Join(res.Deleted, ","))
	}
	return nil
}

// topics lists the Shopify topics the enabled tasks subscribe to.
func (w *webhookSync) topics(ctx context.Context) ([]string, error) {
	enabled := true
	var subs []string
	cursor := ""
	for {
		list, next, err := w.s.st.ListTasks(ctx, store.TaskFilter{Enabled: &enabled, Page: store.Page{Cursor: cursor, Limit: store.MaxPageLimit}})
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		for _, t := range list {
			subs = append(subs, t.Subscriptions...)
			if slices.Contains(t.Subscriptions, "mechanic/shopify/bulk_operation") {
				// Bulk operations finish by webhook (polling is the fallback).
				subs = append(subs, "shopify/bulk_operations/finish")
			}
		}
		if next == "" {
			return subscriptions.Topics(subs), nil
		}
		cursor = next
	}
}

// report returns the last reconciliation's outcome (zero before the first).
func (w *webhookSync) report() syncReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}
