package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// delivery is one webhook POST to one subscription; a retry sends the same
// delivery again (same body, event id and webhook id).
type delivery struct {
	uri        string
	topic      string
	version    string
	body       []byte
	eventID    string
	webhookID  string
	triggered  string
	attempt    int
	subscripID string
}

// deliverer sends webhook deliveries from a bounded queue with bounded
// retries. Its workers start with the first delivery and stop on Close.
type deliverer struct {
	sb    *Sandbox
	queue chan *delivery

	mu      sync.Mutex
	counts  WebhookStats
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	timers  map[*time.Timer]*delivery
	idle    chan struct{} // closed and replaced when pending drops to 0
}

func newDeliverer(sb *Sandbox) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	return &deliverer{sb: sb, queue: make(chan *delivery, sb.opts.WebhookQueueSize), ctx: ctx, cancel: cancel,
		timers: map[*time.Timer]*delivery{}, idle: make(chan struct{})}
}

func (d *deliverer) stats() WebhookStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counts
}

// resetCounts zeroes the counters except Pending, which stays truthful.
func (d *deliverer) resetCounts() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts = WebhookStats{Pending: d.counts.Pending}
}

// enqueue queues a delivery without blocking; a full queue or a closed
// sandbox fails it (counted and logged).
func (d *deliverer) enqueue(dl *delivery, fresh bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if fresh {
		d.counts.Pending++
	}
	if d.closed {
		d.finishLocked(dl, false, "the sandbox is closed")
		return
	}
	if !d.started {
		d.started = true
		for range DefaultWebhookWorkers {
			d.wg.Add(1)
			go d.work()
		}
	}
	select {
	case d.queue <- dl:
	default:
		d.finishLocked(dl, false, fmt.Sprintf("the delivery queue is full (%d)", cap(d.queue)))
	}
}

// finishLocked ends a delivery. Caller holds d.mu.
func (d *deliverer) finishLocked(dl *delivery, ok bool, why string) {
	d.counts.Pending--
	if ok {
		d.counts.Delivered++
	} else {
		d.counts.Failed++
		d.sb.log.Error("sandbox webhook delivery failed", "topic", dl.topic, "uri", dl.uri, "eventId", dl.eventID,
			"attempts", dl.attempt, "reason", why)
	}
	if d.counts.Pending == 0 {
		close(d.idle)
		d.idle = make(chan struct{})
	}
}

func (d *deliverer) work() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case dl := <-d.queue:
			d.send(dl)
		}
	}
}

// send makes one attempt and schedules a retry or finishes the delivery.
func (d *deliverer) send(dl *delivery) {
	dl.attempt++
	err := d.post(dl)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts.Attempts++
	if err == nil {
		d.finishLocked(dl, true, "")
		return
	}
	if d.closed || dl.attempt >= d.sb.opts.WebhookAttempts {
		d.finishLocked(dl, false, err.Error())
		return
	}
	delay := d.sb.opts.WebhookRetry << (dl.attempt - 1)
	d.sb.log.Debug("sandbox webhook delivery retry", "topic", dl.topic, "uri", dl.uri, "attempt", dl.attempt, "in", delay, "error", err)
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		d.mu.Lock()
		_, live := d.timers[t]
		delete(d.timers, t)
		d.mu.Unlock()
		if live {
			d.enqueue(dl, false)
		}
	})
	d.timers[t] = dl
}

// post sends one attempt; a non-2xx answer is an error.
func (d *deliverer) post(dl *delivery) error {
	ctx, cancel := context.WithTimeout(d.ctx, d.sb.opts.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.uri, bytes.NewReader(dl.body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(d.sb.opts.APISecret))
	mac.Write(dl.body)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", dl.topic)
	h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	h.Set("X-Shopify-Shop-Domain", d.sb.opts.Shop)
	h.Set("X-Shopify-API-Version", dl.version)
	h.Set("X-Shopify-Webhook-Id", dl.webhookID)
	h.Set("X-Shopify-Event-Id", dl.eventID)
	h.Set("X-Shopify-Triggered-At", dl.triggered)
	resp, err := d.sb.opts.WebhookClient.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", dl.topic, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post %s: answered %s", dl.topic, resp.Status)
	}
	return nil
}

