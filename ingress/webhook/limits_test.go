package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for the rate limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func post(h http.Handler, path, ip string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"a":1}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = ip + ":40000"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		// requests as (webhook, ip); want the statuses in order
		reqs []struct{ hook, ip string }
		want []int
	}{
		{"per ip", Limits{PerIP: 2}, []struct{ hook, ip string }{
			{hookAuto, "10.0.0.1"}, {hookFull, "10.0.0.1"}, {hookAuto, "10.0.0.1"}, {hookAuto, "10.0.0.2"},
		}, []int{204, 204, 429, 204}},
		{"per webhook", Limits{PerWebhook: 2}, []struct{ hook, ip string }{
			{hookAuto, "10.0.0.1"}, {hookAuto, "10.0.0.2"}, {hookAuto, "10.0.0.3"}, {hookFull, "10.0.0.3"},
		}, []int{204, 204, 429, 204}},
		{"unlimited", Limits{}, []struct{ hook, ip string }{
			{hookAuto, "10.0.0.1"}, {hookAuto, "10.0.0.1"}, {hookAuto, "10.0.0.1"},
		}, []int{204, 204, 204}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: testNow}
			h, sink := newTestHandler(t, func(o *Options) { o.Limits = tc.limits; o.Now = clk.now })
			refused := 0
			for i, rq := range tc.reqs {
				w := post(h, "/webhooks/"+rq.hook, rq.ip, nil)
				if w.Code != tc.want[i] {
					t.Fatalf("request %d: status %d, want %d (%s)", i, w.Code, tc.want[i], w.Body)
				}
				if w.Code == http.StatusTooManyRequests {
					refused++
					if ra := w.Header().Get("Retry-After"); ra != "30" {
						t.Errorf("Retry-After = %q, want 30 (2 per minute)", ra)
					}
					if !strings.Contains(w.Body.String(), "rate limit") {
						t.Errorf("body = %s", w.Body)
					}
				}
			}
			if n := len(sink.all()); n != len(tc.reqs)-refused {
				t.Errorf("%d events, want %d (refused requests store nothing)", n, len(tc.reqs)-refused)
			}
			if refused > 0 {
				clk.advance(31 * time.Second) // one request refilled
				last := tc.reqs[len(tc.reqs)-2]
				if w := post(h, "/webhooks/"+last.hook, last.ip, nil); w.Code != 204 {
					t.Errorf("after the refill: status %d", w.Code)
				}
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	full := errors.New("free disk space is below the floor; try again later")
	var refuse error
	h, sink := newTestHandler(t, func(o *Options) { o.Admit = func(*http.Request) error { return refuse } })
	if w := post(h, "/webhooks/"+hookAuto, "10.0.0.1", nil); w.Code != 204 {
		t.Fatalf("admitted: status %d", w.Code)
	}
	refuse = full
	w := post(h, "/webhooks/"+hookAuto, "10.0.0.1", nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "30" || !strings.Contains(w.Body.String(), "below the floor") {
		t.Fatalf("refused: status %d, Retry-After %q, body %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if n := len(sink.all()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

func TestDedupeKey(t *testing.T) {
	h, sink := newTestHandler(t, nil)
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
		key    string
	}{
		{"none", nil, 204, ""},
		{"idempotency key", map[string]string{"Idempotency-Key": "k-1"}, 204, "k-1"},
		{"x-request-id", map[string]string{"X-Request-Id": "r-9"}, 204, "r-9"},
		{"idempotency key first", map[string]string{"Idempotency-Key": "k-2", "X-Request-Id": "r-2"}, 204, "k-2"},
		{"too long", map[string]string{"Idempotency-Key": strings.Repeat("x", MaxDedupeKeyLen+1)}, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.all())
			w := post(h, "/webhooks/"+hookAuto, "10.0.0.1", tc.hdr)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if tc.status != 204 {
				if !strings.Contains(w.Body.String(), "Idempotency-Key") {
					t.Errorf("body = %s, want it to name the header", w.Body)
				}
				return
			}
			all := sink.all()
			if len(all) != before+1 || all[len(all)-1].meta.DedupeKey != tc.key {
				t.Errorf("meta = %+v, want dedupe key %q", all[len(all)-1].meta, tc.key)
			}
		})
	}
}
