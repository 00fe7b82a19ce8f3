package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/store"
)

func countEvents(t *testing.T, svc *Service, topic string) int {
	t.Helper()
	evs, _, err := svc.Store().ListEvents(context.Background(), store.EventFilter{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestWebhookDedupeKey: a client retrying with the same Idempotency-Key
// or X-Request-Id makes one event; other keys and no key make new ones.
func TestWebhookDedupeKey(t *testing.T) {
	svc, c := openTestService(t, Config{})
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "In", "topic": "user/in/dedupe", "data_mode": "auto"})
	path := "/webhooks/" + wh["id"].(string)
	tests := []struct {
		name  string
		hdr   []string
		total int
	}{
		{"first with a key", []string{"Idempotency-Key", "order-1"}, 1},
		{"retry with the same key", []string{"Idempotency-Key", "order-1"}, 1},
		{"same key as x-request-id", []string{"X-Request-Id", "order-1"}, 1},
		{"another key", []string{"Idempotency-Key", "order-2"}, 2},
		{"no key", nil, 3},
		{"no key again", nil, 4},
	}
	for _, tc := range tests {
		c.want(http.StatusNoContent, "POST", path, `{"n":1}`, tc.hdr...)
		if n := countEvents(t, svc, "user/in/dedupe"); n != tc.total {
			t.Fatalf("%s: %d events, want %d", tc.name, n, tc.total)
		}
	}
}

// TestWebhookQuotas: the per-webhook limit answers 429 with Retry-After,
// and with the free disk space below the floor webhooks answer 503 and
// /readyz reports not ready, before anything is written.
func TestWebhookQuotas(t *testing.T) {
	var free atomic.Int64
	free.Store(1 << 30)
	var statErr atomic.Bool
	svc, c := openTestService(t, Config{
		WebhookLimits: webhook.Limits{PerWebhook: 3},
		MinFreeDisk:   100 << 20,
		FreeDisk: func(string) (int64, error) {
			if statErr.Load() {
				return 0, errors.New("statfs: input/output error")
			}
			return free.Load(), nil
		},
	})
	svc.disk.every = 0 // read the (injected) free space on every request
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "In", "topic": "user/in/quota", "data_mode": "auto"})
	path := "/webhooks/" + wh["id"].(string)
	if r := c.want(http.StatusOK, "GET", "/readyz", nil); r["ok"] != true || r["free_disk_bytes"] != float64(1<<30) {
		t.Fatalf("/readyz = %v", r)
	}
	for i := 0; i < 3; i++ {
		c.want(http.StatusNoContent, "POST", path, `{}`)
	}
	resp := rawPost(t, c.base+path)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := countEvents(t, svc, "user/in/quota"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}

	// Another webhook, with the disk below the floor.
	other := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Other", "topic": "user/in/disk", "data_mode": "auto"})
	free.Store(50 << 20)
	resp = rawPost(t, c.base+"/webhooks/"+other["id"].(string))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("below the floor: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if r := c.want(http.StatusServiceUnavailable, "GET", "/readyz", nil); r["ok"] != false || r["free_disk_bytes"] != float64(50<<20) {
		t.Fatalf("/readyz = %v", r)
	}
	statErr.Store(true)
	free.Store(51 << 20)
	c.want(http.StatusServiceUnavailable, "GET", "/readyz", nil)
	statErr.Store(false)
	free.Store(2 << 30)
	c.want(http.StatusNoContent, "POST", "/webhooks/"+other["id"].(string), `{}`)
	c.want(http.StatusOK, "GET", "/readyz", nil)
	if n := countEvents(t, svc, "user/in/disk"); n != 1 {
		t.Fatalf("%d events, want 1 (refused requests store nothing)", n)
	}
}

func rawPost(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}
