package shopifyhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

const (
	shop   = "demo.myshopify.com"
	secret = "app-secret"
)

func sign(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func newHandler(t *testing.T) (*Handler, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := store.NewEventBatcher(st, store.BatcherOptions{})
	t.Cleanup(func() { b.Close(); st.Close() })
	h, err := New(Options{
		Secret: func(s string) (string, bool) { return secret, s == shop },
		Events: b, Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, st
}

func deliver(h http.Handler, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func events(t *testing.T, st store.Store) []store.Event {
	t.Helper()
	evs, _, err := st.ListEvents(context.Background(), store.EventFilter{Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestDeliveries uses Shopify's example orders/create payload.
func TestDeliveries(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(shared.For(t, "corpus", "shopify", "webhooks", "2025-10", "orders"), "create.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The corpus file wraps the payload; its "response" member is the body.
	var example struct {
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(body, &example); err != nil || len(example.Response) == 0 {
		t.Fatalf("example: %v", err)
	}
	payload := []byte(example.Response)
	good := map[string]string{
		"X-Shopify-Shop-Domain": shop, "X-Shopify-Topic": "orders/create",
		"X-Shopify-Hmac-Sha256": sign(payload, secret), "X-Shopify-Event-Id": "evt-1",
		"X-Shopify-Webhook-Id": "wh-1",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
	}{
		{"bad hmac", payload, with("X-Shopify-Hmac-Sha256", sign(payload, "other")), http.StatusUnauthorized},
		{"no hmac", payload, with("X-Shopify-Hmac-Sha256", ""), http.StatusUnauthorized},
		{"tampered body", append([]byte(" "), payload...), good, http.StatusUnauthorized},
		{"unknown shop", payload, with("X-Shopify-Shop-Domain", "other.myshopify.com"), http.StatusNotFound},
		{"no topic", payload, with("X-Shopify-Topic", ""), http.StatusBadRequest},
		{"too large", bytes.Repeat([]byte("x"), 2<<20), good, http.StatusRequestEntityTooLarge},
	}
	h, st := newHandler(t)
	for _, c := range cases {
		if rec := deliver(h, c.body, c.hdr); rec.Code != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, rec.Code, c.status, rec.Body)
		}
	}
	if n := len(events(t, st)); n != 0 {
		t.Fatalf("refused deliveries stored %d events", n)
	}
	for i := 0; i < 3; i++ { // Shopify redelivers: one event
		if rec := deliver(h, payload, good); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	evs := events(t, st)
	if len(evs) != 1 {
		t.Fatalf("3 deliveries of one event made %d events", len(evs))
	}
	ev := evs[0]
	if ev.Topic != "shopify/orders/create" || ev.Source != "shopify" || !bytes.Equal(ev.Data, payload) {
		t.Errorf("event %s %s source %s data %.80s", ev.ID, ev.Topic, ev.Source, ev.Data)
	}
	// Another event id is another event; without an event id the webhook id dedupes.
	deliver(h, payload, with("X-Shopify-Event-Id", "evt-2"))
	noEvent := with("X-Shopify-Event-Id", "")
	deliver(h, payload, noEvent)
	deliver(h, payload, noEvent)
	if n := len(events(t, st)); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	if rec := deliver(h, []byte("not json"), with("X-Shopify-Hmac-Sha256", sign([]byte("not json"), secret))); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "JSON") {
		t.Errorf("non-JSON body: %d %s", rec.Code, rec.Body)
	}
}
