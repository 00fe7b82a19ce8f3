package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/scheduler"
	"github.com/sprocketrun/sprocket/store"
)

// Event sources recorded on events.
const (
	sourceWebhook   = "webhook"
	sourceUser      = "user"
	sourceScheduler = "mechanic"
)

// registryTTL is how long a looked-up webhook is reused before it is read
// again; changes made through this service's API apply at once, changes
// made by another process within this delay.
const registryTTL = 2 * time.Second

// registryMax bounds the cached webhooks.
const registryMax = 4096

// registry looks webhooks up in the store, keeping recently used ones in
// memory: the lookup would otherwise be a query on every webhook request.
type registry struct {
	st  store.Webhooks
	box *seal.Box // opens webhook secrets; set before use
	now func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedWebhook
}

type cachedWebhook struct {
	w       webhook.Webhook
	fetched time.Time
}

func newRegistry(st store.Webhooks) *registry {
	return &registry{st: st, now: time.Now, cache: make(map[string]cachedWebhook)}
}

// Lookup implements webhook.Registry.
func (r *registry) Lookup(ctx context.Context, id string) (webhook.Webhook, error) {
	now := r.now()
	r.mu.RLock()
	c, ok := r.cache[id]
	r.mu.RUnlock()
	if ok && now.Sub(c.fetched) < registryTTL {
		return c.w, nil
	}
	w, err := r.st.GetWebhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		r.forget(id)
		return webhook.Webhook{}, fmt.Errorf("webhook %q: %w", id, webhook.ErrNotFound)
	}
	if err != nil {
		return webhook.Webhook{}, fmt.Errorf("look up webhook: %w", err)
	}
	mode := webhook.ModeAuto
	if w.DataMode == store.DataModeFull {
		mode = webhook.ModeFullRequest
	}
	secret, err := openWebhookSecret(r.box, w)
	if err != nil {
		return webhook.Webhook{}, err
	}
	out := webhook.Webhook{ID: w.ID, Topic: w.Topic, Mode: mode, Secret: secret, SignatureHeader: w.SignatureHeader}
	r.mu.Lock()
	if len(r.cache) >= registryMax {
		clear(r.cache)
	}
	r.cache[id] = cachedWebhook{w: out, fetched: now}
	r.mu.Unlock()
	return out, nil
}

// forget drops a webhook from the cache (after it changed or was deleted).
func (r *registry) forget(id string) {
	r.mu.Lock()
	delete(r.cache, id)
	r.mu.Unlock()
}

// sink commits webhook events through the group-commit batcher, so the
// webhook is acknowledged only after its event is durable.
type sink struct {
	b     *store.EventBatcher
	wake  func()
	trace webhookTracer // nil: tracing is off
}

// webhookTracer records the span of a webhook request that recorded an
// event (*tracing.Tracing).
type webhookTracer interface {
	Webhook(ctx context.Context, w tracing.Webhook)
}

// newSink returns the webhook sink, tracing requests when t is on.
func newSink(b *store.EventBatcher, wake func(), t *tracing.Tracing) sink {
	s := sink{b: b, wake: wake}
	if t.Enabled() {
		s.trace = t
	}
	return s
}

// Accept implements webhook.Sink.
func (s sink) Accept(ctx context.Context, topic string, data any, meta webhook.Meta) (string, error) {
	raw, err := value.ToJSON(data)
	if err != nil {
		return "", fmt.Errorf("encode event data: %w", err)
	}
	id := store.NewTimeID(meta.ReceivedAt)
	if meta.DedupeKey != "" {
		// A client retry with the same key finds the event already stored.
		id = store.DerivedID("webhook", meta.WebhookID, meta.DedupeKey)
	}
	ev, err := s.b.Insert(ctx, store.NewEvent{
		ID:        id,
		Topic:     topic,
		Data:      raw,
		Source:    sourceWebhook,
		WebhookID: meta.WebhookID,
		RequestID: meta.RequestID,
	})
	if err != nil {
		return "", fmt.Errorf("record webhook event: %w", err)
	}
	s.wake()
	if s.trace != nil {
		s.trace.Webhook(ctx, tracing.Webhook{EventID: ev.ID, Topic: topic, WebhookID: meta.WebhookID, RequestID: meta.RequestID, Start: meta.ReceivedAt, End: time.Now()})
	}
	return ev.ID, nil
}

// schedStore adapts the store's FireTick to the scheduler's MarkFired: the
// events the emitter produces are collected and inserted in the same
// transaction that records the slot.
type schedStore struct {
	st   store.Scheduler
	wake func()
}

type collectorKey struct{}

// collector gathers scheduler events during MarkFired.
type collector struct {
	events []store.NewEvent
}

// LastFired implements scheduler.Store.
func (s schedStore) LastFired(ctx context.Context, topic string) (time.Time, bool, error) {
	t, ok, err := s.st.LastTick(ctx, topic)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last tick of %s: %w", topic, err)
	}
	return t, ok, nil
}

// MarkFired implements scheduler.Store.
func (s schedStore) MarkFired(ctx context.Context, topic string, slot time.Time, emit func(ctx context.Context) error) error {
	c := &collector{}
	if emit != nil {
		if err := emit(context.WithValue(ctx, collectorKey{}, c)); err != nil {
			return err
		}
	}
	fired, err := s.st.FireTick(ctx, topic, slot, c.events)
	if err != nil {
		return fmt.Errorf("fire %s: %w", topic, err)
	}
	if !fired {
		return scheduler.ErrAlreadyFired
	}
	if len(c.events) > 0 {
		s.wake()
	}
	return nil
}

// schedEmitter turns scheduler events into store events; it only works
// inside schedStore.MarkFired, which commits them with the slot.
type schedEmitter struct{}

// Emit implements scheduler.Emitter.
func (schedEmitter) Emit(ctx context.Context, topic string, data any) error {
	c, ok := ctx.Value(collectorKey{}).(*collector)
	if !ok {
		return errors.New("scheduler event emitted outside MarkFired")
	}
	raw, err := value.ToJSON(data)
	if err != nil {
		return fmt.Errorf("encode scheduler event data: %w", err)
	}
	slot, _ := data.(string)
	c.events = append(c.events, store.NewEvent{
		// Derived from the slot, so the event is unique per topic and slot.
		ID:     store.DerivedID("scheduler", topic, slot),
		Topic:  topic,
		Data:   raw,
		Source: sourceScheduler,
	})
	return nil
}

// openWebhookSecret returns a webhook's signing secret, opened (empty
// when it has none).
func openWebhookSecret(box *seal.Box, w store.Webhook) (string, error) {
	if w.Secret == "" {
		return "", nil
	}
	if !strings.HasPrefix(w.Secret, sealedPrefix) {
		return "", fmt.Errorf("webhook %q: its secret is stored unsealed (written around the API?); a restart seals it", w.ID)
	}
	if box == nil {
		return "", fmt.Errorf("webhook %q: no key to open its secret", w.ID)
	}
	b, err := box.Open(w.Secret, webhookSecretAD(w.ID))
	if err != nil {
		return "", fmt.Errorf("webhook %q secret: %w", w.ID, err)
	}
	return string(b), nil
}