// wait returns when no delivery is pending or ctx ends.
func (d *deliverer) wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		pending, idle := d.counts.Pending, d.idle
		d.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("sandbox: %d webhook deliveries still pending: %w", pending, ctx.Err())
		}
	}
}

// close stops the workers; queued and retrying deliveries fail.
func (d *deliverer) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	// A timer that already fired finds itself gone from timers and does
	// nothing, so every delivery waiting for a retry ends here.
	for t, dl := range d.timers {
		t.Stop()
		d.finishLocked(dl, false, "the sandbox closed before the retry")
		delete(d.timers, t)
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		select {
		case dl := <-d.queue:
			d.finishLocked(dl, false, "the sandbox closed before sending")
		default:
			return
		}
	}
}

// WaitDeliveries blocks until no webhook delivery is queued, in flight or
// waiting for a retry, or ctx ends.
func (sb *Sandbox) WaitDeliveries(ctx context.Context) error {
	return sb.hooks.wait(ctx)
}

// Close stops webhook delivery and pending bulk operations; deliveries not
// yet made count as failed. The sandbox still answers requests.
func (sb *Sandbox) Close() error {
	sb.mu.Lock()
	for _, t := range sb.bulkTimers {
		t.Stop()
	}
	sb.bulkTimers = nil
	sb.mu.Unlock()
	sb.hooks.close()
	return nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// emit sends topic with the payload of o to every subscription of topic.
// Caller holds mu. It returns the event id and the number of deliveries.
func (sb *Sandbox) emit(topic string, o object) (string, int) {
	enum := EnumOfTopic(topic)
	var subs []object
	for _, s := range sb.st.list("WebhookSubscription") {
		if s["topic"] == enum {
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 || o == nil {
		return "", 0
	}
	payload, err := sb.payloadFor(topic, o)
	if err != nil {
		sb.log.Error("sandbox webhook payload", "topic", topic, "error", err)
		return "", 0
	}
	body, err := json.Marshal(payload)
	if err != nil {
		sb.log.Error("sandbox webhook payload encoding", "topic", topic, "error", err)
		return "", 0
	}
	eventID := randomID()
	triggered := sb.now().UTC().Format(time.RFC3339Nano)
	sb.hooks.mu.Lock()
	sb.hooks.counts.Events++
	sb.hooks.mu.Unlock()
	for _, s := range subs {
		v, _ := s["apiVersion"].(object)
		b := body
		if fields := tagList(s["includeFields"]); len(fields) > 0 {
			if fb, err := json.Marshal(includeFields(payload, fields)); err == nil {
				b = fb
			}
		}
		sb.hooks.enqueue(&delivery{uri: str(s["uri"]), topic: topic, version: str(v["handle"]), body: b,
			eventID: eventID, webhookID: randomID(), triggered: triggered, subscripID: str(s["id"])}, true)
	}
	return eventID, len(subs)
}

// topicTypes maps the resources of the topics the sandbox sends to the
// stored type their payload describes.
var topicTypes = map[string]string{
	"orders": "Order", "products": "Product", "customers": "Customer", "draft_orders": "DraftOrder",
	"inventory_levels": "InventoryLevel", "fulfillments": "Fulfillment", "refunds": "Refund",
	"collections": "Collection", "bulk_operations": "BulkOperation", "returns": "Return",
}

// CoveredTopics are the webhook topics the sandbox sends when its state
// changes and that Deliver accepts.
var CoveredTopics = []string{
	"orders/create", "orders/updated", "orders/paid", "orders/fulfilled", "orders/partially_fulfilled", "orders/cancelled",
	"products/create", "products/update", "customers/create", "customers/update",
	"draft_orders/create", "draft_orders/update", "inventory_levels/update",
	"fulfillments/create", "fulfillments/update", "refunds/create",
	"collections/create", "collections/update", "bulk_operations/finish", "returns/request", "returns/approve",
}

// payloadFor builds the REST-shaped webhook body of o for topic.
func (sb *Sandbox) payloadFor(topic string, o object) (map[string]any, error) {
	res, _, _ := strings.Cut(topic, "/")
	want := topicTypes[res]
	if want == "" {
		return nil, fmt.Errorf("topic %q is not one the sandbox sends (have %s)", topic, strings.Join(CoveredTopics, ", "))
	}
	if got := str(o["__typename"]); got != want {
		return nil, fmt.Errorf("topic %q describes a %s, not a %s", topic, want, got)
	}
	switch want {
	case "Order":
		return sb.orderREST(o), nil
	case "Product":
		return sb.productREST(o), nil
	case "Customer":
		return sb.customerREST(o), nil
	case "DraftOrder":
		return sb.draftREST(o), nil
	case "InventoryLevel":
		return sb.levelREST(o), nil
	case "Fulfillment":
		return sb.fulfillmentREST(o), nil
	case "Refund":
		return sb.refundREST(o), nil
	case "Collection":
		return sb.collectionREST(o), nil
	case "Return":
		return sb.returnREST(o), nil
	default:
		return map[string]any{
			"admin_graphql_api_id": o["id"], "completed_at": o["completedAt"], "created_at": o["createdAt"],
			"error_code": lower(o["errorCode"]), "status": lower(o["status"]), "type": lower(o["type"]),
		}, nil
	}
}

// Delivery is what Deliver queued.
type Delivery struct {
	// EventID is the X-Shopify-Event-Id of the event.
	EventID string `json:"eventId"`
	// Subscriptions is how many deliveries were queued.
	Subscriptions int `json:"subscriptions"`
}

// ErrNoSubscription is returned by Deliver when nothing subscribes to the
// topic.
var ErrNoSubscription = errors.New("sandbox: no webhook subscription for the topic")

// Deliver sends topic for the stored object id (a GID, or the numeric id
// of the topic's resource) to every subscription of topic.
func (sb *Sandbox) Deliver(topic, id string) (Delivery, error) {
	res, _, _ := strings.Cut(topic, "/")
	typ := topicTypes[res]
	if typ == "" || !containsString(CoveredTopics, topic) {
		return Delivery{}, fmt.Errorf("sandbox: deliver: topic %q is not one the sandbox sends (have %s)", topic, strings.Join(CoveredTopics, ", "))
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		id = gidOf(typ, n)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	o := sb.st.get(id)
	if o == nil {
		return Delivery{}, fmt.Errorf("sandbox: deliver %s: no object %s", topic, id)
	}
	if _, err := sb.payloadFor(topic, o); err != nil {
		return Delivery{}, fmt.Errorf("sandbox: deliver: %w", err)
	}
	ev, n := sb.emit(topic, o)
	if n == 0 {
		return Delivery{}, fmt.Errorf("%w %s", ErrNoSubscription, topic)
	}
	return Delivery{EventID: ev, Subscriptions: n}, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// includeFields keeps the named fields of a payload, as a subscription's
// includeFields asks; "line_items.id" keeps id inside each line item.
func includeFields(payload map[string]any, fields []string) map[string]any {
	tree := map[string][]string{}
	for _, f := range fields {
		head, rest, nested := strings.Cut(f, ".")
		if nested {
			tree[head] = append(tree[head], rest)
		} else if _, ok := tree[head]; !ok {
			tree[head] = nil
		}
	}
	out := map[string]any{}
	for k, sub := range tree {
		v, ok := payload[k]
		if !ok {
			continue
		}
		if len(sub) == 0 {
			out[k] = v
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			out[k] = includeFields(v, sub)
		case []map[string]any:
			l := make([]map[string]any, len(v))
			for i, x := range v {
				l[i] = includeFields(x, sub)
			}
			out[k] = l
		case []any:
			l := make([]any, len(v))
			for i, x := range v {
				if m, ok := x.(map[string]any); ok {
					l[i] = includeFields(m, sub)
				} else {
					l[i] = x
				}
			}
			out[k] = l
		default:
			out[k] = v
		}
	}
	return out
}
