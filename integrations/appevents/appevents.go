// Package appevents turns deliveries from webhook-based app integrations
// (Judge.me, Locksmith, Report Toaster, Appstle Subscriptions and Shopify
// Flow's "Send to Mechanic" action) into Sprocket events with the topics
// and data Mechanic documents, after verifying each sender:
//
//   - judgeme: header JUDGEME-HMAC-SHA256, HMAC-SHA256 of the body with
//     the Judge.me app secret (or private API token), hex or base64; topic
//     "judgeme/" + the body's event ("review/created" …); data the body.
//   - appstle_subscriptions: Svix signatures (svix-id, svix-timestamp,
//     svix-signature, or the webhook-* names): "v1," + base64 HMAC-SHA256
//     of "id.timestamp.body" with the whsec_ secret, timestamps within five
//     minutes; topic from the body's type (subscription.created →
//     appstle_subscriptions/subscriptions/create …); data the body.
//   - flow: header X-Shopify-Hmac-Sha256, base64 HMAC-SHA256 of the body
//     with the Shopify app's secret; the body's properties carry the event
//     topic (it must start with "user/"), event data (invalid JSON becomes
//     {"__error": {...}} as Mechanic does) and an optional task id.
//   - locksmith and report_toaster: header X-Sprocket-Hmac-Sha256, base64
//     HMAC-SHA256 of the body with the secret configured for the app; the
//     topic's subject and verb come from the delivery path
//     (locksmith/sessions/ping, report_toaster/reports/create and /fail);
//     a Locksmith body of the form {"event": {...}} is unwrapped.
package appevents

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Apps lists the integrations that deliver events.
var Apps = []string{"appstle_subscriptions", "flow", "judgeme", "locksmith", "report_toaster"}

// MaxBody bounds a delivery (Report Toaster's inline report limit, 10 MB).
const MaxBody = 10 << 20

// SvixTolerance is how far a Svix timestamp may be from now.
const SvixTolerance = 5 * time.Minute

// ErrSignature means the delivery's signature is missing or wrong.
var ErrSignature = errors.New("signature check failed")

// Event is what a delivery becomes.
type Event struct {
	// Topic is the event topic.
	Topic string
	// Data is the event data (JSON).
	Data json.RawMessage
	// TaskID restricts the event to one task (Flow's Task ID), or "".
	TaskID string
}

func mac(secret string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// equalSig compares a header value, hex or base64, with want.
func equalSig(got string, want []byte) bool {
	got = strings.TrimSpace(got)
	if got == "" {
		return false
	}
	if b, err := hex.DecodeString(got); err == nil && hmac.Equal(b, want) {
		return true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(got); err == nil && hmac.Equal(b, want) {
			return true
		}
	}
	return false
}

// Verify checks a delivery from app signed with secret.
func Verify(app, secret string, h http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret is configured for %s (PUT /v1/integrations/%s)", ErrSignature, app, app)
	}
	switch app {
	case "judgeme":
		if !equalSig(h.Get("JUDGEME-HMAC-SHA256"), mac(secret, body)) {
			return fmt.Errorf("%w: JUDGEME-HMAC-SHA256 does not match the body", ErrSignature)
		}
	case "flow":
		if !equalSig(h.Get("X-Shopify-Hmac-Sha256"), mac(secret, body)) {
			return fmt.Errorf("%w: X-Shopify-Hmac-Sha256 does not match the body", ErrSignature)
		}
	case "appstle_subscriptions":
		return verifySvix(secret, h, body, now)
	case "locksmith", "report_toaster":
		if !equalSig(h.Get("X-Sprocket-Hmac-Sha256"), mac(secret, body)) {
			return fmt.Errorf("%w: X-Sprocket-Hmac-Sha256 does not match the body", ErrSignature)
		}
	default:
		return fmt.Errorf("unknown app %q", app)
	}
	return nil
}

