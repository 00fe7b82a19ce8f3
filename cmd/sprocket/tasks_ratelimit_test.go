package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestImportWaitsOutRateLimit: the API importer answers a 429 by waiting
// its Retry-After and sending the request again.
func TestImportWaitsOutRateLimit(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"rate limit reached","field":null}}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"t1","enabled":false}`))
	}))
	defer srv.Close()
	a := &apiImporter{base: srv.URL, token: "x", client: &http.Client{Timeout: 10 * time.Second}}
	start := time.Now()
	st, _, err := a.do(context.Background(), http.MethodPost, "/v1/tasks", []byte(`{}`), "")
	if err != nil || st != http.StatusCreated || calls.Load() != 2 {
		t.Fatalf("status %d, err %v, calls %d", st, err, calls.Load())
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before Retry-After", waited)
	}
}
