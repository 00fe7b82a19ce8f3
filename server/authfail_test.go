package server

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestFailedAuthLimit: wrong tokens from one address are answered 401 up
// to the limit, then 429 with Retry-After without checking the token,
// until the bucket refills; a valid token never spends from it.
func TestFailedAuthLimit(t *testing.T) {
	svc, c := openTestService(t, Config{})
	var mu sync.Mutex
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	svc.authFails.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	bad := &client{t: t, base: c.base, token: "guess"}

	for i := 0; i < 2*DefaultAuthFailuresPerMinute; i++ {
		c.want(http.StatusOK, "GET", "/v1/tasks", nil) // valid: not counted
	}
	for i := 0; i < DefaultAuthFailuresPerMinute; i++ {
		bad.want(http.StatusUnauthorized, "GET", "/v1/tasks", nil)
	}
	req, _ := http.NewRequest("GET", c.base+"/v1/tasks", nil)
	req.Header.Set("Authorization", "Bearer guess-again")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("guess %d: status %d Retry-After %q, want 429 and 2", DefaultAuthFailuresPerMinute+1, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// While blocked, even the right token waits (the check is the guess).
	c.want(http.StatusTooManyRequests, "GET", "/v1/tasks", nil)
	advance(2 * time.Second) // one failure refilled
	bad.want(http.StatusUnauthorized, "GET", "/v1/tasks", nil)
	bad.want(http.StatusTooManyRequests, "GET", "/v1/tasks", nil)
	advance(time.Minute)
	c.want(http.StatusOK, "GET", "/v1/tasks", nil)
}