func header(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func verifySvix(secret string, h http.Header, body []byte, now time.Time) error {
	id := header(h, "svix-id", "webhook-id")
	ts := header(h, "svix-timestamp", "webhook-timestamp")
	sigs := header(h, "svix-signature", "webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: svix-id, svix-timestamp and svix-signature are required", ErrSignature)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: svix-timestamp %q is not a Unix time", ErrSignature, ts)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > SvixTolerance || d < -SvixTolerance {
		return fmt.Errorf("%w: svix-timestamp is %s away from now", ErrSignature, d.Round(time.Second))
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("%w: the configured secret is not a whsec_ base64 secret", ErrSignature)
	}
	want := mac(string(key), []byte(id), []byte("."), []byte(ts), []byte("."), body)
	for _, s := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(s, ",")
		if ok && v == "v1" && equalSig(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no svix-signature matches", ErrSignature)
}

// appstleTopics maps Appstle event types to Mechanic's topics.
var appstleTopics = map[string]string{
	"subscription.created":                  "subscriptions/create",
	"subscription.activated":                "subscriptions/activate",
	"subscription.cancelled":                "subscriptions/cancel",
	"subscription.next-order-date-changed":  "subscriptions/next_order_date_change",
	"subscription.paused":                   "subscriptions/pause",
	"subscription.updated":                  "subscriptions/update",
	"subscription.billing-success":          "billings/success",
	"subscription.billing-failure":          "billings/failure",
	"subscription.billing-interval-changed": "billings/interval_change",
}

// pathTopics are the topics locksmith and report_toaster deliver by path.
var pathTopics = map[string][]string{
	"locksmith":      {"sessions/ping"},
	"report_toaster": {"reports/create", "reports/fail"},
}

// InputError is a delivery that is signed but not usable.
type InputError struct{ Msg string }

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Parse turns a verified delivery to app (at sub-path rest, e.g.
// "reports/create") into an event.
func Parse(app, rest string, body []byte) (Event, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return Event{}, inputErr("%s delivery: the body is not a JSON object: %v", app, err)
	}
	switch app {
	case "judgeme":
		var ev string
		_ = json.Unmarshal(obj["event"], &ev)
		if ev != "review/created" && ev != "review/updated" {
			return Event{}, inputErr(`judgeme delivery: "event" must be "review/created" or "review/updated", got %q`, ev)
		}
		return Event{Topic: "judgeme/" + ev, Data: body}, nil
	case "appstle_subscriptions":
		var typ string
		_ = json.Unmarshal(obj["type"], &typ)
		t, ok := appstleTopics[typ]
		if !ok {
			return Event{}, inputErr("appstle delivery: event type %q has no Mechanic topic", typ)
		}
		return Event{Topic: "appstle_subscriptions/" + t, Data: body}, nil
	case "locksmith", "report_toaster":
		rest = strings.Trim(rest, "/")
		if !slices.Contains(pathTopics[app], rest) {
			return Event{}, inputErr("%s delivery: post to /integrations/%s/{%s}, got %q", app, app, strings.Join(pathTopics[app], "|"), rest)
		}
		data := json.RawMessage(body)
		if inner, ok := obj["event"]; ok && len(obj) == 1 && app == "locksmith" {
			data = inner
		}
		return Event{Topic: app + "/" + rest, Data: data}, nil
	case "flow":
		return parseFlow(obj)
	}
	return Event{}, inputErr("unknown app %q", app)
}

// parseFlow reads a Flow action request: {"properties": {"event_topic",
// "event_data", "task_id"}, ...}; property names are matched loosely
// (Flow sends its field keys).
func parseFlow(obj map[string]json.RawMessage) (Event, error) {
	var props map[string]any
	if err := json.Unmarshal(obj["properties"], &props); err != nil || props == nil {
		return Event{}, inputErr(`flow delivery: "properties" must be an object with the event topic`)
	}
	get := func(names ...string) string {
		for k, v := range props {
			norm := strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(k))
			if slices.Contains(names, norm) {
				s, _ := v.(string)
				return s
			}
		}
		return ""
	}
	topic := strings.TrimSpace(get("event_topic", "topic"))
	if !strings.HasPrefix(topic, "user/") || strings.Count(topic, "/") < 2 {
		return Event{}, inputErr(`flow delivery: the event topic must start with "user/" and have a subject and verb, got %q`, topic)
	}
	ev := Event{Topic: topic, TaskID: strings.TrimSpace(get("task_id"))}
	raw := get("event_data", "data")
	switch {
	case strings.TrimSpace(raw) == "":
		ev.Data = json.RawMessage("null")
	case json.Valid([]byte(raw)):
		ev.Data = json.RawMessage(raw)
	default:
		b, _ := json.Marshal(map[string]any{"__error": map[string]any{
			"message":                 "An event was received from Flow with invalid JSON in its event data. Check the workflow's Mechanic action configuration (the json Liquid filter helps).",
			"invalid_event_data_json": raw,
		}})
		ev.Data = b
	}
	return ev, nil
}
