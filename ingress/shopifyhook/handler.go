// Package shopifyhook receives Shopify's webhooks: it checks the HMAC that
// Shopify signs each delivery with (X-Shopify-Hmac-Sha256, base64 of the
// HMAC-SHA256 of the raw body keyed with the app's client secret), turns
// the delivery into a shopify/<topic> event whose data is the payload, and
// answers 200 only after the event is committed.
//
// A redelivery of the same event (the same X-Shopify-Event-Id, or
// X-Shopify-Webhook-Id where there is none) gets the same event id, which
// the store inserts once, so it makes no second event. Deliveries for a
// shop the service is not connected to, with a bad signature, or without
// a topic are refused before anything is stored.
package shopifyhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/store"
)

// Path is where Shopify delivers webhooks.
const Path = "/shopify/webhooks"

// DefaultMaxBodyBytes bounds a delivery's body.
const DefaultMaxBodyBytes = 10 << 20

// Inserter commits events (store.EventBatcher does).
type Inserter interface {
	Insert(ctx context.Context, ev store.NewEvent) (store.Event, error)
}

// Options configure a Handler.
type Options struct {
	// Secret returns the app secret of a connected shop, and false for a
	// shop the service does not serve.
	Secret func(shop string) (string, bool)
	// Events commits the events.
	Events Inserter
	// Accepted, when set, is called with the Shopify topic after each
	// committed event (to wake the pipeline, or look at bulk operations).
	Accepted func(topic string)
	// MaxBodyBytes bounds a body (DefaultMaxBodyBytes when zero).
	MaxBodyBytes int64
	// Now tells the time (time.Now when nil).
	Now func() time.Time
	// Logger receives a line per refused delivery (never the body).
	Logger *slog.Logger
}

// Handler serves POST Path.
type Handler struct {
	o Options
}

// New returns a Handler.
func New(o Options) (*Handler, error) {
	if o.Secret == nil || o.Events == nil {
		return nil, errors.New("shopifyhook: Secret and Events are required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{o: o}, nil
}

// topicRE is a Shopify webhook topic: lower-case words separated by one
// slash (orders/create, customer/tags_added, bulk_operations/finish).
var topicRE = regexp.MustCompile(`^[a-z0-9_]+(/[a-z0-9_]+)+$`)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	shop := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Shopify-Shop-Domain")))
	secret, ok := h.o.Secret(shop)
	if shop == "" || !ok {
		h.refuse(w, r, http.StatusNotFound, "unknown shop "+quote(shop))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", h.o.MaxBodyBytes))
			return
		}
		h.refuse(w, r, http.StatusBadRequest, "could not read the body")
		return
	}
	if secret == "" || !shopify.VerifyWebhook(body, r.Header.Get("X-Shopify-Hmac-Sha256"), secret) {
		h.refuse(w, r, http.StatusUnauthorized, "bad or missing X-Shopify-Hmac-Sha256")
		return
	}
	topic := r.Header.Get("X-Shopify-Topic")
	if !topicRE.MatchString(topic) {
		h.refuse(w, r, http.StatusBadRequest, "missing or malformed X-Shopify-Topic "+quote(topic))
		return
	}
	if !json.Valid(body) {
		h.refuse(w, r, http.StatusBadRequest, "the body is not JSON")
		return
	}
	deliveryKey := r.Header.Get("X-Shopify-Event-Id")
	if deliveryKey == "" {
		deliveryKey = r.Header.Get("X-Shopify-Webhook-Id")
	}
	id := store.NewTimeID(h.o.Now())
	if deliveryKey != "" {
		id = store.DerivedID("shopify-webhook", shop, topic, deliveryKey)
	}
	ev, err := h.o.Events.Insert(r.Context(), store.NewEvent{
		ID: id, Topic: "shopify/" + topic, Data: body, Source: "shopify",
		ShopifyTopic: "shopify/" + topic, RequestID: deliveryKey,
	})
	if err != nil {
		h.o.Logger.Error("shopify webhook not stored", "topic", topic, "shop", shop, "error", err)
		http.Error(w, "the event could not be stored; deliver it again", http.StatusServiceUnavailable)
		return
	}
	if h.o.Accepted != nil {
		h.o.Accepted(topic)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"event_id\":%q}\n", ev.ID)
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.o.Logger.Warn("shopify webhook refused", "status", status, "reason", reason,
		"topic", r.Header.Get("X-Shopify-Topic"), "remote", r.RemoteAddr)
	http.Error(w, reason, status)
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return fmt.Sprintf("%q", s)
}
